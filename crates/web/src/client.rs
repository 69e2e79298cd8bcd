//! Who is on the other end: the real client address (for rate limits and audit entries) and
//! the audit actor for a signed-in session.
//!
//! The address is the socket's peer, unless that peer is a configured trusted proxy: then the
//! `X-Forwarded-For` chain is read from the right, skipping trusted proxies, and the first
//! address that is not one is the client. An untrusted client's `X-Forwarded-For` is ignored,
//! so rotating it buys nothing.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Request};
use tower_governor::GovernorError;
use tower_governor::key_extractor::KeyExtractor;
use xg_audit::Actor;

use crate::session::Claims;
use crate::state::AppState;

pub fn real_client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let chain: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in chain.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return Some(ip),
            // A hop we cannot read: stop at the last address we could vouch for.
            Err(_) => return Some(client),
        }
    }
    Some(client)
}

fn peer_of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// The real client address of a request, as an extractor.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = peer_of(&parts.extensions);
        Ok(Self(real_client_ip(peer, &parts.headers, &state.config.trusted_proxies)))
    }
}

pub fn actor(claims: &Claims, addr: ClientAddr) -> Actor {
    Actor {
        id: Some(claims.sub),
        name: claims.name.clone(),
        client_addr: addr.0.map(|ip| ip.to_string()),
    }
}

/// Rate-limit key: the real client address.
#[derive(Clone)]
pub struct RealClientKey {
    pub trusted: Arc<Vec<IpAddr>>,
}

impl KeyExtractor for RealClientKey {
    type Key = IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        real_client_ip(peer_of(req.extensions()), req.headers(), &self.trusted)
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", value.parse().unwrap());
        h
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let peer: IpAddr = "198.51.100.7".parse().unwrap();
        let got = real_client_ip(Some(peer), &xff("203.0.113.1"), &[]);
        assert_eq!(got, Some(peer));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let inner: IpAddr = "10.0.0.3".parse().unwrap();
        let trusted = [proxy, inner];
        // The client forged the first entry; the proxies appended the real one.
        let headers = xff("1.2.3.4, 203.0.113.9, 10.0.0.3");
        assert_eq!(
            real_client_ip(Some(proxy), &headers, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(real_client_ip(Some(proxy), &HeaderMap::new(), &trusted), Some(proxy));
        assert_eq!(real_client_ip(Some(proxy), &xff("garbage"), &trusted), Some(proxy));
    }
}
