//! Tenant-scoped database access. Every query against tenant-owned tables runs inside a
//! `TenantTx`: a transaction that set `app.tenant_id` with `set_config(.., true)`, so the setting
//! dies with the transaction and a pooled connection carries nothing into the next request,
//! including when a request is dropped midway (sqlx rolls the transaction back before the
//! connection is reused). Repository code also filters by `tx.tenant()`; RLS is the second wall.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::ids::{DistrictId, TenantId};

#[derive(Clone)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    pub async fn connect(url: &SecretString, pool_size: u32) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.expose_secret().parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(Duration::from_secs(10))
            // A runaway query must not hold a pooled connection (and its tenant) for long.
            .connect_with(
                options.application_name("xuegong").options([("statement_timeout", "30s")]),
            )
            .await?;
        Ok(Self { pool })
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The raw pool, for health checks and LISTEN only. Data access goes through the
    /// transaction constructors below.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction that sees exactly one school's rows.
    pub async fn tenant(&self, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        self.platform().await?.enter_tenant(tenant).await
    }

    /// A transaction that may read (not write) the rows of one district's schools, through each
    /// table's `district_read` policy.
    pub async fn district(&self, district: DistrictId) -> Result<DistrictTx, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("select set_config('app.district_id', $1, true)")
            .bind(district.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(DistrictTx { tx, district })
    }

    /// A transaction with no tenant: it reaches the platform registry (districts, schools,
    /// platform accounts) and sees zero rows of any tenant-owned table.
    pub async fn platform(&self) -> Result<PlatformTx, sqlx::Error> {
        Ok(PlatformTx { tx: self.pool.begin().await? })
    }
}

pub struct PlatformTx {
    tx: Transaction<'static, Postgres>,
}

impl PlatformTx {
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Continues the same transaction as `tenant`, so registry rows and the school's own rows
    /// (onboarding) commit or roll back together.
    pub async fn enter_tenant(mut self, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        sqlx::query("select set_config('app.tenant_id', $1, true)")
            .bind(tenant.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(TenantTx { tx: self.tx, tenant })
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
}

impl TenantTx {
    /// The school this transaction is bound to; repository code filters by it.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Continues the same transaction as another school. Only for work that spans two schools
    /// of one district by design (a transfer moves a record between them atomically); the
    /// caller checks that both belong to the same district before crossing.
    pub async fn cross_to(mut self, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        sqlx::query("select set_config('app.tenant_id', $1, true)")
            .bind(tenant.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(TenantTx { tx: self.tx, tenant })
    }
}

pub struct DistrictTx {
    tx: Transaction<'static, Postgres>,
    district: DistrictId,
}

impl DistrictTx {
    pub fn district(&self) -> DistrictId {
        self.district
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// The schema migrations, compiled into the binary. Run them as the owner role.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");
