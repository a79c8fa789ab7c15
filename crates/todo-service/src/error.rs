//! The one error type of the HTTP API.
//!
//! Every error a client can cause maps to a 4xx with a JSON body
//! `{"error": "<code>", "message": "<human text>"}` in the API's own words (never a Rust type
//! name). A database out of reach answers 503 `database_unavailable`; any other internal failure
//! a generic 500. Neither sends SQL or stack detail; both log their cause, rate-limited
//! ([`crate::error_log`]).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::server::BodyTimeout;
use crate::{db, error_log};

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

    /// Every code [`ApiError::code`] can produce, in variant order. The OpenAPI document's error
    /// enum is checked against this list (tests/api/openapi.rs), and this list against the
    /// variants (the unit test below), so the documented codes cannot drift from the code.
    pub const ALL_CODES: [&'static str; 14] = [
        "bad_request",
        "invalid_credentials",
        "unauthorized",
        "not_found",
        "method_not_allowed",
        "payload_too_large",
        "unsupported_media_type",
        "validation_failed",
        "database_busy",
        "database_unavailable",
        "login_busy",
        "too_many_attempts",
        "request_timeout",
        "internal",
    ];

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
            error_log::internal(err);
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

/// A database error is either the database being out of reach (503, the pools reconnect by
/// themselves) or something else (500). Either way its cause is logged, rate-limited.
impl From<tokio_postgres::Error> for ApiError {
    fn from(err: tokio_postgres::Error) -> Self {
        if db::is_connection_lost(&err) {
            Self::database_unavailable(err.into())
        } else {
            Self::Internal(err.into())
        }
    }
}

impl ApiError {
    /// [`ApiError::DatabaseUnavailable`], its cause logged (rate-limited) since it is not sent.
    pub fn database_unavailable(cause: anyhow::Error) -> Self {
        error_log::database_unavailable(&cause);
        Self::DatabaseUnavailable
    }
}

/// What a request body or query string must look like, in the API's own words. A rejection
/// says this instead of serde's message, which names Rust types ("expected struct ...").
pub trait Expected {
    /// Completes "the body must be ..." / "the query string must be ...".
    const EXPECTED: &'static str;
}

/// `axum::Json` whose rejections answer in the API's error format and words.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Expected,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection, T::EXPECTED)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection, expected: &str) -> ApiError {
    // The body stalled past its deadline (`crate::server`): axum sees a body error, but nothing
    // the client sent was malformed, so this is a 408, not a 400.
    if caused_by::<BodyTimeout>(rejection) {
        return ApiError::RequestTimeout;
    }
    match rejection {
        JsonRejection::JsonDataError(_) => {
            ApiError::Validation(format!("the body must be {expected}"))
        }
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::BadRequest(format!("the body is not valid JSON; send {expected}"))
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json".into(),
        ),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest("the request body could not be read".into()),
    }
}

/// Whether `error` or anything in its chain of sources is an `E`.
fn caused_by<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| e.is::<E>())
}

/// `axum::extract::Query` whose rejections answer in the API's error format and words.
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Expected,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(_) => Err(ApiError::BadRequest(format!(
                "the query string must be {}",
                T::EXPECTED
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of each variant, in declaration order.
    fn one_of_each() -> Vec<ApiError> {
        vec![
            ApiError::BadRequest(String::new()),
            ApiError::InvalidCredentials,
            ApiError::Unauthorized,
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::PayloadTooLarge,
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::Validation(String::new()),
            ApiError::DatabaseBusy,
            ApiError::DatabaseUnavailable,
            ApiError::LoginBusy,
            ApiError::TooManyAttempts {
                retry_after_secs: 1,
            },
            ApiError::RequestTimeout,
            ApiError::Internal(anyhow::anyhow!("test")),
        ]
    }

    /// Compiles only while it names every variant (no wildcard): adding a variant breaks it,
    /// which is the reminder to add that variant to [`one_of_each`] and its code to
    /// [`ApiError::ALL_CODES`].
    fn names_every_variant(error: &ApiError) {
        match error {
            ApiError::BadRequest(_)
            | ApiError::InvalidCredentials
            | ApiError::Unauthorized
            | ApiError::NotFound
            | ApiError::MethodNotAllowed
            | ApiError::PayloadTooLarge
            | ApiError::UnsupportedMediaType(_)
            | ApiError::Validation(_)
            | ApiError::DatabaseBusy
            | ApiError::DatabaseUnavailable
            | ApiError::LoginBusy
            | ApiError::TooManyAttempts { .. }
            | ApiError::RequestTimeout
            | ApiError::Internal(_) => {}
        }
    }

    #[test]
    fn all_codes_lists_the_code_of_every_variant_once() {
        let errors = one_of_each();
        errors.iter().for_each(names_every_variant);
        let codes: Vec<&str> = errors.iter().map(ApiError::code).collect();
        assert_eq!(codes, ApiError::ALL_CODES);
    }
}
