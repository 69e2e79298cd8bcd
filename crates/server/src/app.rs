//! Composes the application: platform routes, each school's routes under `/s/{slug}`, health
//! and metrics, and the layers every request passes through, outermost first: request id,
//! request log, security headers, subdomain rewrite, then routing (with a body limit).

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Router, ServiceExt, middleware};
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use xg_kernel::AppError;
use xg_web::ratelimit::sign_in_limits;
use xg_web::schools::{resolve_school, rewrite_subdomain};
use xg_web::{AppState, lifecycle};

use crate::observe::{REQUEST_ID_HEADER, log_request, sanitize_request_id, tag_route};
use crate::{health, portal};

/// Form posts are small; attachments get their own, larger limit on their own routes.
const BODY_LIMIT: usize = 256 * 1024;

pub fn build_router(state: AppState) -> Router {
    // One limiter for every sign-in form: a client's attempts count across schools.
    let limit = sign_in_limits(&state.config.trusted_proxies);
    let school = portal::school_routes(&state, &limit)
        .route_layer(middleware::from_fn_with_state(state.clone(), resolve_school));
    Router::new()
        .merge(portal::platform_routes(&state, &limit))
        .merge(school)
        .merge(
            xg_org::router(&state)
                .route_layer(middleware::from_fn_with_state(state.clone(), lifecycle::renew))
                .route_layer(middleware::from_fn_with_state(state.clone(), resolve_school)),
        )
        .merge(
            xg_enrollment::router(&state)
                .route_layer(middleware::from_fn_with_state(state.clone(), lifecycle::renew))
                .route_layer(middleware::from_fn_with_state(state.clone(), resolve_school)),
        )
        .merge(
            xg_notices::router(&state)
                .route_layer(middleware::from_fn_with_state(state.clone(), lifecycle::renew))
                .route_layer(middleware::from_fn_with_state(state.clone(), resolve_school)),
        )
        .merge(
            xg_awards::router(&state)
                .route_layer(middleware::from_fn_with_state(state.clone(), lifecycle::renew))
                .route_layer(middleware::from_fn_with_state(state.clone(), resolve_school)),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(|| async { portal::error_page(AppError::NotFound) })
        .method_not_allowed_fallback(|| async {
            xg_web::message_page(StatusCode::METHOD_NOT_ALLOWED, "error.method_not_allowed")
        })
        .layer(middleware::from_fn(tag_route))
        // Enforced by the body extractors, whose rejection `CleanForm` turns into a Chinese page.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The whole service. The subdomain rewrite must run before routing, so it wraps the router;
/// the log and security headers wrap the rewrite, so even requests for unknown subdomains are
/// logged and carry the headers.
pub fn build_service(state: AppState) -> BoxCloneSyncService<Request, Response, Infallible> {
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    let router = build_router(state.clone());
    let service = ServiceBuilder::new()
        .layer(middleware::from_fn(sanitize_request_id))
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(middleware::from_fn(log_request))
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
        .layer(middleware::from_fn_with_state(state, rewrite_subdomain))
        .service(router);
    BoxCloneSyncService::new(service)
}

/// Serves until Ctrl-C or SIGTERM, finishing in-flight requests.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    state.schools.spawn_listener();
    state.authz.spawn_listener();
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
