//! Observability: one structured log event per request, Prometheus metrics, and tracing setup.
//! The request log names the route pattern (never the raw path, which can carry personal data
//! such as a student number), the status, latency, tenant and request id.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use xg_kernel::config::LogFormat;

use xg_web::schools::TenantTag;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub fn init_tracing(format: &LogFormat) {
    let filter = EnvFilter::try_from_env("XUEGONG_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,aws=warn,hyper=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let result = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    // A second init (tests start several apps in one process) keeps the first subscriber.
    let _ = result;
}

/// Installs the process-wide metrics recorder on first use and returns its handle for
/// `/metrics`; later calls (several apps in one test process) share it.
pub fn init_metrics() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(|| PrometheusBuilder::new().install_recorder().ok()).clone()
}

/// The matched route pattern, carried on the response to the log (which runs outside routing).
#[derive(Clone)]
struct RouteTag(String);

/// Inside the router: copies the matched route pattern onto the response.
pub async fn tag_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteTag(route));
    }
    response
}

/// Drops a client-supplied request id unless it is a plain token, so nobody can smuggle text
/// into log lines; a fresh id is then generated.
pub async fn sanitize_request_id(mut req: Request, next: Next) -> Response {
    let valid = |v: &str| {
        (1..=64).contains(&v.len())
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    };
    let bad = req.headers().get(REQUEST_ID_HEADER).is_some_and(|v| !v.to_str().is_ok_and(valid));
    if bad {
        req.headers_mut().remove(REQUEST_ID_HEADER);
    }
    next.run(req).await
}

pub async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();

    let response = next.run(req).await;

    let route = response
        .extensions()
        .get::<RouteTag>()
        .map_or_else(|| "(unmatched)".to_owned(), |r| r.0.clone());
    let status = response.status().as_u16();
    let latency = started.elapsed();
    let tenant = response.extensions().get::<TenantTag>().map(|t| t.0.as_str()).unwrap_or("");
    tracing::info!(
        http.method = %method,
        http.route = %route,
        http.status = status,
        http.latency_ms = latency.as_secs_f64() * 1000.0,
        tenant = tenant,
        request.id = %request_id,
        "request"
    );
    let labels = [("route", route), ("status", status.to_string())];
    metrics::counter!("xuegong_http_requests_total", &labels).increment(1);
    metrics::histogram!("xuegong_http_request_duration_seconds", "route" => labels[0].1.clone())
        .record(latency.as_secs_f64());
    response
}
