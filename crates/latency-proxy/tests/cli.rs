//! The binary as a user runs it: the line it prints once bound, and a clean stop on SIGTERM.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;

/// A blocking echo server on a free port, for the proxy to forward to.
fn echo_upstream() -> std::net::SocketAddr {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    thread::spawn(move || {
        for stream in upstream.incoming() {
            let mut stream = stream.unwrap();
            thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    upstream_addr
}

/// The proxy binary on a free port in front of `upstream`, with `extra` options, its stdout piped.
fn spawn_proxy(upstream: std::net::SocketAddr, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_latency-proxy"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream.to_string(),
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn the_binary_prints_its_real_address_proxies_and_stops_cleanly_on_sigterm() {
    let upstream_addr = echo_upstream();
    let mut child = spawn_proxy(upstream_addr, &["--delay-ms", "2"]);

    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let rest = line
        .strip_prefix("proxying 127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    let (port, rest) = rest.split_once(' ').unwrap();
    let port: u16 = port.parse().unwrap();
    assert_ne!(port, 0, "the real port is printed, not the requested 0");
    assert_eq!(
        rest,
        format!("-> {upstream_addr} with 2 ms one-way delay\n")
    );

    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.write_all(b"ping").unwrap();
    let mut echoed = [0u8; 4];
    client.read_exact(&mut echoed).unwrap();
    assert_eq!(&echoed, b"ping");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exited with {status} after SIGTERM");
}

#[test]
fn the_metrics_listener_counts_the_connection_and_the_bytes_in_each_direction() {
    let upstream_addr = echo_upstream();
    let mut child = spawn_proxy(
        upstream_addr,
        &["--delay-ms", "0", "--metrics-listen", "127.0.0.1:0"],
    );
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    let port: u16 = first
        .strip_prefix("proxying 127.0.0.1:")
        .and_then(|rest| rest.split_once(' '))
        .map(|(port, _)| port.parse().unwrap())
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));
    let metrics_addr = second
        .strip_prefix("metrics on http://")
        .and_then(|rest| rest.strip_suffix("/metrics\n"))
        .unwrap_or_else(|| panic!("unexpected second line: {second:?}"))
        .to_string();

    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.write_all(b"hello").unwrap();
    let mut echoed = [0u8; 5];
    client.read_exact(&mut echoed).unwrap();

    // The counter moves right after the write the client has already read: poll briefly.
    let client_bytes = r#"latency_proxy_bytes_total{direction="client"} 5"#;
    let upstream_bytes = r#"latency_proxy_bytes_total{direction="upstream"} 5"#;
    let mut text = http_get(&metrics_addr, "/metrics");
    for _ in 0..50 {
        if text.contains(client_bytes) && text.contains(upstream_bytes) {
            break;
        }
        thread::sleep(std::time::Duration::from_millis(100));
        text = http_get(&metrics_addr, "/metrics");
    }
    assert!(
        text.contains("latency_proxy_connections_accepted_total 1"),
        "{text}"
    );
    assert!(text.contains("latency_proxy_connections_open 1"), "{text}");
    assert!(
        text.contains(r#"latency_proxy_bytes_total{direction="upstream"} 5"#),
        "{text}"
    );
    assert!(text.contains(client_bytes), "{text}");

    child.kill().unwrap();
    child.wait().unwrap();
}

/// A one-shot HTTP/1.0 GET: the response body as text.
fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_string()
}
