//! `POST /login`: checks email and password, writes a session row, returns the token.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::auth::SessionToken;
use crate::db::{sessions, users};
use crate::domain::{Email, Password};
use crate::error::{ApiError, Expected, JsonBody, Result};
use crate::pools::Endpoint;

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
}

impl Expected for LoginRequest {
    const EXPECTED: &'static str = r#"a JSON object {"email": string, "password": string}"#;
}

#[derive(Serialize)]
struct LoginResponse {
    token: String,
    expires_at: DateTime<Utc>,
    user_id: i64,
}

pub async fn login(
    State(app): State<AppState>,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Response> {
    let email = Email::parse(&request.email)?;
    let password = Password::parse(request.password)?;
    let pool = app.pools.for_endpoint(Endpoint::Login);

    // The connection goes back to the pool before the (slow) hash check.
    let user = {
        let client = pool.acquire().await?;
        users::find_by_email(&client, &email).await?
    };
    let (user_id, stored_hash) = match user {
        Some(user) => (Some(user.id), Some(user.password_hash)),
        None => (None, None),
    };
    let verified = app
        .hasher
        .verify(&password, stored_hash)
        .await
        .map_err(ApiError::Internal)?;
    let user_id = match (user_id, verified) {
        (Some(id), true) => id,
        _ => return Err(ApiError::InvalidCredentials),
    };

    let token = SessionToken::generate();
    let expires_at = {
        let client = pool.acquire().await?;
        sessions::insert(&client, &token.digest(), user_id, app.session_ttl_secs).await?
    };
    let cookie = token.cookie(app.session_ttl_secs, app.cookie_secure);
    let body = LoginResponse {
        token: token.as_str().to_owned(),
        expires_at,
        user_id,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}
