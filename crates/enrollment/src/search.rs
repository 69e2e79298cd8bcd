//! Finding students: by name or student number (prefix), by exact ID number (through the keyed
//! hash, never by decrypting), and by class, grade, major, status, political status and
//! ethnicity, a page at a time. Staff without school-wide access see only the students of their
//! assigned units and the units below them.

use serde::Serialize;
use uuid::Uuid;
use xg_kernel::TenantTx;
use xg_kernel::crypto::DataKey;
use xg_kernel::idnumber::IdNumber;

use crate::status::Status;
use crate::store;

pub const PAGE_SIZE: i64 = 50;

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub major: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub political: String,
    #[serde(default)]
    pub ethnicity: String,
    #[serde(default)]
    pub page: Option<i64>,
}

/// Whose students a search may return.
#[derive(Clone, Copy, Debug)]
pub enum Reach {
    WholeSchool,
    /// The staff member's assigned units and everything below them.
    Scope(Uuid),
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub id: Uuid,
    pub student_no: String,
    pub name: String,
    pub gender: String,
    pub class_name: String,
    pub grade: String,
    pub major: String,
    pub status: String,
    pub status_label: String,
    pub political: String,
    pub ethnicity: String,
    pub id_number_masked: String,
}

pub struct Page {
    pub rows: Vec<Row>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

type SearchRow = (
    Uuid,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

fn blank(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

/// The scope CTE and the filter conditions shared by search, statistics and export.
pub const SCOPED_STUDENTS: &str = "
    with recursive scope(id) as (
        select org_unit_id from staff_scopes where tenant_id = $1 and account_id = $2
        union
        select u.id from org_units u join scope s on u.parent_id = s.id where u.tenant_id = $1
    ),
    under(id) as (
        select id from org_units where tenant_id = $1 and id = $3
        union
        select u.id from org_units u join under s on u.parent_id = s.id where u.tenant_id = $1
    ),
    picked as (
        select st.* from students st
         where st.tenant_id = $1
           and ($2::uuid is null or st.org_unit_id in (select id from scope))
           and ($3::uuid is null or st.org_unit_id in (select id from under))
           and ($4::text is null or st.name like $4 || '%' or st.student_no like $4 || '%'
                or st.id_number_hash = $5)
           and ($6::text is null or st.grade = $6)
           and ($7::text is null or st.major = $7)
           and ($8::text is null or st.status = $8)
           and ($9::text is null or st.political_status = $9)
           and ($10::text is null or st.ethnicity = $10)
    )";

/// Binds the parameters `SCOPED_STUDENTS` expects, in order.
pub fn bind_filter<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    tx_tenant: Uuid,
    reach: Reach,
    filter: &'q Filter,
    id_hash: Option<String>,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    let account = match reach {
        Reach::WholeSchool => None,
        Reach::Scope(account) => Some(account),
    };
    query
        .bind(tx_tenant)
        .bind(account)
        .bind(blank(&filter.unit).and_then(|u| Uuid::parse_str(u).ok()))
        .bind(blank(&filter.q))
        .bind(id_hash)
        .bind(blank(&filter.grade))
        .bind(blank(&filter.major))
        .bind(blank(&filter.status))
        .bind(blank(&filter.political))
        .bind(blank(&filter.ethnicity))
}

/// The lookup hash when the query is a valid ID number.
pub fn query_id_hash(key: &DataKey, filter: &Filter) -> Option<String> {
    IdNumber::parse(filter.q.trim()).ok().map(|id| store::id_hash(key, &id))
}

pub async fn search(
    tx: &mut TenantTx,
    key: &DataKey,
    reach: Reach,
    filter: &Filter,
) -> Result<Page, sqlx::Error> {
    let page = filter.page.unwrap_or(1).max(1);
    let sql = format!(
        "{SCOPED_STUDENTS}
         select p.id, p.student_no, p.name, p.gender, u.name, p.grade, p.major, p.status,
                p.political_status, p.ethnicity, p.id_number_masked, count(*) over ()
           from picked p
           left join org_units u on u.tenant_id = p.tenant_id and u.id = p.org_unit_id
          order by p.student_no
          limit {PAGE_SIZE} offset $11"
    );
    let tenant = tx.tenant().as_uuid();
    let rows: Vec<SearchRow> =
        bind_filter(sqlx::query_as(&sql), tenant, reach, filter, query_id_hash(key, filter))
            .bind((page - 1) * PAGE_SIZE)
            .fetch_all(tx.conn())
            .await?;
    let total = rows.first().map_or(0, |r| r.11);
    let rows = rows
        .into_iter()
        .map(
            |(
                id,
                student_no,
                name,
                gender,
                class,
                grade,
                major,
                status,
                political,
                ethnicity,
                masked,
                _,
            )| Row {
                id,
                student_no,
                name,
                gender: gender_label(gender.as_deref()).to_owned(),
                class_name: class.unwrap_or_default(),
                grade: grade.unwrap_or_default(),
                major: major.unwrap_or_default(),
                status_label: Status::parse(&status).map(Status::label).unwrap_or_default(),
                status,
                political: political.unwrap_or_default(),
                ethnicity: ethnicity.unwrap_or_default(),
                id_number_masked: masked.unwrap_or_default(),
            },
        )
        .collect();
    Ok(Page { rows, total, page, pages: (total + PAGE_SIZE - 1) / PAGE_SIZE })
}

pub fn gender_label(gender: Option<&str>) -> &'static str {
    match gender {
        Some("male") => "男",
        Some("female") => "女",
        _ => "",
    }
}

/// Whether a student is within reach (for the record page and status changes); a student
/// account reaches its own record.
pub async fn in_reach(tx: &mut TenantTx, reach: Reach, student: Uuid) -> Result<bool, sqlx::Error> {
    let Reach::Scope(account) = reach else {
        return sqlx::query_scalar(
            "select exists (select 1 from students where tenant_id = $1 and id = $2)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(student)
        .fetch_one(tx.conn())
        .await;
    };
    sqlx::query_scalar(
        "with recursive scope(id) as (
             select org_unit_id from staff_scopes where tenant_id = $1 and account_id = $2
             union
             select u.id from org_units u join scope s on u.parent_id = s.id where u.tenant_id = $1
         )
         select exists (select 1 from students where tenant_id = $1 and id = $3
                          and (org_unit_id in (select id from scope)
                               or id = (select student_id from school_accounts
                                         where tenant_id = $1 and id = $2)))",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .bind(student)
    .fetch_one(tx.conn())
    .await
}
