//! `users`: looked up by email at login; created by the `seed` and `add-user` subcommands.

use deadpool_postgres::Client;
use tokio_postgres::GenericClient;

use crate::domain::Email;

pub struct StoredUser {
    pub id: i64,
    pub password_hash: String,
}

pub async fn find_by_email(
    client: &Client,
    email: &Email,
) -> Result<Option<StoredUser>, tokio_postgres::Error> {
    let statement = client
        .prepare_cached("SELECT id, password_hash FROM users WHERE email = $1")
        .await?;
    let row = client.query_opt(&statement, &[&email.as_str()]).await?;
    Ok(row.map(|row| StoredUser {
        id: row.get(0),
        password_hash: row.get(1),
    }))
}

/// Replaces a user's password hash with `new_hash` (a rehash with the current parameters) if it
/// is still `old_hash`. Returns false if the hash changed since it was read (another login's
/// rehash, or a new password): that newer hash is kept, never overwritten by a stale rehash.
pub async fn replace_password_hash(
    client: &Client,
    id: i64,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool, tokio_postgres::Error> {
    let updated = client
        .execute(
            "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
            &[&id, &old_hash, &new_hash],
        )
        .await?;
    Ok(updated == 1)
}

/// Inserts a user; returns `None` if the email is taken. Any client: the commands that add
/// users run outside the pools ([`crate::db::connect_one`]).
pub async fn insert(
    client: &impl GenericClient,
    email: &Email,
    password_hash: &str,
) -> Result<Option<i64>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "INSERT INTO users (email, password_hash) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING id",
            &[&email.as_str(), &password_hash],
        )
        .await?;
    Ok(row.map(|row| row.get(0)))
}
