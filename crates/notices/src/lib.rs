//! The notices module (通知公告): staff write notices (sanitised rich text, category, deadline,
//! confirmation and reply options, attachments), send them to the students of org units in
//! their own scope, and follow delivery, reading and confirmation per class, with reminders
//! and a CSV export. Students read them in a phone-first inbox. Every route sits behind a
//! signed-in session, a catalogue permission and the school's `notices` module switch.
//!
//! Known shortcomings: scheduled notices go out when a notice page of the school is first
//! loaded after their time (there is no background scheduler); audiences are org units only
//! (not roles or single people); an accepted upload is held in memory (at most 20 MB) before
//! it is stored.

mod detail;
mod files;
mod form;
mod inbox;
pub mod model;
pub mod repo;
mod report;
mod staff;
pub mod stats;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Router, middleware};
use xg_tenancy::Module;
use xg_web::AppState;
use xg_web::guard::{require_permission, require_school_user};
use xg_web::schools::require_module;

pub use files::MAX_UPLOAD_BYTES;

pub fn router(state: &AppState) -> Router<AppState> {
    // The upload route reads its body itself, chunk by chunk, against MAX_UPLOAD_BYTES.
    let upload = Router::new()
        .route("/s/{slug}/notices/{id}/attachments", post(files::upload))
        .layer(DefaultBodyLimit::disable());
    Router::new()
        .route("/s/{slug}/notices", get(staff::list).post(staff::create))
        .route("/s/{slug}/notices/{id}", get(detail::page).post(staff::save))
        .route("/s/{slug}/notices/{id}/edit", get(staff::edit_page))
        .route("/s/{slug}/notices/{id}/publish", post(detail::publish))
        .route("/s/{slug}/notices/{id}/withdraw", post(detail::withdraw))
        .route("/s/{slug}/notices/{id}/remind", post(detail::remind))
        .route("/s/{slug}/notices/{id}/export", get(detail::export))
        .route("/s/{slug}/notices/{id}/attachments/{attachment}", get(files::staff_download))
        .route("/s/{slug}/notice-report", get(report::page))
        .route("/s/{slug}/inbox", get(inbox::page))
        .route("/s/{slug}/inbox/{id}", get(inbox::open))
        .route("/s/{slug}/inbox/{id}/confirm", post(inbox::confirm))
        .route("/s/{slug}/inbox/{id}/reply", post(inbox::reply))
        .route("/s/{slug}/inbox/{id}/attachments/{attachment}", get(inbox::download))
        .merge(upload)
        .route_layer(middleware::from_fn_with_state(state.clone(), require_permission))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_school_user))
        .route_layer(middleware::from_fn(|req, next| require_module(Module::Notices, req, next)))
}
