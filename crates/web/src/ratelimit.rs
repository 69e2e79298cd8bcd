//! Rate limits on the sign-in routes (tower-governor), keyed on the real client address: a
//! burst of `BURST` attempts, then one more every `REFILL_SECONDS`. One abusive client is
//! throttled alone; others keep their own buckets.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Response, StatusCode};
use axum::response::IntoResponse;
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;

use crate::client::RealClientKey;
use crate::render::message_page;

pub const BURST: u32 = 10;
pub const REFILL_SECONDS: u64 = 6;

pub type SignInLimit = GovernorLayer<RealClientKey, NoOpMiddleware, Body>;

pub fn sign_in_limit(trusted: &[std::net::IpAddr]) -> SignInLimit {
    let key = RealClientKey { trusted: Arc::new(trusted.to_vec()) };
    let config = GovernorConfigBuilder::default()
        .per_second(REFILL_SECONDS)
        .burst_size(BURST)
        // Showing the form is free; only submitting it counts.
        .methods(vec![Method::POST])
        .key_extractor(key)
        .finish()
        .expect("burst and period are non-zero");
    GovernorLayer::new(Arc::new(config)).error_handler(|_| too_many())
}

fn too_many() -> Response<Body> {
    let mut res = message_page(StatusCode::TOO_MANY_REQUESTS, "limits.too_many");
    res.headers_mut().insert("retry-after", REFILL_SECONDS.into());
    res.into_response()
}
