//! The todo service under test in the pool-isolation lab.
//!
//! Three endpoints over PostgreSQL: `POST /login` (writes a session row), `POST /todos` (writes a
//! todo) and `GET /todos` (reads the latest todos: the path the lab protects). Every database query
//! goes through a connection pool chosen by [`pools::Pools::for_endpoint`]: one shared pool in
//! [`pools::PoolMode::Shared`] ("Act I"), or one pool per endpoint in
//! [`pools::PoolMode::Isolated`] ("Act III").
//!
//! # Layout
//!
//! - [`config`]: command line and environment options, including pool sizes.
//! - [`pools`]: the pool-mode decision and the instrumented connection acquire.
//! - [`auth`]: password hashing (Argon2id on a bounded blocking pool) and session tokens.
//! - [`domain`]: validated request values (`Email`, `TodoTitle`, `TodoLimit`).
//! - [`db`]: connection settings and one-off connections, migrations, the SQL each endpoint runs.
//! - [`routes`]: the HTTP handlers, one file per endpoint family.
//! - [`error`]: the one API error type and its JSON body.
//! - [`error_log`]: rate-limited logging of failures that can repeat on every request.
//! - [`endpoint`]: the three endpoints, as pools, handlers and metrics name them.
//! - [`metrics`]: Prometheus metrics, the request-tracking middleware and the text encoding.
//! - [`metrics_listener`]: the separate listener for `/metrics`, `/health` and `/openapi.json`.
//! - [`session_sweeper`]: deletes expired sessions in the background, in small batches.
//! - [`server`]: accepts and serves connections under limits (timeouts, a cap, bounded shutdown).
//! - [`startup`]: binds the listeners and runs the service until a shutdown signal.
//! - [`seed`]: the `seed` and `add-user` subcommands.

pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod endpoint;
pub mod error;
pub mod error_log;
pub mod metrics;
pub mod metrics_listener;
pub mod pools;
pub mod routes;
pub mod seed;
pub mod server;
pub mod session_sweeper;
pub mod startup;
