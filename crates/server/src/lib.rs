//! The Xuegong service: the HTTP application (tenant resolution, sessions, observability,
//! portal pages) and the command line that runs, migrates and administers it.

pub mod app;
pub mod cli;
pub mod cli_students;
pub mod health;
pub mod observe;
pub mod portal;

pub use app::{build_router, serve};
pub use xg_web::{AppState, session};
