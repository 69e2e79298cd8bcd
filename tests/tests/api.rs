//! The JSON API: token exchange, bearer access bound to one school, scoped data, refresh
//! rotation and revocation, and errors in the JSON envelope with Chinese messages.

use reqwest::StatusCode;
use serde_json::{Value, json};
use xg_e2e::TestDb;
use xg_e2e::app::{TestApp, browser, sign_in_school};
use xg_e2e::schools::{add_student, district, school};

async fn post_json(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let res = reqwest::Client::new().post(app.url(path)).json(&body).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get_bearer(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let res = reqwest::Client::new().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_token_reaches_its_own_school_and_scope_only() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let a = school(&t.app, "d1", "alpha").await;
    school(&t.app, "d1", "beta").await;
    add_student(&t.app, a.id, "C1-001", "G1-C1").await;
    add_student(&t.app, a.id, "C2-001", "G1-C2").await;
    let app = TestApp::start(t.app.clone()).await;

    // Still on the initial password: the token works only to say so.
    let creds = json!({"username": "counselor", "password": "initial-password-2"});
    let (status, pair) = post_json(&app, "/s/alpha/api/auth/token", creds).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let (status, body) =
        get_bearer(&app, "/s/alpha/api/me", pair["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "must_change_password");

    sign_in_school(&app, &browser(), "alpha", "counselor", "initial-password-2").await;
    let creds = json!({"username": "counselor", "password": "changed-password-9"});
    let (_, pair) = post_json(&app, "/s/alpha/api/auth/token", creds).await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 600);
    let access = pair["access_token"].as_str().unwrap();

    let (status, me) = get_bearer(&app, "/s/alpha/api/me", access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "counselor");
    let expected = [
        "org.view",
        "org.scope",
        "org.handover",
        "students.view",
        "notices.view",
        "notices.publish",
    ];
    assert_eq!(me["permissions"], json!(expected));
    let (status, body) = get_bearer(&app, "/s/alpha/api/scope/students", access).await;
    assert_eq!(status, StatusCode::OK);
    let numbers: Vec<&str> = body["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["student_no"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["C1-001"]);

    let (status, body) = get_bearer(&app, "/s/beta/api/me", access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a token for alpha is useless at beta");
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = get_bearer(&app, "/s/alpha/api/me", "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_requests_get_chinese_json_errors() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let (status, body) = post_json(
        &app,
        "/s/alpha/api/auth/token",
        json!({"username": "admin", "password": "nope-nope-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "用户名或密码错误。");
    let (status, body) = post_json(&app, "/s/alpha/api/auth/token", json!({"user": "admin"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "bad_json");
    assert!(body["error"]["message"].as_str().unwrap().contains("JSON"));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_revoke_over_the_api() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let creds = json!({"username": "admin", "password": "initial-password-1"});
    let (_, first) = post_json(&app, "/s/alpha/api/auth/token", creds).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();

    let refresh = async |token: &str| {
        let (status, body) =
            post_json(&app, "/s/alpha/api/auth/refresh", json!({"refresh_token": token})).await;
        (status, body["refresh_token"].as_str().unwrap_or_default().to_owned())
    };
    let (status, r2) = refresh(&r1).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(r1, r2);
    // An immediate twin (parallel requests) gets nothing, and the family lives on.
    assert_eq!(refresh(&r1).await.0, StatusCode::UNAUTHORIZED);
    let (status, r3) = refresh(&r2).await;
    assert_eq!(status, StatusCode::OK, "a twin is not a thief");
    // Later, a used token coming back is a theft: the whole family dies.
    let mut su = t.superuser().await;
    let age = "update refresh_tokens set used_at = used_at - interval '1 minute' where used_at is not null";
    sqlx::Executor::execute(&mut su, age).await.unwrap();
    assert_eq!(refresh(&r2).await.0, StatusCode::UNAUTHORIZED, "replay");
    assert_eq!(refresh(&r3).await.0, StatusCode::UNAUTHORIZED, "the family died with the replay");

    let (_, third) = post_json(
        &app,
        "/s/alpha/api/auth/token",
        json!({"username": "admin", "password": "initial-password-1"}),
    )
    .await;
    let r3 = third["refresh_token"].as_str().unwrap().to_owned();
    let res = reqwest::Client::new()
        .post(app.url("/s/alpha/api/auth/revoke"))
        .json(&json!({"refresh_token": r3}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) =
        post_json(&app, "/s/alpha/api/auth/refresh", json!({"refresh_token": r3})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
