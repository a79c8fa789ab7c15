//! Validated request values. Each `parse` is the only way to build one, so a handler holding an
//! `Email` or a `TodoTitle` knows it is within bounds.

use crate::error::ApiError;

/// Longest email we accept (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;
/// Bounds the Argon2 input; longer passwords only cost CPU.
const MAX_PASSWORD_CHARS: usize = 1024;
pub const MAX_TITLE_CHARS: usize = 200;
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// A trimmed, lower-cased address with a local part and a domain, without whitespace or control
/// characters (NUL cannot reach Postgres: it is not valid in a `text` value).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let email = raw.trim().to_lowercase();
        let well_formed = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            }
            None => false,
        };
        if !well_formed
            || email.chars().count() > MAX_EMAIL_CHARS
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ApiError::Validation(
                "email must look like name@example.com".into(),
            ));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A non-empty password of bounded length. Not trimmed: spaces may be part of it. Any character is
/// allowed, NUL included: a password only ever goes to the hash function, never to Postgres.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: String) -> Result<Self, ApiError> {
        if raw.is_empty() || raw.chars().count() > MAX_PASSWORD_CHARS {
            return Err(ApiError::Validation(format!(
                "password must be 1 to {MAX_PASSWORD_CHARS} characters"
            )));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A todo title, trimmed, 1 to 200 characters, none of them a control character.
///
/// Why no control characters: NUL cannot be stored in a Postgres `text` at all (the insert would
/// fail), and the others (line breaks, escapes) have no place in a one-line title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoTitle(String);

impl TodoTitle {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let title = raw.trim();
        let chars = title.chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS {
            return Err(ApiError::Validation(format!(
                "title must be 1 to {MAX_TITLE_CHARS} characters after trimming"
            )));
        }
        if title.chars().any(char::is_control) {
            return Err(ApiError::Validation(
                "title must not contain control characters (NUL, line breaks, tabs, escapes)"
                    .into(),
            ));
        }
        Ok(Self(title.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many todos `GET /todos` returns: 1 to 100, 20 when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TodoLimit(i64);

impl TodoLimit {
    pub fn parse(raw: Option<i64>) -> Result<Self, ApiError> {
        match raw {
            None => Ok(Self(DEFAULT_LIMIT)),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(Self(n)),
            Some(_) => Err(ApiError::Validation(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            ))),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Demo@Lab.Test ").unwrap().as_str(),
            "demo@lab.test"
        );
    }

    #[test]
    fn email_without_local_part_or_domain_is_rejected() {
        for bad in [
            "",
            "demo",
            "@lab.test",
            "demo@",
            "a@b@c",
            "de mo@lab.test",
            "de\0mo@lab.test",
            "demo@lab\u{1b}.test",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn title_is_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(
            TodoTitle::parse("  buy milk \n").unwrap().as_str(),
            "buy milk"
        );
        assert!(TodoTitle::parse("   ").is_err());
        assert!(TodoTitle::parse(&"é".repeat(200)).is_ok());
        assert!(TodoTitle::parse(&"é".repeat(201)).is_err());
    }

    #[test]
    fn titles_with_nul_or_other_control_characters_are_rejected() {
        for bad in [
            "a\0b",
            "line\nbreak",
            "tab\tin",
            "esc\u{1b}[0m",
            "del\u{7f}",
            "c1\u{85}x",
        ] {
            assert!(TodoTitle::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(TodoTitle::parse("ünïcödé ✓ 日本").is_ok());
    }

    #[test]
    fn limit_defaults_to_20_and_accepts_1_to_100() {
        assert_eq!(TodoLimit::parse(None).unwrap().get(), 20);
        assert_eq!(TodoLimit::parse(Some(1)).unwrap().get(), 1);
        assert_eq!(TodoLimit::parse(Some(100)).unwrap().get(), 100);
        assert!(TodoLimit::parse(Some(0)).is_err());
        assert!(TodoLimit::parse(Some(101)).is_err());
    }

    #[test]
    fn password_is_kept_verbatim_but_bounded() {
        assert_eq!(Password::parse(" pw ".into()).unwrap().expose(), " pw ");
        assert!(Password::parse(String::new()).is_err());
        assert!(Password::parse("x".repeat(1025)).is_err());
    }
}
