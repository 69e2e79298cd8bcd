//! The JSON API's guard: a bearer access token for the school the URL names. Errors use the
//! JSON envelope (`{"error": {"code", "message"}}`) with Chinese messages.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use xg_kernel::AppError;

use crate::guard::SchoolUser;
use crate::schools::CurrentSchool;
use crate::state::AppState;

pub async fn require_api_user(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(CurrentSchool(school)) = req.extensions().get::<CurrentSchool>().cloned() else {
        return AppError::NotFound.into_response();
    };
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let claims = token
        .and_then(|t| state.sessions.verify(t))
        .filter(|c| c.kind == "school" && c.tenant == Some(school.id.as_uuid()));
    let Some(claims) = claims else {
        return AppError::Unauthorized.into_response();
    };
    if claims.must_change {
        let message = xg_kernel::i18n::Catalog::zh().t("api.must_change_password");
        return AppError::Conflict { code: "must_change_password", message: message.to_owned() }
            .into_response();
    }
    req.extensions_mut().insert(SchoolUser { school, claims, base: String::new() });
    next.run(req).await
}
