//! Accepts and serves HTTP/1 connections under limits; both listeners (public API and metrics)
//! run on it.
//!
//! `axum::serve` has no timeouts and no connection cap: idle and slowloris clients held their
//! connections forever, enough of them ran the process out of file descriptors, and a stop waited
//! for all of them. Here every connection is bounded (see [`HttpLimits`] for the why of each):
//!
//! - waiting for a request's headers, and idling between requests: [`deadline_io`];
//! - receiving a request's body (answered 408): [`body_deadline`];
//! - how many are open at once: a semaphore permit per accepted connection; at the cap the accept
//!   loop stops accepting, so new connections wait in the listen backlog ([`fd_limit`] fits the
//!   cap to the file-descriptor limit);
//! - shutdown: on the stop signal the listener is closed, idle connections are closed at once,
//!   requests in flight may finish for the grace period, then whatever is left is dropped.
//!
//! HTTP/1 only: the lab's clients speak it, and every limit above is defined for it.

mod body_deadline;
mod deadline_io;
pub mod fd_limit;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::config::HttpLimits;
pub use body_deadline::BodyTimeout;
use body_deadline::DeadlineBody;
use deadline_io::{Activity, DeadlineIo};

/// Serves `router` on `listener` until `stop` completes, then shuts down within the grace period.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    stop: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            // Reaps finished connection tasks, so the set only holds open connections.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            (stream, slot) = accept(&listener, &slots) => {
                connections.spawn(serve_connection(
                    stream,
                    router.clone(),
                    limits,
                    slot,
                    graceful.watcher(),
                ));
            }
        }
    }
    // Closing the listener refuses new connections (and resets those left in the backlog)
    // instead of leaving them to wait for a server that is going away.
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        while connections.try_join_next().is_some() {}
        tracing::warn!(
            left = connections.len(),
            grace_ms = limits.shutdown_grace.as_millis() as u64,
            "shutdown grace elapsed: dropping the connections left"
        );
    }
    connections.shutdown().await;
}

/// Waits for a free connection slot, then for a connection. Holding the slot before accepting
/// is what leaves connections past the cap in the kernel's backlog.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> (TcpStream, OwnedSemaphorePermit) {
    let slot = Arc::clone(slots)
        .acquire_owned()
        .await
        .expect("the connection semaphore is never closed");
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return (stream, slot),
            // The client gave up before we accepted: nothing to serve, nothing wrong here.
            Err(err) if is_connection_error(&err) => {}
            // Out of file descriptors (or another resource): retrying at once would spin.
            Err(err) => {
                tracing::error!(error = %err, "accepting a connection failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}

/// Serves one connection; its slot is given back when it ends.
async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: HttpLimits,
    _slot: OwnedSemaphorePermit,
    shutdown: Watcher,
) {
    let activity = Activity::default();
    let io = TokioIo::new(DeadlineIo::new(stream, activity.clone(), &limits));
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let in_flight = activity.begin();
        let request = request.map(|body| Body::new(DeadlineBody::new(body, limits.request_body)));
        let response = router.clone().oneshot(request);
        async move {
            let response = response.await?;
            // The request counts as in flight until its response body is sent (hyper drops the
            // body then), so the idle clock starts when the connection really goes idle.
            Ok::<_, Infallible>(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _ = &in_flight;
                    frame
                }))
            }))
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        // DeadlineIo bounds the wait for headers; hyper's own timer would count from the end of
        // the previous response and so also cut keep-alive connections at the header timeout.
        .header_read_timeout(None)
        .serve_connection(io, service);
    if let Err(err) = shutdown.watch(connection).await {
        tracing::debug!(error = %err, "connection ended with an error");
    }
}
