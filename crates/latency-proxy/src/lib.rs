//! A TCP proxy that adds a fixed one-way delay in each direction, so that a Postgres on the same
//! machine answers like one across a network.
//!
//! # Why it exists
//!
//! The lab shows a shared connection pool being starved by bursts of writes. On loopback a
//! query's round trip is a few microseconds, so a pool of 12 connections serves tens of
//! thousands of queries a second and the starvation needs absurd load to appear. In production
//! the database is a network hop away and every statement pays that round trip while it holds a
//! connection. Putting this proxy between the service and Postgres brings that cost back:
//!
//! ```text
//! todo-service --(DATABASE_URL=...:54330)--> latency-proxy --(+D each way)--> postgres :54329
//! ```
//!
//! The usual tools are out of reach here: the kernel has no `tc netem` and there is no Docker,
//! so no Toxiproxy container either.
//!
//! # Why not a crate
//!
//! [`noxious`](https://crates.io/crates/noxious), the Rust port of Toxiproxy, was the candidate.
//! Its latency toxic (1.0.4) runs `input.then(|chunk| sleep(latency))`: every chunk waits for
//! the previous chunk's sleep to end, so `n` chunks sent back to back arrive after `n · D`
//! instead of `D`. That is a bandwidth cap, not latency, and it would punish exactly the
//! pipelined, many-message traffic a Postgres driver sends. It is also a whole Toxiproxy server
//! (HTTP control API, toxic state) built on 2018-edition-era dependencies (tokio-util 0.6,
//! rand 0.8). The delay itself is a few dozen lines, in [`delay`].
//!
//! # How the delay works
//!
//! Each direction of a connection is a reader and a writer joined by a channel. The reader
//! stamps every chunk it reads with `arrival + D` and hands it on at once; the writer sleeps
//! until a chunk is due, then writes it. Chunks keep their order, many can be in flight, and the
//! reader never waits for the writer's sleep: pure propagation delay, like a long cable.
//!
//! Precision: tokio's own timer counts whole milliseconds and rounds up; a 1 ms sleep took about
//! 2.1 ms here, which made `--delay-ms 1` add 4.3 ms to a round trip. So on Linux the writer
//! sleeps on a `timerfd` instead (see [`timer`]): a round trip through the proxy at
//! `--delay-ms 1` measures about 2.2 ms (the test
//! `a_one_millisecond_delay_adds_at_least_two_milliseconds_per_round_trip` prints it with
//! `--nocapture`). The delay is never shorter than asked.
//!
//! # Layout
//!
//! - [`delay`]: one direction of a connection, bytes copied with a delay.
//! - [`proxy`]: the listener, one task per accepted connection, shutdown.
//! - [`timer`]: sleeping until a chunk is due, to the microsecond (Linux `timerfd`).
//! - [`metrics`]: connections and bytes per direction, served for Prometheus on
//!   `--metrics-listen`.
//! - [`shutdown`]: waiting for ctrl-c or SIGTERM.
//! - `main.rs`: the command line (`--listen`, `--upstream`, `--delay-ms`, `--metrics-listen`, or
//!   their env vars).

pub mod delay;
pub mod metrics;
pub mod proxy;
pub mod shutdown;
pub mod timer;

pub use proxy::Proxy;
