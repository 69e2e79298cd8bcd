//! Staff accounts of the school: list them, create one, change its roles and data scope, and
//! reset its password (a new initial password, shown once, which also lifts a lockout).

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;
use xg_audit::Change;
use xg_kernel::i18n::Catalog;
use xg_kernel::text::has_control_characters;
use xg_kernel::{AppError, TenantTx, password};
use xg_web::client::{ClientAddr, actor};
use xg_web::forms::CsrfForm;
use xg_web::{AppState, SchoolUser, error_page, render};

use xg_web::chrome::Chrome;

pub struct AccountRow {
    id: Uuid,
    username: String,
    display_name: String,
    roles: Vec<String>,
    units: Vec<String>,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "org_accounts.html")]
struct AccountsPage {
    m: &'static Catalog,
    chrome: Chrome,
    accounts: Vec<AccountRow>,
    roles: Vec<(String, String)>,
    units: Vec<(Uuid, String)>,
    new_password: Option<String>,
}

type Row = (Uuid, String, String, Vec<String>, Vec<String>, bool, bool);

async fn load(
    tx: &mut TenantTx,
) -> Result<(Vec<AccountRow>, Vec<(String, String)>, Vec<(Uuid, String)>), sqlx::Error> {
    let m = Catalog::zh();
    let rows: Vec<Row> = sqlx::query_as(
        "select a.id, a.username, a.display_name,
                coalesce((select array_agg(r.name order by r.name) from account_roles ar
                            join roles r on r.tenant_id = ar.tenant_id and r.key = ar.role_key
                           where ar.tenant_id = a.tenant_id and ar.account_id = a.id), '{}'),
                coalesce((select array_agg(u.name order by u.code) from staff_scopes s
                            join org_units u on u.tenant_id = s.tenant_id and u.id = s.org_unit_id
                           where s.tenant_id = a.tenant_id and s.account_id = a.id), '{}'),
                coalesce(a.locked_until > now(), false), a.must_change_password
           from school_accounts a where a.tenant_id = $1 and a.student_id is null
          order by a.username",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    let accounts = rows
        .into_iter()
        .map(|(id, username, display_name, roles, units, locked, initial)| AccountRow {
            id,
            username,
            display_name,
            roles,
            units,
            state: if locked {
                m.t("accounts.locked")
            } else if initial {
                m.t("accounts.initial")
            } else {
                m.t("accounts.active")
            },
        })
        .collect();
    let roles: Vec<(String, String)> =
        sqlx::query_as("select key, name from roles where tenant_id = $1 and key <> 'student' order by builtin desc, key")
            .bind(tx.tenant().as_uuid())
            .fetch_all(tx.conn())
            .await?;
    let units: Vec<(Uuid, String)> =
        sqlx::query_as("select id, name from org_units where tenant_id = $1 order by depth, code")
            .bind(tx.tenant().as_uuid())
            .fetch_all(tx.conn())
            .await?;
    Ok((accounts, roles, units))
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
        Ok::<_, AppError>(load(&mut tx).await?)
    };
    let (accounts, roles, units) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (mut chrome, csrf) = Chrome::new(state, user, headers, "nav.accounts").await;
    chrome.error = error;
    let page =
        AccountsPage { m: Catalog::zh(), chrome, accounts, roles, units, new_password: notice };
    csrf.attach(render(status, &page))
}

pub async fn page(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    headers: HeaderMap,
) -> Response {
    show(&state, &user, &headers, StatusCode::OK, None, None).await
}

/// The role keys and unit ids ticked in a form.
fn selection(form: &HashMap<String, String>) -> Option<(Vec<String>, Vec<Uuid>)> {
    let roles = form.keys().filter_map(|k| k.strip_prefix("role.")).map(str::to_owned).collect();
    let units = form
        .keys()
        .filter_map(|k| k.strip_prefix("unit."))
        .map(|id| id.parse::<Uuid>().ok())
        .collect::<Option<Vec<_>>>()?;
    Some((roles, units))
}

/// True if `granter` may hand out every unit in `units`: holders of `roles.manage` (school
/// admins) may hand out any unit; anyone else only units inside their own scope.
async fn may_assign_units(
    tx: &mut TenantTx,
    granter: Uuid,
    units: &[Uuid],
) -> Result<bool, sqlx::Error> {
    if units.is_empty() {
        return Ok(true);
    }
    if xg_authz::grants::of_account(tx, granter).await?.contains("roles.manage") {
        return Ok(true);
    }
    let own: std::collections::BTreeSet<Uuid> =
        xg_authz::scope::units_in_scope(tx, granter).await?.into_iter().map(|u| u.id).collect();
    Ok(units.iter().all(|u| own.contains(u)))
}

/// Replaces an account's roles and units; false if any role or unit is not this school's.
async fn write_assignment(
    tx: &mut TenantTx,
    account: Uuid,
    roles: &[String],
    units: &[Uuid],
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().as_uuid();
    let known: (i64, i64) = sqlx::query_as(
        "select (select count(*) from roles where tenant_id = $1 and key = any($2) and key <> 'student'),
                (select count(*) from org_units where tenant_id = $1 and id = any($3))",
    )
    .bind(tenant)
    .bind(roles)
    .bind(units)
    .fetch_one(tx.conn())
    .await?;
    if known != (roles.len() as i64, units.len() as i64) {
        return Ok(false);
    }
    sqlx::query("delete from account_roles where tenant_id = $1 and account_id = $2")
        .bind(tenant)
        .bind(account)
        .execute(tx.conn())
        .await?;
    sqlx::query("insert into account_roles (tenant_id, account_id, role_key) select $1, $2, unnest($3::text[])")
        .bind(tenant)
        .bind(account)
        .bind(roles)
        .execute(tx.conn())
        .await?;
    sqlx::query("delete from staff_scopes where tenant_id = $1 and account_id = $2")
        .bind(tenant)
        .bind(account)
        .execute(tx.conn())
        .await?;
    sqlx::query("insert into staff_scopes (tenant_id, account_id, org_unit_id) select $1, $2, unnest($3::uuid[])")
        .bind(tenant)
        .bind(account)
        .bind(units)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let m = Catalog::zh();
    let bad = |key: &str| {
        show(
            &state,
            &user,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(m.t(key).to_owned()),
        )
    };
    let username = form.get("username").map(|u| u.trim().to_owned()).unwrap_or_default();
    let display_name = form.get("display_name").map(|u| u.trim().to_owned()).unwrap_or_default();
    let username_ok = (2..=64).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !username_ok {
        return bad("accounts.invalid_username").await;
    }
    if display_name.is_empty()
        || display_name.chars().count() > 100
        || has_control_characters(&display_name, false)
    {
        return bad("accounts.invalid_display_name").await;
    }
    let Some((roles, units)) = selection(&form) else { return bad("accounts.bad_selection").await };
    let initial = password::generate_initial();
    let hash = match password::hash(&initial) {
        Ok(h) => h,
        Err(e) => return error_page(AppError::Internal(e)),
    };
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let id = Uuid::new_v4();
        let inserted = sqlx::query(
            "insert into school_accounts (tenant_id, id, username, display_name, password_hash, must_change_password)
             values ($1, $2, $3, $4, $5, true) on conflict (tenant_id, username) do nothing",
        )
        .bind(tx.tenant().as_uuid())
        .bind(id)
        .bind(&username)
        .bind(&display_name)
        .bind(&hash)
        .execute(tx.conn())
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Err("taken"));
        }
        let wanted = xg_authz::grants::of_roles(&mut tx, &roles).await?;
        if !xg_authz::grants::holds_all(&mut tx, Some(user.claims.sub), &wanted).await?
            || !may_assign_units(&mut tx, user.claims.sub, &units).await?
        {
            return Ok(Err("beyond"));
        }
        if !write_assignment(&mut tx, id, &roles, &units).await? {
            return Ok(Err("selection"));
        }
        let after = serde_json::json!({ "username": username, "display_name": display_name, "roles": roles, "units": units });
        xg_audit::record(
            &mut tx,
            &who,
            Change::new("account.create", format!("account:{id}")).after(after),
        )
        .await?;
        xg_authz::enforcer::bump_policy(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok(()))
    };
    match result.await {
        Ok(Ok(())) => {
            let notice =
                m.fmt("accounts.created", &[("username", &username), ("password", &initial)]);
            show(&state, &user, &headers, StatusCode::OK, Some(notice), None).await
        }
        Ok(Err("taken")) => {
            let text = m.fmt("accounts.username_taken", &[("username", &username)]);
            show(&state, &user, &headers, StatusCode::CONFLICT, None, Some(text)).await
        }
        Ok(Err("beyond")) => {
            let text = m.t("accounts.beyond_own").to_owned();
            show(&state, &user, &headers, StatusCode::FORBIDDEN, None, Some(text)).await
        }
        Ok(Err(_)) => bad("accounts.bad_selection").await,
        Err(e) => error_page(e),
    }
}

pub async fn assign(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    addr: ClientAddr,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Response {
    let m = Catalog::zh();
    let account = form.get("account").and_then(|a| a.parse::<Uuid>().ok());
    let (Some(account), Some((roles, units))) = (account, selection(&form)) else {
        return show(
            &state,
            &user,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(m.t("accounts.bad_selection").to_owned()),
        )
        .await;
    };
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let username: Option<String> = sqlx::query_scalar(
            "select username from school_accounts where tenant_id = $1 and id = $2 and student_id is null",
        )
        .bind(tx.tenant().as_uuid())
        .bind(account)
        .fetch_optional(tx.conn())
        .await?;
        let Some(username) = username else { return Ok(Err("accounts.unknown")) };
        // Both what the account gets and what it had must be within the granter's own power.
        let mut involved = xg_authz::grants::of_roles(&mut tx, &roles).await?;
        involved.extend(xg_authz::grants::of_account(&mut tx, account).await?);
        if !xg_authz::grants::holds_all(&mut tx, Some(user.claims.sub), &involved).await?
            || !may_assign_units(&mut tx, user.claims.sub, &units).await?
        {
            return Ok(Err("accounts.beyond_own"));
        }
        let before = xg_authz::grants::of_account(&mut tx, account).await?;
        if !write_assignment(&mut tx, account, &roles, &units).await? {
            return Ok(Err("accounts.bad_selection"));
        }
        if !xg_authz::grants::someone_manages_roles(&mut tx).await? {
            return Ok(Err("accounts.last_admin"));
        }
        let after = serde_json::json!({ "roles": roles, "units": units });
        let change = Change::new("account.assign", format!("account:{account}"))
            .before(serde_json::json!({ "permissions": before }))
            .after(after);
        xg_audit::record(&mut tx, &who, change).await?;
        let version = xg_authz::enforcer::bump_policy(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok((username, version)))
    };
    match result.await {
        Ok(Ok((username, version))) => {
            state.authz.heard_of(user.school.id, version).await;
            let notice = m.fmt("accounts.saved", &[("username", &username)]);
            show(&state, &user, &headers, StatusCode::OK, Some(notice), None).await
        }
        Ok(Err(key)) => {
            let status = match key {
                "accounts.beyond_own" => StatusCode::FORBIDDEN,
                "accounts.last_admin" => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            show(&state, &user, &headers, status, None, Some(m.t(key).to_owned())).await
        }
        Err(e) => error_page(e),
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    Extension(user): Extension<SchoolUser>,
    Path((_, id)): Path<(String, String)>,
    addr: ClientAddr,
    headers: HeaderMap,
    _: CsrfForm,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else { return error_page(AppError::NotFound) };
    let initial = password::generate_initial();
    let hash = match password::hash(&initial) {
        Ok(h) => h,
        Err(e) => return error_page(AppError::Internal(e)),
    };
    let who = actor(&user.claims, addr);
    let result = async {
        let mut tx = state.db.tenant(user.school.id).await?;
        let target = xg_authz::grants::of_account(&mut tx, id).await?;
        if !xg_authz::grants::holds_all(&mut tx, Some(user.claims.sub), &target).await? {
            return Ok(Err(()));
        }
        let username: Option<String> = sqlx::query_scalar(
            "update school_accounts set failed_logins = 0, locked_until = null
              where tenant_id = $1 and id = $2 returning username",
        )
        .bind(tx.tenant().as_uuid())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        let Some(username) = username else { return Ok(Ok(None)) };
        xg_tenancy::accounts::set_school_password(&mut tx, &who, id, &hash, true).await?;
        let store = xg_web::refresh::Store::School(user.school.id);
        xg_web::refresh::revoke_account(tx.conn(), store, id).await?;
        tx.commit().await?;
        Ok::<_, AppError>(Ok(Some(username)))
    };
    let m = Catalog::zh();
    match result.await {
        Ok(Err(())) => {
            let text = m.t("accounts.reset_beyond_own").to_owned();
            show(&state, &user, &headers, StatusCode::FORBIDDEN, None, Some(text)).await
        }
        Ok(Ok(Some(username))) => {
            let notice =
                m.fmt("accounts.reset_done", &[("username", &username), ("password", &initial)]);
            show(&state, &user, &headers, StatusCode::OK, Some(notice), None).await
        }
        Ok(Ok(None)) => error_page(AppError::NotFound),
        Err(e) => error_page(e),
    }
}
