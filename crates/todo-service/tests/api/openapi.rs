//! The OpenAPI document served on the metrics listener matches the code: the same three
//! operations as the router, and the same error codes as `ApiError`. Whether the responses match
//! the document is what the schemathesis run (tests/fuzz/run.sh) checks.

use std::collections::BTreeSet;

use serde_json::Value;
use todo_service::error::ApiError;

use crate::helpers::{spawn_app, TestApp};

async fn fetch_document(app: &TestApp) -> Value {
    let response = app
        .http
        .get(format!("{}/openapi.json", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.expect("the document is JSON")
}

/// Every `enum` array anywhere under `value`, as sets of strings.
fn string_enums(value: &Value) -> Vec<BTreeSet<String>> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, inner)| match (key.as_str(), inner) {
                ("enum", Value::Array(items)) => vec![items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect()],
                _ => string_enums(inner),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(string_enums).collect(),
        _ => Vec::new(),
    }
}

fn all_codes() -> BTreeSet<String> {
    ApiError::ALL_CODES.iter().map(|c| c.to_string()).collect()
}

#[tokio::test]
async fn the_metrics_listener_serves_an_openapi_3_document_of_exactly_the_three_operations() {
    let app = spawn_app().await;
    let document = fetch_document(&app).await;

    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    let operations: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    let expected = ["GET /todos", "POST /login", "POST /todos"].map(String::from);
    assert_eq!(operations, BTreeSet::from(expected));
}

#[tokio::test]
async fn the_documented_error_codes_are_exactly_those_api_error_produces() {
    let app = spawn_app().await;
    let document = fetch_document(&app).await;

    let code_enum = &document["components"]["schemas"]["Error"]["properties"]["error"]["enum"];
    let listed: Vec<&str> = code_enum
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let distinct: BTreeSet<String> = listed.iter().map(|c| c.to_string()).collect();
    assert_eq!(distinct.len(), listed.len(), "duplicate codes: {listed:?}");
    assert_eq!(distinct, all_codes());
}

#[tokio::test]
async fn each_error_response_narrows_the_codes_to_ones_api_error_produces() {
    let app = spawn_app().await;
    let document = fetch_document(&app).await;

    let narrowed = string_enums(&document["components"]["responses"]);
    assert!(!narrowed.is_empty());
    for codes in narrowed {
        assert!(codes.is_subset(&all_codes()), "unknown codes in {codes:?}");
    }
}
