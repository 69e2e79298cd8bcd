//! Lockout with back-off: after `FREE_ATTEMPTS` consecutive failed sign-ins an account is
//! locked for one minute, doubling with each further failure up to an hour. A successful
//! sign-in clears the count; an admin's password reset clears the lock.
//!
//! A lock is per account, so a stranger who knows a username can keep it locked; the per-client
//! rate limit on the sign-in routes bounds how fast, and the admin can reset. That trade-off
//! is the usual one for a school system, where guessing must be stopped first.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

pub const FREE_ATTEMPTS: i32 = 5;

/// Which account table: a school's (tenant-filtered) or the platform's.
#[derive(Clone, Copy)]
pub enum Accounts {
    School,
    Platform,
}

impl Accounts {
    fn table(self) -> &'static str {
        match self {
            Self::School => "school_accounts",
            Self::Platform => "platform_accounts",
        }
    }
}

/// Locks the account's row until the transaction ends, so concurrent sign-ins for one account
/// are checked one after another: the failure count cannot be raced past the limit.
pub async fn lock_row(
    conn: &mut PgConnection,
    which: Accounts,
    id: Uuid,
) -> Result<(), sqlx::Error> {
    let sql = format!("select 1 from {} where id = $1 for update", which.table());
    sqlx::query(&sql).bind(id).execute(conn).await?;
    Ok(())
}

/// How long the account stays locked, if it is locked now.
pub async fn locked_for(
    conn: &mut PgConnection,
    which: Accounts,
    id: Uuid,
) -> Result<Option<Duration>, sqlx::Error> {
    let sql = format!(
        "select extract(epoch from locked_until - now())::float8 from {} \
          where id = $1 and locked_until > now()",
        which.table()
    );
    let secs: Option<f64> = sqlx::query_scalar(&sql).bind(id).fetch_optional(conn).await?;
    Ok(secs.map(|s| Duration::from_secs_f64(s.max(1.0))))
}

/// Counts a failure and returns the new lock, if this failure started one.
pub async fn record_failure(
    conn: &mut PgConnection,
    which: Accounts,
    id: Uuid,
) -> Result<Option<Duration>, sqlx::Error> {
    let sql = format!(
        "update {} set failed_logins = failed_logins + 1,
                locked_until = case when failed_logins + 1 >= {FREE_ATTEMPTS}
                    then now() + least(interval '1 minute' * power(2, failed_logins + 1 - {FREE_ATTEMPTS}),
                                       interval '60 minutes')
                    else locked_until end
          where id = $1
          returning case when locked_until > now()
                         then extract(epoch from locked_until - now())::float8 end",
        which.table()
    );
    let secs: Option<Option<f64>> = sqlx::query_scalar(&sql).bind(id).fetch_optional(conn).await?;
    Ok(secs.flatten().map(Duration::from_secs_f64))
}

pub async fn record_success(
    conn: &mut PgConnection,
    which: Accounts,
    id: Uuid,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "update {} set failed_logins = 0, locked_until = null
          where id = $1 and (failed_logins <> 0 or locked_until is not null)",
        which.table()
    );
    sqlx::query(&sql).bind(id).execute(conn).await?;
    Ok(())
}

/// The result of checking a password against an account's lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    /// Already locked: the password was not even checked.
    Locked(Duration),
    /// This failure started a lock (worth an audit entry).
    LockedNow(Duration),
}

/// What a password is checked against.
#[derive(Clone, Debug)]
pub enum Stored {
    /// An argon2 hash, the normal case.
    Hash(String),
    /// A first password derived from the account's own record (a student account waiting for
    /// activation: the last six characters of the ID number). Compared in constant time.
    Derived(String),
}

/// Checks `password` for `account` (its id and what is stored; `None` for an unknown username,
/// which costs the same time and fails), honouring and updating the lockout. The caller's
/// transaction holds the account row until it ends, so concurrent checks run one by one.
pub async fn check(
    conn: &mut PgConnection,
    which: Accounts,
    account: Option<(Uuid, Stored)>,
    password: String,
) -> Result<Verdict, sqlx::Error> {
    if let Some((id, _)) = &account {
        lock_row(&mut *conn, which, *id).await?;
        if let Some(wait) = locked_for(&mut *conn, which, *id).await? {
            return Ok(Verdict::Locked(wait));
        }
    }
    let id = account.as_ref().map(|(id, _)| *id);
    let verified = match account.map(|(_, stored)| stored) {
        Some(Stored::Derived(expected)) => {
            let (a, b) = (expected.as_bytes(), password.trim().to_uppercase().into_bytes());
            a.len() == b.len() && a.iter().zip(&b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        }
        Some(Stored::Hash(hash)) => xg_kernel::password::verify_limited(password, Some(hash)).await,
        None => xg_kernel::password::verify_limited(password, None).await,
    };
    Ok(match id {
        Some(id) if verified => {
            record_success(conn, which, id).await?;
            Verdict::Passed
        }
        Some(id) => match record_failure(conn, which, id).await? {
            Some(wait) => Verdict::LockedNow(wait),
            None => Verdict::Failed,
        },
        None => Verdict::Failed,
    })
}
