//! Builders for districts, schools and students, so each test makes exactly the tenants it needs.

use uuid::Uuid;
use xg_kernel::{Db, Slug, TenantId};
use xg_tenancy::registry;
use xg_tenancy::{District, Manifest, School, onboard};

pub async fn district(db: &Db, slug: &str) -> District {
    let mut tx = db.platform().await.unwrap();
    let d = registry::create_district(
        tx.conn(),
        &test_actor(),
        &Slug::parse(slug).unwrap(),
        &format!("{slug}局"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    d
}

/// A small senior high school: one grade (`G1`) with two classes (`G1-C1`, `G1-C2`).
pub fn manifest_text(slug: &str, district: &str) -> String {
    format!(
        r#"
modules = ["enrollment", "notices"]

[school]
slug = "{slug}"
name = "{slug} 中学"
kind = "senior_high"
district = "{district}"

[org]
levels = [{{ key = "grade", name = "年级" }}, {{ key = "class", name = "班级" }}]
units = [
  {{ code = "G1", name = "2025级", level = "grade" }},
  {{ code = "G1-C1", name = "高一(1)班", level = "class", parent = "G1" }},
  {{ code = "G1-C2", name = "高一(2)班", level = "class", parent = "G1" }},
]

[admin]
username = "admin"
display_name = "{slug} 管理员"
initial_password = "initial-password-1"

[[staff]]
username = "counselor"
display_name = "{slug} 辅导员"
roles = ["counselor"]
units = ["G1-C1"]
initial_password = "initial-password-2"

[[staff]]
username = "counselor2"
display_name = "{slug} 二班辅导员"
roles = ["counselor"]
units = ["G1-C2"]
initial_password = "initial-password-3"
"#
    )
}

pub async fn school(db: &Db, district: &str, slug: &str) -> School {
    let manifest = Manifest::parse("test", &manifest_text(slug, district)).unwrap();
    onboard(db, &test_actor(), &manifest).await.unwrap().school
}

/// Adds a student to the unit with `unit_code`, through the service role in the school's own
/// transaction.
pub async fn add_student(db: &Db, tenant: TenantId, student_no: &str, unit_code: &str) -> Uuid {
    let mut tx = db.tenant(tenant).await.unwrap();
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into students (tenant_id, id, student_no, name, org_unit_id)
         select $1, $2, $3, '学生' || $3, u.id from org_units u
          where u.tenant_id = $1 and u.code = $4",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(student_no)
    .bind(unit_code)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// A sign-in account for a student with the built-in `student` role and the password
/// `{username}-password`, ready to use (no change required).
pub async fn add_student_account(db: &Db, tenant: TenantId, student: Uuid, username: &str) -> Uuid {
    let hash = xg_kernel::password::hash(&format!("{username}-password")).unwrap();
    let mut tx = db.tenant(tenant).await.unwrap();
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into school_accounts (tenant_id, id, username, display_name, password_hash,
                                      must_change_password, student_id)
         values ($1, $2, $3, $3, $4, false, $5)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(username)
    .bind(&hash)
    .bind(student)
    .execute(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "insert into account_roles (tenant_id, account_id, role_key) values ($1, $2, 'student')",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// The audit actor for setup done by tests.
pub fn test_actor() -> xg_audit::Actor {
    xg_audit::Actor::system("test harness")
}
