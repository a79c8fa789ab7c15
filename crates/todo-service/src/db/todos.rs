//! `todos`: written by `POST /todos`, read newest first by `GET /todos`.

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

pub async fn insert(
    client: &Client,
    user_id: i64,
    title: &TodoTitle,
) -> Result<Todo, tokio_postgres::Error> {
    let statement = client
        .prepare_cached(
            "INSERT INTO todos (user_id, title) VALUES ($1, $2) RETURNING id, title, completed, created_at",
        )
        .await?;
    Ok(client
        .query_one(&statement, &[&user_id, &title.as_str()])
        .await?
        .into())
}

/// The user's latest todos. `id` breaks ties between todos created in the same microsecond.
pub async fn latest(
    client: &Client,
    user_id: i64,
    limit: TodoLimit,
) -> Result<Vec<Todo>, tokio_postgres::Error> {
    let statement = client
        .prepare_cached(
            "SELECT id, title, completed, created_at FROM todos WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .await?;
    let rows = client.query(&statement, &[&user_id, &limit.get()]).await?;
    Ok(rows.into_iter().map(Todo::from).collect())
}
