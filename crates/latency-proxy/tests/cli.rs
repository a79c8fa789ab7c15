//! The binary as a user runs it: the line it prints once bound, and a clean stop on SIGTERM.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;

#[test]
fn the_binary_prints_its_real_address_proxies_and_stops_cleanly_on_sigterm() {
    // A blocking echo upstream on a free port.
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

    let mut child = Command::new(env!("CARGO_BIN_EXE_latency-proxy"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream_addr.to_string(),
        ])
        .args(["--delay-ms", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

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
