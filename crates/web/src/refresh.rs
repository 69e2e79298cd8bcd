//! Refresh tokens: random, stored only as SHA-256 digests, rotated on every use, revoked on
//! sign-out and password change. A used token presented again revokes its whole family, so a
//! stolen token dies the moment either party uses it after the other.

use std::time::Duration;

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;
use xg_kernel::{Db, TenantId};

/// How long a refresh token (and so a session without activity) lives.
pub const REFRESH_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// Which table: a school's tokens (behind RLS) or the platform's.
#[derive(Clone, Copy, Debug)]
pub enum Store {
    School(TenantId),
    Platform,
}

impl Store {
    fn table(self) -> &'static str {
        match self {
            Self::School(_) => "refresh_tokens",
            Self::Platform => "platform_refresh_tokens",
        }
    }

    /// `tenant_id = $T and` for school tokens (the application-side filter), nothing for the
    /// platform table. `$T` is always bound last.
    fn filter(self, param: usize) -> String {
        match self {
            Self::School(_) => format!("tenant_id = ${param} and "),
            Self::Platform => String::new(),
        }
    }
}

pub enum Rotation {
    Rotated {
        account: Uuid,
        token: String,
    },
    Invalid,
    /// A used token came back: its family is now revoked.
    Reused,
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

async fn begin(db: &Db, store: Store) -> Result<Tx, sqlx::Error> {
    Ok(match store {
        Store::School(t) => Tx::School(db.tenant(t).await?),
        Store::Platform => Tx::Platform(db.platform().await?),
    })
}

enum Tx {
    School(xg_kernel::TenantTx),
    Platform(xg_kernel::PlatformTx),
}

impl Tx {
    fn conn(&mut self) -> &mut PgConnection {
        match self {
            Self::School(t) => t.conn(),
            Self::Platform(t) => t.conn(),
        }
    }

    async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::School(t) => t.commit().await,
            Self::Platform(t) => t.commit().await,
        }
    }
}

async fn insert(
    conn: &mut PgConnection,
    store: Store,
    account: Uuid,
    family: Uuid,
) -> Result<String, sqlx::Error> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let ttl = REFRESH_TTL.as_secs() as f64;
    let sql = match store {
        Store::School(_) => "insert into refresh_tokens (tenant_id, id, account_id, family_id, token_hash, expires_at)
             values ($5, $1, $2, $3, $4, now() + make_interval(secs => $6))",
        Store::Platform => "insert into platform_refresh_tokens (id, account_id, family_id, token_hash, expires_at)
             values ($1, $2, $3, $4, now() + make_interval(secs => $6))",
    };
    let query =
        sqlx::query(sql).bind(Uuid::new_v4()).bind(account).bind(family).bind(digest(&token));
    let query = match store {
        Store::School(t) => query.bind(t.as_uuid()),
        Store::Platform => query.bind(Option::<Uuid>::None),
    };
    query.bind(ttl).execute(conn).await?;
    Ok(token)
}

/// Starts a new family for a fresh sign-in and returns its first token.
pub async fn issue(db: &Db, store: Store, account: Uuid) -> Result<String, sqlx::Error> {
    let mut tx = begin(db, store).await?;
    let token = insert(tx.conn(), store, account, Uuid::new_v4()).await?;
    tx.commit().await?;
    Ok(token)
}

/// How long after a rotation the same token may come back without counting as theft: a
/// browser's parallel requests all carry it. Such a late twin gets no new token, but its family
/// is not revoked.
const CONCURRENT_USE_SECONDS: i32 = 10;

/// Locks the account row that owns `token`, if any. Rotation, sign-out and password changes all
/// take this lock first, so a revocation can never miss a token that a concurrent rotation is
/// about to issue.
async fn lock_owner(conn: &mut PgConnection, store: Store, token: &str) -> Result<(), sqlx::Error> {
    let accounts = match store {
        Store::School(_) => "school_accounts",
        Store::Platform => "platform_accounts",
    };
    let sql = format!(
        "select 1 from {accounts} where id = (select account_id from {} where {}token_hash = $1)
            for update",
        store.table(),
        store.filter(2)
    );
    let mut query = sqlx::query(&sql).bind(digest(token));
    if let Store::School(t) = store {
        query = query.bind(t.as_uuid());
    }
    query.execute(conn).await?;
    Ok(())
}

pub async fn rotate(db: &Db, store: Store, token: &str) -> Result<Rotation, sqlx::Error> {
    let mut tx = begin(db, store).await?;
    lock_owner(tx.conn(), store, token).await?;
    let tenant = match store {
        Store::School(t) => Some(t.as_uuid()),
        Store::Platform => None,
    };
    let sql = format!(
        "update {} set used_at = now()
          where {}token_hash = $1 and used_at is null and revoked_at is null and expires_at > now()
          returning account_id, family_id",
        store.table(),
        store.filter(2)
    );
    let used: Option<(Uuid, Uuid)> = bind_tenant(sqlx::query_as(&sql).bind(digest(token)), tenant)
        .fetch_optional(tx.conn())
        .await?;
    if let Some((account, family)) = used {
        let fresh = insert(tx.conn(), store, account, family).await?;
        tx.commit().await?;
        return Ok(Rotation::Rotated { account, token: fresh });
    }
    let sql = format!(
        "select family_id, used_at > now() - make_interval(secs => {CONCURRENT_USE_SECONDS})
           from {} where {}token_hash = $1 and used_at is not null",
        store.table(),
        store.filter(2)
    );
    let replayed: Option<(Uuid, bool)> =
        bind_tenant(sqlx::query_as(&sql).bind(digest(token)), tenant)
            .fetch_optional(tx.conn())
            .await?;
    let Some((family, just_used)) = replayed else { return Ok(Rotation::Invalid) };
    if just_used {
        // A twin of a request that rotated moments ago, not a thief: no token, no revocation.
        return Ok(Rotation::Invalid);
    }
    revoke_where(tx.conn(), store, "family_id", family).await?;
    tx.commit().await?;
    Ok(Rotation::Reused)
}

/// Sign-out: revokes the family of `token`.
pub async fn revoke_family_of(db: &Db, store: Store, token: &str) -> Result<(), sqlx::Error> {
    let mut tx = begin(db, store).await?;
    lock_owner(tx.conn(), store, token).await?;
    let tenant = match store {
        Store::School(t) => Some(t.as_uuid()),
        Store::Platform => None,
    };
    let sql =
        format!("select family_id from {} where {}token_hash = $1", store.table(), store.filter(2));
    let family: Option<Uuid> =
        bind_tenant_scalar(sqlx::query_scalar(&sql).bind(digest(token)), tenant)
            .fetch_optional(tx.conn())
            .await?;
    if let Some(family) = family {
        revoke_where(tx.conn(), store, "family_id", family).await?;
    }
    tx.commit().await
}

/// Password change or reset: revokes every session of the account. Runs in the caller's
/// transaction, after the password update has locked the account row, so it commits with the
/// new password and no rotation can slip a token past it.
pub async fn revoke_account(
    conn: &mut PgConnection,
    store: Store,
    account: Uuid,
) -> Result<(), sqlx::Error> {
    revoke_where(conn, store, "account_id", account).await
}

async fn revoke_where(
    conn: &mut PgConnection,
    store: Store,
    column: &str,
    id: Uuid,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "update {} set revoked_at = now() where {}{column} = $1 and revoked_at is null",
        store.table(),
        store.filter(2)
    );
    let tenant = match store {
        Store::School(t) => Some(t.as_uuid()),
        Store::Platform => None,
    };
    let mut query = sqlx::query(&sql).bind(id);
    if let Some(t) = tenant {
        query = query.bind(t);
    }
    query.execute(conn).await?;
    Ok(())
}

fn bind_tenant<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    tenant: Option<Uuid>,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    match tenant {
        Some(t) => q.bind(t),
        None => q,
    }
}

fn bind_tenant_scalar<'q, O>(
    q: sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    tenant: Option<Uuid>,
) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    match tenant {
        Some(t) => q.bind(t),
        None => q,
    }
}
