//! `StatementCounter`: a TCP proxy between the service and Postgres that counts the statements
//! the service runs, read off the wire protocol. It lets a test assert "one statement per
//! request" without timings and without server-side statistics (`pg_stat_statements` needs a
//! preloaded extension; `pg_stat_database` is flushed by Postgres on its own schedule).
//!
//! The client side of the protocol is a sequence of messages: a one-byte type, a 4-byte length
//! that counts itself, the body. Only the first messages (an optional SSL or GSS request, then
//! the startup message) have no type byte. A statement runs once per `Execute` (`E`, extended
//! protocol: what prepared statements use) or `Query` (`Q`, simple protocol); `Parse`,
//! `Describe` and `Sync` alone (as in `prepare_cached`'s first call on a connection) run nothing.
//! The count is taken as each message is forwarded, so it is complete by the time the service
//! could have answered the HTTP request that caused it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::DatabaseServer;

/// Protocol codes of the untyped requests that may precede the startup message.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

pub struct StatementCounter {
    /// `database_url` with host and port replaced by the proxy's.
    database_url: String,
    executed: Arc<AtomicU64>,
}

impl StatementCounter {
    /// Starts the proxy on a free port, forwarding to the server of `database_url` (TCP only).
    pub async fn start(database_url: &str) -> Self {
        let server = DatabaseServer::of(database_url);
        let upstream = server.address();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let database_url = server.via(listener.local_addr().unwrap());
        let executed = Arc::new(AtomicU64::new(0));
        let counter = executed.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(&upstream)
                    .await
                    .expect("connecting to Postgres");
                tokio::spawn(proxy(client, server, counter.clone()));
            }
        });
        Self {
            database_url,
            executed,
        }
    }

    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Statements executed through the proxy so far.
    pub fn executed(&self) -> u64 {
        self.executed.load(Ordering::SeqCst)
    }
}

async fn proxy(client: TcpStream, server: TcpStream, executed: Arc<AtomicU64>) {
    // Messages are forwarded one by one: without NODELAY, Nagle would hold small writes back.
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    let (from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    // Either side closing ends the connection; errors then are just that side going away.
    tokio::select! {
        _ = forward_counting(from_client, &mut to_server, &executed) => {}
        _ = tokio::io::copy(&mut from_server, &mut to_client) => {}
    }
}

/// Copies the client's messages to the server, counting `Execute` and `Query` messages.
async fn forward_counting(
    mut from: OwnedReadHalf,
    to: &mut OwnedWriteHalf,
    executed: &AtomicU64,
) -> std::io::Result<()> {
    loop {
        let message = read_message(&mut from, None).await?;
        to.write_all(&message).await?;
        let code = u32::from_be_bytes(message[4..8].try_into().unwrap());
        if code != SSL_REQUEST && code != GSSENC_REQUEST {
            break;
        }
    }
    loop {
        let tag = from.read_u8().await?;
        let message = read_message(&mut from, Some(tag)).await?;
        if tag == b'E' || tag == b'Q' {
            executed.fetch_add(1, Ordering::SeqCst);
        }
        to.write_all(&message).await?;
    }
}

/// Reads one message's length and body and returns the whole message as sent (`tag` first if
/// it has one), to be forwarded in one write.
async fn read_message(from: &mut OwnedReadHalf, tag: Option<u8>) -> std::io::Result<Vec<u8>> {
    let length = from.read_u32().await?;
    let mut message = Vec::with_capacity(length as usize + 1);
    message.extend(tag);
    message.extend_from_slice(&length.to_be_bytes());
    let start = message.len();
    message.resize(start + length as usize - 4, 0);
    from.read_exact(&mut message[start..]).await?;
    Ok(message)
}
