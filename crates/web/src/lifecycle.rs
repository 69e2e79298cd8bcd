//! A session's life: start one at sign-in (access token plus a new refresh family), renew it
//! when the access token has expired (rotating the refresh token), end it at sign-out. The
//! renewal runs as middleware: it rewrites the request's cookie so the handlers see a valid
//! access token, and sends both new cookies with the response.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::COOKIE;
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;
use xg_kernel::AppError;
use xg_tenancy::accounts;

use crate::refresh::{self, REFRESH_TTL, Rotation, Store};
use crate::schools::CurrentSchool;
use crate::session::{self, Claims, PLATFORM_COOKIE, read_cookie, refresh_cookie, school_cookie};
use crate::state::AppState;

/// `Set-Cookie` values for a fresh access token and, if given, a refresh token.
fn cookies(state: &AppState, name: &str, access: &str, refresh: Option<&str>) -> Vec<String> {
    let secure = state.config.cookie_secure;
    let mut out = vec![session::set_cookie(name, access, Some(REFRESH_TTL), secure)];
    if let Some(r) = refresh {
        out.push(session::set_cookie(&refresh_cookie(name), r, Some(REFRESH_TTL), secure));
    }
    out
}

/// Signs `claims` in: a new access token and a new refresh family. Returns the cookies to set.
pub async fn start(
    state: &AppState,
    store: Store,
    cookie: &str,
    claims: Claims,
) -> Result<Vec<String>, AppError> {
    let account = claims.sub;
    let access = state.sessions.issue(claims)?;
    let refresh = refresh::issue(&state.db, store, account).await?;
    Ok(cookies(state, cookie, &access, Some(&refresh)))
}

/// Signs out: revokes the refresh family and returns the cookies that clear the session.
pub async fn end(
    state: &AppState,
    store: Store,
    cookie: &str,
    headers: &axum::http::HeaderMap,
) -> Vec<String> {
    if let Some(token) = read_cookie(headers, &refresh_cookie(cookie))
        && let Err(e) = refresh::revoke_family_of(&state.db, store, token).await
    {
        tracing::warn!(error.message = %e, "revoking a session at sign-out failed");
    }
    let secure = state.config.cookie_secure;
    vec![
        session::clear_cookie(cookie, secure),
        session::clear_cookie(&refresh_cookie(cookie), secure),
    ]
}

/// Current claims for an account, read fresh from the database (name, roles, password state).
async fn claims_for(
    state: &AppState,
    store: Store,
    account: Uuid,
) -> Result<Option<Claims>, AppError> {
    Ok(match store {
        Store::Platform => {
            let mut tx = state.db.platform().await?;
            accounts::platform_account_by_id(tx.conn(), account)
                .await?
                .map(|a| Claims::platform(&a))
        }
        Store::School(tenant) => {
            let mut tx = state.db.tenant(tenant).await?;
            let school = xg_tenancy::registry::find_school_by_id(tx.conn(), tenant).await?;
            let found = accounts::find_school_account_by_id(&mut tx, account).await?;
            match (school, found) {
                (Some(school), Some(a)) => {
                    Some(Claims::school(&school, a.id, a.display_name, a.must_change_password))
                }
                _ => None,
            }
        }
    })
}

/// Renews an expired access token from the refresh cookie, for the school of the request (when
/// one was resolved) or the platform.
pub async fn renew(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let (store, name) = match req.extensions().get::<CurrentSchool>() {
        Some(CurrentSchool(s)) => (Store::School(s.id), school_cookie(s.slug.as_str())),
        None => (Store::Platform, PLATFORM_COOKIE.to_owned()),
    };
    let headers = req.headers();
    let access_ok = read_cookie(headers, &name).and_then(|t| state.sessions.verify(t)).is_some();
    let Some(refresh) = read_cookie(headers, &refresh_cookie(&name)).map(str::to_owned) else {
        return next.run(req).await;
    };
    if access_ok {
        return next.run(req).await;
    }
    let renewed = async {
        match refresh::rotate(&state.db, store, &refresh).await? {
            Rotation::Rotated { account, token } => {
                let Some(claims) = claims_for(&state, store, account).await? else {
                    return Ok(None);
                };
                let access = state.sessions.issue(claims)?;
                Ok::<_, AppError>(Some((access, token)))
            }
            Rotation::Invalid | Rotation::Reused => Ok(None),
        }
    };
    match renewed.await {
        Ok(Some((access, token))) => {
            replace_cookie(&mut req, &name, &access);
            let mut res = next.run(req).await;
            for c in cookies(&state, &name, &access, Some(&token)) {
                session::push_cookie(res.headers_mut(), c);
            }
            res
        }
        Ok(None) => {
            // The refresh token is dead: drop both cookies; the handler sees no session.
            let mut res = next.run(req).await;
            let secure = state.config.cookie_secure;
            session::push_cookie(
                res.headers_mut(),
                session::clear_cookie(&refresh_cookie(&name), secure),
            );
            res
        }
        Err(e) => crate::render::error_page(e),
    }
}

/// Rewrites the request's cookies so `name` carries `value`.
fn replace_cookie(req: &mut Request, name: &str, value: &str) {
    let others: Vec<String> = req
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(name))
        .map(str::to_owned)
        .collect();
    let mut all = others;
    all.push(format!("{name}={value}"));
    req.headers_mut().remove(COOKIE);
    if let Ok(v) = HeaderValue::from_str(&all.join("; ")) {
        req.headers_mut().insert(COOKIE, v);
    }
}
