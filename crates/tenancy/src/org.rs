//! Reading a school's org tree. Every query filters by the transaction's tenant (the first
//! wall); RLS filters again underneath (the second).

use serde::Serialize;
use uuid::Uuid;
use xg_kernel::TenantTx;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OrgLevel {
    pub depth: i16,
    pub key: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub depth: i16,
    pub code: String,
    pub name: String,
}

pub async fn list_levels(tx: &mut TenantTx) -> Result<Vec<OrgLevel>, sqlx::Error> {
    let rows: Vec<(i16, String, String)> = sqlx::query_as(
        "select depth, key, name from org_levels where tenant_id = $1 order by depth",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|(depth, key, name)| OrgLevel { depth, key, name }).collect())
}

/// All units, parents before children and siblings by code, ready to render as a tree.
pub async fn list_units(tx: &mut TenantTx) -> Result<Vec<OrgUnit>, sqlx::Error> {
    let rows: Vec<(Uuid, Option<Uuid>, i16, String, String)> = sqlx::query_as(
        "select id, parent_id, depth, code, name from org_units where tenant_id = $1
          order by depth, code",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, parent_id, depth, code, name)| OrgUnit { id, parent_id, depth, code, name })
        .collect())
}
