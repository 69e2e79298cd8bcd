//! Composes the application: platform routes, each school's routes under `/s/{slug}`, health
//! and metrics, and the layers every request passes through (request id, subdomain rewrite,
//! request log, security headers, body limit).

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Router, ServiceExt, middleware};
use tower::Layer;
use tower::util::BoxCloneSyncService;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use xg_kernel::AppError;

use crate::observe::{REQUEST_ID_HEADER, log_request};
use crate::{health, portal};
use xg_web::AppState;
use xg_web::schools::{resolve_school, rewrite_subdomain};

/// Form posts are small; attachments get their own, larger limit on their own routes.
const BODY_LIMIT: usize = 256 * 1024;

pub fn build_router(state: AppState) -> Router {
    let school = portal::school_routes()
        .route_layer(middleware::from_fn_with_state(state.clone(), resolve_school));
    Router::new()
        .merge(portal::platform_routes())
        .merge(school)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(|| async { portal::error_page(AppError::NotFound) })
        .layer(middleware::from_fn(log_request))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

/// The whole service: the router behind the subdomain rewrite (which must run before routing)
/// and request ids (outermost, so every log line and response carries one).
pub fn build_service(state: AppState) -> BoxCloneSyncService<Request, Response, Infallible> {
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    let router = build_router(state.clone());
    let rewritten = middleware::from_fn_with_state(state, rewrite_subdomain).layer(router);
    let with_ids = PropagateRequestIdLayer::new(request_id.clone()).layer(rewritten);
    BoxCloneSyncService::new(SetRequestIdLayer::new(request_id, MakeRequestUuid).layer(with_ids))
}

/// Serves until Ctrl-C or SIGTERM, finishing in-flight requests.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    state.schools.spawn_listener();
    let service = build_service(state);
    axum::serve(listener, service.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
