//! Changing one's own password, for school accounts and platform accounts alike. An initial
//! password (set at onboarding, by the CLI or by an admin's reset) must be changed before any
//! other page opens.

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use xg_kernel::i18n::Catalog;
use xg_kernel::{AppError, password};
use xg_tenancy::accounts;
use xg_tenancy::lockout::{self, Accounts, Verdict};

use super::platform::locked_message;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::forms::{CleanForm, Csrf, csrf_ok, see_other, signed_in};
use xg_web::lifecycle;
use xg_web::refresh::{self, Store};
use xg_web::session::{self, Claims, PLATFORM_COOKIE, school_cookie};
use xg_web::{AppState, SchoolUser, csrf_error, error_page, render};

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    m: &'static Catalog,
    action: String,
    csrf: String,
    signed_in: String,
    logout_action: String,
    forced: bool,
    error: Option<String>,
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    who: &Claims,
    base: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let m = Catalog::zh();
    let csrf = Csrf::for_page(state, headers);
    let page = PasswordPage {
        m,
        action: format!("{base}password"),
        csrf: csrf.token.clone(),
        signed_in: m.fmt("app.signed_in_as", &[("name", &who.name)]),
        logout_action: format!("{base}logout"),
        forced: who.must_change,
        error: error.map(str::to_owned),
    };
    csrf.attach(render(status, &page))
}

/// Why a password change was refused.
enum Refusal {
    /// A rule or a wrong current password (a catalog key).
    Key(&'static str),
    /// Too many wrong current passwords.
    Locked(std::time::Duration),
}

/// The catalog key of the first rule the new password breaks, if any.
fn rule_broken(current: &str, new: &str, confirm: &str, username: &str) -> Option<&'static str> {
    if new.chars().count() < password::MIN_LENGTH {
        Some("password.too_short")
    } else if new != confirm {
        Some("password.mismatch")
    } else if new == current {
        Some("password.same_as_old")
    } else if new.eq_ignore_ascii_case(username) {
        Some("password.same_as_username")
    } else {
        None
    }
}

/// Checks the current password (it counts towards the lockout like a sign-in) and, if it is
/// right, hashes the new one.
async fn check_and_hash(
    conn: &mut sqlx::PgConnection,
    which: Accounts,
    account: (uuid::Uuid, lockout::Stored),
    current: String,
    new: String,
) -> Result<Result<String, Refusal>, AppError> {
    match lockout::check(conn, which, Some(account), current).await? {
        Verdict::Passed => {}
        Verdict::Failed => return Ok(Err(Refusal::Key("password.wrong_current"))),
        Verdict::Locked(wait) | Verdict::LockedNow(wait) => return Ok(Err(Refusal::Locked(wait))),
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&new))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    Ok(Ok(hash))
}

pub async fn school_page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    page(&state, &headers, &user.claims, &user.base, StatusCode::OK, None)
}

pub async fn school_change(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (current, new, confirm) = (field("current"), field("new"), field("confirm"));
    let fail = |key: &str| {
        let msg = Catalog::zh().t(key);
        page(
            &state,
            &headers,
            &user.claims,
            &user.base,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(msg),
        )
    };
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let account = accounts::find_school_account_by_id(&mut tx, user.claims.sub).await?;
        let Some(account) = account else { return Ok(Err(Refusal::Key("error.unauthorized"))) };
        if let Some(rule) = rule_broken(&current, &new, &confirm, &account.username) {
            return Ok(Err(Refusal::Key(rule)));
        }
        let secret = super::school::school_secret(
            &state,
            &mut tx,
            account.id,
            account.password_hash.clone(),
        )
        .await?;
        let stored = (account.id, secret);
        let hash = match check_and_hash(tx.conn(), Accounts::School, stored, current, new).await? {
            Ok(hash) => hash,
            Err(refusal) => {
                tx.commit().await?;
                return Ok(Err(refusal));
            }
        };
        let who = actor(&user.claims, addr);
        accounts::set_school_password(&mut tx, &who, account.id, &hash, false).await?;
        refresh::revoke_account(tx.conn(), Store::School(user.school.id), account.id).await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok(()))
    };
    match result.await {
        Ok(Ok(())) => {
            let claims = Claims { must_change: false, ..user.claims.clone() };
            let cookie = school_cookie(user.school.slug.as_str());
            let store = Store::School(user.school.id);
            reissue(&state, store, claims, &cookie, &format!("{}home", user.base)).await
        }
        Ok(Err(Refusal::Key(key))) => fail(key),
        Ok(Err(Refusal::Locked(wait))) => {
            let text = locked_message(wait);
            let status = StatusCode::TOO_MANY_REQUESTS;
            page(&state, &headers, &user.claims, &user.base, status, Some(&text))
        }
        Err(e) => error_page(e),
    }
}

pub async fn platform_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, PLATFORM_COOKIE) {
        Some(who) => page(&state, &headers, &who, "/", StatusCode::OK, None),
        None => see_other("/login"),
    }
}

pub async fn platform_change(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    CleanForm(form): CleanForm,
) -> Response {
    let Some(who) = signed_in(&state, &headers, PLATFORM_COOKIE) else {
        return see_other("/login");
    };
    if !csrf_ok(&state, &headers, form.get("csrf").map(String::as_str)) {
        return csrf_error();
    }
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (current, new, confirm) = (field("current"), field("new"), field("confirm"));
    let result = async {
        let mut tx = state.db.platform().await?;
        let Some(account) = accounts::platform_account_by_id(tx.conn(), who.sub).await? else {
            return Ok(Err(Refusal::Key("error.unauthorized")));
        };
        if let Some(rule) = rule_broken(&current, &new, &confirm, &account.username) {
            return Ok(Err(Refusal::Key(rule)));
        }
        let stored = (account.id, lockout::Stored::Hash(account.password_hash.clone()));
        let hash = match check_and_hash(tx.conn(), Accounts::Platform, stored, current, new).await?
        {
            Ok(hash) => hash,
            Err(refusal) => {
                tx.commit().await?;
                return Ok(Err(refusal));
            }
        };
        accounts::set_platform_password(tx.conn(), &actor(&who, addr), account.id, &hash, false)
            .await?;
        refresh::revoke_account(tx.conn(), Store::Platform, account.id).await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok(()))
    };
    match result.await {
        Ok(Ok(())) => {
            let claims = Claims { must_change: false, ..who };
            reissue(&state, Store::Platform, claims, PLATFORM_COOKIE, "/").await
        }
        Ok(Err(Refusal::Key(key))) => {
            let msg = Catalog::zh().t(key);
            page(&state, &headers, &who, "/", StatusCode::UNPROCESSABLE_ENTITY, Some(msg))
        }
        Ok(Err(Refusal::Locked(wait))) => {
            let text = locked_message(wait);
            page(&state, &headers, &who, "/", StatusCode::TOO_MANY_REQUESTS, Some(&text))
        }
        Err(e) => error_page(e),
    }
}

/// A fresh session (every other session of the account was just revoked) and a redirect.
async fn reissue(
    state: &AppState,
    store: Store,
    claims: Claims,
    cookie: &str,
    to: &str,
) -> Response {
    let cookies = match lifecycle::start(state, store, cookie, claims).await {
        Ok(c) => c,
        Err(e) => return error_page(e),
    };
    let mut res = see_other(to);
    for c in cookies {
        session::push_cookie(res.headers_mut(), c);
    }
    res
}
