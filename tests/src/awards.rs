//! Rows in every workflow and awards table for one school, written through the engine where it
//! has a function, so the isolation tests see data on both sides.

use uuid::Uuid;
use xg_kernel::{Db, TenantId};
use xg_workflow::{Actor, Decision, NewStep, Reach};

/// Needs the test manifest's `admin` and `counselor` (over `G1-C1`) and one student.
pub async fn fill_tables(db: &Db, tenant: TenantId) {
    let mut tx = db.tenant(tenant).await.unwrap();
    let t = tenant.as_uuid();
    let actor = |username: &'static str| {
        sqlx::query_as::<_, (Uuid, String)>(
            "select id, display_name from school_accounts where tenant_id = $1 and username = $2",
        )
        .bind(t)
        .bind(username)
    };
    let (id, name) = actor("admin").fetch_one(tx.conn()).await.unwrap();
    let admin = Actor { id, name };
    let (id, name) = actor("counselor").fetch_one(tx.conn()).await.unwrap();
    let counselor = Actor { id, name };
    let class: Uuid =
        sqlx::query_scalar("select id from org_units where tenant_id = $1 and code = 'G1-C1'")
            .bind(t)
            .fetch_one(tx.conn())
            .await
            .unwrap();
    let step = NewStep { role_key: "counselor".into(), reach: Reach::Unit, counts_quota: true };
    xg_workflow::publish(&mut tx, &admin, "award", "奖学金", 5, &[step]).await.unwrap();
    let item = Uuid::new_v4();
    sqlx::query(
        "insert into award_items (tenant_id, id, name, category, amount_fen, opens_at, closes_at,
                                  workflow_key)
         values ($1, $2, '奖学金', 'scholarship', 100000, now(), now() + interval '1 day', 'award')",
    )
    .bind(t)
    .bind(item)
    .execute(tx.conn())
    .await
    .unwrap();
    let student: Uuid = sqlx::query_scalar("select id from students where tenant_id = $1 limit 1")
        .bind(t)
        .fetch_one(tx.conn())
        .await
        .expect("the school has a student");
    let subject = format!("award:{item}");
    let app =
        xg_workflow::submit(&mut tx, &admin, "award", &subject, "奖学金", class, Some(2), "申请")
            .await
            .unwrap();
    sqlx::query(
        "insert into award_applications
             (tenant_id, application_id, item_id, student_id, academic_year, statement)
         values ($1, $2, $3, $4, 2026, '申请')",
    )
    .bind(t)
    .bind(app)
    .bind(item)
    .bind(student)
    .execute(tx.conn())
    .await
    .unwrap();
    xg_workflow::act(&mut tx, &counselor, app, Decision::Approve, "推荐", 1, Some("k"))
        .await
        .unwrap();
    xg_workflow::object(&mut tx, &counselor, app, "异议").await.unwrap();
    // The school's data key, as sealing a bank account creates it.
    let keyring =
        xg_kernel::keyring::Keyring::new(&crate::app::TEST_MASTER_KEY.to_owned().into()).unwrap();
    let key = keyring.for_school(&mut tx).await.unwrap();
    let sealed = key.seal("bank_account", "6222021234567890123").unwrap();
    let batch = Uuid::new_v4();
    sqlx::query(
        "insert into award_batches (tenant_id, id, item_id, paid_on, method, created_by)
         values ($1, $2, $3, current_date, 'cash', $4)",
    )
    .bind(t)
    .bind(batch)
    .bind(item)
    .bind(admin.id)
    .execute(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "insert into award_payments
             (tenant_id, application_id, batch_id, amount_fen, account_sealed, account_masked)
         values ($1, $2, $3, 100000, $4, '**** **** 0123')",
    )
    .bind(t)
    .bind(app)
    .bind(batch)
    .bind(sealed)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
}
