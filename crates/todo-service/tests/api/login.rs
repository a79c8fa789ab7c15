use reqwest::header;
use serde_json::Value;
use sha2::{Digest, Sha256};
use todo_service::pools::PoolMode;
use todo_service::seed::{DEMO_EMAIL, DEMO_PASSWORD};

use crate::helpers::{assert_error, serve_config, spawn_app, spawn_app_with, SEED_PASSWORD};

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
