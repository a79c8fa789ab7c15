//! Fits the connection cap to the process's file-descriptor limit.
//!
//! Each client connection is a descriptor. Capped only by the limit, sockets can take every
//! descriptor, and then the service cannot open a database connection or a file to answer the
//! requests it already has (the reported failure: with a 1,024 limit, 1,100 idle sockets made
//! `GET /todos` time out). So start-up raises the soft limit as far as the hard limit allows, and
//! the cap keeps a reserve below it.

/// Descriptors kept for everything but client and database connections: stdio, the two
/// listeners, the runtime's epoll and wake-up descriptors, files read under /proc, log files.
/// A few dozen are used; 64 leaves room.
pub const FIXED_RESERVE: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft limit then in force;
/// `None` if it cannot be read or is unlimited.
pub fn raise_to_hard_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own; setrlimit only reads it.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "reading RLIMIT_NOFILE failed");
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: as above. Some systems refuse an unlimited soft limit: we keep the old one.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        } else {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                soft = limit.rlim_cur,
                hard = limit.rlim_max,
                "raising the soft RLIMIT_NOFILE failed; keeping it"
            );
        }
    }
    (limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// The configured cap, lowered so that `reserved` descriptors stay free under `fd_limit`.
/// Never below one connection: a service that accepts nothing helps nobody.
pub fn connection_cap(configured: usize, fd_limit: Option<u64>, reserved: u64) -> usize {
    let Some(fd_limit) = fd_limit else {
        return configured;
    };
    let room = usize::try_from(fd_limit.saturating_sub(reserved)).unwrap_or(usize::MAX);
    configured.min(room).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_cap_stands_when_the_limit_leaves_room_for_it() {
        assert_eq!(connection_cap(10_000, Some(1_048_576), 200), 10_000);
        assert_eq!(connection_cap(10_000, None, 200), 10_000);
    }

    #[test]
    fn the_cap_leaves_the_reserve_free_under_a_low_limit() {
        assert_eq!(connection_cap(10_000, Some(1_024), 124), 900);
    }

    #[test]
    fn the_cap_never_drops_to_zero() {
        assert_eq!(connection_cap(10_000, Some(50), 124), 1);
    }
}
