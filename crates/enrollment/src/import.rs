//! A roster import as a job: `stage` keeps the uploaded file in attachment storage and records
//! the dry run; `commit` starts writing and returns at once; the writing happens in one
//! transaction, so the register gets every row or none, while the job row reports progress
//! from short side transactions the page can poll. Rows added to the register since the preview
//! cannot slip in: the commit places every row again in the org tree as it is now, and the
//! unique indexes on student number and ID-number hash refuse a duplicate inside the writing
//! transaction, even one another transaction writes meanwhile; the job then fails with the
//! count of problems a fresh dry run finds, and nothing is written.

use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use xg_audit::{Actor, Change};
use xg_kernel::crypto::DataKey;
use xg_kernel::i18n::Catalog;
use xg_kernel::keyring::Keyring;
use xg_kernel::{AppError, AppResult, Db, TenantId, TenantTx};
use xg_storage::{ObjectKey, Storage};

use crate::placement::{NewUnit, Placement, Tree};
use crate::preview::{Draft, RowProblem, preview};
use crate::sheet::{SheetProblem, Table, read_csv, read_xlsx};
use crate::store;

/// Problems kept with a job for its preview page; the count is always exact.
const KEPT_PROBLEMS: usize = 500;
/// Largest roster file accepted (a 50,000-row xlsx is about 5 MB).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// Reads an upload by its content: an xlsx is a zip (`PK`), anything else is tried as CSV.
pub fn read_table(file_name: &str, bytes: &[u8]) -> AppResult<Table> {
    let m = Catalog::zh();
    let lower = file_name.to_lowercase();
    let result = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
        read_csv(bytes)
    } else {
        return Err(AppError::invalid("import_file_type", m.t("import.file_type")));
    };
    result.map_err(|p| match p {
        SheetProblem::NoHeader => AppError::invalid("import_no_header", m.t("import.no_header")),
        SheetProblem::Unreadable(_) => {
            AppError::invalid("import_unreadable", m.t("import.unreadable"))
        }
    })
}

/// The checked rows of a file against the school as it is now.
pub struct DryRun {
    pub total_rows: usize,
    pub drafts: Vec<Draft>,
    pub placements: Vec<Placement>,
    pub new_units: Vec<NewUnit>,
    pub problems: Vec<RowProblem>,
}

pub async fn dry_run(
    tx: &mut TenantTx,
    key: &DataKey,
    table: &Table,
    create_missing: bool,
) -> Result<DryRun, sqlx::Error> {
    let checked = preview(table);
    let mut problems = checked.problems;
    problems.extend(store::taken(tx, key, &checked.drafts).await?);
    let mut tree = Tree::load(tx).await?;
    let (placements, new_units, placement_problems) = tree.place(&checked.drafts, create_missing);
    problems.extend(placement_problems);
    problems.sort_by_key(|p| p.row);
    Ok(DryRun {
        total_rows: table.rows.len(),
        drafts: checked.drafts,
        placements,
        new_units,
        problems,
    })
}

#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: Uuid,
    pub file_name: String,
    pub status: String,
    pub total_rows: i32,
    pub problem_count: i32,
    pub processed_rows: i32,
    pub created_units: i32,
    pub create_missing_units: bool,
    pub failure: Option<String>,
    pub created_by_name: String,
    pub created_at: String,
    pub problems: Vec<ProblemView>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ProblemView {
    pub row: usize,
    pub column: String,
    pub value: String,
    pub message: String,
}

impl From<&RowProblem> for ProblemView {
    fn from(p: &RowProblem) -> Self {
        Self {
            row: p.row,
            column: p.column.clone(),
            value: p.value.clone(),
            message: p.message.clone(),
        }
    }
}

/// Keeps the file, runs the dry run and records the job. Nothing reaches the register.
#[allow(clippy::too_many_arguments)]
pub async fn stage(
    db: &Db,
    storage: &Storage,
    keyring: &Keyring,
    tenant: TenantId,
    file_name: &str,
    bytes: Bytes,
    create_missing: bool,
    actor: &Actor,
) -> AppResult<Uuid> {
    let table = read_table(file_name, &bytes)?;
    let attachment = Uuid::new_v4();
    let content_type = if bytes.starts_with(b"PK") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv"
    };
    storage
        .put(&ObjectKey::new(tenant, attachment), bytes.clone(), content_type)
        .await
        .map_err(|e| AppError::Unavailable(format!("attachment storage: {e}")))?;
    let mut tx = db.tenant(tenant).await?;
    let key = keyring.for_school(&mut tx).await?;
    let run = dry_run(&mut tx, &key, &table, create_missing).await?;
    sqlx::query(
        "insert into attachments (tenant_id, id, file_name, content_type, size_bytes, sha256)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.as_uuid())
    .bind(attachment)
    .bind(file_name)
    .bind(content_type)
    .bind(bytes.len() as i64)
    .bind(hex::encode(Sha256::digest(&bytes)))
    .execute(tx.conn())
    .await?;
    let id = Uuid::new_v4();
    let kept: Vec<ProblemView> = run.problems.iter().take(KEPT_PROBLEMS).map(Into::into).collect();
    sqlx::query(
        "insert into student_imports (tenant_id, id, attachment_id, file_name, status, total_rows,
             problem_count, created_units, create_missing_units, created_by, created_by_name,
             problems)
         values ($1, $2, $3, $4, 'previewed', $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(attachment)
    .bind(file_name)
    .bind(run.total_rows as i32)
    .bind(run.problems.len() as i32)
    .bind(run.new_units.len() as i32)
    .bind(create_missing)
    .bind(actor.id)
    .bind(&actor.name)
    .bind(serde_json::to_value(&kept).map_err(anyhow::Error::from)?)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(id)
}

type JobRow = (
    Uuid,
    String,
    String,
    i32,
    i32,
    i32,
    i32,
    bool,
    Option<String>,
    String,
    String,
    serde_json::Value,
);

const JOB_COLUMNS: &str = "id, file_name, status, total_rows, problem_count, processed_rows,
    created_units, create_missing_units, failure, created_by_name,
    to_char(created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), problems";

fn job(row: JobRow) -> Job {
    let (
        id,
        file_name,
        status,
        total_rows,
        problem_count,
        processed_rows,
        created_units,
        create_missing_units,
        failure,
        created_by_name,
        created_at,
        problems,
    ) = row;
    Job {
        id,
        file_name,
        status,
        total_rows,
        problem_count,
        processed_rows,
        created_units,
        create_missing_units,
        failure,
        created_by_name,
        created_at,
        problems: serde_json::from_value(problems).unwrap_or_default(),
    }
}

pub async fn find(tx: &mut TenantTx, id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    let row: Option<JobRow> = sqlx::query_as(&format!(
        "select {JOB_COLUMNS} from student_imports where tenant_id = $1 and id = $2"
    ))
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(job))
}

pub async fn recent(tx: &mut TenantTx) -> Result<Vec<Job>, sqlx::Error> {
    let rows: Vec<JobRow> = sqlx::query_as(&format!(
        "select {JOB_COLUMNS} from student_imports where tenant_id = $1
          order by created_at desc limit 20"
    ))
    .bind(tx.tenant().as_uuid())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(job).collect())
}

/// Claims a clean, previewed job and writes it in the background. A job with problems, or one
/// already committing or committed, is refused with 409.
pub async fn commit(
    db: &Db,
    storage: &Storage,
    keyring: &std::sync::Arc<Keyring>,
    tenant: TenantId,
    id: Uuid,
    actor: Actor,
) -> AppResult<()> {
    let attachment = claim(db, tenant, id).await?;
    let (db, storage, keyring) = (db.clone(), storage.clone(), keyring.clone());
    tokio::spawn(async move {
        let _ = finish(&db, &storage, &keyring, tenant, id, attachment, &actor).await;
    });
    Ok(())
}

/// Like `commit`, but waits until the job is written or has failed (the command line).
pub async fn commit_and_wait(
    db: &Db,
    storage: &Storage,
    keyring: &Keyring,
    tenant: TenantId,
    id: Uuid,
    actor: &Actor,
) -> AppResult<()> {
    let attachment = claim(db, tenant, id).await?;
    finish(db, storage, keyring, tenant, id, attachment, actor).await
}

/// Moves a clean, previewed job to `committing`; only one caller ever wins.
async fn claim(db: &Db, tenant: TenantId, id: Uuid) -> AppResult<Uuid> {
    let m = Catalog::zh();
    let mut tx = db.tenant(tenant).await?;
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "update student_imports set status = 'committing'
          where tenant_id = $1 and id = $2 and status = 'previewed' and problem_count = 0
          returning attachment_id",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(attachment) = claimed else {
        return match find(&mut tx, id).await? {
            None => Err(AppError::NotFound),
            Some(_) => Err(AppError::Conflict {
                code: "import_not_committable",
                message: m.t("import.not_committable").to_owned(),
            }),
        };
    };
    tx.commit().await?;
    Ok(attachment)
}

/// Writes a claimed job; on failure marks it failed with the reason and writes nothing.
async fn finish(
    db: &Db,
    storage: &Storage,
    keyring: &Keyring,
    tenant: TenantId,
    id: Uuid,
    attachment: Uuid,
    actor: &Actor,
) -> AppResult<()> {
    let result = write(db, storage, keyring, tenant, id, attachment, actor).await;
    if let Err(e) = &result {
        let message = match e {
            AppError::Invalid { message, .. } | AppError::Conflict { message, .. } => {
                message.clone()
            }
            _ => Catalog::zh().t("import.failed_internal").to_owned(),
        };
        tracing::warn!(import = %id, error = %e, "roster import failed; nothing was written");
        let _ = mark_failed(db, tenant, id, &message).await;
    }
    result
}

async fn mark_failed(
    db: &Db,
    tenant: TenantId,
    id: Uuid,
    message: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = db.tenant(tenant).await?;
    sqlx::query(
        "update student_imports set status = 'failed', failure = $3, processed_rows = 0,
                finished_at = now()
          where tenant_id = $1 and id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(message)
    .execute(tx.conn())
    .await?;
    tx.commit().await
}

async fn write(
    db: &Db,
    storage: &Storage,
    keyring: &Keyring,
    tenant: TenantId,
    id: Uuid,
    attachment: Uuid,
    actor: &Actor,
) -> AppResult<()> {
    let m = Catalog::zh();
    let bytes = storage
        .get(&ObjectKey::new(tenant, attachment))
        .await
        .map_err(|e| AppError::Unavailable(format!("attachment storage: {e}")))?
        .ok_or_else(|| AppError::invalid("import_file_missing", m.t("import.file_missing")))?;
    let mut tx = db.tenant(tenant).await?;
    let (file_name, create_missing): (String, bool) = sqlx::query_as(
        "select file_name, create_missing_units from student_imports
          where tenant_id = $1 and id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    let table = read_table(&file_name, &bytes)?;
    let key = keyring.for_school(&mut tx).await?;
    // The row checks depend on the file alone, which is the one the preview checked; only the
    // register can have changed. The org tree is read again here; duplicates against the
    // register are left to the unique indexes, which also see rows written meanwhile.
    let checked = preview(&table);
    let mut tree = Tree::load(&mut tx).await?;
    let (placements, new_units, placement_problems) = tree.place(&checked.drafts, create_missing);
    if !checked.problems.is_empty() || !placement_problems.is_empty() {
        drop(tx);
        return Err(changed(db, keyring, tenant, &table, create_missing).await);
    }
    store::insert_units(&mut tx, &new_units).await?;
    let (mut students, mut accounts) = (0usize, 0u64);
    for (drafts, places) in checked.drafts.chunks(store::CHUNK).zip(placements.chunks(store::CHUNK))
    {
        let by = (actor.id, actor.name.as_str());
        match store::write_chunk(&mut tx, &key, drafts, places, by, true).await {
            Ok((written, created)) => {
                students += written.len();
                accounts += created;
            }
            Err(e) if store::is_taken(&e) => {
                drop(tx);
                return Err(changed(db, keyring, tenant, &table, create_missing).await);
            }
            Err(e) => return Err(e.into()),
        }
        report_progress(db, tenant, id, students).await;
    }
    if accounts > 0 {
        // New accounts with a role: every instance must reload this school's policy.
        xg_authz::enforcer::bump_policy(&mut tx).await?;
    }
    sqlx::query(
        "update student_imports set status = 'committed', processed_rows = $3,
                created_units = $4, finished_at = now()
          where tenant_id = $1 and id = $2",
    )
    .bind(tenant.as_uuid())
    .bind(id)
    .bind(students as i32)
    .bind(new_units.len() as i32)
    .execute(tx.conn())
    .await?;
    xg_audit::record(
        &mut tx,
        actor,
        Change::new("students.import", file_name)
            .after(serde_json::json!({ "students": students, "new_units": new_units.len() })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The refusal of a commit whose rows no longer fit the register, with the count of problems a
/// fresh dry run (in its own transaction; the writing one is rolled back) finds now.
async fn changed(
    db: &Db,
    keyring: &Keyring,
    tenant: TenantId,
    table: &Table,
    create_missing: bool,
) -> AppError {
    let count = async {
        let mut tx = db.tenant(tenant).await?;
        let key = keyring.for_school(&mut tx).await?;
        let run = dry_run(&mut tx, &key, table, create_missing).await?;
        Ok::<_, AppError>(run.problems.len())
    };
    match count.await {
        Ok(count) => AppError::invalid(
            "import_changed",
            Catalog::zh()
                .fmt("import.changed_since_preview", &[("count", &count.max(1).to_string())]),
        ),
        Err(e) => e,
    }
}

/// Progress is written outside the import's transaction, so the page sees it while the rows
/// are still invisible; it is a hint, and a lost update only delays the bar.
async fn report_progress(db: &Db, tenant: TenantId, id: Uuid, rows: usize) {
    let update = async {
        let mut tx = db.tenant(tenant).await?;
        sqlx::query(
            "update student_imports set processed_rows = $3 where tenant_id = $1 and id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(rows as i32)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    };
    if let Err(e) = update.await {
        tracing::debug!(error = %e, "import progress not recorded");
    }
}
