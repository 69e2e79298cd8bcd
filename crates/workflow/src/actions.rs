//! Submitting, reviewing and resubmitting. A review is one conditional UPDATE on the
//! application's step and version, so of two concurrent approvals exactly one moves it on; the
//! other finds nothing to update and is answered with a conflict, or with the first one's result
//! when it carried the same idempotency key (a double-clicked or replayed form).

use uuid::Uuid;
use xg_kernel::TenantTx;

use crate::definitions::{current, steps_of};
use crate::queries::{Application, get, may_review};
use crate::{Actor, Status, WfError};

/// What a reviewer decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Return,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(Self::Approve),
            "reject" => Some(Self::Reject),
            "return" => Some(Self::Return),
            _ => None,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Return => "return",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The application moved to this status (and step).
    Moved(Status, i16),
    /// The same request had already been applied; nothing changed now.
    Replayed,
}

pub(crate) async fn append_action(
    tx: &mut TenantTx,
    app: Uuid,
    step: i16,
    actor: Option<&Actor>,
    action: &str,
    comment: &str,
    idempotency_key: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into wf_actions
             (tenant_id, application_id, seq, step, actor_id, actor_name, action, comment,
              idempotency_key)
         select $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7, $8
           from wf_actions where tenant_id = $1 and application_id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(app)
    .bind(step)
    .bind(actor.map(|a| a.id))
    .bind(actor.map(|a| a.name.as_str()).unwrap_or("系统"))
    .bind(action)
    .bind(comment)
    .bind(idempotency_key)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub(crate) async fn notify(
    tx: &mut TenantTx,
    account: Uuid,
    app: Uuid,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into wf_notifications (tenant_id, id, account_id, application_id, message)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(Uuid::new_v4())
    .bind(account)
    .bind(app)
    .bind(message)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Starts an application on the version of `definition_key` in force now.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    tx: &mut TenantTx,
    applicant: &Actor,
    definition_key: &str,
    subject_key: &str,
    title: &str,
    org_unit: Uuid,
    quota: Option<i32>,
    comment: &str,
) -> Result<Uuid, WfError> {
    let definition = current(tx, definition_key).await?.ok_or(WfError::NotFound)?;
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into wf_applications
             (tenant_id, id, definition_id, subject_key, title, applicant_id, org_unit_id, quota,
              status, step)
         values ($1, $2, $3, $4, $5, $6, $7, $8, 'in_review', 1)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(definition.id)
    .bind(subject_key)
    .bind(title)
    .bind(applicant.id)
    .bind(org_unit)
    .bind(quota)
    .execute(tx.conn())
    .await?;
    append_action(tx, id, 1, Some(applicant), "submit", comment, None).await?;
    notify(tx, applicant.id, id, &format!("已提交申请：{title}")).await?;
    Ok(id)
}

async fn replayed(tx: &mut TenantTx, app: Uuid, key: Option<&str>) -> Result<bool, WfError> {
    let Some(key) = key else { return Ok(false) };
    Ok(sqlx::query_scalar(
        "select exists (select 1 from wf_actions
                         where tenant_id = $1 and application_id = $2 and idempotency_key = $3)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(app)
    .bind(key)
    .fetch_one(tx.conn())
    .await?)
}

/// The application moved on after it was shown: a replay if this very request (same key) moved
/// it, a conflict otherwise.
async fn already_moved(
    tx: &mut TenantTx,
    app: Uuid,
    key: Option<&str>,
) -> Result<Outcome, WfError> {
    if replayed(tx, app, key).await? { Ok(Outcome::Replayed) } else { Err(WfError::Conflict) }
}

/// Counts the recommendations already made for this subject in this unit, under a lock on the
/// (subject, unit) row, and refuses when the quota is used up.
async fn check_quota(tx: &mut TenantTx, app: &Application, quota: i32) -> Result<(), WfError> {
    sqlx::query(
        "insert into wf_quota_locks (tenant_id, subject_key, org_unit_id) values ($1, $2, $3)
         on conflict (tenant_id, subject_key, org_unit_id)
         do update set subject_key = excluded.subject_key",
    )
    .bind(tx.tenant().as_uuid())
    .bind(&app.subject_key)
    .bind(app.org_unit_id)
    .execute(tx.conn())
    .await?;
    let used: i64 = sqlx::query_scalar(
        "select count(*) from wf_applications
          where tenant_id = $1 and subject_key = $2 and org_unit_id = $3 and recommended
            and id <> $4 and status <> 'rejected'",
    )
    .bind(tx.tenant().as_uuid())
    .bind(&app.subject_key)
    .bind(app.org_unit_id)
    .bind(app.id)
    .fetch_one(tx.conn())
    .await?;
    if used >= i64::from(quota) { Err(WfError::QuotaFull) } else { Ok(()) }
}

/// A reviewer's decision on the step shown to them (`seen_version`). The comment is required.
/// On an error the caller must drop the transaction (the quota check runs after the update).
pub async fn act(
    tx: &mut TenantTx,
    actor: &Actor,
    app_id: Uuid,
    decision: Decision,
    comment: &str,
    seen_version: i32,
    idempotency_key: Option<&str>,
) -> Result<Outcome, WfError> {
    if replayed(tx, app_id, idempotency_key).await? {
        return Ok(Outcome::Replayed);
    }
    let app = get(tx, app_id).await?.ok_or(WfError::NotFound)?;
    if app.applicant_id == actor.id {
        return Err(WfError::SelfReview);
    }
    if app.status != Status::InReview || app.version != seen_version {
        return already_moved(tx, app_id, idempotency_key).await;
    }
    if !may_review(tx, app_id, actor.id).await? {
        // Each statement sees the newest commits: the application may have moved on since it
        // was read (perhaps by this very request, sent twice), which is not a permission matter.
        let now = get(tx, app_id).await?.ok_or(WfError::NotFound)?;
        if now.version != seen_version {
            return already_moved(tx, app_id, idempotency_key).await;
        }
        return Err(WfError::NotReviewer);
    }
    let comment = crate::clean_comment(comment).ok_or(WfError::CommentRequired)?;
    let steps = steps_of(tx, app.definition_id).await?;
    let step = steps.iter().find(|s| s.position == app.step).ok_or(WfError::NotFound)?;
    let last = steps.len() as i16;
    let notice_days: i32 = sqlx::query_scalar(
        "select notice_days from wf_definitions where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(app.definition_id)
    .fetch_one(tx.conn())
    .await?;
    let (status, next_step, recommended) = match decision {
        Decision::Approve if app.step < last => {
            (Status::InReview, app.step + 1, app.recommended || step.counts_quota)
        }
        Decision::Approve if notice_days > 0 => {
            (Status::InNotice, app.step, app.recommended || step.counts_quota)
        }
        Decision::Approve => (Status::Approved, app.step, app.recommended || step.counts_quota),
        Decision::Reject => (Status::Rejected, app.step, false),
        Decision::Return => (Status::Returned, app.step, app.recommended),
    };
    let moved = sqlx::query(
        "update wf_applications
            set status = $5, step = $6, recommended = $7, version = version + 1, updated_at = now(),
                notice_ends_at = case when $5 = 'in_notice'
                                      then now() + make_interval(days => $8) end
          where tenant_id = $1 and id = $2 and step = $3 and version = $4 and status = 'in_review'",
    )
    .bind(tx.tenant().as_uuid())
    .bind(app_id)
    .bind(app.step)
    .bind(seen_version)
    .bind(status.key())
    .bind(next_step)
    .bind(recommended)
    .bind(notice_days)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if moved == 0 {
        return already_moved(tx, app_id, idempotency_key).await;
    }
    if decision == Decision::Approve
        && step.counts_quota
        && let Some(quota) = app.quota
    {
        check_quota(tx, &app, quota).await?;
    }
    append_action(tx, app_id, app.step, Some(actor), decision.key(), &comment, idempotency_key)
        .await?;
    let message = match status {
        Status::InReview => format!("“{}”第 {} 步审核通过，进入下一步。", app.title, app.step),
        Status::InNotice => format!("“{}”审核通过，进入公示期。", app.title),
        Status::Approved => format!("“{}”审核通过。", app.title),
        Status::Rejected => format!("“{}”未通过审核：{comment}", app.title),
        Status::Returned => format!("“{}”被退回修改：{comment}", app.title),
    };
    notify(tx, app.applicant_id, app_id, &message).await?;
    Ok(Outcome::Moved(status, next_step))
}

/// The applicant sends a returned application back to the step that returned it.
pub async fn resubmit(
    tx: &mut TenantTx,
    applicant: &Actor,
    app_id: Uuid,
    comment: &str,
) -> Result<(), WfError> {
    let app = get(tx, app_id).await?.ok_or(WfError::NotFound)?;
    if app.applicant_id != applicant.id {
        return Err(WfError::NotFound);
    }
    let comment = crate::clean_comment(comment).ok_or(WfError::CommentRequired)?;
    let moved = sqlx::query(
        "update wf_applications set status = 'in_review', version = version + 1, updated_at = now()
          where tenant_id = $1 and id = $2 and status = 'returned' and version = $3",
    )
    .bind(tx.tenant().as_uuid())
    .bind(app_id)
    .bind(app.version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if moved == 0 {
        return Err(WfError::WrongState);
    }
    append_action(tx, app_id, app.step, Some(applicant), "resubmit", &comment, None).await?;
    notify(tx, applicant.id, app_id, &format!("已重新提交：{}", app.title)).await?;
    Ok(())
}
