//! Sleeping until a chunk is due, precisely enough for a 1 ms delay.
//!
//! tokio's timer counts whole milliseconds and rounds deadlines up, and its driver then parks in
//! `epoll_wait`, whose timeout is whole milliseconds too: measured here, a 1 ms sleep takes about
//! 2.1 ms on average, so `--delay-ms 1` added 4.3 ms to a round trip instead of 2. On Linux a
//! `timerfd` (a kernel high-resolution timer that shows up as a readable file descriptor in
//! tokio's own epoll set) wakes the writer within microseconds of the deadline, for one
//! `timerfd_settime` call per chunk. Each direction of a connection owns one.

use std::io;

use tokio::time::Instant;

/// How a writer waits for the next chunk's due time.
pub enum Timer {
    /// A Linux `timerfd`: microsecond precision.
    #[cfg(target_os = "linux")]
    Precise(precise::TimerFdSleep),
    /// tokio's timer: whole milliseconds, rounded up. Used where there is no `timerfd`, and in
    /// tests on tokio's paused clock, which only tokio's timer follows.
    Tokio,
}

impl Timer {
    /// The most precise timer available, falling back to tokio's when no `timerfd` can be made
    /// (for example when out of file descriptors).
    pub fn precise() -> Self {
        #[cfg(target_os = "linux")]
        match precise::TimerFdSleep::new() {
            Ok(timer) => return Timer::Precise(timer),
            Err(err) => eprintln!("latency-proxy: no timerfd ({err}); using tokio's 1 ms timer"),
        }
        Timer::Tokio
    }

    /// Returns at `due` or soon after, never before; at once if `due` has passed.
    pub async fn sleep_until(&mut self, due: Instant) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Timer::Precise(timer) => timer.sleep_until(due).await,
            Timer::Tokio => {
                tokio::time::sleep_until(due).await;
                Ok(())
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod precise {
    use std::io;

    use timerfd::{ClockId, SetTimeFlags, TimerFd, TimerState};
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;
    use tokio::time::Instant;

    /// A one-shot `timerfd` on the monotonic clock (the one `Instant` reads), registered with
    /// tokio's reactor.
    pub struct TimerFdSleep {
        fd: AsyncFd<TimerFd>,
    }

    impl TimerFdSleep {
        pub fn new() -> io::Result<Self> {
            let timer = TimerFd::new_custom(ClockId::Monotonic, true, true)?;
            // SAFETY: `TimerFd` owns its file descriptor (an `OwnedFd`), which stays open and
            // the same until the `TimerFd`, and so the `AsyncFd` holding it, is dropped; this
            // type never swaps it out.
            let fd = unsafe { AsyncFd::register_with_interest(timer, Interest::READABLE) }?;
            Ok(Self { fd })
        }

        pub async fn sleep_until(&mut self, due: Instant) -> io::Result<()> {
            let now = Instant::now();
            if due <= now {
                return Ok(());
            }
            // Relative to `now`, just read: a zero duration would disarm the timer, but
            // `due > now` makes it at least a nanosecond.
            self.fd
                .get_mut()
                .set_state(TimerState::Oneshot(due - now), SetTimeFlags::Default);
            loop {
                let mut ready = self.fd.readable_mut().await?;
                // `read` returns the number of expirations, 0 if the timer has not fired yet
                // (a stale readiness from an earlier round).
                if ready.get_inner_mut().read() > 0 {
                    return Ok(());
                }
                ready.clear_ready();
            }
        }
    }
}
