//! Reading applications: one by id, the reviewer's inbox, the history, objections and the
//! applicant's notifications. Times are formatted in the school's time zone by SQL.

use time::OffsetDateTime;
use uuid::Uuid;
use xg_kernel::TenantTx;

use crate::{Status, WfError};

#[derive(Clone, Debug)]
pub struct Application {
    pub id: Uuid,
    pub definition_id: Uuid,
    pub definition_version: i32,
    pub subject_key: String,
    pub title: String,
    pub applicant_id: Uuid,
    pub org_unit_id: Uuid,
    pub quota: Option<i32>,
    pub status: Status,
    pub step: i16,
    pub version: i32,
    pub recommended: bool,
    pub notice_ends_at: Option<OffsetDateTime>,
}

type AppRow = (
    Uuid,
    Uuid,
    i32,
    String,
    String,
    Uuid,
    Uuid,
    Option<i32>,
    String,
    i16,
    i32,
    bool,
    Option<OffsetDateTime>,
);

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<Application>, WfError> {
    let row: Option<AppRow> = sqlx::query_as(
        "select a.id, a.definition_id, d.version, a.subject_key, a.title, a.applicant_id,
                a.org_unit_id, a.quota, a.status, a.step, a.version, a.recommended,
                a.notice_ends_at
           from wf_applications a
           join wf_definitions d on d.tenant_id = a.tenant_id and d.id = a.definition_id
          where a.tenant_id = $1 and a.id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| Application {
        id: r.0,
        definition_id: r.1,
        definition_version: r.2,
        subject_key: r.3,
        title: r.4,
        applicant_id: r.5,
        org_unit_id: r.6,
        quota: r.7,
        status: Status::parse(&r.8).unwrap_or(Status::InReview),
        step: r.9,
        version: r.10,
        recommended: r.11,
        notice_ends_at: r.12,
    }))
}

/// True if `account` may act on the application's current step now (see `wf_may_review`).
pub async fn may_review(tx: &mut TenantTx, app: Uuid, account: Uuid) -> Result<bool, WfError> {
    Ok(sqlx::query_scalar("select wf_may_review($1, $2, $3)")
        .bind(tx.tenant().as_uuid())
        .bind(app)
        .bind(account)
        .fetch_one(tx.conn())
        .await?)
}

type InboxRow = (Uuid, String, String, String, String, i16, i64, i32, String);
type ObjectionRow = (Uuid, Uuid, String, String, Option<String>, Option<String>);

#[derive(Clone, Debug)]
pub struct InboxItem {
    pub id: Uuid,
    pub subject_key: String,
    pub title: String,
    pub applicant_name: String,
    pub unit_name: String,
    pub step: i16,
    pub steps: i64,
    pub version: i32,
    pub submitted: String,
}

/// The applications waiting for `account`, oldest first; `subject_prefix` narrows them to one
/// module (e.g. `award:`).
pub async fn inbox(
    tx: &mut TenantTx,
    account: Uuid,
    subject_prefix: &str,
) -> Result<Vec<InboxItem>, WfError> {
    let rows: Vec<InboxRow> = sqlx::query_as(
        "select a.id, a.subject_key, a.title, acc.display_name, u.name, a.step,
                    (select count(*) from wf_steps s
                      where s.tenant_id = a.tenant_id and s.definition_id = a.definition_id),
                    a.version,
                    to_char(a.created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
               from wf_applications a
               join school_accounts acc on acc.tenant_id = a.tenant_id and acc.id = a.applicant_id
               join org_units u on u.tenant_id = a.tenant_id and u.id = a.org_unit_id
              where a.tenant_id = $1 and a.status = 'in_review'
                and starts_with(a.subject_key, $3)
                and wf_may_review($1, a.id, $2)
              order by a.created_at",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .bind(subject_prefix)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| InboxItem {
            id: r.0,
            subject_key: r.1,
            title: r.2,
            applicant_name: r.3,
            unit_name: r.4,
            step: r.5,
            steps: r.6,
            version: r.7,
            submitted: r.8,
        })
        .collect())
}

#[derive(Clone, Debug)]
pub struct ActionRecord {
    pub seq: i32,
    pub step: i16,
    pub actor_name: String,
    pub action: String,
    pub comment: String,
    pub at: String,
}

/// The append-only history of one application, in order.
pub async fn history(tx: &mut TenantTx, app: Uuid) -> Result<Vec<ActionRecord>, WfError> {
    let rows: Vec<(i32, i16, String, String, String, String)> = sqlx::query_as(
        "select seq, step, actor_name, action, comment,
                to_char(at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
           from wf_actions where tenant_id = $1 and application_id = $2 order by seq",
    )
    .bind(tx.tenant().as_uuid())
    .bind(app)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, step, actor_name, action, comment, at)| ActionRecord {
            seq,
            step,
            actor_name,
            action,
            comment,
            at,
        })
        .collect())
}

#[derive(Clone, Debug)]
pub struct ObjectionRecord {
    pub id: Uuid,
    pub application_id: Uuid,
    pub filer_name: String,
    pub reason: String,
    pub outcome: Option<String>,
    pub resolution: Option<String>,
}

/// Objections on the given applications, oldest first.
pub async fn objections(tx: &mut TenantTx, apps: &[Uuid]) -> Result<Vec<ObjectionRecord>, WfError> {
    let rows: Vec<ObjectionRow> = sqlx::query_as(
        "select id, application_id, filer_name, reason, outcome, resolution
               from wf_objections where tenant_id = $1 and application_id = any($2)
              order by filed_at",
    )
    .bind(tx.tenant().as_uuid())
    .bind(apps)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, application_id, filer_name, reason, outcome, resolution)| ObjectionRecord {
            id,
            application_id,
            filer_name,
            reason,
            outcome,
            resolution,
        })
        .collect())
}

#[derive(Clone, Debug)]
pub struct Notification {
    pub message: String,
    pub at: String,
}

/// The newest notifications of `account`.
pub async fn notifications(
    tx: &mut TenantTx,
    account: Uuid,
    limit: i64,
) -> Result<Vec<Notification>, WfError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select message, to_char(created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
           from wf_notifications where tenant_id = $1 and account_id = $2
          order by created_at desc, id limit $3",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|(message, at)| Notification { message, at }).collect())
}
