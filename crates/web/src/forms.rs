//! What every form handler shares: the CSRF cookie and token, reading the signed-in account,
//! and redirects.

use std::collections::HashMap;
use std::time::Duration;

use axum::Form;
use axum::extract::{FromRequest, Request};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use xg_kernel::text::has_control_characters;

use crate::render::message_page;

use crate::session::{self, CSRF_COOKIE, Claims};
use crate::state::AppState;

/// The browser's CSRF cookie value, and a `Set-Cookie` header if it has none yet.
pub struct Csrf {
    pub token: String,
    pub set_cookie: Option<String>,
}

impl Csrf {
    pub fn for_page(state: &AppState, headers: &HeaderMap) -> Self {
        match session::read_cookie(headers, CSRF_COOKIE) {
            Some(existing) if existing.len() >= 32 => {
                Self { token: state.sessions.csrf_token(existing), set_cookie: None }
            }
            _ => {
                let fresh = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
                let cookie = session::set_cookie(
                    CSRF_COOKIE,
                    &fresh,
                    Some(Duration::from_secs(7 * 24 * 3600)),
                    state.config.cookie_secure,
                );
                Self { token: state.sessions.csrf_token(&fresh), set_cookie: Some(cookie) }
            }
        }
    }

    /// Attaches the cookie (if new) to a rendered page.
    pub fn attach(self, mut response: Response) -> Response {
        if let Some(cookie) = self.set_cookie {
            session::push_cookie(response.headers_mut(), cookie);
        }
        response
    }
}

/// True if the submitted form token matches this browser's CSRF cookie.
pub fn csrf_ok(state: &AppState, headers: &HeaderMap, submitted: Option<&str>) -> bool {
    match (session::read_cookie(headers, CSRF_COOKIE), submitted) {
        (Some(cookie), Some(token)) => state.sessions.csrf_matches(cookie, token),
        _ => false,
    }
}

/// The claims in `cookie`, if it holds a valid session.
pub fn signed_in(state: &AppState, headers: &HeaderMap, cookie: &str) -> Option<Claims> {
    session::read_cookie(headers, cookie).and_then(|token| state.sessions.verify(token))
}

pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response()
}

/// Longest value accepted in any form field; real fields have their own, smaller limits.
const MAX_FIELD: usize = 10_000;

/// A submitted form as field → value (the last of repeated fields wins), refused with a
/// Chinese page when it is not a form, is too large, or carries control characters (a NUL would
/// otherwise reach PostgreSQL and fail there).
pub struct CleanForm(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for CleanForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let pairs = match Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(Form(pairs)) => pairs,
            Err(rejection) => {
                let key = match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => "error.too_large",
                    _ => "error.bad_form",
                };
                return Err(message_page(rejection.status(), key));
            }
        };
        let dirty = pairs
            .iter()
            .any(|(k, v)| has_control_characters(k, false) || has_control_characters(v, true));
        if dirty {
            return Err(message_page(StatusCode::UNPROCESSABLE_ENTITY, "error.control_characters"));
        }
        if pairs.iter().any(|(_, v)| v.chars().count() > MAX_FIELD) {
            return Err(message_page(StatusCode::UNPROCESSABLE_ENTITY, "error.field_too_long"));
        }
        Ok(Self(pairs.into_iter().collect()))
    }
}

/// A `CleanForm` whose CSRF token has been checked against the browser's cookie; a missing or
/// wrong token answers 403 before the handler runs. Handlers that must first send a signed-out
/// visitor to the sign-in page check the token themselves with `csrf_ok`.
pub struct CsrfForm(pub HashMap<String, String>);

impl FromRequest<AppState> for CsrfForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let CleanForm(form) = CleanForm::from_request(req, state).await?;
        if csrf_ok(state, &headers, form.get("csrf").map(String::as_str)) {
            Ok(Self(form))
        } else {
            Err(crate::render::csrf_error())
        }
    }
}
