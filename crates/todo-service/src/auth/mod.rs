//! Authentication: password hashing and session tokens.

pub mod password;
pub mod session;

pub use password::{PasswordHasher, Verification};
pub use session::{SessionToken, SESSION_COOKIE};
