//! Writing student records. Personal data is sealed with the school's data key before it leaves
//! this module: the ID number, phones and address are stored sealed with a keyed lookup hash (ID
//! number) and a masked form for screens. Rows go in with one `INSERT ... SELECT unnest(...)`
//! per chunk, so a whole roster is a handful of statements.

use std::collections::HashSet;

use uuid::Uuid;
use xg_kernel::TenantTx;
use xg_kernel::crypto::{CryptoError, DataKey};
use xg_kernel::i18n::Catalog;
use xg_kernel::idnumber::{IdNumber, mask_phone};

use crate::columns::{Field, label};
use crate::placement::{NewUnit, Placement};
use crate::preview::{Draft, RowProblem};

/// Field names bound into each sealed value, so a ciphertext cannot move between columns.
pub const ID_NUMBER: &str = "id_number";
pub const PHONE: &str = "phone";
pub const ADDRESS: &str = "address";
pub const GUARDIAN_PHONE: &str = "guardian_phone";

pub const CHUNK: usize = 2000;

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

    async fn insert(&self, tx: &mut TenantTx) -> Result<(), sqlx::Error> {
        sqlx::query(
            "insert into students (tenant_id, id, student_no, name, gender, birth_date, ethnicity,
                 id_type, id_number_sealed, id_number_hash, id_number_masked, national_no,
                 political_status, grade, college, major_code, major, study_length, study_form,
                 entry_date, phone_sealed, phone_masked, address_sealed, guardian_phone_sealed,
                 guardian_phone_masked, org_unit_id)
             select $1, * from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::date[],
                 $7::text[], $8::text[], $9::bytea[], $10::text[], $11::text[], $12::text[],
                 $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
                 $19::text[], $20::text[], $21::bytea[], $22::text[], $23::bytea[], $24::bytea[],
                 $25::text[], $26::uuid[])",
        )
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
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}

/// Inserts checked drafts with their placements, `CHUNK` rows per statement, and an `enroll`
/// history entry for each.
pub async fn insert_students(
    tx: &mut TenantTx,
    key: &DataKey,
    drafts: &[Draft],
    placements: &[Placement],
    recorded_by: (Option<Uuid>, &str),
) -> anyhow::Result<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(drafts.len());
    for (chunk, places) in drafts.chunks(CHUNK).zip(placements.chunks(CHUNK)) {
        let mut cols = Columns::default();
        for (d, p) in chunk.iter().zip(places) {
            let id = Uuid::new_v4();
            cols.push(key, id, d, p)?;
            ids.push(id);
        }
        cols.insert(tx).await?;
        sqlx::query(
            "insert into student_status_changes (tenant_id, id, student_id, kind, from_status,
                 to_status, reason, effective_date, recorded_by, recorded_by_name)
             select $1, gen_random_uuid(), s, 'enroll', null, 'enrolled', $3, current_date, $4, $5
               from unnest($2::uuid[]) as s",
        )
        .bind(tx.tenant().as_uuid())
        .bind(&cols.id)
        .bind(Catalog::zh().t("students.enrolled_by_import"))
        .bind(recorded_by.0)
        .bind(recorded_by.1)
        .execute(tx.conn())
        .await?;
    }
    Ok(ids)
}
