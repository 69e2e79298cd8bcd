//! The workflow engine against real PostgreSQL, without HTTP: versions in force on a date,
//! definition checks, the quota under concurrent recommendations, and notifications.

use uuid::Uuid;
use xg_e2e::TestDb;
use xg_e2e::schools::{district, school};
use xg_kernel::{Db, TenantId};
use xg_workflow::{Actor, Decision, NewStep, Outcome, Reach, Status, WfError};

/// (account id, display name) of a staff account from the test manifest.
async fn account(db: &Db, tenant: TenantId, username: &str) -> Actor {
    let mut tx = db.tenant(tenant).await.unwrap();
    let (id, name): (Uuid, String) = sqlx::query_as(
        "select id, display_name from school_accounts where tenant_id = $1 and username = $2",
    )
    .bind(tenant.as_uuid())
    .bind(username)
    .fetch_one(tx.conn())
    .await
    .unwrap();
    Actor { id, name }
}

async fn unit(db: &Db, tenant: TenantId, code: &str) -> Uuid {
    let mut tx = db.tenant(tenant).await.unwrap();
    sqlx::query_scalar("select id from org_units where tenant_id = $1 and code = $2")
        .bind(tenant.as_uuid())
        .bind(code)
        .fetch_one(tx.conn())
        .await
        .unwrap()
}

fn step(role: &str, reach: Reach, counts_quota: bool) -> NewStep {
    NewStep { role_key: role.into(), reach, counts_quota }
}

#[tokio::test]
async fn the_rule_shown_for_a_date_is_the_version_then_in_force() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = school(&t.app, "d1", "alpha").await;
    let admin = account(&t.app, s.id, "admin").await;
    let publish = |steps: Vec<NewStep>| {
        let (db, admin) = (t.app.clone(), admin.clone());
        async move {
            let mut tx = db.tenant(s.id).await.unwrap();
            let d = xg_workflow::publish(&mut tx, &admin, "grant", "助学金", 5, &steps).await;
            tx.commit().await.unwrap();
            d
        }
    };
    let v1 = publish(vec![step("counselor", Reach::Unit, true)]).await.unwrap();
    let v2 = publish(vec![
        step("counselor", Reach::Unit, true),
        step("school_admin", Reach::School, false),
    ])
    .await
    .unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));

    let mut tx = t.app.tenant(s.id).await.unwrap();
    let before = v1.effective_from - time::Duration::seconds(1);
    assert!(xg_workflow::as_of(&mut tx, "grant", before).await.unwrap().is_none());
    let between = v2.effective_from - time::Duration::microseconds(1);
    assert_eq!(xg_workflow::as_of(&mut tx, "grant", between).await.unwrap().unwrap().version, 1);
    assert_eq!(xg_workflow::current(&mut tx, "grant").await.unwrap().unwrap().version, 2);
    assert_eq!(xg_workflow::steps_of(&mut tx, v1.id).await.unwrap().len(), 1, "v1 unchanged");

    // Definitions name existing roles, have steps, and at most one quota step.
    for bad in [
        vec![],
        vec![step("principal", Reach::School, false)],
        vec![step("counselor", Reach::Unit, true), step("head_teacher", Reach::Unit, true)],
    ] {
        let err = xg_workflow::publish(&mut tx, &admin, "grant", "x", 5, &bad).await.unwrap_err();
        assert!(matches!(err, WfError::BadDefinition), "{err:?}");
    }
}

#[tokio::test]
async fn two_recommendations_racing_for_the_last_place_give_exactly_one() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = school(&t.app, "d1", "alpha").await;
    let (admin, counselor) =
        (account(&t.app, s.id, "admin").await, account(&t.app, s.id, "counselor").await);
    let class = unit(&t.app, s.id, "G1-C1").await;
    let mut tx = t.app.tenant(s.id).await.unwrap();
    let steps = [step("counselor", Reach::Unit, true), step("school_admin", Reach::School, false)];
    xg_workflow::publish(&mut tx, &admin, "honor", "评优", 0, &steps).await.unwrap();
    // Two applicants of one class (staff accounts stand in for students here).
    let mut apps = Vec::new();
    for applicant in [&admin, &account(&t.app, s.id, "counselor2").await] {
        let id = xg_workflow::submit(
            &mut tx,
            applicant,
            "honor",
            "honor:1",
            "三好学生",
            class,
            Some(1),
            "申请",
        )
        .await
        .unwrap();
        apps.push(id);
    }
    tx.commit().await.unwrap();

    let race = |app: Uuid| {
        let (db, counselor) = (t.app.clone(), counselor.clone());
        async move {
            let mut tx = db.tenant(s.id).await.unwrap();
            let out =
                xg_workflow::act(&mut tx, &counselor, app, Decision::Approve, "推荐", 1, None)
                    .await;
            if out.is_ok() {
                tx.commit().await.unwrap();
            }
            out
        }
    };
    let (r1, r2) = tokio::join!(race(apps[0]), race(apps[1]));
    let results = [r1, r2];
    let moved =
        results.iter().filter(|r| matches!(r, Ok(Outcome::Moved(Status::InReview, 2)))).count();
    let full = results.iter().filter(|r| matches!(r, Err(WfError::QuotaFull))).count();
    assert_eq!((moved, full), (1, 1), "{results:?}");

    // The applicant heard about each change of their own application, and nobody else's.
    let mut tx = t.app.tenant(s.id).await.unwrap();
    let winner = if results[0].is_ok() { apps[0] } else { apps[1] };
    let app = xg_workflow::get(&mut tx, winner).await.unwrap().unwrap();
    let notes = xg_workflow::notifications(&mut tx, app.applicant_id, 10).await.unwrap();
    assert_eq!(notes.len(), 2, "submitted, then moved on");
    assert!(notes.iter().any(|n| n.message.contains("第 1 步审核通过")));
    let history = xg_workflow::history(&mut tx, winner).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.action.as_str()).collect::<Vec<_>>(),
        ["submit", "approve"]
    );
}
