//! Exports in the import layout, so an export imports again unchanged: xlsx with every cell
//! written as text (ID and student numbers keep every digit and leading zero), and CSV in UTF-8
//! with a byte-order mark so Excel opens it in the right encoding. Exports carry unmasked
//! personal data, so they need their own permission and each one is audited by the caller.
//! Also the empty import template with one example row.

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use uuid::Uuid;
use xg_kernel::TenantTx;
use xg_kernel::crypto::{CryptoError, DataKey};

use crate::search::{Filter, Reach, SCOPED_STUDENTS, bind_filter, gender_label, query_id_hash};
use crate::status::Status;
use crate::store::{ADDRESS, GUARDIAN_PHONE, ID_NUMBER, PHONE};

/// Headers written, in order; each is one the import recognises (the status column is
/// informational and ignored on import).
pub const HEADERS: [&str; 21] = [
    "学号",
    "姓名",
    "性别",
    "出生日期",
    "民族",
    "身份证件类型",
    "身份证号",
    "全国学籍号",
    "政治面貌",
    "年级",
    "院系",
    "专业代码",
    "专业",
    "班级",
    "学制",
    "学习形式",
    "入学日期",
    "联系电话",
    "家长电话",
    "家庭住址",
    "学籍状态",
];

#[derive(sqlx::FromRow)]
struct ExportRow {
    student_no: String,
    name: String,
    gender: Option<String>,
    birth_date: Option<time::Date>,
    ethnicity: Option<String>,
    id_type: String,
    id_number_sealed: Option<Vec<u8>>,
    national_no: Option<String>,
    political_status: Option<String>,
    grade: Option<String>,
    college: Option<String>,
    major_code: Option<String>,
    major: Option<String>,
    class_name: Option<String>,
    study_length: Option<String>,
    study_form: Option<String>,
    entry_date: Option<String>,
    phone_sealed: Option<Vec<u8>>,
    guardian_phone_sealed: Option<Vec<u8>>,
    address_sealed: Option<Vec<u8>>,
    status: String,
}

/// Every matching student as export cells, personal data opened with the school's key.
pub async fn rows(
    tx: &mut TenantTx,
    key: &DataKey,
    reach: Reach,
    filter: &Filter,
) -> anyhow::Result<Vec<Vec<String>>> {
    let sql = format!(
        "{SCOPED_STUDENTS}
         select p.student_no, p.name, p.gender, p.birth_date, p.ethnicity, p.id_type,
                p.id_number_sealed, p.national_no, p.political_status, p.grade, p.college,
                p.major_code, p.major, u.name as class_name, p.study_length, p.study_form, p.entry_date,
                p.phone_sealed, p.guardian_phone_sealed, p.address_sealed, p.status
           from picked p
           left join org_units u on u.tenant_id = p.tenant_id and u.id = p.org_unit_id
          order by p.student_no"
    );
    let tenant = tx.tenant().as_uuid();
    let rows: Vec<ExportRow> =
        bind_filter(sqlx::query_as(&sql), tenant, reach, filter, query_id_hash(key, filter))
            .fetch_all(tx.conn())
            .await?;
    let open = |field: &str, v: &Option<Vec<u8>>| -> Result<String, CryptoError> {
        v.as_ref().map(|v| key.open(field, v)).transpose().map(Option::unwrap_or_default)
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let text = |v: Option<String>| v.unwrap_or_default();
        out.push(vec![
            r.student_no,
            r.name,
            gender_label(r.gender.as_deref()).to_owned(),
            r.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            text(r.ethnicity),
            r.id_type,
            open(ID_NUMBER, &r.id_number_sealed)?,
            text(r.national_no),
            text(r.political_status),
            text(r.grade),
            text(r.college),
            text(r.major_code),
            text(r.major),
            text(r.class_name),
            text(r.study_length),
            text(r.study_form),
            text(r.entry_date),
            open(PHONE, &r.phone_sealed)?,
            open(GUARDIAN_PHONE, &r.guardian_phone_sealed)?,
            open(ADDRESS, &r.address_sealed)?,
            Status::parse(&r.status).map(Status::label).unwrap_or_default(),
        ]);
    }
    Ok(out)
}

/// An xlsx workbook with one sheet, every cell text.
pub fn xlsx(headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("学生名册")?;
    let text = Format::new().set_num_format("@");
    let bold = Format::new().set_bold().set_num_format("@");
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        sheet.set_column_format(c as u16, &text)?;
        sheet.set_column_width(c as u16, 14)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string_with_format(r as u32 + 1, c as u16, v, &text)?;
            }
        }
    }
    book.save_to_buffer()
}

/// CSV in UTF-8 with a byte-order mark.
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, csv::Error> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(headers)?;
        for row in rows {
            w.write_record(row)?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// The import template: the columns a roster should have, with one example row.
pub fn template() -> Result<Vec<u8>, XlsxError> {
    let example = [
        "20260001",
        "张三",
        "男",
        "2010-03-07",
        "汉族",
        "居民身份证",
        "110101201003070011",
        "",
        "共青团员",
        "2026级",
        "",
        "",
        "",
        "高一(1)班",
        "3",
        "普通全日制",
        "2026-09",
        "13800138000",
        "13900139000",
        "北京市东城区示例路 1 号",
        "",
    ];
    xlsx(&HEADERS[..20], &[example[..20].iter().map(|s| (*s).to_owned()).collect()])
}

type Sealed = Option<Vec<u8>>;
type SealedFields = (Sealed, Sealed, Sealed, Sealed);

/// One student's personal data in full, for a reveal that the caller audits.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Revealed {
    pub id_number: String,
    pub phone: String,
    pub guardian_phone: String,
    pub address: String,
}

pub async fn reveal(
    tx: &mut TenantTx,
    key: &DataKey,
    student: Uuid,
) -> anyhow::Result<Option<Revealed>> {
    let row: Option<SealedFields> = sqlx::query_as(
        "select id_number_sealed, phone_sealed, guardian_phone_sealed, address_sealed
           from students where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(student)
    .fetch_optional(tx.conn())
    .await?;
    let Some((id, phone, guardian, address)) = row else { return Ok(None) };
    let open = |field: &str, v: Option<Vec<u8>>| -> Result<String, CryptoError> {
        v.map(|v| key.open(field, &v)).transpose().map(Option::unwrap_or_default)
    };
    Ok(Some(Revealed {
        id_number: open(ID_NUMBER, id)?,
        phone: open(PHONE, phone)?,
        guardian_phone: open(GUARDIAN_PHONE, guardian)?,
        address: open(ADDRESS, address)?,
    }))
}
