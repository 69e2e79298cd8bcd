//! The public-notice (公示) window: real-name objections while it is open, their resolution on
//! record, and locking the result once it has closed with no objection left open.

use uuid::Uuid;
use xg_kernel::TenantTx;

use crate::actions::{append_action, notify};
use crate::{Actor, WfError};

/// Locks every result whose window has closed and has no open objection. Called by pages and
/// actions before they read or act, so no background job is needed. Returns how many locked.
pub async fn lock_closed(tx: &mut TenantTx) -> Result<u64, WfError> {
    let locked: Vec<(Uuid, i16, Uuid, String)> = sqlx::query_as(
        "update wf_applications a
            set status = 'approved', version = version + 1, updated_at = now()
          where a.tenant_id = $1 and a.status = 'in_notice' and a.notice_ends_at <= now()
            and not exists (select 1 from wf_objections o
                             where o.tenant_id = a.tenant_id and o.application_id = a.id
                               and o.outcome is null)
         returning a.id, a.step, a.applicant_id, a.title",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    for (id, step, applicant, title) in &locked {
        append_action(tx, *id, *step, None, "lock", "公示期满，结果锁定", None).await?;
        notify(tx, *applicant, *id, &format!("“{title}”公示期满，结果已确定。")).await?;
    }
    Ok(locked.len() as u64)
}

/// Files a real-name objection while the window is open. Any account of the school may.
pub async fn object(
    tx: &mut TenantTx,
    filer: &Actor,
    app_id: Uuid,
    reason: &str,
) -> Result<Uuid, WfError> {
    let reason = crate::clean_comment(reason).ok_or(WfError::CommentRequired)?;
    // Lock the application so the history's sequence numbers cannot collide.
    let row: Option<(String, bool, i16, Uuid, String)> = sqlx::query_as(
        "select status, coalesce(notice_ends_at > now(), false), step, applicant_id, title
           from wf_applications where tenant_id = $1 and id = $2 for update",
    )
    .bind(tx.tenant().as_uuid())
    .bind(app_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some((status, open, step, applicant, title)) = row else {
        return Err(WfError::NotFound);
    };
    if status != "in_notice" {
        return Err(WfError::WrongState);
    }
    if !open {
        return Err(WfError::WindowClosed);
    }
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into wf_objections (tenant_id, id, application_id, filer_id, filer_name, reason)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(app_id)
    .bind(filer.id)
    .bind(&filer.name)
    .bind(&reason)
    .execute(tx.conn())
    .await?;
    append_action(tx, app_id, step, Some(filer), "object", &reason, None).await?;
    notify(tx, applicant, app_id, &format!("“{title}”在公示期收到异议，正在核查。")).await?;
    Ok(id)
}

/// Resolves an open objection: upheld rejects the application, dismissed lets it stand (and it
/// locks once the window has closed and nothing else is open).
pub async fn resolve(
    tx: &mut TenantTx,
    actor: &Actor,
    objection: Uuid,
    upheld: bool,
    resolution: &str,
) -> Result<Uuid, WfError> {
    let resolution = crate::clean_comment(resolution).ok_or(WfError::CommentRequired)?;
    let app: Option<Uuid> = sqlx::query_scalar(
        "update wf_objections
            set outcome = $3, resolution = $4, resolved_by = $5, resolved_at = now()
          where tenant_id = $1 and id = $2 and outcome is null
         returning application_id",
    )
    .bind(tx.tenant().as_uuid())
    .bind(objection)
    .bind(if upheld { "upheld" } else { "dismissed" })
    .bind(&resolution)
    .bind(actor.id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(app_id) = app else { return Err(WfError::WrongState) };
    let (step, applicant, title): (i16, Uuid, String) = sqlx::query_as(
        "select step, applicant_id, title from wf_applications
          where tenant_id = $1 and id = $2 for update",
    )
    .bind(tx.tenant().as_uuid())
    .bind(app_id)
    .fetch_one(tx.conn())
    .await?;
    if upheld {
        sqlx::query(
            "update wf_applications
                set status = 'rejected', recommended = false, version = version + 1,
                    updated_at = now()
              where tenant_id = $1 and id = $2 and status = 'in_notice'",
        )
        .bind(tx.tenant().as_uuid())
        .bind(app_id)
        .execute(tx.conn())
        .await?;
    }
    let action = if upheld { "uphold" } else { "dismiss" };
    append_action(tx, app_id, step, Some(actor), action, &resolution, None).await?;
    let message = if upheld {
        format!("“{title}”公示异议经核实成立，结果撤销：{resolution}")
    } else {
        format!("“{title}”公示异议经核查不成立：{resolution}")
    };
    notify(tx, applicant, app_id, &message).await?;
    Ok(app_id)
}
