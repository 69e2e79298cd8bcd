//! The awards module and the workflow engine under it, over HTTP against real PostgreSQL: a
//! three-step award with a class quota from application to disbursement, returns, rejections,
//! objections during the public notice, concurrent approvals, self-review, definition versions,
//! the national reference items, and a second school that can neither see nor act.

use reqwest::StatusCode;
use uuid::Uuid;
use xg_e2e::TestDb;
use xg_e2e::app::{TestApp, browser, get, post_form, sign_in_school};
use xg_e2e::schools::{add_student, district, test_actor};
use xg_kernel::{Db, TenantId, password};
use xg_tenancy::{Manifest, School, onboard};

const STEPS: &str = "head_teacher unit quota\ncounselor unit\nschool_admin school";

fn manifest(slug: &str) -> String {
    format!(
        r#"
modules = ["awards"]

[school]
slug = "{slug}"
name = "{slug} 中学"
kind = "senior_high"
district = "d1"

[org]
levels = [{{ key = "grade", name = "年级" }}, {{ key = "class", name = "班级" }}]
units = [
  {{ code = "G1", name = "2025级", level = "grade" }},
  {{ code = "G1-C1", name = "高一(1)班", level = "class", parent = "G1" }},
  {{ code = "G1-C2", name = "高一(2)班", level = "class", parent = "G1" }},
  {{ code = "G1-C3", name = "高一(3)班", level = "class", parent = "G1" }},
]

[admin]
username = "admin"
display_name = "{slug} 管理员"
initial_password = "initial-password-1"

[[staff]]
username = "head1"
display_name = "一班班主任"
roles = ["head_teacher"]
units = ["G1-C1"]
initial_password = "initial-password-2"

[[staff]]
username = "head1b"
display_name = "一班副班主任"
roles = ["head_teacher"]
units = ["G1-C1"]
initial_password = "initial-password-2"

[[staff]]
username = "head2"
display_name = "二班班主任"
roles = ["head_teacher"]
units = ["G1-C2"]
initial_password = "initial-password-2"

[[staff]]
username = "counselor"
display_name = "年级辅导员"
roles = ["counselor"]
units = ["G1"]
initial_password = "initial-password-3"
"#
    )
}

async fn awards_school(db: &Db, slug: &str) -> School {
    let manifest = Manifest::parse("test", &manifest(slug)).unwrap();
    onboard(db, &test_actor(), &manifest).await.unwrap().school
}

/// A student in `unit` with a portal account `username` (student role, initial password
/// `student-password-1`); `extra_role` also gives the account a staff role over the same unit.
async fn student(
    db: &Db,
    tenant: TenantId,
    username: &str,
    unit: &str,
    extra_role: Option<&str>,
) -> Uuid {
    let student = add_student(db, tenant, username, unit).await;
    let account = Uuid::new_v4();
    let hash = password::hash("student-password-1").unwrap();
    let mut tx = db.tenant(tenant).await.unwrap();
    sqlx::query(
        "insert into school_accounts (tenant_id, id, username, display_name, password_hash, student_id)
         values ($1, $2, $3, '学生' || $3, $4, $5)",
    )
    .bind(tenant.as_uuid())
    .bind(account)
    .bind(username)
    .bind(&hash)
    .bind(student)
    .execute(tx.conn())
    .await
    .unwrap();
    for role in std::iter::once("student").chain(extra_role) {
        sqlx::query(
            "insert into account_roles (tenant_id, account_id, role_key) values ($1, $2, $3)",
        )
        .bind(tenant.as_uuid())
        .bind(account)
        .bind(role)
        .execute(tx.conn())
        .await
        .unwrap();
    }
    if extra_role.is_some() {
        sqlx::query(
            "insert into staff_scopes (tenant_id, account_id, org_unit_id)
             select $1, $2, id from org_units where tenant_id = $1 and code = $3",
        )
        .bind(tenant.as_uuid())
        .bind(account)
        .bind(unit)
        .execute(tx.conn())
        .await
        .unwrap();
    }
    // Running instances learn of the new account's roles as they would from the accounts page.
    xg_authz::enforcer::bump_policy(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    account
}

struct World {
    t: TestDb,
    app: TestApp,
    school: School,
    admin: reqwest::Client,
}

impl World {
    async fn new() -> Self {
        let t = TestDb::new().await;
        district(&t.app, "d1").await;
        let school = awards_school(&t.app, "alpha").await;
        let app = TestApp::start(t.app.clone()).await;
        let admin = browser();
        sign_in_school(&app, &admin, "alpha", "admin", "initial-password-1").await;
        Self { t, app, school, admin }
    }

    async fn staff(&self, username: &str) -> reqwest::Client {
        let client = browser();
        let initial = match username {
            "counselor" => "initial-password-3",
            "admin" => "initial-password-1",
            _ => "initial-password-2",
        };
        sign_in_school(&self.app, &client, "alpha", username, initial).await;
        client
    }

    /// A signed-in student of `unit`.
    async fn student(&self, username: &str, unit: &str, role: Option<&str>) -> reqwest::Client {
        student(&self.t.app, self.school.id, username, unit, role).await;
        let client = browser();
        sign_in_school(&self.app, &client, "alpha", username, "student-password-1").await;
        client
    }

    async fn publish(&self, key: &str, steps: &str, notice_days: &str) -> (StatusCode, String) {
        let fields =
            [("key", key), ("name", "奖学金评审"), ("notice_days", notice_days), ("steps", steps)];
        post_form(
            &self.app,
            &self.admin,
            "/s/alpha/awards/manage",
            "/s/alpha/awards/workflows",
            &fields,
        )
        .await
    }

    /// Publishes the three-step workflow and an item with a class quota of `quota`, open now.
    async fn item(&self, name: &str, quota: &str) -> Uuid {
        if !self.has_definition("scholarship").await {
            let (status, html) = self.publish("scholarship", STEPS, "5").await;
            assert_eq!(status, StatusCode::OK, "{html}");
        }
        let today = time::OffsetDateTime::now_utc().date();
        let opens = (today - time::Duration::days(1)).to_string();
        let closes = (today + time::Duration::days(30)).to_string();
        let fields = [
            ("name", name),
            ("category", "scholarship"),
            ("amount", "5000"),
            ("criteria", "品学兼优"),
            ("class_quota", quota),
            ("opens", opens.as_str()),
            ("closes", closes.as_str()),
            ("attachment_note", "成绩单"),
            ("workflow_key", "scholarship"),
        ];
        let (status, html) = post_form(
            &self.app,
            &self.admin,
            "/s/alpha/awards/manage",
            "/s/alpha/awards/items",
            &fields,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains(&format!("已创建奖励项目：{name}")), "{html}");
        self.item_id(name).await
    }

    async fn has_definition(&self, key: &str) -> bool {
        let mut tx = self.t.app.tenant(self.school.id).await.unwrap();
        sqlx::query_scalar(
            "select exists (select 1 from wf_definitions where tenant_id = $1 and key = $2)",
        )
        .bind(self.school.id.as_uuid())
        .bind(key)
        .fetch_one(tx.conn())
        .await
        .unwrap()
    }

    async fn item_id(&self, name: &str) -> Uuid {
        let mut tx = self.t.app.tenant(self.school.id).await.unwrap();
        sqlx::query_scalar("select id from award_items where tenant_id = $1 and name = $2")
            .bind(self.school.id.as_uuid())
            .bind(name)
            .fetch_one(tx.conn())
            .await
            .unwrap()
    }

    async fn apply(&self, student: &reqwest::Client, item: Uuid) -> (StatusCode, String) {
        let path = format!("/s/alpha/awards/items/{item}/apply");
        post_form(
            &self.app,
            student,
            "/s/alpha/awards",
            &path,
            &[("statement", "成绩优异，积极参加志愿服务。")],
        )
        .await
    }

    /// The newest application of the student with `student_no`.
    async fn application_of(&self, student_no: &str) -> Uuid {
        let mut tx = self.t.app.tenant(self.school.id).await.unwrap();
        sqlx::query_scalar(
            "select aa.application_id from award_applications aa
               join students s on s.tenant_id = aa.tenant_id and s.id = aa.student_id
               join wf_applications a on a.tenant_id = aa.tenant_id and a.id = aa.application_id
              where aa.tenant_id = $1 and s.student_no = $2 order by a.created_at desc limit 1",
        )
        .bind(self.school.id.as_uuid())
        .bind(student_no)
        .fetch_one(tx.conn())
        .await
        .unwrap()
    }

    /// (status, step, version) of an application.
    async fn state(&self, app: Uuid) -> (String, i16, i32) {
        let mut tx = self.t.app.tenant(self.school.id).await.unwrap();
        sqlx::query_as(
            "select status, step, version from wf_applications where tenant_id = $1 and id = $2",
        )
        .bind(self.school.id.as_uuid())
        .bind(app)
        .fetch_one(tx.conn())
        .await
        .unwrap()
    }

    async fn actions(&self, app: Uuid) -> Vec<String> {
        let mut tx = self.t.app.tenant(self.school.id).await.unwrap();
        sqlx::query_scalar("select action from wf_actions where tenant_id = $1 and application_id = $2 order by seq")
            .bind(self.school.id.as_uuid())
            .bind(app)
            .fetch_all(tx.conn())
            .await
            .unwrap()
    }

    /// The review form for `app` as the reviewer's inbox shows it: (csrf, version, idem).
    async fn review_form(
        &self,
        reviewer: &reqwest::Client,
        app: Uuid,
    ) -> Option<(String, String, String)> {
        let (status, html) = get(&self.app, reviewer, "/s/alpha/awards/inbox").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let csrf = xg_e2e::app::csrf_in(&html);
        let start = html.find(&format!("awards/applications/{app}/act"))?;
        let rest = &html[start..];
        let value = |name: &str| {
            let marker = format!("name=\"{name}\" value=\"");
            let at = rest.find(&marker).unwrap() + marker.len();
            rest[at..].split('"').next().unwrap().to_owned()
        };
        Some((csrf, value("version"), value("idem")))
    }

    async fn post_review(
        &self,
        reviewer: &reqwest::Client,
        app: Uuid,
        form: &(String, String, String),
        decision: &str,
        comment: &str,
    ) -> (StatusCode, String) {
        let fields = [
            ("csrf", form.0.as_str()),
            ("version", form.1.as_str()),
            ("idem", form.2.as_str()),
            ("decision", decision),
            ("comment", comment),
        ];
        let res = reviewer
            .post(self.app.url(&format!("/s/alpha/awards/applications/{app}/act")))
            .form(&fields)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    }

    /// Decides from the reviewer's inbox; the application must be there.
    async fn review(
        &self,
        reviewer: &reqwest::Client,
        app: Uuid,
        decision: &str,
        comment: &str,
    ) -> (StatusCode, String) {
        let form = self.review_form(reviewer, app).await.expect("the application is in the inbox");
        self.post_review(reviewer, app, &form, decision, comment).await
    }

    /// Ends the public-notice window of `app` now, as if its days had passed.
    async fn close_window(&self, app: Uuid) {
        sqlx::query(
            "update wf_applications set notice_ends_at = now() - interval '1 minute' where id = $1",
        )
        .bind(app)
        .execute(&mut self.t.superuser().await)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_three_step_award_with_a_class_quota_runs_from_application_to_disbursement() {
    let w = World::new().await;
    let item = w.item("校长奖学金", "1").await;
    let s1 = w.student("S001", "G1-C1", None).await;
    let s2 = w.student("S002", "G1-C1", None).await;
    let s3 = w.student("S003", "G1-C2", None).await;
    for s in [&s1, &s2, &s3] {
        let (status, html) = w.apply(s, item).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("已提交“校长奖学金”的申请"), "{html}");
    }
    let (a1, a2, a3) = (
        w.application_of("S001").await,
        w.application_of("S002").await,
        w.application_of("S003").await,
    );

    let head1 = w.staff("head1").await;
    let (_, inbox) = get(&w.app, &head1, "/s/alpha/awards/inbox").await;
    assert!(inbox.contains("学生S001") && inbox.contains("学生S002"), "{inbox}");
    assert!(!inbox.contains("学生S003"), "another class's application is not in this inbox");

    let (status, html) = w.review(&head1, a1, "approve", "推荐").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(w.state(a1).await, ("in_review".into(), 2, 2));
    // The class has one place, and it is taken: the second recommendation is refused, unchanged.
    let (status, html) = w.review(&head1, a2, "approve", "也推荐").await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("推荐名额已用完"), "{html}");
    assert_eq!(w.state(a2).await, ("in_review".into(), 1, 1));
    assert_eq!(w.actions(a2).await, ["submit"]);
    // The other class has its own place.
    let head2 = w.staff("head2").await;
    assert_eq!(w.review(&head2, a3, "approve", "推荐").await.0, StatusCode::OK);

    let counselor = w.staff("counselor").await;
    assert_eq!(w.review(&counselor, a1, "approve", "同意").await.0, StatusCode::OK);
    let (status, html) = w.review(&w.admin, a1, "approve", "学校审定").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(w.state(a1).await.0, "in_notice");

    // Everyone in the school sees the notice; the result is not payable before it locks.
    let (status, notice) = get(&w.app, &s3, "/s/alpha/awards/notice").await;
    assert_eq!(status, StatusCode::OK);
    assert!(notice.contains("校长奖学金 · 学生S001") && notice.contains("5000.00"), "{notice}");
    let (_, payments) = get(&w.app, &w.admin, "/s/alpha/awards/payments").await;
    assert!(!payments.contains("学生S001"), "not payable during the notice");

    w.close_window(a1).await;
    let (_, payments) = get(&w.app, &w.admin, "/s/alpha/awards/payments").await;
    assert!(payments.contains("S001 学生S001"), "{payments}");
    assert_eq!(w.state(a1).await.0, "approved");
    assert_eq!(w.actions(a1).await, ["submit", "approve", "approve", "approve", "lock"]);

    let account_field = format!("account.{a1}");
    let pay_field = format!("pay.{a1}");
    let fields = [
        ("item", item.to_string()),
        ("paid_on", "2026-12-10".to_owned()),
        ("method", "bank_transfer".to_owned()),
        (pay_field.as_str(), "on".to_owned()),
        (account_field.as_str(), "6222 0212 3456 7890 123".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, html) = post_form(
        &w.app,
        &w.admin,
        "/s/alpha/awards/payments",
        "/s/alpha/awards/payments",
        &fields,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("已登记发放 1 人") && html.contains("**** **** 0123"), "{html}");
    assert!(!html.contains("6222021234567890123"), "the account is never shown whole");
    // Paid once only.
    let (status, html) = post_form(
        &w.app,
        &w.admin,
        "/s/alpha/awards/payments",
        "/s/alpha/awards/payments",
        &fields,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");

    let (amount, sealed, masked): (i64, Vec<u8>, String) = sqlx::query_as(
        "select amount_fen, account_sealed, account_masked from award_payments where application_id = $1",
    )
    .bind(a1)
    .fetch_one(&mut w.t.superuser().await)
    .await
    .unwrap();
    assert_eq!((amount, masked.as_str()), (500_000, "**** **** 0123"));
    assert!(sealed.len() > 19 + 16 && !sealed.windows(8).any(|w| w == b"62220212"), "sealed");
    let keyring =
        xg_kernel::keyring::Keyring::new(&xg_e2e::app::TEST_MASTER_KEY.to_owned().into()).unwrap();
    let mut tx = w.t.app.tenant(w.school.id).await.unwrap();
    let key = keyring.for_school(&mut tx).await.unwrap();
    assert_eq!(key.open("bank_account", &sealed).unwrap(), "6222021234567890123");

    let (_, portal) = get(&w.app, &s1, "/s/alpha/awards").await;
    assert!(portal.contains("已通过，已发放"), "{portal}");
    assert!(portal.contains("进入公示期") && portal.contains("公示期满，结果已确定"), "{portal}");

    let (status, stats) = get(&w.app, &w.admin, "/s/alpha/awards/stats").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        stats.contains("<td>高一(1)班</td><td>2</td><td>1</td><td>5000.00</td><td>5000.00</td>"),
        "{stats}"
    );
    assert!(
        stats.contains("<td>高一(2)班</td><td>1</td><td>0</td><td>0.00</td><td>0.00</td>"),
        "{stats}"
    );
    assert!(
        stats.contains(r#"<meter min="0" max="500000" value="500000">5000.00</meter>"#),
        "the chart: {stats}"
    );
    let res = w.admin.get(w.app.url("/s/alpha/awards/stats.xlsx")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"), "an xlsx (zip) file");
    // Students and reviewers cannot reach the office's pages.
    assert_eq!(get(&w.app, &s1, "/s/alpha/awards/payments").await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&w.app, &head1, "/s/alpha/awards/manage").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_returned_application_is_changed_and_comes_back_to_the_step_that_returned_it() {
    let w = World::new().await;
    let item = w.item("三好学生", "").await;
    let s1 = w.student("S001", "G1-C1", None).await;
    assert_eq!(w.apply(&s1, item).await.0, StatusCode::OK);
    let a1 = w.application_of("S001").await;
    let head1 = w.staff("head1").await;
    assert_eq!(w.review(&head1, a1, "approve", "推荐").await.0, StatusCode::OK);
    let counselor = w.staff("counselor").await;
    // A decision without a comment is refused and changes nothing.
    let (status, html) = w.review(&counselor, a1, "return", "  ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("请填写审核意见"), "{html}");
    assert_eq!(w.state(a1).await, ("in_review".into(), 2, 2));

    let (status, _) = w.review(&counselor, a1, "return", "请补充志愿服务证明").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.state(a1).await.0, "returned");
    let (_, portal) = get(&w.app, &s1, "/s/alpha/awards").await;
    assert!(portal.contains("已退回修改") && portal.contains("请补充志愿服务证明"), "{portal}");
    assert!(w.review_form(&counselor, a1).await.is_none(), "nothing to do while it is returned");

    let path = format!("/s/alpha/awards/applications/{a1}/resubmit");
    let fields = [("statement", "已补充志愿服务时长证明。"), ("comment", "已补充")];
    let (status, html) = post_form(&w.app, &s1, "/s/alpha/awards", &path, &fields).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(w.state(a1).await.0, "in_review");
    assert_eq!(w.state(a1).await.1, 2, "back at the counselor's step");
    let (status, html) = w.review(&counselor, a1, "approve", "材料齐全").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(w.actions(a1).await, ["submit", "approve", "return", "resubmit", "approve"]);
    // A second resubmission is not possible any more.
    let (status, _) = post_form(&w.app, &s1, "/s/alpha/awards", &path, &fields).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, detail) = get(&w.app, &s1, &format!("/s/alpha/awards/applications/{a1}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        detail.contains("请补充志愿服务证明") && detail.contains("已补充志愿服务时长证明"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_rejected_application_ends_there() {
    let w = World::new().await;
    let item = w.item("三好学生", "").await;
    let s1 = w.student("S001", "G1-C1", None).await;
    assert_eq!(w.apply(&s1, item).await.0, StatusCode::OK);
    let a1 = w.application_of("S001").await;
    let head1 = w.staff("head1").await;
    let form = w.review_form(&head1, a1).await.unwrap();
    let (status, _) = w.post_review(&head1, a1, &form, "reject", "成绩未达到要求").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.state(a1).await.0, "rejected");
    // The old form cannot revive it.
    let (status, html) = w
        .post_review(&head1, a1, &(form.0, form.1, "other-key".into()), "approve", "改为通过")
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    let (_, portal) = get(&w.app, &s1, "/s/alpha/awards").await;
    assert!(portal.contains("未通过") && portal.contains("成绩未达到要求"), "{portal}");
    // Applying again for the same item in the same year is refused.
    let (status, html) = w.apply(&s1, item).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
}

#[tokio::test]
async fn objections_during_the_notice_are_resolved_on_record_and_the_result_locks_after() {
    let w = World::new().await;
    let item = w.item("校长奖学金", "").await;
    let s1 = w.student("S001", "G1-C1", None).await;
    let s2 = w.student("S002", "G1-C2", None).await;
    assert_eq!(w.apply(&s1, item).await.0, StatusCode::OK);
    assert_eq!(w.apply(&s2, item).await.0, StatusCode::OK);
    let (a1, a2) = (w.application_of("S001").await, w.application_of("S002").await);
    let (head1, head2, counselor) =
        (w.staff("head1").await, w.staff("head2").await, w.staff("counselor").await);
    for (head, app) in [(&head1, a1), (&head2, a2)] {
        assert_eq!(w.review(head, app, "approve", "推荐").await.0, StatusCode::OK);
        assert_eq!(w.review(&counselor, app, "approve", "同意").await.0, StatusCode::OK);
        assert_eq!(w.review(&w.admin, app, "approve", "审定").await.0, StatusCode::OK);
    }

    // A classmate objects to a1 in their own name; a reviewer objects to a2.
    let object = |client: &reqwest::Client, app: Uuid, reason: &'static str| {
        let path = format!("/s/alpha/awards/applications/{app}/object");
        let client = client.clone();
        let w = &w;
        async move {
            post_form(&w.app, &client, "/s/alpha/awards/notice", &path, &[("reason", reason)]).await
        }
    };
    let (status, html) = object(&s2, a1, "该生有一门课程补考").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("学生S002：该生有一门课程补考"), "real name shown: {html}");
    assert_eq!(object(&head1, a2, "").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(object(&head1, a2, "请核实获奖证书").await.0, StatusCode::OK);

    // The windows close; with objections open, neither result locks.
    w.close_window(a1).await;
    w.close_window(a2).await;
    let (_, notice) = get(&w.app, &w.admin, "/s/alpha/awards/notice").await;
    assert_eq!(
        (w.state(a1).await.0, w.state(a2).await.0),
        ("in_notice".into(), "in_notice".into())
    );
    assert_eq!(object(&s1, a2, "晚到的异议").await.0, StatusCode::CONFLICT, "window closed");

    let objection = |app: Uuid| {
        let t = &w.t;
        async move {
            sqlx::query_scalar::<_, Uuid>("select id from wf_objections where application_id = $1")
                .bind(app)
                .fetch_one(&mut t.superuser().await)
                .await
                .unwrap()
        }
    };
    assert!(notice.contains(&format!("awards/objections/{}/resolve", objection(a1).await)));
    // Only the award office resolves.
    let path = format!("/s/alpha/awards/objections/{}/resolve", objection(a1).await);
    let upheld = [("outcome", "upheld"), ("resolution", "经查属实，撤销评定")];
    assert_eq!(
        post_form(&w.app, &head1, "/s/alpha/awards/notice", &path, &upheld).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, html) =
        post_form(&w.app, &w.admin, "/s/alpha/awards/notice", &path, &upheld).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(w.state(a1).await.0, "rejected");
    let path2 = format!("/s/alpha/awards/objections/{}/resolve", objection(a2).await);
    let dismissed = [("outcome", "dismissed"), ("resolution", "证书核实无误")];
    assert_eq!(
        post_form(&w.app, &w.admin, "/s/alpha/awards/notice", &path2, &dismissed).await.0,
        StatusCode::OK
    );
    // Resolved once only.
    assert_eq!(
        post_form(&w.app, &w.admin, "/s/alpha/awards/notice", &path2, &dismissed).await.0,
        StatusCode::CONFLICT
    );
    get(&w.app, &w.admin, "/s/alpha/awards/notice").await;
    assert_eq!(w.state(a2).await.0, "approved", "locked once nothing is open");
    assert_eq!(
        w.actions(a1).await,
        ["submit", "approve", "approve", "approve", "object", "uphold"]
    );
    assert_eq!(
        w.actions(a2).await,
        ["submit", "approve", "approve", "approve", "object", "dismiss", "lock"]
    );
    let (_, portal) = get(&w.app, &s1, "/s/alpha/awards").await;
    assert!(portal.contains("公示异议经核实成立") && portal.contains("未通过"), "{portal}");
}

#[tokio::test]
async fn two_simultaneous_approvals_move_the_application_exactly_once() {
    let w = World::new().await;
    let item = w.item("校长奖学金", "").await;
    let s1 = w.student("S001", "G1-C1", None).await;
    assert_eq!(w.apply(&s1, item).await.0, StatusCode::OK);
    let a1 = w.application_of("S001").await;
    let (head1, head1b) = (w.staff("head1").await, w.staff("head1b").await);
    let (f1, f2) =
        (w.review_form(&head1, a1).await.unwrap(), w.review_form(&head1b, a1).await.unwrap());
    let (r1, r2) = tokio::join!(
        w.post_review(&head1, a1, &f1, "approve", "推荐"),
        w.post_review(&head1b, a1, &f2, "approve", "同意推荐"),
    );
    let mut statuses = [r1.0, r2.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", r1.1, r2.1);
    assert_eq!(w.state(a1).await, ("in_review".into(), 2, 2));
    assert_eq!(w.actions(a1).await, ["submit", "approve"]);

    // The same form sent twice at once (a double click): one transition, one idempotent replay.
    let counselor = w.staff("counselor").await;
    let form = w.review_form(&counselor, a1).await.unwrap();
    let (r1, r2) = tokio::join!(
        w.post_review(&counselor, a1, &form, "approve", "同意"),
        w.post_review(&counselor, a1, &form, "approve", "同意"),
    );
    assert_eq!((r1.0, r2.0), (StatusCode::OK, StatusCode::OK), "{} / {}", r1.1, r2.1);
    assert!(r1.1.contains("未重复处理") || r2.1.contains("未重复处理"));
    assert_eq!(w.state(a1).await, ("in_review".into(), 3, 3));
    assert_eq!(w.actions(a1).await, ["submit", "approve", "approve"]);
}

#[tokio::test]
async fn nobody_reviews_their_own_application_and_the_task_goes_to_the_next_eligible_reviewer() {
    let w = World::new().await;
    let item = w.item("校长奖学金", "").await;
    // A student who also holds the head-teacher role over their own class.
    let monitor = w.student("S001", "G1-C1", Some("head_teacher")).await;
    assert_eq!(w.apply(&monitor, item).await.0, StatusCode::OK);
    let a1 = w.application_of("S001").await;
    assert!(w.review_form(&monitor, a1).await.is_none(), "not in their own inbox");
    let (_, inbox) = get(&w.app, &monitor, "/s/alpha/awards/inbox").await;
    let form = (xg_e2e::app::csrf_in(&inbox), "1".to_owned(), "self".to_owned());
    let (status, html) = w.post_review(&monitor, a1, &form, "approve", "本人同意").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("不能审核本人的申请"), "{html}");
    assert_eq!(w.actions(a1).await, ["submit"]);
    let head1 = w.staff("head1").await;
    assert!(w.review_form(&head1, a1).await.is_some(), "the class's other head teacher has it");

    // In a class whose only head teacher is the applicant, the task goes to the school office.
    let lone = w.student("S003", "G1-C3", Some("head_teacher")).await;
    assert_eq!(w.apply(&lone, item).await.0, StatusCode::OK);
    let a3 = w.application_of("S003").await;
    assert!(w.review_form(&lone, a3).await.is_none());
    let (status, html) = w.review(&w.admin, a3, "approve", "班主任回避，由学校审核").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(w.state(a3).await.1, 2);
}

#[tokio::test]
async fn a_definition_changed_midway_leaves_running_applications_on_their_old_version() {
    let w = World::new().await;
    let item = w.item("校长奖学金", "").await;
    let s1 = w.student("S001", "G1-C1", None).await;
    let s2 = w.student("S002", "G1-C1", None).await;
    assert_eq!(w.apply(&s1, item).await.0, StatusCode::OK);
    let a1 = w.application_of("S001").await;

    // The school drops the head-teacher step: version 2.
    let (status, html) =
        w.publish("scholarship", "counselor unit quota\nschool_admin school", "3").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("已发布流程 scholarship 第 2 版"), "{html}");
    assert_eq!(w.apply(&s2, item).await.0, StatusCode::OK);
    let a2 = w.application_of("S002").await;

    let head1 = w.staff("head1").await;
    assert!(w.review_form(&head1, a1).await.is_some(), "the running one keeps its first step");
    assert!(w.review_form(&head1, a2).await.is_none(), "the new one skips it");
    let counselor = w.staff("counselor").await;
    assert!(w.review_form(&counselor, a2).await.is_some());
    assert!(w.review_form(&counselor, a1).await.is_none());
    let (_, d1) = get(&w.app, &s1, &format!("/s/alpha/awards/applications/{a1}")).await;
    assert!(d1.contains("按流程第 1 版办理（共 3 步）"), "{d1}");
    let (_, d2) = get(&w.app, &s2, &format!("/s/alpha/awards/applications/{a2}")).await;
    assert!(d2.contains("按流程第 2 版办理（共 2 步）"), "{d2}");

    // The rule as it stood on a date: nothing yesterday, version 2 today.
    let today = time::OffsetDateTime::now_utc().date();
    let yesterday = today - time::Duration::days(1);
    let (_, page) =
        get(&w.app, &w.admin, &format!("/s/alpha/awards/manage?rule=scholarship&at={yesterday}"))
            .await;
    assert!(page.contains(&format!("流程“scholarship”在 {yesterday} 尚无生效版本")), "{page}");
    let (_, page) = get(
        &w.app,
        &w.admin,
        &format!("/s/alpha/awards/manage?rule=scholarship&at={}", today + time::Duration::days(1)),
    )
    .await;
    assert!(page.contains("当日生效的规则：<strong>scholarship</strong> v2"), "{page}");

    // Versions cannot be edited or removed by the service, nor the history.
    let err =
        sqlx::query("update wf_steps set role_key = 'school_admin'").execute(w.t.app.pool()).await;
    assert!(err.unwrap_err().to_string().contains("permission denied"));
    let err = sqlx::query("delete from wf_actions").execute(&mut w.t.superuser().await).await;
    assert!(err.unwrap_err().to_string().contains("append-only"), "even for a superuser");
}

#[tokio::test]
async fn the_national_items_carry_the_2024_amounts_and_their_mutual_exclusion() {
    let w = World::new().await;
    let (status, html) = w.publish("national", STEPS, "5").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let today = time::OffsetDateTime::now_utc().date();
    let (opens, closes) = (today.to_string(), (today + time::Duration::days(30)).to_string());
    let fields = [
        ("class_quota", "2"),
        ("opens", opens.as_str()),
        ("closes", closes.as_str()),
        ("workflow_key", "national"),
    ];
    let (status, html) = post_form(
        &w.app,
        &w.admin,
        "/s/alpha/awards/manage",
        "/s/alpha/awards/items/national",
        &fields,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("已添加 3 个国家奖助学金项目"), "{html}");
    let (status, html) = post_form(
        &w.app,
        &w.admin,
        "/s/alpha/awards/manage",
        "/s/alpha/awards/items/national",
        &fields,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("已添加 0 个"), "idempotent: {html}");

    let csv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/reference/national-student-aid-2024.csv"
    ))
    .unwrap_or_else(|_| "item,level,amount_yuan_per_year,note\n国家奖学金,本专科,10000,\n国家励志奖学金,本专科,6000,\n国家助学金,本专科,3700,\n".into());
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let fen: i64 = sqlx::query_scalar("select amount_fen from award_items where name = $1")
            .bind(cols[0])
            .fetch_one(&mut w.t.superuser().await)
            .await
            .unwrap();
        assert_eq!(fen, cols[2].parse::<i64>().unwrap() * 100, "{}", cols[0]);
    }

    let s1 = w.student("S001", "G1-C1", None).await;
    assert_eq!(w.apply(&s1, w.item_id("国家奖学金").await).await.0, StatusCode::OK);
    let (status, html) = w.apply(&s1, w.item_id("国家励志奖学金").await).await;
    assert_eq!(status, StatusCode::CONFLICT, "mutually exclusive: {html}");
    assert!(html.contains("不能兼得"), "{html}");
    assert_eq!(w.apply(&s1, w.item_id("国家助学金").await).await.0, StatusCode::OK, "combinable");
}

#[tokio::test]
async fn bad_item_input_is_refused_in_chinese_and_writes_nothing() {
    let w = World::new().await;
    w.item("校长奖学金", "").await;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    for (field, value, message) in [
        ("amount", "12.345", "金额格式不正确"),
        ("class_quota", "-1", "每班名额须为"),
        ("opens", "2026-13-01", "年-月-日"),
        ("workflow_key", "nope", "审核流程不存在"),
        ("name", "校长奖学金", "同名奖励项目已存在"),
    ] {
        let mut fields = vec![
            ("name", "新项目"),
            ("category", "title"),
            ("amount", "0"),
            ("opens", today.as_str()),
            ("closes", today.as_str()),
            ("workflow_key", "scholarship"),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let (status, html) =
            post_form(&w.app, &w.admin, "/s/alpha/awards/manage", "/s/alpha/awards/items", &fields)
                .await;
        assert!(status.is_client_error(), "{field}: {status}");
        assert!(html.contains(message), "{field}: {html}");
    }
    let count: i64 = sqlx::query_scalar("select count(*) from award_items")
        .fetch_one(&mut w.t.superuser().await)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let (status, html) = w.publish("bad", "principal unit", "5").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "unknown role");
    assert!(html.contains("流程定义无效"), "{html}");
}

#[tokio::test]
async fn a_second_school_cannot_see_or_act_on_the_first_schools_applications() {
    let w = World::new().await;
    let item = w.item("校长奖学金", "").await;
    let s1 = w.student("S001", "G1-C1", None).await;
    assert_eq!(w.apply(&s1, item).await.0, StatusCode::OK);
    let a1 = w.application_of("S001").await;

    let beta = awards_school(&w.t.app, "beta").await;
    let beta_head = browser();
    sign_in_school(&w.app, &beta_head, "beta", "head1", "initial-password-2").await;
    let beta_admin = browser();
    sign_in_school(&w.app, &beta_admin, "beta", "admin", "initial-password-1").await;
    let (status, inbox) = get(&w.app, &beta_head, "/s/beta/awards/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!inbox.contains("学生S001") && !inbox.contains(&a1.to_string()), "{inbox}");
    assert_eq!(
        get(&w.app, &beta_admin, &format!("/s/beta/awards/applications/{a1}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, page) = get(&w.app, &beta_admin, "/s/beta/awards/manage").await;
    assert!(!page.contains("校长奖学金"), "{page}");
    let (_, stats) = get(&w.app, &beta_admin, "/s/beta/awards/stats").await;
    assert!(!stats.contains("校长奖学金"), "{stats}");

    // Acting on it through the other school finds nothing and changes nothing.
    let csrf = xg_e2e::app::csrf_in(&inbox);
    let form = [
        ("csrf", csrf.as_str()),
        ("version", "1"),
        ("idem", "x"),
        ("decision", "approve"),
        ("comment", "越权"),
    ];
    let res = beta_head
        .post(w.app.url(&format!("/s/beta/awards/applications/{a1}/act")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (_, page) = get(&w.app, &beta_admin, "/s/beta/awards/notice").await;
    let csrf = xg_e2e::app::csrf_in(&page);
    let res = beta_admin
        .post(w.app.url(&format!("/s/beta/awards/applications/{a1}/object")))
        .form(&[("csrf", csrf.as_str()), ("reason", "越权")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Nor does a beta session open alpha's pages.
    assert_eq!(get(&w.app, &beta_admin, "/s/alpha/awards/inbox").await.0, StatusCode::SEE_OTHER);
    assert_eq!(w.state(a1).await, ("in_review".into(), 1, 1));
    assert_eq!(w.actions(a1).await, ["submit"]);
    // Beta's own database rows show none of alpha's.
    let mut tx = w.t.app.tenant(beta.id).await.unwrap();
    let seen: i64 = sqlx::query_scalar("select count(*) from wf_applications")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(seen, 0);
}

#[tokio::test]
async fn a_school_without_the_awards_module_has_no_award_pages() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    xg_e2e::schools::school(&t.app, "d1", "plain").await;
    let app = TestApp::start(t.app.clone()).await;
    let admin = browser();
    sign_in_school(&app, &admin, "plain", "admin", "initial-password-1").await;
    assert_eq!(get(&app, &admin, "/s/plain/awards/manage").await.0, StatusCode::NOT_FOUND);
    let (_, home) = get(&app, &admin, "/s/plain/home").await;
    assert!(!home.contains("奖励设置"), "no menu entry");
}

#[tokio::test]
async fn the_national_scholarship_runs_end_to_end_at_the_demo_university() {
    let t = TestDb::new().await;
    district(&t.app, "demo").await;
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tenants/college.toml"))
            .unwrap();
    let manifest = Manifest::parse("college.toml", &text).unwrap();
    let school = onboard(&t.app, &test_actor(), &manifest).await.unwrap().school;
    student(&t.app, school.id, "2023010101", "CS2301", None).await;
    let app = TestApp::start(t.app.clone()).await;
    let slug = "minghu-univ";
    let admin = browser();
    sign_in_school(&app, &admin, slug, "admin", "Minghu-Admin-2026").await;
    let manage = format!("/s/{slug}/awards/manage");

    let steps = [
        ("key", "national"),
        ("name", "国家奖助学金评审"),
        ("notice_days", "5"),
        ("steps", "counselor unit quota\nschool_admin school"),
    ];
    let (status, html) =
        post_form(&app, &admin, &manage, &format!("/s/{slug}/awards/workflows"), &steps).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let today = time::OffsetDateTime::now_utc().date();
    let (opens, closes) = (today.to_string(), (today + time::Duration::days(30)).to_string());
    let seed = [
        ("class_quota", "1"),
        ("opens", opens.as_str()),
        ("closes", closes.as_str()),
        ("workflow_key", "national"),
    ];
    let (status, html) =
        post_form(&app, &admin, &manage, &format!("/s/{slug}/awards/items/national"), &seed).await;
    assert_eq!(status, StatusCode::OK, "{html}");

    let student = browser();
    sign_in_school(&app, &student, slug, "2023010101", "student-password-1").await;
    let (_, portal) = get(&app, &student, &format!("/s/{slug}/awards")).await;
    assert!(portal.contains("国家奖学金") && portal.contains("10000.00"), "{portal}");
    let item: Uuid = sqlx::query_scalar("select id from award_items where name = '国家奖学金'")
        .fetch_one(&mut t.superuser().await)
        .await
        .unwrap();
    let fields = [("statement", "专业排名第一，获全国大学生数学建模竞赛一等奖。")];
    let path = format!("/s/{slug}/awards/items/{item}/apply");
    assert_eq!(
        post_form(&app, &student, &format!("/s/{slug}/awards"), &path, &fields).await.0,
        StatusCode::OK
    );
    let id: Uuid = sqlx::query_scalar("select application_id from award_applications")
        .fetch_one(&mut t.superuser().await)
        .await
        .unwrap();

    let counselor = browser();
    sign_in_school(&app, &counselor, slug, "counselor-cs2301", "Minghu-Counselor-2026").await;
    let act = format!("/s/{slug}/awards/applications/{id}/act");
    for (reviewer, version) in [(&counselor, "1"), (&admin, "2")] {
        let inbox = format!("/s/{slug}/awards/inbox");
        let fields =
            [("version", version), ("idem", version), ("decision", "approve"), ("comment", "同意")];
        let (status, html) = post_form(&app, reviewer, &inbox, &act, &fields).await;
        assert_eq!(status, StatusCode::OK, "{html}");
    }
    sqlx::query("update wf_applications set notice_ends_at = now() where id = $1")
        .bind(id)
        .execute(&mut t.superuser().await)
        .await
        .unwrap();
    let payments = format!("/s/{slug}/awards/payments");
    let (pay, account) = (format!("pay.{id}"), format!("account.{id}"));
    let fields = [
        ("item".to_owned(), item.to_string()),
        ("paid_on".to_owned(), today.to_string()),
        ("method".to_owned(), "bank_transfer".into()),
        (pay.clone(), "on".into()),
        (account.clone(), "6217000010001234567".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, html) = post_form(&app, &admin, &payments, &payments, &fields).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (_, portal) = get(&app, &student, &format!("/s/{slug}/awards")).await;
    assert!(portal.contains("已通过，已发放"), "{portal}");
}

#[tokio::test]
async fn applying_outside_the_window_or_without_a_student_record_is_refused() {
    let w = World::new().await;
    w.item("校长奖学金", "").await;
    let today = time::OffsetDateTime::now_utc().date();
    let (opens, closes) = (
        (today - time::Duration::days(20)).to_string(),
        (today - time::Duration::days(2)).to_string(),
    );
    let fields = [
        ("name", "上学期奖学金"),
        ("category", "scholarship"),
        ("amount", "800"),
        ("opens", opens.as_str()),
        ("closes", closes.as_str()),
        ("workflow_key", "scholarship"),
    ];
    let (status, _) =
        post_form(&w.app, &w.admin, "/s/alpha/awards/manage", "/s/alpha/awards/items", &fields)
            .await;
    assert_eq!(status, StatusCode::OK);
    let closed = w.item_id("上学期奖学金").await;
    let s1 = w.student("S001", "G1-C1", None).await;
    let (_, portal) = get(&w.app, &s1, "/s/alpha/awards").await;
    assert!(portal.contains("校长奖学金") && !portal.contains("上学期奖学金"), "{portal}");
    let (status, html) = w.apply(&s1, closed).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("不在申请期内"), "{html}");

    // The admin may open the portal but has no student record; staff have no portal at all.
    let open = w.item_id("校长奖学金").await;
    let (status, html) = w.apply(&w.admin, open).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("未关联学生学籍"), "{html}");
    let head1 = w.staff("head1").await;
    assert_eq!(get(&w.app, &head1, "/s/alpha/awards").await.0, StatusCode::FORBIDDEN);
    let count: i64 = sqlx::query_scalar("select count(*) from wf_applications")
        .fetch_one(&mut w.t.superuser().await)
        .await
        .unwrap();
    assert_eq!(count, 0);
}
