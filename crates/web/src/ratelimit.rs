//! Rate limits on the sign-in routes (tower-governor), keyed on the real client address: a
//! burst of `BURST` attempts, then one more every `REFILL_SECONDS`. One abusive client is
//! throttled alone; others keep their own buckets. The portal and the JSON API share one
//! limiter (an attacker gains nothing by switching) but answer in their own formats.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::http::{Method, Response, StatusCode};
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorLayer;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use xg_kernel::i18n::Catalog;

use crate::client::RealClientKey;
use crate::render::message_page;

pub const BURST: u32 = 10;
pub const REFILL_SECONDS: u64 = 6;

pub type SignInLimit = GovernorLayer<RealClientKey, NoOpMiddleware, Body>;

/// The same limiter, answering with a page (`html`) or with the JSON error envelope (`json`).
#[derive(Clone)]
pub struct SignInLimits {
    pub html: SignInLimit,
    pub json: SignInLimit,
}

pub fn sign_in_limits(trusted: &[std::net::IpAddr]) -> SignInLimits {
    let key = RealClientKey { trusted: Arc::new(trusted.to_vec()) };
    let config: Arc<GovernorConfig<RealClientKey, NoOpMiddleware>> = Arc::new(
        GovernorConfigBuilder::default()
            .per_second(REFILL_SECONDS)
            .burst_size(BURST)
            // Showing the form is free; only submitting it counts.
            .methods(vec![Method::POST])
            .key_extractor(key)
            .finish()
            .expect("burst and period are non-zero"),
    );
    SignInLimits {
        html: GovernorLayer::new(config.clone()).error_handler(|_| too_many_page()),
        json: GovernorLayer::new(config).error_handler(|_| too_many_json()),
    }
}

fn with_retry_after(mut res: Response<Body>) -> Response<Body> {
    res.headers_mut().insert("retry-after", REFILL_SECONDS.into());
    res
}

fn too_many_page() -> Response<Body> {
    with_retry_after(message_page(StatusCode::TOO_MANY_REQUESTS, "limits.too_many"))
}

fn too_many_json() -> Response<Body> {
    let message = Catalog::zh().t("limits.too_many");
    let body = serde_json::json!({ "error": { "code": "too_many_requests", "message": message } });
    with_retry_after((StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response())
}
