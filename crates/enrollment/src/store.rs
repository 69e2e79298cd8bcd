//! Writing student records. Personal data is sealed with the school's data key before it leaves
//! this module: the ID number, phones and address are stored sealed with a keyed lookup hash (ID
//! number) and a masked form for screens. Each chunk of rows goes in with one statement: the
//! students from `unnest(...)` of column arrays, and in the same statement their enrolment
//! history and (for an import) their accounts and roles, so a whole roster is a handful of
//! statements and no row is looked up again after it was written.

use std::collections::HashSet;

use uuid::Uuid;
use xg_kernel::TenantTx;
use xg_kernel::crypto::{CryptoError, DataKey};
use xg_kernel::i18n::Catalog;
use xg_kernel::idnumber::{IdNumber, mask_phone};
use xg_tenancy::accounts::ACTIVATION_PENDING;

use crate::columns::{Field, label};
use crate::placement::{NewUnit, Placement};
use crate::preview::{Draft, RowProblem};

/// Field names bound into each sealed value, so a ciphertext cannot move between columns.
pub const ID_NUMBER: &str = "id_number";
pub const PHONE: &str = "phone";
pub const ADDRESS: &str = "address";
pub const GUARDIAN_PHONE: &str = "guardian_phone";

/// Rows per statement; progress is reported between chunks.
pub const CHUNK: usize = 5000;
/// Below this many rows, sealing on a second thread costs more than it saves.
const PARALLEL_FROM: usize = 512;

/// The keyed hash stored beside a sealed ID number.
pub fn id_hash(key: &DataKey, id: &IdNumber) -> String {
    key.lookup_hash(ID_NUMBER, id.as_str())
}

/// Rows whose student number or ID number is already in this school's register.
pub async fn taken(
    tx: &mut TenantTx,
    key: &DataKey,
    drafts: &[Draft],
) -> Result<Vec<RowProblem>, sqlx::Error> {
    let m = Catalog::zh();
    let numbers: Vec<String> = drafts.iter().map(|d| d.student_no.clone()).collect();
    let hashes: Vec<String> = drafts.iter().map(|d| id_hash(key, &d.id_number)).collect();
    let existing_numbers: HashSet<String> = sqlx::query_scalar(
        "select student_no from students where tenant_id = $1 and student_no = any($2)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(&numbers)
    .fetch_all(tx.conn())
    .await?
    .into_iter()
    .collect();
    let existing_hashes: HashSet<String> = sqlx::query_scalar(
        "select id_number_hash from students where tenant_id = $1 and id_number_hash = any($2)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(&hashes)
    .fetch_all(tx.conn())
    .await?
    .into_iter()
    .collect();
    let mut problems = Vec::new();
    for (d, hash) in drafts.iter().zip(&hashes) {
        if existing_numbers.contains(&d.student_no) {
            problems.push(RowProblem {
                row: d.row,
                column: label(Field::StudentNo).to_owned(),
                value: d.student_no.clone(),
                message: m.t("import.student_no_taken").to_owned(),
            });
        }
        if existing_hashes.contains(hash) {
            problems.push(RowProblem {
                row: d.row,
                column: label(Field::IdNumber).to_owned(),
                value: d.id_number.masked(),
                message: m.t("import.id_number_taken").to_owned(),
            });
        }
    }
    Ok(problems)
}

pub async fn insert_units(tx: &mut TenantTx, units: &[NewUnit]) -> Result<(), sqlx::Error> {
    for u in units {
        sqlx::query(
            "insert into org_units (tenant_id, id, parent_id, depth, code, name)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(u.id)
        .bind(u.parent_id)
        .bind(u.depth)
        .bind(&u.code)
        .bind(&u.name)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Column vectors for one `unnest` insert.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    student_no: Vec<String>,
    name: Vec<String>,
    gender: Vec<String>,
    birth_date: Vec<time::Date>,
    ethnicity: Vec<Option<String>>,
    id_type: Vec<String>,
    id_sealed: Vec<Vec<u8>>,
    id_hash: Vec<String>,
    id_masked: Vec<String>,
    national_no: Vec<Option<String>>,
    political: Vec<Option<String>>,
    grade: Vec<Option<String>>,
    college: Vec<Option<String>>,
    major_code: Vec<Option<String>>,
    major: Vec<Option<String>>,
    study_length: Vec<Option<String>>,
    study_form: Vec<Option<String>>,
    entry_date: Vec<Option<String>>,
    phone_sealed: Vec<Option<Vec<u8>>>,
    phone_masked: Vec<Option<String>>,
    address_sealed: Vec<Option<Vec<u8>>>,
    guardian_phone_sealed: Vec<Option<Vec<u8>>>,
    guardian_phone_masked: Vec<Option<String>>,
    unit: Vec<Option<Uuid>>,
}

fn value(d: &Draft, f: Field) -> Option<String> {
    d.other.get(&f).filter(|v| !v.is_empty()).cloned()
}

fn sealed(key: &DataKey, field: &str, v: Option<&String>) -> Result<Option<Vec<u8>>, CryptoError> {
    v.map(|v| key.seal(field, v)).transpose()
}

impl Columns {
    fn with_capacity(n: usize) -> Self {
        Self {
            id: Vec::with_capacity(n),
            student_no: Vec::with_capacity(n),
            name: Vec::with_capacity(n),
            gender: Vec::with_capacity(n),
            birth_date: Vec::with_capacity(n),
            ethnicity: Vec::with_capacity(n),
            id_type: Vec::with_capacity(n),
            id_sealed: Vec::with_capacity(n),
            id_hash: Vec::with_capacity(n),
            id_masked: Vec::with_capacity(n),
            national_no: Vec::with_capacity(n),
            political: Vec::with_capacity(n),
            grade: Vec::with_capacity(n),
            college: Vec::with_capacity(n),
            major_code: Vec::with_capacity(n),
            major: Vec::with_capacity(n),
            study_length: Vec::with_capacity(n),
            study_form: Vec::with_capacity(n),
            entry_date: Vec::with_capacity(n),
            phone_sealed: Vec::with_capacity(n),
            phone_masked: Vec::with_capacity(n),
            address_sealed: Vec::with_capacity(n),
            guardian_phone_sealed: Vec::with_capacity(n),
            guardian_phone_masked: Vec::with_capacity(n),
            unit: Vec::with_capacity(n),
        }
    }

    /// Seals and lays out `drafts`; the sealing (AES-GCM and HMAC per row) is the CPU-heavy
    /// part of writing, so a large chunk is split over two threads.
    fn build(key: &DataKey, drafts: &[Draft], places: &[Placement]) -> Result<Self, CryptoError> {
        let fill = |drafts: &[Draft], places: &[Placement]| {
            let mut cols = Self::with_capacity(drafts.len());
            for (d, p) in drafts.iter().zip(places) {
                cols.push(key, Uuid::new_v4(), d, p)?;
            }
            Ok::<_, CryptoError>(cols)
        };
        if drafts.len() < PARALLEL_FROM {
            return fill(drafts, places);
        }
        let half = drafts.len() / 2;
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| fill(&drafts[half..], &places[half..]));
            let first = fill(&drafts[..half], &places[..half]);
            (first, second.join().expect("sealing thread panicked"))
        });
        let mut cols = first?;
        cols.append(second?);
        Ok(cols)
    }

    fn append(&mut self, mut o: Self) {
        self.id.append(&mut o.id);
        self.student_no.append(&mut o.student_no);
        self.name.append(&mut o.name);
        self.gender.append(&mut o.gender);
        self.birth_date.append(&mut o.birth_date);
        self.ethnicity.append(&mut o.ethnicity);
        self.id_type.append(&mut o.id_type);
        self.id_sealed.append(&mut o.id_sealed);
        self.id_hash.append(&mut o.id_hash);
        self.id_masked.append(&mut o.id_masked);
        self.national_no.append(&mut o.national_no);
        self.political.append(&mut o.political);
        self.grade.append(&mut o.grade);
        self.college.append(&mut o.college);
        self.major_code.append(&mut o.major_code);
        self.major.append(&mut o.major);
        self.study_length.append(&mut o.study_length);
        self.study_form.append(&mut o.study_form);
        self.entry_date.append(&mut o.entry_date);
        self.phone_sealed.append(&mut o.phone_sealed);
        self.phone_masked.append(&mut o.phone_masked);
        self.address_sealed.append(&mut o.address_sealed);
        self.guardian_phone_sealed.append(&mut o.guardian_phone_sealed);
        self.guardian_phone_masked.append(&mut o.guardian_phone_masked);
        self.unit.append(&mut o.unit);
    }

    fn push(
        &mut self,
        key: &DataKey,
        id: Uuid,
        d: &Draft,
        p: &Placement,
    ) -> Result<(), CryptoError> {
        let phone = value(d, Field::Phone);
        let guardian = value(d, Field::GuardianPhone);
        self.id.push(id);
        self.student_no.push(d.student_no.clone());
        self.name.push(d.name.clone());
        self.gender.push(if d.male { "male" } else { "female" }.to_owned());
        self.birth_date.push(d.birth_date);
        self.ethnicity.push(value(d, Field::Ethnicity));
        self.id_type.push(value(d, Field::IdType).unwrap_or_else(|| "居民身份证".to_owned()));
        self.id_sealed.push(key.seal(ID_NUMBER, d.id_number.as_str())?);
        self.id_hash.push(id_hash(key, &d.id_number));
        self.id_masked.push(d.id_number.masked());
        self.national_no.push(value(d, Field::NationalNo));
        self.political.push(value(d, Field::Political));
        self.grade.push(p.grade.clone());
        self.college.push(p.college.clone());
        self.major_code.push(value(d, Field::MajorCode));
        self.major.push(p.major.clone());
        self.study_length.push(value(d, Field::StudyLength));
        self.study_form.push(value(d, Field::StudyForm));
        self.entry_date.push(value(d, Field::EntryDate));
        self.phone_sealed.push(sealed(key, PHONE, phone.as_ref())?);
        self.phone_masked.push(phone.as_deref().map(mask_phone));
        self.address_sealed.push(sealed(key, ADDRESS, value(d, Field::Address).as_ref())?);
        self.guardian_phone_sealed.push(sealed(key, GUARDIAN_PHONE, guardian.as_ref())?);
        self.guardian_phone_masked.push(guardian.as_deref().map(mask_phone));
        self.unit.push(p.unit_id);
        Ok(())
    }

    /// Inserts the students, their `enroll` history and, with `accounts`, one pending account
    /// with role `student` per student whose number can be a username (a number that already
    /// names an account gets none). Returns the number of accounts created.
    async fn insert(
        &self,
        tx: &mut TenantTx,
        recorded_by: (Option<Uuid>, &str),
        accounts: bool,
    ) -> Result<u64, sqlx::Error> {
        let tail = if accounts {
            ", account as (
                 insert into school_accounts (tenant_id, id, username, display_name,
                                              password_hash, must_change_password, student_id)
                 select tenant_id, gen_random_uuid(), student_no, name, $30, true, id from s
                  where student_no ~ '^[A-Za-z0-9_.-]{2,64}$'
                 on conflict do nothing
                 returning tenant_id, id
             )
             insert into account_roles (tenant_id, account_id, role_key)
             select tenant_id, id, 'student' from account"
        } else {
            "select count(*) from history"
        };
        let sql = format!(
            "with s as (
                 insert into students (tenant_id, id, student_no, name, gender, birth_date,
                     ethnicity, id_type, id_number_sealed, id_number_hash, id_number_masked,
                     national_no, political_status, grade, college, major_code, major,
                     study_length, study_form, entry_date, phone_sealed, phone_masked,
                     address_sealed, guardian_phone_sealed, guardian_phone_masked, org_unit_id)
                 select $1, * from unnest($2::uuid[], $3::text[], $4::text[], $5::text[],
                     $6::date[], $7::text[], $8::text[], $9::bytea[], $10::text[], $11::text[],
                     $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                     $17::text[], $18::text[], $19::text[], $20::text[], $21::bytea[],
                     $22::text[], $23::bytea[], $24::bytea[], $25::text[], $26::uuid[])
                 returning tenant_id, id, student_no, name
             ), history as (
                 insert into student_status_changes (tenant_id, id, student_id, kind,
                     from_status, to_status, reason, effective_date, recorded_by,
                     recorded_by_name)
                 select tenant_id, gen_random_uuid(), id, 'enroll', null, 'enrolled', $27,
                        current_date, $28, $29
                   from s
                 returning 1
             ) {tail}"
        );
        let mut q = sqlx::query(&sql)
            .bind(tx.tenant().as_uuid())
            .bind(&self.id)
            .bind(&self.student_no)
            .bind(&self.name)
            .bind(&self.gender)
            .bind(&self.birth_date)
            .bind(&self.ethnicity)
            .bind(&self.id_type)
            .bind(&self.id_sealed)
            .bind(&self.id_hash)
            .bind(&self.id_masked)
            .bind(&self.national_no)
            .bind(&self.political)
            .bind(&self.grade)
            .bind(&self.college)
            .bind(&self.major_code)
            .bind(&self.major)
            .bind(&self.study_length)
            .bind(&self.study_form)
            .bind(&self.entry_date)
            .bind(&self.phone_sealed)
            .bind(&self.phone_masked)
            .bind(&self.address_sealed)
            .bind(&self.guardian_phone_sealed)
            .bind(&self.guardian_phone_masked)
            .bind(&self.unit)
            .bind(Catalog::zh().t("students.enrolled_by_import"))
            .bind(recorded_by.0)
            .bind(recorded_by.1);
        if accounts {
            q = q.bind(ACTIVATION_PENDING);
        }
        let done = q.execute(tx.conn()).await?;
        Ok(if accounts { done.rows_affected() } else { 0 })
    }
}

/// Inserts checked drafts with their placements, `CHUNK` rows per statement, and an `enroll`
/// history entry for each; no accounts.
pub async fn insert_students(
    tx: &mut TenantTx,
    key: &DataKey,
    drafts: &[Draft],
    placements: &[Placement],
    recorded_by: (Option<Uuid>, &str),
) -> anyhow::Result<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(drafts.len());
    for (chunk, places) in drafts.chunks(CHUNK).zip(placements.chunks(CHUNK)) {
        ids.extend(write_chunk(tx, key, chunk, places, recorded_by, false).await?.0);
    }
    Ok(ids)
}

/// Seals and inserts one chunk (at most `CHUNK` rows are sensible for one statement) in one
/// statement: students, history and, with `accounts`, their accounts and roles. Returns the
/// new students' ids and the number of accounts created. A student number or ID number already
/// in the register fails the statement with a unique violation (see `is_taken`).
pub async fn write_chunk(
    tx: &mut TenantTx,
    key: &DataKey,
    drafts: &[Draft],
    placements: &[Placement],
    recorded_by: (Option<Uuid>, &str),
    accounts: bool,
) -> anyhow::Result<(Vec<Uuid>, u64)> {
    let cols = Columns::build(key, drafts, placements)?;
    let created = cols.insert(tx, recorded_by, accounts).await?;
    Ok((cols.id, created))
}

/// Whether a write failed because a student number or ID number is already in the register:
/// the unique indexes on `students` refuse it even when the row arrived after the dry run, or
/// while this transaction was writing.
pub fn is_taken(e: &anyhow::Error) -> bool {
    e.downcast_ref::<sqlx::Error>()
        .and_then(|e| e.as_database_error())
        .is_some_and(|e| e.is_unique_violation() && e.table() == Some("students"))
}
