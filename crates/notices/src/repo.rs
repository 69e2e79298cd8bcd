//! Notice storage: drafts and their revisions, the audience, and publishing. Publishing writes
//! every receipt with one set-based `INSERT ... SELECT`, so a whole school costs one statement.
//! Every query names the transaction's school; RLS checks it again underneath.

use uuid::Uuid;
use xg_authz::scope;
use xg_kernel::TenantTx;

use crate::model::NoticeInput;

/// A notice as the pages show it; times are already formatted in Asia/Shanghai.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct Notice {
    pub id: Uuid,
    pub title: String,
    pub body_html: String,
    pub category: String,
    pub deadline: Option<String>,
    pub deadline_input: Option<String>,
    pub publish_at_input: Option<String>,
    pub needs_confirmation: bool,
    pub allow_reply: bool,
    pub status: String,
    pub published_at: Option<String>,
    pub sender_id: Uuid,
    pub sender_name: String,
    pub revision: i32,
}

pub const NOTICE_COLUMNS: &str = "n.id, n.title, n.body_html, n.category,
    to_char(n.deadline at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') as deadline,
    to_char(n.deadline at time zone 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI') as deadline_input,
    to_char(n.publish_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI')
        as publish_at_input,
    n.needs_confirmation, n.allow_reply, n.status,
    to_char(n.published_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') as published_at,
    n.sender_id, n.sender_name, n.revision";

/// Who is looking at a notice from the staff side: its sender sees every receipt, anyone else
/// only the receipts of students in their own units.
pub struct Viewer {
    pub account: Uuid,
    pub units: Vec<Uuid>,
}

impl Viewer {
    pub async fn load(tx: &mut TenantTx, account: Uuid) -> Result<Self, sqlx::Error> {
        let units = scope::units_in_scope(tx, account).await?.into_iter().map(|u| u.id).collect();
        Ok(Self { account, units })
    }
}

/// The notice if `viewer` sent it or it reached a student in their units; otherwise `None`
/// (the caller answers 404, whether the notice exists or not).
pub async fn find_for_staff(
    tx: &mut TenantTx,
    id: Uuid,
    viewer: &Viewer,
) -> Result<Option<Notice>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {NOTICE_COLUMNS} from notices n
          where n.tenant_id = $1 and n.id = $2
            and (n.sender_id = $3 or exists (
                 select 1 from notice_recipients r
                  where r.tenant_id = $1 and r.notice_id = n.id and r.org_unit_id = any($4)))"
    ))
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(viewer.account)
    .bind(&viewer.units)
    .fetch_optional(tx.conn())
    .await
}

/// The audience units of a notice as (id, name).
pub async fn audience(tx: &mut TenantTx, id: Uuid) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "select u.id, u.name from notice_units nu
           join org_units u on u.tenant_id = nu.tenant_id and u.id = nu.org_unit_id
          where nu.tenant_id = $1 and nu.notice_id = $2 order by u.depth, u.code",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .fetch_all(tx.conn())
    .await
}

async fn set_audience(tx: &mut TenantTx, id: Uuid, units: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query("delete from notice_units where tenant_id = $1 and notice_id = $2")
        .bind(tx.tenant().as_uuid())
        .bind(id)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "insert into notice_units (tenant_id, notice_id, org_unit_id)
         select $1, $2, unnest($3::uuid[]) on conflict do nothing",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(units)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn create_draft(
    tx: &mut TenantTx,
    input: &NoticeInput,
    sender: Uuid,
    sender_name: &str,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into notices (tenant_id, id, title, body_html, category, deadline, publish_at,
                              needs_confirmation, allow_reply, sender_id, sender_name)
         values ($1, $2, $3, $4, $5, $6 at time zone 'Asia/Shanghai',
                 $7 at time zone 'Asia/Shanghai', $8, $9, $10, $11)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(&input.title)
    .bind(&input.body_html)
    .bind(&input.category)
    .bind(input.deadline)
    .bind(input.publish_at)
    .bind(input.needs_confirmation)
    .bind(input.allow_reply)
    .bind(sender)
    .bind(sender_name)
    .execute(tx.conn())
    .await?;
    set_audience(tx, id, &input.units).await?;
    Ok(id)
}

/// Saves an edit, keeping what it replaced as a revision. The audience changes only before
/// publishing: once receipts exist, the recipients are fixed.
pub async fn update(
    tx: &mut TenantTx,
    notice: &Notice,
    input: &NoticeInput,
    editor: Uuid,
    editor_name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into notice_revisions (tenant_id, notice_id, revision, title, body_html, category,
                                       deadline, editor_id, editor_name)
         select tenant_id, id, revision, title, body_html, category, deadline, $3, $4
           from notices where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(notice.id)
    .bind(editor)
    .bind(editor_name)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "update notices set title = $3, body_html = $4, category = $5,
                deadline = $6 at time zone 'Asia/Shanghai',
                publish_at = case when status = 'published' then publish_at
                                  else $7 at time zone 'Asia/Shanghai' end,
                needs_confirmation = $8, allow_reply = $9,
                status = case when status = 'scheduled' and $7::timestamp is null then 'draft'
                              else status end,
                revision = revision + 1, updated_at = now()
          where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(notice.id)
    .bind(&input.title)
    .bind(&input.body_html)
    .bind(&input.category)
    .bind(input.deadline)
    .bind(input.publish_at)
    .bind(input.needs_confirmation)
    .bind(input.allow_reply)
    .execute(tx.conn())
    .await?;
    if notice.status == "draft" || notice.status == "scheduled" {
        set_audience(tx, notice.id, &input.units).await?;
    }
    Ok(())
}

/// Why a notice could not be published.
#[derive(Debug, PartialEq, Eq)]
pub enum PublishRefusal {
    NotDraft,
    NoAudience,
    OutsideScope,
}

impl PublishRefusal {
    pub fn key(&self) -> &'static str {
        match self {
            Self::NotDraft => "notices.not_draft",
            Self::NoAudience => "notices.no_audience",
            Self::OutsideScope => "notices.outside_scope",
        }
    }
}

/// What publishing did.
#[derive(Debug, PartialEq, Eq)]
pub enum Published {
    Now { recipients: u64 },
    Scheduled,
}

/// Publishes a draft (or a scheduled notice that is due) now, or schedules it when its
/// publish time lies ahead. The audience must lie inside the sender's current scope.
pub async fn publish(
    tx: &mut TenantTx,
    id: Uuid,
    allow_schedule: bool,
) -> Result<Result<Published, PublishRefusal>, sqlx::Error> {
    let row: Option<(String, Uuid, bool)> = sqlx::query_as(
        "select status, sender_id, coalesce(publish_at > now(), false) from notices
          where tenant_id = $1 and id = $2 for update",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let Some((status, sender, in_future)) = row else { return Ok(Err(PublishRefusal::NotDraft)) };
    if status != "draft" && status != "scheduled" {
        return Ok(Err(PublishRefusal::NotDraft));
    }
    let units: Vec<Uuid> = audience(tx, id).await?.into_iter().map(|u| u.0).collect();
    if units.is_empty() {
        return Ok(Err(PublishRefusal::NoAudience));
    }
    let scope = Viewer::load(tx, sender).await?.units;
    if units.iter().any(|u| !scope.contains(u)) {
        return Ok(Err(PublishRefusal::OutsideScope));
    }
    if allow_schedule && in_future {
        set_status(tx, id, "scheduled").await?;
        return Ok(Ok(Published::Scheduled));
    }
    let recipients = sqlx::query(
        "with recursive audience(id) as (
             select org_unit_id from notice_units where tenant_id = $1 and notice_id = $2
             union
             select u.id from org_units u join audience a on u.parent_id = a.id
              where u.tenant_id = $1
         )
         insert into notice_recipients (tenant_id, notice_id, student_id, org_unit_id)
         select $1, $2, st.id, st.org_unit_id from students st
          where st.tenant_id = $1 and st.org_unit_id in (select id from audience)
         on conflict do nothing",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    sqlx::query(
        "update notices set status = 'published', published_at = now(), updated_at = now()
          where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(Ok(Published::Now { recipients }))
}

async fn set_status(tx: &mut TenantTx, id: Uuid, status: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update notices set status = $3, updated_at = now() where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(status)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Publishes this school's scheduled notices whose time has come. Called when notice pages
/// load (there is no background scheduler): a notice goes out at the first visit after its
/// time. A notice whose sender's scope no longer covers its audience goes back to draft.
pub async fn publish_due(tx: &mut TenantTx) -> Result<u64, sqlx::Error> {
    let due: Vec<Uuid> = sqlx::query_scalar(
        "select id from notices where tenant_id = $1 and status = 'scheduled'
            and publish_at <= now() order by publish_at for update skip locked",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    let mut published = 0;
    for id in due {
        match publish(tx, id, false).await? {
            Ok(_) => published += 1,
            Err(_) => set_status(tx, id, "draft").await?,
        }
    }
    Ok(published)
}

/// Withdraws a published or scheduled notice; receipts stay for the record.
pub async fn withdraw(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update notices set status = 'withdrawn', withdrawn_at = now(), updated_at = now()
          where tenant_id = $1 and id = $2 and status in ('published', 'scheduled')",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Re-marks the notice for every recipient who has not read it (or not confirmed it, when
/// confirmation is asked for), records the reminder, and returns how many it reached.
pub async fn remind(
    tx: &mut TenantTx,
    id: Uuid,
    sender: Uuid,
    sender_name: &str,
) -> Result<i64, sqlx::Error> {
    let targets = sqlx::query(
        "update notice_recipients r set attention = true, reminded_at = now()
           from notices n
          where r.tenant_id = $1 and r.notice_id = $2
            and n.tenant_id = r.tenant_id and n.id = r.notice_id and n.status = 'published'
            and (r.read_at is null or (n.needs_confirmation and r.confirmed_at is null))",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected() as i64;
    sqlx::query(
        "insert into notice_reminders (tenant_id, notice_id, seq, sender_id, sender_name, targets)
         select $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5
           from notice_reminders where tenant_id = $1 and notice_id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(sender)
    .bind(sender_name)
    .bind(targets as i32)
    .execute(tx.conn())
    .await?;
    Ok(targets)
}

/// Revisions as (number, title, editor, when).
pub async fn revisions(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Vec<(i32, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select revision, title, editor_name,
                to_char(at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
           from notice_revisions where tenant_id = $1 and notice_id = $2 order by revision desc",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .fetch_all(tx.conn())
    .await
}

/// Reminders as (when, who, how many).
pub async fn reminders(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Vec<(String, String, i32)>, sqlx::Error> {
    sqlx::query_as(
        "select to_char(at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), sender_name, targets
           from notice_reminders where tenant_id = $1 and notice_id = $2 order by seq desc",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .fetch_all(tx.conn())
    .await
}

/// Attachments of a notice as (id, file name, size in bytes).
pub async fn attachments(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Vec<(Uuid, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select a.id, a.file_name, a.size_bytes from notice_attachments na
           join attachments a on a.tenant_id = na.tenant_id and a.id = na.attachment_id
          where na.tenant_id = $1 and na.notice_id = $2 order by na.added_at, a.file_name",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .fetch_all(tx.conn())
    .await
}
