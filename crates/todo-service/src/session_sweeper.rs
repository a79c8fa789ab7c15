//! Deletes expired sessions in the background, so the `sessions` table does not grow with every
//! login forever (10,000 logins used to leave 10,000 rows, nothing ever removed them).
//!
//! Every `interval` it opens a connection of its own, deletes expired sessions in batches of
//! [`BATCH`] until a batch comes back short, and closes the connection. Why its own connection
//! and not one from the pools: the pools' sizes and hold times are what the lab measures, and a
//! sweep must neither take a connection from a request nor appear in their numbers. Why batches:
//! one `DELETE` of a million rows would hold its locks and bloat WAL in one go; small ones
//! interleave with logins.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;

use crate::db::{self, sessions};
use crate::metrics::Metrics;

/// Expired sessions deleted per statement.
pub const BATCH: i64 = 1_000;

/// Starts sweeping every `interval` (the first sweep one interval after the start). Abort the
/// returned handle to stop it.
pub fn spawn(database_url: String, interval: Duration, metrics: Arc<Metrics>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate
        loop {
            ticks.tick().await;
            match sweep(&database_url).await {
                Ok(deleted) => {
                    metrics.sessions_expired_deleted_total.inc_by(deleted);
                    if deleted > 0 {
                        tracing::debug!(deleted, "deleted expired sessions");
                    }
                }
                // Once per interval at most: no storm while the database is down.
                Err(err) => tracing::warn!(error = format!("{err:#}"), "session sweep failed"),
            }
        }
    })
}

/// One sweep: every expired session, in batches. Returns how many were deleted.
pub async fn sweep(database_url: &str) -> anyhow::Result<u64> {
    let client = db::connect_one(database_url, "session-sweeper").await?;
    let mut deleted = 0;
    loop {
        let batch = sessions::delete_expired_batch(&client, BATCH)
            .await
            .context("deleting expired sessions")?;
        deleted += batch;
        if batch < BATCH as u64 {
            break;
        }
    }
    Ok(deleted)
}
