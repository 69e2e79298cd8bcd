//! The platform side's entry: the landing page and sign-in for operators and district staff.

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use xg_audit::{Actor, Change};
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_tenancy::accounts::{self, PlatformRole};
use xg_tenancy::lockout::{self, Accounts, Verdict};

use super::{error_page, render};
use xg_web::client::ClientAddr;
use xg_web::forms::CsrfForm;
use xg_web::forms::{Csrf, see_other, signed_in};
use xg_web::lifecycle;
use xg_web::refresh::Store;
use xg_web::session::{self, Claims, PLATFORM_COOKIE};
use xg_web::{AppState, captcha};

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
    pub captcha_id: String,
    pub captcha_image: String,
}

pub async fn landing(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, PLATFORM_COOKIE) {
        Some(c) if c.kind == PlatformRole::Operator.key() => see_other("/admin"),
        Some(c) if c.kind == PlatformRole::DistrictAdmin.key() => see_other("/district"),
        _ => render(StatusCode::OK, &Landing { m: Catalog::zh() }),
    }
}

pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    login_form(&state, &headers, StatusCode::OK, String::new(), None).await
}

async fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    username: String,
    error: Option<&str>,
) -> Response {
    let m = Catalog::zh();
    let challenge = match captcha::issue(&state.db).await {
        Ok(c) => c,
        Err(e) => return error_page(AppError::Internal(e)),
    };
    let csrf = Csrf::for_page(state, headers);
    let page = LoginPage {
        m,
        heading: m.t("login.platform_title").to_owned(),
        action: "/login".into(),
        csrf: csrf.token.clone(),
        username,
        error: error.map(str::to_owned),
        captcha_id: challenge.id.to_string(),
        captcha_image: challenge.image,
    };
    csrf.attach(render(status, &page))
}

pub async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let m = Catalog::zh();
    let username = form.get("username").map(|u| u.trim().to_owned()).unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        let missing = Some(m.t("login.missing"));
        return login_form(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, username, missing)
            .await;
    }
    if !captcha_solved(&state, &form).await {
        let wrong = Some(m.t("login.captcha_wrong"));
        return login_form(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, username, wrong)
            .await;
    }

    let account = match check_credentials(&state, addr, &username, password).await {
        Ok(Outcome::SignedIn(account)) => account,
        Ok(Outcome::Failed) => {
            let failed = Some(m.t("login.failed"));
            return login_form(&state, &headers, StatusCode::UNAUTHORIZED, username, failed).await;
        }
        Ok(Outcome::Locked(wait)) => {
            let text = locked_message(wait);
            let status = StatusCode::TOO_MANY_REQUESTS;
            return login_form(&state, &headers, status, username, Some(&text)).await;
        }
        Err(e) => return error_page(e),
    };

    let claims = Claims::platform(&account);
    let cookies = match lifecycle::start(&state, Store::Platform, PLATFORM_COOKIE, claims).await {
        Ok(c) => c,
        Err(e) => return error_page(e),
    };
    let target = match account.role {
        _ if account.must_change_password => "/password",
        PlatformRole::Operator => "/admin",
        PlatformRole::DistrictAdmin => "/district",
    };
    let mut res = see_other(target);
    for c in cookies {
        session::push_cookie(res.headers_mut(), c);
    }
    res
}

/// Checks (and uses up) the captcha a sign-in form carried.
pub async fn captcha_solved(
    state: &AppState,
    form: &std::collections::HashMap<String, String>,
) -> bool {
    let id = form.get("captcha_id").map(String::as_str).unwrap_or_default();
    let answer = form.get("captcha").map(String::as_str).unwrap_or_default();
    match captcha::check(&state.db, id, answer).await {
        Ok(solved) => solved,
        Err(e) => {
            tracing::error!(error.message = %e, "checking a captcha failed");
            false
        }
    }
}

/// The audit actor for a sign-in attempt: who it claimed to be, and from where.
pub fn sign_in_actor(username: &str, addr: ClientAddr) -> Actor {
    let name = Catalog::zh().fmt("audit.sign_in_as", &[("username", username)]);
    Actor { id: None, name, client_addr: addr.0.map(|ip| ip.to_string()) }
}

pub enum Outcome<T> {
    SignedIn(T),
    Failed,
    Locked(Duration),
}

/// "locked, try again in N minutes", rounded up.
pub fn locked_message(wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1).to_string();
    Catalog::zh().fmt("limits.locked", &[("minutes", &minutes)])
}

/// Checks a platform account's password, honouring and updating its lockout.
async fn check_credentials(
    state: &AppState,
    addr: ClientAddr,
    username: &str,
    password: String,
) -> Result<Outcome<accounts::PlatformAccount>, AppError> {
    let mut tx = state.db.platform().await?;
    let account = accounts::find_platform_account(tx.conn(), username).await?;
    let stored = account.as_ref().map(|a| (a.id, a.password_hash.clone()));
    let stored = stored.map(|(id, hash)| (id, lockout::Stored::Hash(hash)));
    let verdict = lockout::check(tx.conn(), Accounts::Platform, stored, password).await?;
    let outcome = match (verdict, account) {
        (Verdict::Passed, Some(a)) => Outcome::SignedIn(a),
        (Verdict::LockedNow(wait), Some(a)) => {
            let who = sign_in_actor(&a.username, addr);
            let change = Change::new("platform_account.lock", format!("platform_account:{}", a.id));
            xg_audit::record_platform(tx.conn(), &who, change).await?;
            Outcome::Locked(wait)
        }
        (Verdict::Locked(wait), _) => Outcome::Locked(wait),
        _ => Outcome::Failed,
    };
    tx.commit().await?;
    Ok(outcome)
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap, _: CsrfForm) -> Response {
    let mut res = see_other("/");
    for c in lifecycle::end(&state, Store::Platform, PLATFORM_COOKIE, &headers).await {
        session::push_cookie(res.headers_mut(), c);
    }
    res
}
