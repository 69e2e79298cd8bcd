//! Attachment storage behind one interface. Two backends: a folder on local disk (the default
//! for a single machine) and S3-compatible object storage. Every object lives under its school's
//! prefix (`tenants/{tenant_id}/{object_id}`); callers name objects only through `ObjectKey`, so
//! no caller can build a key outside a tenant's prefix. Metadata (file name, type, size, hash)
//! lives in the database, not here.

mod local;
mod s3;

use bytes::Bytes;
use uuid::Uuid;
use xg_kernel::TenantId;
use xg_kernel::config::{StorageBackend, StorageConfig};

pub use local::LocalDisk;
pub use s3::{S3Settings, S3Store};

/// Where one object lives: always inside its school's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectKey {
    tenant: TenantId,
    object: Uuid,
}

impl ObjectKey {
    pub fn new(tenant: TenantId, object: Uuid) -> Self {
        Self { tenant, object }
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The key as stored: `tenants/{tenant}/{object}`. Both parts are UUIDs, so the key has no
    /// room for `..`, slashes or other path tricks.
    pub fn path(&self) -> String {
        format!("tenants/{}/{}", self.tenant, self.object)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage request failed: {0}")]
    S3(String),
}

#[derive(Clone)]
pub enum Storage {
    Local(LocalDisk),
    S3(S3Store),
}

impl Storage {
    pub async fn from_config(config: &StorageConfig) -> Result<Self, StorageError> {
        Ok(match config.backend {
            StorageBackend::Local => Self::Local(LocalDisk::new(config.local_dir.clone())),
            StorageBackend::S3 => Self::S3(S3Store::new(S3Settings::from_config(config)?)),
        })
    }

    pub async fn put(
        &self,
        key: &ObjectKey,
        body: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        match self {
            Self::Local(disk) => disk.put(key, body).await,
            Self::S3(store) => store.put(key, body, content_type).await,
        }
    }

    /// The object's bytes, or `None` if there is no such object.
    pub async fn get(&self, key: &ObjectKey) -> Result<Option<Bytes>, StorageError> {
        match self {
            Self::Local(disk) => disk.get(key).await,
            Self::S3(store) => store.get(key).await,
        }
    }

    /// Deletes the object; deleting a missing object is not an error.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match self {
            Self::Local(disk) => disk.delete(key).await,
            Self::S3(store) => store.delete(key).await,
        }
    }

    /// A short-lived URL the browser can fetch the object from directly, naming the type and
    /// download file name the response must carry; `None` for local disk, where the service
    /// streams the bytes itself.
    pub async fn presigned_get(
        &self,
        key: &ObjectKey,
        content_type: &str,
        content_disposition: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<String>, StorageError> {
        match self {
            Self::Local(_) => Ok(None),
            Self::S3(store) => {
                store.presigned_get(key, content_type, content_disposition, ttl).await.map(Some)
            }
        }
    }

    /// Readiness: the folder is writable, or the bucket answers.
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            Self::Local(disk) => disk.check().await,
            Self::S3(store) => store.check().await,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::S3(_) => "s3",
        }
    }
}
