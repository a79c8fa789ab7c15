//! `sessions`: one row per login, keyed by the SHA-256 of the session token.

use chrono::{DateTime, Utc};
use deadpool_postgres::Client;

/// Stores a session; it expires `ttl_secs` after now by the database's clock, the same clock
/// [`user_for`] compares against.
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

/// The user a live session belongs to; `None` for an unknown or expired token.
pub async fn user_for(
    client: &Client,
    token_digest: &[u8],
) -> Result<Option<i64>, tokio_postgres::Error> {
    let statement = client
        .prepare_cached("SELECT user_id FROM sessions WHERE id = $1 AND expires_at > now()")
        .await?;
    let row = client.query_opt(&statement, &[&token_digest]).await?;
    Ok(row.map(|row| row.get(0)))
}
