//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane, as OWASP
//! recommends) and generation of initial passwords.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::Rng;
use rand::distr::Alphanumeric;

/// Shortest password we accept anywhere.
pub const MIN_LENGTH: usize = 10;

pub fn hash(password: &str) -> anyhow::Result<String> {
    let phc = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?;
    Ok(phc.to_string())
}

/// Verifies `password` against a stored PHC string. Callers with no stored hash (unknown user)
/// call `burn_time` instead, so response time does not reveal which usernames exist.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

static DUMMY: LazyLock<String> =
    LazyLock::new(|| hash("dummy-password-for-timing").expect("hashing a constant works"));

/// Spends the same time as a real verification.
pub fn burn_time(password: &str) {
    let _ = verify(password, &DUMMY);
}

/// Each verification takes ~19 MiB and a core for tens of milliseconds; a flood of sign-ins
/// must queue rather than exhaust memory. Two per core keeps the cores busy.
static VERIFYING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    tokio::sync::Semaphore::new(cores * 2)
});

/// Verifies on the blocking pool, at most a few at a time. With no stored hash (unknown
/// account) it spends the same effort and returns false.
pub async fn verify_limited(password: String, stored: Option<String>) -> bool {
    let Ok(_permit) = VERIFYING.acquire().await else { return false };
    tokio::task::spawn_blocking(move || match stored {
        Some(hash) => verify(&password, &hash),
        None => {
            burn_time(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// A random initial password, 16 letters and digits; the holder must change it at first login.
pub fn generate_initial() -> String {
    rand::rng().sample_iter(&Alphanumeric).take(16).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_own_password_and_no_other() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
        assert!(!verify("anything", "not-a-phc-string"));
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_initial();
        assert_eq!(a.len(), 16);
        assert!(a.len() >= MIN_LENGTH);
        assert_ne!(a, generate_initial());
    }
}
