//! The S3-compatible backend (aws-sdk-s3): custom endpoint, fixed region, path-style addressing,
//! static credentials from configuration.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use xg_kernel::config::StorageConfig;

use crate::{ObjectKey, StorageError};

pub struct S3Settings {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key: SecretString,
    pub secret_key: SecretString,
    pub path_style: bool,
}

impl S3Settings {
    pub fn from_config(c: &StorageConfig) -> Result<Self, StorageError> {
        // Config::load already refused an s3 backend with any of these missing.
        let missing = || StorageError::S3("incomplete s3 configuration".into());
        Ok(Self {
            endpoint: c.s3_endpoint.clone().ok_or_else(missing)?,
            region: c.s3_region.clone(),
            bucket: c.s3_bucket.clone().ok_or_else(missing)?,
            access_key: c.s3_access_key.clone().ok_or_else(missing)?,
            secret_key: c.s3_secret_key.clone().ok_or_else(missing)?,
            path_style: c.s3_path_style,
        })
    }
}

#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

fn s3_err<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StorageError {
    StorageError::S3(DisplayErrorContext(e).to_string())
}

impl S3Store {
    pub fn new(s: S3Settings) -> Self {
        let credentials = Credentials::new(
            s.access_key.expose_secret(),
            s.secret_key.expose_secret(),
            None,
            None,
            "xuegong-config",
        );
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(s.region))
            .endpoint_url(s.endpoint)
            .force_path_style(s.path_style)
            .credentials_provider(credentials)
            // Many S3-compatible servers reject the SDK's default streaming checksums.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Self { client: Client::from_conf(config), bucket: s.bucket }
    }

    /// Creates the bucket if it does not exist yet (local stacks and tests).
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        if self.client.head_bucket().bucket(&self.bucket).send().await.is_ok() {
            return Ok(());
        }
        self.client.create_bucket().bucket(&self.bucket).send().await.map_err(s3_err)?;
        Ok(())
    }

    pub async fn put(
        &self,
        key: &ObjectKey,
        body: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.path())
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(s3_err)?;
        Ok(())
    }

    pub async fn get(&self, key: &ObjectKey) -> Result<Option<Bytes>, StorageError> {
        let result = self.client.get_object().bucket(&self.bucket).key(key.path()).send().await;
        match result {
            Ok(out) => {
                let data = out.body.collect().await.map_err(|e| StorageError::S3(e.to_string()))?;
                Ok(Some(data.into_bytes()))
            }
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => Ok(None),
            Err(e) => Err(s3_err(e)),
        }
    }

    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.path())
            .send()
            .await
            .map_err(s3_err)?;
        Ok(())
    }

    /// A presigned GET for `key` whose response carries the given type and disposition.
    pub async fn presigned_get(
        &self,
        key: &ObjectKey,
        content_type: &str,
        content_disposition: &str,
        ttl: std::time::Duration,
    ) -> Result<String, StorageError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(ttl)
            .map_err(|e| StorageError::S3(e.to_string()))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.path())
            .response_content_type(content_type)
            .response_content_disposition(content_disposition)
            .presigned(config)
            .await
            .map_err(s3_err)?;
        Ok(request.uri().to_owned())
    }

    pub async fn check(&self) -> Result<(), StorageError> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map_err(s3_err)?;
        Ok(())
    }

    /// Keys under one school's prefix (used by tests and per-school export).
    pub async fn list_tenant_keys(
        &self,
        tenant: xg_kernel::TenantId,
    ) -> Result<Vec<String>, StorageError> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(format!("tenants/{tenant}/"))
            .send()
            .await
            .map_err(s3_err)?;
        Ok(out.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect())
    }
}
