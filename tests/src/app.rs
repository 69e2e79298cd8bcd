//! A real service instance for HTTP tests: the production router on a loopback port, talking to
//! the test's own database as the service role, with attachments in a temporary folder.

use std::path::PathBuf;

use secrecy::SecretString;
use xg_kernel::config::Config;
use xg_kernel::{Db, password};
use xg_storage::{LocalDisk, Storage};
use xg_tenancy::accounts::{self, PlatformRole};
use xg_tenancy::registry;
use xuegong::AppState;
use xuegong::session::SessionKeys;

pub const TEST_SECRET: &str = "test-session-secret-that-is-long-enough-0123456789";
/// The master key test instances seal personal data with.
pub const TEST_MASTER_KEY: &str =
    "5e3c1f0a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e";
/// Subdomains of this reach schools in HTTP tests.
pub const BASE_DOMAIN: &str = "xuegong.test";

pub struct TestApp {
    pub base: String,
    pub db: Db,
}

fn config() -> Config {
    let mut config = Config::load(None).expect("default configuration loads");
    config.cookie_secure = false;
    config.base_domain = Some(BASE_DOMAIN.to_owned());
    config.session_secret = Some(SecretString::from(TEST_SECRET));
    config.master_key = Some(SecretString::from(TEST_MASTER_KEY));
    config
}

impl TestApp {
    /// Starts an instance on the given service-role database and returns once it listens.
    pub async fn start(db: Db) -> Self {
        Self::start_with(db, |_| {}).await
    }

    /// Like `start`, with the configuration adjusted first.
    pub async fn start_with(db: Db, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir: PathBuf = std::env::temp_dir().join(format!("xg-test-{}", uuid::Uuid::new_v4()));
        Self::start_full(db, Storage::Local(LocalDisk::new(dir)), adjust).await
    }

    /// Like `start`, with attachments in the given storage (e.g. the test S3 server).
    pub async fn start_with_storage(db: Db, storage: Storage) -> Self {
        Self::start_full(db, storage, |_| {}).await
    }

    async fn start_full(db: Db, storage: Storage, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = config();
        adjust(&mut config);
        let sessions = SessionKeys::new(&SecretString::from(TEST_SECRET), None).unwrap();
        let state =
            AppState::new(db.clone(), storage, sessions, config, xuegong::observe::init_metrics());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { xuegong::serve(state, listener).await.unwrap() });
        Self { base, db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A browser-like client: keeps cookies, does not follow redirects (tests assert on them).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token embedded in a page's form.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The captcha id on a sign-in page and its answer. Tests read the answer from the database,
/// which a browser cannot; everything else goes through HTTP as a person's would.
pub async fn solve_captcha(app: &TestApp, page: &str) -> (String, String) {
    let marker = "name=\"captcha_id\" value=\"";
    let start = page.find(marker).expect("page has a captcha") + marker.len();
    let id = page[start..].split('"').next().unwrap().to_owned();
    let answer: String =
        sqlx::query_scalar("select answer from captcha_challenges where id = $1::uuid")
            .bind(&id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    (id, answer)
}

/// Creates a platform account with a known password.
pub async fn platform_account(db: &Db, username: &str, role: PlatformRole, district: Option<&str>) {
    let mut tx = db.platform().await.unwrap();
    let district_id = match district {
        Some(slug) => Some(registry::find_district(tx.conn(), slug).await.unwrap().unwrap().id),
        None => None,
    };
    let hash = password::hash(&format!("{username}-password")).unwrap();
    let new = accounts::NewPlatformAccount {
        username,
        display_name: username,
        password_hash: &hash,
        role,
        district: district_id,
        must_change_password: false,
    };
    accounts::create_platform_account(tx.conn(), &crate::schools::test_actor(), new).await.unwrap();
    tx.commit().await.unwrap();
}

/// Signs in through the form at `login_path` and returns the final status of the POST.
pub async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    login_path: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let page = client.get(app.url(login_path)).send().await.unwrap().text().await.unwrap();
    let (captcha_id, captcha) = solve_captcha(app, &page).await;
    let form = [
        ("csrf", csrf_in(&page)),
        ("username", username.into()),
        ("password", password.into()),
        ("captcha_id", captcha_id),
        ("captcha", captcha),
    ];
    client.post(app.url(login_path)).form(&form).send().await.unwrap()
}

/// Signs in at a school with an initial password and changes it to `changed-password-9`, so
/// the client holds a ready session.
pub async fn sign_in_school(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    username: &str,
    initial: &str,
) {
    let res = sign_in(app, client, &format!("/s/{slug}/login"), username, initial).await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER, "sign-in as {username}");
    let page = client
        .get(app.url(&format!("/s/{slug}/password")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", csrf_in(&page)),
        ("current", initial.to_owned()),
        ("new", "changed-password-9".to_owned()),
        ("confirm", "changed-password-9".to_owned()),
    ];
    let res =
        client.post(app.url(&format!("/s/{slug}/password"))).form(&form).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER, "password change for {username}");
}

/// GETs a page and returns its status and body.
pub async fn get(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
) -> (reqwest::StatusCode, String) {
    let res = client.get(app.url(path)).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// GETs `form_page` for its CSRF token, then POSTs `fields` to `path`.
pub async fn post_form(
    app: &TestApp,
    client: &reqwest::Client,
    form_page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (reqwest::StatusCode, String) {
    let page = get(app, client, form_page).await.1;
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf_in(&page))];
    form.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let res = client.post(app.url(path)).form(&form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}
