//! The public API: exactly three endpoints.

mod login;
mod todos;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::{middleware, Router};

use crate::auth::{LoginThrottle, PasswordHasher};
use crate::error::ApiError;
use crate::metrics::{self, Metrics};
use crate::pools::Pools;

/// Request bodies are a title or an email and password: 16 KiB is generous.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub pools: Pools,
    pub hasher: PasswordHasher,
    pub throttle: LoginThrottle,
    pub session_ttl_secs: u32,
    pub cookie_secure: bool,
}

pub fn router(state: AppState, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/login", post(login::login))
        .route("/todos", post(todos::create).get(todos::list))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route_layer(middleware::from_fn_with_state(metrics, metrics::track_http))
        .with_state(state)
}
