//! The database: versioned migrations (refinery, SQL files in `migrations/`) and the queries each
//! endpoint runs, one module per table. Queries take a pooled client so statements are prepared
//! once per connection and reused.

pub mod sessions;
pub mod todos;
pub mod users;

use anyhow::Context;
use tokio_postgres::NoTls;

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
    let (mut client, connection) = tokio_postgres::connect(database_url, NoTls)
        .await
        .context("connecting to the database to migrate it")?;
    let connection = tokio::spawn(connection);
    let report = embedded::migrations::runner()
        .run_async(&mut client)
        .await
        .context("applying migrations")?;
    for migration in report.applied_migrations() {
        tracing::info!(migration = %migration, "applied migration");
    }
    drop(client);
    connection
        .await
        .context("migration connection task")?
        .context("migration connection")?;
    Ok(())
}
