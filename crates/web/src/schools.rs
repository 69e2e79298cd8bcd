//! Finding the school a request is for. A school is reached by `/s/{slug}/...` or, when a base
//! domain is configured, by `{subdomain}.{base_domain}` (rewritten to the path form before
//! routing). Registry rows are cached per instance and dropped on PostgreSQL NOTIFY, so a
//! suspension made on one instance reaches the others within moments; the cache's time-to-live
//! bounds staleness if a notification is ever missed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use moka::future::Cache;
use sqlx::postgres::PgListener;
use xg_kernel::{AppError, Db};
use xg_tenancy::registry::{self, SCHOOL_CHANGED_CHANNEL};
use xg_tenancy::{Module, School, SchoolStatus};

use crate::state::AppState;

/// Upper bound on how long an instance may serve a stale registry row if a NOTIFY is lost.
pub const CACHE_TTL: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct SchoolCache {
    db: Db,
    by_slug: Cache<String, Option<Arc<School>>>,
    slug_by_subdomain: Cache<String, Option<String>>,
}

impl SchoolCache {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            by_slug: Cache::builder().max_capacity(20_000).time_to_live(CACHE_TTL).build(),
            slug_by_subdomain: Cache::builder()
                .max_capacity(20_000)
                .time_to_live(CACHE_TTL)
                .build(),
        }
    }

    pub async fn by_slug(&self, slug: &str) -> Result<Option<Arc<School>>, AppError> {
        // Anything that is not a well-formed slug names no school; don't ask the database.
        if xg_kernel::Slug::parse(slug).is_err() {
            return Ok(None);
        }
        let db = self.db.clone();
        let key = slug.to_owned();
        self.by_slug
            .try_get_with(key.clone(), async move {
                let mut tx = db.platform().await?;
                registry::find_school(tx.conn(), &key).await.map(|s| s.map(Arc::new))
            })
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("loading school: {e}")))
    }

    pub async fn slug_for_subdomain(&self, sub: &str) -> Result<Option<String>, AppError> {
        if xg_kernel::Slug::parse(sub).is_err() {
            return Ok(None);
        }
        let db = self.db.clone();
        let key = sub.to_owned();
        self.slug_by_subdomain
            .try_get_with(key.clone(), async move {
                let mut tx = db.platform().await?;
                let school = registry::find_school_by_subdomain(tx.conn(), &key).await?;
                Ok::<_, anyhow::Error>(school.map(|s| s.slug.to_string()))
            })
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("loading subdomain: {e}")))
    }

    pub async fn forget(&self, slug: &str) {
        self.by_slug.invalidate(slug).await;
        self.slug_by_subdomain.invalidate_all();
    }

    fn forget_everything(&self) {
        self.by_slug.invalidate_all();
        self.slug_by_subdomain.invalidate_all();
    }

    /// Listens for registry changes for as long as the service runs, reconnecting on error.
    pub fn spawn_listener(&self) -> tokio::task::JoinHandle<()> {
        let cache = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = cache.listen().await {
                    tracing::warn!(error.message = %e, "school change listener failed; retrying");
                }
                // Notifications may have been missed while disconnected.
                cache.forget_everything();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    }

    async fn listen(&self) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(self.db.pool()).await?;
        listener.listen(SCHOOL_CHANGED_CHANNEL).await?;
        loop {
            let note = listener.recv().await?;
            self.forget(note.payload()).await;
        }
    }
}

/// The school of the current request, placed in request extensions by `resolve_school`.
#[derive(Clone)]
pub struct CurrentSchool(pub Arc<School>);

/// Resolves `{slug}` to an active school, or answers 404 (unknown) / 403 (suspended). It also
/// tags the response so the request log names the tenant.
pub async fn resolve_school(
    State(state): State<AppState>,
    params: Result<Path<HashMap<String, String>>, PathRejection>,
    mut req: Request,
    next: Next,
) -> Response {
    // A path that does not even decode (invalid UTF-8) names no school.
    let Ok(Path(params)) = params else {
        return crate::render::error_page(AppError::NotFound);
    };
    let slug = params.get("slug").map(String::as_str).unwrap_or_default();
    let school = match state.schools.by_slug(slug).await {
        Ok(Some(school)) => school,
        Ok(None) => return crate::render::error_page(AppError::NotFound),
        Err(e) => return crate::render::error_page(e),
    };
    let tag = TenantTag(school.slug.to_string());
    if school.status == SchoolStatus::Suspended {
        let mut res = crate::render::error_page(AppError::Suspended);
        res.extensions_mut().insert(tag);
        return res;
    }
    req.extensions_mut().insert(CurrentSchool(school));
    let mut res = next.run(req).await;
    res.extensions_mut().insert(tag);
    res
}

/// The tenant a response was for, read by the request log.
#[derive(Clone)]
pub struct TenantTag(pub String);

/// A switched-off module is absent, not hidden: its routes answer 404 as if they did not exist.
pub async fn require_module(module: Module, req: Request, next: Next) -> Response {
    match req.extensions().get::<CurrentSchool>() {
        Some(CurrentSchool(school)) if school.has_module(module) => next.run(req).await,
        _ => AppError::NotFound.into_response(),
    }
}

/// Paths that stay the platform's on a school's subdomain.
const PLATFORM_PATHS: &[&str] = &["/static/", "/healthz", "/readyz", "/metrics"];

/// Rewrites `{sub}.{base_domain}/path` to `/s/{slug}/path` before routing. Requests for the
/// bare base domain (or any other host) pass through unchanged.
pub async fn rewrite_subdomain(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(base) = state.config.base_domain.as_deref() else {
        return next.run(req).await;
    };
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase());
    // A fully qualified host may end in a dot (`a.example.com.`); it is the same host.
    let host = host.map(|h| h.trim_end_matches('.').to_owned());
    let Some(sub) = host.as_deref().and_then(|h| h.strip_suffix(base)?.strip_suffix('.')) else {
        return next.run(req).await;
    };
    // Shared assets and probes are the platform's, whichever host asks for them.
    if PLATFORM_PATHS.iter().any(|p| req.uri().path().starts_with(p)) {
        return next.run(req).await;
    }
    if sub.is_empty() || sub == "www" || sub.contains('.') {
        return next.run(req).await;
    }
    let slug = match state.schools.slug_for_subdomain(sub).await {
        Ok(Some(slug)) => slug,
        Ok(None) => return crate::render::error_page(AppError::NotFound),
        Err(e) => return crate::render::error_page(e),
    };
    let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let rewritten = format!("/s/{slug}{path_and_query}");
    match rewritten.parse::<Uri>() {
        Ok(uri) => {
            // Handlers build links from the address the browser used, not the rewritten one.
            let original = OriginalUri(req.uri().clone());
            req.extensions_mut().insert(original);
            *req.uri_mut() = uri;
        }
        Err(_) => return crate::render::error_page(AppError::NotFound),
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;
    use xg_kernel::{DistrictId, Slug, TenantId};
    use xg_tenancy::SchoolKind;

    use super::*;

    fn school_with(modules: Vec<Module>) -> Arc<School> {
        Arc::new(School {
            id: TenantId::new_random(),
            district_id: DistrictId::new_random(),
            slug: Slug::parse("east").unwrap(),
            name: "东校".into(),
            kind: SchoolKind::SeniorHigh,
            status: SchoolStatus::Active,
            modules,
            subdomain: None,
        })
    }

    async fn status_for(modules: Vec<Module>) -> StatusCode {
        let school = CurrentSchool(school_with(modules));
        let app = Router::new()
            .route("/awards", get(|| async { "奖励" }))
            .route_layer(axum::middleware::from_fn(|req, next| {
                require_module(Module::Awards, req, next)
            }))
            .layer(axum::middleware::from_fn(move |mut req: Request<Body>, next: Next| {
                let school = school.clone();
                async move {
                    req.extensions_mut().insert(school);
                    next.run(req).await
                }
            }));
        app.oneshot(Request::get("/awards").body(Body::empty()).unwrap()).await.unwrap().status()
    }

    #[tokio::test]
    async fn a_switched_off_module_is_absent_and_a_switched_on_one_answers() {
        assert_eq!(status_for(vec![]).await, StatusCode::NOT_FOUND);
        assert_eq!(status_for(vec![Module::Notices]).await, StatusCode::NOT_FOUND);
        assert_eq!(status_for(vec![Module::Awards]).await, StatusCode::OK);
    }
}
