//! The test harness. Each test gets its own PostgreSQL database, cloned from a template that
//! was migrated once per migration set, and makes its own districts and schools. Tests talk to
//! the real PostgreSQL and S3-compatible server that `infra/test.sh` starts; without them they
//! fail loudly instead of skipping.

pub mod app;
pub mod awards;
pub mod notices;
pub mod schools;

use std::sync::LazyLock;

use secrecy::SecretString;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;
use xg_kernel::Db;
use xg_kernel::db::MIGRATOR;

/// Role names and passwords created by `infra/lib.sh` (`create_roles`).
pub const OWNER_ROLE: (&str, &str) = ("xuegong_owner", "xuegong_owner");
pub const APP_ROLE: (&str, &str) = ("xuegong_app", "xuegong_app");

static ADMIN: LazyLock<PgConnectOptions> = LazyLock::new(|| {
    let url = std::env::var("XG_TEST_PG_ADMIN_URL").expect(
        "XG_TEST_PG_ADMIN_URL is not set: run the tests with infra/test.sh, which starts \
         PostgreSQL and an S3-compatible server for them",
    );
    url.parse().expect("XG_TEST_PG_ADMIN_URL is a PostgreSQL URL")
});

/// A fresh, migrated database for one test, with pools for the service role and the owner.
pub struct TestDb {
    pub name: String,
    /// The service role: owns nothing, subject to RLS. What the product uses.
    pub app: Db,
    /// The owner role (migrations); tests use it to break things on purpose.
    pub owner: PgPool,
}

impl TestDb {
    pub async fn new() -> Self {
        let template = ensure_template().await;
        let name = format!("xg_t_{}", Uuid::new_v4().simple());
        let mut admin = admin_conn("postgres").await;
        admin
            .execute(
                format!("create database {name} owner {} template {template}", OWNER_ROLE.0)
                    .as_str(),
            )
            .await
            .expect("create test database");
        let app = Db::from_pool(pool_as(APP_ROLE, &name, 10).await);
        let owner = pool_as(OWNER_ROLE, &name, 2).await;
        Self { name, app, owner }
    }

    /// Another service-role pool on the same database (e.g. a second service instance, or a
    /// deliberately tiny pool).
    pub async fn app_pool(&self, size: u32) -> PgPool {
        pool_as(APP_ROLE, &self.name, size).await
    }

    pub fn app_url(&self) -> SecretString {
        SecretString::from(url_for(APP_ROLE, &self.name))
    }

    pub fn owner_url(&self) -> SecretString {
        SecretString::from(url_for(OWNER_ROLE, &self.name))
    }

    /// A superuser connection to this test's database, for tests about privileged roles.
    pub async fn superuser(&self) -> PgConnection {
        admin_conn(&self.name).await
    }
}

fn url_for((user, password): (&str, &str), database: &str) -> String {
    let host = ADMIN.get_host();
    let port = ADMIN.get_port();
    format!("postgres://{user}:{password}@{host}:{port}/{database}")
}

async fn pool_as(role: (&str, &str), database: &str, size: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(size)
        .connect(&url_for(role, database))
        .await
        .unwrap_or_else(|e| panic!("connect as {} to {database}: {e}", role.0))
}

async fn admin_conn(database: &str) -> PgConnection {
    PgConnection::connect_with(&ADMIN.clone().database(database))
        .await
        .expect("connect to the test cluster as its superuser")
}

/// Creates (once per migration set, across parallel test processes) the roles and a migrated
/// template database, and returns the template's name.
async fn ensure_template() -> String {
    let mut hasher = Sha256::new();
    for m in MIGRATOR.iter() {
        hasher.update(m.version.to_be_bytes());
        hasher.update(&m.checksum);
    }
    let template = format!("xg_tpl_{}", &hex::encode(hasher.finalize())[..16]);

    let mut admin = admin_conn("postgres").await;
    admin.execute("select pg_advisory_lock(7474)").await.expect("lock");
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .expect("look up template");
    if !exists {
        admin.execute(ROLES_SQL).await.expect("create roles");
        let building = format!("{template}_building");
        admin
            .execute(format!("drop database if exists {building}").as_str())
            .await
            .expect("drop stale template");
        admin
            .execute(format!("create database {building} owner {}", OWNER_ROLE.0).as_str())
            .await
            .expect("create template");
        let owner = pool_as(OWNER_ROLE, &building, 1).await;
        MIGRATOR.run(&owner).await.expect("migrations apply to an empty database");
        owner.close().await;
        // A closed connection's backend can outlive the close by a while on a busy machine
        // (and an autovacuum worker may visit the new database), and a database with a
        // session cannot be renamed. Nobody else may use the half-built template (we hold the
        // lock), so end such sessions and retry.
        let rename = format!("alter database {building} rename to {template}");
        let mut tries = 0;
        while let Err(e) = admin.execute(rename.as_str()).await {
            tries += 1;
            assert!(tries < 100, "publish template: {e}");
            sqlx::query(
                "select pg_terminate_backend(pid) from pg_stat_activity
                  where datname = $1 and pid <> pg_backend_pid()",
            )
            .bind(&building)
            .execute(&mut admin)
            .await
            .expect("end sessions on the half-built template");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    admin.execute("select pg_advisory_unlock(7474)").await.expect("unlock");
    template
}

const ROLES_SQL: &str = "
do $$
begin
    if not exists (select from pg_roles where rolname = 'xuegong_owner') then
        create role xuegong_owner login password 'xuegong_owner';
    end if;
    if not exists (select from pg_roles where rolname = 'xuegong_app') then
        create role xuegong_app login password 'xuegong_app' nosuperuser nobypassrls;
    end if;
end
$$;";

/// An S3 store on the S3-compatible server `infra/test.sh` started, in a bucket of its own.
pub async fn test_s3_store() -> xg_storage::S3Store {
    let var = |k: &str| {
        std::env::var(k)
            .unwrap_or_else(|_| panic!("{k} is not set: run the tests with infra/test.sh"))
    };
    let store = xg_storage::S3Store::new(xg_storage::S3Settings {
        endpoint: var("XG_TEST_S3_ENDPOINT"),
        region: "us-east-1".into(),
        bucket: format!("xg-{}", Uuid::new_v4().simple()),
        access_key: SecretString::from(var("XG_TEST_S3_ACCESS_KEY")),
        secret_key: SecretString::from(var("XG_TEST_S3_SECRET_KEY")),
        path_style: true,
    });
    store.ensure_bucket().await.expect("create a test bucket");
    store
}
