//! What every handler can reach: the database, attachment storage, the school cache, session
//! keys and configuration.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use xg_authz::Authz;
use xg_kernel::Db;
use xg_kernel::config::Config;
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
}

impl AppState {
    pub fn new(
        db: Db,
        storage: Storage,
        sessions: SessionKeys,
        config: Config,
        metrics: Option<PrometheusHandle>,
    ) -> Self {
        Self {
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
