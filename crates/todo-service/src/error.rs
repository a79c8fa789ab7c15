//! The one error type of the HTTP API.
//!
//! Every error a client can cause maps to a 4xx with a JSON body
//! `{"error": "<code>", "message": "<human text>"}`. Internal failures are logged in full and
//! answered with a generic 500 body, so no SQL or stack detail reaches a client.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::server::BodyTimeout;

/// `Result` with the API error as its default error type.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body or query string could not be parsed.
    #[error("{0}")]
    BadRequest(String),
    /// Login failed. Deliberately the same for an unknown email and a wrong password.
    #[error("email or password is incorrect")]
    InvalidCredentials,
    /// No session, or an unknown or expired one.
    #[error("a valid session is required: log in, then send the session cookie or a bearer token")]
    Unauthorized,
    #[error("no such endpoint")]
    NotFound,
    #[error("this endpoint does not accept that method")]
    MethodNotAllowed,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The request parsed but a value is out of bounds.
    #[error("{0}")]
    Validation(String),
    /// No database connection could be had within the acquire timeout: the pool is exhausted.
    #[error("the database is busy; retry shortly")]
    DatabaseBusy,
    /// The database cannot be reached (down, restarting, or the connection was lost). Nothing
    /// the client did; the pools reconnect by themselves once it is back.
    #[error("the database is unavailable; retry shortly")]
    DatabaseUnavailable,
    /// Every password-hashing slot stayed busy for the whole bounded wait: too many logins at once.
    #[error("too many logins at once; retry shortly")]
    LoginBusy,
    /// Too many failed logins for this email; the same answer whether or not the account exists.
    #[error("too many failed logins for this email; retry later")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The client did not send the whole request body in time.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// Anything the client did not cause. The inner error is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::InvalidCredentials | Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::DatabaseBusy | Self::DatabaseUnavailable | Self::LoginBusy => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds a client should wait before retrying (`Retry-After`), for the errors that pass.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            // Pool and hashing waits are bounded well under a second; a database restart takes
            // a few seconds, but a short first retry costs nothing.
            Self::DatabaseBusy | Self::DatabaseUnavailable | Self::LoginBusy => Some(1),
            Self::TooManyAttempts { retry_after_secs } => Some((*retry_after_secs).max(1)),
            _ => None,
        }
    }

    /// The stable machine-readable code clients (the UI, k6) switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Validation(_) => "validation_failed",
            Self::DatabaseBusy => "database_busy",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::LoginBusy => "login_busy",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::RequestTimeout => "request_timeout",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(err) = &self {
            tracing::error!(error = ?err, "request failed");
        }
        let body = ErrorBody {
            error: self.code(),
            message: self.to_string(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(err: tokio_postgres::Error) -> Self {
        Self::Internal(err.into())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        // The body stalled past its deadline (`crate::server`): axum sees a body error, nothing
        // the client sent was malformed, so this is a 408, not a 400.
        if caused_by::<BodyTimeout>(&rejection) {
            return Self::RequestTimeout;
        }
        let text = rejection.body_text();
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".into(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY => Self::Validation(text),
            _ => Self::BadRequest(text),
        }
    }
}

/// Whether `error` or anything in its chain of sources is an `E`.
fn caused_by<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| e.is::<E>())
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

/// `axum::Json` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

/// `axum::extract::Query` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct QueryParams<T>(pub T);
