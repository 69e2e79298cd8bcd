//! Sessions for the portal: a short-lived signed JWT in an HttpOnly, SameSite=Strict cookie, and
//! CSRF tokens for every form. Tokens are signed with Ed25519 (EdDSA, pinned: no other algorithm
//! is accepted, so a token "signed" with HMAC over the public key is refused). The key pair is
//! derived from the configured session secret, so every instance signs alike without a key
//! file; `exp` is required; the header's `kid` names the key, so the secret can rotate: tokens
//! signed with the previous secret stay valid until they expire.
//!
//! The access token lives `SESSION_TTL` (ten minutes); the refresh token next to it (see
//! `refresh`) renews it and is what sign-out and password changes revoke. A stolen access
//! token is therefore good for at most ten minutes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use axum::http::HeaderMap;
use axum::http::header::{COOKIE, SET_COOKIE};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const SESSION_TTL: Duration = Duration::from_secs(10 * 60);
pub const PLATFORM_COOKIE: &str = "xg_platform";
pub const CSRF_COOKIE: &str = "xg_csrf";

/// The cookie holding the refresh token that goes with the access cookie `access`.
pub fn refresh_cookie(access: &str) -> String {
    format!("{access}_r")
}

/// The cookie holding a school session: one per school, so being signed in at one school
/// neither replaces nor grants a session at another.
pub fn school_cookie(slug: &str) -> String {
    format!("xg_s_{}", slug.replace('-', "_"))
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Account id.
    pub sub: Uuid,
    /// `operator`, `district_admin`, or `school` (then `tenant` is set).
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<Uuid>,
    pub name: String,
    /// The account still has its initial password: every page but the password form and
    /// sign-out sends it there.
    #[serde(default)]
    pub must_change: bool,
    pub jti: Uuid,
    pub iat: u64,
    pub exp: u64,
}

impl Claims {
    /// Claims for a school account; `iat`/`exp` are set when the token is issued.
    pub fn school(
        school: &xg_tenancy::School,
        account: Uuid,
        name: String,
        must_change: bool,
    ) -> Self {
        Self {
            sub: account,
            kind: "school".into(),
            district: Some(school.district_id.as_uuid()),
            tenant: Some(school.id.as_uuid()),
            name,
            must_change,
            jti: Uuid::new_v4(),
            iat: 0,
            exp: 0,
        }
    }

    /// Claims for a platform account (operator or district staff).
    pub fn platform(account: &xg_tenancy::accounts::PlatformAccount) -> Self {
        Self {
            sub: account.id,
            kind: account.role.key().to_owned(),
            district: account.district_id.map(|d| d.as_uuid()),
            tenant: None,
            name: account.display_name.clone(),
            must_change: account.must_change_password,
            jti: Uuid::new_v4(),
            iat: 0,
            exp: 0,
        }
    }
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The raw public key, published nowhere but kept for tests of algorithm confusion.
    #[cfg_attr(not(test), allow(dead_code))]
    public: Vec<u8>,
}

impl Key {
    fn new(secret: &SecretString) -> anyhow::Result<Self> {
        let bytes = secret.expose_secret().as_bytes();
        let seed = Sha256::digest([b"xg-session-ed25519:".as_slice(), bytes].concat());
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|e| anyhow::anyhow!("deriving the session key failed: {e}"))?;
        let pkcs8 =
            pair.to_pkcs8().map_err(|_| anyhow::anyhow!("encoding the session key failed"))?;
        let public = pair.public_key().as_ref().to_vec();
        // The kid names the key without revealing it.
        let kid = hex::encode(&Sha256::digest([b"xg-kid:".as_slice(), &public].concat())[..6]);
        Ok(Self {
            kid,
            encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
            decoding: DecodingKey::from_ed_der(&public),
            public,
        })
    }
}

pub struct SessionKeys {
    current: Key,
    previous: Option<Key>,
    csrf_secret: SecretString,
}

impl SessionKeys {
    pub fn new(current: &SecretString, previous: Option<&SecretString>) -> anyhow::Result<Self> {
        Ok(Self {
            current: Key::new(current)?,
            previous: previous.map(Key::new).transpose()?,
            csrf_secret: current.clone(),
        })
    }

    pub fn issue(&self, mut claims: Claims) -> anyhow::Result<String> {
        let now = now_secs();
        claims.iat = now;
        claims.exp = now + SESSION_TTL.as_secs();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.current.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.current.encoding)?)
    }

    /// The claims of a valid token, or `None` for anything forged, expired, unsigned, signed
    /// with another algorithm, or signed by an unknown key.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let key = match header.kid.as_deref() {
            Some(kid) if kid == self.current.kid => &self.current,
            Some(kid) if self.previous.as_ref().is_some_and(|p| p.kid == kid) => {
                self.previous.as_ref()?
            }
            _ => return None,
        };
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_required_spec_claims(&["exp"]);
        validation.leeway = 0;
        validation.validate_exp = true;
        // Checked whenever present, so a malformed (e.g. string-typed) nbf is refused too.
        validation.validate_nbf = true;
        jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation).ok().map(|d| d.claims)
    }

    /// The form token for a browser: an HMAC over its CSRF cookie, so a page on another site
    /// (which can neither read the cookie nor the page) cannot produce it.
    pub fn csrf_token(&self, csrf_cookie: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.csrf_secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"xg-csrf:");
        mac.update(csrf_cookie.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    pub fn csrf_matches(&self, csrf_cookie: &str, submitted: &str) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.csrf_secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"xg-csrf:");
        mac.update(csrf_cookie.as_bytes());
        match hex::decode(submitted) {
            Ok(bytes) => mac.verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Strict always, Secure unless configured off for
/// a plain-http local stack.
pub fn set_cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={}", age.as_secs()));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

pub fn clear_cookie(name: &str, secure: bool) -> String {
    set_cookie(name, "", Some(Duration::ZERO), secure)
}

/// Appends a cookie to a response's headers.
pub fn push_cookie(headers: &mut HeaderMap, cookie: String) {
    if let Ok(value) = cookie.parse() {
        headers.append(SET_COOKIE, value);
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
