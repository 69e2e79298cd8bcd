//! The portal over real HTTP: sign-in, CSRF, operator and district pages, onboarding from the
//! web, suspension, school sessions bound to one school, subdomains, health and metrics.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HOST, LOCATION};
use xg_e2e::TestDb;
use xg_e2e::app::{TestApp, browser, csrf_in, platform_account, sign_in};
use xg_e2e::schools::test_actor;
use xg_e2e::schools::{district, manifest_text};
use xg_tenancy::accounts::PlatformRole;
use xg_tenancy::{Manifest, onboard, registry};

async fn school_with(t: &TestDb, district: &str, slug: &str, class_name: &str, sub: Option<&str>) {
    let mut text = manifest_text(slug, district).replace("高一(1)班", class_name);
    if let Some(sub) = sub {
        text = text.replace(
            "kind = \"senior_high\"",
            &format!("kind = \"senior_high\"\nsubdomain = \"{sub}\""),
        );
    }
    onboard(&t.app, &test_actor(), &Manifest::parse("test", &text).unwrap()).await.unwrap();
}

#[tokio::test]
async fn the_operator_signs_in_and_sees_every_district_with_its_schools() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    district(&t.app, "d2").await;
    school_with(&t, "d1", "alpha", "甲班", None).await;
    school_with(&t, "d2", "beta", "乙班", None).await;
    platform_account(&t.app, "op", PlatformRole::Operator, None).await;
    let app = TestApp::start(t.app.clone()).await;
    let client = browser();

    let res = client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/login");

    let res = sign_in(&app, &client, "/login", "op", "op-password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/admin");
    let html = client.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("d1局") && html.contains("d2局"), "{html}");
    assert!(html.contains("alpha 中学") && html.contains("beta 中学"));
}

#[tokio::test]
async fn a_wrong_password_is_refused_in_chinese_and_a_form_without_csrf_is_rejected() {
    let t = TestDb::new().await;
    platform_account(&t.app, "op", PlatformRole::Operator, None).await;
    let app = TestApp::start(t.app.clone()).await;
    let client = browser();

    let res = sign_in(&app, &client, "/login", "op", "wrong-password").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("用户名或密码错误"));
    let res = sign_in(&app, &client, "/login", "nobody", "whatever-password").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A cross-site form post carries no valid token.
    let form = [("username", "op"), ("password", "op-password"), ("csrf", "00ff")];
    let res = browser().post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("表单已过期"));
}

#[tokio::test]
async fn a_district_admin_onboards_a_school_from_the_portal_into_their_own_district() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    district(&t.app, "d2").await;
    platform_account(&t.app, "bureau", PlatformRole::DistrictAdmin, Some("d1")).await;
    let app = TestApp::start(t.app.clone()).await;
    let client = browser();
    assert_eq!(
        sign_in(&app, &client, "/login", "bureau", "bureau-password").await.headers()[LOCATION],
        "/district"
    );

    let page = client.get(app.url("/district")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&page);
    let bad = [
        ("csrf", csrf.as_str()),
        ("name", "新学校"),
        ("slug", "New School"),
        ("kind", "senior_high"),
        ("admin_username", "admin"),
        ("admin_display_name", "管理员"),
    ];
    let res = client.post(app.url("/district/schools")).form(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("学校标识：“New School”无效"), "{html}");
    assert!(html.contains("value=\"新学校\""), "the form keeps what was typed");

    let good = [
        ("csrf", csrf.as_str()),
        ("name", "新学校"),
        ("slug", "new-school"),
        ("kind", "vocational"),
        ("module.notices", "on"),
        ("admin_username", "admin"),
        ("admin_display_name", "管理员"),
    ];
    let res = client.post(app.url("/district/schools")).form(&good).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("已开通学校“新学校”"), "{html}");

    let mut tx = t.app.platform().await.unwrap();
    let school = registry::find_school(tx.conn(), "new-school").await.unwrap().unwrap();
    let d1 = registry::find_district(tx.conn(), "d1").await.unwrap().unwrap();
    assert_eq!(school.district_id, d1.id);
    assert_eq!(school.kind.key(), "vocational");
    let modules: Vec<&str> = school.modules.iter().map(|m| m.key()).collect();
    assert_eq!(modules, ["organization", "notices"]);

    // The same slug again is a conflict, not a silent update.
    let res = client.post(app.url("/district/schools")).form(&good).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("已被使用"));

    // A district admin is not an operator.
    let res = client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_initial_password_must_be_changed_and_the_session_is_bound_to_its_school() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school_with(&t, "d1", "alpha", "甲校一班", None).await;
    school_with(&t, "d1", "beta", "乙校一班", None).await;
    let app = TestApp::start(t.app.clone()).await;
    let client = browser();

    let res = sign_in(&app, &client, "/s/alpha/login", "admin", "initial-password-1").await;
    assert_eq!(res.headers()[LOCATION], "/s/alpha/home");
    let res = client.get(app.url("/s/alpha/home")).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/s/alpha/password", "initial password: change first");

    let page = client.get(app.url("/s/alpha/password")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("您正在使用初始密码"), "{page}");
    let csrf = csrf_in(&page);
    let attempt = |current: &str, new: &str, confirm: &str| {
        [
            ("csrf", csrf.clone()),
            ("current", current.into()),
            ("new", new.into()),
            ("confirm", confirm.into()),
        ]
    };
    let cases = [
        (attempt("wrong-password-9", "brand-new-pass-1", "brand-new-pass-1"), "当前密码不正确"),
        (attempt("initial-password-1", "short", "short"), "至少需要 10 位"),
        (attempt("initial-password-1", "brand-new-pass-1", "brand-new-pass-2"), "两次输入"),
        (
            attempt("initial-password-1", "initial-password-1", "initial-password-1"),
            "不能与当前密码相同",
        ),
    ];
    for (form, expected) in cases {
        let res = client.post(app.url("/s/alpha/password")).form(&form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(expected), "{expected}");
    }
    let form = attempt("initial-password-1", "brand-new-pass-1", "brand-new-pass-1");
    let res = client.post(app.url("/s/alpha/password")).form(&form).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/s/alpha/home");
    let token = res
        .cookies()
        .find(|c| c.name() == "xg_s_alpha")
        .expect("a fresh session cookie")
        .value()
        .to_owned();

    let html = client.get(app.url("/s/alpha/home")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("甲校一班") && !html.contains("乙校一班"), "{html}");
    assert!(html.contains("学校管理员") && !html.contains("school_admin"), "role names, not keys");
    // The old password no longer works; the new one does.
    let res = sign_in(&app, &browser(), "/s/alpha/login", "admin", "initial-password-1").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = sign_in(&app, &browser(), "/s/alpha/login", "admin", "brand-new-pass-1").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Alpha's valid token, presented at beta under beta's cookie name, is no session there.
    let res = browser()
        .get(app.url("/s/beta/home"))
        .header("cookie", format!("xg_s_beta={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/s/beta/login");
}

#[tokio::test]
async fn suspension_on_one_instance_reaches_another_through_notify() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school_with(&t, "d1", "alpha", "甲班", None).await;
    platform_account(&t.app, "op", PlatformRole::Operator, None).await;
    let first = TestApp::start(t.app.clone()).await;
    let second = TestApp::start(xg_kernel::Db::from_pool(t.app_pool(3).await)).await;
    let client = browser();
    // Warm the second instance's cache with the active school.
    let res = client.get(second.url("/s/alpha/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    sign_in(&first, &client, "/login", "op", "op-password").await;
    let page = client.get(first.url("/admin")).send().await.unwrap().text().await.unwrap();
    let form = [("csrf", csrf_in(&page))];
    let res =
        client.post(first.url("/admin/schools/alpha/suspend")).form(&form).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("已暂停学校"));

    let mut status = StatusCode::OK;
    for _ in 0..50 {
        status = client.get(second.url("/s/alpha/")).send().await.unwrap().status();
        if status == StatusCode::FORBIDDEN {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::FORBIDDEN, "second instance saw the suspension within 5 s");
    let body = client.get(second.url("/s/alpha/login")).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("服务已暂停"), "{body}");

    let res =
        client.post(first.url("/admin/schools/alpha/resume")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(client.get(first.url("/s/alpha/")).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_school_is_reached_by_subdomain_and_unknown_schools_are_404() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school_with(&t, "d1", "alpha", "甲班", Some("jia")).await;
    let app = TestApp::start(t.app.clone()).await;
    let client = browser();

    let res = client.get(app.url("/")).header(HOST, "jia.xuegong.test").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("alpha 中学") && html.contains("href=\"/login\""), "{html}");

    let res = client.get(app.url("/")).header(HOST, "nope.xuegong.test").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = client.get(app.url("/s/nope/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("不存在"));
}

#[tokio::test]
async fn health_readiness_metrics_and_request_ids() {
    let t = TestDb::new().await;
    let app = TestApp::start(t.app.clone()).await;
    let client = browser();

    let res = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers()["x-request-id"].is_empty());
    let ready: serde_json::Value =
        client.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["storage"], "ok");
    let metrics = client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("xuegong_http_requests_total{route=\"/healthz\",status=\"200\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_operator_creates_a_bureau_account_that_must_change_its_password_first() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    platform_account(&t.app, "op", PlatformRole::Operator, None).await;
    let app = TestApp::start(t.app.clone()).await;
    let op = browser();
    sign_in(&app, &op, "/login", "op", "op-password").await;
    let page = op.get(app.url("/admin")).send().await.unwrap().text().await.unwrap();
    let form = [
        ("csrf", csrf_in(&page)),
        ("district", "d1".into()),
        ("username", "bureau2".into()),
        ("display_name", "第二位管理员".into()),
    ];
    let html =
        op.post(app.url("/admin/accounts")).form(&form).send().await.unwrap().text().await.unwrap();
    let start = html.find("初始密码：").expect("password shown once") + "初始密码：".len();
    let initial: String = html[start..].chars().take(16).collect();

    let bureau = browser();
    let res = sign_in(&app, &bureau, "/login", "bureau2", &initial).await;
    assert_eq!(res.headers()[LOCATION], "/password");
    let res = bureau.get(app.url("/district")).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/password", "nothing else opens first");
    let page = bureau.get(app.url("/password")).send().await.unwrap().text().await.unwrap();
    let form = [
        ("csrf", csrf_in(&page)),
        ("current", initial.clone()),
        ("new", "bureau-new-password".into()),
        ("confirm", "bureau-new-password".into()),
    ];
    let res = bureau.post(app.url("/password")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = bureau.get(app.url("/district")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("d1局"));
}

#[tokio::test]
async fn a_bureau_sees_aggregate_figures_for_its_own_schools_only() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    district(&t.app, "d2").await;
    school_with(&t, "d1", "alpha", "甲班", None).await;
    school_with(&t, "d2", "gamma", "丙班", None).await;
    let mut tx = t.app.platform().await.unwrap();
    let alpha = registry::find_school(tx.conn(), "alpha").await.unwrap().unwrap();
    let gamma = registry::find_school(tx.conn(), "gamma").await.unwrap().unwrap();
    drop(tx);
    for no in ["1", "2", "3"] {
        xg_e2e::schools::add_student(&t.app, alpha.id, no, "G1-C1").await;
    }
    xg_e2e::schools::add_student(&t.app, gamma.id, "9", "G1-C1").await;
    platform_account(&t.app, "bureau", PlatformRole::DistrictAdmin, Some("d1")).await;
    let app = TestApp::start(t.app.clone()).await;
    let client = browser();
    sign_in(&app, &client, "/login", "bureau", "bureau-password").await;
    let html = client.get(app.url("/district")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("学生数"), "{html}");
    assert!(html.contains("<td>3</td><td>3</td>"), "3 students, 3 units in alpha: {html}");
    assert!(!html.contains("gamma"), "another district's school is not listed");
}
