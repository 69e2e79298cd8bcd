//! `xuegong students`: roster import from the command line (the same dry run and one-transaction
//! commit as the portal), and filling a demo district with generated students.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use xg_audit::Actor;
use xg_enrollment::generate::{ClassSpec, roster_csv};
use xg_enrollment::import;
use xg_kernel::config::Config;
use xg_kernel::keyring::Keyring;
use xg_kernel::{AppError, Db, TenantId};
use xg_storage::Storage;
use xg_tenancy::org::{list_levels, list_units};
use xg_tenancy::{SchoolKind, registry};

#[derive(Subcommand)]
pub enum StudentsCommand {
    /// Import a roster (.xlsx or .csv) into a school: prints the dry run; with --commit, writes
    /// every row or none.
    Import {
        /// The school's slug.
        slug: String,
        file: PathBuf,
        /// Create classes the org tree lacks, along the roster's grade/college/major columns.
        #[arg(long)]
        create_units: bool,
        #[arg(long)]
        commit: bool,
    },
    /// Fill each school of a district whose register is empty with generated students, through
    /// the normal import (for demos).
    DemoFill {
        /// The district's slug.
        district: String,
        #[arg(long, default_value_t = 30)]
        per_class: usize,
    },
}

struct Tools {
    db: Db,
    storage: Storage,
    keyring: Keyring,
}

async fn tools(config: &Config, db: Db) -> anyhow::Result<Tools> {
    let storage = Storage::from_config(&config.storage).await?;
    let keyring = Keyring::new(config.require_master_key()?)?;
    Ok(Tools { db, storage, keyring })
}

pub async fn run(
    config: &Config,
    db: Db,
    cmd: StudentsCommand,
    actor: Actor,
) -> anyhow::Result<()> {
    let t = tools(config, db).await?;
    match cmd {
        StudentsCommand::Import { slug, file, create_units, commit } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let name =
                file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let tenant = school_id(&t.db, &slug).await?;
            import_file(&t, tenant, &name, bytes, create_units, commit, &actor).await
        }
        StudentsCommand::DemoFill { district, per_class } => {
            demo_fill(&t, &district, per_class, &actor).await
        }
    }
}

async fn school_id(db: &Db, slug: &str) -> anyhow::Result<TenantId> {
    let mut tx = db.platform().await?;
    let school = registry::find_school(tx.conn(), slug).await?;
    Ok(school.with_context(|| format!("no school with slug {slug}"))?.id)
}

fn plain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid { message, .. } | AppError::Conflict { message, .. } => {
            anyhow::anyhow!(message)
        }
        other => anyhow::anyhow!(other),
    }
}

async fn import_file(
    t: &Tools,
    tenant: TenantId,
    name: &str,
    bytes: Vec<u8>,
    create_units: bool,
    commit: bool,
    actor: &Actor,
) -> anyhow::Result<()> {
    let id = import::stage(
        &t.db,
        &t.storage,
        &t.keyring,
        tenant,
        name,
        bytes.into(),
        create_units,
        actor,
    )
    .await
    .map_err(plain)?;
    let mut tx = t.db.tenant(tenant).await?;
    let job = import::find(&mut tx, id).await?.context("the import job vanished")?;
    drop(tx);
    println!("{name}: {} rows, {} problems", job.total_rows, job.problem_count);
    for p in &job.problems {
        println!("  row {} · {} · {} · {}", p.row, p.column, p.value, p.message);
    }
    if job.problem_count > 0 {
        bail!("{} problems; nothing was written", job.problem_count);
    }
    if commit {
        import::commit_and_wait(&t.db, &t.storage, &t.keyring, tenant, id, actor)
            .await
            .map_err(plain)?;
        println!("committed: {} students", job.total_rows);
    } else {
        println!("dry run only; add --commit to write");
    }
    Ok(())
}

/// The year a class entered, read from its own or its grade's name (`2026级`, `…2301班`).
fn entry_year(grade: &str, class: &str) -> i32 {
    let digits = |s: &str| -> Vec<u32> { s.chars().filter_map(|c| c.to_digit(10)).collect() };
    let g = digits(grade);
    if g.len() >= 4 {
        return g[..4].iter().fold(0, |a, d| a * 10 + *d as i32);
    }
    let c = digits(class);
    if c.len() >= 4 {
        return 2000 + (c[0] * 10 + c[1]) as i32;
    }
    2026
}

async fn demo_fill(
    t: &Tools,
    district: &str,
    per_class: usize,
    actor: &Actor,
) -> anyhow::Result<()> {
    let mut tx = t.db.platform().await?;
    let d = registry::find_district(tx.conn(), district)
        .await?
        .with_context(|| format!("no district {district}"))?;
    let schools = registry::list_schools(tx.conn(), Some(d.id)).await?;
    drop(tx);
    for (n, school) in schools.iter().enumerate() {
        let mut tx = t.db.tenant(school.id).await?;
        let existing: i64 =
            sqlx::query_scalar("select count(*) from students where tenant_id = $1")
                .bind(school.id.as_uuid())
                .fetch_one(tx.conn())
                .await?;
        if existing > 0 {
            println!("{}: {existing} students already, left alone", school.slug);
            continue;
        }
        let levels = list_levels(&mut tx).await?;
        let units = list_units(&mut tx).await?;
        drop(tx);
        let Some(class_depth) = levels.last().map(|l| l.depth) else { continue };
        let grade_depth = levels.iter().find(|l| l.key == "grade").map(|l| l.depth);
        let grade_of = |unit: &xg_tenancy::org::OrgUnit| -> String {
            let mut at = Some(unit);
            while let Some(u) = at {
                if Some(u.depth) == grade_depth {
                    return u.name.clone();
                }
                at = u.parent_id.and_then(|p| units.iter().find(|x| x.id == p));
            }
            String::new()
        };
        let entry_age = if school.kind == SchoolKind::College { 18 } else { 15 };
        let classes: Vec<ClassSpec> = units
            .iter()
            .filter(|u| u.depth == class_depth)
            .map(|u| {
                let grade = grade_of(u);
                ClassSpec {
                    entry_year: entry_year(&grade, &u.name),
                    grade,
                    name: u.name.clone(),
                    entry_age,
                }
            })
            .collect();
        if classes.is_empty() {
            continue;
        }
        let seed = 2026 + n as u64;
        let first_no = (n as u64 + 1) * 1_000_000 + 1;
        let sample = &xg_enrollment::generate::roster(&classes[..1], 1, first_no, seed)[0];
        let csv = roster_csv(&classes, per_class, first_no, seed);
        import_file(t, school.id, "demo-roster.csv", csv, false, true, actor).await?;
        // Demo data only: the first generated student's first sign-in, for trying the portal.
        println!(
            "{}: sample student {} ({}), first password {}",
            school.slug,
            sample[0],
            sample[1],
            &sample[6][12..]
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn entry_years_come_from_grade_or_class_names() {
        assert_eq!(super::entry_year("2026级", "高一(1)班"), 2026);
        assert_eq!(super::entry_year("", "计算机科学与技术2301班"), 2023);
        assert_eq!(super::entry_year("", "一班"), 2026);
    }
}
