//! The schools and rosters every case works on. Rosters come from the product's own generator
//! (`xg_enrollment::generate`): valid ID numbers, real-looking names, class structure.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;
use uuid::Uuid;
use xg_e2e::app::TEST_MASTER_KEY;
use xg_enrollment::generate::ClassSpec;
use xg_kernel::keyring::Keyring;
use xg_kernel::{Db, TenantId};
use xg_storage::{LocalDisk, Storage};
use xg_tenancy::{Manifest, onboard};

/// Grades of the big school, their classes, and students per class: 4 × 250 × 50 = 50,000.
pub const GRADES: [i32; 4] = [2022, 2023, 2024, 2025];
pub const CLASSES_PER_GRADE: usize = 250;
pub const PER_CLASS: usize = 50;
/// The counselor whose list page is loaded sees this many classes of the 2025 intake.
pub const COUNSELOR_CLASSES: usize = 8;

pub fn class_code(year: i32, i: usize) -> String {
    format!("G{year}-C{i:03}")
}

pub fn class_name(year: i32, i: usize) -> String {
    format!("{year}级{i:03}班")
}

pub fn classes(per_grade: usize) -> Vec<ClassSpec> {
    GRADES
        .iter()
        .flat_map(|&year| {
            (1..=per_grade).map(move |i| ClassSpec {
                grade: format!("{year}级"),
                name: class_name(year, i),
                entry_year: year,
                entry_age: 18,
            })
        })
        .collect()
}

/// A university-sized school: grades and classes as the roster names them, an admin, a
/// counselor over `COUNSELOR_CLASSES` classes and a grade head over the whole 2025 intake.
pub fn big_manifest(slug: &str, district: &str, per_grade: usize) -> String {
    let mut units = String::new();
    for year in GRADES {
        let _ =
            writeln!(units, "  {{ code = \"G{year}\", name = \"{year}级\", level = \"grade\" }},");
        for i in 1..=per_grade {
            let _ = writeln!(
                units,
                "  {{ code = \"{}\", name = \"{}\", level = \"class\", parent = \"G{year}\" }},",
                class_code(year, i),
                class_name(year, i)
            );
        }
    }
    let scope: Vec<String> =
        (1..=COUNSELOR_CLASSES).map(|i| format!("\"{}\"", class_code(2025, i))).collect();
    format!(
        r#"
modules = ["enrollment", "notices"]

[school]
slug = "{slug}"
name = "{slug} 大学"
kind = "college"
district = "{district}"

[org]
levels = [{{ key = "grade", name = "年级" }}, {{ key = "class", name = "班级" }}]
units = [
{units}]

[admin]
username = "admin"
display_name = "{slug} 管理员"
initial_password = "initial-password-1"

[[staff]]
username = "counselor"
display_name = "{slug} 辅导员"
roles = ["counselor"]
units = [{}]
initial_password = "initial-password-2"

[[staff]]
username = "gradehead"
display_name = "{slug} 年级主任"
roles = ["counselor"]
units = ["G2025"]
initial_password = "initial-password-3"
"#,
        scope.join(", ")
    )
}

/// A small school for the scaling case: one grade, `classes` classes, only an admin.
pub fn small_manifest(slug: &str, district: &str, classes: usize) -> String {
    let mut units = String::from("  { code = \"G2025\", name = \"2025级\", level = \"grade\" },\n");
    for i in 1..=classes {
        let _ = writeln!(
            units,
            "  {{ code = \"{}\", name = \"{}\", level = \"class\", parent = \"G2025\" }},",
            class_code(2025, i),
            class_name(2025, i)
        );
    }
    format!(
        r#"
modules = ["enrollment"]

[school]
slug = "{slug}"
name = "{slug} 中学"
kind = "senior_high"
district = "{district}"

[org]
levels = [{{ key = "grade", name = "年级" }}, {{ key = "class", name = "班级" }}]
units = [
{units}]

[admin]
username = "admin"
display_name = "{slug} 管理员"
initial_password = "initial-password-1"
"#
    )
}

pub async fn onboard_text(db: &Db, text: &str) -> anyhow::Result<TenantId> {
    let manifest = Manifest::parse("bench", text)
        .map_err(|e| anyhow::anyhow!("bench manifest is invalid: {e:?}"))?;
    let actor = xg_audit::Actor::system("bench");
    Ok(onboard(db, &actor, &manifest).await.map_err(|e| anyhow::anyhow!("{e:?}"))?.school.id)
}

pub fn keyring() -> Arc<Keyring> {
    Arc::new(Keyring::new(&SecretString::from(TEST_MASTER_KEY)).expect("test master key"))
}

pub fn storage() -> (Storage, PathBuf) {
    let dir = std::env::temp_dir().join(format!("xg-bench-{}", Uuid::new_v4()));
    (Storage::Local(LocalDisk::new(dir.clone())), dir)
}

pub async fn account_id(db: &Db, tenant: TenantId, username: &str) -> anyhow::Result<Uuid> {
    let mut tx = db.tenant(tenant).await?;
    Ok(sqlx::query_scalar("select id from school_accounts where tenant_id = $1 and username = $2")
        .bind(tenant.as_uuid())
        .bind(username)
        .fetch_one(tx.conn())
        .await?)
}

pub async fn unit_ids(db: &Db, tenant: TenantId, codes: &[String]) -> anyhow::Result<Vec<Uuid>> {
    let mut tx = db.tenant(tenant).await?;
    Ok(sqlx::query_scalar("select id from org_units where tenant_id = $1 and code = any($2)")
        .bind(tenant.as_uuid())
        .bind(codes)
        .fetch_all(tx.conn())
        .await?)
}

/// The generator draws ID numbers at random, so a roster of tens of thousands holds a few
/// duplicates, which the import rightly refuses. Each later duplicate gets the next free
/// sequence number of the same gender (region and birth date kept, check digit recomputed).
pub fn unique_ids(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let col = xg_enrollment::export::HEADERS
        .iter()
        .position(|h| *h == "身份证号")
        .expect("the ID number column");
    let mut seen = std::collections::HashSet::new();
    for row in &mut rows {
        let mut id = row[col].clone();
        let mut seq: u32 = id[14..17].parse().expect("digits");
        while !seen.insert(id.clone()) {
            seq = (seq + 2) % 1000;
            id = xg_enrollment::generate::id_number(&row[col][..6], &row[col][6..14], seq);
        }
        row[col] = id;
    }
    rows
}
