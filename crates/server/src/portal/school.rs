//! A school's own pages under `/s/{slug}/`: its landing page, sign-in for its accounts, and the
//! signed-in overview. A session is bound to one school: a token issued at school A is not a
//! session at school B, whichever cookie it arrives in.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Extension, OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_tenancy::lockout::{self, Accounts, Verdict};
use xg_tenancy::{School, accounts, org};

use super::platform::{LoginPage, Outcome, captcha_solved, locked_message, sign_in_actor};
use super::views::module_labels;
use super::{error_page, render};
use xg_web::AppState;
use xg_web::SchoolUser;
use xg_web::client::ClientAddr;
use xg_web::forms::CsrfForm;
use xg_web::forms::{Csrf, see_other};
use xg_web::guard::base_path;
use xg_web::lifecycle;
use xg_web::refresh::Store;
use xg_web::schools::CurrentSchool;
use xg_web::session::{self, Claims, school_cookie};

#[derive(Template)]
#[template(path = "school_landing.html")]
struct Landing {
    m: &'static Catalog,
    school_name: String,
    welcome: String,
    base: String,
}

/// `/s/{slug}` without the slash: relative links on the landing page need the slash.
pub async fn to_landing(Extension(CurrentSchool(school)): Extension<CurrentSchool>) -> Response {
    see_other(&format!("/s/{}/", school.slug))
}

pub async fn landing(
    Extension(CurrentSchool(school)): Extension<CurrentSchool>,
    uri: OriginalUri,
) -> Response {
    let m = Catalog::zh();
    let page = Landing {
        m,
        school_name: school.name.clone(),
        welcome: m.fmt("school.welcome", &[("school", &school.name)]),
        base: base_path(&uri, &school),
    };
    render(StatusCode::OK, &page)
}

pub async fn login_page(
    State(state): State<AppState>,
    Extension(CurrentSchool(school)): Extension<CurrentSchool>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    login_form(
        &state,
        &headers,
        &school,
        &base_path(&uri, &school),
        StatusCode::OK,
        String::new(),
        None,
    )
    .await
}

async fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    school: &School,
    base: &str,
    status: StatusCode,
    username: String,
    error: Option<&str>,
) -> Response {
    let m = Catalog::zh();
    let challenge = match xg_web::captcha::issue(&state.db).await {
        Ok(c) => c,
        Err(e) => return error_page(AppError::Internal(e)),
    };
    let csrf = Csrf::for_page(state, headers);
    let page = LoginPage {
        m,
        heading: m.fmt("login.school_title", &[("school", &school.name)]),
        action: format!("{base}login"),
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
    Extension(CurrentSchool(school)): Extension<CurrentSchool>,
    uri: OriginalUri,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let m = Catalog::zh();
    let base = base_path(&uri, &school);
    let username = form.get("username").map(|u| u.trim().to_owned()).unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return login_form(
            &state,
            &headers,
            &school,
            &base,
            status,
            username,
            Some(m.t("login.missing")),
        )
        .await;
    }
    let fail = async |status, text: &str| {
        login_form(&state, &headers, &school, &base, status, username.clone(), Some(text)).await
    };
    if !captcha_solved(&state, &form).await {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, m.t("login.captcha_wrong")).await;
    }
    let account = match check_credentials(&state, addr, &school, &username, password).await {
        Ok(Outcome::SignedIn(account)) => account,
        Ok(Outcome::Failed) => return fail(StatusCode::UNAUTHORIZED, m.t("login.failed")).await,
        Ok(Outcome::Locked(wait)) => {
            return fail(StatusCode::TOO_MANY_REQUESTS, &locked_message(wait)).await;
        }
        Err(e) => return error_page(e),
    };
    let claims =
        Claims::school(&school, account.id, account.display_name, account.must_change_password);
    let cookie = school_cookie(school.slug.as_str());
    let cookies = match lifecycle::start(&state, Store::School(school.id), &cookie, claims).await {
        Ok(c) => c,
        Err(e) => return error_page(e),
    };
    let mut res = see_other(&format!("{base}home"));
    for c in cookies {
        session::push_cookie(res.headers_mut(), c);
    }
    res
}

/// Checks a school account's password, honouring and updating its lockout.
pub async fn check_credentials(
    state: &AppState,
    addr: ClientAddr,
    school: &School,
    username: &str,
    password: String,
) -> Result<Outcome<accounts::SchoolAccount>, AppError> {
    let mut tx = state.db.tenant(school.id).await?;
    let account = accounts::find_school_account(&mut tx, username).await?;
    let stored = match &account {
        Some(a) => {
            Some((a.id, school_secret(state, &mut tx, a.id, a.password_hash.clone()).await?))
        }
        None => None,
    };
    let verdict = lockout::check(tx.conn(), Accounts::School, stored, password).await?;
    let outcome = match (verdict, account) {
        (Verdict::Passed, Some(a)) => Outcome::SignedIn(a),
        (Verdict::LockedNow(wait), Some(a)) => {
            let who = sign_in_actor(&a.username, addr);
            let change = Change::new("account.lock", format!("account:{}", a.id));
            xg_audit::record(&mut tx, &who, change).await?;
            Outcome::Locked(wait)
        }
        (Verdict::Locked(wait), _) => Outcome::Locked(wait),
        _ => Outcome::Failed,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// What a school account's password is checked against (a pending student account's first
/// password comes from its sealed record).
pub async fn school_secret(
    state: &AppState,
    tx: &mut xg_kernel::TenantTx,
    account: uuid::Uuid,
    hash: String,
) -> Result<lockout::Stored, AppError> {
    let key = if hash == accounts::ACTIVATION_PENDING {
        Some(state.keyring()?.for_school(tx).await?)
    } else {
        None
    };
    Ok(xg_enrollment::accounts::stored_secret(tx, key.as_deref(), account, hash).await?)
}

pub async fn logout(
    State(state): State<AppState>,
    Extension(CurrentSchool(school)): Extension<CurrentSchool>,
    uri: OriginalUri,
    headers: HeaderMap,
    _: CsrfForm,
) -> Response {
    let mut res = see_other(&base_path(&uri, &school));
    let cookie = school_cookie(school.slug.as_str());
    for c in lifecycle::end(&state, Store::School(school.id), &cookie, &headers).await {
        session::push_cookie(res.headers_mut(), c);
    }
    res
}

pub struct UnitLine {
    pub depth: i16,
    pub name: String,
    pub code: String,
}

#[derive(Template)]
#[template(path = "school_home.html")]
struct Home {
    m: &'static Catalog,
    school_name: String,
    signed_in: String,
    logout_action: String,
    csrf: String,
    must_change_password: bool,
    modules: Vec<&'static str>,
    roles: Vec<String>,
    levels: Vec<String>,
    units: Vec<UnitLine>,
    nav: Vec<(String, String)>,
}

pub async fn home(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    let nav = xg_org::nav_for(&state, &user).await;
    let SchoolUser { school, claims, base } = user;
    let loaded = async {
        let mut tx = state.db.tenant(school.id).await?;
        let account = accounts::find_school_account_by_id(&mut tx, claims.sub).await?;
        let roles = xg_authz::roles::list(&mut tx).await?;
        let levels = org::list_levels(&mut tx).await?;
        let units = org::list_units(&mut tx).await?;
        Ok::<_, AppError>((account, roles, levels, units))
    };
    let (account, roles, levels, units) = match loaded.await {
        Ok((Some(a), r, l, u)) => (a, r, l, u),
        Ok((None, ..)) => return see_other(&format!("{base}login")),
        Err(e) => return error_page(e),
    };
    let role_names = account
        .roles
        .iter()
        .map(|key| roles.iter().find(|r| r.key == *key).map_or(key.clone(), |r| r.name.clone()))
        .collect();
    let m = Catalog::zh();
    let csrf = Csrf::for_page(&state, &headers);
    let page = Home {
        m,
        school_name: school.name.clone(),
        signed_in: m.fmt("app.signed_in_as", &[("name", &account.display_name)]),
        logout_action: format!("{base}logout"),
        csrf: csrf.token.clone(),
        must_change_password: account.must_change_password,
        modules: module_labels(&school),
        roles: role_names,
        levels: levels.into_iter().map(|l| l.name).collect(),
        units: tree_order(units),
        nav,
    };
    csrf.attach(render(StatusCode::OK, &page))
}

/// Orders units depth-first so each unit follows its parent.
fn tree_order(units: Vec<org::OrgUnit>) -> Vec<UnitLine> {
    let mut children: HashMap<Option<Uuid>, Vec<&org::OrgUnit>> = HashMap::new();
    for u in &units {
        children.entry(u.parent_id).or_default().push(u);
    }
    let mut out = Vec::with_capacity(units.len());
    let mut stack: Vec<&org::OrgUnit> = children.get(&None).cloned().unwrap_or_default();
    stack.reverse();
    while let Some(u) = stack.pop() {
        out.push(UnitLine { depth: u.depth, name: u.name.clone(), code: u.code.clone() });
        if let Some(kids) = children.get(&Some(u.id)) {
            stack.extend(kids.iter().rev());
        }
    }
    out
}
