//! Argon2id password hashing on a bounded blocking pool.
//!
//! Hashing is CPU- and memory-heavy by design (OWASP's minimum is 19 MiB and two passes), so it
//! never runs on the async workers and never while a database connection is held: a login
//! releases its connection before verifying and takes one again to write the session. At most
//! one hash per core runs at once; without that bound a login burst would start hundreds of
//! blocking threads with 19 MiB each.

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::HashingConfig;
use crate::domain::Password;

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    slots: Arc<Semaphore>,
    /// A hash of a random password, verified when the email is unknown so that an unknown email
    /// costs the same time as a wrong password and timing reveals nothing.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub fn new(config: &HashingConfig) -> anyhow::Result<Self> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map_err(|err| anyhow::anyhow!("invalid Argon2 parameters: {err}"))?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let dummy_password: String = SaltString::generate(&mut OsRng).as_str().to_owned();
        let dummy_hash = hash_with(&params, &dummy_password)?.into();
        Ok(Self {
            params,
            slots: Arc::new(Semaphore::new(cores)),
            dummy_hash,
        })
    }

    /// Hashes a new password (PHC string with parameters and a random salt).
    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let params = self.params.clone();
        let password = password.expose().to_owned();
        self.run_blocking(move || hash_with(&params, &password))
            .await?
    }

    /// True if `password` matches `stored_hash`. With no stored hash (unknown email) it verifies
    /// against the dummy hash and returns false, taking about as long as a wrong password.
    pub async fn verify(
        &self,
        password: &Password,
        stored_hash: Option<String>,
    ) -> anyhow::Result<bool> {
        let known_user = stored_hash.is_some();
        let hash = stored_hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let password = password.expose().to_owned();
        let matches = self
            .run_blocking(move || {
                let parsed = PasswordHash::new(&hash)
                    .map_err(|err| anyhow::anyhow!("stored hash is malformed: {err}"))?;
                Ok::<_, anyhow::Error>(
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok(),
                )
            })
            .await??;
        Ok(known_user && matches)
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _slot = self.slots.acquire().await.context("hashing pool closed")?;
        tokio::task::spawn_blocking(work)
            .await
            .context("hashing task panicked")
    }
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let hash = argon2
        .hash_password(password.as_bytes(), &salt)
        .map_err(|err| anyhow::anyhow!("hashing failed: {err}"))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(&HashingConfig {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            argon2_parallelism: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = cheap();
        let hash = hasher
            .hash(&Password::parse("s3cret".into()).unwrap())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(hasher
            .verify(
                &Password::parse("s3cret".into()).unwrap(),
                Some(hash.clone())
            )
            .await
            .unwrap());
        assert!(!hasher
            .verify(&Password::parse("s3cret!".into()).unwrap(), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = cheap();
        assert!(!hasher
            .verify(&Password::parse("anything".into()).unwrap(), None)
            .await
            .unwrap());
    }
}
