//! Input a client can send that Postgres or serde would choke on: every such request gets a 4xx
//! JSON error in the API's own words, and nothing reaches the database.

use reqwest::header;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn nul_and_control_characters_are_rejected_422_before_they_reach_postgres() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    let before = app.titles(&token).await;
    for title in ["nul\0byte", "\0", "line\nbreak", "escape\u{1b}[31m"] {
        assert_error(
            app.create_todo(&token, title).await,
            422,
            "validation_failed",
        )
        .await;
    }
    assert_eq!(app.titles(&token).await, before, "nothing was written");
    for email in ["de\0mo@lab.test", "demo@lab.test\0", "demo\u{7}@lab.test"] {
        assert_error(
            app.post_login(email, "demo-password").await,
            422,
            "validation_failed",
        )
        .await;
    }
}

#[tokio::test]
async fn error_messages_describe_the_expected_input_without_rust_type_names() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    let post = |path: &str, body: &'static str| {
        app.http
            .post(format!("{}{path}", app.address))
            .bearer_auth(&token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
    };
    let mut messages = Vec::new();
    for (path, body, status, code) in [
        ("/login", "[]", 422, "validation_failed"),
        ("/login", "\"demo@lab.test\"", 422, "validation_failed"),
        (
            "/login",
            "{\"email\": 5, \"password\": \"x\"}",
            422,
            "validation_failed",
        ),
        ("/login", "{\"email\":", 400, "bad_request"),
        ("/todos", "{\"title\": [\"x\"]}", 422, "validation_failed"),
        ("/todos", "null", 422, "validation_failed"),
        ("/todos", "{\"title\": \"\\ud800\"}", 400, "bad_request"),
    ] {
        let body = assert_error(post(path, body).await.unwrap(), status, code).await;
        messages.push(body["message"].as_str().unwrap().to_owned());
    }
    let query = assert_error(
        app.list_todos(&token, "?limit=ten").await,
        400,
        "bad_request",
    )
    .await;
    messages.push(query["message"].as_str().unwrap().to_owned());
    for message in &messages {
        for leak in [
            "struct",
            "LoginRequest",
            "CreateTodo",
            "ListParams",
            "i64",
            "Option",
        ] {
            assert!(!message.contains(leak), "{message:?} names a Rust type");
        }
    }
    assert!(
        messages[0].contains(r#"{"email": string, "password": string}"#),
        "{}",
        messages[0]
    );
    assert!(messages.last().unwrap().contains("limit"), "{messages:?}");
}

#[tokio::test]
async fn a_json_body_with_the_wrong_shape_writes_nothing() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    let before = app.titles(&token).await;
    for body in [
        json!({"title": null}),
        json!({"name": "x"}),
        json!([{"title": "x"}]),
    ] {
        let response = app
            .http
            .post(format!("{}/todos", app.address))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(response, 422, "validation_failed").await;
    }
    assert_eq!(app.titles(&token).await, before);
}
