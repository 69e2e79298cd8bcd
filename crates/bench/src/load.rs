//! The student list page under 64 concurrent clients on loopback, against pgbench running the
//! page's SQL over as many connections as the service's pool holds. The service runs as a
//! child process (`xg-bench serve`), so its peak RSS is its own. pgbench prepares its
//! statements, as the service's sqlx pool does, so neither side pays planning on every request.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use xg_e2e::TestDb;
use xg_e2e::app::{TEST_MASTER_KEY, TEST_SECRET, TestApp, browser, sign_in_school};
use xg_kernel::config::Config;
use xg_kernel::{Db, TenantId};
use xuegong::AppState;
use xuegong::session::SessionKeys;

use crate::pgbench::{self, Conn, Protocol};
use crate::stats::Latencies;
use crate::{setup, sql};

pub const CLIENTS: usize = 64;

pub struct LoadFigures {
    pub rps: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub errors: usize,
    pub body_bytes: usize,
    pub pool: u32,
    pub base_tps: f64,
    pub base_p50: Duration,
    pub base_p99: Duration,
    pub peak_rss_kb: u64,
}

/// `xg-bench serve URL PORT`: the production router on 127.0.0.1:PORT, as a test instance is
/// configured (same session secret and master key), with the default pool size.
pub async fn serve(url: &str, port: &str) -> anyhow::Result<()> {
    let mut config = Config::load(None)?;
    config.cookie_secure = false;
    config.session_secret = Some(SecretString::from(TEST_SECRET));
    config.master_key = Some(SecretString::from(TEST_MASTER_KEY));
    let db = Db::connect(&SecretString::from(url.to_owned()), config.database_pool_size).await?;
    let sessions = SessionKeys::new(&SecretString::from(TEST_SECRET), None)?;
    let (storage, _) = setup::storage();
    let state = AppState::new(db, storage, sessions, config, None);
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    xuegong::serve(state, listener).await?;
    Ok(())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

async fn start_server(t: &TestDb) -> anyhow::Result<(Server, String)> {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let url = secrecy::ExposeSecret::expose_secret(&t.app_url()).to_owned();
    let child = Command::new(std::env::current_exe()?)
        .args(["serve", &url, &port.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            return Ok((server, base));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the service did not start")
}

/// `CLIENTS` tasks requesting `url` back to back until `run_for` is over.
async fn hammer(
    client: &reqwest::Client,
    url: &str,
    run_for: Duration,
) -> (Vec<Duration>, usize, usize) {
    let deadline = Instant::now() + run_for;
    let url = Arc::new(url.to_owned());
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let (mut times, mut errors, mut bytes) = (Vec::new(), 0usize, 0usize);
            while Instant::now() < deadline {
                let started = Instant::now();
                match client.get(url.as_str()).send().await {
                    Ok(res) if res.status() == reqwest::StatusCode::OK => {
                        bytes = res.bytes().await.map(|b| b.len()).unwrap_or(0);
                        times.push(started.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (times, errors, bytes)
        }));
    }
    let (mut all, mut errors, mut bytes) = (Vec::new(), 0, 0);
    for task in tasks {
        if let Ok((times, e, b)) = task.await {
            all.extend(times);
            errors += e;
            bytes = bytes.max(b);
        }
    }
    (all, errors, bytes)
}

pub async fn run(
    t: &TestDb,
    slug: &str,
    tenant: TenantId,
    seconds: u64,
) -> anyhow::Result<LoadFigures> {
    let (server, base) = start_server(t).await?;
    let app = TestApp { base: base.clone(), db: t.app.clone() };
    let client = browser();
    sign_in_school(&app, &client, slug, "counselor", "initial-password-2").await;
    let url = format!("{base}/s/{slug}/students?political={}", encode(sql::POLITICAL));
    let first = client.get(&url).send().await?;
    anyhow::ensure!(first.status() == reqwest::StatusCode::OK, "list page: {}", first.status());
    let html = first.text().await?;
    let rows = html.matches("/student/").count();
    eprintln!("  list page: {} KB, {rows} student rows", html.len() / 1024);

    hammer(&client, &url, Duration::from_secs(3)).await;
    let started = Instant::now();
    let (times, errors, body_bytes) = hammer(&client, &url, Duration::from_secs(seconds)).await;
    let elapsed = started.elapsed();
    let peak_rss_kb = peak_rss_kb(server.0.id());
    drop(server);
    let lat = Latencies::new(times);
    let rps = lat.len() as f64 / elapsed.as_secs_f64();
    eprintln!("  ours: {rps:.0} req/s, p99 {:.1?}, {errors} errors", lat.pct(99.0));

    let pool = Config::load(None)?.database_pool_size;
    let counselor = setup::account_id(&t.app, tenant, "counselor").await?;
    let script = sql::list_page_script(tenant.as_uuid(), counselor);
    let conn = Conn { user: "xuegong_app", password: "xuegong_app", database: &t.name };
    pgbench::run(&conn, &script, pool, 2, 3, Protocol::Prepared)?;
    let (base_lat, base_tps) = pgbench::run(&conn, &script, pool, 2, seconds, Protocol::Prepared)?;
    eprintln!("  pgbench: {base_tps:.0} tps, p99 {:.1?}", base_lat.pct(99.0));
    Ok(LoadFigures {
        rps,
        p50: lat.pct(50.0),
        p99: lat.pct(99.0),
        errors,
        body_bytes,
        pool,
        base_tps,
        base_p50: base_lat.pct(50.0),
        base_p99: base_lat.pct(99.0),
        peak_rss_kb,
    })
}

fn encode(v: &str) -> String {
    v.bytes().map(|b| format!("%{b:02X}")).collect()
}
