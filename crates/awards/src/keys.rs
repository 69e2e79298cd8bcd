//! The school's data key for sealing bank account numbers.
//!
//! Until the platform master key is part of the configuration, the master key is derived from
//! the session secret (HMAC-SHA256 with a fixed label), and each school's data key is stored
//! wrapped in `award_data_keys`. Consequence, stated plainly: rotating the session secret makes
//! sealed bank accounts unreadable. Only `school_data_key` knows this; when `AppState` carries
//! the per-school keys, this function is the one place to change.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use xg_kernel::crypto::{DataKey, MasterKey};
use xg_kernel::{AppError, TenantTx};
use xg_web::AppState;

fn master_key(state: &AppState) -> Result<MasterKey, AppError> {
    let secret = state
        .config
        .session_secret
        .as_ref()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no session secret configured")))?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|e| AppError::Internal(e.into()))?;
    mac.update(b"xg-award-master-key-v1");
    let derived = SecretString::from(hex::encode(mac.finalize().into_bytes()));
    MasterKey::from_hex(&derived).map_err(|e| AppError::Internal(e.into()))
}

/// The data key of the school `tx` is bound to, created on first use.
pub async fn school_data_key(state: &AppState, tx: &mut TenantTx) -> Result<DataKey, AppError> {
    let master = master_key(state)?;
    let tenant = tx.tenant();
    let existing: Option<Vec<u8>> =
        sqlx::query_scalar("select wrapped from award_data_keys where tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_optional(tx.conn())
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
    let wrapped = match existing {
        Some(w) => w,
        None => {
            let (_, wrapped) =
                master.new_data_key(tenant).map_err(|e| AppError::Internal(e.into()))?;
            // A racing first use keeps whichever key was stored first.
            sqlx::query(
                "insert into award_data_keys (tenant_id, wrapped) values ($1, $2)
                 on conflict (tenant_id) do nothing",
            )
            .bind(tenant.as_uuid())
            .bind(&wrapped)
            .execute(tx.conn())
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
            sqlx::query_scalar("select wrapped from award_data_keys where tenant_id = $1")
                .bind(tenant.as_uuid())
                .fetch_one(tx.conn())
                .await
                .map_err(|e| AppError::Internal(e.into()))?
        }
    };
    master.unwrap(tenant, &wrapped).map_err(|e| AppError::Internal(e.into()))
}
