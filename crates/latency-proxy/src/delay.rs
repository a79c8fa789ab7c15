//! One direction of a proxied connection: what is read from one socket is written to the other
//! a fixed delay after it arrived.

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use prometheus::IntCounter;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::timer::Timer;

/// Room reserved for each read. Postgres messages are mostly far smaller; a large result set
/// simply arrives as several chunks, each delayed from its own arrival.
const READ_CHUNK: usize = 64 * 1024;

/// Chunks that may be in flight in one direction before the reader waits for the writer. A real
/// network holds data in flight without limit on the sender's side only up to the TCP window;
/// this bound plays that part, so a peer that stops reading cannot make the proxy buffer without
/// end. The lab's traffic keeps a handful in flight at a 1 ms delay, far below it.
const MAX_CHUNKS_IN_FLIGHT: usize = 4096;

/// Copies `from` to `to` until `from` ends, delaying every chunk by `delay` after its arrival,
/// then shuts down `to`'s write side so the half-close reaches the other peer.
///
/// The reader and the writer run concurrently: the reader stamps each chunk with its due time
/// and hands it over at once, the writer sleeps until a chunk is due. So chunks keep their order
/// and do not queue behind each other's delay (latency, not a bandwidth limit).
///
/// Every chunk written is added to `written` as it leaves, so a long-lived connection (a pool's)
/// shows its traffic while it is open, not when it closes.
///
/// Returns the number of bytes copied. An I/O error on either side ends the copy.
pub async fn copy_delayed<R, W>(
    from: R,
    to: W,
    delay: Duration,
    written: IntCounter,
) -> io::Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    copy_delayed_with(from, to, delay, Timer::precise(), written).await
}

/// [`copy_delayed`] with the writer's timer chosen by the caller.
pub async fn copy_delayed_with<R, W>(
    mut from: R,
    mut to: W,
    delay: Duration,
    mut timer: Timer,
    written: IntCounter,
) -> io::Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (chunks_tx, mut chunks_rx) = mpsc::channel::<(Instant, Bytes)>(MAX_CHUNKS_IN_FLIGHT);

    let read = async move {
        let mut buf = BytesMut::new();
        loop {
            buf.reserve(READ_CHUNK);
            if from.read_buf(&mut buf).await? == 0 {
                // End of stream: `chunks_tx` is dropped with this future, the writer drains
                // what is still in flight and passes the half-close on.
                return Ok::<_, io::Error>(());
            }
            let due = Instant::now() + delay;
            if chunks_tx.send((due, buf.split().freeze())).await.is_err() {
                // The writer stopped, which only happens on an error it reports itself.
                return Ok(());
            }
        }
    };

    let write = async move {
        let mut copied = 0u64;
        while let Some((due, chunk)) = chunks_rx.recv().await {
            timer.sleep_until(due).await?;
            to.write_all(&chunk).await?;
            copied += chunk.len() as u64;
            written.inc_by(chunk.len() as u64);
        }
        to.shutdown().await?;
        Ok(copied)
    };

    let ((), copied) = tokio::try_join!(read, write)?;
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    fn uncounted() -> IntCounter {
        IntCounter::new("test_bytes", "bytes written in a test").unwrap()
    }

    /// On tokio's paused clock, which jumps straight to the next timer whenever every task waits,
    /// time is virtual and the same on any machine: bounding it cannot flake.
    #[tokio::test(start_paused = true)]
    async fn chunks_in_flight_are_delayed_side_by_side_not_one_after_another() {
        let delay = Duration::from_millis(50);
        let (mut sender, proxy_in) = duplex(1024);
        let (proxy_out, mut receiver) = duplex(1024);
        tokio::spawn(copy_delayed_with(
            proxy_in,
            proxy_out,
            delay,
            Timer::Tokio,
            uncounted(),
        ));

        // 20 one-byte chunks, 1 ms apart. Side by side, the last arrives 19 ms + 50 ms after the
        // first was sent; queued behind each other's delay it would take over 20 x 50 ms.
        let started = Instant::now();
        let writer = tokio::spawn(async move {
            for i in 0..20u8 {
                sender.write_all(&[i]).await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let mut received = [0u8; 20];
        receiver.read_exact(&mut received).await.unwrap();
        let took = started.elapsed();
        writer.await.unwrap();

        assert_eq!(received.to_vec(), (0..20).collect::<Vec<u8>>());
        assert!(took >= Duration::from_millis(19) + delay, "took {took:?}");
        assert!(
            took < 2 * delay,
            "took {took:?}: the chunks waited for each other's delay"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_end_of_the_stream_is_passed_on_after_the_last_chunk() {
        let delay = Duration::from_millis(10);
        let (mut sender, proxy_in) = duplex(1024);
        let (proxy_out, mut receiver) = duplex(1024);
        let written = uncounted();
        let copy = tokio::spawn(copy_delayed_with(
            proxy_in,
            proxy_out,
            delay,
            Timer::Tokio,
            written.clone(),
        ));

        sender.write_all(b"last words").await.unwrap();
        drop(sender);
        let mut received = Vec::new();
        receiver.read_to_end(&mut received).await.unwrap();

        assert_eq!(received, b"last words");
        assert_eq!(copy.await.unwrap().unwrap(), 10);
        assert_eq!(written.get(), 10);
    }
}
