//! The server-rendered portal (askama, Simplified Chinese from the message catalog): the
//! platform side (landing, sign-in, operator and district pages) and each school's own pages.

pub mod district;
pub mod forms;
pub mod operator;
pub mod platform;
pub mod school;
pub mod views;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;

use crate::state::AppState;

/// The platform side of the portal. School pages are mounted under `/s/{slug}` by the app.
pub fn platform_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(platform::landing))
        .route("/login", get(platform::login_page).post(platform::login))
        .route("/logout", post(platform::logout))
        .route("/admin", get(operator::dashboard))
        .route("/admin/districts", post(operator::create_district))
        .route(
            "/admin/schools/{slug}/{action}",
            post(operator::set_school_status),
        )
        .route("/district", get(district::dashboard))
        .route("/district/schools", post(district::onboard_school))
        .route("/static/app.css", get(stylesheet))
}

pub fn school_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(school::landing))
        .route("/login", get(school::login_page).post(school::login))
        .route("/logout", post(school::logout))
        .route("/home", get(school::home))
}

async fn stylesheet() -> impl IntoResponse {
    const CSS: &str = include_str!("../../../../web/static/app.css");
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    m: &'static Catalog,
    message: &'a str,
}

/// An error as a Chinese HTML page with the matching status. Internal details are logged by
/// `AppError` and never shown.
pub fn error_page(err: AppError) -> Response {
    let status = err.status();
    if let AppError::Internal(e) = &err {
        tracing::error!(error.message = %format!("{e:#}"), "request failed");
    }
    let (_, message) = err.code_and_message();
    render(
        status,
        &ErrorPage {
            m: Catalog::zh(),
            message,
        },
    )
}

pub fn csrf_error() -> Response {
    let m = Catalog::zh();
    render(
        StatusCode::FORBIDDEN,
        &ErrorPage {
            m,
            message: m.t("error.csrf"),
        },
    )
}

pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error.message = %e, "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Catalog::zh().t("error.internal"),
            )
                .into_response()
        }
    }
}
