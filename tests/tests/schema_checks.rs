//! The migration check: every tenant-owned table has forced RLS, the tenant policy and
//! tenant-led keys; views are security_invoker; and the service role can bypass nothing. The
//! same check runs at service start-up, so these tests also prove the service would refuse.

use secrecy::ExposeSecret;
use sqlx::{Connection, Executor, PgConnection};
use xg_e2e::TestDb;
use xg_kernel::isolation::{role_problems, schema_problems, verify_service_connection};

#[tokio::test]
async fn the_migrated_schema_passes_the_isolation_check_as_the_service_role() {
    let t = TestDb::new().await;
    let mut conn = t.app.pool().acquire().await.unwrap();
    assert_eq!(schema_problems(&mut conn).await.unwrap(), Vec::<String>::new());
    assert_eq!(role_problems(&mut conn).await.unwrap(), Vec::<String>::new());
    verify_service_connection(&mut conn).await.unwrap();
}

#[tokio::test]
async fn dropping_force_rls_from_any_table_fails_the_check() {
    let t = TestDb::new().await;
    t.owner.execute("alter table org_units no force row level security").await.unwrap();
    let mut conn = t.app.pool().acquire().await.unwrap();
    let problems = schema_problems(&mut conn).await.unwrap();
    assert_eq!(problems, ["table org_units: row-level security is not forced"]);
    let err = verify_service_connection(&mut conn).await.unwrap_err().to_string();
    assert!(err.starts_with("refusing to serve"), "{err}");
}

#[tokio::test]
async fn a_new_tenant_table_without_isolation_is_caught() {
    let t = TestDb::new().await;
    t.owner
        .execute(
            "create table sloppy (tenant_id uuid not null, id uuid primary key, note text);
             create view sloppy_view as select * from sloppy;
             create table sloppy_child (tenant_id uuid not null, id uuid not null,
                 parent uuid references sloppy (id), primary key (tenant_id, id));
             select xg_isolate('sloppy_child', false);",
        )
        .await
        .unwrap();
    let mut conn = t.app.pool().acquire().await.unwrap();
    let problems = schema_problems(&mut conn).await.unwrap();
    assert_eq!(
        problems,
        [
            "table sloppy: row-level security is not enabled",
            "table sloppy: row-level security is not forced",
            "table sloppy: no tenant_isolation policy for all commands",
            "table sloppy: primary key does not start with tenant_id",
            "table sloppy_child: foreign key sloppy_child_parent_fkey points at a tenant-owned \
             table without tenant_id, so a row could reference another school",
            "view sloppy_view: not security_invoker, so it would read with its owner's rights",
        ]
    );
}

#[tokio::test]
async fn the_owner_role_and_a_superuser_are_refused_as_service_connections() {
    let t = TestDb::new().await;
    let mut owner = t.owner.acquire().await.unwrap();
    let problems = role_problems(&mut owner).await.unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("owns (or is a member of the owner of)"), "{problems:?}");
    assert!(problems[1].contains("owns the schema"), "{problems:?}");

    let mut superuser = t.superuser().await;
    let problems = role_problems(&mut superuser).await.unwrap();
    assert!(problems.iter().any(|p| p.contains("is a superuser")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("BYPASSRLS")), "{problems:?}");
}

#[tokio::test]
async fn the_service_role_cannot_disable_rls_or_read_the_migration_history() {
    let t = TestDb::new().await;
    let err = t.app.pool().execute("alter table students disable row level security").await;
    assert!(err.unwrap_err().to_string().contains("must be owner"));
    let err = t.app.pool().execute("select * from _sqlx_migrations").await;
    assert!(err.unwrap_err().to_string().contains("permission denied"));
}

#[tokio::test]
async fn an_extra_or_edited_permissive_policy_fails_the_check() {
    let t = TestDb::new().await;
    t.owner
        .execute("create policy careless_read on org_units for select using (true)")
        .await
        .unwrap();
    t.owner
        .execute("alter policy tenant_isolation on students using (true) with check (true)")
        .await
        .unwrap();
    t.owner
        .execute("create policy narrowing on roles as restrictive for select using (builtin)")
        .await
        .unwrap();
    let mut conn = t.app.pool().acquire().await.unwrap();
    assert_eq!(
        schema_problems(&mut conn).await.unwrap(),
        [
            "table org_units: permissive policy careless_read is not one of the isolation \
             policies (it may admit other schools' rows)",
            "table students: permissive policy tenant_isolation is not one of the isolation \
             policies (it may admit other schools' rows)",
        ]
    );
}

#[tokio::test]
async fn a_rewritten_tenant_function_fails_the_check() {
    let t = TestDb::new().await;
    t.owner
        .execute(
            "create or replace function xg_current_tenant() returns uuid language sql stable
             as $$ select tenant_id from org_units limit 1 $$",
        )
        .await
        .unwrap();
    let mut conn = t.app.pool().acquire().await.unwrap();
    let problems = schema_problems(&mut conn).await.unwrap();
    assert_eq!(problems, ["function xg_current_tenant was changed; policies cannot rely on it"]);
}

#[tokio::test]
async fn membership_in_a_role_that_bypasses_rls_fails_the_check() {
    // Roles are cluster-wide: use a service role of this test's own, not xuegong_app, so
    // tests running at the same time are not disturbed.
    let t = TestDb::new().await;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (service, bypass) = (format!("svc_{id}"), format!("bypass_{id}"));
    let mut su = t.superuser().await;
    su.execute(
        format!(
            "create role {service} login password 'pw' nobypassrls;
             create role {bypass} nologin bypassrls;
             grant {bypass} to {service};"
        )
        .as_str(),
    )
    .await
    .unwrap();
    let url =
        t.app_url().expose_secret().replace("xuegong_app:xuegong_app", &format!("{service}:pw"));
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let problems = role_problems(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    su.execute(format!("drop role {service}; drop role {bypass}").as_str()).await.unwrap();
    assert_eq!(
        problems,
        [format!(
            "role {service} is a member of {bypass}, which can bypass row-level security \
             (SET ROLE would escape isolation)"
        )]
    );
}

/// The isolation policies read the tenant and district once per statement (an InitPlan), not
/// once per row: a per-row `current_setting` call had doubled the cost of scanning a school's
/// students (docs/benchmarks.md). The plan shape is asserted, not any timing.
#[tokio::test]
async fn the_policies_read_the_tenant_once_per_statement() {
    let t = TestDb::new().await;
    let tenant = uuid::Uuid::new_v4();
    let mut tx = t.app.pool().begin().await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "explain (costs off) select count(*) from students where tenant_id = '{tenant}'"
    ))
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("InitPlan"), "{plan}");
    assert!(!plan.contains("current_setting"), "{plan}");
    assert!(plan.contains("Filter: ((tenant_id = $0) OR (hashed SubPlan"), "{plan}");
    // Planning took a lock on the table that the policy change below would wait for.
    tx.rollback().await.unwrap();

    // The per-row form is no longer an accepted isolation policy, so it cannot creep back.
    t.owner
        .execute(
            "alter policy tenant_isolation on students using (tenant_id = xg_current_tenant())
             with check (tenant_id = xg_current_tenant())",
        )
        .await
        .unwrap();
    let mut conn = t.app.pool().acquire().await.unwrap();
    assert_eq!(
        schema_problems(&mut conn).await.unwrap(),
        ["table students: permissive policy tenant_isolation is not one of the isolation \
          policies (it may admit other schools' rows)"]
    );
}
