//! The audit logs: writes are recorded in the school's and the platform's chains, the service
//! role cannot alter them, tampering is found by `verify`, and a school sees only its own log.

use sqlx::{Connection, Executor};
use xg_audit::{Actor, Change, Filter};
use xg_e2e::TestDb;
use xg_e2e::schools::{district, school};

#[tokio::test]
async fn onboarding_is_recorded_in_the_school_and_platform_chains() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "alpha").await;

    let mut tx = t.app.tenant(a.id).await.unwrap();
    let entries =
        xg_audit::list(&mut tx, &Filter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "school.onboard");
    assert_eq!(entries[0].after.as_ref().unwrap()["units_created"], 3);
    assert_eq!(xg_audit::verify(&mut tx).await.unwrap().first_broken, None);
    drop(tx);

    let mut tx = t.app.platform().await.unwrap();
    let report = xg_audit::verify_platform(tx.conn()).await.unwrap();
    assert_eq!(
        (report.entries, report.first_broken),
        (2, None),
        "district.create + school.onboard"
    );
}

#[tokio::test]
async fn the_service_role_cannot_update_or_delete_audit_entries() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "alpha").await;
    let mut tx = t.app.tenant(a.id).await.unwrap();
    let update = tx.conn().execute("update audit_log set actor_name = 'x'").await;
    assert!(update.unwrap_err().to_string().contains("permission denied"));
    drop(tx);
    let mut tx = t.app.tenant(a.id).await.unwrap();
    let delete = tx.conn().execute("delete from audit_log").await;
    assert!(delete.unwrap_err().to_string().contains("permission denied"));
    drop(tx);
    let platform = t.app.pool().execute("delete from platform_audit_log").await;
    assert!(platform.unwrap_err().to_string().contains("permission denied"));
}

#[tokio::test]
async fn tampering_by_a_privileged_role_is_found_by_verify() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "alpha").await;
    for i in 0..4 {
        let mut tx = t.app.tenant(a.id).await.unwrap();
        let change = Change::new("org.unit.rename", format!("org_unit:{i}"))
            .after(serde_json::json!({"name": i}));
        xg_audit::record(&mut tx, &Actor::system("test"), change).await.unwrap();
        tx.commit().await.unwrap();
    }
    let mut su = t.superuser().await;
    let mut txn = su.begin().await.unwrap();
    txn.execute("alter table audit_log disable trigger audit_log_append_only").await.unwrap();
    txn.execute("update audit_log set after = '{\"name\": 99}' where seq = 3").await.unwrap();
    txn.commit().await.unwrap();

    let mut tx = t.app.tenant(a.id).await.unwrap();
    let report = xg_audit::verify(&mut tx).await.unwrap();
    assert_eq!((report.entries, report.first_broken), (5, Some(3)));
}

#[tokio::test]
async fn the_append_only_trigger_stops_even_the_owner() {
    let t = TestDb::new().await;
    let err = t.owner.execute("delete from platform_audit_log").await;
    // The owner is refused by the trigger (there are no rows to delete, so insert one first).
    assert!(err.is_ok());
    let mut tx = t.app.platform().await.unwrap();
    xg_audit::record_platform(tx.conn(), &Actor::system("t"), Change::new("district.create", "x"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let err = t.owner.execute("delete from platform_audit_log").await.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[tokio::test]
async fn a_school_sees_only_its_own_audit_log() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "alpha").await;
    let b = school(&t.app, "d1", "beta").await;
    let mut tx = t.app.tenant(b.id).await.unwrap();
    let change = Change::new("org.unit.rename", "org_unit:secret");
    xg_audit::record(&mut tx, &Actor::system("b"), change).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = t.app.tenant(a.id).await.unwrap();
    let entries =
        xg_audit::list(&mut tx, &Filter { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries.iter().all(|e| e.target == "school:alpha"));
    let filtered = xg_audit::list(
        &mut tx,
        &Filter { action_prefix: Some("org.".into()), limit: 100, ..Default::default() },
    )
    .await
    .unwrap();
    assert!(filtered.is_empty());
}
