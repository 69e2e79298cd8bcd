//! Rendering pages and errors. Errors become a Chinese HTML page with the matching status;
//! internal details are logged, never shown.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    m: &'static Catalog,
    message: &'a str,
}

pub fn error_page(err: AppError) -> Response {
    let status = err.status();
    if let AppError::Internal(e) = &err {
        tracing::error!(error.message = %format!("{e:#}"), "request failed");
    }
    let (_, message) = err.code_and_message();
    render(status, &ErrorPage { m: Catalog::zh(), message })
}

pub fn csrf_error() -> Response {
    let m = Catalog::zh();
    render(StatusCode::FORBIDDEN, &ErrorPage { m, message: m.t("error.csrf") })
}

pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error.message = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, Catalog::zh().t("error.internal")).into_response()
        }
    }
}

/// A Chinese error page with `status` and the catalog message `key`.
pub fn message_page(status: StatusCode, key: &str) -> Response {
    let m = Catalog::zh();
    render(status, &ErrorPage { m, message: m.t(key) })
}
