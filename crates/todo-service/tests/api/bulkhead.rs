//! The lab's lesson as a deterministic test. Another connection holds `LOCK TABLE todos IN SHARE
//! MODE`, which blocks inserts but not selects. Enough `POST /todos` to fill their pool then hang
//! inside the insert, each holding a connection. A `GET /todos` must then be crowded out (503)
//! when the pool is shared, and served (200) when reads have their own pool. When the lock goes,
//! every blocked write completes: nothing is lost.

use reqwest::header;
use todo_service::pools::{IsolatedSizes, PoolMode};

use crate::helpers::{assert_error, metric_value, serve_config, spawn_app_with, TestApp};

/// Fills the write pool with blocked inserts, then runs `check` with the write path still jammed;
/// then unblocks and checks every write landed.
async fn with_write_pool_jammed(mode: PoolMode, check: impl AsyncFnOnce(&TestApp, &str)) {
    let config = serve_config(mode);
    let write_pool_size = match mode {
        PoolMode::Shared => config.pools.pool_size,
        PoolMode::Isolated => IsolatedSizes::from_config(&config.pools).todo_write,
    };
    let app = spawn_app_with(config).await;
    let token = app.login_demo().await;
    let locker = app.block_todo_inserts().await;

    let writes: Vec<_> = (0..write_pool_size)
        .map(|i| {
            let (http, address, token) = (app.http.clone(), app.address.clone(), token.clone());
            tokio::spawn(async move {
                http.post(format!("{address}/todos"))
                    .bearer_auth(token)
                    .json(&serde_json::json!({ "title": format!("blocked write {i}") }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    app.wait_for_blocked_backends(write_pool_size as i64).await;

    check(&app, &token).await;

    locker.batch_execute("COMMIT").await.unwrap();
    for write in writes {
        assert_eq!(
            write.await.unwrap(),
            201,
            "a blocked write must complete once unblocked"
        );
    }
    let titles = app.titles(&token).await;
    for i in 0..write_pool_size {
        assert!(
            titles.contains(&format!("blocked write {i}")),
            "write {i} was lost"
        );
    }
}

#[tokio::test]
async fn shared_pool_reads_are_crowded_out_by_blocked_writes() {
    with_write_pool_jammed(PoolMode::Shared, async |app, token| {
        let response = app.list_todos(token, "").await;
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_error(response, 503, "database_busy").await;
        let metrics = app.metrics().await;
        let of_pool = |name, pool| metric_value(&metrics, name, &[("pool", pool)]);
        assert_eq!(
            of_pool("db_pool_acquire_timeouts_total", "shared"),
            Some(1.0),
            "{metrics}"
        );
        assert_eq!(
            of_pool("db_pool_connections_in_use", "shared"),
            Some(3.0),
            "{metrics}"
        );
    })
    .await;
}

#[tokio::test]
async fn isolated_pools_keep_reads_and_logins_served_while_writes_are_blocked() {
    with_write_pool_jammed(PoolMode::Isolated, async |app, token| {
        let response = app.list_todos(token, "").await;
        assert_eq!(response.status(), 200);
        app.login_demo().await;
        let metrics = app.metrics().await;
        let of_pool = |name, pool| metric_value(&metrics, name, &[("pool", pool)]);
        assert_eq!(
            of_pool("db_pool_connections_in_use", "todo_write"),
            Some(1.0),
            "{metrics}"
        );
        assert_eq!(
            of_pool("db_pool_acquire_timeouts_total", "todo_read"),
            Some(0.0),
            "{metrics}"
        );
    })
    .await;
}

#[tokio::test]
async fn isolated_mode_jams_only_the_write_endpoint() {
    with_write_pool_jammed(PoolMode::Isolated, async |app, token| {
        // The write pool is full: one more write waits out the acquire timeout.
        assert_error(
            app.create_todo(token, "one too many").await,
            503,
            "database_busy",
        )
        .await;
    })
    .await;
}
