//! Session renewal and revocation: an expired access token is renewed from the refresh token,
//! which rotates; a replayed refresh token kills its family; sign-out and password changes
//! revoke sessions.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use xg_e2e::TestDb;
use xg_e2e::app::{TestApp, browser, csrf_in, platform_account, sign_in, sign_in_school};
use xg_e2e::schools::{district, school};
use xg_tenancy::accounts::PlatformRole;

/// Moves every use of a refresh token a minute into the past, as if time had passed.
async fn age_used_tokens(t: &TestDb, table: &str) {
    let sql = format!(
        "update {table} set used_at = used_at - interval '1 minute' where used_at is not null"
    );
    let mut su = t.superuser().await;
    sqlx::Executor::execute(&mut su, sql.as_str()).await.unwrap();
}

fn cookie_of(res: &reqwest::Response, name: &str) -> String {
    res.cookies()
        .find(|c| c.name() == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .value()
        .to_owned()
}

/// A request carrying only a refresh cookie, as after the access token expired.
async fn with_refresh_only(
    app: &TestApp,
    path: &str,
    name: &str,
    token: &str,
) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header(COOKIE, format!("{name}={token}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_expired_access_token_is_renewed_and_a_replayed_refresh_token_kills_the_family() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    let client = browser();
    sign_in_school(&app, &client, "alpha", "admin", "initial-password-1").await;
    let res = sign_in(&app, &browser(), "/s/alpha/login", "admin", "changed-password-9").await;
    let first = cookie_of(&res, "xg_s_alpha_r");

    let res = with_refresh_only(&app, "/s/alpha/home", "xg_s_alpha_r", &first).await;
    assert_eq!(res.status(), StatusCode::OK, "renewed");
    let second = cookie_of(&res, "xg_s_alpha_r");
    assert_ne!(first, second, "rotated");
    assert!(!cookie_of(&res, "xg_s_alpha").is_empty(), "a fresh access token");

    // A twin request moments later (a browser's parallel requests) gets nothing, but does not
    // sign the user out.
    let res = with_refresh_only(&app, "/s/alpha/home", "xg_s_alpha_r", &first).await;
    assert_eq!(res.headers()[LOCATION], "/s/alpha/login", "a used token is refused");
    age_used_tokens(&t, "refresh_tokens").await;
    // Later, the same used token is a theft: its whole family dies.
    let res = with_refresh_only(&app, "/s/alpha/home", "xg_s_alpha_r", &first).await;
    assert_eq!(res.headers()[LOCATION], "/s/alpha/login");
    let res = with_refresh_only(&app, "/s/alpha/home", "xg_s_alpha_r", &second).await;
    assert_eq!(res.headers()[LOCATION], "/s/alpha/login", "and its whole family with it");

    let res = with_refresh_only(&app, "/s/alpha/home", "xg_s_alpha_r", "garbage").await;
    assert_eq!(res.headers()[LOCATION], "/s/alpha/login");
    // A school's refresh token means nothing at another school or on the platform side.
    let res = sign_in(&app, &browser(), "/s/alpha/login", "admin", "changed-password-9").await;
    let fresh = cookie_of(&res, "xg_s_alpha_r");
    let res = with_refresh_only(&app, "/admin", "xg_platform_r", &fresh).await;
    assert_eq!(res.headers()[LOCATION], "/login");
}

#[tokio::test]
async fn sign_out_and_a_password_change_revoke_sessions() {
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    school(&t.app, "d1", "alpha").await;
    let app = TestApp::start(t.app.clone()).await;
    sign_in_school(&app, &browser(), "alpha", "admin", "initial-password-1").await;

    // Sign-out.
    let client = browser();
    let res = sign_in(&app, &client, "/s/alpha/login", "admin", "changed-password-9").await;
    let token = cookie_of(&res, "xg_s_alpha_r");
    let page = client.get(app.url("/s/alpha/home")).send().await.unwrap().text().await.unwrap();
    let res = client
        .post(app.url("/s/alpha/logout"))
        .form(&[("csrf", csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = with_refresh_only(&app, "/s/alpha/home", "xg_s_alpha_r", &token).await;
    assert_eq!(res.headers()[LOCATION], "/s/alpha/login", "signed out");

    // A password change in one browser ends the session in another.
    let other = sign_in(&app, &browser(), "/s/alpha/login", "admin", "changed-password-9").await;
    let other_token = cookie_of(&other, "xg_s_alpha_r");
    let client = browser();
    sign_in(&app, &client, "/s/alpha/login", "admin", "changed-password-9").await;
    let page = client.get(app.url("/s/alpha/password")).send().await.unwrap().text().await.unwrap();
    let form = [
        ("csrf", csrf_in(&page)),
        ("current", "changed-password-9".to_owned()),
        ("new", "changed-again-77".to_owned()),
        ("confirm", "changed-again-77".to_owned()),
    ];
    let res = client.post(app.url("/s/alpha/password")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = with_refresh_only(&app, "/s/alpha/home", "xg_s_alpha_r", &other_token).await;
    assert_eq!(res.headers()[LOCATION], "/s/alpha/login", "the other browser is signed out");
    let res = client.get(app.url("/s/alpha/home")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the browser that changed it stays signed in");
}

#[tokio::test]
async fn platform_sessions_renew_too() {
    let t = TestDb::new().await;
    platform_account(&t.app, "op", PlatformRole::Operator, None).await;
    let app = TestApp::start(t.app.clone()).await;
    let res = sign_in(&app, &browser(), "/login", "op", "op-password").await;
    let token = cookie_of(&res, "xg_platform_r");
    let res = with_refresh_only(&app, "/admin", "xg_platform_r", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = cookie_of(&res, "xg_platform_r");
    age_used_tokens(&t, "platform_refresh_tokens").await;
    let res = with_refresh_only(&app, "/admin", "xg_platform_r", &token).await;
    assert_eq!(res.headers()[LOCATION], "/login", "replayed");
    let res = with_refresh_only(&app, "/admin", "xg_platform_r", &fresh).await;
    assert_eq!(res.headers()[LOCATION], "/login", "family revoked");
}

#[tokio::test]
async fn a_rotation_waiting_on_a_password_change_finds_its_token_revoked() {
    use xg_web::refresh::{self, Rotation, Store};
    let t = TestDb::new().await;
    district(&t.app, "d1").await;
    let s = school(&t.app, "d1", "alpha").await;
    let mut tx = t.app.tenant(s.id).await.unwrap();
    let account: uuid::Uuid =
        sqlx::query_scalar("select id from school_accounts where username = 'admin'")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    drop(tx);
    let store = Store::School(s.id);
    let token = refresh::issue(&t.app, store, account).await.unwrap();

    // The password change: it holds the account row and revokes, but has not committed yet.
    let mut change = t.app.tenant(s.id).await.unwrap();
    sqlx::query("update school_accounts set must_change_password = false where id = $1")
        .bind(account)
        .execute(change.conn())
        .await
        .unwrap();
    refresh::revoke_account(change.conn(), store, account).await.unwrap();

    let db = t.app.clone();
    let racing = tokio::spawn(async move { refresh::rotate(&db, store, &token).await.unwrap() });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!racing.is_finished(), "the rotation waits for the password change");
    change.commit().await.unwrap();
    assert!(matches!(racing.await.unwrap(), Rotation::Invalid), "and then finds its token revoked");
}
