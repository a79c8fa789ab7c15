//! A deadline on receiving a request's body, counted from when its headers arrived.
//!
//! A total deadline rather than a gap between chunks (tower-http's `RequestBodyTimeout`): a
//! client dripping one byte a second never leaves a long gap, yet would hold its handler for hours.
//! Past the deadline the body fails with [`BodyTimeout`], which the extractors' rejection turns
//! into 408 `request_timeout` ([`crate::error::ApiError::RequestTimeout`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::BoxError;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error a request body fails with when it did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimeout(Duration);

pub struct DeadlineBody<B> {
    body: B,
    timeout: Duration,
    deadline: Instant,
    /// Created on the first wait only: most bodies are complete when first read.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> DeadlineBody<B> {
    pub fn new(body: B, timeout: Duration) -> Self {
        Self {
            body,
            timeout,
            deadline: Instant::now() + timeout,
            timer: None,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimeout(this.timeout).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
