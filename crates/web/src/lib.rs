//! The web kit every crate with pages or routes shares: the application state, sessions and
//! CSRF, resolving the school a request is for, module gates, and rendering pages and errors
//! in the user's language. Module crates build their routers on `AppState` from here; the
//! server composes them.

pub mod api;
pub mod captcha;
pub mod chrome;
pub mod client;
pub mod files;
pub mod forms;
pub mod guard;
pub mod lifecycle;
pub mod ratelimit;
pub mod refresh;
pub mod render;
pub mod schools;
pub mod session;
pub mod state;

pub use guard::SchoolUser;
pub use render::{csrf_error, error_page, message_page, render};
pub use schools::CurrentSchool;
pub use state::AppState;
