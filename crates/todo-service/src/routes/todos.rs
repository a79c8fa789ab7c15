//! `POST /todos` and `GET /todos`. Each takes one connection from its endpoint's pool and runs
//! one statement on it, the session check included (see [`crate::db::todos`]), so in isolated
//! mode a read never touches the write pools and holds its connection for one round trip.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::auth::SessionToken;
use crate::db::{todos, todos::Todo};
use crate::domain::{TodoLimit, TodoTitle};
use crate::endpoint::Endpoint;
use crate::error::{ApiError, Expected, JsonBody, QueryParams, Result};

#[derive(Deserialize)]
pub struct CreateTodo {
    title: String,
}

impl Expected for CreateTodo {
    const EXPECTED: &'static str = r#"a JSON object {"title": string}"#;
}

#[derive(Deserialize)]
pub struct ListParams {
    limit: Option<i64>,
}

impl Expected for ListParams {
    const EXPECTED: &'static str = "empty or limit=<an integer from 1 to 100>";
}

#[derive(Serialize)]
pub struct TodoList {
    todos: Vec<Todo>,
}

/// Unknown or expired sessions get 401 and write nothing.
pub async fn create(
    State(app): State<AppState>,
    token: SessionToken,
    JsonBody(request): JsonBody<CreateTodo>,
) -> Result<(StatusCode, Json<Todo>)> {
    let title = TodoTitle::parse(&request.title)?;
    let client = app
        .pools
        .for_endpoint(Endpoint::CreateTodo)
        .acquire()
        .await?;
    let todo = todos::insert_for_session(&client, &token.digest(), &title)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok((StatusCode::CREATED, Json(todo)))
}

/// Unknown or expired sessions get 401.
pub async fn list(
    State(app): State<AppState>,
    token: SessionToken,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<TodoList>> {
    let limit = TodoLimit::parse(params.limit)?;
    let client = app
        .pools
        .for_endpoint(Endpoint::ListTodos)
        .acquire()
        .await?;
    let todos = todos::latest_for_session(&client, &token.digest(), limit)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Json(TodoList { todos }))
}
