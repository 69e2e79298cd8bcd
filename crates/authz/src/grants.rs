//! Guards on handing out power. Nobody grants what they do not hold: a role or account may only
//! be given permissions its granter holds, and an account may only be reset by someone who
//! holds everything it holds. And a school never loses its last way to manage roles.

use std::collections::BTreeSet;

use uuid::Uuid;
use xg_kernel::TenantTx;

/// The permissions the given roles grant together.
pub async fn of_roles(
    tx: &mut TenantTx,
    roles: &[String],
) -> Result<BTreeSet<String>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar(
        "select distinct permission from role_permissions where tenant_id = $1 and role_key = any($2)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(roles)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().collect())
}

/// The permissions an account holds through its roles.
pub async fn of_account(tx: &mut TenantTx, account: Uuid) -> Result<BTreeSet<String>, sqlx::Error> {
    let rows: Vec<String> = sqlx::query_scalar(
        "select distinct rp.permission from account_roles ar
           join role_permissions rp on rp.tenant_id = ar.tenant_id and rp.role_key = ar.role_key
          where ar.tenant_id = $1 and ar.account_id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().collect())
}

/// True if `granter` (an account, or `None` for the command line, which may do anything) holds
/// every permission in `wanted`.
pub async fn holds_all(
    tx: &mut TenantTx,
    granter: Option<Uuid>,
    wanted: &BTreeSet<String>,
) -> Result<bool, sqlx::Error> {
    match granter {
        None => Ok(true),
        Some(id) => Ok(wanted.is_subset(&of_account(tx, id).await?)),
    }
}

/// True if some account still holds `roles.manage` (so the school can repair its own roles).
/// Takes the school's registry row lock first, so two admins removing each other's power at
/// the same moment are checked one after the other, each seeing the other's change.
pub async fn someone_manages_roles(tx: &mut TenantTx) -> Result<bool, sqlx::Error> {
    sqlx::query("select 1 from schools where id = $1 for update")
        .bind(tx.tenant().as_uuid())
        .execute(tx.conn())
        .await?;
    sqlx::query_scalar(
        "select exists (select 1 from account_roles ar
                          join role_permissions rp
                            on rp.tenant_id = ar.tenant_id and rp.role_key = ar.role_key
                         where ar.tenant_id = $1 and rp.permission = 'roles.manage')",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_one(tx.conn())
    .await
}
