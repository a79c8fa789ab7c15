//! `sessions`: one row per login, keyed by the SHA-256 of the session token.
//!
//! A session is live while `expires_at > now()` by the database's clock. The todo endpoints check
//! that inside their own statement (see [`crate::db::todos`]), so a todo request is one round
//! trip, not a session lookup followed by the todo query. Expired rows are deleted in the
//! background by [`crate::session_sweeper`].

use chrono::{DateTime, Utc};
use deadpool_postgres::Client;
use tokio_postgres::GenericClient;

/// Stores a session; it expires `ttl_secs` after now by the database's clock, the same clock
/// the todo statements compare against.
pub async fn insert(
    client: &Client,
    token_digest: &[u8],
    user_id: i64,
    ttl_secs: u32,
) -> Result<DateTime<Utc>, tokio_postgres::Error> {
    let statement = client
        .prepare_cached(
            "INSERT INTO sessions (id, user_id, expires_at) \
             VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at",
        )
        .await?;
    let row = client
        .query_one(&statement, &[&token_digest, &user_id, &f64::from(ttl_secs)])
        .await?;
    Ok(row.get(0))
}

/// Deletes at most `batch` expired sessions; returns how many it deleted. One short statement
/// (its own transaction), so it holds row locks briefly and never blocks logins for long.
pub async fn delete_expired_batch(
    client: &impl GenericClient,
    batch: i64,
) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "DELETE FROM sessions WHERE id IN \
             (SELECT id FROM sessions WHERE expires_at <= now() LIMIT $1)",
            &[&batch],
        )
        .await
}
