//! Each school's data key, on demand: unwrapped from `school_data_keys` with the master key (or
//! created there on first use) and kept in memory, so sealing a roster does not unwrap a key per
//! row. Keys are read inside the caller's tenant transaction, so row-level security decides
//! whose key a request can reach.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use crate::TenantTx;
use crate::crypto::{CryptoError, DataKey, MasterKey};
use crate::ids::TenantId;

pub struct Keyring {
    master: MasterKey,
    unwrapped: Mutex<HashMap<TenantId, Arc<DataKey>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<KeyringError> for crate::AppError {
    fn from(e: KeyringError) -> Self {
        match e {
            KeyringError::Db(e) => e.into(),
            KeyringError::Crypto(e) => crate::AppError::Internal(e.into()),
        }
    }
}

impl Keyring {
    pub fn new(master_key_hex: &SecretString) -> Result<Self, CryptoError> {
        Ok(Self { master: MasterKey::from_hex(master_key_hex)?, unwrapped: Mutex::default() })
    }

    /// The data key of the school `tx` is bound to.
    pub async fn for_school(&self, tx: &mut TenantTx) -> Result<Arc<DataKey>, KeyringError> {
        let tenant = tx.tenant();
        if let Some(key) = self.unwrapped.lock().expect("keyring lock").get(&tenant) {
            return Ok(key.clone());
        }
        let stored: Option<Vec<u8>> =
            sqlx::query_scalar("select wrapped from school_data_keys where tenant_id = $1")
                .bind(tenant.as_uuid())
                .fetch_optional(tx.conn())
                .await?;
        let key = match stored {
            Some(wrapped) => self.master.unwrap(tenant, &wrapped)?,
            None => self.create(tx).await?,
        };
        let key = Arc::new(key);
        self.unwrapped.lock().expect("keyring lock").insert(tenant, key.clone());
        Ok(key)
    }

    /// Stores a fresh key unless a concurrent transaction stored one first; either way returns
    /// the key that is in the table.
    async fn create(&self, tx: &mut TenantTx) -> Result<DataKey, KeyringError> {
        let tenant = tx.tenant();
        let (_, wrapped) = self.master.new_data_key(tenant)?;
        sqlx::query(
            "insert into school_data_keys (tenant_id, wrapped) values ($1, $2)
             on conflict (tenant_id) do nothing",
        )
        .bind(tenant.as_uuid())
        .bind(&wrapped)
        .execute(tx.conn())
        .await?;
        let stored: Vec<u8> =
            sqlx::query_scalar("select wrapped from school_data_keys where tenant_id = $1")
                .bind(tenant.as_uuid())
                .fetch_one(tx.conn())
                .await?;
        Ok(self.master.unwrap(tenant, &stored)?)
    }
}
