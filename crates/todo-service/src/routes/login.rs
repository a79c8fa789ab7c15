//! `POST /login`: checks email and password, writes a session row, returns the token.
//!
//! Bounded work per attempt: a locked email is refused first (429, [`crate::auth::throttle`]),
//! the wait for a hashing slot is bounded (503 `login_busy`), and only a wrong password or an
//! unknown email counts toward the lock.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use deadpool_postgres::Client;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::auth::{SessionToken, Verification};
use crate::db::sessions;
use crate::db::users::{self, StoredUser};
use crate::domain::{Email, Password};
use crate::endpoint::Endpoint;
use crate::error::{ApiError, Expected, JsonBody, Result};

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
    // A locked email costs no database query and no hash.
    app.throttle.check(&email)?;
    let pool = app.pools.for_endpoint(Endpoint::Login);

    // The connection goes back to the pool before the (slow) hash check.
    let user = {
        let client = pool.acquire().await?;
        users::find_by_email(&client, &email).await?
    };
    let slot = app.hasher.slot().await?;
    // Failures recorded while this attempt waited for its slot count too: checking again bounds
    // the guesses of a burst of concurrent attempts by the number of slots, not by the wait.
    app.throttle.check(&email)?;
    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    let verification = slot.verify(&password, stored_hash).await?;
    let (user, rehashed) = match (user, verification) {
        (Some(user), Verification::Accepted { rehashed }) => (user, rehashed),
        _ => {
            app.throttle.record_failure(&email);
            return Err(ApiError::InvalidCredentials);
        }
    };
    app.throttle.record_success(&email);

    let token = SessionToken::generate();
    let expires_at = {
        let client = pool.acquire().await?;
        let expires_at =
            sessions::insert(&client, &token.digest(), user.id, app.session_ttl_secs).await?;
        if let Some(new_hash) = rehashed {
            store_rehash(&client, &user, &new_hash).await;
        }
        expires_at
    };
    let cookie = token.cookie(app.session_ttl_secs, app.cookie_secure);
    let body = LoginResponse {
        token: token.as_str().to_owned(),
        expires_at,
        user_id: user.id,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Stores the rehash of a password whose stored hash had outdated parameters. Best effort: the
/// login stands either way, and the next successful login tries again.
async fn store_rehash(client: &Client, user: &StoredUser, new_hash: &str) {
    match users::replace_password_hash(client, user.id, &user.password_hash, new_hash).await {
        Ok(true) => tracing::info!(
            user_id = user.id,
            "password rehashed with the current parameters"
        ),
        Ok(false) => tracing::info!(
            user_id = user.id,
            "password hash changed meanwhile; rehash dropped"
        ),
        Err(err) => {
            tracing::warn!(user_id = user.id, error = %err, "storing the rehashed password failed")
        }
    }
}
