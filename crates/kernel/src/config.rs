//! Configuration: defaults compiled in, an optional TOML file, then `XUEGONG_*` environment
//! variables (nested keys with `__`, e.g. `XUEGONG_STORAGE__BACKEND=s3`). Validated once at
//! start; secrets are `SecretString` and never print.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub listen: SocketAddr,
    /// URL the service connects with: the `xuegong_app` role.
    pub database_url: Option<SecretString>,
    /// URL migrations run with: the owner role. Only `xuegong migrate` needs it.
    pub migrate_database_url: Option<SecretString>,
    pub database_pool_size: u32,
    /// When set, `{subdomain}.{base_domain}` reaches a school as well as `/s/{slug}/`.
    pub base_domain: Option<String>,
    /// Signs session tokens and CSRF tokens. At least 32 bytes.
    pub session_secret: Option<SecretString>,
    /// The secret before the last rotation: tokens it signed stay valid until they expire.
    pub session_secret_previous: Option<SecretString>,
    /// Wraps each school's data key for personal data: 64 hex characters (32 bytes). Losing it
    /// makes sealed ID numbers, phones and addresses unreadable; keep it in a secret store.
    pub master_key: Option<SecretString>,
    /// Send cookies with `Secure`. Only a local http stack turns this off.
    pub cookie_secure: bool,
    pub storage: StorageConfig,
    pub log_format: LogFormat,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    pub metrics_token: Option<SecretString>,
    /// Reverse proxies whose `X-Forwarded-For` is believed. A request from anywhere else is
    /// keyed on its socket address, whatever headers it sends.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Local,
    S3,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageConfig {
    pub backend: StorageBackend,
    pub local_dir: PathBuf,
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_bucket: Option<String>,
    pub s3_access_key: Option<SecretString>,
    pub s3_secret_key: Option<SecretString>,
    pub s3_path_style: bool,
}

/// Defaults, written out so the file format is discoverable from one place.
#[derive(Serialize)]
struct Defaults {
    listen: &'static str,
    database_pool_size: u32,
    cookie_secure: bool,
    log_format: LogFormat,
    storage: StorageDefaults,
}

#[derive(Serialize)]
struct StorageDefaults {
    backend: StorageBackend,
    local_dir: &'static str,
    s3_region: &'static str,
    s3_path_style: bool,
}

const DEFAULTS: Defaults = Defaults {
    listen: "127.0.0.1:8080",
    database_pool_size: 10,
    cookie_secure: true,
    log_format: LogFormat::Json,
    storage: StorageDefaults {
        backend: StorageBackend::Local,
        local_dir: "./.data/attachments",
        s3_region: "us-east-1",
        s3_path_style: true,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {message}")]
    File { path: String, message: String },
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file` if given (it must exist), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(DEFAULTS));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.display().to_string(),
                    message: "no such file".into(),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("XUEGONG_").split("__"));
        let config: Config = figment.extract().map_err(|e| ConfigError::Invalid(readable(&e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.database_pool_size == 0 {
            return Err(ConfigError::Invalid("database_pool_size must be at least 1".into()));
        }
        if let Some(secret) = &self.session_secret
            && secret.expose_secret().len() < 32
        {
            return Err(ConfigError::Invalid(
                "session_secret must be at least 32 bytes (XUEGONG_SESSION_SECRET)".into(),
            ));
        }
        if let Some(key) = &self.master_key
            && crate::crypto::MasterKey::from_hex(key).is_err()
        {
            return Err(ConfigError::Invalid(
                "master_key must be 64 hex characters (XUEGONG_MASTER_KEY)".into(),
            ));
        }
        if self.storage.backend == StorageBackend::S3 {
            let s = &self.storage;
            let missing: Vec<&str> = [
                ("storage.s3_endpoint", s.s3_endpoint.is_none()),
                ("storage.s3_bucket", s.s3_bucket.is_none()),
                ("storage.s3_access_key", s.s3_access_key.is_none()),
                ("storage.s3_secret_key", s.s3_secret_key.is_none()),
            ]
            .into_iter()
            .filter_map(|(k, absent)| absent.then_some(k))
            .collect();
            if !missing.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "storage.backend is s3 but {} not set",
                    missing.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The service URL, or a message naming the setting to provide.
    pub fn require_database_url(&self) -> Result<&SecretString, ConfigError> {
        self.database_url.as_ref().ok_or_else(|| {
            ConfigError::Invalid("database_url is not set (XUEGONG_DATABASE_URL)".into())
        })
    }

    pub fn require_migrate_url(&self) -> Result<&SecretString, ConfigError> {
        self.migrate_database_url.as_ref().ok_or_else(|| {
            ConfigError::Invalid(
                "migrate_database_url is not set (XUEGONG_MIGRATE_DATABASE_URL): migrations run \
                 as the owner role, not as the service role"
                    .into(),
            )
        })
    }

    pub fn require_master_key(&self) -> Result<&SecretString, ConfigError> {
        self.master_key.as_ref().ok_or_else(|| {
            ConfigError::Invalid(
                "master_key is not set (XUEGONG_MASTER_KEY, 64 hex characters); it protects \
                 students' ID numbers, phones and addresses"
                    .into(),
            )
        })
    }

    pub fn require_session_secret(&self) -> Result<&SecretString, ConfigError> {
        self.session_secret.as_ref().ok_or_else(|| {
            ConfigError::Invalid(
                "session_secret is not set (XUEGONG_SESSION_SECRET, at least 32 bytes)".into(),
            )
        })
    }
}

/// figment's messages name the key; keep them but never echo a value that might be a secret.
fn readable(e: &figment::Error) -> String {
    e.clone()
        .into_iter()
        .map(|err| {
            let key = err.path.join(".");
            let kind = match &err.kind {
                figment::error::Kind::InvalidType(_, expected) => {
                    format!("has the wrong type (expected {expected})")
                }
                figment::error::Kind::InvalidValue(_, expected) => {
                    format!("has an invalid value (expected {expected})")
                }
                other => other.to_string(),
            };
            if key.is_empty() {
                kind
            } else {
                let env = format!("XUEGONG_{}", key.replace('.', "__").to_uppercase());
                format!("{key} ({env}) {kind}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_session_secret() {
        let secret = "a-very-secret-value-that-is-long-enough-123";
        let cfg = Config {
            session_secret: Some(SecretString::from(secret)),
            ..Figment::from(Serialized::defaults(DEFAULTS)).extract::<Config>().unwrap()
        };
        assert!(!format!("{cfg:?}").contains(secret));
    }

    #[test]
    fn short_session_secret_is_rejected_with_the_setting_named() {
        let cfg = Config {
            session_secret: Some(SecretString::from("short")),
            ..Figment::from(Serialized::defaults(DEFAULTS)).extract::<Config>().unwrap()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("session_secret must be at least 32 bytes"), "{err}");
    }

    #[test]
    fn s3_backend_lists_every_missing_setting() {
        let mut cfg = Figment::from(Serialized::defaults(DEFAULTS)).extract::<Config>().unwrap();
        cfg.storage.backend = StorageBackend::S3;
        cfg.storage.s3_endpoint = Some("http://127.0.0.1:9000".into());
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("storage.s3_bucket"), "{err}");
        assert!(err.contains("storage.s3_secret_key"), "{err}");
        assert!(!err.contains("storage.s3_endpoint"), "{err}");
    }
}
