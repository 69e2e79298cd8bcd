//! The platform side's entry: the landing page and sign-in for operators and district staff.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, password};
use xg_tenancy::accounts::{self, PlatformRole};

use super::{csrf_error, error_page, render};
use xg_web::AppState;
use xg_web::forms::{CleanForm, Csrf, csrf_ok, see_other, signed_in};
use xg_web::session::{self, Claims, PLATFORM_COOKIE, SESSION_TTL};

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing {
    m: &'static Catalog,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub m: &'static Catalog,
    pub heading: String,
    pub action: String,
    pub csrf: String,
    pub username: String,
    pub error: Option<String>,
}

pub async fn landing(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, PLATFORM_COOKIE) {
        Some(c) if c.kind == PlatformRole::Operator.key() => see_other("/admin"),
        Some(c) if c.kind == PlatformRole::DistrictAdmin.key() => see_other("/district"),
        _ => render(StatusCode::OK, &Landing { m: Catalog::zh() }),
    }
}

pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    login_form(&state, &headers, StatusCode::OK, String::new(), None)
}

fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    username: String,
    error: Option<&str>,
) -> Response {
    let m = Catalog::zh();
    let csrf = Csrf::for_page(state, headers);
    let page = LoginPage {
        m,
        heading: m.t("login.platform_title").to_owned(),
        action: "/login".into(),
        csrf: csrf.token.clone(),
        username,
        error: error.map(str::to_owned),
    };
    csrf.attach(render(status, &page))
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    CleanForm(form): CleanForm,
) -> Response {
    if !csrf_ok(&state, &headers, form.get("csrf").map(String::as_str)) {
        return csrf_error();
    }
    let m = Catalog::zh();
    let username = form.get("username").map(|u| u.trim().to_owned()).unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        let missing = Some(m.t("login.missing"));
        return login_form(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, username, missing);
    }

    let account = match find_account(&state, &username).await {
        Ok(a) => a,
        Err(e) => return error_page(e),
    };
    let verified = {
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        tokio::task::spawn_blocking(move || match stored {
            Some(hash) => password::verify(&password, &hash),
            None => {
                password::burn_time(&password);
                false
            }
        })
        .await
        .unwrap_or(false)
    };
    let Some(account) = account.filter(|_| verified) else {
        let failed = Some(m.t("login.failed"));
        return login_form(&state, &headers, StatusCode::UNAUTHORIZED, username, failed);
    };

    let claims = Claims {
        sub: account.id,
        kind: account.role.key().to_owned(),
        district: account.district_id.map(|d| d.as_uuid()),
        tenant: None,
        name: account.display_name.clone(),
        must_change: account.must_change_password,
        jti: Uuid::new_v4(),
        iat: 0,
        exp: 0,
    };
    let token = match state.sessions.issue(claims) {
        Ok(t) => t,
        Err(e) => return error_page(AppError::Internal(e)),
    };
    let target = match account.role {
        _ if account.must_change_password => "/password",
        PlatformRole::Operator => "/admin",
        PlatformRole::DistrictAdmin => "/district",
    };
    let mut res = see_other(target);
    let cookie =
        session::set_cookie(PLATFORM_COOKIE, &token, Some(SESSION_TTL), state.config.cookie_secure);
    session::push_cookie(res.headers_mut(), cookie);
    res
}

async fn find_account(
    state: &AppState,
    username: &str,
) -> Result<Option<accounts::PlatformAccount>, AppError> {
    let mut tx = state.db.platform().await?;
    Ok(accounts::find_platform_account(tx.conn(), username).await?)
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CleanForm(form): CleanForm,
) -> Response {
    if !csrf_ok(&state, &headers, form.get("csrf").map(String::as_str)) {
        return csrf_error();
    }
    let mut res = see_other("/");
    let cookie = session::clear_cookie(PLATFORM_COOKIE, state.config.cookie_secure);
    session::push_cookie(res.headers_mut(), cookie);
    res
}
