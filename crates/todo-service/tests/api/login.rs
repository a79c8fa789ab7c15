use std::time::Duration;

use reqwest::{header, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};
use todo_service::config::{HashingConfig, ServeConfig};
use todo_service::db::users;
use todo_service::pools::PoolMode;
use todo_service::seed::{DEMO_EMAIL, DEMO_PASSWORD};
use tokio::task::JoinSet;
use tokio_postgres::NoTls;

use crate::helpers::{
    assert_error, cheap_hashing, serve_config, spawn_app, spawn_app_counting_statements,
    spawn_app_hashing, spawn_app_with, TestApp, SEED_PASSWORD,
};

#[tokio::test]
async fn login_returns_a_token_its_expiry_and_the_user_id() {
    let app = spawn_app().await;
    let response = app.post_login(DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["token"].as_str().unwrap().len(),
        43,
        "256 bits in base64url"
    );
    assert!(body["user_id"].as_i64().unwrap() > 0);
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert!(expires_at > chrono::Utc::now() + chrono::Duration::minutes(59));
}

#[tokio::test]
async fn login_sets_an_http_only_same_site_session_cookie() {
    let app = spawn_app().await;
    let response = app.post_login(DEMO_EMAIL, DEMO_PASSWORD).await;
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        cookie,
        format!(
            "session={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=3600",
            body["token"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn the_cookie_is_secure_when_configured() {
    let mut config = serve_config(PoolMode::Shared);
    config.cookie_secure = true;
    let app = spawn_app_with(config).await;
    let response = app.post_login(DEMO_EMAIL, DEMO_PASSWORD).await;
    assert!(response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .ends_with("; Secure"));
}

#[tokio::test]
async fn emails_are_matched_case_insensitively_and_seeded_users_can_log_in() {
    let app = spawn_app().await;
    app.login("  DEMO@lab.test ", DEMO_PASSWORD).await;
    app.login("user3@lab.test", SEED_PASSWORD).await;
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_401() {
    let app = spawn_app().await;
    let unknown = assert_error(
        app.post_login("nobody@lab.test", DEMO_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    let wrong = assert_error(
        app.post_login(DEMO_EMAIL, "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(unknown, wrong);
}

#[tokio::test]
async fn a_failed_login_creates_no_session() {
    let app = spawn_app().await;
    app.post_login(DEMO_EMAIL, "not-the-password").await;
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn the_database_stores_only_the_tokens_sha256() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    let db = app.db().await;
    let ids: Vec<Vec<u8>> = db
        .query("SELECT id FROM sessions", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![Sha256::digest(token.as_bytes()).to_vec()]);
}

#[tokio::test]
async fn each_login_creates_a_new_session_row() {
    let app = spawn_app().await;
    let first = app.login_demo().await;
    let second = app.login_demo().await;
    assert_ne!(first, second);
    assert_eq!(app.session_count().await, 2);
}

#[tokio::test]
async fn malformed_login_bodies_get_clear_4xx_json_errors() {
    let app = spawn_app().await;
    let url = format!("{}/login", app.address);
    let send = |content_type: &'static str, body: String| {
        app.http
            .post(&url)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    assert_error(
        send("application/json", "{\"email\":".into())
            .await
            .unwrap(),
        400,
        "bad_request",
    )
    .await;
    assert_error(
        send("text/plain", "{}".into()).await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    assert_error(
        send("application/json", "{\"email\":\"demo@lab.test\"}".into())
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        send(
            "application/json",
            "{\"email\":\"nope\",\"password\":\"x\"}".into(),
        )
        .await
        .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        send(
            "application/json",
            "{\"email\":\"demo@lab.test\",\"password\":\"\"}".into(),
        )
        .await
        .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let huge = format!(
        "{{\"email\":\"demo@lab.test\",\"password\":\"{}\"}}",
        "x".repeat(20_000)
    );
    assert_error(
        send("application/json", huge).await.unwrap(),
        413,
        "payload_too_large",
    )
    .await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let app = spawn_app().await;
    let missing = app
        .http
        .get(format!("{}/signup", app.address))
        .send()
        .await
        .unwrap();
    assert_error(missing, 404, "not_found").await;
    let wrong_method = app
        .http
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();
    assert_error(wrong_method, 405, "method_not_allowed").await;
}

/// The seeded users' hashes carry [`cheap_hashing`]'s parameters: m=256, t=1.
const SEEDED_PARAMS: &str = "$argon2id$v=19$m=256,t=1,p=1$";

/// The parameters a service started after a cost increase hashes with.
fn raised_hashing() -> HashingConfig {
    HashingConfig {
        argon2_memory_kib: 512,
        argon2_iterations: 2,
        ..cheap_hashing()
    }
}

const RAISED_PARAMS: &str = "$argon2id$v=19$m=512,t=2,p=1$";

#[tokio::test]
async fn a_successful_login_rehashes_a_password_stored_with_older_parameters() {
    let app = spawn_app_hashing(serve_config(PoolMode::Shared), raised_hashing()).await;
    assert!(app
        .password_hash("user1@lab.test")
        .await
        .starts_with(SEEDED_PARAMS));

    app.login("user1@lab.test", SEED_PASSWORD).await;
    let rehashed = app.password_hash("user1@lab.test").await;
    assert!(rehashed.starts_with(RAISED_PARAMS), "{rehashed}");
    assert!(
        app.password_hash("user2@lab.test")
            .await
            .starts_with(SEEDED_PARAMS),
        "only the user who logged in is rehashed"
    );

    // A wrong password now verifies against a hash with the service's parameters, as an unknown
    // email does (the dummy hash has them too), and changes nothing.
    assert_error(
        app.post_login("user1@lab.test", "wrong").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(app.password_hash("user1@lab.test").await, rehashed);
    app.login("user1@lab.test", SEED_PASSWORD).await;
    assert_eq!(
        app.password_hash("user1@lab.test").await,
        rehashed,
        "a current hash is not rehashed again"
    );
}

#[tokio::test]
async fn a_rehash_never_overwrites_a_hash_that_changed_since_it_was_read() {
    let app = spawn_app().await;
    let config: tokio_postgres::Config = app.database_url.parse().unwrap();
    let pool = deadpool_postgres::Pool::builder(deadpool_postgres::Manager::new(config, NoTls))
        .max_size(1)
        .build()
        .unwrap();
    let client = pool.get().await.unwrap();
    let read = app.password_hash("user1@lab.test").await;
    let id: i64 = client
        .query_one("SELECT id FROM users WHERE email = 'user1@lab.test'", &[])
        .await
        .unwrap()
        .get(0);
    client
        .execute(
            "UPDATE users SET password_hash = 'changed' WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();

    assert!(!users::replace_password_hash(&client, id, &read, "rehash")
        .await
        .unwrap());
    assert_eq!(app.password_hash("user1@lab.test").await, "changed");
    assert!(
        users::replace_password_hash(&client, id, "changed", "rehash")
            .await
            .unwrap()
    );
    assert_eq!(app.password_hash("user1@lab.test").await, "rehash");
}

fn config_locking_after(failures: u32, lock_secs: u64) -> ServeConfig {
    let mut config = serve_config(PoolMode::Shared);
    config.login.failures_before_lock = failures;
    config.login.lock_secs = lock_secs;
    config
}

/// Sends `count` wrong passwords for `email`, each answered 401.
async fn fail_logins(app: &TestApp, email: &str, count: u32) {
    for _ in 0..count {
        assert_error(
            app.post_login(email, "wrong").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
}

/// Asserts a 429 `too_many_attempts` with a Retry-After of 1 to `lock_secs` seconds; returns the
/// body.
async fn assert_locked(response: Response, lock_secs: u64) -> Value {
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=lock_secs).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert_error(response, 429, "too_many_attempts").await
}

#[tokio::test]
async fn locked_emails_known_or_unknown_get_the_same_429_even_with_the_right_password() {
    let app = spawn_app_with(config_locking_after(5, 300)).await;
    let attacked = [
        "user1@lab.test",
        "user2@lab.test",
        "user3@lab.test",
        "nobody@lab.test",
    ];
    for email in attacked {
        fail_logins(&app, email, 5).await;
    }
    let mut bodies = Vec::new();
    for email in attacked {
        bodies.push(assert_locked(app.post_login(email, SEED_PASSWORD).await, 300).await);
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "{bodies:?}"
    );
    assert_locked(app.post_login(" USER1@lab.test", SEED_PASSWORD).await, 300).await;

    app.login_demo().await;
    assert_eq!(app.session_count().await, 1);
}

#[tokio::test]
async fn a_locked_email_is_refused_before_any_database_work() {
    let (app, statements) = spawn_app_counting_statements().await;
    fail_logins(&app, DEMO_EMAIL, 5).await;
    let before = statements.executed();
    assert_locked(app.post_login(DEMO_EMAIL, DEMO_PASSWORD).await, 300).await;
    assert_eq!(statements.executed(), before);
}

#[tokio::test]
async fn an_email_logs_in_again_once_its_lock_has_passed() {
    let app = spawn_app_with(config_locking_after(5, 1)).await;
    fail_logins(&app, "user1@lab.test", 5).await;
    assert_locked(app.post_login("user1@lab.test", SEED_PASSWORD).await, 1).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    app.login("user1@lab.test", SEED_PASSWORD).await;
}

#[tokio::test]
async fn successful_logins_never_count_and_clear_the_failures() {
    let app = spawn_app_with(config_locking_after(5, 300)).await;
    for _ in 0..10 {
        app.login("user1@lab.test", SEED_PASSWORD).await;
    }
    fail_logins(&app, "user1@lab.test", 4).await;
    app.login("user1@lab.test", SEED_PASSWORD).await;
    fail_logins(&app, "user1@lab.test", 4).await;
    app.login("user1@lab.test", SEED_PASSWORD).await;
}

#[tokio::test]
async fn a_login_flood_gets_200_or_503_login_busy_and_then_logins_work_again() {
    let mut config = serve_config(PoolMode::Shared);
    config.login.hash_wait_timeout = Duration::from_millis(10);
    // Enough connections and patience that the database is never what turns a login away.
    config.pools.pool_size = 10;
    config.pools.acquire_timeout = Duration::from_secs(10);
    // 8 MiB a hash: tens of milliseconds in a test build, several times the wait.
    let hashing = HashingConfig {
        argon2_memory_kib: 8 * 1024,
        ..cheap_hashing()
    };
    let app = spawn_app_hashing(config, hashing).await;

    let mut logins = JoinSet::new();
    for i in 0..60 {
        let (http, url) = (app.http.clone(), format!("{}/login", app.address));
        let (email, password) = match i % 4 {
            0 => (DEMO_EMAIL.to_owned(), DEMO_PASSWORD),
            n => (format!("user{n}@lab.test"), SEED_PASSWORD),
        };
        logins.spawn(async move {
            let body = serde_json::json!({ "email": email, "password": password });
            http.post(url).json(&body).send().await.unwrap()
        });
    }
    let answers = tokio::time::timeout(Duration::from_secs(60), logins.join_all())
        .await
        .expect("every login is answered well within a minute");
    let (mut ok, mut busy) = (0, 0);
    for response in answers {
        if response.status() == 200 {
            ok += 1;
            continue;
        }
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_error(response, 503, "login_busy").await;
        busy += 1;
    }
    assert!(
        ok >= 1 && busy >= 1,
        "{ok} logins succeeded, {busy} were turned away"
    );

    for _ in 0..3 {
        app.login_demo().await;
    }
}
