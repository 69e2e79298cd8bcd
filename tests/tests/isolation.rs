//! Tenant isolation, each wall proven alone: RLS with raw SQL and no application filter, the
//! application's own filters with RLS switched off, and the transaction-scoped tenant setting
//! under concurrency, cancellation and an unset tenant.

use std::time::Duration;

use sqlx::{Executor, PgPool};
use xg_e2e::TestDb;
use xg_e2e::schools::{add_student, district, school};
use xg_kernel::{Db, TenantId};
use xg_tenancy::org;

/// Every table with a `tenant_id` column, discovered from the catalogue so a new module's
/// tables are covered without touching this file.
async fn tenant_tables(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind = 'r'
            and exists (select 1 from pg_attribute a where a.attrelid = c.oid
                          and a.attname = 'tenant_id' and not a.attisdropped)
          order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn count_in(db: &Db, tenant: TenantId, table: &str) -> (i64, i64) {
    let mut tx = db.tenant(tenant).await.unwrap();
    // Deliberately no WHERE clause: only RLS stands between this query and other schools.
    let all: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(tx.conn())
        .await
        .unwrap();
    let foreign: i64 = sqlx::query_scalar(&format!(
        "select count(*) from {table} where tenant_id <> '{}'",
        tenant
    ))
    .fetch_one(tx.conn())
    .await
    .unwrap();
    (all, foreign)
}

/// One row in each table that a freshly onboarded school leaves empty, written through the
/// product's own functions where there is one.
async fn fill_tables_onboarding_leaves_empty(db: &Db, tenant: TenantId) {
    let mut tx = db.tenant(tenant).await.unwrap();
    let account: uuid::Uuid =
        sqlx::query_scalar("select id from school_accounts where username = 'admin'")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    sqlx::query(
        "insert into attachments (tenant_id, id, file_name, content_type, size_bytes, sha256)
         values ($1, gen_random_uuid(), '照片.jpg', 'image/jpeg', 10, 'x')",
    )
    .bind(tenant.as_uuid())
    .execute(tx.conn())
    .await
    .unwrap();
    let handover: uuid::Uuid = sqlx::query_scalar(
        "insert into handovers (tenant_id, id, from_unit, to_unit, subject)
         select $1, gen_random_uuid(), a.id, b.id, '移交'
           from org_units a, org_units b where a.code = 'G1-C1' and b.code = 'G1-C2'
         returning id",
    )
    .bind(tenant.as_uuid())
    .fetch_one(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "insert into handover_events (tenant_id, handover_id, seq, actor_id, actor_name, action)
         values ($1, $2, 1, $3, 'admin', 'handed')",
    )
    .bind(tenant.as_uuid())
    .bind(handover)
    .bind(account)
    .execute(tx.conn())
    .await
    .unwrap();
    // Student records: the school's data key, a history entry, an import job, a transfer case.
    let keyring = xg_kernel::keyring::Keyring::new(&secrecy::SecretString::from(
        xg_e2e::app::TEST_MASTER_KEY,
    ))
    .unwrap();
    let key = keyring.for_school(&mut tx).await.unwrap();
    let student: uuid::Uuid =
        sqlx::query_scalar("select id from students limit 1").fetch_one(tx.conn()).await.unwrap();
    let change = xg_enrollment::status::Request {
        kind: xg_enrollment::status::Kind::Suspend,
        reason: "因病".into(),
        effective_date: time::macros::date!(2026 - 03 - 01),
        document_no: None,
        approved_by: None,
        attachment_id: None,
    };
    xg_enrollment::status::apply(&mut tx, student, &change, &xg_e2e::schools::test_actor())
        .await
        .unwrap();
    let attachment: uuid::Uuid = sqlx::query_scalar("select id from attachments limit 1")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    sqlx::query(
        "insert into student_imports (tenant_id, id, attachment_id, file_name, status,
             created_by_name)
         values ($1, gen_random_uuid(), $2, '名册.csv', 'previewed', 'admin')",
    )
    .bind(tenant.as_uuid())
    .bind(attachment)
    .execute(tx.conn())
    .await
    .unwrap();
    sqlx::query(
        "insert into student_transfers (tenant_id, id, direction, counterpart_school_id,
             student_name, student_no, id_number_masked, id_number_sealed, reason, status,
             requested_by_name)
         values ($1, gen_random_uuid(), 'incoming', $1, '张三', '0001', '1101**', $2, '迁居',
                 'requested', 'admin')",
    )
    .bind(tenant.as_uuid())
    .bind(key.seal("id_number", "110101201003070011").unwrap())
    .execute(tx.conn())
    .await
    .unwrap();
    fill_notice_tables(&mut tx, account).await;
    tx.commit().await.unwrap();
    xg_web::refresh::issue(db, xg_web::refresh::Store::School(tenant), account).await.unwrap();
    xg_e2e::awards::fill_tables(db, tenant).await;
    fill_student_record_tables(db, tenant).await;
}

/// One row in each student-record table onboarding leaves empty (the school has a student).
async fn fill_student_record_tables(db: &Db, tenant: TenantId) {
    let mut tx = db.tenant(tenant).await.unwrap();
    for sql in [
        "insert into student_status_changes
             (tenant_id, id, student_id, kind, to_status, reason, effective_date, recorded_by_name)
         select $1, gen_random_uuid(), id, 'enroll', 'enrolled', '入学', current_date, 'admin'
           from students where tenant_id = $1 limit 1",
        "insert into student_imports
             (tenant_id, id, attachment_id, file_name, status, created_by_name)
         select $1, gen_random_uuid(), id, 'roster.xlsx', 'previewed', 'admin'
           from attachments where tenant_id = $1 limit 1",
        "insert into student_transfers
             (tenant_id, id, direction, counterpart_school_id, student_name, student_no,
              id_number_masked, id_number_sealed, reason, status, requested_by_name)
         values ($1, gen_random_uuid(), 'outgoing', $1, '学生', 'T-1', '1101**********0017',
                 '\\x00', '转学', 'requested', 'admin')",
    ] {
        sqlx::query(sql).bind(tenant.as_uuid()).execute(tx.conn()).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// A published notice with one receipt, revision, attachment link and reminder.
async fn fill_notice_tables(tx: &mut xg_kernel::TenantTx, account: uuid::Uuid) {
    let tenant = tx.tenant().as_uuid();
    let notice = uuid::Uuid::new_v4();
    for sql in [
        "insert into notices (tenant_id, id, title, category, status, published_at, sender_id,
                              sender_name)
         values ($1, $2, '通知', 'general', 'published', now(), $3, 'admin')",
        "insert into notice_units (tenant_id, notice_id, org_unit_id)
         select $1, $2, id from org_units where depth = 1",
        "insert into notice_recipients (tenant_id, notice_id, student_id, org_unit_id)
         select $1, $2, id, org_unit_id from students limit 1",
        "insert into notice_revisions (tenant_id, notice_id, revision, title, body_html, category,
                                       editor_id, editor_name)
         values ($1, $2, 1, '旧标题', '', 'general', $3, 'admin')",
        "insert into notice_attachments (tenant_id, notice_id, attachment_id)
         select $1, $2, id from attachments limit 1",
        "insert into notice_reminders (tenant_id, notice_id, seq, sender_id, sender_name, targets)
         values ($1, $2, 1, $3, 'admin', 1)",
    ] {
        let done = sqlx::query(sql)
            .bind(tenant)
            .bind(notice)
            .bind(account)
            .execute(tx.conn())
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1, "{sql}");
    }
}

#[tokio::test]
async fn rls_alone_hides_every_other_schools_rows_in_every_tenant_table() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "school-a").await;
    let b = school(&t.app, "d1", "school-b").await;
    add_student(&t.app, a.id, "20230001", "G1-C1").await;
    add_student(&t.app, b.id, "20230001", "G1-C2").await;
    add_student(&t.app, b.id, "20230002", "G1-C2").await;
    for s in [a.id, b.id] {
        fill_tables_onboarding_leaves_empty(&t.app, s).await;
    }

    let tables = tenant_tables(&t.owner).await;
    assert!(tables.len() >= 7, "{tables:?}");
    for table in &tables {
        let (a_all, a_foreign) = count_in(&t.app, a.id, table).await;
        let (b_all, b_foreign) = count_in(&t.app, b.id, table).await;
        assert_eq!((a_foreign, b_foreign), (0, 0), "{table} leaks rows across schools");
        assert!(
            a_all > 0 && b_all > 0,
            "{table} has rows in both schools, so the test means something"
        );
    }
    assert_eq!(count_in(&t.app, a.id, "students").await.0, 1);
    assert_eq!(count_in(&t.app, b.id, "students").await.0, 2);
}

#[tokio::test]
async fn rls_alone_rejects_writes_into_another_school() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "school-a").await;
    let b = school(&t.app, "d1", "school-b").await;
    add_student(&t.app, b.id, "B-1", "G1-C1").await;

    let mut tx = t.app.tenant(a.id).await.unwrap();
    let insert = sqlx::query(
        "insert into students (tenant_id, id, student_no, name) values ($1, gen_random_uuid(), 'X', 'x')",
    )
    .bind(b.id.as_uuid())
    .execute(tx.conn())
    .await;
    let err = insert.unwrap_err().to_string();
    assert!(err.contains("row-level security"), "{err}");
    drop(tx);

    let mut tx = t.app.tenant(a.id).await.unwrap();
    let updated = sqlx::query("update students set name = 'hijacked'").execute(tx.conn()).await;
    assert_eq!(updated.unwrap().rows_affected(), 0);
    let deleted = sqlx::query("delete from students").execute(tx.conn()).await;
    assert_eq!(deleted.unwrap().rows_affected(), 0);
    // Moving A's own row into B is a write into B, and is refused too.
    tx.commit().await.unwrap();
    add_student(&t.app, a.id, "A-1", "G1-C1").await;
    let mut tx = t.app.tenant(a.id).await.unwrap();
    let moved = sqlx::query("update students set tenant_id = $1")
        .bind(b.id.as_uuid())
        .execute(tx.conn())
        .await;
    assert!(moved.is_err(), "moving a row to another school must fail");
    drop(tx);

    let mut tx = t.app.tenant(b.id).await.unwrap();
    let name: String = sqlx::query_scalar("select name from students where student_no = 'B-1'")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(name, "学生B-1");
}

#[tokio::test]
async fn an_unset_or_empty_tenant_sees_zero_rows_and_no_error() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "school-a").await;
    add_student(&t.app, a.id, "1", "G1-C1").await;

    for table in tenant_tables(&t.owner).await {
        let mut tx = t.app.platform().await.unwrap();
        let unset: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(tx.conn())
            .await
            .unwrap();
        tx.conn().execute("select set_config('app.tenant_id', '', true)").await.unwrap();
        let empty: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(tx.conn())
            .await
            .unwrap();
        assert_eq!((unset, empty), (0, 0), "{table}");
    }
}

#[tokio::test]
async fn student_numbers_are_unique_per_school_not_globally() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "school-a").await;
    let b = school(&t.app, "d1", "school-b").await;
    add_student(&t.app, a.id, "20230001", "G1-C1").await;
    add_student(&t.app, b.id, "20230001", "G1-C1").await;

    let mut tx = t.app.tenant(a.id).await.unwrap();
    let dup = sqlx::query(
        "insert into students (tenant_id, id, student_no, name) values ($1, gen_random_uuid(), '20230001', 'x')",
    )
    .bind(a.id.as_uuid())
    .execute(tx.conn())
    .await;
    assert!(dup.unwrap_err().to_string().contains("students_tenant_id_student_no_key"));
}

#[tokio::test]
async fn application_filters_alone_keep_schools_apart_with_rls_switched_off() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "school-a").await;
    let b = school(&t.app, "d1", "school-b").await;

    // Remove the second wall entirely for this database.
    for table in tenant_tables(&t.owner).await {
        t.owner
            .execute(format!("alter table {table} disable row level security").as_str())
            .await
            .unwrap();
    }
    let mut raw = t.app.tenant(a.id).await.unwrap();
    let visible: i64 =
        sqlx::query_scalar("select count(*) from org_units").fetch_one(raw.conn()).await.unwrap();
    assert_eq!(visible, 6, "with RLS off, raw SQL sees both schools' units");
    drop(raw);

    let mut tx = t.app.tenant(a.id).await.unwrap();
    let units = org::list_units(&mut tx).await.unwrap();
    let levels = org::list_levels(&mut tx).await.unwrap();
    let admin = xg_tenancy::accounts::find_school_account(&mut tx, "admin").await.unwrap().unwrap();
    drop(tx);
    let mut tx = t.app.tenant(b.id).await.unwrap();
    let b_units = org::list_units(&mut tx).await.unwrap();
    let b_admin =
        xg_tenancy::accounts::find_school_account(&mut tx, "admin").await.unwrap().unwrap();

    assert_eq!(units.len(), 3);
    assert_eq!(levels.len(), 2);
    assert!(units.iter().all(|u| !b_units.iter().any(|bu| bu.id == u.id)));
    assert_ne!(admin.id, b_admin.id);
    assert_eq!(admin.roles, ["school_admin"]);
}

#[tokio::test]
async fn fifty_concurrent_requests_alternating_schools_on_a_pool_of_two_never_mix() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "school-a").await;
    let b = school(&t.app, "d1", "school-b").await;
    add_student(&t.app, a.id, "A", "G1-C1").await;
    add_student(&t.app, b.id, "B", "G1-C1").await;
    let db = Db::from_pool(t.app_pool(2).await);

    let mut tasks = Vec::new();
    for i in 0..60 {
        let db = db.clone();
        let (tenant, expected) = if i % 2 == 0 { (a.id, "A") } else { (b.id, "B") };
        tasks.push(tokio::spawn(async move {
            if i % 10 == 9 {
                // A request with no tenant in between must see nothing at all.
                let mut tx = db.platform().await.unwrap();
                let n: i64 = sqlx::query_scalar("select count(*) from students")
                    .fetch_one(tx.conn())
                    .await
                    .unwrap();
                return vec![format!("none:{n}")];
            }
            let mut tx = db.tenant(tenant).await.unwrap();
            tx.conn().execute("select pg_sleep(0.005)").await.unwrap();
            let rows: Vec<String> = sqlx::query_scalar("select student_no from students")
                .fetch_all(tx.conn())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(rows, [expected]);
            rows
        }));
    }
    let mut seen = Vec::new();
    for task in tasks {
        seen.extend(task.await.unwrap());
    }
    // Every tenth request (all odd, so all would have been B's) ran without a tenant.
    assert_eq!(seen.iter().filter(|s| *s == "A").count(), 30);
    assert_eq!(seen.iter().filter(|s| *s == "B").count(), 24);
    assert_eq!(seen.iter().filter(|s| *s == "none:0").count(), 6);
}

#[tokio::test]
async fn a_request_cancelled_midway_leaves_no_tenant_on_the_pooled_connection() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "school-a").await;
    add_student(&t.app, a.id, "A", "G1-C1").await;
    let db = Db::from_pool(t.app_pool(1).await);

    for _ in 0..3 {
        let slow = async {
            let mut tx = db.tenant(a.id).await.unwrap();
            sqlx::query("select pg_sleep(1)").execute(tx.conn()).await.unwrap();
            tx.commit().await.unwrap();
        };
        let timed_out = tokio::time::timeout(Duration::from_millis(200), slow).await;
        assert!(timed_out.is_err(), "the request was cancelled");

        // The pool has one connection: this is the very connection the cancelled request used.
        let mut tx = db.platform().await.unwrap();
        let (setting, visible): (Option<String>, i64) = sqlx::query_as(
            "select current_setting('app.tenant_id', true), (select count(*) from students)",
        )
        .fetch_one(tx.conn())
        .await
        .unwrap();
        assert_eq!(setting.unwrap_or_default(), "");
        assert_eq!(visible, 0);
    }
}

#[tokio::test]
async fn a_district_reads_its_own_schools_only_and_cannot_write() {
    let t = TestDb::new().await;
    let d1 = district(&t.app, "d1").await;
    district(&t.app, "d2").await;
    let a = school(&t.app, "d1", "school-a").await;
    let b = school(&t.app, "d1", "school-b").await;
    let c = school(&t.app, "d2", "school-c").await;
    for s in [&a, &b, &c] {
        add_student(&t.app, s.id, "1", "G1-C1").await;
    }

    let mut tx = t.app.district(d1.id).await.unwrap();
    let mut seen: Vec<uuid::Uuid> = sqlx::query_scalar("select distinct tenant_id from students")
        .fetch_all(tx.conn())
        .await
        .unwrap();
    seen.sort();
    let mut expected = vec![a.id.as_uuid(), b.id.as_uuid()];
    expected.sort();
    assert_eq!(seen, expected);
    let accounts: i64 = sqlx::query_scalar("select count(*) from school_accounts")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(accounts, 0, "accounts are not district-readable");
    let write = sqlx::query("update students set name = 'x'").execute(tx.conn()).await.unwrap();
    assert_eq!(write.rows_affected(), 0, "district context has no write policy");
}
