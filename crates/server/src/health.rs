//! Liveness, readiness and metrics endpoints for the load balancer and the monitoring system.

use axum::Json;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};

use xg_web::AppState;

/// The process is up. Deliberately touches nothing else, so a database outage does not get
/// every replica restarted.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The instance can serve: the database answers as the service role and storage is writable.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = sqlx::query_scalar::<_, i32>("select 1").fetch_one(state.db.pool()).await;
    let storage = state.storage.check().await;
    let ok = database.is_ok() && storage.is_ok();
    if let Err(e) = &database {
        tracing::warn!(error.message = %e, "readiness: database unavailable");
    }
    if let Err(e) = &storage {
        tracing::warn!(error.message = %e, "readiness: storage unavailable");
    }
    let body = json!({
        "database": if database.is_ok() { "ok" } else { "unavailable" },
        "storage": if storage.is_ok() { "ok" } else { "unavailable" },
        "storage_backend": state.storage.backend_name(),
    });
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let expected = format!("Bearer {}", token.expose_secret());
        let given = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        // Compare digests so the time taken does not depend on how much of the token matched.
        if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
    }
    match &state.metrics {
        Some(handle) => handle.render().into_response(),
        None => (StatusCode::NOT_FOUND, "metrics recorder not installed in this process")
            .into_response(),
    }
}
