//! The audit logs. Every write (and every reveal of a masked personal field) appends an entry:
//! who, what, on which target, the state before and after, when and from where. Entries are
//! chained per school: each entry's hash covers its own content and the previous entry's hash,
//! so editing or deleting any entry breaks the chain from that point, and `verify` finds it.
//! The service role may only insert and read (see migrations/0003_audit.sql).
//!
//! Appends to one chain are serialised with a transaction-scoped advisory lock, so audited
//! writes within one school commit one at a time. That is ample for student-affairs volumes;
//! it is the first thing to revisit if one school ever writes hundreds of times a second.

mod chain;

use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;
use xg_kernel::TenantTx;

pub use chain::{ChainReport, Entry};

/// Who did it, and from where.
#[derive(Clone, Debug, Serialize)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub name: String,
    pub client_addr: Option<String>,
}

impl Actor {
    /// The command line or another process without a signed-in person.
    pub fn system(name: &str) -> Self {
        Self { id: None, name: name.to_owned(), client_addr: None }
    }
}

/// What happened: `action` is a dotted verb (`org.unit.create`), `target` names the record.
#[derive(Clone, Debug)]
pub struct Change {
    pub action: &'static str,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    pub fn new(action: &'static str, target: impl Into<String>) -> Self {
        Self { action, target: target.into(), before: None, after: None }
    }

    pub fn before(mut self, value: impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

/// Appends to the school's chain inside the caller's transaction, so the entry commits or rolls
/// back with the write it describes.
pub async fn record(tx: &mut TenantTx, actor: &Actor, change: Change) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().as_uuid();
    sqlx::query("select pg_advisory_xact_lock(hashtext('xg-audit:' || $1::text))")
        .bind(tenant)
        .execute(tx.conn())
        .await?;
    let last: Option<(i64, String)> = sqlx::query_as(
        "select seq, hash from audit_log where tenant_id = $1 order by seq desc limit 1",
    )
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?;
    let entry = chain::next_entry(last, actor, change, now_micros());
    sqlx::query(
        "insert into audit_log (tenant_id, seq, at_micros, actor_id, actor_name, action, target,
                                before, after, client_addr, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(tenant)
    .bind(entry.seq)
    .bind(entry.at_micros)
    .bind(entry.actor_id)
    .bind(&entry.actor_name)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(&entry.client_addr)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Appends to the platform chain (registry changes by operators, bureaus and the CLI).
pub async fn record_platform(
    conn: &mut PgConnection,
    actor: &Actor,
    change: Change,
) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock(hashtext('xg-audit:platform'))")
        .execute(&mut *conn)
        .await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("select seq, hash from platform_audit_log order by seq desc limit 1")
            .fetch_optional(&mut *conn)
            .await?;
    let entry = chain::next_entry(last, actor, change, now_micros());
    sqlx::query(
        "insert into platform_audit_log (seq, at_micros, actor_id, actor_name, action, target,
                                         before, after, client_addr, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(entry.seq)
    .bind(entry.at_micros)
    .bind(entry.actor_id)
    .bind(&entry.actor_name)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(&entry.client_addr)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(conn)
    .await?;
    Ok(())
}

fn now_micros() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1000).unwrap_or(i64::MAX)
}

/// Filters for browsing a school's log, newest first.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only actions starting with this (e.g. `org.`).
    pub action_prefix: Option<String>,
    /// Only entries whose actor name contains this.
    pub actor: Option<String>,
    /// Only entries with `seq` below this (for paging).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

const COLUMNS: &str = "seq, at_micros, actor_id, actor_name, action, target, before, after, \
                       client_addr, prev_hash, hash";

pub async fn list(tx: &mut TenantTx, filter: &Filter) -> Result<Vec<Entry>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from audit_log
          where tenant_id = $1
            and ($2::text is null or starts_with(action, $2))
            and ($3::text is null or strpos(actor_name, $3) > 0)
            and ($4::bigint is null or seq < $4)
          order by seq desc limit $5"
    );
    sqlx::query_as(&sql)
        .bind(tx.tenant().as_uuid())
        .bind(&filter.action_prefix)
        .bind(&filter.actor)
        .bind(filter.before_seq)
        .bind(filter.limit.clamp(1, 500))
        .fetch_all(tx.conn())
        .await
}

/// Re-computes the school's whole chain and reports the first entry that does not match.
pub async fn verify(tx: &mut TenantTx) -> Result<ChainReport, sqlx::Error> {
    let sql = format!("select {COLUMNS} from audit_log where tenant_id = $1 order by seq");
    let entries: Vec<Entry> =
        sqlx::query_as(&sql).bind(tx.tenant().as_uuid()).fetch_all(tx.conn()).await?;
    Ok(chain::check(&entries))
}

pub async fn verify_platform(conn: &mut PgConnection) -> Result<ChainReport, sqlx::Error> {
    let sql = format!("select {COLUMNS} from platform_audit_log order by seq");
    let entries: Vec<Entry> = sqlx::query_as(&sql).fetch_all(conn).await?;
    Ok(chain::check(&entries))
}
