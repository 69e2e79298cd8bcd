//! The server-rendered portal (askama, Simplified Chinese from the message catalog): the
//! platform side (landing, sign-in, operator and district pages) and each school's own pages.

pub mod api;
pub mod district;
pub mod district_students;
pub mod operator;
pub mod password;
pub mod platform;
pub mod school;
pub mod views;

use axum::Router;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use xg_web::AppState;
use xg_web::api::require_api_user;
use xg_web::guard::require_school_user;
use xg_web::lifecycle;
use xg_web::ratelimit::SignInLimits;
pub use xg_web::{csrf_error, error_page, render};

/// The platform side of the portal.
pub fn platform_routes(state: &AppState, limit: &SignInLimits) -> Router<AppState> {
    Router::new()
        .route("/", get(platform::landing))
        .route(
            "/login",
            get(platform::login_page).post(platform::login).route_layer(limit.html.clone()),
        )
        .route("/logout", post(platform::logout))
        .route("/admin", get(operator::dashboard))
        .route("/admin/districts", post(operator::create_district))
        .route("/admin/accounts", post(operator::create_bureau_account))
        .route("/admin/schools/{slug}/{action}", post(operator::set_school_status))
        .route("/district", get(district::dashboard))
        .route("/district/schools", post(district::onboard_school))
        .route("/district/students", get(district_students::page))
        .route("/district/transfers/{id}/decide", post(district_students::decide))
        .route("/password", get(password::platform_page).post(password::platform_change))
        .route_layer(middleware::from_fn_with_state(state.clone(), lifecycle::renew))
        .route("/static/app.css", get(stylesheet))
}

/// Each school's pages, written out under `/s/{slug}` (a subdomain request is rewritten to this
/// form before routing): public pages, pages for any signed-in account, and pages behind a
/// permission. Module routers join the last group, each behind its module gate.
pub fn school_routes(state: &AppState, limit: &SignInLimits) -> Router<AppState> {
    let public = Router::new()
        .route("/s/{slug}", get(school::to_landing))
        .route("/s/{slug}/", get(school::landing))
        .route(
            "/s/{slug}/login",
            get(school::login_page).post(school::login).route_layer(limit.html.clone()),
        )
        .route("/s/{slug}/logout", post(school::logout));
    let api_auth = Router::new()
        .route("/s/{slug}/api/auth/token", post(api::token))
        .route("/s/{slug}/api/auth/refresh", post(api::refresh))
        .route_layer(limit.json.clone())
        .route("/s/{slug}/api/auth/revoke", post(api::revoke));
    let api = Router::new()
        .route("/s/{slug}/api/me", get(api::me))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_api_user));
    let signed_in = Router::new()
        .route("/s/{slug}/home", get(school::home))
        .route("/s/{slug}/password", get(password::school_page).post(password::school_change))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_school_user));
    public
        .merge(signed_in)
        .route_layer(middleware::from_fn_with_state(state.clone(), lifecycle::renew))
        .merge(api_auth)
        .merge(api)
}

async fn stylesheet() -> impl IntoResponse {
    const CSS: &str = include_str!("../../../../web/static/app.css");
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS)
}

#[cfg(test)]
mod tests {
    use xg_kernel::i18n::Catalog;

    /// Every `m.t("…")` in a template and every literal key passed to the catalog in the portal
    /// code names a message that exists, so no page shows a raw key.
    #[test]
    fn every_message_key_used_by_templates_and_portal_code_exists() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut sources = Vec::new();
        for dir in ["web/templates", "crates/server/src/portal"] {
            for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
                sources.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
            }
        }
        let pattern = regex_lite_keys();
        let mut missing = Vec::new();
        let mut seen = 0;
        for text in &sources {
            for key in pattern(text) {
                seen += 1;
                if !Catalog::zh().contains(&key) {
                    missing.push(key);
                }
            }
        }
        assert!(seen > 40, "found only {seen} keys; is the scan broken?");
        assert_eq!(missing, Vec::<String>::new());
    }

    /// Keys look like `group.name` inside `t("…")` or `fmt("…"`.
    fn regex_lite_keys() -> impl Fn(&str) -> Vec<String> {
        |text: &str| {
            let mut keys = Vec::new();
            for opener in ["t(\"", "fmt(\""] {
                for piece in text.split(opener).skip(1) {
                    let key = piece.split('"').next().unwrap_or_default();
                    let looks_like_key = key.contains('.')
                        && key.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
                    if looks_like_key {
                        keys.push(key.to_owned());
                    }
                }
            }
            keys
        }
    }
}
