//! Guards for a school's routes: who is signed in here (and must they change their password
//! first), and may they call this route (casbin, with the school as the domain). Both fail
//! closed: no session sends the browser to sign in, no matching permission answers 403.

use std::sync::Arc;

use axum::extract::{OriginalUri, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use xg_kernel::AppError;
use xg_tenancy::School;

use crate::forms::{see_other, signed_in};
use crate::render::error_page;
use crate::schools::CurrentSchool;
use crate::session::{Claims, school_cookie};
use crate::state::AppState;

/// The signed-in account at the current school, placed in request extensions.
#[derive(Clone)]
pub struct SchoolUser {
    pub school: Arc<School>,
    pub claims: Claims,
    /// The prefix the browser used for this school: `/s/{slug}/` or `/` on its subdomain.
    pub base: String,
}

/// The URL prefix the browser used to reach `school`.
pub fn base_path(uri: &OriginalUri, school: &School) -> String {
    let prefix = format!("/s/{}/", school.slug);
    if uri.path().starts_with(&prefix) { prefix } else { "/".into() }
}

/// The session for this school, if the request carries one.
pub fn session_for(state: &AppState, headers: &HeaderMap, school: &School) -> Option<Claims> {
    signed_in(state, headers, &school_cookie(school.slug.as_str()))
        .filter(|c| c.kind == "school" && c.tenant == Some(school.id.as_uuid()))
}

pub async fn require_school_user(
    State(state): State<AppState>,
    uri: OriginalUri,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(CurrentSchool(school)) = req.extensions().get::<CurrentSchool>().cloned() else {
        return error_page(AppError::NotFound);
    };
    let base = base_path(&uri, &school);
    let Some(claims) = session_for(&state, req.headers(), &school) else {
        return see_other(&format!("{base}login"));
    };
    // Exactly the password page of this school: nothing else opens until it is changed.
    let password_page = format!("/s/{}/password", school.slug);
    if claims.must_change && req.uri().path() != password_page {
        return see_other(&format!("{base}password"));
    }
    req.extensions_mut().insert(SchoolUser { school, claims, base });
    next.run(req).await
}

/// Checks the route against the school's policy. Runs after `require_school_user`.
pub async fn require_permission(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(user) = req.extensions().get::<SchoolUser>().cloned() else {
        return error_page(AppError::Unauthorized);
    };
    let prefix = format!("/s/{}", user.school.slug);
    let path = req.uri().path().strip_prefix(&prefix).unwrap_or("/").to_owned();
    // HEAD is a GET without the body: the same permission answers it.
    let method = match req.method().as_str() {
        "HEAD" => "GET".to_owned(),
        other => other.to_owned(),
    };
    // API callers get the JSON envelope, people get a page.
    let respond = |e: AppError| {
        if path.starts_with("/api/") { e.into_response() } else { error_page(e) }
    };
    match state.authz.allows(&user.school, user.claims.sub, &method, &path).await {
        Ok(true) => next.run(req).await,
        Ok(false) => respond(AppError::Forbidden),
        Err(e) => respond(AppError::Internal(e)),
    }
}
