//! Runs `pgbench` with a custom script and reads its per-transaction log, so the baseline's
//! throughput and percentiles come from the same kind of measurement as ours.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use uuid::Uuid;

use crate::stats::Latencies;

pub struct Conn<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub database: &'a str,
}

/// How pgbench sends statements: `Simple` parses and plans every statement each time;
/// `Prepared` prepares each once per connection and then executes it, as the service does
/// (sqlx prepares and caches every statement per pooled connection).
#[derive(Clone, Copy)]
pub enum Protocol {
    Simple,
    Prepared,
}

/// `clients` connections on `threads` threads for `seconds`, sending statements as `protocol`
/// says; returns the latencies of every transaction and the transactions per second over the run.
pub fn run(
    conn: &Conn<'_>,
    script: &str,
    clients: u32,
    threads: u32,
    seconds: u64,
    protocol: Protocol,
) -> anyhow::Result<(Latencies, f64)> {
    let mode = match protocol {
        Protocol::Simple => "simple",
        Protocol::Prepared => "prepared",
    };
    let pgbench = std::env::var("XG_BENCH_PGBENCH").unwrap_or_else(|_| "pgbench".into());
    let port = std::env::var("XG_BENCH_PG_PORT")?;
    let dir: PathBuf = std::env::temp_dir().join(format!("xg-pgbench-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    let script_path = dir.join("script.sql");
    std::fs::write(&script_path, script)?;
    let out = Command::new(&pgbench)
        .current_dir(&dir)
        .env("PGPASSWORD", conn.password)
        .args(["-n", "-h", "127.0.0.1", "-p", &port, "-U", conn.user])
        .args(["-c", &clients.to_string(), "-j", &threads.to_string()])
        .args(["-T", &seconds.to_string(), "-M", mode, "-l", "--log-prefix", "tx"])
        .arg("-f")
        .arg(&script_path)
        .arg(conn.database)
        .output()?;
    if !out.status.success() {
        anyhow::bail!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut micros = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let is_log =
            path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("tx."));
        if !is_log {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            // client_id transaction_no time script_no time_epoch time_us
            if let Some(us) = line.split_whitespace().nth(2).and_then(|v| v.parse::<u64>().ok()) {
                micros.push(Duration::from_micros(us));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tps = stdout
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(micros.len() as f64 / seconds as f64);
    Ok((Latencies::new(micros), tps))
}

/// Replaces `$n` placeholders (highest first, so `$1` does not eat `$10`) with SQL literals.
pub fn inline(sql: &str, params: &[&str]) -> String {
    let mut out = sql.to_owned();
    for (i, value) in params.iter().enumerate().rev() {
        out = out.replace(&format!("${}", i + 1), value);
    }
    out
}

/// One line per statement, as pgbench's script format wants.
pub fn one_line(sql: &str) -> String {
    let joined = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{};\n", joined.trim_end_matches(';'))
}
