use reqwest::header;
use serde_json::Value;
use todo_service::config::AddUserConfig;
use todo_service::seed;

use crate::helpers::{
    assert_error, cheap_hashing, spawn_app, spawn_app_counting_statements, SEEDED_TODOS_PER_USER,
    SEED_PASSWORD,
};

#[tokio::test]
async fn a_created_todo_is_returned_trimmed_and_appears_first() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    let response = app.create_todo(&token, "  Buy oat milk \n").await;
    assert_eq!(response.status(), 201);
    let todo: Value = response.json().await.unwrap();
    assert_eq!(todo["title"], "Buy oat milk");
    assert_eq!(todo["completed"], false);
    assert!(todo["id"].as_i64().is_some());
    chrono::DateTime::parse_from_rfc3339(todo["created_at"].as_str().unwrap()).unwrap();
    assert_eq!(app.titles(&token).await.first().unwrap(), "Buy oat milk");
}

#[tokio::test]
async fn todos_are_listed_newest_first() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    for title in ["first", "second", "third"] {
        assert_eq!(app.create_todo(&token, title).await.status(), 201);
    }
    assert_eq!(app.titles(&token).await[..3], ["third", "second", "first"]);
}

#[tokio::test]
async fn a_user_without_todos_gets_an_empty_list() {
    let app = spawn_app().await;
    let config = AddUserConfig {
        email: "empty@lab.test".into(),
        password: "nothing to do".into(),
    };
    seed::add_user(&app.database_url, &cheap_hashing(), &config)
        .await
        .unwrap();
    let token = app.login("empty@lab.test", "nothing to do").await;
    let response = app.list_todos(&token, "").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "todos": [] }));
}

#[tokio::test]
async fn the_session_cookie_works_like_a_bearer_token() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    let response = app.list_todos_with_cookie(&token).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(!body["todos"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn users_see_only_their_own_todos() {
    let app = spawn_app().await;
    let demo = app.login_demo().await;
    let other = app.login("user1@lab.test", SEED_PASSWORD).await;
    app.create_todo(&demo, "demo's secret").await;
    assert!(!app
        .titles(&other)
        .await
        .contains(&"demo's secret".to_owned()));
}

#[tokio::test]
async fn the_limit_defaults_to_20_and_is_bounded_by_1_and_100() {
    let app = spawn_app().await;
    let token = app.login("user2@lab.test", SEED_PASSWORD).await;
    let count = |body: Value| body["todos"].as_array().unwrap().len();
    assert_eq!(
        count(app.list_todos(&token, "").await.json().await.unwrap()),
        20
    );
    assert_eq!(
        count(
            app.list_todos(&token, "?limit=1")
                .await
                .json()
                .await
                .unwrap()
        ),
        1
    );
    assert_eq!(
        count(
            app.list_todos(&token, "?limit=100")
                .await
                .json()
                .await
                .unwrap()
        ),
        SEEDED_TODOS_PER_USER as usize
    );
    assert_error(
        app.list_todos(&token, "?limit=0").await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.list_todos(&token, "?limit=101").await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.list_todos(&token, "?limit=ten").await,
        400,
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn titles_must_be_1_to_200_characters_after_trimming() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    assert_error(
        app.create_todo(&token, "   ").await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.create_todo(&token, &"x".repeat(201)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        app.create_todo(&token, &"x".repeat(200)).await.status(),
        201
    );
}

#[tokio::test]
async fn rejected_writes_store_nothing() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    let before = app.titles(&token).await;
    app.create_todo(&token, "").await;
    app.http
        .post(format!("{}/todos", app.address))
        .bearer_auth(&token)
        .body("{\"title\":")
        .send()
        .await
        .unwrap();
    app.http
        .post(format!("{}/todos", app.address))
        .json(&serde_json::json!({"title": "no session"}))
        .send()
        .await
        .unwrap();
    assert_eq!(app.titles(&token).await, before);
}

#[tokio::test]
async fn bad_todo_bodies_get_clear_4xx_json_errors() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    let post = |content_type: &'static str, body: String| {
        app.http
            .post(format!("{}/todos", app.address))
            .bearer_auth(&token)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    assert_error(
        post("application/json", "not json".into()).await.unwrap(),
        400,
        "bad_request",
    )
    .await;
    assert_error(
        post("application/x-www-form-urlencoded", "title=x".into())
            .await
            .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    assert_error(
        post("application/json", "{\"title\": 5}".into())
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let huge = format!("{{\"title\":\"{}\"}}", "x".repeat(17 * 1024));
    assert_error(
        post("application/json", huge).await.unwrap(),
        413,
        "payload_too_large",
    )
    .await;
}

#[tokio::test]
async fn todos_need_a_session() {
    let app = spawn_app().await;
    let no_session = app
        .http
        .get(format!("{}/todos", app.address))
        .send()
        .await
        .unwrap();
    assert_error(no_session, 401, "unauthorized").await;
    assert_error(
        app.list_todos("not-a-real-token", "").await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.create_todo("not-a-real-token", "x").await,
        401,
        "unauthorized",
    )
    .await;
    let basic = app
        .http
        .get(format!("{}/todos", app.address))
        .header(header::AUTHORIZATION, "Basic ZGVtbzpkZW1v")
        .send()
        .await
        .unwrap();
    assert_error(basic, 401, "unauthorized").await;
}

#[tokio::test]
async fn an_expired_session_is_rejected() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    assert_eq!(app.list_todos(&token, "").await.status(), 200);
    app.db()
        .await
        .execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    assert_error(app.list_todos(&token, "").await, 401, "unauthorized").await;
    assert_error(
        app.create_todo(&token, "too late").await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn each_todo_request_runs_one_statement_with_its_session_check() {
    let (app, statements) = spawn_app_counting_statements().await;
    let mut counted = statements.executed();
    let mut statements_since = || {
        let previous = std::mem::replace(&mut counted, statements.executed());
        counted - previous
    };
    let token = app.login_demo().await;
    assert_eq!(
        statements_since(),
        2,
        "POST /login: user lookup, session insert"
    );
    // Twice: the first use of a statement on a connection prepares it first, which must not
    // execute anything either.
    for round in 0..2 {
        assert_eq!(app.create_todo(&token, "one trip").await.status(), 201);
        assert_eq!(statements_since(), 1, "POST /todos, round {round}");
        assert_eq!(app.list_todos(&token, "").await.status(), 200);
        assert_eq!(statements_since(), 1, "GET /todos, round {round}");
        assert_error(app.list_todos("unknown", "").await, 401, "unauthorized").await;
        assert_eq!(
            statements_since(),
            1,
            "GET /todos, bad token, round {round}"
        );
    }
}
