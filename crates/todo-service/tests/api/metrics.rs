use std::time::Duration;

use serde_json::Value;
use todo_service::metrics::LATENCY_BUCKETS;
use todo_service::pools::PoolMode;
use tokio::task::JoinSet;

use crate::helpers::{
    metric_value, serve_config, spawn_app, spawn_app_behind_latency, spawn_app_with,
};

#[tokio::test]
async fn requests_are_counted_per_endpoint_and_status_class() {
    let app = spawn_app().await;
    let token = app.login_demo().await;
    app.create_todo(&token, "counted").await;
    app.list_todos(&token, "").await;
    app.list_todos("bad-token", "").await;
    let metrics = app.metrics().await;
    let value = |name, labels: &[(&str, &str)]| metric_value(&metrics, name, labels);
    for (endpoint, status_class) in [
        ("login", "2xx"),
        ("create_todo", "2xx"),
        ("list_todos", "2xx"),
        ("list_todos", "4xx"),
    ] {
        let labels = [("endpoint", endpoint), ("status_class", status_class)];
        assert_eq!(
            value("http_requests_total", &labels),
            Some(1.0),
            "{labels:?}"
        );
        assert_eq!(
            value("http_request_duration_seconds_count", &labels),
            Some(1.0),
            "{labels:?}"
        );
    }
    for class in ["4xx", "5xx", "cancelled"] {
        let labels = [("endpoint", "login"), ("status_class", class)];
        assert_eq!(value("http_requests_total", &labels), None, "{labels:?}");
    }
    // Every bucket bound is exported, and the one login falls in the last, at least.
    for bound in LATENCY_BUCKETS
        .iter()
        .map(f64::to_string)
        .chain(["+Inf".to_owned()])
    {
        let labels = [
            ("endpoint", "login"),
            ("status_class", "2xx"),
            ("le", &bound),
        ];
        assert!(
            value("http_request_duration_seconds_bucket", &labels).is_some(),
            "{labels:?}"
        );
    }
    let login_2xx = [
        ("endpoint", "login"),
        ("status_class", "2xx"),
        ("le", "+Inf"),
    ];
    assert_eq!(
        value("http_request_duration_seconds_bucket", &login_2xx),
        Some(1.0)
    );
    assert_eq!(
        value("db_pool_max_connections", &[("pool", "shared")]),
        Some(3.0)
    );
    assert_eq!(value("db_pool_waiters", &[("pool", "shared")]), Some(0.0));
    let info = [
        ("pool_mode", "shared"),
        ("version", env!("CARGO_PKG_VERSION")),
    ];
    assert_eq!(value("todo_service_info", &info), Some(1.0));
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "tokio_alive_tasks",
    ] {
        assert!(
            value(name, &[]).is_some_and(|v| v > 0.0),
            "{name}: {metrics}"
        );
    }
}

#[tokio::test]
async fn isolated_mode_reports_three_pools_with_the_shared_total() {
    let app = spawn_app_with(serve_config(PoolMode::Isolated)).await;
    let metrics = app.metrics().await;
    for name in ["db_pool_max_connections", "db_pool_connections_idle"] {
        for pool in ["login", "todo_write", "todo_read"] {
            assert_eq!(
                metric_value(&metrics, name, &[("pool", pool)]),
                Some(1.0),
                "{name} {pool}"
            );
        }
        assert_eq!(metric_value(&metrics, name, &[("pool", "shared")]), None);
    }
}

#[tokio::test]
async fn health_reports_the_pool_mode() {
    let app = spawn_app_with(serve_config(PoolMode::Isolated)).await;
    let health: Value = app
        .http
        .get(format!("{}/health", app.metrics_address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        health,
        serde_json::json!({"status": "ok", "pool_mode": "isolated"})
    );
}

#[tokio::test]
async fn metrics_are_not_served_on_the_public_port() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn connection_hold_time_is_recorded_per_acquisition_pool_and_endpoint() {
    for (mode, pools) in [
        (PoolMode::Shared, ["shared", "shared", "shared"]),
        (PoolMode::Isolated, ["login", "todo_write", "todo_read"]),
    ] {
        let app = spawn_app_with(serve_config(mode)).await;
        let token = app.login_demo().await;
        assert_eq!(app.create_todo(&token, "held").await.status(), 201);
        assert_eq!(app.list_todos(&token, "").await.status(), 200);
        let metrics = app.metrics().await;
        // A login acquires twice: user lookup, then (after the hash check) session insert.
        for ((endpoint, count), pool) in [("login", 2.0), ("create_todo", 1.0), ("list_todos", 1.0)]
            .into_iter()
            .zip(pools)
        {
            let labels = [("pool", pool), ("endpoint", endpoint)];
            let value = |suffix: &str| {
                metric_value(
                    &metrics,
                    &format!("db_pool_connection_hold_seconds_{suffix}"),
                    &labels,
                )
                .unwrap_or_else(|| panic!("no {suffix} for {labels:?} in:\n{metrics}"))
            };
            assert_eq!(value("count"), count, "{mode:?} {endpoint}");
            assert!(value("sum") > 0.0, "{mode:?} {endpoint}");
        }
    }
}

#[tokio::test]
async fn requests_abandoned_by_their_clients_leave_the_in_flight_gauge_and_are_counted_as_cancelled(
) {
    // As in issue 21: the database 300 ms away (a round trip), clients giving up after 0.1 s.
    const ABANDONED: usize = 20;
    let app =
        spawn_app_behind_latency(serve_config(PoolMode::Shared), Duration::from_millis(150)).await;
    let token = app.login_demo().await;
    assert_eq!(app.list_todos(&token, "").await.status(), 200);
    let list_todos = |status_class| [("endpoint", "list_todos"), ("status_class", status_class)];
    let in_flight = |metrics: &str| {
        metric_value(
            metrics,
            "http_requests_in_flight",
            &[("endpoint", "list_todos")],
        )
    };
    let baseline = app.metrics().await;
    assert_eq!(in_flight(&baseline), Some(0.0));

    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let mut requests = JoinSet::new();
    for _ in 0..ABANDONED {
        let request = impatient
            .get(format!("{}/todos", app.address))
            .bearer_auth(&token);
        requests.spawn(async move { request.send().await });
    }
    while let Some(sent) = requests.join_next().await {
        let err = sent.unwrap().expect_err("no answer within 0.1 s");
        assert!(err.is_timeout(), "{err}");
    }

    // The server learns of each disconnect when its socket closes: wait for that, not longer.
    let mut metrics = app.metrics().await;
    for _ in 0..50 {
        if in_flight(&metrics) == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        metrics = app.metrics().await;
    }
    let abandoned = Some(ABANDONED as f64);
    assert_eq!(in_flight(&metrics), Some(0.0), "{metrics}");
    assert_eq!(
        metric_value(&metrics, "http_requests_total", &list_todos("cancelled")),
        abandoned,
        "{metrics}"
    );
    assert_eq!(
        metric_value(
            &metrics,
            "http_request_duration_seconds_count",
            &list_todos("cancelled")
        ),
        abandoned
    );
    assert_eq!(
        metric_value(&metrics, "http_requests_total", &list_todos("2xx")),
        Some(1.0),
        "the one answered before"
    );
}
