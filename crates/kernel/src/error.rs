//! One error type for the HTTP boundary and one JSON envelope: a stable machine-readable `code`
//! and a human message in the user's language. Internal details go to the log, never to the
//! client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::i18n::Catalog;

pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The user sent something we cannot accept; `message` says what and how to fix it.
    #[error("{code}: {message}")]
    Invalid { code: &'static str, message: String, field: Option<String> },
    #[error("not found")]
    NotFound,
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("{code}: {message}")]
    Conflict { code: &'static str, message: String },
    /// The school exists but its service is suspended by the operator.
    #[error("school suspended")]
    Suspended,
    /// A dependency (the database) is down or saturated; retrying later may work.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl AppError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { code, message: message.into(), field: None }
    }

    pub fn invalid_field(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid { code, message: message.into(), field: Some(field.into()) }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Suspended => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients switch on, and the Chinese message shown to people.
    pub fn code_and_message(&self) -> (&str, &str) {
        let zh = Catalog::zh();
        match self {
            Self::Invalid { code, message, .. } | Self::Conflict { code, message } => {
                (code, message)
            }
            Self::NotFound => ("not_found", zh.t("error.not_found")),
            Self::Unauthorized => ("unauthorized", zh.t("error.unauthorized")),
            Self::Forbidden => ("forbidden", zh.t("error.forbidden")),
            Self::Suspended => ("school_suspended", zh.t("error.suspended")),
            Self::Unavailable(_) => ("unavailable", zh.t("error.unavailable")),
            Self::Internal(_) => ("internal", zh.t("error.internal")),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e.to_string())
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::Unavailable(e) = &self {
            tracing::warn!(error.message = %e, "dependency unavailable");
        }
        if let Self::Internal(e) = &self {
            // Display only: a database error's Debug form carries row values (key details).
            tracing::error!(error.message = %format!("{e:#}"), "request failed");
        }
        let (code, message) = self.code_and_message();
        let field = match &self {
            Self::Invalid { field, .. } => field.as_deref(),
            _ => None,
        };
        let body = Envelope { error: Body { code, message, field } };
        (self.status(), Json(body)).into_response()
    }
}
