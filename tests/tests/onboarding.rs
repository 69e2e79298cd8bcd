//! Onboarding from manifests: the shipped demo manifests, idempotence, and that a failure at any
//! point leaves nothing half-created.

use std::path::PathBuf;

use sqlx::Executor;
use xg_e2e::TestDb;
use xg_e2e::schools::test_actor;
use xg_e2e::schools::{district, manifest_text};
use xg_kernel::password;
use xg_tenancy::onboard::OnboardError;
use xg_tenancy::{Manifest, Problem, SchoolStatus, onboard, org, registry};

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

async fn school_count(t: &TestDb) -> i64 {
    sqlx::query_scalar("select count(*) from schools").fetch_one(t.app.pool()).await.unwrap()
}

#[tokio::test]
async fn the_demo_manifests_onboard_and_a_second_run_changes_nothing() {
    let t = TestDb::new().await;
    district(&t.app, "demo").await;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo_file("tenants"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 3, "{paths:?}");

    for path in &paths {
        let manifest = Manifest::from_file(path).unwrap_or_else(|e| panic!("{e:?}"));
        let first = onboard(&t.app, &test_actor(), &manifest).await.unwrap();
        assert!(first.school_created && first.admin_created, "{path:?}");
        assert!(first.units_created > 0);
        let second = onboard(&t.app, &test_actor(), &manifest).await.unwrap();
        assert!(!second.changed_anything(), "{path:?}: {second:?}");
        assert_eq!(second.school.id, first.school.id);

        let mut tx = t.app.tenant(first.school.id).await.unwrap();
        let units = org::list_units(&mut tx).await.unwrap();
        assert_eq!(units.len() as u64, first.units_created);
    }
    assert_eq!(school_count(&t).await, 3);
}

#[tokio::test]
async fn a_changed_manifest_adds_and_renames_but_keeps_the_admin_password() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let text = manifest_text("east", "d1");
    let first =
        onboard(&t.app, &test_actor(), &Manifest::parse("m", &text).unwrap()).await.unwrap();

    let changed = text
        .replace("高一(2)班", "高一(2)班（实验）")
        .replace("initial-password-1", "another-password-2")
        .replace(
            r#"  { code = "G1-C2""#,
            r#"  { code = "G1-C3", name = "高一(3)班", level = "class", parent = "G1" },
  { code = "G1-C2""#,
        );
    let second =
        onboard(&t.app, &test_actor(), &Manifest::parse("m", &changed).unwrap()).await.unwrap();
    assert_eq!((second.units_created, second.units_updated), (1, 1));
    assert!(!second.admin_created);

    let mut tx = t.app.tenant(first.school.id).await.unwrap();
    let admin = xg_tenancy::accounts::find_school_account(&mut tx, "admin").await.unwrap().unwrap();
    assert!(password::verify("initial-password-1", &admin.password_hash));
    assert!(admin.must_change_password);
}

#[tokio::test]
async fn an_unknown_district_names_the_file_and_field_and_creates_nothing() {
    let t = TestDb::new().await;
    let manifest = Manifest::parse("tenants/x.toml", &manifest_text("east", "nowhere")).unwrap();
    let OnboardError::Manifest(errors) =
        onboard(&t.app, &test_actor(), &manifest).await.unwrap_err()
    else {
        panic!("expected a manifest error")
    };
    assert_eq!(
        errors[0].to_string(),
        "tenants/x.toml: school.district: no district with slug 'nowhere'; create it first with \
         `xuegong district create`"
    );
    assert_eq!(school_count(&t).await, 0);
}

#[tokio::test]
async fn a_failure_midway_rolls_back_the_whole_school() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    // Make the database refuse the last unit, after the school, levels and first units exist.
    t.owner
        .execute("alter table org_units add constraint no_boom check (code <> 'G1-C2')")
        .await
        .unwrap();
    let manifest = Manifest::parse("m", &manifest_text("east", "d1")).unwrap();
    let err = onboard(&t.app, &test_actor(), &manifest).await.unwrap_err();
    assert!(matches!(err, OnboardError::Internal(_)), "{err:?}");

    assert_eq!(school_count(&t).await, 0);
    let leftovers: i64 = sqlx::query_scalar(
        "select (select count(*) from org_levels) + (select count(*) from org_units)
              + (select count(*) from roles) + (select count(*) from school_accounts)",
    )
    .fetch_one(&mut t.superuser().await)
    .await
    .unwrap();
    assert_eq!(leftovers, 0);
}

#[tokio::test]
async fn a_school_cannot_be_re_onboarded_into_another_district() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    district(&t.app, "d2").await;
    onboard(&t.app, &test_actor(), &Manifest::parse("m", &manifest_text("east", "d1")).unwrap())
        .await
        .unwrap();
    let moved = Manifest::parse("m2", &manifest_text("east", "d2")).unwrap();
    let OnboardError::Manifest(errors) = onboard(&t.app, &test_actor(), &moved).await.unwrap_err()
    else {
        panic!("expected a manifest error")
    };
    assert_eq!(errors[0].problem, Problem::DistrictMismatch("east".into(), "d1".into()));
}

#[tokio::test]
async fn concurrent_onboarding_of_one_manifest_creates_one_school() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let manifest = Manifest::parse("m", &manifest_text("east", "d1")).unwrap();
    let actor = test_actor();
    let (r1, r2) =
        tokio::join!(onboard(&t.app, &actor, &manifest), onboard(&t.app, &actor, &manifest));
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(r1.school.id, r2.school.id);
    assert!(r1.school_created ^ r2.school_created);
    assert_eq!(school_count(&t).await, 1);
}

#[tokio::test]
async fn suspending_and_resuming_keeps_the_schools_data() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    onboard(&t.app, &test_actor(), &Manifest::parse("m", &manifest_text("east", "d1")).unwrap())
        .await
        .unwrap();
    let mut tx = t.app.platform().await.unwrap();
    let s = registry::set_status(tx.conn(), &test_actor(), "east", SchoolStatus::Suspended)
        .await
        .unwrap();
    assert_eq!(s.unwrap().status, SchoolStatus::Suspended);
    assert!(
        registry::set_status(tx.conn(), &test_actor(), "missing", SchoolStatus::Active)
            .await
            .unwrap()
            .is_none()
    );
    let s = registry::set_status(tx.conn(), &test_actor(), "east", SchoolStatus::Active)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = t.app.tenant(s.id).await.unwrap();
    assert_eq!(org::list_units(&mut tx).await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_form_submitted_twice_at_once_creates_one_school_with_one_admin() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let first = Manifest::parse("web form", &manifest_text("east", "d1")).unwrap();
    let second = Manifest::parse(
        "web form",
        &manifest_text("east", "d1").replace("username = \"admin\"", "username = \"other\""),
    )
    .unwrap();
    let actor = test_actor();
    let (r1, r2) = tokio::join!(
        xg_tenancy::onboard::onboard_new(&t.app, &actor, &first),
        xg_tenancy::onboard::onboard_new(&t.app, &actor, &second)
    );
    let (ok, err) = match (r1, r2) {
        (Ok(ok), Err(err)) | (Err(err), Ok(ok)) => (ok, err),
        other => panic!("expected one success and one refusal: {other:?}"),
    };
    let OnboardError::Manifest(errors) = err else { panic!("{err:?}") };
    assert_eq!(errors[0].problem, Problem::SlugTaken("east".into()));
    let mut tx = t.app.tenant(ok.school.id).await.unwrap();
    let admins: i64 = sqlx::query_scalar(
        "select count(*) from account_roles where tenant_id = $1 and role_key = 'school_admin'",
    )
    .bind(ok.school.id.as_uuid())
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn two_schools_racing_for_one_subdomain_get_a_clear_refusal_not_a_crash() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let with_sub = |slug: &str| {
        let text = manifest_text(slug, "d1")
            .replace("kind = \"senior_high\"", "kind = \"senior_high\"\nsubdomain = \"same\"");
        Manifest::parse("m", &text).unwrap()
    };
    let (a, b) = (with_sub("east"), with_sub("west"));
    let actor = test_actor();
    let (r1, r2) = tokio::join!(onboard(&t.app, &actor, &a), onboard(&t.app, &actor, &b));
    let err = match (r1, r2) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        other => panic!("expected one success and one refusal: {other:?}"),
    };
    let OnboardError::Manifest(errors) = err else { panic!("{err:?}") };
    assert!(matches!(&errors[0].problem, Problem::SubdomainTaken(s, _) if s == "same"));
}

#[tokio::test]
async fn re_onboarding_cannot_move_a_unit_to_another_level() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let text = manifest_text("east", "d1");
    onboard(&t.app, &test_actor(), &Manifest::parse("m", &text).unwrap()).await.unwrap();
    // G1-C2 becomes a grade: the manifest is valid on its own, but would tear the tree.
    let moved = text.replace(
        r#"{ code = "G1-C2", name = "高一(2)班", level = "class", parent = "G1" }"#,
        r#"{ code = "G1-C2", name = "高一(2)班", level = "grade" }"#,
    );
    let err = onboard(&t.app, &test_actor(), &Manifest::parse("m", &moved).unwrap()).await;
    let Err(OnboardError::Manifest(errors)) = err else { panic!("{err:?}") };
    assert_eq!(errors[0].problem, Problem::UnitMoved("G1-C2".into()));
}

#[tokio::test]
async fn the_database_refuses_a_unit_that_skips_a_level_or_forms_a_cycle() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = xg_e2e::schools::school(&t.app, "d1", "east").await;
    let mut tx = t.app.tenant(s.id).await.unwrap();
    // Make the grade G1 a child of its own class: its depth would have to be 3.
    let cycle = sqlx::query(
        "update org_units set parent_id = (select id from org_units where code = 'G1-C1'),
                              depth = 3 where code = 'G1'",
    )
    .execute(tx.conn())
    .await;
    let err = cycle.unwrap_err().to_string();
    assert!(err.contains("has children and cannot change level"), "{err}");
}
