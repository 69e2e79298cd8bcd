//! Head counts. Every dimension but status counts the students in school (enrolled or
//! suspended); the status dimension counts everyone on record. A school sees its own students
//! (staff: their scope); a district sees each of its schools side by side, through the
//! district read policy.

use xg_kernel::{DistrictTx, TenantTx};

use crate::search::{Filter, Reach, SCOPED_STUDENTS, bind_filter};
use crate::status::Status;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Grade,
    Major,
    Class,
    Gender,
    Ethnicity,
    Status,
    Political,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Self::Grade,
        Self::Major,
        Self::Class,
        Self::Gender,
        Self::Ethnicity,
        Self::Status,
        Self::Political,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Grade => "grade",
            Self::Major => "major",
            Self::Class => "class",
            Self::Gender => "gender",
            Self::Ethnicity => "ethnicity",
            Self::Status => "status",
            Self::Political => "political",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.key() == key)
    }

    /// The grouped expression over `p` (students) and `u` (their unit).
    fn expr(self) -> &'static str {
        match self {
            Self::Grade => "p.grade",
            Self::Major => "p.major",
            Self::Class => "u.name",
            Self::Gender => "p.gender",
            Self::Ethnicity => "p.ethnicity",
            Self::Status => "p.status",
            Self::Political => "p.political_status",
        }
    }

    fn in_school_only(self) -> bool {
        self != Self::Status
    }

    /// A stored value as people read it.
    pub fn display(self, value: &str) -> String {
        match self {
            Self::Gender => crate::search::gender_label(Some(value)).to_owned(),
            Self::Status => Status::parse(value).map(Status::label).unwrap_or_default(),
            _ => value.to_owned(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub label: String,
    pub count: i64,
}

fn counts_from(dim: Dimension, rows: Vec<(Option<String>, i64)>) -> Vec<Count> {
    rows.into_iter()
        .map(|(v, count)| Count {
            label: v.map(|v| dim.display(&v)).unwrap_or_else(|| "—".into()),
            count,
        })
        .collect()
}

pub async fn counts(
    tx: &mut TenantTx,
    reach: Reach,
    dim: Dimension,
) -> Result<Vec<Count>, sqlx::Error> {
    let filter = Filter::default();
    let sql = format!(
        "{SCOPED_STUDENTS}
         select {expr}, count(*) from picked p
           left join org_units u on u.tenant_id = p.tenant_id and u.id = p.org_unit_id
          where not $11 or p.status in ('enrolled', 'suspended')
          group by 1 order by 1 nulls last",
        expr = dim.expr()
    );
    let tenant = tx.tenant().as_uuid();
    let rows: Vec<(Option<String>, i64)> =
        bind_filter(sqlx::query_as(&sql), tenant, reach, &filter, None)
            .bind(dim.in_school_only())
            .fetch_all(tx.conn())
            .await?;
    Ok(counts_from(dim, rows))
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SchoolCount {
    pub school: String,
    pub label: String,
    pub count: i64,
}

/// The same counts for every school of the district.
pub async fn district_counts(
    tx: &mut DistrictTx,
    dim: Dimension,
) -> Result<Vec<SchoolCount>, sqlx::Error> {
    let sql = format!(
        "select s.name, {expr}, count(*)
           from students p
           join schools s on s.id = p.tenant_id
           left join org_units u on u.tenant_id = p.tenant_id and u.id = p.org_unit_id
          where s.district_id = $1 and (not $2 or p.status in ('enrolled', 'suspended'))
          group by 1, 2 order by 1, 2 nulls last",
        expr = dim.expr()
    );
    let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(&sql)
        .bind(tx.district().as_uuid())
        .bind(dim.in_school_only())
        .fetch_all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(school, v, count)| SchoolCount {
            school,
            label: v.map(|v| dim.display(&v)).unwrap_or_else(|| "—".into()),
            count,
        })
        .collect())
}
