//! Argon2id password hashing in a fixed number of slots, each with its own reused memory.
//!
//! Hashing is CPU- and memory-heavy by design (OWASP's minimum is 19 MiB and two passes), so it
//! never runs on the async workers and never while a database connection is held: a login
//! releases its connection before verifying and takes one again to write the session.
//!
//! Three bounds keep a login flood from taking the service down with it:
//!
//! - **Slots.** At most one hash per core runs at once. A hash holds its slot until it really
//!   ends: the slot moves into the blocking task, so a client that gives up does not free a slot
//!   (and let one more hash start) while its hash still runs.
//! - **Bounded wait.** A login waits for a slot at most `slot_wait`; past it, it is answered
//!   [`HashError::Busy`] (503 `login_busy`) instead of queueing for seconds behind the flood.
//! - **Memory per slot.** Each slot keeps one Argon2 memory buffer sized for the current
//!   parameters and reuses it for every hash, so a flood at 19 MiB a hash costs
//!   `slots × 19 MiB` and no more, whatever the allocator does with freed memory. (Freeing and
//!   reallocating the buffer per hash left glibc holding ~440 MiB after 500 logins; an allocator
//!   tuned to return it instead paid page faults on every hash: see `bench/login-flood.sh`.)
//!   A stored hash that needs more memory than the buffer (parameters since lowered) gets a
//!   one-off allocation, still one per slot at most.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::HashingConfig;
use crate::domain::Password;
use crate::error::ApiError;

/// The algorithm and version new hashes use; a stored hash with others is rehashed at login.
const ALGORITHM: Algorithm = Algorithm::Argon2id;
const VERSION: Version = Version::V0x13;

/// Why a hash did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every slot stayed busy for the whole bounded wait.
    #[error("every hashing slot stayed busy for the whole wait")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<HashError> for ApiError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => ApiError::LoginBusy,
            HashError::Failed(err) => ApiError::Internal(err),
        }
    }
}

/// What a password check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    /// Wrong password, or no such user.
    Rejected,
    /// The password matches. `rehashed` is a new hash of it with the current parameters when the
    /// stored one had others: storing it keeps every user's check at the current cost, so a
    /// wrong password costs what an unknown email (the dummy hash) costs.
    Accepted { rehashed: Option<String> },
}

#[derive(Clone)]
pub struct PasswordHasher {
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    /// Longest wait for a slot; `None` waits as long as it takes (the offline `seed` command).
    slot_wait: Option<Duration>,
}

/// What every slot reads: the parameters, the dummy hash and the spare memory buffers.
struct Shared {
    params: Params,
    /// A hash of a random password, verified when the email is unknown so that an unknown email
    /// costs the same time as a wrong password and timing reveals nothing.
    dummy_hash: String,
    /// Buffers of `params.block_count()` blocks not in use. A slot takes one (or allocates it,
    /// the first times) and puts it back, so there are never more buffers than slots.
    spare_memory: Mutex<Vec<Vec<Block>>>,
}

/// The right to run one hash, with the memory to run it in. Used by value: the hash consumes it.
pub struct HashSlot {
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
}

impl PasswordHasher {
    /// One slot per core; waits for a slot without bound until [`Self::with_slot_wait`].
    pub fn new(config: &HashingConfig) -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self::with_slots(config, cores)
    }

    fn with_slots(config: &HashingConfig, slots: usize) -> anyhow::Result<Self> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map_err(|err| anyhow::anyhow!("invalid Argon2 parameters: {err}"))?;
        // The dummy hash is computed in what becomes the first slot's buffer.
        let mut memory = vec![Block::default(); params.block_count()];
        let dummy_password = SaltString::generate(&mut OsRng);
        let dummy_hash = hash_new(&params, dummy_password.as_str().as_bytes(), &mut memory)?;
        Ok(Self {
            shared: Arc::new(Shared {
                params,
                dummy_hash,
                spare_memory: Mutex::new(vec![memory]),
            }),
            slots: Arc::new(Semaphore::new(slots)),
            slot_wait: None,
        })
    }

    /// Bounds the wait for a slot: past it a hash fails with [`HashError::Busy`].
    pub fn with_slot_wait(mut self, wait: Duration) -> Self {
        self.slot_wait = Some(wait);
        self
    }

    /// Waits (within the bound) for a free slot. Taking the slot before the hash lets a caller
    /// check something that may have changed during the wait (the login throttle does).
    pub async fn slot(&self) -> Result<HashSlot, HashError> {
        let acquire = self.slots.clone().acquire_owned();
        let permit = match self.slot_wait {
            Some(wait) => tokio::time::timeout(wait, acquire)
                .await
                .map_err(|_| HashError::Busy)?,
            None => acquire.await,
        }
        .context("hashing slots closed")?;
        Ok(HashSlot {
            shared: self.shared.clone(),
            permit,
        })
    }

    /// Hashes a new password (PHC string with the current parameters and a random salt).
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        self.slot().await?.hash(password).await
    }

    /// Checks `password` against `stored_hash` (see [`HashSlot::verify`]).
    pub async fn verify(
        &self,
        password: &Password,
        stored_hash: Option<String>,
    ) -> Result<Verification, HashError> {
        self.slot().await?.verify(password, stored_hash).await
    }
}

impl HashSlot {
    pub async fn hash(self, password: &Password) -> Result<String, HashError> {
        let password = password.expose().to_owned();
        self.run(move |shared, memory| hash_new(&shared.params, password.as_bytes(), memory))
            .await
    }

    /// Checks `password` against `stored_hash`. Every answer costs at least one check at the
    /// current parameters, so that timing does not tell which emails exist:
    ///
    /// - no stored hash (unknown email): the dummy hash is checked, and the answer is a rejection;
    /// - a stored hash with the current parameters: its own check;
    /// - a stored hash with other parameters (made before they changed, its user has not logged in
    ///   since): its own check, then the rehash of a match or, for a wrong password, the dummy
    ///   check. Without the latter a wrong password against a cheap old hash answered in a tenth
    ///   of an unknown email's time (1.9 ms against 18.2 ms, issue 21), until every user had
    ///   logged in again.
    ///
    /// Not covered: after the parameters are *lowered*, an old hash costs more than an unknown
    /// email does; only making the dummy as dear as the dearest stored hash would hide that.
    pub async fn verify(
        self,
        password: &Password,
        stored_hash: Option<String>,
    ) -> Result<Verification, HashError> {
        let password = password.expose().to_owned();
        self.run(move |shared, memory| {
            let password = password.as_bytes();
            let Some(stored_hash) = stored_hash else {
                shared.check_dummy(password, memory)?;
                return Ok(Verification::Rejected);
            };
            let parsed = PasswordHash::new(&stored_hash)
                .map_err(|err| anyhow::anyhow!("stored hash is malformed: {err}"))?;
            let matched = matches(&parsed, password, memory)?;
            let current = is_current(&parsed, &shared.params);
            Ok(match (matched, current) {
                (true, true) => Verification::Accepted { rehashed: None },
                (true, false) => Verification::Accepted {
                    rehashed: Some(hash_new(&shared.params, password, memory)?),
                },
                (false, true) => Verification::Rejected,
                (false, false) => {
                    shared.check_dummy(password, memory)?;
                    Verification::Rejected
                }
            })
        })
        .await
    }

    /// Runs `work` on the blocking pool with this slot's memory. The slot (permit and memory)
    /// moves into the blocking task and is released when `work` returns, not when the caller
    /// stops waiting.
    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&Shared, &mut Vec<Block>) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashError> {
        let result = tokio::task::spawn_blocking(move || {
            let mut memory = self.shared.take_memory();
            let result = work(&self.shared, &mut memory);
            self.shared.put_back_memory(memory);
            drop(self.permit);
            result
        })
        .await
        .context("hashing task panicked")?;
        Ok(result?)
    }
}

impl Shared {
    /// Checks `password` against the dummy hash, for its cost only: one check at the current
    /// parameters, whose answer is always a rejection.
    fn check_dummy(&self, password: &[u8], memory: &mut [Block]) -> anyhow::Result<()> {
        let dummy = PasswordHash::new(&self.dummy_hash)
            .map_err(|err| anyhow::anyhow!("dummy hash: {err}"))?;
        matches(&dummy, password, memory)?;
        Ok(())
    }

    fn take_memory(&self) -> Vec<Block> {
        let spare = self.spare_memory.lock().expect("lock poisoned").pop();
        spare.unwrap_or_else(|| vec![Block::default(); self.params.block_count()])
    }

    fn put_back_memory(&self, memory: Vec<Block>) {
        self.spare_memory
            .lock()
            .expect("lock poisoned")
            .push(memory);
    }
}

/// Hashes `password` with `params` and a fresh salt in `memory`; returns the PHC string.
fn hash_new(params: &Params, password: &[u8], memory: &mut [Block]) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|err| anyhow::anyhow!("salt: {err}"))?;
    let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(ALGORITHM, VERSION, params.clone())
        .hash_password_into_with_memory(password, salt_bytes, &mut output, memory)
        .map_err(|err| anyhow::anyhow!("hashing failed: {err}"))?;
    let hash = PasswordHash {
        algorithm: ALGORITHM.ident(),
        version: Some(VERSION.into()),
        params: ParamsString::try_from(params)
            .map_err(|err| anyhow::anyhow!("encoding parameters: {err}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&output).map_err(|err| anyhow::anyhow!("output: {err}"))?),
    };
    Ok(hash.to_string())
}

/// Recomputes `parsed` for `password` with its own parameters, in `memory` when it is large
/// enough (else in a one-off allocation), and compares in constant time.
fn matches(
    parsed: &PasswordHash<'_>,
    password: &[u8],
    memory: &mut [Block],
) -> anyhow::Result<bool> {
    let malformed = |err: argon2::password_hash::Error| anyhow::anyhow!("stored hash: {err}");
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(malformed)?;
    let version = match parsed.version {
        Some(version) => Version::try_from(version)
            .map_err(|err| anyhow::anyhow!("stored hash version: {err}"))?,
        None => Version::default(),
    };
    let params = Params::try_from(parsed).map_err(malformed)?;
    let salt = parsed.salt.context("stored hash has no salt")?;
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(malformed)?;
    let expected = parsed.hash.context("stored hash has no output")?;
    let mut output = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = if params.block_count() <= memory.len() {
        argon2.hash_password_into_with_memory(password, salt_bytes, &mut output, memory)
    } else {
        argon2.hash_password_into(password, salt_bytes, &mut output)
    };
    computed.map_err(|err| anyhow::anyhow!("verifying failed: {err}"))?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&output).map_err(malformed)? == expected)
}

/// True if `parsed` was made with the algorithm, version and parameters new hashes get.
fn is_current(parsed: &PasswordHash<'_>, params: &Params) -> bool {
    let decimal = |name: &str| parsed.params.get_decimal(name);
    parsed.algorithm == ALGORITHM.ident()
        && parsed.version == Some(VERSION.into())
        && decimal("m") == Some(params.m_cost())
        && decimal("t") == Some(params.t_cost())
        && decimal("p") == Some(params.p_cost())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashing(memory_kib: u32, iterations: u32) -> HashingConfig {
        HashingConfig {
            argon2_memory_kib: memory_kib,
            argon2_iterations: iterations,
            argon2_parallelism: 1,
        }
    }

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(&hashing(64, 1)).unwrap()
    }

    fn password(text: &str) -> Password {
        Password::parse(text.into()).unwrap()
    }

    fn accepted(rehashed: Option<String>) -> Verification {
        Verification::Accepted { rehashed }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = cheap();
        let hash = hasher.hash(&password("s3cret")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(
            hasher
                .verify(&password("s3cret"), Some(hash.clone()))
                .await
                .unwrap(),
            accepted(None)
        );
        assert_eq!(
            hasher
                .verify(&password("s3cret!"), Some(hash))
                .await
                .unwrap(),
            Verification::Rejected
        );
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crates_own_verifier() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let ours = cheap().hash(&password("s3cret")).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"s3cret", &parsed)
            .is_ok());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(32, 2, 2, None).unwrap(),
        )
        .hash_password(b"s3cret", &salt)
        .unwrap()
        .to_string();
        let verdict = cheap().verify(&password("s3cret"), Some(theirs)).await;
        assert!(matches!(
            verdict,
            Ok(Verification::Accepted { rehashed: Some(_) })
        ));
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = cheap();
        assert_eq!(
            hasher.verify(&password("anything"), None).await.unwrap(),
            Verification::Rejected
        );
    }

    #[test]
    fn an_unknown_email_costs_a_check_at_the_current_parameters() {
        let hasher = cheap();
        let dummy = PasswordHash::new(&hasher.shared.dummy_hash).unwrap();
        assert!(is_current(&dummy, &hasher.shared.params));
    }

    /// A hasher with one slot (so one memory buffer) at 64 KiB, that buffer zeroed.
    fn one_slot_wiped() -> PasswordHasher {
        let hasher = PasswordHasher::with_slots(&hashing(64, 1), 1).unwrap();
        hasher.shared.spare_memory.lock().unwrap()[0].fill(Block::default());
        hasher
    }

    /// True if a check since the wipe wrote the buffer's blocks from `from` on.
    fn written_from(hasher: &PasswordHasher, from: usize) -> bool {
        let spare = hasher.shared.spare_memory.lock().unwrap();
        spare[0][from..]
            .iter()
            .any(|block| block.as_ref().iter().any(|&word| word != 0))
    }

    #[tokio::test]
    async fn an_unknown_email_runs_a_full_check_in_the_slots_memory() {
        let hasher = one_slot_wiped();
        assert!(!written_from(&hasher, 0));
        assert_eq!(
            hasher.verify(&password("anything"), None).await.unwrap(),
            Verification::Rejected
        );
        assert!(written_from(&hasher, 0), "the dummy hash was computed");
    }

    #[tokio::test]
    async fn a_wrong_password_for_a_cheaper_old_hash_also_runs_a_check_at_the_current_parameters() {
        let old = PasswordHasher::new(&hashing(32, 1))
            .unwrap()
            .hash(&password("s3cret"))
            .await
            .unwrap();
        let hasher = one_slot_wiped();
        assert_eq!(
            hasher.verify(&password("wrong"), Some(old)).await.unwrap(),
            Verification::Rejected
        );
        // The old hash's check writes the first 32 of the 64 blocks; only one at the current
        // parameters writes the others.
        assert!(written_from(&hasher, 32), "the dummy hash was checked too");
    }

    #[tokio::test]
    async fn a_match_with_other_parameters_is_rehashed_with_the_current_ones() {
        for old in [hashing(32, 1), hashing(64, 2), hashing(128, 1)] {
            let stored = PasswordHasher::new(&old)
                .unwrap()
                .hash(&password("s3cret"))
                .await
                .unwrap();
            let hasher = cheap();
            let Verification::Accepted {
                rehashed: Some(new),
            } = hasher
                .verify(&password("s3cret"), Some(stored.clone()))
                .await
                .unwrap()
            else {
                panic!("{stored} should verify and be rehashed");
            };
            assert!(new.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{new}");
            assert_eq!(
                hasher.verify(&password("s3cret"), Some(new)).await.unwrap(),
                accepted(None)
            );
            assert_eq!(
                hasher
                    .verify(&password("wrong"), Some(stored))
                    .await
                    .unwrap(),
                Verification::Rejected,
                "a wrong password is never rehashed"
            );
        }
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_an_error_not_a_rejection() {
        let verdict = cheap()
            .verify(&password("s3cret"), Some("$argon2id$nonsense".into()))
            .await;
        assert!(matches!(verdict, Err(HashError::Failed(_))));
    }

    #[tokio::test]
    async fn the_wait_for_a_slot_is_bounded() {
        let hasher = PasswordHasher::with_slots(&hashing(64, 1), 1)
            .unwrap()
            .with_slot_wait(Duration::from_millis(20));
        let held = hasher.slot().await.unwrap();
        assert!(matches!(hasher.slot().await, Err(HashError::Busy)));
        drop(held);
        assert!(hasher.slot().await.is_ok());
    }

    #[tokio::test]
    async fn a_caller_that_stops_waiting_does_not_free_the_slot_before_the_hash_ends() {
        let hasher = PasswordHasher::with_slots(&hashing(64, 1), 1).unwrap();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let (finish_tx, finish_rx) = std::sync::mpsc::channel::<()>();
        let slot = hasher.slot().await.unwrap();
        let caller = tokio::spawn(slot.run(move |_, _| {
            started_tx.send(()).unwrap();
            finish_rx.recv().unwrap();
            Ok(())
        }));
        started_rx.await.unwrap();
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        assert_eq!(hasher.slots.available_permits(), 0, "the hash still runs");

        finish_tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), hasher.slot())
            .await
            .expect("the slot is freed when the hash ends")
            .unwrap();
    }

    #[tokio::test]
    async fn there_are_never_more_memory_buffers_than_slots() {
        let hasher = PasswordHasher::with_slots(&hashing(64, 1), 2).unwrap();
        let mut hashes = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let hasher = hasher.clone();
            hashes.spawn(async move { hasher.hash(&password("s3cret")).await });
        }
        while let Some(hash) = hashes.join_next().await {
            hash.unwrap().unwrap();
        }
        let spare = hasher.shared.spare_memory.lock().unwrap();
        assert!(
            !spare.is_empty() && spare.len() <= 2,
            "{} buffers",
            spare.len()
        );
        assert!(spare.iter().all(|memory| memory.len() == 64));
    }
}
