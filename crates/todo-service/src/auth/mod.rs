//! Authentication: password hashing, the brute-force limit and session tokens.

pub mod password;
pub mod session;
pub mod throttle;

pub use password::{PasswordHasher, Verification};
pub use session::{SessionToken, SESSION_COOKIE};
pub use throttle::LoginThrottle;
