//! Black-box tests: real sockets, an upstream server in the same process, the proxy between.

use std::net::SocketAddr;
use std::time::Duration;

use latency_proxy::Proxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// An upstream that sends back everything it receives, then closes when the client does.
async fn spawn_echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let (mut rd, mut wr) = stream.into_split();
                let _ = tokio::io::copy(&mut rd, &mut wr).await;
                let _ = wr.shutdown().await;
            });
        }
    });
    addr
}

/// An upstream that reads until the client half-closes, then answers with the byte count.
async fn spawn_counting_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        stream.read_to_end(&mut received).await.unwrap();
        let reply = format!("received {} bytes", received.len());
        stream.write_all(reply.as_bytes()).await.unwrap();
    });
    addr
}

/// Starts a proxy on a free port; it runs until the returned sender fires or is dropped.
async fn spawn_proxy(upstream: SocketAddr, delay: Duration) -> (SocketAddr, oneshot::Sender<()>) {
    let proxy = Proxy::bind("127.0.0.1:0".parse().unwrap(), upstream.to_string(), delay)
        .await
        .unwrap();
    let addr = proxy.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    tokio::spawn(proxy.run_until(async move {
        let _ = stop_rx.await;
    }));
    (addr, stop_tx)
}

async fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// Deterministic pseudo-random bytes (an LCG), so a failure can be replayed.
fn payload(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect()
}

/// One echo round trip of `message`, returning how long it took.
async fn round_trip(stream: &mut TcpStream, message: &[u8]) -> Duration {
    let mut echoed = vec![0u8; message.len()];
    let started = Instant::now();
    stream.write_all(message).await.unwrap();
    stream.read_exact(&mut echoed).await.unwrap();
    let took = started.elapsed();
    assert_eq!(echoed, message);
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_chunks_arrive_intact_and_in_order_in_both_directions() {
    let (proxy, _stop) = spawn_proxy(spawn_echo_server().await, Duration::from_millis(1)).await;
    let stream = connect(proxy).await;
    let (mut rd, mut wr) = stream.into_split();

    // 2,000 writes of 1 to 4,000 bytes each, about 4 MB: many chunks in flight at once.
    let sent = payload(4_000_000, 7);
    let to_send = sent.clone();
    let writer = tokio::spawn(async move {
        let mut offset = 0;
        let mut step = 1;
        while offset < to_send.len() {
            step = (step * 7919 + 13) % 4000 + 1;
            let end = (offset + step).min(to_send.len());
            wr.write_all(&to_send[offset..end]).await.unwrap();
            offset = end;
        }
        wr.shutdown().await.unwrap();
    });

    let mut received = Vec::new();
    rd.read_to_end(&mut received).await.unwrap();
    writer.await.unwrap();
    assert_eq!(received.len(), sent.len());
    assert!(
        received == sent,
        "the echoed bytes differ from the sent ones"
    );
}

#[tokio::test]
async fn a_half_close_reaches_the_upstream_and_its_reply_still_comes_back() {
    let (proxy, _stop) = spawn_proxy(spawn_counting_server().await, Duration::from_millis(5)).await;
    let mut stream = connect(proxy).await;

    stream.write_all(&payload(100_000, 1)).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();

    assert_eq!(reply, "received 100000 bytes");
}

#[tokio::test]
async fn a_round_trip_takes_at_least_twice_the_one_way_delay() {
    let delay = Duration::from_millis(25);
    let (proxy, _stop) = spawn_proxy(spawn_echo_server().await, delay).await;
    let mut stream = connect(proxy).await;

    for i in 0..5u8 {
        let took = round_trip(&mut stream, &[b'p', i]).await;
        assert!(
            took >= 2 * delay,
            "round trip {i} took {took:?}, less than 2 x {delay:?}"
        );
    }
}

/// Not an assertion on speed (that would depend on the machine) but a record of the real cost
/// of the lab's setting: run with `--nocapture` to see it.
#[tokio::test]
async fn a_one_millisecond_delay_adds_at_least_two_milliseconds_per_round_trip() {
    let delay = Duration::from_millis(1);
    let echo = spawn_echo_server().await;
    let (proxy, _stop) = spawn_proxy(echo, delay).await;
    let mut direct = connect(echo).await;
    let mut proxied = connect(proxy).await;

    let rounds: u32 = 200;
    let (mut direct_total, mut proxied_total, mut proxied_min) =
        (Duration::ZERO, Duration::ZERO, Duration::MAX);
    for i in 0..rounds {
        let message = i.to_be_bytes();
        direct_total += round_trip(&mut direct, &message).await;
        let took = round_trip(&mut proxied, &message).await;
        assert!(took >= 2 * delay, "round trip {i} took {took:?}");
        proxied_total += took;
        proxied_min = proxied_min.min(took);
    }
    println!(
        "--delay-ms 1 over {rounds} round trips: proxied mean {:?} (min {proxied_min:?}), \
         direct mean {:?}",
        proxied_total / rounds,
        direct_total / rounds,
    );
}

#[tokio::test]
async fn stopping_the_proxy_closes_its_open_connections() {
    let (proxy, stop) = spawn_proxy(spawn_echo_server().await, Duration::from_millis(1)).await;
    let mut stream = connect(proxy).await;
    round_trip(&mut stream, b"hello").await;

    stop.send(()).unwrap();

    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    let read = read.expect("the connection was still open 10 s after the proxy stopped");
    // Closed either cleanly or by a reset; either way nothing more arrives.
    assert!(read.is_err() || rest.is_empty());
}

#[tokio::test]
async fn a_client_is_dropped_when_the_upstream_is_down() {
    // Bind then drop a listener to get a port with nothing behind it.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let (proxy, _stop) = spawn_proxy(closed, Duration::from_millis(1)).await;
    let mut stream = connect(proxy).await;

    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    let read = read.expect("the client was still connected 10 s after the upstream refused");
    assert!(read.is_err() || rest.is_empty());
}
