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
