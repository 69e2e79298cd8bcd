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
    pub leader_id: Option<Uuid>,
    pub leader_name: Option<String>,
    pub office_phone: String,
    pub office_location: String,
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

type UnitRow =
    (Uuid, Option<Uuid>, i16, String, String, Option<Uuid>, Option<String>, String, String);

/// All units, parents before children and siblings by code, ready to render as a tree.
pub async fn list_units(tx: &mut TenantTx) -> Result<Vec<OrgUnit>, sqlx::Error> {
    let rows: Vec<UnitRow> = sqlx::query_as(
        "select u.id, u.parent_id, u.depth, u.code, u.name, u.leader_account_id, a.display_name,
                u.office_phone, u.office_location
           from org_units u
           left join school_accounts a on a.tenant_id = u.tenant_id and a.id = u.leader_account_id
          where u.tenant_id = $1
          order by u.depth, u.code",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                parent_id,
                depth,
                code,
                name,
                leader_id,
                leader_name,
                office_phone,
                office_location,
            )| {
                OrgUnit {
                    id,
                    parent_id,
                    depth,
                    code,
                    name,
                    leader_id,
                    leader_name,
                    office_phone,
                    office_location,
                }
            },
        )
        .collect())
}
