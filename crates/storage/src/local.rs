//! The local-disk backend: one file per object under a root folder.

use std::io::ErrorKind;
use std::path::PathBuf;

use bytes::Bytes;
use tokio::fs;
use uuid::Uuid;

use crate::{ObjectKey, StorageError};

#[derive(Clone, Debug)]
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn file(&self, key: &ObjectKey) -> PathBuf {
        self.root.join(key.path())
    }

    /// Writes to a temporary file first and renames it into place, so a reader never sees half
    /// an object and a crash leaves no truncated file behind.
    pub async fn put(&self, key: &ObjectKey, body: Bytes) -> Result<(), StorageError> {
        let target = self.file(key);
        let dir = target.parent().expect("object keys have a folder");
        fs::create_dir_all(dir).await?;
        let temp = dir.join(format!(".tmp-{}", Uuid::new_v4()));
        if let Err(e) = write_synced(&temp, &body).await {
            let _ = fs::remove_file(&temp).await;
            return Err(e.into());
        }
        fs::rename(&temp, &target).await?;
        Ok(())
    }

    pub async fn get(&self, key: &ObjectKey) -> Result<Option<Bytes>, StorageError> {
        match fs::read(self.file(key)).await {
            Ok(data) => Ok(Some(Bytes::from(data))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match fs::remove_file(self.file(key)).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    pub async fn check(&self) -> Result<(), StorageError> {
        fs::create_dir_all(&self.root).await?;
        let probe = self.root.join(format!(".ready-{}", Uuid::new_v4()));
        fs::write(&probe, b"ok").await?;
        fs::remove_file(&probe).await?;
        Ok(())
    }
}

async fn write_synced(path: &PathBuf, body: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = fs::File::create(path).await?;
    file.write_all(body).await?;
    file.sync_all().await
}
