//! Brute-force defences on sign-in: per-account lockout with back-off, and a per-client rate
//! limit that trusts `X-Forwarded-For` only from configured proxies.

use reqwest::StatusCode;
use xg_e2e::TestDb;
use xg_e2e::app::{TestApp, browser, csrf_in, sign_in, solve_captcha};
use xg_e2e::schools::{district, school};

async fn post_login(app: &TestApp, xff: &str) -> StatusCode {
    // A bare POST without a CSRF token: the limiter counts it before the handler refuses it.
    let form = [("username", "admin"), ("password", "whatever-1234"), ("csrf", "00")];
    let res = browser()
        .post(app.url("/login"))
        .header("x-forwarded-for", xff)
        .form(&form)
        .send()
        .await
        .unwrap();
    res.status()
}

#[tokio::test]
async fn rotating_x_forwarded_for_from_an_untrusted_client_buys_no_fresh_buckets() {
    let t = TestDb::new().await;
    let app = TestApp::start(t.app.clone()).await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        statuses.push(post_login(&app, &format!("203.0.113.{i}")).await);
    }
    assert!(statuses[..10].iter().all(|s| *s == StatusCode::FORBIDDEN), "{statuses:?}");
    assert_eq!(&statuses[10..], [StatusCode::TOO_MANY_REQUESTS; 2]);
}

#[tokio::test]
async fn behind_a_trusted_proxy_one_abusive_client_does_not_lock_out_another() {
    let t = TestDb::new().await;
    let app = TestApp::start_with(t.app.clone(), |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    for _ in 0..10 {
        assert_eq!(post_login(&app, "203.0.113.5").await, StatusCode::FORBIDDEN);
    }
    assert_eq!(post_login(&app, "203.0.113.5").await, StatusCode::TOO_MANY_REQUESTS);
    // A spoofed extra hop in front of the real one does not help the abuser either.
    assert_eq!(post_login(&app, "1.1.1.1, 203.0.113.5").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(post_login(&app, "203.0.113.6").await, StatusCode::FORBIDDEN, "another client");
    let res = browser()
        .post(app.url("/login"))
        .header("x-forwarded-for", "203.0.113.5")
        .form(&[("csrf", "00")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["retry-after"], "6");
    assert!(res.text().await.unwrap().contains("请求过于频繁"));
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_against_the_right_one() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start_with(t.app.clone(), |c| {
        // Each attempt comes from its own address, so the rate limit stays out of the way.
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let client = browser();
    let attempt = |password: &'static str, ip: usize| {
        let client = client.clone();
        let url = app.url("/s/alpha/login");
        let app = &app;
        async move {
            let page = client.get(&url).send().await.unwrap().text().await.unwrap();
            let (captcha_id, captcha) = solve_captcha(app, &page).await;
            let form = [
                ("csrf", csrf_in(&page)),
                ("username", "admin".into()),
                ("password", password.into()),
                ("captcha_id", captcha_id),
                ("captcha", captcha),
            ];
            let res = client
                .post(&url)
                .header("x-forwarded-for", format!("198.51.100.{ip}"))
                .form(&form)
                .send()
                .await
                .unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    for i in 0..4 {
        assert_eq!(attempt("wrong-password", i).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = attempt("wrong-password", 4).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body.contains("账号已临时锁定") && body.contains("1 分钟"), "{body}");
    let (status, _) = attempt("initial-password-1", 5).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "locked even with the right password");

    // The lock was audited in the school's chain.
    let s = xg_tenancy::registry::find_school(t.app.platform().await.unwrap().conn(), "alpha")
        .await
        .unwrap()
        .unwrap();
    let mut tx = t.app.tenant(s.id).await.unwrap();
    let filter = xg_audit::Filter {
        action_prefix: Some("account.lock".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(xg_audit::list(&mut tx, &filter).await.unwrap().len(), 1);
    drop(tx);

    // An unrelated school account is not affected.
    let other =
        sign_in(&app, &browser(), "/s/alpha/login", "counselor", "initial-password-2").await;
    assert_eq!(other.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_wrong_or_reused_captcha_is_refused_before_the_password_is_checked() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let client = browser();
    let page = client.get(app.url("/s/alpha/login")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data:image/png;base64,"), "the image is in the page");
    let (captcha_id, answer) = solve_captcha(&app, &page).await;
    let post = |captcha: String| {
        let form = [
            ("csrf", csrf_in(&page)),
            ("username", "admin".to_owned()),
            ("password", "initial-password-1".to_owned()),
            ("captcha_id", captcha_id.clone()),
            ("captcha", captcha),
        ];
        client.post(app.url("/s/alpha/login")).form(&form).send()
    };
    let res = post("wrong".into()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("验证码错误或已过期"));
    // The failed attempt used the challenge up: even the right answer no longer works.
    let res = post(answer.to_uppercase()).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A fresh challenge, answered in any letter case, works.
    let res = sign_in(&app, &client, "/s/alpha/login", "admin", "initial-password-1").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn concurrent_wrong_passwords_cannot_race_past_the_lockout() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = school(&t.app, "d1", "alpha").await;
    let app = TestApp::start_with(t.app.clone(), |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let url = app.url("/s/alpha/api/auth/token");
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .header("x-forwarded-for", format!("192.0.2.{i}"))
                .json(&serde_json::json!({"username": "admin", "password": format!("guess-{i}-xxxx")}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS);
    }
    let mut tx = t.app.tenant(s.id).await.unwrap();
    let failed: i32 =
        sqlx::query_scalar("select failed_logins from school_accounts where username = 'admin'")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    assert_eq!(failed, 5, "only five passwords were ever checked");
}

#[tokio::test]
async fn the_api_shares_the_sign_in_bucket_and_answers_in_json() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    for _ in 0..6 {
        assert_eq!(post_login(&app, "203.0.113.1").await, StatusCode::FORBIDDEN);
    }
    let api = reqwest::Client::new();
    let token = || api.post(app.url("/s/alpha/api/auth/token")).json(&serde_json::json!({}));
    for _ in 0..4 {
        assert_eq!(token().send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = token().send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "one bucket for forms and API");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    assert_eq!(body["error"]["message"], "请求过于频繁，请稍后再试。");
}
