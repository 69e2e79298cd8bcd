//! The school's roles and what each may do. Changes take effect on every service instance at
//! once (the policy version is bumped and announced in the same transaction).

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use xg_authz::PERMISSIONS;
use xg_authz::roles::{self, RoleError};
use xg_kernel::AppError;
use xg_kernel::i18n::Catalog;
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use xg_web::chrome::Chrome;

pub struct RoleRow {
    key: String,
    name: String,
    builtin: bool,
    members_label: String,
    /// (permission key, label, granted)
    perms: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "org_roles.html")]
struct RolesPage {
    m: &'static Catalog,
    chrome: Chrome,
    roles: Vec<RoleRow>,
    permissions: Vec<(&'static str, &'static str)>,
}

fn label(key: &'static str) -> &'static str {
    Catalog::zh().lookup(&format!("perm.{key}")).unwrap_or(key)
}

async fn show(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        Ok::<_, AppError>(roles::list(&mut tx).await?)
    };
    let list = match loaded.await {
        Ok(l) => l,
        Err(e) => return error_page(e),
    };
    let m = Catalog::zh();
    let rows = list
        .into_iter()
        .map(|r| RoleRow {
            members_label: m.fmt("roles.members", &[("count", &r.members.to_string())]),
            perms: PERMISSIONS
                .iter()
                .map(|p| (p.key, label(p.key), r.permissions.iter().any(|g| g == p.key)))
                .collect(),
            key: r.key,
            name: r.name,
            builtin: r.builtin,
        })
        .collect();
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.roles").await;
    chrome.notice = notice;
    chrome.error = error;
    let permissions = PERMISSIONS.iter().map(|p| (p.key, label(p.key))).collect();
    csrf.attach(render(status, &RolesPage { m, chrome, roles: rows, permissions }))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show(&state, &user, &headers, StatusCode::OK, None, None).await
}

fn granted(form: &std::collections::HashMap<String, String>) -> Vec<String> {
    PERMISSIONS
        .iter()
        .filter(|p| form.contains_key(&format!("perm.{}", p.key)))
        .map(|p| p.key.to_owned())
        .collect()
}

/// Runs a role change in the school's transaction and renders the outcome.
async fn apply(
    state: &AppState,
    user: &SchoolUser,
    headers: &HeaderMap,
    done_key: &str,
    name_for_notice: &str,
    change: impl AsyncFnOnce(&mut xg_kernel::TenantTx) -> Result<i64, RoleError>,
) -> Response {
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await.map_err(RoleError::Db)?;
        let version = change(&mut tx).await?;
        tx.commit().await.map_err(RoleError::Db)?;
        Ok(version)
    };
    let m = Catalog::zh();
    match result.await {
        Ok(version) => {
            // This instance enforces the change at once; others hear of it by NOTIFY.
            state.authz.heard_of(user.school.id, version).await;
            let notice = m.fmt(done_key, &[("name", name_for_notice)]);
            show(state, user, headers, StatusCode::OK, Some(notice), None).await
        }
        Err(RoleError::Db(e)) => error_page(e.into()),
        Err(e) => {
            let (status, text) = role_error_zh(&e);
            show(state, user, headers, status, None, Some(text)).await
        }
    }
}

fn role_error_zh(e: &RoleError) -> (StatusCode, String) {
    let m = Catalog::zh();
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    match e {
        RoleError::InvalidKey(k) => (unprocessable, m.fmt("roles.invalid_key", &[("key", k)])),
        RoleError::EmptyName => (unprocessable, m.t("roles.empty_name").to_owned()),
        RoleError::Exists(k) => (StatusCode::CONFLICT, m.fmt("roles.exists", &[("key", k)])),
        RoleError::UnknownPermission(_) | RoleError::NotFound(_) => {
            (StatusCode::NOT_FOUND, m.t("roles.not_found").to_owned())
        }
        RoleError::Builtin(_) => (StatusCode::CONFLICT, m.t("roles.builtin_delete").to_owned()),
        RoleError::StillAssigned(_, n) => {
            (StatusCode::CONFLICT, m.fmt("roles.still_assigned", &[("count", &n.to_string())]))
        }
        RoleError::BeyondOwnPermissions => {
            (StatusCode::FORBIDDEN, m.t("roles.beyond_own").to_owned())
        }
        RoleError::LastAdmin => (StatusCode::CONFLICT, m.t("roles.last_admin").to_owned()),
        RoleError::InvalidName => (unprocessable, m.t("roles.invalid_name").to_owned()),
        RoleError::Db(_) => (StatusCode::INTERNAL_SERVER_ERROR, m.t("error.internal").to_owned()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let key = form.get("key").map(|k| k.trim().to_owned()).unwrap_or_default();
    let name = form.get("name").map(|n| n.trim().to_owned()).unwrap_or_default();
    let perms = granted(&form);
    let who = actor(&user.claims, addr);
    apply(&state, &user, &headers, "roles.created", &name, async |tx| {
        roles::create(tx, &who, &key, &name, &perms).await
    })
    .await
}

pub async fn update(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, key)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let name = form.get("name").map(|n| n.trim().to_owned()).unwrap_or_default();
    let perms = granted(&form);
    let who = actor(&user.claims, addr);
    apply(&state, &user, &headers, "roles.saved", &name, async |tx| {
        roles::update(tx, &who, &key, &name, &perms).await
    })
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, key)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    _: CsrfForm,
) -> Response {
    let who = actor(&user.claims, addr);
    let name = key.clone();
    apply(&state, &user, &headers, "roles.deleted", &name, async |tx| {
        roles::delete(tx, &who, &key).await
    })
    .await
}
