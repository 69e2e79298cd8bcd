use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use super::*;

fn keys() -> SessionKeys {
    SessionKeys::new(&SecretString::from("k".repeat(40)), None).unwrap()
}

fn claims() -> Claims {
    Claims {
        sub: Uuid::new_v4(),
        kind: "school".into(),
        district: None,
        tenant: Some(Uuid::new_v4()),
        name: "管理员".into(),
        must_change: false,
        jti: Uuid::new_v4(),
        iat: 0,
        exp: 0,
    }
}

/// Signs edited parts with the real key, as an attacker who had it could; used to build tokens
/// that are valid except for one deliberate flaw.
fn forge(keys: &SessionKeys, header: serde_json::Value, payload: serde_json::Value) -> String {
    let h = B64.encode(header.to_string());
    let p = B64.encode(payload.to_string());
    let message = format!("{h}.{p}");
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &keys.current.encoding, Algorithm::EdDSA)
            .unwrap();
    format!("{message}.{signature}")
}

/// HMAC-SHA256 over the parts with `secret`: the classic algorithm-confusion forgery.
fn hmac_sign(header: serde_json::Value, payload: serde_json::Value, secret: &[u8]) -> String {
    let h = B64.encode(header.to_string());
    let p = B64.encode(payload.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", B64.encode(mac.finalize().into_bytes()))
}

#[test]
fn an_issued_token_verifies_and_round_trips_its_claims() {
    let k = keys();
    let c = claims();
    let back = k.verify(&k.issue(c.clone()).unwrap()).unwrap();
    assert_eq!((back.sub, back.tenant, back.kind), (c.sub, c.tenant, c.kind));
    assert_eq!(back.exp - back.iat, SESSION_TTL.as_secs());
}

#[test]
fn alg_none_is_refused() {
    let k = keys();
    let token = k.issue(claims()).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let header = B64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    assert_eq!(k.verify(&format!("{header}.{payload}.")), None);
}

#[test]
fn an_edited_tenant_claim_breaks_the_signature() {
    let k = keys();
    let token = k.issue(claims()).unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
    payload["tenant"] = serde_json::json!(Uuid::new_v4());
    parts[1] = B64.encode(payload.to_string());
    assert_eq!(k.verify(&parts.join(".")), None);
}

#[test]
fn missing_exp_a_string_nbf_and_an_expired_token_are_refused() {
    let k = keys();
    let kid = k.current.kid.clone();
    let header = serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid});
    let mut base = serde_json::to_value(claims()).unwrap();
    base["iat"] = serde_json::json!(now_secs());
    base["exp"] = serde_json::json!(now_secs() + 600);
    assert!(k.verify(&forge(&k, header.clone(), base.clone())).is_some(), "control: valid");

    let mut no_exp = base.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(k.verify(&forge(&k, header.clone(), no_exp)), None);

    let mut string_nbf = base.clone();
    string_nbf["nbf"] = serde_json::json!("0");
    assert_eq!(k.verify(&forge(&k, header.clone(), string_nbf)), None);

    let mut expired = base;
    expired["exp"] = serde_json::json!(now_secs() - 1);
    assert_eq!(k.verify(&forge(&k, header, expired)), None);
}

#[test]
fn an_unknown_kid_or_another_algorithm_is_refused_and_the_previous_key_still_verifies() {
    let old = SecretString::from("o".repeat(40));
    let old_keys = SessionKeys::new(&old, None).unwrap();
    let token = old_keys.issue(claims()).unwrap();
    assert_eq!(keys().verify(&token), None, "unknown kid");

    let rotated = SessionKeys::new(&SecretString::from("k".repeat(40)), Some(&old)).unwrap();
    assert!(rotated.verify(&token).is_some(), "previous key accepted during rotation");

    let kid = rotated.current.kid.clone();
    let header = serde_json::json!({"alg": "HS512", "typ": "JWT", "kid": kid});
    let payload = serde_json::to_value(claims()).unwrap();
    assert_eq!(rotated.verify(&hmac_sign(header, payload, "k".repeat(40).as_bytes())), None);
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let k = keys();
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": k.current.kid});
    let mut payload = serde_json::to_value(claims()).unwrap();
    payload["exp"] = serde_json::json!(now_secs() + 600);
    let forged = hmac_sign(header, payload, &k.current.public);
    assert_eq!(k.verify(&forged), None);
}

#[test]
fn csrf_tokens_bind_to_the_browsers_cookie() {
    let k = keys();
    let token = k.csrf_token("cookie-a");
    assert!(k.csrf_matches("cookie-a", &token));
    assert!(!k.csrf_matches("cookie-b", &token));
    assert!(!k.csrf_matches("cookie-a", "not-hex"));
}
