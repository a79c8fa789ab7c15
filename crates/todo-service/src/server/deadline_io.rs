//! Closes a connection whose client is slow to send a request's headers, or idle too long
//! between requests.
//!
//! hyper 1's own `header_read_timeout` arms one timer whenever it starts waiting for a request
//! head, both on a new connection and right after each response (hyper 1.12,
//! `src/proto/h1/conn.rs`: `poll_read_head` arms it, `State::idle` restarts the head read). One
//! duration cannot be both the slowloris bound (seconds) and the keep-alive idle time (tens of
//! seconds), so this wrapper of the socket keeps both deadlines and hyper's timer stays off:
//!
//! - a new connection has the header timeout from accept to send its first request's headers;
//! - once a request has been answered, the connection is idle: it has the idle timeout to send
//!   the first byte of its next request, then the header timeout from that byte;
//! - while a request is in flight (headers received, response not yet sent) reads are not timed
//!   here: the body has its own deadline ([`super::body_deadline`]).
//!
//! A read past the deadline fails with `TimedOut`, and hyper closes the connection.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::config::HttpLimits;

/// What the wrapper needs to know from the service: how many requests began, and how many ended
/// (their response sent). Shared by a connection's socket wrapper and its service.
#[derive(Clone, Default)]
pub struct Activity(Arc<Counts>);

#[derive(Default)]
struct Counts {
    begun: AtomicU64,
    ended: AtomicU64,
}

/// Marks a request in flight until dropped.
pub struct InFlight(Arc<Counts>);

impl Activity {
    /// Called once a request's headers are in: the request is in flight until the guard drops.
    pub fn begin(&self) -> InFlight {
        self.0.begun.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(&self.0))
    }

    /// Requests begun so far, or `None` while one is in flight.
    fn settled(&self) -> Option<u64> {
        // Everything happens on the connection's task, so relaxed loads see every update.
        let begun = self.0.begun.load(Ordering::Relaxed);
        (self.0.ended.load(Ordering::Relaxed) == begun).then_some(begun)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.ended.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the connection is waiting for when it has no request in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// The rest of a request's headers (header timeout).
    Headers,
    /// The first byte of the next request on a kept-alive connection (idle timeout).
    NextRequest,
}

pub struct DeadlineIo<IO> {
    io: IO,
    activity: Activity,
    header_read: Duration,
    idle: Duration,
    waiting: Waiting,
    deadline: Pin<Box<Sleep>>,
    /// Requests begun as of the last read without one in flight; a change means one was served.
    requests_seen: u64,
}

impl<IO> DeadlineIo<IO> {
    pub fn new(io: IO, activity: Activity, limits: &HttpLimits) -> Self {
        Self {
            io,
            activity,
            header_read: limits.header_read,
            idle: limits.idle,
            waiting: Waiting::Headers,
            deadline: Box::pin(tokio::time::sleep(limits.header_read)),
            requests_seen: 0,
        }
    }

    fn wait_for(&mut self, waiting: Waiting) {
        let timeout = match waiting {
            Waiting::Headers => self.header_read,
            Waiting::NextRequest => self.idle,
        };
        self.waiting = waiting;
        self.deadline.as_mut().reset(Instant::now() + timeout);
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for DeadlineIo<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(begun) = this.activity.settled() else {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        };
        if begun != this.requests_seen {
            this.requests_seen = begun;
            this.wait_for(Waiting::NextRequest);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            let what = match this.waiting {
                Waiting::Headers => "request headers did not arrive in time",
                Waiting::NextRequest => "idle keep-alive connection",
            };
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
        }
        let filled = buf.filled().len();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        if this.waiting == Waiting::NextRequest
            && matches!(read, Poll::Ready(Ok(())))
            && buf.filled().len() > filled
        {
            this.wait_for(Waiting::Headers);
        }
        read
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for DeadlineIo<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
