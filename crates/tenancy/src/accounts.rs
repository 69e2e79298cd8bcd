//! Accounts that sign in: platform accounts (operators and district staff, outside any school)
//! and school accounts (inside one school, behind RLS).

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;
use xg_audit::{Actor, Change};
use xg_kernel::{DistrictId, TenantTx};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformRole {
    Operator,
    DistrictAdmin,
}

impl PlatformRole {
    pub fn key(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::DistrictAdmin => "district_admin",
        }
    }
}

#[derive(Clone, Debug)]
pub struct PlatformAccount {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: PlatformRole,
    pub district_id: Option<DistrictId>,
    pub must_change_password: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account named '{0}' already exists")]
    Exists(String),
    #[error("a district admin needs a district, an operator must not have one")]
    DistrictMismatch,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A platform account to create.
pub struct NewPlatformAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: PlatformRole,
    pub district: Option<DistrictId>,
    /// The password was generated or given by someone else: change it at first sign-in.
    pub must_change_password: bool,
}

pub async fn create_platform_account(
    conn: &mut PgConnection,
    actor: &Actor,
    new: NewPlatformAccount<'_>,
) -> Result<Uuid, AccountError> {
    let NewPlatformAccount {
        username,
        display_name,
        password_hash,
        role,
        district,
        must_change_password,
    } = new;
    if (role == PlatformRole::DistrictAdmin) != district.is_some() {
        return Err(AccountError::DistrictMismatch);
    }
    let id = Uuid::new_v4();
    let inserted = sqlx::query(
        "insert into platform_accounts (id, username, display_name, password_hash, role,
                                        district_id, must_change_password)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (username) do nothing",
    )
    .bind(id)
    .bind(username)
    .bind(display_name)
    .bind(password_hash)
    .bind(role.key())
    .bind(district.map(|d| d.as_uuid()))
    .bind(must_change_password)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AccountError::Exists(username.to_owned()));
    }
    let after = serde_json::json!({
        "username": username,
        "role": role.key(),
        "district_id": district.map(|d| d.as_uuid()),
    });
    let change =
        Change::new("platform_account.create", format!("platform_account:{id}")).after(after);
    xg_audit::record_platform(conn, actor, change).await?;
    Ok(id)
}

pub async fn find_platform_account(
    conn: &mut PgConnection,
    username: &str,
) -> Result<Option<PlatformAccount>, sqlx::Error> {
    let row: Option<PlatformRow> =
        sqlx::query_as(&format!("{PLATFORM_COLUMNS} where username = $1"))
            .bind(username)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(platform_from_row))
}

pub async fn platform_account_by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<PlatformAccount>, sqlx::Error> {
    let row: Option<PlatformRow> = sqlx::query_as(&format!("{PLATFORM_COLUMNS} where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(platform_from_row))
}

type PlatformRow = (Uuid, String, String, String, String, Option<Uuid>, bool);
const PLATFORM_COLUMNS: &str = "select id, username, display_name, password_hash, role, \
                                district_id, must_change_password from platform_accounts";

fn platform_from_row(row: PlatformRow) -> PlatformAccount {
    let (id, username, display_name, password_hash, role, district, must_change_password) = row;
    PlatformAccount {
        id,
        username,
        display_name,
        password_hash,
        role: if role == "operator" { PlatformRole::Operator } else { PlatformRole::DistrictAdmin },
        district_id: district.map(DistrictId::from_uuid),
        must_change_password,
    }
}

/// The password hash of a student account created by a roster import and not yet activated:
/// not an argon2 hash, so no password ever verifies against it. The first sign-in uses the
/// last six characters of the student's ID number instead and must set a real password.
pub const ACTIVATION_PENDING: &str = "!activation-pending";

#[derive(Clone, Debug)]
pub struct SchoolAccount {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub roles: Vec<String>,
}

pub async fn find_school_account(
    tx: &mut TenantTx,
    username: &str,
) -> Result<Option<SchoolAccount>, sqlx::Error> {
    let row: Option<(Uuid, String, String, String, bool, Vec<String>)> = sqlx::query_as(
        "select a.id, a.username, a.display_name, a.password_hash, a.must_change_password,
                coalesce(array_agg(r.role_key order by r.role_key)
                         filter (where r.role_key is not null), '{}')
           from school_accounts a
           left join account_roles r on r.tenant_id = a.tenant_id and r.account_id = a.id
          where a.tenant_id = $1 and a.username = $2
          group by a.tenant_id, a.id",
    )
    .bind(tx.tenant().as_uuid())
    .bind(username)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|(id, username, display_name, password_hash, must_change_password, roles)| {
        SchoolAccount { id, username, display_name, password_hash, must_change_password, roles }
    }))
}

pub async fn find_school_account_by_id(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<SchoolAccount>, sqlx::Error> {
    let username: Option<String> =
        sqlx::query_scalar("select username from school_accounts where tenant_id = $1 and id = $2")
            .bind(tx.tenant().as_uuid())
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    match username {
        Some(u) => find_school_account(tx, &u).await,
        None => Ok(None),
    }
}

/// Replaces a platform account's password; `must_change` marks it as an initial password.
pub async fn set_platform_password(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    password_hash: &str,
    must_change: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update platform_accounts set password_hash = $2, must_change_password = $3 where id = $1",
    )
    .bind(id)
    .bind(password_hash)
    .bind(must_change)
    .execute(&mut *conn)
    .await?;
    let action = if must_change {
        "platform_account.password_reset"
    } else {
        "platform_account.password_change"
    };
    xg_audit::record_platform(conn, actor, Change::new(action, format!("platform_account:{id}")))
        .await
}

/// Replaces a school account's password; `must_change` marks it as an initial password.
pub async fn set_school_password(
    tx: &mut TenantTx,
    actor: &Actor,
    id: Uuid,
    password_hash: &str,
    must_change: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update school_accounts set password_hash = $3, must_change_password = $4
          where tenant_id = $1 and id = $2",
    )
    .bind(tx.tenant().as_uuid())
    .bind(id)
    .bind(password_hash)
    .bind(must_change)
    .execute(tx.conn())
    .await?;
    let action = if must_change { "account.password_reset" } else { "account.password_change" };
    xg_audit::record(tx, actor, Change::new(action, format!("account:{id}"))).await
}
