//! Managing a school's roles: list, create, change and delete custom roles and their
//! permissions. Every change is audited and bumps the school's policy version, so every
//! instance enforces it at once. A change in one school never touches another's rows: every
//! statement is bound to the transaction's tenant (and RLS checks again).

use serde::Serialize;
use xg_audit::{Actor, Change};
use xg_kernel::TenantTx;

use crate::catalogue;
use crate::enforcer::bump_policy;
use crate::grants;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RoleView {
    pub key: String,
    pub name: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
    pub members: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("role key '{0}' is invalid")]
    InvalidKey(String),
    #[error("role name is empty")]
    EmptyName,
    #[error("a role with key '{0}' already exists")]
    Exists(String),
    #[error("unknown permission '{0}'")]
    UnknownPermission(String),
    #[error("no role '{0}'")]
    NotFound(String),
    #[error("built-in role '{0}' cannot be deleted")]
    Builtin(String),
    #[error("role '{0}' is still held by {1} accounts")]
    StillAssigned(String, i64),
    #[error("cannot grant or change permissions one does not hold")]
    BeyondOwnPermissions,
    #[error("no account would be left able to manage roles")]
    LastAdmin,
    #[error("role name is too long or contains control characters")]
    InvalidName,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<RoleView>, sqlx::Error> {
    let rows: Vec<(String, String, bool, Vec<String>, i64)> = sqlx::query_as(
        "select r.key, r.name, r.builtin,
                coalesce((select array_agg(p.permission order by p.permission) from role_permissions p
                           where p.tenant_id = r.tenant_id and p.role_key = r.key), '{}'),
                (select count(*) from account_roles a
                  where a.tenant_id = r.tenant_id and a.role_key = r.key)
           from roles r where r.tenant_id = $1
          order by r.builtin desc, r.key",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(key, name, builtin, permissions, members)| RoleView {
            key,
            name,
            builtin,
            permissions,
            members,
        })
        .collect())
}

fn check_permissions(permissions: &[String]) -> Result<(), RoleError> {
    match permissions.iter().find(|p| catalogue::find(p).is_none()) {
        Some(unknown) => Err(RoleError::UnknownPermission(unknown.clone())),
        None => Ok(()),
    }
}

fn check_name(name: &str) -> Result<String, RoleError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(RoleError::EmptyName);
    }
    if name.chars().count() > 100 || xg_kernel::text::has_control_characters(name, false) {
        return Err(RoleError::InvalidName);
    }
    Ok(name.to_owned())
}

/// The actor must hold every permission involved (the new ones and, for an existing role, its
/// current ones), and afterwards someone must still be able to manage roles.
async fn check_power(
    tx: &mut TenantTx,
    actor: &Actor,
    involved: impl IntoIterator<Item = String>,
) -> Result<(), RoleError> {
    let wanted = involved.into_iter().collect();
    if !grants::holds_all(tx, actor.id, &wanted).await? {
        return Err(RoleError::BeyondOwnPermissions);
    }
    Ok(())
}

async fn check_someone_manages(tx: &mut TenantTx) -> Result<(), RoleError> {
    if grants::someone_manages_roles(tx).await? { Ok(()) } else { Err(RoleError::LastAdmin) }
}

fn valid_key(key: &str) -> bool {
    (1..=32).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub async fn create(
    tx: &mut TenantTx,
    actor: &Actor,
    key: &str,
    name: &str,
    permissions: &[String],
) -> Result<i64, RoleError> {
    if !valid_key(key) {
        return Err(RoleError::InvalidKey(key.to_owned()));
    }
    let name = check_name(name)?;
    let name = name.as_str();
    check_permissions(permissions)?;
    check_power(tx, actor, permissions.iter().cloned()).await?;
    let inserted = sqlx::query(
        "insert into roles (tenant_id, key, name, builtin) values ($1, $2, $3, false)
         on conflict (tenant_id, key) do nothing",
    )
    .bind(tx.tenant().as_uuid())
    .bind(key)
    .bind(name)
    .execute(tx.conn())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(RoleError::Exists(key.to_owned()));
    }
    write_permissions(tx, key, permissions).await?;
    let after = serde_json::json!({ "name": name, "permissions": permissions });
    xg_audit::record(tx, actor, Change::new("role.create", format!("role:{key}")).after(after))
        .await?;
    Ok(bump_policy(tx).await?)
}

/// Renames a role and replaces its permissions (built-in roles too: a school may tailor them).
pub async fn update(
    tx: &mut TenantTx,
    actor: &Actor,
    key: &str,
    name: &str,
    permissions: &[String],
) -> Result<i64, RoleError> {
    let name = check_name(name)?;
    let name = name.as_str();
    check_permissions(permissions)?;
    let before = list(tx).await?.into_iter().find(|r| r.key == key);
    let Some(before) = before else {
        return Err(RoleError::NotFound(key.to_owned()));
    };
    let involved = permissions.iter().chain(&before.permissions).cloned().collect::<Vec<_>>();
    check_power(tx, actor, involved).await?;
    sqlx::query("update roles set name = $3 where tenant_id = $1 and key = $2")
        .bind(tx.tenant().as_uuid())
        .bind(key)
        .bind(name)
        .execute(tx.conn())
        .await?;
    write_permissions(tx, key, permissions).await?;
    check_someone_manages(tx).await?;
    let after = serde_json::json!({ "name": name, "permissions": permissions });
    let change = Change::new("role.update", format!("role:{key}"))
        .before(serde_json::json!({ "name": before.name, "permissions": before.permissions }))
        .after(after);
    xg_audit::record(tx, actor, change).await?;
    Ok(bump_policy(tx).await?)
}

pub async fn delete(tx: &mut TenantTx, actor: &Actor, key: &str) -> Result<i64, RoleError> {
    let Some(role) = list(tx).await?.into_iter().find(|r| r.key == key) else {
        return Err(RoleError::NotFound(key.to_owned()));
    };
    if role.builtin {
        return Err(RoleError::Builtin(key.to_owned()));
    }
    if role.members > 0 {
        return Err(RoleError::StillAssigned(key.to_owned(), role.members));
    }
    check_power(tx, actor, role.permissions.iter().cloned()).await?;
    sqlx::query("delete from roles where tenant_id = $1 and key = $2")
        .bind(tx.tenant().as_uuid())
        .bind(key)
        .execute(tx.conn())
        .await?;
    let before = serde_json::json!({ "name": role.name, "permissions": role.permissions });
    xg_audit::record(tx, actor, Change::new("role.delete", format!("role:{key}")).before(before))
        .await?;
    Ok(bump_policy(tx).await?)
}

async fn write_permissions(
    tx: &mut TenantTx,
    key: &str,
    permissions: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from role_permissions where tenant_id = $1 and role_key = $2")
        .bind(tx.tenant().as_uuid())
        .bind(key)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "insert into role_permissions (tenant_id, role_key, permission)
         select $1, $2, unnest($3::text[]) on conflict do nothing",
    )
    .bind(tx.tenant().as_uuid())
    .bind(key)
    .bind(permissions)
    .execute(tx.conn())
    .await?;
    Ok(())
}
