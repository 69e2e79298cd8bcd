//! The platform registry: districts and schools. These tables hold no personal data and are read
//! before any tenant context exists (to resolve `/s/{slug}`), so they are plain platform tables;
//! every function here takes an explicit district or slug filter.

use anyhow::Context;
use sqlx::PgConnection;
use uuid::Uuid;
use xg_audit::{Actor, Change};
use xg_kernel::{DistrictId, Slug, TenantId};

use crate::model::{District, Module, School, SchoolStatus};

/// NOTIFY channel announcing that a school's registry row changed; the payload is its slug.
/// Every instance listens and drops its cached copy.
pub const SCHOOL_CHANGED_CHANNEL: &str = "xg_school_changed";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("a district with slug '{0}' already exists")]
    DistrictExists(String),
    #[error("district name must not be empty")]
    EmptyName,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub async fn create_district(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    name: &str,
) -> Result<District, RegistryError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(RegistryError::EmptyName);
    }
    let id = DistrictId::new_random();
    let inserted = sqlx::query(
        "insert into districts (id, slug, name) values ($1, $2, $3) on conflict (slug) do nothing",
    )
    .bind(id.as_uuid())
    .bind(slug.as_str())
    .bind(name)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(RegistryError::DistrictExists(slug.to_string()));
    }
    let district = District { id, slug: slug.clone(), name: name.to_owned() };
    let change = Change::new("district.create", format!("district:{slug}")).after(&district);
    xg_audit::record_platform(conn, actor, change).await?;
    Ok(district)
}

pub async fn find_district(
    conn: &mut PgConnection,
    slug: &str,
) -> Result<Option<District>, sqlx::Error> {
    let row: Option<(Uuid, String, String)> =
        sqlx::query_as("select id, slug, name from districts where slug = $1")
            .bind(slug)
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(district_from_row))
}

pub async fn list_districts(conn: &mut PgConnection) -> Result<Vec<District>, sqlx::Error> {
    let rows: Vec<(Uuid, String, String)> =
        sqlx::query_as("select id, slug, name from districts order by slug")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().filter_map(district_from_row).collect())
}

fn district_from_row((id, slug, name): (Uuid, String, String)) -> Option<District> {
    Some(District { id: DistrictId::from_uuid(id), slug: Slug::parse(&slug).ok()?, name })
}

type SchoolRow = (Uuid, Uuid, String, String, String, String, Vec<String>, Option<String>);

const SCHOOL_COLUMNS: &str =
    "select id, district_id, slug, name, kind, status, modules, subdomain from schools";

fn school_from_row(row: SchoolRow) -> anyhow::Result<School> {
    let (id, district_id, slug, name, kind, status, modules, subdomain) = row;
    let parse_err = |what: &str, v: &str| anyhow::anyhow!("school {id}: unknown {what} '{v}'");
    Ok(School {
        id: TenantId::from_uuid(id),
        district_id: DistrictId::from_uuid(district_id),
        slug: Slug::parse(&slug)?,
        name,
        kind: kind.parse().map_err(|()| parse_err("kind", &kind))?,
        status: status.parse().map_err(|()| parse_err("status", &status))?,
        modules: modules
            .iter()
            .map(|m| m.parse::<Module>().map_err(|()| parse_err("module", m)))
            .collect::<anyhow::Result<_>>()?,
        subdomain,
    })
}

/// Schools of one district, or of every district when `district` is `None` (operator view).
pub async fn list_schools(
    conn: &mut PgConnection,
    district: Option<DistrictId>,
) -> anyhow::Result<Vec<School>> {
    let sql = format!("{SCHOOL_COLUMNS} where $1::uuid is null or district_id = $1 order by slug");
    let rows: Vec<SchoolRow> = sqlx::query_as(&sql)
        .bind(district.map(|d| d.as_uuid()))
        .fetch_all(conn)
        .await
        .context("listing schools")?;
    rows.into_iter().map(school_from_row).collect()
}

pub async fn find_school(conn: &mut PgConnection, slug: &str) -> anyhow::Result<Option<School>> {
    let sql = format!("{SCHOOL_COLUMNS} where slug = $1");
    let row: Option<SchoolRow> = sqlx::query_as(&sql).bind(slug).fetch_optional(conn).await?;
    row.map(school_from_row).transpose()
}

pub async fn find_school_by_id(
    conn: &mut PgConnection,
    id: TenantId,
) -> anyhow::Result<Option<School>> {
    let sql = format!("{SCHOOL_COLUMNS} where id = $1");
    let row: Option<SchoolRow> =
        sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(conn).await?;
    row.map(school_from_row).transpose()
}

pub async fn find_school_by_subdomain(
    conn: &mut PgConnection,
    subdomain: &str,
) -> anyhow::Result<Option<School>> {
    let sql = format!("{SCHOOL_COLUMNS} where subdomain = $1");
    let row: Option<SchoolRow> = sqlx::query_as(&sql).bind(subdomain).fetch_optional(conn).await?;
    row.map(school_from_row).transpose()
}

/// Suspends or resumes a school; `None` if no school has that slug. Other instances learn of it
/// through `SCHOOL_CHANGED_CHANNEL` when the transaction commits.
pub async fn set_status(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &str,
    status: SchoolStatus,
) -> anyhow::Result<Option<School>> {
    let before: Option<(String,)> =
        sqlx::query_as("select status from schools where slug = $1 for update")
            .bind(slug)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((before,)) = before else {
        return Ok(None);
    };
    sqlx::query("update schools set status = $2, updated_at = now() where slug = $1")
        .bind(slug)
        .bind(status.key())
        .execute(&mut *conn)
        .await?;
    let change = Change::new("school.status", format!("school:{slug}"))
        .before(serde_json::json!({ "status": before }))
        .after(serde_json::json!({ "status": status.key() }));
    xg_audit::record_platform(&mut *conn, actor, change).await?;
    announce_change(&mut *conn, slug).await?;
    find_school(conn, slug).await
}

pub async fn announce_change(conn: &mut PgConnection, slug: &str) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_notify($1, $2)")
        .bind(SCHOOL_CHANGED_CHANNEL)
        .bind(slug)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn district_by_id(
    conn: &mut PgConnection,
    id: DistrictId,
) -> Result<Option<District>, sqlx::Error> {
    let row: Option<(Uuid, String, String)> =
        sqlx::query_as("select id, slug, name from districts where id = $1")
            .bind(id.as_uuid())
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(district_from_row))
}
