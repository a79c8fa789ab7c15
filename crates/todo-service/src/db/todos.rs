//! `todos`: written by `POST /todos`, read newest first by `GET /todos`.
//!
//! Both statements take the session token's digest and check the session themselves
//! (`sessions.id = digest AND expires_at > now()`, as [`crate::db::sessions`] describes). Why: a
//! request then holds its connection for one round trip instead of two (session lookup, then the
//! todo query). With the database a network hop away that round trip is most of a todo
//! request's hold time, and a pool's capacity is its connections divided by that hold time.
//! Each returns `None` for an unknown or expired session, having done nothing.

use chrono::{DateTime, Utc};
use deadpool_postgres::Client;
use serde::Serialize;
use tokio_postgres::Row;

use crate::domain::{TodoLimit, TodoTitle};

#[derive(Debug, Clone, Serialize)]
pub struct Todo {
    pub id: i64,
    pub title: String,
    pub completed: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Row> for Todo {
    fn from(row: Row) -> Self {
        Self {
            id: row.get(0),
            title: row.get(1),
            completed: row.get(2),
            created_at: row.get(3),
        }
    }
}

/// Adds a todo for the user of the live session `token_digest`. The `INSERT ... SELECT` inserts
/// nothing when no live session matches, so an expired token cannot write.
pub async fn insert_for_session(
    client: &Client,
    token_digest: &[u8],
    title: &TodoTitle,
) -> Result<Option<Todo>, tokio_postgres::Error> {
    let statement = client
        .prepare_cached(
            "INSERT INTO todos (user_id, title) \
             SELECT user_id, $2::text FROM sessions WHERE id = $1 AND expires_at > now() \
             RETURNING id, title, completed, created_at",
        )
        .await?;
    let row = client
        .query_opt(&statement, &[&token_digest, &title.as_str()])
        .await?;
    Ok(row.map(Todo::from))
}

/// The latest todos of the live session's user, newest first; `id` breaks ties between todos
/// created in the same microsecond.
///
/// The session row (at most one: `id` is the key) is left-joined to its user's newest `limit`
/// todos, which the `(user_id, created_at DESC, id DESC)` index yields without a sort. No row
/// means no live session; a user without todos still gets the session's row, with NULL todo
/// columns, so "no session" and "no todos" stay apart. The outer `ORDER BY` states the order
/// instead of relying on the join keeping the subquery's (it sorts at most `limit` rows).
pub async fn latest_for_session(
    client: &Client,
    token_digest: &[u8],
    limit: TodoLimit,
) -> Result<Option<Vec<Todo>>, tokio_postgres::Error> {
    let statement = client
        .prepare_cached(
            "SELECT t.id, t.title, t.completed, t.created_at FROM sessions s \
             LEFT JOIN LATERAL ( \
                 SELECT id, title, completed, created_at FROM todos WHERE user_id = s.user_id \
                 ORDER BY created_at DESC, id DESC LIMIT $2) t ON true \
             WHERE s.id = $1 AND s.expires_at > now() \
             ORDER BY t.created_at DESC, t.id DESC",
        )
        .await?;
    let rows = client
        .query(&statement, &[&token_digest, &limit.get()])
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let todos = rows
        .into_iter()
        .filter(|row| row.get::<_, Option<i64>>(0).is_some())
        .map(Todo::from)
        .collect();
    Ok(Some(todos))
}
