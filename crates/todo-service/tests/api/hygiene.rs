//! Connection hygiene: slow, idle and stalled clients are closed, the connection cap leaves new
//! connections in the backlog until a slot frees, and a stop is bounded. Raw `TcpStream`s speak
//! HTTP/1.1 here, where reqwest would hide what the server does with the connection.

use std::time::Duration;

use axum::http;
use todo_service::config::{HttpLimits, ServeConfig};
use todo_service::pools::PoolMode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{timeout, timeout_at, Instant};

use crate::helpers::{assert_error, serve_config, spawn_app_with, TestApp};

/// Every wait for something that must happen: far above the limits under test, so that only a
/// server that never closes (or never answers) fails, not a slow machine.
const BOUND: Duration = Duration::from_secs(5);

/// Limits small enough for tests; each test loosens the ones it is not about.
fn limited(http: HttpLimits) -> ServeConfig {
    ServeConfig {
        http,
        ..serve_config(PoolMode::Shared)
    }
}

const TIGHT: HttpLimits = HttpLimits {
    header_read: Duration::from_millis(400),
    request_body: Duration::from_millis(400),
    idle: Duration::from_millis(400),
    max_connections: 10_000,
    shutdown_grace: Duration::from_millis(500),
};

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.unwrap()
}

fn get_todos(token: Option<&str>) -> String {
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    format!("GET /todos HTTP/1.1\r\nHost: lab\r\n{authorization}\r\n")
}

/// Reads one response (bodies have a Content-Length here); `None` if the connection closes first.
async fn read_response(stream: &mut TcpStream) -> Option<reqwest::Response> {
    let mut received = Vec::new();
    let mut chunk = [0; 4096];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    };
    let head = std::str::from_utf8(&received[..head_end])
        .unwrap()
        .to_owned();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut response = http::Response::builder().status(status);
    let mut length = 0;
    for (name, value) in lines.filter_map(|line| line.split_once(':')) {
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().unwrap();
        }
        response = response.header(name, value.trim());
    }
    let mut body = received.split_off(head_end);
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some(response.body(body).unwrap().into())
}

/// The status of the next response, which must arrive within [`BOUND`].
async fn next_status(stream: &mut TcpStream) -> u16 {
    timeout(BOUND, read_response(stream))
        .await
        .expect("no response in time")
        .expect("the connection closed instead of answering")
        .status()
        .as_u16()
}

/// Waits for the server to close the connection, discarding whatever it sends first.
async fn assert_closed_within(stream: &mut TcpStream, bound: Duration, what: &str) {
    let closed = async {
        let mut buf = [0; 1024];
        while let Ok(1..) = stream.read(&mut buf).await {}
    };
    timeout(bound, closed)
        .await
        .unwrap_or_else(|_| panic!("{what} was still open after {bound:?}"));
}

/// A slowloris client: sends a request line at once, then a header that never ends, one byte per
/// 100 ms, until the server closes the connection.
async fn drip_headers(mut stream: TcpStream) {
    let mut buf = [0; 1024];
    if stream
        .write_all(b"GET /todos HTTP/1.1\r\nX-Slow: ")
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => if let Ok(0) | Err(_) = read {
                return;
            },
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                if stream.write_all(b"a").await.is_err() {
                    return;
                }
            }
        }
    }
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(limited(TIGHT)).await;
    let mut silent = connect(&app).await;
    assert_closed_within(&mut silent, BOUND, "a silent connection").await;
}

#[tokio::test]
async fn slow_clients_are_closed_after_the_header_timeout_and_a_normal_request_is_served_meanwhile()
{
    let app = spawn_app_with(limited(HttpLimits {
        // Long enough that the 200 are surely still open while the normal request runs.
        header_read: Duration::from_millis(1_000),
        ..TIGHT
    }))
    .await;
    let token = app.login_demo().await;

    let mut slow = JoinSet::new();
    for _ in 0..200 {
        slow.spawn(drip_headers(connect(&app).await));
    }
    let response = app.list_todos(&token, "").await;
    assert_eq!(response.status(), 200);

    timeout(BOUND, slow.join_all())
        .await
        .expect("every slow client must be closed");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout() {
    let app = spawn_app_with(limited(HttpLimits {
        header_read: Duration::from_millis(300),
        idle: Duration::from_millis(2_500),
        ..TIGHT
    }))
    .await;
    let token = app.login_demo().await;
    let mut stream = connect(&app).await;
    stream
        .write_all(get_todos(Some(&token)).as_bytes())
        .await
        .unwrap();
    assert_eq!(next_status(&mut stream).await, 200);

    // Idle for twice the header timeout, well within the idle timeout: still served.
    tokio::time::sleep(Duration::from_millis(600)).await;
    stream
        .write_all(get_todos(Some(&token)).as_bytes())
        .await
        .unwrap();
    assert_eq!(next_status(&mut stream).await, 200);

    assert_closed_within(&mut stream, BOUND, "an idle keep-alive connection").await;
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_answered_408_and_the_connection_closed() {
    let app = spawn_app_with(limited(TIGHT)).await;
    let token = app.login_demo().await;
    let mut stream = connect(&app).await;
    let partial = r#"{"title": "never fini"#;
    let request = format!(
        "POST /todos HTTP/1.1\r\nHost: lab\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{partial}",
        partial.len() + 10
    );
    stream.write_all(request.as_bytes()).await.unwrap();

    let response = timeout(BOUND, read_response(&mut stream))
        .await
        .expect("a stalled body must be answered in time")
        .expect("a stalled body must be answered, not dropped");
    assert_error(response, 408, "request_timeout").await;
    assert_closed_within(&mut stream, BOUND, "the connection of a stalled body").await;
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_is_served_once_another_closes() {
    const CAP: usize = 3;
    let app = spawn_app_with(limited(HttpLimits {
        // The held connections must stay idle without being closed.
        header_read: Duration::from_millis(30_000),
        idle: Duration::from_millis(30_000),
        max_connections: CAP,
        ..TIGHT
    }))
    .await;
    // Unauthenticated requests (401): a login would leave reqwest's connection in a slot.
    let request = get_todos(None);
    let mut held = Vec::new();
    for _ in 0..CAP {
        let mut stream = connect(&app).await;
        stream.write_all(request.as_bytes()).await.unwrap();
        assert_eq!(next_status(&mut stream).await, 401);
        held.push(stream);
    }

    // The kernel completes the handshake; the request waits in the backlog, unanswered.
    let mut waiting = connect(&app).await;
    waiting.write_all(request.as_bytes()).await.unwrap();
    let early = timeout(Duration::from_millis(500), read_response(&mut waiting)).await;
    assert!(early.is_err(), "a connection past the cap was served");

    drop(held.pop());
    assert_eq!(next_status(&mut waiting).await, 401);
}

#[tokio::test]
async fn a_stop_closes_idle_connections_at_once_lets_a_request_in_flight_finish_and_is_bounded() {
    let grace = Duration::from_millis(1_500);
    let app = spawn_app_with(limited(HttpLimits {
        // Only the stop may end the slow client and the idle connection here.
        header_read: Duration::from_millis(30_000),
        idle: Duration::from_millis(30_000),
        shutdown_grace: grace,
        ..TIGHT
    }))
    .await;
    let token = app.login_demo().await;

    let mut idle = connect(&app).await;
    idle.write_all(get_todos(Some(&token)).as_bytes())
        .await
        .unwrap();
    assert_eq!(next_status(&mut idle).await, 200);
    let slow = tokio::spawn(drip_headers(connect(&app).await));
    // Its first bytes must have arrived: a connection that sent nothing is closed at once.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let locker = app.block_todo_inserts().await;
    let in_flight = {
        let (http, address, token) = (app.http.clone(), app.address.clone(), token.clone());
        tokio::spawn(async move {
            http.post(format!("{address}/todos"))
                .bearer_auth(token)
                .json(&serde_json::json!({ "title": "written during the stop" }))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    app.wait_for_blocked_backends(1).await;

    let stopped_at = Instant::now();
    let server = app.stop();
    // Closed while the request in flight is still blocked: the stop did not wait for it.
    assert_closed_within(&mut idle, BOUND, "an idle connection after the stop").await;
    assert!(!in_flight.is_finished());

    locker.batch_execute("COMMIT").await.unwrap();
    assert_eq!(in_flight.await.unwrap(), 201);
    timeout_at(stopped_at + grace + BOUND, server)
        .await
        .expect("the stop must complete within the grace period and a margin")
        .unwrap()
        .unwrap();
    timeout(BOUND, slow)
        .await
        .expect("the slow client must be dropped at the end of the grace period")
        .unwrap();
}
