//! The awards module (奖励): the award office sets up items (scholarships, titles, grants) and
//! the workflow each runs on; students apply within the window; reviewers decide from their
//! inbox; results go through the public notice with objections; locked results are paid in
//! recorded batches; statistics by year, item and class, with an xlsx export.
//!
//! Known shortcomings: checkable criteria are limited to the application window, one
//! application per item and year, and mutually exclusive item groups (the national scholarship
//! and encouragement scholarship); grades and the financial-difficulty determination are not in
//! the platform yet, so those criteria are text for the reviewers. Attachments are described
//! (`attachment_note`) but not uploaded here.

mod common;
mod manage;
pub mod model;
mod notice;
mod payments;
mod portal;
mod review;
mod stats;
mod workflows;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use xg_tenancy::Module;
use xg_web::AppState;
use xg_web::guard::{require_permission, require_school_user};
use xg_web::schools::require_module;

pub use workflows::parse_steps;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/s/{slug}/awards", get(portal::page))
        .route("/s/{slug}/awards/items/{id}/apply", post(portal::apply))
        .route("/s/{slug}/awards/applications/{id}", get(review::detail))
        .route("/s/{slug}/awards/applications/{id}/resubmit", post(portal::resubmit))
        .route("/s/{slug}/awards/applications/{id}/act", post(review::act))
        .route("/s/{slug}/awards/applications/{id}/object", post(notice::object))
        .route("/s/{slug}/awards/inbox", get(review::page))
        .route("/s/{slug}/awards/notice", get(notice::page))
        .route("/s/{slug}/awards/objections/{id}/resolve", post(notice::resolve))
        .route("/s/{slug}/awards/manage", get(manage::page))
        .route("/s/{slug}/awards/items", post(manage::create_item))
        .route("/s/{slug}/awards/items/national", post(manage::seed_national))
        .route("/s/{slug}/awards/workflows", post(workflows::publish))
        .route("/s/{slug}/awards/payments", get(payments::page).post(payments::create_batch))
        .route("/s/{slug}/awards/stats", get(stats::page))
        .route("/s/{slug}/awards/stats.xlsx", get(stats::export))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_permission))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_school_user))
        .route_layer(middleware::from_fn(|req, next| require_module(Module::Awards, req, next)))
}

#[cfg(test)]
mod tests {
    use xg_kernel::i18n::Catalog;

    /// Every message key named in this crate's and the engine's code exists in the catalog.
    #[test]
    fn every_message_key_named_in_the_code_exists() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut missing = Vec::new();
        let mut seen = 0;
        for dir in ["awards/src", "workflow/src"] {
            for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                for piece in text.split('"').skip(1).step_by(2) {
                    let is_key = ["awards.", "workflow.", "nav.awards", "error."]
                        .iter()
                        .any(|p| piece.starts_with(p))
                        && piece.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
                    // Permission keys and audit actions are named too; they are not messages.
                    let audit_action = format!("audit.actions.{}", piece.replace('.', "_"));
                    let permission = xg_authz::catalogue::find(piece).is_some()
                        || Catalog::zh().contains(&audit_action);
                    if is_key && !permission && !piece.ends_with('.') {
                        seen += 1;
                        if !Catalog::zh().contains(piece) {
                            missing.push(piece.to_owned());
                        }
                    }
                }
            }
        }
        assert!(seen > 50, "found only {seen} keys; is the scan broken?");
        assert_eq!(missing, Vec::<String>::new());
    }
}
