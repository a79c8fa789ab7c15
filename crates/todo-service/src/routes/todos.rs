//! `POST /todos` and `GET /todos`. Each takes one connection from its endpoint's pool and uses
//! it for the session lookup and the query, so in isolated mode a read never touches the
//! write pools.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use deadpool_postgres::Object;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::auth::SessionToken;
use crate::db::{sessions, todos, todos::Todo};
use crate::domain::{TodoLimit, TodoTitle};
use crate::error::{ApiError, JsonBody, QueryParams, Result};
use crate::pools::Endpoint;

#[derive(Deserialize)]
pub struct CreateTodo {
    title: String,
}

#[derive(Deserialize)]
pub struct ListParams {
    limit: Option<i64>,
}

#[derive(Serialize)]
pub struct TodoList {
    todos: Vec<Todo>,
}

pub async fn create(
    State(app): State<AppState>,
    token: SessionToken,
    JsonBody(request): JsonBody<CreateTodo>,
) -> Result<(StatusCode, Json<Todo>)> {
    let title = TodoTitle::parse(&request.title)?;
    let (client, user_id) = connect_as_session_user(&app, Endpoint::CreateTodo, &token).await?;
    let todo = todos::insert(&client, user_id, &title).await?;
    Ok((StatusCode::CREATED, Json(todo)))
}

pub async fn list(
    State(app): State<AppState>,
    token: SessionToken,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<TodoList>> {
    let limit = TodoLimit::parse(params.limit)?;
    let (client, user_id) = connect_as_session_user(&app, Endpoint::ListTodos, &token).await?;
    let todos = todos::latest(&client, user_id, limit).await?;
    Ok(Json(TodoList { todos }))
}

/// Takes a connection from `endpoint`'s pool and resolves the session through it, so that the
/// session lookup never touches another endpoint's pool. Unknown or expired sessions get 401.
async fn connect_as_session_user(
    app: &AppState,
    endpoint: Endpoint,
    token: &SessionToken,
) -> Result<(Object, i64)> {
    let client = app.pools.for_endpoint(endpoint).acquire().await?;
    let user_id = sessions::user_for(&client, &token.digest())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok((client, user_id))
}
