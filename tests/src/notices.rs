//! Helpers for the notices tests: two schools with student accounts, composing and uploading
//! through the real forms, and reading receipts straight from the database.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use uuid::Uuid;
use xg_kernel::{Db, TenantId};

use crate::TestDb;
use crate::app::{TestApp, browser, csrf_in, get, post_form, sign_in};
use crate::schools::{add_student, add_student_account, district, school};

pub async fn unit_id(db: &Db, tenant: TenantId, code: &str) -> Uuid {
    let mut tx = db.tenant(tenant).await.unwrap();
    sqlx::query_scalar("select id from org_units where code = $1")
        .bind(code)
        .fetch_one(tx.conn())
        .await
        .unwrap()
}

pub async fn notice_id(db: &Db, tenant: TenantId, title: &str) -> Uuid {
    let mut tx = db.tenant(tenant).await.unwrap();
    sqlx::query_scalar("select id from notices where title = $1")
        .bind(title)
        .fetch_one(tx.conn())
        .await
        .unwrap()
}

/// (delivered, read, confirmed) straight from the receipts.
pub async fn receipt_counts(db: &Db, tenant: TenantId, notice: Uuid) -> (i64, i64, i64) {
    let mut tx = db.tenant(tenant).await.unwrap();
    sqlx::query_as(
        "select count(*), count(read_at), count(confirmed_at) from notice_recipients
          where notice_id = $1",
    )
    .bind(notice)
    .fetch_one(tx.conn())
    .await
    .unwrap()
}

pub async fn student_client(app: &TestApp, slug: &str, username: &str) -> reqwest::Client {
    let client = browser();
    let password = format!("{username}-password");
    let res = sign_in(app, &client, &format!("/s/{slug}/login"), username, &password).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "student {username} signs in");
    client
}

/// Writes a notice through the compose form; `action` is `publish` or `draft`.
pub async fn compose(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    title: &str,
    body: &str,
    units: &[Uuid],
    extra: &[(&str, &str)],
) -> (StatusCode, String) {
    let unit_fields: Vec<String> = units.iter().map(|u| format!("unit_{u}")).collect();
    let mut fields: Vec<(&str, &str)> =
        vec![("title", title), ("body", body), ("category", "general"), ("action", "publish")];
    fields.extend(unit_fields.iter().map(|f| (f.as_str(), "on")));
    fields.extend_from_slice(extra);
    let list = format!("/s/{slug}/notices");
    post_form(app, client, &list, &list, &fields).await
}

/// Two schools in one district; alpha has two students in 高一(1)班 and one in 高一(2)班, each
/// with an account (`s1`, `s2`, `s3`); beta has one student (`b1`) in its 高一(1)班.
pub struct World {
    pub t: TestDb,
    pub alpha: TenantId,
    pub beta: TenantId,
}

pub async fn world() -> World {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let alpha = school(&t.app, "d1", "alpha").await.id;
    let beta = school(&t.app, "d1", "beta").await.id;
    for (no, unit, user) in
        [("C1-001", "G1-C1", "s1"), ("C1-002", "G1-C1", "s2"), ("C2-001", "G1-C2", "s3")]
    {
        let student = add_student(&t.app, alpha, no, unit).await;
        add_student_account(&t.app, alpha, student, user).await;
    }
    let b1 = add_student(&t.app, beta, "C1-001", "G1-C1").await;
    add_student_account(&t.app, beta, b1, "b1").await;
    World { t, alpha, beta }
}

pub fn pdf_bytes(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    bytes.resize(len, b'a');
    bytes
}

pub async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    notice: Uuid,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, String) {
    let page = get(app, client, &format!("/s/{slug}/notices/{notice}")).await.1;
    let form = Form::new()
        .text("csrf", csrf_in(&page))
        .part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let url = app.url(&format!("/s/{slug}/notices/{notice}/attachments"));
    let res = client.post(url).multipart(form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

pub async fn attachment_count(db: &Db, tenant: TenantId) -> i64 {
    let mut tx = db.tenant(tenant).await.unwrap();
    sqlx::query_scalar("select count(*) from attachments").fetch_one(tx.conn()).await.unwrap()
}
