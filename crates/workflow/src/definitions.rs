//! Versioned definitions. Publishing never changes a version: it adds the next one, effective
//! from now. The service role cannot update or delete definitions or steps at all.

use time::OffsetDateTime;
use uuid::Uuid;
use xg_kernel::TenantTx;

use crate::{Actor, WfError};

/// Who may act on a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// A holder of the role whose data scope covers the applicant's unit.
    Unit,
    /// Any holder of the role (the school office).
    School,
}

impl Reach {
    pub fn key(self) -> &'static str {
        match self {
            Self::Unit => "unit",
            Self::School => "school",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unit" => Some(Self::Unit),
            "school" => Some(Self::School),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStep {
    pub role_key: String,
    pub reach: Reach,
    pub counts_quota: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub position: i16,
    pub role_key: String,
    pub reach: Reach,
    pub counts_quota: bool,
}

#[derive(Clone, Debug)]
pub struct Definition {
    pub id: Uuid,
    pub key: String,
    pub version: i32,
    pub name: String,
    pub notice_days: i32,
    pub effective_from: OffsetDateTime,
}

type DefRow = (Uuid, String, i32, String, i32, OffsetDateTime);

fn from_row((id, key, version, name, notice_days, effective_from): DefRow) -> Definition {
    Definition { id, key, version, name, notice_days, effective_from }
}

/// Adds the next version of `key`, effective from now. Steps must name existing roles; at most
/// one step counts the quota.
pub async fn publish(
    tx: &mut TenantTx,
    actor: &Actor,
    key: &str,
    name: &str,
    notice_days: i32,
    steps: &[NewStep],
) -> Result<Definition, WfError> {
    let quota_steps = steps.iter().filter(|s| s.counts_quota).count();
    if steps.is_empty() || steps.len() > 10 || quota_steps > 1 || !(0..=30).contains(&notice_days) {
        return Err(WfError::BadDefinition);
    }
    let roles: Vec<String> = steps.iter().map(|s| s.role_key.clone()).collect();
    let known: i64 = sqlx::query_scalar(
        "select count(distinct key) from roles where tenant_id = $1 and key = any($2)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(&roles)
    .fetch_one(tx.conn())
    .await?;
    let distinct: std::collections::BTreeSet<&String> = roles.iter().collect();
    if known != distinct.len() as i64 {
        return Err(WfError::BadDefinition);
    }
    // Versions of one key are numbered in order; the unique key catches a racing publisher.
    let id = Uuid::new_v4();
    let row: DefRow = sqlx::query_as(
        "insert into wf_definitions (tenant_id, id, key, version, name, notice_days, created_by)
         select $1, $2, $3, coalesce(max(version), 0) + 1, $4, $5, $6
           from wf_definitions where tenant_id = $1 and key = $3
         returning id, key, version, name, notice_days, effective_from",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(key)
    .bind(name.trim())
    .bind(notice_days)
    .bind(actor.id)
    .fetch_one(tx.conn())
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => WfError::Conflict,
        sqlx::Error::Database(d) if d.is_check_violation() => WfError::BadDefinition,
        _ => WfError::Db(e),
    })?;
    for (i, step) in steps.iter().enumerate() {
        sqlx::query(
            "insert into wf_steps (tenant_id, definition_id, position, role_key, reach, counts_quota)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(id)
        .bind(i as i16 + 1)
        .bind(&step.role_key)
        .bind(step.reach.key())
        .bind(step.counts_quota)
        .execute(tx.conn())
        .await?;
    }
    Ok(from_row(row))
}

/// The version of `key` in force now.
pub async fn current(tx: &mut TenantTx, key: &str) -> Result<Option<Definition>, WfError> {
    as_of(tx, key, OffsetDateTime::now_utc()).await
}

/// The version of `key` that was in force at `at`, if any was.
pub async fn as_of(
    tx: &mut TenantTx,
    key: &str,
    at: OffsetDateTime,
) -> Result<Option<Definition>, WfError> {
    let row: Option<DefRow> = sqlx::query_as(
        "select id, key, version, name, notice_days, effective_from from wf_definitions
          where tenant_id = $1 and key = $2 and effective_from <= $3
          order by effective_from desc, version desc limit 1",
    )
    .bind(tx.tenant().as_uuid())
    .bind(key)
    .bind(at)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(from_row))
}

pub async fn steps_of(tx: &mut TenantTx, definition: Uuid) -> Result<Vec<Step>, WfError> {
    let rows: Vec<(i16, String, String, bool)> = sqlx::query_as(
        "select position, role_key, reach, counts_quota from wf_steps
          where tenant_id = $1 and definition_id = $2 order by position",
    )
    .bind(tx.tenant().as_uuid())
    .bind(definition)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(position, role_key, reach, counts_quota)| Step {
            position,
            role_key,
            reach: Reach::parse(&reach).unwrap_or(Reach::School),
            counts_quota,
        })
        .collect())
}
