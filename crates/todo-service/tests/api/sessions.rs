//! Expired sessions are deleted in the background, in batches, and live ones are left alone.

use std::time::{Duration, Instant};

use todo_service::pools::PoolMode;
use todo_service::session_sweeper::BATCH;

use crate::helpers::{metric_value, serve_config, spawn_app_with};

#[tokio::test]
async fn expired_sessions_are_swept_in_batches_and_live_ones_stay() {
    let mut config = serve_config(PoolMode::Shared);
    config.session_sweep_interval_secs = 1;
    let app = spawn_app_with(config).await;
    let token = app.login_demo().await;
    // More than two batches' worth of sessions that expired an hour ago, for the demo user.
    let expired = 2 * BATCH + 500;
    let db = app.db().await;
    db.execute(
        "INSERT INTO sessions (id, user_id, expires_at) \
         SELECT sha256(('expired ' || n)::bytea), u.id, now() - interval '1 hour' \
         FROM generate_series(1, $1::bigint) n, users u WHERE u.email = 'demo@lab.test'",
        &[&expired],
    )
    .await
    .unwrap();

    let started = Instant::now();
    loop {
        let left: i64 = db
            .query_one(
                "SELECT count(*) FROM sessions WHERE expires_at <= now()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{left} expired sessions still there after 15 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.session_count().await, 1, "the live session stays");
    assert_eq!(app.list_todos(&token, "").await.status(), 200);
    let deleted = metric_value(&app.metrics().await, "sessions_expired_deleted_total", &[]);
    assert_eq!(deleted, Some(expired as f64));
}
