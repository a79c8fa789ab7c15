//! The metrics listener, kept off the public port: `GET /metrics` (Prometheus text format),
//! `GET /health` and `GET /openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::metrics::Metrics;
use crate::pools::Pools;

#[derive(Clone)]
struct MetricsState {
    metrics: Arc<Metrics>,
    pools: Pools,
}

/// The OpenAPI 3 document of the public API, hand-written beside the crate; tests/api/openapi.rs
/// holds it to the routes and error codes, tests/fuzz/run.sh fuzzes the service with it.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// The metrics listener's routes: `GET /metrics`, `GET /health` and `GET /openapi.json`. The
/// document is served here, not on the public port, so the public API stays exactly three
/// endpoints.
pub fn router(metrics: Arc<Metrics>, pools: Pools) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .with_state(MetricsState { metrics, pools })
}

async fn serve_metrics(State(state): State<MetricsState>) -> impl IntoResponse {
    state.pools.record_gauges(&state.metrics);
    let body = state.metrics.render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

async fn health(State(state): State<MetricsState>) -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok", "pool_mode": state.pools.mode().as_str() }))
}
