//! Session tokens: 256 random bits, sent to the client once; the database keeps only their
//! SHA-256, so a leaked `sessions` table yields no usable token.
//!
//! A request presents its token as `Authorization: Bearer <token>` (k6, scripts) or as the
//! `session` cookie (the browser). The cookie is `HttpOnly` (no script can read it) and
//! `SameSite=Lax` (browsers do not send it on cross-site POSTs); with every write also requiring
//! `Content-Type: application/json`, which a cross-site form cannot send without a CORS preflight
//! this service never grants, cookie-authenticated writes are not open to CSRF.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum_extra::extract::CookieJar;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "session";
const TOKEN_BYTES: usize = 32;

/// A session token as the client holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh token from the operating system's CSPRNG, base64url without padding (43 chars).
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks up: `sessions.id`.
    pub fn digest(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }

    /// The `Set-Cookie` value that hands this token to a browser.
    pub fn cookie(&self, max_age_secs: u32, secure: bool) -> HeaderValue {
        let secure = if secure { "; Secure" } else { "" };
        let cookie = format!(
            "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}",
            self.0
        );
        HeaderValue::from_str(&cookie).expect("base64url tokens are valid header text")
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// Extracts the token a request presents, bearer first, then cookie. A request with neither is
/// rejected 401 before it touches a pool. Whether the token is valid is the handler's query.
impl<S: Send + Sync> FromRequestParts<S> for SessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or(ApiError::Unauthorized)?;
            return Ok(Self(token.to_owned()));
        }
        let jar = CookieJar::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        match jar
            .get(SESSION_COOKIE)
            .map(|c| c.value())
            .filter(|v| !v.is_empty())
        {
            Some(token) => Ok(Self(token.to_owned())),
            None => Err(ApiError::Unauthorized),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_and_stored_only_as_their_digest() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(a.as_str()).unwrap().len(), 32);
        assert_eq!(a.digest().len(), 32);
        assert_ne!(a.digest(), a.as_str().as_bytes());
    }

    #[test]
    fn the_cookie_is_http_only_same_site_lax_and_secure_when_asked() {
        let token = SessionToken::generate();
        let plain = token.cookie(3600, false);
        assert_eq!(
            plain.to_str().unwrap(),
            format!(
                "session={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=3600",
                token.as_str()
            )
        );
        assert!(token
            .cookie(3600, true)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
    }
}
