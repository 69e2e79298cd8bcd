//! Who is on the other end: the client address for audit entries and rate limits, and the
//! audit actor for a signed-in session.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use xg_audit::Actor;

use crate::session::Claims;

/// The client's IP address as seen on the socket. (Behind a reverse proxy this is the proxy;
/// trusted-proxy handling belongs here when it is configured.)
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(Self(peer))
    }
}

pub fn actor(claims: &Claims, addr: ClientAddr) -> Actor {
    Actor {
        id: Some(claims.sub),
        name: claims.name.clone(),
        client_addr: addr.0.map(|ip| ip.to_string()),
    }
}
