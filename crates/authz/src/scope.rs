//! Data scopes. A staff member is assigned org units and sees those units and everything below
//! them; a student sees only themself. Scopes fail closed: no assignment means no rows.

use serde::Serialize;
use uuid::Uuid;
use xg_audit::{Actor, Change};
use xg_kernel::TenantTx;

/// Replaces the units `account` is assigned to.
pub async fn assign(
    tx: &mut TenantTx,
    actor: &Actor,
    account: Uuid,
    units: &[Uuid],
) -> Result<(), sqlx::Error> {
    let before = assigned(tx, account).await?;
    sqlx::query("delete from staff_scopes where tenant_id = $1 and account_id = $2")
        .bind(tx.tenant().as_uuid())
        .bind(account)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "insert into staff_scopes (tenant_id, account_id, org_unit_id)
         select $1, $2, unnest($3::uuid[]) on conflict do nothing",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .bind(units)
    .execute(tx.conn())
    .await?;
    let change =
        Change::new("scope.assign", format!("account:{account}")).before(&before).after(units);
    xg_audit::record(tx, actor, change).await
}

/// The units assigned directly.
pub async fn assigned(tx: &mut TenantTx, account: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select org_unit_id from staff_scopes where tenant_id = $1 and account_id = $2
          order by org_unit_id",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .fetch_all(tx.conn())
    .await
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ScopedUnit {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub depth: i16,
}

/// The assigned units of account `$2` at school `$1` and every unit below them, by depth and code.
/// Public so the benchmark's pgbench baseline runs the very statement.
pub const UNITS_IN_SCOPE: &str = "
    with recursive scope(id) as (
        select org_unit_id from staff_scopes where tenant_id = $1 and account_id = $2
        union
        select u.id from org_units u join scope s on u.parent_id = s.id where u.tenant_id = $1
    )
    select u.id, u.code, u.name, u.depth from org_units u join scope s on s.id = u.id
     where u.tenant_id = $1 order by u.depth, u.code";

/// The assigned units and every unit below them.
pub async fn units_in_scope(
    tx: &mut TenantTx,
    account: Uuid,
) -> Result<Vec<ScopedUnit>, sqlx::Error> {
    let rows: Vec<(Uuid, String, String, i16)> = sqlx::query_as(UNITS_IN_SCOPE)
        .bind(tx.tenant().as_uuid())
        .bind(account)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, code, name, depth)| ScopedUnit { id, code, name, depth })
        .collect())
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ScopedStudent {
    pub id: Uuid,
    pub student_no: String,
    pub name: String,
    pub unit_name: Option<String>,
}

/// The students `account` may see: themself for a student account, the students of their
/// units (and below) for staff, nobody without an assignment.
pub async fn students_in_scope(
    tx: &mut TenantTx,
    account: Uuid,
) -> Result<Vec<ScopedStudent>, sqlx::Error> {
    let rows: Vec<(Uuid, String, String, Option<String>)> = sqlx::query_as(
        "with recursive scope(id) as (
             select org_unit_id from staff_scopes where tenant_id = $1 and account_id = $2
             union
             select u.id from org_units u join scope s on u.parent_id = s.id where u.tenant_id = $1
         ),
         own as (
             select student_id from school_accounts
              where tenant_id = $1 and id = $2 and student_id is not null
         )
         select st.id, st.student_no, st.name, u.name
           from students st
           left join org_units u on u.tenant_id = st.tenant_id and u.id = st.org_unit_id
          where st.tenant_id = $1
            and (st.id in (select student_id from own)
                 or (not exists (select 1 from own) and st.org_unit_id in (select id from scope)))
          order by st.student_no",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, student_no, name, unit_name)| ScopedStudent { id, student_no, name, unit_name })
        .collect())
}
