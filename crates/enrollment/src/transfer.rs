//! Transfers between two schools of one district (转学). The receiving school requests, the
//! sending school approves (it finds the student by ID number in its own register), the
//! district approves last, and in that same transaction the record leaves one school and
//! arrives at the other with its history, or nothing happens. Each school keeps its own row of
//! the case, so neither ever reads the other's tables; the service writes both rows at each step
//! by moving one transaction from one school to the other (`TenantTx::cross_to`).

use serde::Serialize;
use uuid::Uuid;
use xg_audit::{Actor, Change};
use xg_kernel::i18n::Catalog;
use xg_kernel::idnumber::IdNumber;
use xg_kernel::keyring::Keyring;
use xg_kernel::{AppError, AppResult, Db, DistrictId, TenantId, TenantTx};

use crate::status::{Kind, Request as ChangeRequest, Status, record as record_change};
use crate::store::{self, ADDRESS, GUARDIAN_PHONE, ID_NUMBER, PHONE};

pub struct NewRequest {
    pub from_school: Uuid,
    pub student_name: String,
    pub student_no: String,
    pub id_number: String,
    pub target_unit: Uuid,
    pub reason: String,
}

fn invalid(code: &'static str, key: &str) -> AppError {
    AppError::invalid(code, Catalog::zh().t(key))
}

async fn district_of(tx: &mut TenantTx, school: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("select district_id from schools where id = $1")
        .bind(school)
        .fetch_optional(tx.conn())
        .await
}

/// The receiving school files a request; the sending school sees it at once.
pub async fn request(
    db: &Db,
    keyring: &Keyring,
    to: TenantId,
    req: &NewRequest,
    actor: &Actor,
) -> AppResult<Uuid> {
    let id_number = IdNumber::parse(&req.id_number)
        .map_err(|p| AppError::invalid_field("transfer_id_number", "id_number", p.message_zh()))?;
    let (name, number, reason) =
        (req.student_name.trim(), req.student_no.trim(), req.reason.trim());
    if name.is_empty() || number.is_empty() || reason.is_empty() {
        return Err(invalid("transfer_incomplete", "transfers.incomplete"));
    }
    let mut tx = db.tenant(to).await?;
    let here = district_of(&mut tx, to.as_uuid()).await?;
    let there = district_of(&mut tx, req.from_school).await?;
    if req.from_school == to.as_uuid() || there.is_none() || here != there {
        return Err(invalid("transfer_school", "transfers.other_district"));
    }
    let unit_ok: bool = sqlx::query_scalar(
        "select exists (select 1 from org_units where tenant_id = $1 and id = $2)",
    )
    .bind(to.as_uuid())
    .bind(req.target_unit)
    .fetch_one(tx.conn())
    .await?;
    if !unit_ok {
        return Err(invalid("transfer_unit", "transfers.unit"));
    }
    let case = Uuid::new_v4();
    let key = keyring.for_school(&mut tx).await?;
    insert_side(
        &mut tx,
        case,
        "incoming",
        req.from_school,
        name,
        number,
        &id_number,
        key.seal(ID_NUMBER, id_number.as_str()).map_err(anyhow::Error::from)?,
        None,
        Some(req.target_unit),
        reason,
        &actor.name,
    )
    .await?;
    xg_audit::record(&mut tx, actor, Change::new("students.transfer.request", case.to_string()))
        .await?;
    let mut tx = tx.cross_to(TenantId::from_uuid(req.from_school)).await?;
    let key = keyring.for_school(&mut tx).await?;
    let student: Option<Uuid> =
        sqlx::query_scalar("select id from students where tenant_id = $1 and id_number_hash = $2")
            .bind(req.from_school)
            .bind(store::id_hash(&key, &id_number))
            .fetch_optional(tx.conn())
            .await?;
    insert_side(
        &mut tx,
        case,
        "outgoing",
        to.as_uuid(),
        name,
        number,
        &id_number,
        key.seal(ID_NUMBER, id_number.as_str()).map_err(anyhow::Error::from)?,
        student,
        None,
        reason,
        &actor.name,
    )
    .await?;
    tx.commit().await?;
    Ok(case)
}

#[allow(clippy::too_many_arguments)]
async fn insert_side(
    tx: &mut TenantTx,
    case: Uuid,
    direction: &str,
    counterpart: Uuid,
    name: &str,
    number: &str,
    id: &IdNumber,
    sealed: Vec<u8>,
    student: Option<Uuid>,
    target_unit: Option<Uuid>,
    reason: &str,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into student_transfers (tenant_id, id, direction, counterpart_school_id,
             student_name, student_no, id_number_masked, id_number_sealed, student_id,
             target_unit_id, reason, status, requested_by_name)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'requested', $12)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(case)
    .bind(direction)
    .bind(counterpart)
    .bind(name)
    .bind(number)
    .bind(id.masked())
    .bind(sealed)
    .bind(student)
    .bind(target_unit)
    .bind(reason)
    .bind(by)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Locks this school's side of a case in the expected state; returns the counterpart school
/// and this side's student.
async fn lock_side(
    tx: &mut TenantTx,
    case: Uuid,
    direction: &str,
    status: &str,
) -> AppResult<(Uuid, Option<Uuid>)> {
    let row: Option<(Uuid, Option<Uuid>, String)> = sqlx::query_as(
        "select counterpart_school_id, student_id, status from student_transfers
          where tenant_id = $1 and id = $2 and direction = $3 for update",
    )
    .bind(tx.tenant().as_uuid())
    .bind(case)
    .bind(direction)
    .fetch_optional(tx.conn())
    .await?;
    let (counterpart, student, current) = row.ok_or(AppError::NotFound)?;
    if current != status {
        return Err(AppError::Conflict {
            code: "transfer_state",
            message: Catalog::zh().t("transfers.already_decided").to_owned(),
        });
    }
    Ok((counterpart, student))
}

async fn set_status(
    tx: &mut TenantTx,
    case: Uuid,
    status: &str,
    decision: (&str, &str, &str),
) -> Result<(), sqlx::Error> {
    let (column, by, comment) = decision;
    // `column` is one of two fixed names chosen in this module, never user input.
    let sql = format!(
        "update student_transfers set status = $3, {column}_by = $4,
                {comment_column} = $5, updated_at = now()
          where tenant_id = $1 and id = $2",
        comment_column = column.replace("_decision", "_comment")
    );
    sqlx::query(&sql)
        .bind(tx.tenant().as_uuid())
        .bind(case)
        .bind(status)
        .bind(by)
        .bind(comment)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The sending school's decision. Approving needs the student in its register, enrolled.
pub async fn sender_decide(
    db: &Db,
    from: TenantId,
    case: Uuid,
    approve: bool,
    comment: &str,
    actor: &Actor,
) -> AppResult<()> {
    let mut tx = db.tenant(from).await?;
    let (to, student) = lock_side(&mut tx, case, "outgoing", "requested").await?;
    if approve {
        let Some(student) = student else {
            return Err(invalid("transfer_no_student", "transfers.no_student"));
        };
        let status: String =
            sqlx::query_scalar("select status from students where tenant_id = $1 and id = $2")
                .bind(from.as_uuid())
                .bind(student)
                .fetch_one(tx.conn())
                .await?;
        if status != Status::Enrolled.key() {
            return Err(invalid("transfer_not_enrolled", "transfers.not_enrolled"));
        }
    }
    let status = if approve { "sender_approved" } else { "rejected" };
    let decision = ("sender_decision", actor.name.as_str(), comment.trim());
    set_status(&mut tx, case, status, decision).await?;
    xg_audit::record(
        &mut tx,
        actor,
        Change::new("students.transfer.sender", case.to_string()).after(status),
    )
    .await?;
    let mut tx = tx.cross_to(TenantId::from_uuid(to)).await?;
    lock_side(&mut tx, case, "incoming", "requested").await?;
    set_status(&mut tx, case, status, decision).await?;
    tx.commit().await?;
    Ok(())
}

/// The district's decision; approval moves the record in the same transaction.
pub async fn district_decide(
    db: &Db,
    keyring: &Keyring,
    district: DistrictId,
    case: Uuid,
    approve: bool,
    comment: &str,
    actor: &Actor,
) -> AppResult<()> {
    let m = Catalog::zh();
    // Find the sending school through the district's read access.
    let mut dtx = db.district(district).await?;
    let from: Option<Uuid> = sqlx::query_scalar(
        "select t.tenant_id from student_transfers t join schools s on s.id = t.tenant_id
          where t.id = $1 and t.direction = 'outgoing' and s.district_id = $2",
    )
    .bind(case)
    .bind(district.as_uuid())
    .fetch_optional(dtx.conn())
    .await?;
    dtx.commit().await?;
    let from = TenantId::from_uuid(from.ok_or(AppError::NotFound)?);
    let mut tx = db.tenant(from).await?;
    let (to, student) = lock_side(&mut tx, case, "outgoing", "sender_approved").await?;
    let decision = ("district_decision", actor.name.as_str(), comment.trim());
    if !approve {
        set_status(&mut tx, case, "rejected", decision).await?;
        let mut tx = tx.cross_to(TenantId::from_uuid(to)).await?;
        lock_side(&mut tx, case, "incoming", "sender_approved").await?;
        set_status(&mut tx, case, "rejected", decision).await?;
        tx.commit().await?;
        return Ok(());
    }
    let student = student.ok_or_else(|| invalid("transfer_no_student", "transfers.no_student"))?;
    let today = time::OffsetDateTime::now_utc().date();
    let change = |kind: Kind| ChangeRequest {
        kind,
        reason: m.t("transfers.history_reason").to_owned(),
        effective_date: today,
        document_no: None,
        approved_by: Some(actor.name.clone()),
        attachment_id: None,
    };
    // Leave the sending school: the record stays there, marked transferred out.
    let moved = sqlx::query(
        "update students set status = 'transferred_out', updated_at = now()
                               where tenant_id = $1 and id = $2 and status = 'enrolled'",
    )
    .bind(from.as_uuid())
    .bind(student)
    .execute(tx.conn())
    .await?;
    if moved.rows_affected() != 1 {
        return Err(invalid("transfer_not_enrolled", "transfers.not_enrolled"));
    }
    record_change(
        &mut tx,
        student,
        "transfer_out",
        Some(Status::Enrolled),
        Status::TransferredOut,
        &change(Kind::Withdraw),
        actor,
    )
    .await?;
    set_status(&mut tx, case, "completed", decision).await?;
    let key_from = keyring.for_school(&mut tx).await?;
    let record = read_record(&mut tx, &key_from, student).await?;
    let history: Vec<HistoryCopy> = sqlx::query_as(
        "select kind, from_status, to_status, reason, effective_date, document_no, approved_by, recorded_by_name
           from student_status_changes where tenant_id = $1 and student_id = $2 order by created_at, id",
    )
    .bind(from.as_uuid())
    .bind(student)
    .fetch_all(tx.conn())
    .await?;
    xg_audit::record(&mut tx, actor, Change::new("students.transfer.out", case.to_string()))
        .await?;

    // Arrive at the receiving school with the history.
    let to = TenantId::from_uuid(to);
    let mut tx = tx.cross_to(to).await?;
    let target: Option<Uuid> = sqlx::query_scalar(
        "select target_unit_id from student_transfers where tenant_id = $1 and id = $2 and direction = 'incoming' for update",
    )
    .bind(to.as_uuid())
    .bind(case)
    .fetch_optional(tx.conn())
    .await?
    .flatten();
    let key_to = keyring.for_school(&mut tx).await?;
    let arrival = Uuid::new_v4();
    write_arrival(&mut tx, &key_to, arrival, &record, target).await.map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => AppError::Conflict {
            code: "transfer_duplicate",
            message: m.t("transfers.duplicate").to_owned(),
        },
        other => other.into(),
    })?;
    for (kind, from_status, to_status, reason, date, doc, approved, by) in history {
        sqlx::query(
            "insert into student_status_changes (tenant_id, id, student_id, kind, from_status, to_status,
                 reason, effective_date, document_no, approved_by, recorded_by_name)
             values ($1, gen_random_uuid(), $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(to.as_uuid())
        .bind(arrival)
        .bind(kind)
        .bind(from_status)
        .bind(to_status)
        .bind(reason)
        .bind(date)
        .bind(doc)
        .bind(approved)
        .bind(by)
        .execute(tx.conn())
        .await?;
    }
    record_change(
        &mut tx,
        arrival,
        "transfer_in",
        None,
        Status::Enrolled,
        &change(Kind::Resume),
        actor,
    )
    .await?;
    sqlx::query("update student_transfers set status = 'completed', student_id = $3, district_decision_by = $4,
                        district_comment = $5, updated_at = now()
                  where tenant_id = $1 and id = $2")
        .bind(to.as_uuid())
        .bind(case)
        .bind(arrival)
        .bind(&actor.name)
        .bind(comment.trim())
        .execute(tx.conn())
        .await?;
    xg_audit::record(&mut tx, actor, Change::new("students.transfer.in", case.to_string())).await?;
    tx.commit().await?;
    Ok(())
}

type HistoryCopy =
    (String, Option<String>, String, String, time::Date, Option<String>, Option<String>, String);

/// A record in the clear, only ever held in memory between two schools' keys.
struct Moving {
    student_no: String,
    grade: Option<String>,
    college: Option<String>,
    major: Option<String>,
    major_code: Option<String>,
    name: String,
    gender: Option<String>,
    birth_date: Option<time::Date>,
    ethnicity: Option<String>,
    id_type: String,
    id_number: Option<String>,
    national_no: Option<String>,
    political_status: Option<String>,
    study_length: Option<String>,
    study_form: Option<String>,
    entry_date: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    guardian_name: Option<String>,
    guardian_phone: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    student_no: String,
    grade: Option<String>,
    college: Option<String>,
    major: Option<String>,
    major_code: Option<String>,
    name: String,
    gender: Option<String>,
    birth_date: Option<time::Date>,
    ethnicity: Option<String>,
    id_type: String,
    id_number_sealed: Option<Vec<u8>>,
    national_no: Option<String>,
    political_status: Option<String>,
    study_length: Option<String>,
    study_form: Option<String>,
    entry_date: Option<String>,
    phone_sealed: Option<Vec<u8>>,
    address_sealed: Option<Vec<u8>>,
    guardian_name: Option<String>,
    guardian_phone_sealed: Option<Vec<u8>>,
}

async fn read_record(
    tx: &mut TenantTx,
    key: &xg_kernel::crypto::DataKey,
    student: Uuid,
) -> AppResult<Moving> {
    let r: SealedRow = sqlx::query_as(
        "select student_no, grade, college, major, major_code, name, gender, birth_date, ethnicity, id_type, id_number_sealed, national_no,
                political_status, study_length, study_form, entry_date, phone_sealed, address_sealed,
                guardian_name, guardian_phone_sealed
           from students where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(student)
    .fetch_one(tx.conn())
    .await?;
    let open = |field: &str, v: Option<Vec<u8>>| {
        v.map(|v| key.open(field, &v)).transpose().map_err(anyhow::Error::from)
    };
    Ok(Moving {
        id_number: open(ID_NUMBER, r.id_number_sealed)?,
        phone: open(PHONE, r.phone_sealed)?,
        address: open(ADDRESS, r.address_sealed)?,
        guardian_phone: open(GUARDIAN_PHONE, r.guardian_phone_sealed)?,
        student_no: r.student_no,
        grade: r.grade,
        college: r.college,
        major: r.major,
        major_code: r.major_code,
        name: r.name,
        gender: r.gender,
        birth_date: r.birth_date,
        ethnicity: r.ethnicity,
        id_type: r.id_type,
        national_no: r.national_no,
        political_status: r.political_status,
        study_length: r.study_length,
        study_form: r.study_form,
        entry_date: r.entry_date,
        guardian_name: r.guardian_name,
    })
}

async fn write_arrival(
    tx: &mut TenantTx,
    key: &xg_kernel::crypto::DataKey,
    id: Uuid,
    r: &Moving,
    unit: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    let seal = |field: &str, v: &Option<String>| {
        v.as_ref().map(|v| key.seal(field, v).expect("sealing with a valid key"))
    };
    let hash = r.id_number.as_ref().map(|v| key.lookup_hash(ID_NUMBER, v));
    let masked = r.id_number.as_ref().and_then(|v| IdNumber::parse(v).ok()).map(|v| v.masked());
    sqlx::query(
        "insert into students (tenant_id, id, student_no, name, gender, birth_date, ethnicity, id_type,
             id_number_sealed, id_number_hash, id_number_masked, national_no, political_status,
             study_length, study_form, entry_date, phone_sealed, phone_masked, address_sealed,
             guardian_name, guardian_phone_sealed, guardian_phone_masked, org_unit_id, status,
             grade, college, major, major_code)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                 $20, $21, $22, $23, 'enrolled', $24, $25, $26, $27)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(&r.student_no)
    .bind(&r.name)
    .bind(&r.gender)
    .bind(r.birth_date)
    .bind(&r.ethnicity)
    .bind(&r.id_type)
    .bind(seal(ID_NUMBER, &r.id_number))
    .bind(hash)
    .bind(masked)
    .bind(&r.national_no)
    .bind(&r.political_status)
    .bind(&r.study_length)
    .bind(&r.study_form)
    .bind(&r.entry_date)
    .bind(seal(PHONE, &r.phone))
    .bind(r.phone.as_deref().map(xg_kernel::idnumber::mask_phone))
    .bind(seal(ADDRESS, &r.address))
    .bind(&r.guardian_name)
    .bind(seal(GUARDIAN_PHONE, &r.guardian_phone))
    .bind(r.guardian_phone.as_deref().map(xg_kernel::idnumber::mask_phone))
    .bind(unit)
    .bind(&r.grade)
    .bind(&r.college)
    .bind(&r.major)
    .bind(&r.major_code)
    .execute(tx.conn())
    .await?;
    // The labels statistics group by come from the new class's place in the tree.
    sqlx::query(
        "with recursive anc(id, parent_id, depth, name) as (
             select id, parent_id, depth, name from org_units where tenant_id = $1 and id = $3
             union all
             select u.id, u.parent_id, u.depth, u.name from org_units u
               join anc on u.id = anc.parent_id where u.tenant_id = $1
         ),
         lab as (
             select l.key, anc.name from anc
               join org_levels l on l.tenant_id = $1 and l.depth = anc.depth
         )
         update students set
             grade = coalesce((select name from lab where key = 'grade'), grade),
             college = coalesce((select name from lab where key in ('college', 'department')), college),
             major = coalesce((select name from lab where key = 'major'), major)
          where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(unit)
    .execute(tx.conn())
    .await
    .map(|_| ())
}

#[derive(Clone, Debug, Serialize)]
pub struct Case {
    pub id: Uuid,
    pub direction: String,
    pub counterpart: String,
    pub student_name: String,
    pub student_no: String,
    pub id_number_masked: String,
    pub reason: String,
    pub status: String,
    pub requested_by: String,
    pub matched: bool,
    pub created_at: String,
}

type CaseRow = (Uuid, String, String, String, String, String, String, String, String, bool, String);

const CASE_SQL: &str =
    "select t.id, t.direction, s.name, t.student_name, t.student_no, t.id_number_masked,
        t.reason, t.status, t.requested_by_name, t.student_id is not null,
        to_char(t.created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
   from student_transfers t join schools s on s.id = t.counterpart_school_id";

fn case(
    (
        id,
        direction,
        counterpart,
        student_name,
        student_no,
        id_number_masked,
        reason,
        status,
        requested_by,
        matched,
        created_at,
    ): CaseRow,
) -> Case {
    Case {
        id,
        direction,
        counterpart,
        student_name,
        student_no,
        id_number_masked,
        reason,
        status,
        requested_by,
        matched,
        created_at,
    }
}

/// This school's cases, newest first.
pub async fn list(tx: &mut TenantTx) -> Result<Vec<Case>, sqlx::Error> {
    let rows: Vec<CaseRow> = sqlx::query_as(&format!(
        "{CASE_SQL} where t.tenant_id = $1 order by t.created_at desc limit 200"
    ))
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(case).collect())
}

/// The district's cases waiting for its decision (one row per case: the outgoing side).
pub async fn awaiting_district(tx: &mut xg_kernel::DistrictTx) -> Result<Vec<Case>, sqlx::Error> {
    let rows: Vec<CaseRow> = sqlx::query_as(&format!(
        "{CASE_SQL} join schools f on f.id = t.tenant_id
          where t.direction = 'outgoing' and t.status = 'sender_approved' and f.district_id = $1
          order by t.created_at"
    ))
    .bind(tx.district().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(case).collect())
}
