//! Logging for failures that can repeat on every request, such as a lost database or a bug on a
//! hot path: each cause is logged at most once per [`INTERVAL`], with how many occurrences were
//! left out since its last line. Why: one line per failed request turns an outage into a log
//! storm (5 s without Postgres at 200 req/s once wrote 37 MB, a backtrace per error), which costs
//! the CPU and disk the service needs to recover, and buries the one line that says what broke.
//!
//! Errors are written with their cause chain (`{:#}`), never with a backtrace.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// At most one line per cause in this time.
pub const INTERVAL: Duration = Duration::from_secs(10);
/// Distinct causes remembered; past it, new causes share one entry (the memory stays bounded
/// even if error texts carry unbounded values).
const MAX_CAUSES: usize = 256;
const OVERFLOW_CAUSE: &str = "(other causes)";

static LIMITER: LazyLock<LogLimiter> = LazyLock::new(|| LogLimiter::new(INTERVAL, MAX_CAUSES));

/// The database could not be reached; the request was answered 503 `database_unavailable`.
pub fn database_unavailable(err: &anyhow::Error) {
    let cause = format!("{err:#}");
    if let Some(suppressed) = LIMITER.admit(&cause, Instant::now()) {
        tracing::warn!(cause, suppressed, "database unavailable: answering 503");
    }
}

/// A failure the client did not cause; the request was answered 500 `internal`.
pub fn internal(err: &anyhow::Error) {
    let cause = format!("{err:#}");
    if let Some(suppressed) = LIMITER.admit(&cause, Instant::now()) {
        tracing::error!(cause, suppressed, "request failed: answering 500");
    }
}

/// Decides, per cause, whether an occurrence is logged. A separate type so the policy is tested
/// without a clock or a logger.
pub struct LogLimiter {
    interval: Duration,
    max_causes: usize,
    causes: Mutex<HashMap<String, Cause>>,
}

struct Cause {
    last_logged: Instant,
    suppressed: u64,
}

impl LogLimiter {
    pub fn new(interval: Duration, max_causes: usize) -> Self {
        Self {
            interval,
            max_causes,
            causes: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(n)` if this occurrence of `cause` should be logged, `n` being the occurrences left
    /// out since the last logged one; `None` if it is to be left out.
    pub fn admit(&self, cause: &str, now: Instant) -> Option<u64> {
        let mut causes = self.causes.lock().unwrap_or_else(|e| e.into_inner());
        let key = if causes.contains_key(cause) || causes.len() < self.max_causes {
            cause
        } else {
            // Full: forget causes quiet for a whole interval, else share the overflow entry.
            causes.retain(|_, seen| now.duration_since(seen.last_logged) < self.interval);
            if causes.len() < self.max_causes {
                cause
            } else {
                OVERFLOW_CAUSE
            }
        };
        match causes.get_mut(key) {
            Some(seen) if now.duration_since(seen.last_logged) < self.interval => {
                seen.suppressed += 1;
                None
            }
            Some(seen) => {
                let suppressed = seen.suppressed;
                *seen = Cause {
                    last_logged: now,
                    suppressed: 0,
                };
                Some(suppressed)
            }
            None => {
                causes.insert(
                    key.to_owned(),
                    Cause {
                        last_logged: now,
                        suppressed: 0,
                    },
                );
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_logged_once_per_interval_with_the_count_left_out() {
        let limiter = LogLimiter::new(Duration::from_secs(10), 8);
        let t0 = Instant::now();
        assert_eq!(limiter.admit("db down", t0), Some(0));
        for i in 1..=99 {
            assert_eq!(
                limiter.admit("db down", t0 + Duration::from_millis(i)),
                None
            );
        }
        assert_eq!(
            limiter.admit("db down", t0 + Duration::from_secs(10)),
            Some(99)
        );
    }

    #[test]
    fn different_causes_are_limited_apart() {
        let limiter = LogLimiter::new(Duration::from_secs(10), 8);
        let t0 = Instant::now();
        assert_eq!(limiter.admit("db down", t0), Some(0));
        assert_eq!(limiter.admit("hash failed", t0), Some(0));
        assert_eq!(limiter.admit("db down", t0), None);
    }

    #[test]
    fn memory_stays_bounded_when_causes_never_repeat() {
        let limiter = LogLimiter::new(Duration::from_secs(10), 4);
        let t0 = Instant::now();
        let logged = (0..1000)
            .filter(|i| limiter.admit(&format!("cause {i}"), t0).is_some())
            .count();
        // Four distinct causes, then the shared overflow entry once.
        assert_eq!(logged, 5);
        assert!(limiter.causes.lock().unwrap().len() <= 5);
        // A quiet interval later, new causes get entries of their own again.
        assert_eq!(
            limiter.admit("fresh", t0 + Duration::from_secs(11)),
            Some(0)
        );
    }
}
