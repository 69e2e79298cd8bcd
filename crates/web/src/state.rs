//! What every handler can reach: the database, attachment storage, the school cache, session
//! keys and configuration.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use xg_authz::Authz;
use xg_kernel::Db;
use xg_kernel::config::Config;
use xg_kernel::keyring::Keyring;
use xg_kernel::{AppError, AppResult};
use xg_storage::Storage;

use crate::schools::SchoolCache;
use crate::session::SessionKeys;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub storage: Storage,
    pub schools: SchoolCache,
    pub authz: Authz,
    pub sessions: Arc<SessionKeys>,
    pub config: Arc<Config>,
    pub metrics: Option<PrometheusHandle>,
    /// Seals personal data; absent only when no master key is configured (`serve` refuses to
    /// start without one, so only tools and some tests run without it).
    keyring: Option<Arc<Keyring>>,
}

impl AppState {
    pub fn new(
        db: Db,
        storage: Storage,
        sessions: SessionKeys,
        config: Config,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        let keyring = config.master_key.as_ref().map(|key| {
            Arc::new(
                Keyring::new(key).expect("the master key was validated with the configuration"),
            )
        });
        Self {
            keyring,
            schools: SchoolCache::new(db.clone()),
            authz: Authz::new(db.clone()),
            db,
            storage,
            sessions: Arc::new(sessions),
            config: Arc::new(config),
            metrics,
        }
    }
}

impl AppState {
    /// The keyring for personal data, or 503 when this instance has no master key.
    pub fn keyring(&self) -> AppResult<&Keyring> {
        self.keyring
            .as_deref()
            .ok_or_else(|| AppError::Unavailable("no master_key configured".into()))
    }

    /// The same, shared, for work that outlives the request (a background import).
    pub fn keyring_arc(&self) -> AppResult<Arc<Keyring>> {
        self.keyring.clone().ok_or_else(|| AppError::Unavailable("no master_key configured".into()))
    }
}
