//! The database goes away under load and comes back: requests meanwhile get 503
//! `database_unavailable` with `Retry-After` (never a 500), the service recovers by itself, and
//! every write it acknowledged is in the database afterwards.
//!
//! This restarts a real Postgres, so it uses a cluster of its own (`scripts/pg.sh` with
//! `LAB_PG_DIR=.lab/pg-restartable`, port `TEST_RESTARTABLE_PG_PORT`, default 54339), never the
//! one the other tests share. The test starts that cluster itself and stops it when it ends,
//! passed or failed, so a finished test run leaves no second Postgres behind.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use todo_service::pools::PoolMode;

use crate::helpers::{cheap_hashing, serve_config, spawn_app_on, TestApp};

/// How long Postgres stays down.
const OUTAGE: Duration = Duration::from_secs(3);
/// Concurrent clients writing todos throughout.
const WRITERS: usize = 4;

fn restartable_port() -> String {
    std::env::var("TEST_RESTARTABLE_PG_PORT").unwrap_or_else(|_| "54339".into())
}

/// Runs `scripts/pg.sh COMMAND` on the test's own cluster; whether it succeeded.
fn restartable_pg(command: &str) -> bool {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    Command::new(root.join("scripts/pg.sh"))
        .arg(command)
        .env("LAB_PG_DIR", root.join(".lab/pg-restartable"))
        .env("LAB_PG_PORT", restartable_port())
        .status()
        .is_ok_and(|status| status.success())
}

/// The test's own Postgres, running while this value lives: started by `start`, stopped when it
/// is dropped (after the service, which is declared later), also when an assertion fails.
struct RestartablePg;

impl RestartablePg {
    fn start() -> Self {
        let pg = RestartablePg;
        pg.run("start");
        pg
    }

    fn run(&self, command: &str) {
        assert!(restartable_pg(command), "scripts/pg.sh {command} failed");
    }
}

impl Drop for RestartablePg {
    fn drop(&mut self) {
        // No assertion here: a panic while unwinding from a failed one would abort the tests.
        if !restartable_pg("stop") {
            eprintln!("could not stop the restartable Postgres (.lab/pg-restartable): scripts/stop.sh does");
        }
    }
}

fn restartable_admin_url() -> String {
    format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        restartable_port()
    )
}

/// What one writer saw: titles acknowledged with 201, and every other answer's status and code.
#[derive(Default)]
struct Outcomes {
    acknowledged: Vec<String>,
    refusals: Vec<(u16, String, bool)>,
}

async fn write_until(
    app: Arc<TestApp>,
    token: String,
    writer: usize,
    stop: Arc<AtomicBool>,
) -> Outcomes {
    let mut outcomes = Outcomes::default();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let title = format!("writer {writer} todo {i}");
        i += 1;
        let response = app.create_todo(&token, &title).await;
        let status = response.status().as_u16();
        if status == 201 {
            outcomes.acknowledged.push(title);
            continue;
        }
        let retry_after = response.headers().contains_key("retry-after");
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let code = body["error"]
            .as_str()
            .unwrap_or("(no JSON error)")
            .to_owned();
        outcomes.refusals.push((status, code, retry_after));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    outcomes
}

#[tokio::test]
async fn losing_the_database_answers_503_recovers_by_itself_and_loses_no_acknowledged_write() {
    let pg = RestartablePg::start();
    let app = Arc::new(
        spawn_app_on(
            &restartable_admin_url(),
            serve_config(PoolMode::Isolated),
            cheap_hashing(),
        )
        .await,
    );
    let token = app.login_demo().await;

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(write_until(app.clone(), token.clone(), w, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    pg.run("stop");
    let down_since = Instant::now();
    let mut outage_answers = Vec::new();
    while down_since.elapsed() < OUTAGE {
        let response = app.list_todos(&token, "").await;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").cloned();
        let body: Value = response.json().await.unwrap();
        outage_answers.push((
            status,
            body["error"].as_str().unwrap_or_default().to_owned(),
        ));
        assert_eq!(status, 503, "while the database is down: {body}");
        assert_eq!(body["error"], "database_unavailable", "{body}");
        assert_eq!(retry_after.unwrap(), "1");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    pg.run("start");
    let back_at = Instant::now();
    loop {
        if app.list_todos(&token, "").await.status() == 200 {
            break;
        }
        assert!(
            back_at.elapsed() < Duration::from_secs(10),
            "the service did not recover within 10 s of Postgres being back"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let recovery = back_at.elapsed();
    // Writes must succeed again too, not only reads.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);

    let mut acknowledged = Vec::new();
    let mut refusals = Vec::new();
    for writer in writers {
        let outcomes = writer.await.unwrap();
        acknowledged.extend(outcomes.acknowledged);
        refusals.extend(outcomes.refusals);
    }
    for (status, code, retry_after) in &refusals {
        assert!(
            *status == 503 && code == "database_unavailable" && *retry_after,
            "a write during the outage was answered {status} {code} (Retry-After: {retry_after})"
        );
    }
    let db = app.db().await;
    let stored: Vec<String> = db
        .query("SELECT title FROM todos WHERE title LIKE 'writer %'", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|t| !stored.contains(t))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    assert!(
        !refusals.is_empty(),
        "the outage refused no write: the test did not test anything"
    );
    eprintln!(
        "database loss: {} writes acknowledged and all stored, {} refused with 503 during the \
         outage, {} reads answered 503; 200 again {:.0} ms after Postgres was back",
        acknowledged.len(),
        refusals.len(),
        outage_answers.len(),
        recovery.as_secs_f64() * 1000.0
    );
}
