//! The token endpoints of the JSON API: exchange a password for an access token and a refresh
//! token, rotate a refresh token, revoke one. They share the sign-in defences of the portal
//! (rate limit, lockout, bounded hashing) except the captcha, which needs a person.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::refresh::{self, Rotation, Store};
use xg_web::schools::CurrentSchool;
use xg_web::session::{Claims, SESSION_TTL};
use xg_web::{AppState, SchoolUser};

use super::platform::{Outcome, locked_message};

#[derive(Deserialize)]
pub struct TokenRequest {
    username: String,
    password: String,
}

#[derive(Deserialize)]
pub struct RefreshRequest {
    refresh_token: String,
}

#[derive(Serialize)]
pub struct TokenPair {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
}

fn bad_json() -> AppError {
    AppError::invalid("bad_json", Catalog::zh().t("api.bad_json"))
}

fn unauthorized(key: &str) -> Response {
    let body =
        serde_json::json!({ "error": { "code": "unauthorized", "message": Catalog::zh().t(key) } });
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

async fn pair_for(
    state: &AppState,
    claims: Claims,
    refresh_token: String,
) -> Result<TokenPair, AppError> {
    Ok(TokenPair {
        access_token: state.sessions.issue(claims)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: SESSION_TTL.as_secs(),
    })
}

pub async fn token(
    State(state): State<AppState>,
    addr: xg_web::client::ClientAddr,
    Extension(CurrentSchool(school)): Extension<CurrentSchool>,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Response {
    let Ok(Json(req)) = body else { return bad_json().into_response() };
    let account = match super::school::check_credentials(
        &state,
        addr,
        &school,
        req.username.trim(),
        req.password,
    )
    .await
    {
        Ok(Outcome::SignedIn(a)) => a,
        Ok(Outcome::Failed) => return unauthorized("api.invalid_credentials"),
        Ok(Outcome::Locked(wait)) => {
            let body = serde_json::json!({ "error": { "code": "locked", "message": locked_message(wait) } });
            return (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
        }
        Err(e) => return e.into_response(),
    };
    let claims =
        Claims::school(&school, account.id, account.display_name, account.must_change_password);
    let result = async {
        let refresh_token = refresh::issue(&state.db, Store::School(school.id), account.id).await?;
        pair_for(&state, claims, refresh_token).await
    };
    match result.await {
        Ok(pair) => Json(pair).into_response(),
        Err(e) => e.into_response(),
    }
}

pub async fn refresh(
    State(state): State<AppState>,
    Extension(CurrentSchool(school)): Extension<CurrentSchool>,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Response {
    let Ok(Json(req)) = body else { return bad_json().into_response() };
    let store = Store::School(school.id);
    let result = async {
        let Rotation::Rotated { account, token } =
            refresh::rotate(&state.db, store, &req.refresh_token).await?
        else {
            return Ok(None);
        };
        let mut tx = state.db.tenant(school.id).await?;
        let Some(a) = xg_tenancy::accounts::find_school_account_by_id(&mut tx, account).await?
        else {
            return Ok(None);
        };
        let claims = Claims::school(&school, a.id, a.display_name, a.must_change_password);
        Ok::<_, AppError>(Some(pair_for(&state, claims, token).await?))
    };
    match result.await {
        Ok(Some(pair)) => Json(pair).into_response(),
        Ok(None) => unauthorized("api.invalid_refresh"),
        Err(e) => e.into_response(),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(CurrentSchool(school)): Extension<CurrentSchool>,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Response {
    let Ok(Json(req)) = body else { return bad_json().into_response() };
    match refresh::revoke_family_of(&state.db, Store::School(school.id), &req.refresh_token).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}

#[derive(Serialize)]
struct Me {
    id: Uuid,
    username: String,
    display_name: String,
    roles: Vec<String>,
    permissions: Vec<&'static str>,
}

pub async fn me(State(state): State<AppState>, Extension(user): Extension<SchoolUser>) -> Response {
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let account =
            xg_tenancy::accounts::find_school_account_by_id(&mut tx, user.claims.sub).await?;
        let account = account.ok_or(AppError::Unauthorized)?;
        let permissions = state.authz.permissions_of(&user.school, user.claims.sub).await?;
        Ok::<_, AppError>(Me {
            id: account.id,
            username: account.username,
            display_name: account.display_name,
            roles: account.roles,
            permissions,
        })
    };
    match result.await {
        Ok(me) => Json(me).into_response(),
        Err(e) => e.into_response(),
    }
}
