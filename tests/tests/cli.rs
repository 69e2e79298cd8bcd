//! The `xuegong` command line, driven in-process with a configuration file: it refuses to serve
//! as a role that could bypass isolation, names bad settings, and onboards from manifests.

use std::io::Write;

use clap::Parser;
use secrecy::ExposeSecret;
use xg_e2e::TestDb;
use xuegong::cli::{Cli, execute};

fn config_file(body: &str) -> tempfile_path::TempPath {
    tempfile_path::write(body)
}

/// A tiny temp-file helper so the tests need no extra crate.
mod tempfile_path {
    use super::Write;

    pub struct TempPath(pub std::path::PathBuf);

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    pub fn write(body: &str) -> TempPath {
        write_as(body, "toml")
    }

    pub fn write_as(body: &str, extension: &str) -> TempPath {
        let name = format!("xg-cli-{}.{extension}", uuid::Uuid::new_v4());
        let path = std::env::temp_dir().join(name);
        std::fs::File::create(&path).unwrap().write_all(body.as_bytes()).unwrap();
        TempPath(path)
    }
}

async fn run(config: &tempfile_path::TempPath, args: &[&str]) -> anyhow::Result<()> {
    let path = config.0.to_str().unwrap();
    let argv = [&["xuegong", "--config", path], args].concat();
    execute(Cli::parse_from(argv)).await
}

fn settings(database_url: &str) -> String {
    format!(
        "database_url = \"{database_url}\"\nsession_secret = \"{}\"\nmaster_key = \"{}\"\n\
         [storage]\nlocal_dir = \"{}\"\n",
        "s".repeat(40),
        "ab".repeat(32),
        std::env::temp_dir().join("xg-cli-attachments").display()
    )
}

#[tokio::test]
async fn serve_refuses_to_start_as_the_owner_role_and_says_why() {
    let t = TestDb::new().await;
    let config = config_file(&settings(t.owner_url().expose_secret()));
    let err = run(&config, &["serve"]).await.unwrap_err().to_string();
    assert!(err.starts_with("refusing to serve"), "{err}");
    assert!(err.contains("role xuegong_owner owns"), "{err}");
}

#[tokio::test]
async fn check_passes_as_the_service_role() {
    let t = TestDb::new().await;
    let config = config_file(&settings(t.app_url().expose_secret()));
    run(&config, &["check"]).await.unwrap();
}

#[tokio::test]
async fn a_bad_setting_is_named_without_echoing_secrets() {
    let config = config_file("listen = \"not-an-address\"\nsession_secret = \"tiny\"\n");
    let err = run(&config, &["check"]).await.unwrap_err().to_string();
    assert!(err.contains("listen"), "{err}");
    let config = config_file("session_secret = \"tiny-secret\"\n");
    let err = run(&config, &["check"]).await.unwrap_err().to_string();
    assert!(err.contains("session_secret must be at least 32 bytes"), "{err}");
    assert!(!err.contains("tiny-secret"), "{err}");
}

#[tokio::test]
async fn districts_and_manifests_through_the_cli() {
    let t = TestDb::new().await;
    let config = config_file(&settings(t.app_url().expose_secret()));
    run(&config, &["district", "create", "demo", "示范区教育局"]).await.unwrap();
    let again = run(&config, &["district", "create", "demo", "示范区教育局"]).await;
    assert!(again.unwrap_err().to_string().contains("already exists"));
    run(&config, &["district", "create", "demo", "示范区教育局", "--if-missing"]).await.unwrap();

    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../tenants/senior-high.toml");
    run(&config, &["tenant", "onboard", manifest]).await.unwrap();
    run(&config, &["tenant", "suspend", "chengdong-high"]).await.unwrap();
    let mut tx = t.app.platform().await.unwrap();
    let school = xg_tenancy::registry::find_school(tx.conn(), "chengdong-high").await.unwrap();
    assert_eq!(school.unwrap().status, xg_tenancy::SchoolStatus::Suspended);
    drop(tx);

    let broken = config_file("[school]\nslug = \"Bad Slug\"\n");
    let err = run(&config, &["tenant", "onboard", broken.0.to_str().unwrap()]).await;
    assert_eq!(err.unwrap_err().to_string(), "1 of 1 manifests were not onboarded");
    let missing = run(&config, &["tenant", "suspend", "no-such-school"]).await;
    assert_eq!(missing.unwrap_err().to_string(), "no school with slug 'no-such-school'");
}

#[tokio::test]
async fn demo_fill_generates_students_once_and_the_cli_import_refuses_a_bad_roster() {
    let t = TestDb::new().await;
    let config = config_file(&settings(t.app_url().expose_secret()));
    run(&config, &["district", "create", "demo", "示范区教育局"]).await.unwrap();
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../tenants/vocational.toml");
    run(&config, &["tenant", "onboard", manifest]).await.unwrap();
    run(&config, &["students", "demo-fill", "demo", "--per-class", "4"]).await.unwrap();
    let count = || async {
        let mut su = t.superuser().await;
        let n: i64 =
            sqlx::query_scalar("select count(*) from students").fetch_one(&mut su).await.unwrap();
        let classes: i64 = sqlx::query_scalar(
            "select count(*) from org_units u where depth = (select max(depth) from org_levels l where l.tenant_id = u.tenant_id)",
        )
        .fetch_one(&mut su)
        .await
        .unwrap();
        (n, classes)
    };
    let (students, classes) = count().await;
    assert!(classes > 0);
    assert_eq!(students, classes * 4);
    run(&config, &["students", "demo-fill", "demo"]).await.unwrap();
    assert_eq!(count().await.0, students, "a filled school is left alone");

    let roster = tempfile_path::write_as(
        "学号,姓名,性别,身份证号,班级\n0001,张三,男,1.10101E+17,一班\n",
        "csv",
    );
    let err = run(
        &config,
        &["students", "import", "chengnan-vocational", roster.0.to_str().unwrap(), "--commit"],
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("problems; nothing was written"), "{err}");
    assert_eq!(count().await.0, students);
}
