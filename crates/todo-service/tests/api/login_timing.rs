//! Login timing must not tell which emails exist, also after the Argon2 cost was raised: users
//! whose hashes still carry the old, cheaper parameters are the case `bench/login-timing.sh`
//! measures by hand (issue 21: a wrong password 1.9 ms, an unknown email 18.2 ms).
//!
//! Times are compared as a ratio of medians inside one run, never against absolute figures, so
//! the test holds on a slow or busy machine; the two kinds of attempt alternate, so a burst of
//! load elsewhere slows both alike.

use std::time::{Duration, Instant};

use clap::Parser;
use todo_service::config::{AddUserConfig, Cli, HashingConfig};
use todo_service::pools::PoolMode;
use todo_service::seed;

use crate::helpers::{assert_error, serve_config, spawn_app_hashing, TestApp};

/// Accounts hashed at the old cost, and as many unknown emails.
const ACCOUNTS: usize = 7;
/// Attempts of each kind per account.
const ROUNDS: usize = 3;
const PASSWORD: &str = "old-password";

/// The cost the users were hashed with before the raise, as in the issue: 1 MiB, one pass.
fn old_hashing() -> HashingConfig {
    HashingConfig {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        argon2_parallelism: 1,
    }
}

/// The service's default cost, read from its own command line (no flags given).
fn default_hashing() -> HashingConfig {
    Cli::try_parse_from(["todo-service", "migrate"])
        .expect("no flags needed")
        .hashing
}

/// Sends a login that must fail with 401 and returns how long the answer took.
async fn failed_login(app: &TestApp, email: &str) -> Duration {
    let started = Instant::now();
    let response = app.post_login(email, "not-the-password").await;
    let elapsed = started.elapsed();
    assert_error(response, 401, "invalid_credentials").await;
    elapsed
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn a_wrong_password_for_a_hash_with_older_parameters_takes_as_long_as_an_unknown_email() {
    let mut config = serve_config(PoolMode::Shared);
    // Every attempt here fails on purpose.
    config.login.failures_before_lock = 1_000;
    let app = spawn_app_hashing(config, default_hashing()).await;
    let old_accounts: Vec<String> = (0..ACCOUNTS).map(|i| format!("old{i}@lab.test")).collect();
    for email in &old_accounts {
        let user = AddUserConfig {
            email: email.clone(),
            password: PASSWORD.into(),
        };
        seed::add_user(&app.database_url, &old_hashing(), &user)
            .await
            .unwrap();
    }
    // Warm-up: the first login prepares its statement on a connection.
    failed_login(&app, "warm-up@lab.test").await;

    let (mut wrong_password, mut unknown_email) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for (i, email) in old_accounts.iter().enumerate() {
            wrong_password.push(failed_login(&app, email).await);
            let unknown = format!("nobody{round}-{i}@lab.test");
            unknown_email.push(failed_login(&app, &unknown).await);
        }
    }
    let (wrong_password, unknown_email) = (median(wrong_password), median(unknown_email));
    let ratio = wrong_password.as_secs_f64() / unknown_email.as_secs_f64();
    println!(
        "median wrong password (old hash) {wrong_password:?}, unknown email {unknown_email:?}: \
         ratio {ratio:.2}"
    );
    assert!(
        (0.75..=1.33).contains(&ratio),
        "a wrong password for an old hash took {ratio:.2} times an unknown email's time \
         ({wrong_password:?} against {unknown_email:?})"
    );
}
