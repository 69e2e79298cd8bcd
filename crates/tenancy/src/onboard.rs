//! Onboarding: a validated manifest becomes a school, in one transaction. Re-running the same
//! manifest changes nothing; a changed manifest adds and updates (levels, units, roles, modules)
//! but never deletes, and never touches an existing admin's password. Anything that fails rolls
//! the whole school back.

use sqlx::PgConnection;
use uuid::Uuid;
use xg_audit::{Actor, Change};
use xg_kernel::password;
use xg_kernel::{Db, TenantId, TenantTx};

use crate::manifest::{Manifest, ManifestError, Problem};
use crate::model::School;
use crate::registry;

#[derive(Debug)]
pub struct OnboardReport {
    pub school: School,
    pub school_created: bool,
    pub school_updated: bool,
    pub levels_changed: u64,
    pub units_created: u64,
    pub units_updated: u64,
    pub roles_created: u64,
    pub admin_created: bool,
    pub staff_created: u64,
    /// Set only when onboarding generated the admin's first password; shown once, never stored.
    pub generated_admin_password: Option<String>,
}

impl OnboardReport {
    pub fn changed_anything(&self) -> bool {
        self.school_created
            || self.school_updated
            || self.levels_changed + self.units_created + self.units_updated + self.roles_created
                > 0
            || self.admin_created
            || self.staff_created > 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OnboardError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Manifest(Vec<ManifestError>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for OnboardError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

/// Onboards a school, or brings an existing one up to date with its manifest.
pub async fn onboard(db: &Db, actor: &Actor, m: &Manifest) -> Result<OnboardReport, OnboardError> {
    onboard_with(db, actor, m, false).await
}

/// Onboards a school that must not exist yet (the portal's form): an existing slug is an error,
/// never an update, also when the same form is submitted twice at once.
pub async fn onboard_new(
    db: &Db,
    actor: &Actor,
    m: &Manifest,
) -> Result<OnboardReport, OnboardError> {
    onboard_with(db, actor, m, true).await
}

async fn onboard_with(
    db: &Db,
    actor: &Actor,
    m: &Manifest,
    create_only: bool,
) -> Result<OnboardReport, OnboardError> {
    let fail = |field: &str, problem| {
        let source = m.source.clone();
        OnboardError::Manifest(vec![ManifestError { source, field: field.into(), problem }])
    };
    let mut tx = db.platform().await?;
    // Onboarding is rare: serialise all of it, so checks for a taken slug or subdomain below
    // cannot race with another onboarding (unique keys remain the last word).
    sqlx::query("select pg_advisory_xact_lock(hashtext('xg-onboard'))").execute(tx.conn()).await?;

    let Some(district) = registry::find_district(tx.conn(), m.district.as_str()).await? else {
        return Err(fail("school.district", Problem::UnknownDistrict(m.district.to_string())));
    };
    let existing = registry::find_school(tx.conn(), m.slug.as_str()).await?;
    if create_only && existing.is_some() {
        return Err(fail("school.slug", Problem::SlugTaken(m.slug.to_string())));
    }
    if let Some(school) = &existing
        && school.district_id != district.id
    {
        let owner: Option<(String,)> = sqlx::query_as("select slug from districts where id = $1")
            .bind(school.district_id.as_uuid())
            .fetch_optional(tx.conn())
            .await?;
        let owner = owner.map(|(s,)| s).unwrap_or_default();
        return Err(fail("school.district", Problem::DistrictMismatch(m.slug.to_string(), owner)));
    }
    if let Some(sub) = &m.subdomain
        && let Some(other) = registry::find_school_by_subdomain(tx.conn(), sub.as_str()).await?
        && other.slug != m.slug
    {
        let problem = Problem::SubdomainTaken(sub.to_string(), other.slug.to_string());
        return Err(fail("school.subdomain", problem));
    }

    let tenant = existing.as_ref().map_or_else(TenantId::new_random, |s| s.id);
    let (school_created, school_updated) =
        upsert_school(tx.conn(), tenant, district.id.as_uuid(), m).await?;
    registry::announce_change(tx.conn(), m.slug.as_str()).await?;

    let mut tx = tx.enter_tenant(tenant).await?;
    let moved = structural_changes(&mut tx, m).await?;
    if !moved.is_empty() {
        return Err(OnboardError::Manifest(moved));
    }
    let levels_changed = upsert_levels(&mut tx, m).await?;
    let (units_created, units_updated) = upsert_units(&mut tx, m).await?;
    let roles_created = insert_roles(&mut tx, m).await?;
    let (admin_created, generated_admin_password) = ensure_admin(&mut tx, m).await?;
    let staff_created = ensure_staff(&mut tx, m).await?;
    let school = registry::find_school(tx.conn(), m.slug.as_str())
        .await?
        .ok_or_else(|| anyhow::anyhow!("school {} vanished during onboarding", m.slug))?;
    let report = OnboardReport {
        school,
        school_created,
        school_updated,
        levels_changed,
        units_created,
        units_updated,
        roles_created,
        admin_created,
        staff_created,
        generated_admin_password,
    };
    if report.changed_anything() {
        let summary = serde_json::json!({
            "source": m.source,
            "school_created": report.school_created,
            "school_updated": report.school_updated,
            "levels_changed": report.levels_changed,
            "units_created": report.units_created,
            "units_updated": report.units_updated,
            "roles_created": report.roles_created,
            "admin_created": report.admin_created,
            "staff_created": report.staff_created,
            "modules": m.modules.iter().map(|m| m.key()).collect::<Vec<_>>(),
        });
        let target = format!("school:{}", m.slug);
        let change = Change::new("school.onboard", target.clone()).after(&summary);
        xg_audit::record(&mut tx, actor, change).await?;
        let change = Change::new("school.onboard", target).after(&summary);
        xg_audit::record_platform(tx.conn(), actor, change).await?;
    }
    tx.commit().await?;
    Ok(report)
}

async fn upsert_school(
    conn: &mut PgConnection,
    tenant: TenantId,
    district: Uuid,
    m: &Manifest,
) -> Result<(bool, bool), sqlx::Error> {
    let modules: Vec<&str> = m.modules.iter().map(|m| m.key()).collect();
    let row: Option<(bool,)> = sqlx::query_as(
        "insert into schools (id, district_id, slug, name, kind, modules, subdomain)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (slug) do update
            set name = excluded.name, kind = excluded.kind, modules = excluded.modules,
                subdomain = excluded.subdomain, updated_at = now()
          where (schools.name, schools.kind, schools.modules, schools.subdomain)
                is distinct from (excluded.name, excluded.kind, excluded.modules, excluded.subdomain)
         returning (xmax = 0)",
    )
    .bind(tenant.as_uuid())
    .bind(district)
    .bind(m.slug.as_str())
    .bind(&m.name)
    .bind(m.kind.key())
    .bind(&modules)
    .bind(m.subdomain.as_ref().map(|s| s.as_str()))
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some((true,)) => (true, false),
        Some((false,)) => (false, true),
        None => (false, false),
    })
}

/// Levels and units that already exist at another depth. Moving them is the org module's job
/// (it checks the units below); a manifest re-run that tried would tear the tree.
async fn structural_changes(
    tx: &mut TenantTx,
    m: &Manifest,
) -> Result<Vec<ManifestError>, sqlx::Error> {
    let levels: Vec<(String, i16)> =
        sqlx::query_as("select key, depth from org_levels where tenant_id = $1")
            .bind(tx.tenant().as_uuid())
            .fetch_all(tx.conn())
            .await?;
    let units: Vec<(String, i16)> =
        sqlx::query_as("select code, depth from org_units where tenant_id = $1")
            .bind(tx.tenant().as_uuid())
            .fetch_all(tx.conn())
            .await?;
    let depth_of = |key: &str| m.levels.iter().position(|l| l.key == key).map(|i| i as i16 + 1);
    let mut errors = Vec::new();
    for (i, level) in m.levels.iter().enumerate() {
        if let Some((_, depth)) = levels.iter().find(|(k, _)| *k == level.key)
            && *depth != i as i16 + 1
        {
            errors.push(ManifestError {
                source: m.source.clone(),
                field: format!("org.levels[{i}].key"),
                problem: Problem::LevelMoved(level.key.clone()),
            });
        }
    }
    for unit in &m.units {
        if let Some((_, depth)) = units.iter().find(|(c, _)| *c == unit.code)
            && Some(*depth) != depth_of(&unit.level)
        {
            let i = m.units.iter().position(|u| u.code == unit.code).unwrap_or(0);
            errors.push(ManifestError {
                source: m.source.clone(),
                field: format!("org.units[{i}].level"),
                problem: Problem::UnitMoved(unit.code.clone()),
            });
        }
    }
    Ok(errors)
}

async fn upsert_levels(tx: &mut TenantTx, m: &Manifest) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    for (i, level) in m.levels.iter().enumerate() {
        let depth = i16::try_from(i + 1).expect("at most 6 levels");
        changed += sqlx::query(
            "insert into org_levels (tenant_id, depth, key, name) values ($1, $2, $3, $4)
             on conflict (tenant_id, depth) do update set key = excluded.key, name = excluded.name
              where (org_levels.key, org_levels.name) is distinct from (excluded.key, excluded.name)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(depth)
        .bind(&level.key)
        .bind(level.name.trim())
        .execute(tx.conn())
        .await?
        .rows_affected();
    }
    Ok(changed)
}

async fn upsert_units(tx: &mut TenantTx, m: &Manifest) -> Result<(u64, u64), sqlx::Error> {
    let depth_of = |key: &str| {
        let i = m.levels.iter().position(|l| l.key == key).expect("validated level");
        i16::try_from(i + 1).expect("at most 6 levels")
    };
    let mut ids = std::collections::HashMap::new();
    let (mut created, mut updated) = (0, 0);
    for unit in &m.units {
        let parent = unit.parent.as_ref().map(|p| ids[p.as_str()]);
        let row: Option<(Uuid, bool)> = sqlx::query_as(
            "insert into org_units (tenant_id, id, parent_id, depth, code, name)
             values ($1, $2, $3, $4, $5, $6)
             on conflict (tenant_id, code) do update
                set parent_id = excluded.parent_id, depth = excluded.depth, name = excluded.name
              where (org_units.parent_id, org_units.depth, org_units.name)
                    is distinct from (excluded.parent_id, excluded.depth, excluded.name)
             returning id, (xmax = 0)",
        )
        .bind(tx.tenant().as_uuid())
        .bind(Uuid::new_v4())
        .bind(parent)
        .bind(depth_of(&unit.level))
        .bind(unit.code.trim())
        .bind(unit.name.trim())
        .fetch_optional(tx.conn())
        .await?;
        let id = match row {
            Some((id, true)) => {
                created += 1;
                id
            }
            Some((id, false)) => {
                updated += 1;
                id
            }
            None => {
                sqlx::query_scalar("select id from org_units where tenant_id = $1 and code = $2")
                    .bind(tx.tenant().as_uuid())
                    .bind(unit.code.trim())
                    .fetch_one(tx.conn())
                    .await?
            }
        };
        ids.insert(unit.code.as_str(), id);
    }
    Ok((created, updated))
}

async fn insert_roles(tx: &mut TenantTx, m: &Manifest) -> Result<u64, sqlx::Error> {
    let mut created = 0;
    let builtin: Vec<&str> = crate::model::BUILTIN_ROLES.iter().map(|(k, _)| *k).collect();
    for role in &m.roles {
        let created_now = sqlx::query(
            "insert into roles (tenant_id, key, name, builtin) values ($1, $2, $3, $4)
             on conflict (tenant_id, key) do nothing",
        )
        .bind(tx.tenant().as_uuid())
        .bind(&role.key)
        .bind(role.name.trim())
        .bind(builtin.contains(&role.key.as_str()))
        .execute(tx.conn())
        .await?
        .rows_affected();
        if created_now == 1 {
            // A new role starts with its built-in grants; later changes are the school's own.
            sqlx::query(
                "insert into role_permissions (tenant_id, role_key, permission)
                 select $1, $2, unnest($3::text[])",
            )
            .bind(tx.tenant().as_uuid())
            .bind(&role.key)
            .bind(crate::model::builtin_grants(&role.key))
            .execute(tx.conn())
            .await?;
        }
        created += created_now;
    }
    Ok(created)
}

/// Creates the first admin if no account has that username yet.
async fn ensure_admin(
    tx: &mut TenantTx,
    m: &Manifest,
) -> Result<(bool, Option<String>), OnboardError> {
    let roles = ["school_admin".to_owned()];
    let initial = m.admin_initial_password.as_deref();
    create_account(tx, &m.admin_username, &m.admin_display_name, initial, &roles, &[]).await
}

/// Creates the manifest's staff accounts that do not exist yet, with their roles and units.
/// Existing accounts are left alone: the school manages them from then on.
async fn ensure_staff(tx: &mut TenantTx, m: &Manifest) -> Result<u64, OnboardError> {
    let mut created = 0;
    for s in &m.staff {
        let initial = s.initial_password.as_deref();
        let (new, _) =
            create_account(tx, &s.username, &s.display_name, initial, &s.roles, &s.units).await?;
        created += u64::from(new);
    }
    Ok(created)
}

/// Creates an account unless the username exists. Returns whether it was created and, when
/// no initial password was given, the generated one (to show once).
async fn create_account(
    tx: &mut TenantTx,
    username: &str,
    display_name: &str,
    initial_password: Option<&str>,
    roles: &[String],
    unit_codes: &[String],
) -> Result<(bool, Option<String>), OnboardError> {
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from school_accounts where tenant_id = $1 and username = $2)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(username)
    .fetch_one(tx.conn())
    .await?;
    if exists {
        return Ok((false, None));
    }
    let (initial, generated) = match initial_password {
        Some(given) => (given.to_owned(), None),
        None => {
            let fresh = password::generate_initial();
            (fresh.clone(), Some(fresh))
        }
    };
    let hash = tokio::task::spawn_blocking(move || password::hash(&initial))
        .await
        .map_err(anyhow::Error::from)??;
    let account = Uuid::new_v4();
    sqlx::query(
        "insert into school_accounts (tenant_id, id, username, display_name, password_hash,
                                      must_change_password)
         values ($1, $2, $3, $4, $5, true)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .bind(username)
    .bind(display_name)
    .bind(hash)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "insert into account_roles (tenant_id, account_id, role_key)
         select $1, $2, unnest($3::text[])",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .bind(roles)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "insert into staff_scopes (tenant_id, account_id, org_unit_id)
         select $1, $2, u.id from org_units u where u.tenant_id = $1 and u.code = any($3)",
    )
    .bind(tx.tenant().as_uuid())
    .bind(account)
    .bind(unit_codes)
    .execute(tx.conn())
    .await?;
    Ok((true, generated))
}
