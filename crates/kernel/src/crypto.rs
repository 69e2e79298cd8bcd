//! Field encryption for personal data (ID numbers, phones, addresses). Each school has its own
//! data key, stored only wrapped (AES-256-GCM) under the platform's master key; fields are
//! sealed with the school's key (AES-256-GCM, a fresh nonce each time, the school and field name
//! as associated data, so a ciphertext cannot be replayed into another school or column), and
//! looked up by a keyed hash (HMAC-SHA256 under a key derived from the school's data key), so
//! exact search and per-school uniqueness work without decrypting. aws-lc-rs does the crypto.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

use crate::ids::TenantId;

/// Format byte in front of every sealed value, so the scheme can change later.
const VERSION: u8 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("master key must be 64 hex characters (32 bytes)")]
    BadMasterKey,
    #[error("a sealed value could not be opened: wrong key, school or field, or it was altered")]
    Open,
    #[error("the system random source failed")]
    Random,
}

fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    SystemRandom::new().fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

fn seal(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::Open)?);
    let nonce = random::<NONCE_LEN>()?;
    let mut body = plain.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut body)
        .map_err(|_| CryptoError::Open)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
        return Err(CryptoError::Open);
    }
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::Open)?);
    let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
        .map_err(|_| CryptoError::Open)?;
    let mut body = sealed[1 + NONCE_LEN..].to_vec();
    let plain =
        key.open_in_place(nonce, Aad::from(aad), &mut body).map_err(|_| CryptoError::Open)?;
    Ok(plain.to_vec())
}

/// The platform's master key. It only ever wraps and unwraps school data keys.
pub struct MasterKey([u8; 32]);

impl MasterKey {
    pub fn from_hex(secret: &SecretString) -> Result<Self, CryptoError> {
        let bytes =
            hex::decode(secret.expose_secret().trim()).map_err(|_| CryptoError::BadMasterKey)?;
        Ok(Self(bytes.try_into().map_err(|_| CryptoError::BadMasterKey)?))
    }

    /// A fresh data key for `tenant`, returned with its wrapped form for storage.
    pub fn new_data_key(&self, tenant: TenantId) -> Result<(DataKey, Vec<u8>), CryptoError> {
        let key = random::<32>()?;
        let wrapped = seal(&self.0, tenant.as_uuid().as_bytes(), &key)?;
        Ok((DataKey::new(tenant, key), wrapped))
    }

    /// Unwraps a stored data key; fails if it belongs to another school or was altered.
    pub fn unwrap(&self, tenant: TenantId, wrapped: &[u8]) -> Result<DataKey, CryptoError> {
        let key: [u8; 32] = open(&self.0, tenant.as_uuid().as_bytes(), wrapped)?
            .try_into()
            .map_err(|_| CryptoError::Open)?;
        Ok(DataKey::new(tenant, key))
    }
}

/// One school's data key, able to seal, open and hash that school's fields.
pub struct DataKey {
    tenant: TenantId,
    key: [u8; 32],
    lookup: hmac::Key,
}

impl DataKey {
    fn new(tenant: TenantId, key: [u8; 32]) -> Self {
        // A separate key for lookups, so the hash reveals nothing about the sealing key.
        let lookup_key = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), b"xg-lookup-v1");
        Self { tenant, key, lookup: hmac::Key::new(hmac::HMAC_SHA256, lookup_key.as_ref()) }
    }

    fn aad(&self, field: &str) -> Vec<u8> {
        [self.tenant.as_uuid().as_bytes().as_slice(), field.as_bytes()].concat()
    }

    pub fn seal(&self, field: &str, value: &str) -> Result<Vec<u8>, CryptoError> {
        seal(&self.key, &self.aad(field), value.as_bytes())
    }

    pub fn open(&self, field: &str, sealed: &[u8]) -> Result<String, CryptoError> {
        String::from_utf8(open(&self.key, &self.aad(field), sealed)?).map_err(|_| CryptoError::Open)
    }

    /// The keyed hash of a normalised value, for exact lookup and per-school uniqueness.
    pub fn lookup_hash(&self, field: &str, value: &str) -> String {
        let tag = hmac::sign(&self.lookup, format!("{field}\n{value}").as_bytes());
        hex::encode(tag.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterKey {
        MasterKey::from_hex(&SecretString::from("11".repeat(32))).unwrap()
    }

    #[test]
    fn a_field_round_trips_and_never_appears_in_the_ciphertext() {
        let school = TenantId::new_random();
        let (key, wrapped) = master().new_data_key(school).unwrap();
        let sealed = key.seal("id_number", "110101200001010017").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"110101"));
        assert_ne!(sealed, key.seal("id_number", "110101200001010017").unwrap(), "fresh nonce");
        let again = master().unwrap(school, &wrapped).unwrap();
        assert_eq!(again.open("id_number", &sealed).unwrap(), "110101200001010017");
    }

    #[test]
    fn a_value_cannot_be_opened_as_another_school_or_field_or_after_tampering() {
        let (a, wrapped_a) = master().new_data_key(TenantId::new_random()).unwrap();
        let other = TenantId::new_random();
        assert_eq!(master().unwrap(other, &wrapped_a).err(), Some(CryptoError::Open));
        let sealed = a.seal("phone", "13800138000").unwrap();
        assert_eq!(a.open("address", &sealed).err(), Some(CryptoError::Open));
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(a.open("phone", &altered).err(), Some(CryptoError::Open));
        let wrong_master = MasterKey::from_hex(&SecretString::from("22".repeat(32))).unwrap();
        assert!(wrong_master.unwrap(TenantId::new_random(), &wrapped_a).is_err());
    }

    #[test]
    fn lookup_hashes_are_stable_per_school_and_differ_between_schools() {
        let (a, _) = master().new_data_key(TenantId::new_random()).unwrap();
        let (b, _) = master().new_data_key(TenantId::new_random()).unwrap();
        let id = "110101200001010017";
        assert_eq!(a.lookup_hash("id_number", id), a.lookup_hash("id_number", id));
        assert_ne!(a.lookup_hash("id_number", id), b.lookup_hash("id_number", id));
        assert_ne!(a.lookup_hash("id_number", id), a.lookup_hash("phone", id));
    }

    #[test]
    fn a_malformed_master_key_is_refused() {
        for bad in ["", "zz", &"1".repeat(63), &"1".repeat(66)] {
            assert!(MasterKey::from_hex(&SecretString::from(bad)).is_err(), "{bad}");
        }
    }
}
