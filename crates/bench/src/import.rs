//! Roster import, 50,000 rows: the product's stage + commit (read, validate against the
//! register, place in the org tree, seal personal data, insert, create student accounts
//! without hashing, audit) against `COPY` of the same rows into an equivalent plain table; and
//! the same import from xlsx against the CSV import.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sqlx::{Connection, PgConnection};
use xg_e2e::TestDb;
use xg_enrollment::export::HEADERS;
use xg_enrollment::generate;
use xg_kernel::TenantId;

use crate::setup;

pub struct ImportFigures {
    pub rows: usize,
    pub csv: Duration,
    pub copy: Duration,
    /// `None` when the xlsx case was not selected.
    pub xlsx: Option<Duration>,
    pub accounts: i64,
}

/// Stages and commits `bytes` as `file_name` and waits for the job to finish.
pub async fn import(
    t: &TestDb,
    tenant: TenantId,
    file_name: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<Duration> {
    let (storage, dir) = setup::storage();
    let keyring = setup::keyring();
    let actor = xg_audit::Actor::system("bench");
    let started = Instant::now();
    let job = xg_enrollment::import::stage(
        &t.app,
        &storage,
        &keyring,
        tenant,
        file_name,
        Bytes::from(bytes),
        false,
        &actor,
    )
    .await
    .map_err(|e| anyhow::anyhow!("stage: {e}"))?;
    if let Err(e) =
        xg_enrollment::import::commit(&t.app, &storage, &keyring, tenant, job, actor).await
    {
        let mut tx = t.app.tenant(tenant).await?;
        let problems: serde_json::Value = sqlx::query_scalar(
            "select problems from student_imports where tenant_id = $1 and id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(job)
        .fetch_one(tx.conn())
        .await?;
        let shown: String = problems.to_string().chars().take(600).collect();
        anyhow::bail!("commit: {e}; problems: {shown}");
    }
    loop {
        let mut tx = t.app.tenant(tenant).await?;
        let status: String = sqlx::query_scalar(
            "select status from student_imports where tenant_id = $1 and id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(job)
        .fetch_one(tx.conn())
        .await?;
        drop(tx);
        match status.as_str() {
            "committed" => break,
            "failed" | "previewed" => anyhow::bail!("the import ended as {status}"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(dir);
    Ok(elapsed)
}

/// `COPY` of the CSV into a plain table with the same columns, as text, keyed by student
/// number: no row-level security, no validation, no encryption.
async fn copy_baseline(t: &TestDb, csv: &[u8]) -> anyhow::Result<Duration> {
    let mut conn: PgConnection = t.superuser().await;
    let columns = (0..HEADERS.len() - 1)
        .map(|i| format!("c{i} text{}", if i == 0 { " primary key" } else { "" }))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query("drop table if exists bench_plain_roster").execute(&mut conn).await?;
    sqlx::query(&format!("create table bench_plain_roster ({columns})")).execute(&mut conn).await?;
    let body = csv.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(csv).to_vec();
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    let mut copy =
        tx.copy_in_raw("copy bench_plain_roster from stdin with (format csv, header true)").await?;
    copy.send(body).await?;
    copy.finish().await?;
    tx.commit().await?;
    Ok(started.elapsed())
}

/// Runs both import cases; the CSV import lands in `csv_school`, which the later cases use.
pub async fn run(
    t: &TestDb,
    csv_school: TenantId,
    xlsx_school: TenantId,
    with_xlsx: bool,
) -> anyhow::Result<ImportFigures> {
    let classes = setup::classes(setup::CLASSES_PER_GRADE);
    let rows = setup::unique_ids(generate::roster(&classes, setup::PER_CLASS, 1, 2026));
    let headers = &HEADERS[..HEADERS.len() - 1];
    let csv = xg_enrollment::export::csv(headers, &rows)?;
    eprintln!("  roster: {} rows, CSV {} KB", rows.len(), csv.len() / 1024);

    let copy = copy_baseline(t, &csv).await?;
    eprintln!("  COPY into a plain table: {copy:.2?}");
    let csv_time = import(t, csv_school, "roster.csv", csv).await?;
    eprintln!("  product CSV import: {csv_time:.2?}");
    let xlsx_time = if with_xlsx {
        let xlsx = xg_enrollment::export::xlsx(headers, &rows)?;
        let time = import(t, xlsx_school, "roster.xlsx", xlsx).await?;
        eprintln!("  product xlsx import: {time:.2?}");
        Some(time)
    } else {
        None
    };

    let mut tx = t.app.tenant(csv_school).await?;
    let accounts: i64 = sqlx::query_scalar(
        "select count(*) from school_accounts where tenant_id = $1 and student_id is not null",
    )
    .bind(csv_school.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    Ok(ImportFigures { rows: rows.len(), csv: csv_time, copy, xlsx: xlsx_time, accounts })
}
