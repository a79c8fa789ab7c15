//! The database: how the service connects, versioned migrations (refinery, SQL files in
//! `migrations/`) and the queries each endpoint runs, one module per table. The endpoints' queries
//! take a pooled client so statements are prepared once per connection and reused.

pub mod sessions;
pub mod todos;
pub mod users;

use std::time::Duration;

use anyhow::Context;
use tokio_postgres::{Client, NoTls};

/// How long opening one database connection may take before it fails, for the pools' and
/// one-off connections alike.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connection settings from `database_url`, with the connect timeout and the application name
/// `todo-service/<role>`: `pg_stat_activity` (and the lab's Postgres exporter) then shows what
/// each backend is for, a pool (`shared`, `login`, ...) or a one-off job (`migrate`, ...).
pub fn connection_config(database_url: &str, role: &str) -> anyhow::Result<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config =
        database_url.parse().context("parsing the database URL")?;
    config.application_name(format!("todo-service/{role}"));
    config.connect_timeout(CONNECT_TIMEOUT);
    Ok(config)
}

/// Opens a connection of its own, outside the pools, for work that must neither take a
/// request's connection nor show in the pools' numbers: migrations, the session sweeper, the
/// `seed` and `add-user` commands. Its connection task runs in the background and ends when the
/// returned client is dropped.
pub async fn connect_one(database_url: &str, role: &str) -> anyhow::Result<Client> {
    let (client, connection) = connection_config(database_url, role)?
        .connect(NoTls)
        .await
        .with_context(|| format!("connecting to the database ({role})"))?;
    let role = role.to_owned();
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::warn!(role, error = %err, "one-off database connection failed");
        }
    });
    Ok(client)
}

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// True if `err` means the database is out of reach rather than that a statement failed: the
/// connection closed (Postgres stopped or restarted, or the network dropped it), connecting
/// failed, or the server said it is shutting down or not yet accepting connections. Such errors
/// answer 503, and the pools replace the closed connections by themselves on the next acquire.
pub fn is_connection_lost(err: &tokio_postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    if let Some(code) = err.code() {
        let code = code.code();
        // 08: connection exception; 57P01..57P03: admin or crash shutdown, cannot connect now.
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03");
    }
    // Connecting or talking to the server failed at the socket level.
    std::iter::successors(std::error::Error::source(err), |cause| cause.source())
        .any(|cause| cause.is::<std::io::Error>())
}

/// Applies any migration not yet applied. Safe to run on every start.
pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let mut client = connect_one(database_url, "migrate").await?;
    let report = embedded::migrations::runner()
        .run_async(&mut client)
        .await
        .context("applying migrations")?;
    for migration in report.applied_migrations() {
        tracing::info!(migration = %migration, "applied migration");
    }
    Ok(())
}
