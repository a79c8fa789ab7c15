//! The brute-force limit: failed logins counted per email, in memory.
//!
//! After `failures_before_lock` failed logins for one email, the email is locked for `lock_secs`:
//! every attempt is answered 429 `too_many_attempts` with the seconds left, before any database
//! or hashing work. The key is the normalized [`Email`] whether or not an account has it, so a
//! lock looks the same for known and unknown emails. Only wrong passwords (and unknown emails)
//! count: successful logins clear the email's failures, and logins refused for load (503) never
//! reach the check that counts, so a load of successful logins cannot trip the limit.
//!
//! The count lives in this process: several replicas would each allow the limit, and a restart
//! forgets it. That keeps the limit free of schema changes and of database work per attempt.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::LoginLimits;
use crate::domain::Email;
use crate::error::ApiError;

/// Most emails tracked at once. Each entry is an email (at most 254 bytes) and a counter, so the
/// map stays under ~30 MiB even full of the longest emails. An entry exists only after a
/// verified failure, which costs a full password hash, so filling the map takes an attacker
/// 65,536 hashes within `lock_secs` (minutes of every core at the default Argon2 cost).
pub const MAX_TRACKED_EMAILS: usize = 65_536;

#[derive(Clone)]
pub struct LoginThrottle {
    failures: Arc<Mutex<Failures>>,
}

struct Failures {
    entries: HashMap<Email, Entry>,
    failures_before_lock: u32,
    lock: Duration,
    capacity: usize,
}

/// One email's recent failures.
struct Entry {
    failures: u32,
    /// `lock` after the latest counted failure: when the failures are forgotten and, once
    /// `failures_before_lock` is reached, when the lock ends.
    expires_at: Instant,
}

impl LoginThrottle {
    pub fn new(limits: &LoginLimits) -> Self {
        Self::with_capacity(limits, MAX_TRACKED_EMAILS)
    }

    fn with_capacity(limits: &LoginLimits, capacity: usize) -> Self {
        Self {
            failures: Arc::new(Mutex::new(Failures {
                entries: HashMap::new(),
                failures_before_lock: limits.failures_before_lock,
                lock: Duration::from_secs(limits.lock_secs),
                capacity,
            })),
        }
    }

    /// `TooManyAttempts` with the seconds left if `email` is locked.
    pub fn check(&self, email: &Email) -> Result<(), ApiError> {
        match self.lock().time_left(email, Instant::now()) {
            Some(left) => Err(ApiError::TooManyAttempts {
                retry_after_secs: u64::try_from(left.as_millis().div_ceil(1000))
                    .unwrap_or(u64::MAX),
            }),
            None => Ok(()),
        }
    }

    /// Counts a wrong password (or an unknown email) for `email`.
    pub fn record_failure(&self, email: &Email) {
        self.lock().record_failure(email, Instant::now());
    }

    /// Clears `email`'s failures: the owner got in.
    pub fn record_success(&self, email: &Email) {
        self.lock().entries.remove(email);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Failures> {
        self.failures.lock().expect("throttle lock poisoned")
    }
}

impl Failures {
    fn time_left(&self, email: &Email, now: Instant) -> Option<Duration> {
        self.entries
            .get(email)
            .filter(|entry| self.is_locked(entry, now))
            .map(|entry| entry.expires_at - now)
    }

    fn is_locked(&self, entry: &Entry, now: Instant) -> bool {
        entry.failures >= self.failures_before_lock && entry.expires_at > now
    }

    fn record_failure(&mut self, email: &Email, now: Instant) {
        if let Some(entry) = self.entries.get_mut(email) {
            if entry.expires_at <= now {
                entry.failures = 0;
            }
            // A failure that was already under way when the lock began does not extend it.
            if entry.failures < self.failures_before_lock {
                entry.failures += 1;
                entry.expires_at = now + self.lock;
            }
            return;
        }
        if self.entries.len() >= self.capacity {
            self.make_room(now);
        }
        self.entries.insert(
            email.clone(),
            Entry {
                failures: 1,
                expires_at: now + self.lock,
            },
        );
    }

    /// Eviction rule for a full map: drop every expired entry; if none had expired, drop the one
    /// that expires soonest (the oldest latest failure). A lock can thus end early only after
    /// `capacity` newer failures on other emails, each of which cost the attacker a hash. Both
    /// steps scan the map, which is cheap next to the hash that preceded this failure.
    fn make_room(&mut self, now: Instant) {
        self.entries.retain(|_, entry| entry.expires_at > now);
        if self.entries.len() < self.capacity {
            return;
        }
        let soonest = self
            .entries
            .iter()
            .min_by_key(|(_, entry)| entry.expires_at)
            .map(|(email, _)| email.clone());
        if let Some(email) = soonest {
            self.entries.remove(&email);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: Duration = Duration::from_secs(300);

    fn failures(capacity: usize) -> Failures {
        let limits = LoginLimits {
            hash_wait_timeout: Duration::from_secs(1),
            failures_before_lock: 3,
            lock_secs: LOCK.as_secs(),
        };
        let throttle = LoginThrottle::with_capacity(&limits, capacity);
        Arc::into_inner(throttle.failures)
            .unwrap()
            .into_inner()
            .unwrap()
    }

    fn email(name: &str) -> Email {
        Email::parse(&format!("{name}@lab.test")).unwrap()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn an_email_is_locked_after_the_configured_failures_for_lock_secs() {
        let mut f = failures(100);
        let (alice, t0) = (email("alice"), Instant::now());
        for _ in 0..2 {
            f.record_failure(&alice, t0);
        }
        assert_eq!(f.time_left(&alice, t0), None, "two failures are allowed");
        f.record_failure(&alice, t0 + secs(10));
        assert_eq!(f.time_left(&alice, t0 + secs(10)), Some(LOCK));
        assert_eq!(f.time_left(&alice, t0 + secs(110)), Some(secs(200)));
        assert_eq!(f.time_left(&alice, t0 + secs(310)), None, "the lock ends");
        assert_eq!(f.time_left(&email("bob"), t0 + secs(10)), None);
    }

    #[test]
    fn failures_during_a_lock_do_not_extend_it() {
        let mut f = failures(100);
        let (alice, t0) = (email("alice"), Instant::now());
        for _ in 0..3 {
            f.record_failure(&alice, t0);
        }
        f.record_failure(&alice, t0 + secs(100));
        assert_eq!(f.time_left(&alice, t0 + secs(100)), Some(secs(200)));
    }

    #[test]
    fn failures_are_forgotten_lock_secs_after_the_latest_one() {
        let mut f = failures(100);
        let (alice, t0) = (email("alice"), Instant::now());
        f.record_failure(&alice, t0);
        f.record_failure(&alice, t0 + secs(200));
        f.record_failure(&alice, t0 + secs(400));
        assert!(
            f.time_left(&alice, t0 + secs(400)).is_some(),
            "still remembered"
        );

        let bob = email("bob");
        f.record_failure(&bob, t0);
        f.record_failure(&bob, t0);
        f.record_failure(&bob, t0 + secs(301));
        assert_eq!(f.time_left(&bob, t0 + secs(301)), None, "a fresh count");
    }

    #[test]
    fn a_success_clears_the_failures() {
        let limits = LoginLimits {
            hash_wait_timeout: Duration::from_secs(1),
            failures_before_lock: 2,
            lock_secs: 300,
        };
        let throttle = LoginThrottle::new(&limits);
        let alice = email("alice");
        throttle.record_failure(&alice);
        throttle.record_success(&alice);
        throttle.record_failure(&alice);
        assert!(throttle.check(&alice).is_ok());
        throttle.record_failure(&alice);
        assert!(matches!(
            throttle.check(&alice),
            Err(ApiError::TooManyAttempts {
                retry_after_secs: 300
            })
        ));
    }

    #[test]
    fn a_full_map_drops_expired_entries_first() {
        let mut f = failures(3);
        let t0 = Instant::now();
        f.record_failure(&email("old1"), t0);
        f.record_failure(&email("old2"), t0);
        for _ in 0..3 {
            f.record_failure(&email("locked"), t0 + secs(100));
        }
        f.record_failure(&email("new"), t0 + secs(350));
        assert_eq!(f.entries.len(), 2);
        assert!(f.time_left(&email("locked"), t0 + secs(350)).is_some());
    }

    #[test]
    fn a_full_map_of_live_entries_drops_the_one_that_expires_soonest() {
        let mut f = failures(3);
        let t0 = Instant::now();
        for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
            for _ in 0..3 {
                f.record_failure(&email(name), t0 + secs(i as u64));
            }
        }
        f.record_failure(&email("d"), t0 + secs(10));
        assert_eq!(f.entries.len(), 3);
        let now = t0 + secs(10);
        assert_eq!(f.time_left(&email("a"), now), None, "evicted");
        assert!(f.time_left(&email("b"), now).is_some());
        assert!(f.time_left(&email("c"), now).is_some());
    }

    #[test]
    fn the_map_never_exceeds_its_capacity() {
        let mut f = failures(100);
        let t0 = Instant::now();
        for i in 0..1_000 {
            f.record_failure(&email(&format!("user{i}")), t0);
            assert!(f.entries.len() <= 100);
        }
    }
}
