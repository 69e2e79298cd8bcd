//! The notices module (通知公告): staff write notices (sanitised rich text, category, deadline,
//! confirmation and reply options, attachments), send them to the students of org units in
//! their own scope, and follow delivery, reading and confirmation per class, with reminders
//! and a CSV export. Students read them in a phone-first inbox. Every route sits behind a
//! signed-in session, a catalogue permission and the school's `notices` module switch.
//!
//! Known shortcomings: scheduled notices go out when a notice page of the school is first
//! loaded after their time (there is no background scheduler); audiences are org units only
//! (not roles or single people); only the sender edits, publishes, withdraws or reminds; student
//! opens are receipts, not audit entries (confirmations and replies are audited); an accepted
//! upload is held in memory (at most 20 MB) before
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
        .route("/s/{slug}/notices/{id}/attachments/{attachment}/delete", post(files::remove))
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

#[cfg(test)]
mod tests {
    use xg_kernel::i18n::Catalog;

    /// Every `"notices.…"` or `"nav.…"` literal in this crate names a catalog message.
    #[test]
    fn every_message_key_in_this_crate_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut missing = Vec::new();
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for piece in text.split('"').skip(1).step_by(2) {
                let is_key = (piece.starts_with("notices.") || piece.starts_with("nav."))
                    && !piece.ends_with('.')
                    && piece.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
                if is_key {
                    seen += 1;
                    if !Catalog::zh().contains(piece) {
                        missing.push(piece.to_owned());
                    }
                }
            }
        }
        assert!(seen > 30, "found only {seen} keys; is the scan broken?");
        assert_eq!(missing, Vec::<String>::new());
    }
}
