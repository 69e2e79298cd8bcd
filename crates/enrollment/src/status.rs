//! Status changes (学籍异动) as a state machine. A student is enrolled, suspended (休学),
//! transferred out, withdrawn (退学) or graduated; resuming (复学) returns a suspended student to
//! enrolled. Every change names a reason, an effective date and optionally a document number and
//! approver, and is appended to the student's history, which nobody can edit.

use serde::Serialize;
use time::Date;
use uuid::Uuid;
use xg_audit::{Actor, Change};
use xg_kernel::i18n::Catalog;
use xg_kernel::text::has_control_characters;
use xg_kernel::{AppError, AppResult, TenantTx};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Enrolled,
    Suspended,
    TransferredOut,
    Withdrawn,
    Graduated,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Self::Enrolled => "enrolled",
            Self::Suspended => "suspended",
            Self::TransferredOut => "transferred_out",
            Self::Withdrawn => "withdrawn",
            Self::Graduated => "graduated",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    pub const ALL: [Status; 5] =
        [Self::Enrolled, Self::Suspended, Self::TransferredOut, Self::Withdrawn, Self::Graduated];

    /// The Chinese name from the catalog.
    pub fn label(self) -> String {
        Catalog::zh().t(&format!("students.status.{}", self.key())).to_owned()
    }
}

/// The changes a registrar records by hand; transfers go through `transfer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Suspend,
    Resume,
    Withdraw,
    Graduate,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::Withdraw => "withdraw",
            Self::Graduate => "graduate",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        [Self::Suspend, Self::Resume, Self::Withdraw, Self::Graduate]
            .into_iter()
            .find(|k| k.key() == key)
    }

    /// Where this change leads from `from`, or `None` if it is not allowed from there.
    pub fn next(self, from: Status) -> Option<Status> {
        use Status::*;
        match (self, from) {
            (Self::Suspend, Enrolled) => Some(Suspended),
            (Self::Resume, Suspended) => Some(Enrolled),
            (Self::Withdraw, Enrolled | Suspended) => Some(Withdrawn),
            (Self::Graduate, Enrolled) => Some(Graduated),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Request {
    pub kind: Kind,
    pub reason: String,
    pub effective_date: Date,
    pub document_no: Option<String>,
    pub approved_by: Option<String>,
    pub attachment_id: Option<Uuid>,
}

/// A reason must be given, at most 500 characters, without control characters.
pub fn check_reason(reason: &str) -> AppResult<()> {
    let m = Catalog::zh();
    let reason = reason.trim();
    if reason.is_empty() || has_control_characters(reason, true) || reason.chars().count() > 500 {
        return Err(AppError::invalid_field(
            "status_reason",
            "reason",
            m.t("students.reason_required"),
        ));
    }
    Ok(())
}

/// Document numbers and approvers are short; longer text is refused, not cut.
pub fn check_short(req: &Request) -> AppResult<()> {
    let too_long =
        |v: &Option<String>| v.as_deref().is_some_and(|v| v.trim().chars().count() > 100);
    if too_long(&req.document_no) || too_long(&req.approved_by) {
        return Err(AppError::invalid(
            "status_field_too_long",
            Catalog::zh().t("students.field_too_long"),
        ));
    }
    Ok(())
}

/// Locks the student's row and checks that `kind` is allowed from the current status; the
/// caller can then keep a document only for a change that will go through.
pub async fn lock_and_check(
    tx: &mut TenantTx,
    student: Uuid,
    kind: Kind,
) -> AppResult<(Status, Status)> {
    let m = Catalog::zh();
    let current: Option<String> = sqlx::query_scalar(
        "select status from students where tenant_id = $1 and id = $2 for update",
    )
    .bind(tx.tenant().as_uuid())
    .bind(student)
    .fetch_optional(tx.conn())
    .await?;
    let from = current.as_deref().and_then(Status::parse).ok_or(AppError::NotFound)?;
    let to = kind.next(from).ok_or_else(|| AppError::Conflict {
        code: "status_transition",
        message: m.fmt(
            "students.transition_refused",
            &[("from", &from.label()), ("change", m.t(&format!("students.kind.{}", kind.key())))],
        ),
    })?;
    Ok((from, to))
}

/// Applies a change under a row lock, so two registrars cannot both move the same student.
pub async fn apply(
    tx: &mut TenantTx,
    student: Uuid,
    req: &Request,
    actor: &Actor,
) -> AppResult<Status> {
    check_reason(&req.reason)?;
    check_short(req)?;
    let (from, to) = lock_and_check(tx, student, req.kind).await?;
    sqlx::query(
        "update students set status = $3, updated_at = now() where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(student)
    .bind(to.key())
    .execute(tx.conn())
    .await?;
    record(tx, student, req.kind.key(), Some(from), to, req, actor).await?;
    xg_audit::record(
        tx,
        actor,
        Change::new("students.status", student.to_string())
            .before(from.key())
            .after(serde_json::json!({ "status": to.key(), "kind": req.kind.key() })),
    )
    .await?;
    Ok(to)
}

/// Appends one history entry.
pub async fn record(
    tx: &mut TenantTx,
    student: Uuid,
    kind: &str,
    from: Option<Status>,
    to: Status,
    req: &Request,
    actor: &Actor,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into student_status_changes (tenant_id, id, student_id, kind, from_status, to_status,
             reason, effective_date, document_no, approved_by, attachment_id, recorded_by,
             recorded_by_name)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(Uuid::new_v4())
    .bind(student)
    .bind(kind)
    .bind(from.map(Status::key))
    .bind(to.key())
    .bind(req.reason.trim())
    .bind(req.effective_date)
    .bind(req.document_no.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    .bind(req.approved_by.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    .bind(req.attachment_id)
    .bind(actor.id)
    .bind(&actor.name)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Clone, Debug, Serialize)]
pub struct HistoryEntry {
    pub kind: String,
    pub kind_label: String,
    pub from_label: String,
    pub to_label: String,
    pub reason: String,
    pub effective_date: String,
    pub document_no: String,
    pub approved_by: String,
    pub recorded_by: String,
    pub recorded_at: String,
    /// The attached document (id, file name), if any.
    pub attachment: Option<(Uuid, String)>,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    kind: String,
    from_status: Option<String>,
    to_status: String,
    reason: String,
    effective_date: Date,
    document_no: Option<String>,
    approved_by: Option<String>,
    recorded_by_name: String,
    recorded_at: String,
    attachment_id: Option<Uuid>,
    file_name: Option<String>,
}

pub async fn history(tx: &mut TenantTx, student: Uuid) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let m = Catalog::zh();
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "select h.kind, h.from_status, h.to_status, h.reason, h.effective_date, h.document_no,
                h.approved_by, h.recorded_by_name,
                to_char(h.created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
                    as recorded_at,
                h.attachment_id, a.file_name
           from student_status_changes h
           left join attachments a on a.tenant_id = h.tenant_id and a.id = h.attachment_id
          where h.tenant_id = $1 and h.student_id = $2
          order by h.created_at, h.id",
    )
    .bind(tx.tenant().as_uuid())
    .bind(student)
    .fetch_all(tx.conn())
    .await?;
    let label = |s: &str| Status::parse(s).map(Status::label).unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|r| HistoryEntry {
            kind_label: m.t(&format!("students.kind.{}", r.kind)).to_owned(),
            kind: r.kind,
            from_label: r.from_status.as_deref().map(label).unwrap_or_default(),
            to_label: label(&r.to_status),
            reason: r.reason,
            effective_date: r.effective_date.to_string(),
            document_no: r.document_no.unwrap_or_default(),
            approved_by: r.approved_by.unwrap_or_default(),
            recorded_by: r.recorded_by_name,
            recorded_at: r.recorded_at,
            attachment: r.attachment_id.zip(r.file_name),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_transitions_are_allowed() {
        use Status::*;
        let allowed: Vec<(Kind, Status, Status)> =
            [Kind::Suspend, Kind::Resume, Kind::Withdraw, Kind::Graduate]
                .into_iter()
                .flat_map(|k| {
                    Status::ALL.into_iter().filter_map(move |s| k.next(s).map(|t| (k, s, t)))
                })
                .collect();
        assert_eq!(
            allowed,
            [
                (Kind::Suspend, Enrolled, Suspended),
                (Kind::Resume, Suspended, Enrolled),
                (Kind::Withdraw, Enrolled, Withdrawn),
                (Kind::Withdraw, Suspended, Withdrawn),
                (Kind::Graduate, Enrolled, Graduated),
            ]
        );
    }
}
