//! `spawn_app()`: the service on port 0 against a fresh, seeded database, plus typed helpers.

use std::net::SocketAddr;
use std::time::Duration;

use latency_proxy::Proxy;
use rand::Rng;
use reqwest::{header, Response};
use serde_json::{json, Value};
use todo_service::config::{
    HashingConfig, HttpLimits, LoginLimits, PoolConfig, SeedConfig, ServeConfig,
};
use todo_service::db;
use todo_service::pools::PoolMode;
use todo_service::seed::{self, DEMO_EMAIL, DEMO_PASSWORD};
use todo_service::startup::Application;

use crate::wire::StatementCounter;

pub const SEED_PASSWORD: &str = "seed-password";
pub const SEEDED_USERS: u32 = 3;
pub const SEEDED_TODOS_PER_USER: u32 = 25;

/// Cheap Argon2 so tests spend their time on behaviour, not hashing.
pub fn cheap_hashing() -> HashingConfig {
    HashingConfig {
        argon2_memory_kib: 256,
        argon2_iterations: 1,
        argon2_parallelism: 1,
    }
}

pub fn serve_config(mode: PoolMode) -> ServeConfig {
    ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: "127.0.0.1:0".parse().unwrap(),
        pools: PoolConfig {
            pool_mode: mode,
            pool_size: 3,
            login_pool_size: None,
            todo_write_pool_size: None,
            todo_read_pool_size: None,
            acquire_timeout: Duration::from_millis(300),
        },
        session_ttl_secs: 3600,
        cookie_secure: false,
        session_sweep_interval_secs: 60,
        http: HttpLimits {
            header_read: Duration::from_secs(5),
            request_body: Duration::from_secs(5),
            idle: Duration::from_secs(30),
            max_connections: 10_000,
            shutdown_grace: Duration::from_secs(10),
        },
        login: LoginLimits {
            hash_wait_timeout: Duration::from_secs(1),
            failures_before_lock: 5,
            lock_secs: 300,
        },
    }
}

pub fn admin_url() -> String {
    std::env::var("TEST_ADMIN_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54329/postgres".into())
}

/// Creates an empty database with a random name and returns its URL.
pub async fn fresh_database() -> String {
    fresh_database_on(&admin_url()).await
}

/// [`fresh_database`] on the server of `admin` (a URL with rights to create databases).
pub async fn fresh_database_on(admin: &str) -> String {
    let name = format!("test_{:016x}", rand::thread_rng().gen::<u64>());
    let client = db::connect_one(admin, "test")
        .await
        .expect("the lab's Postgres must run: scripts/pg.sh start");
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

pub struct TestApp {
    pub address: String,
    pub metrics_address: String,
    pub database_url: String,
    pub http: reqwest::Client,
    /// Dropping it stops the service too.
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(serve_config(PoolMode::Shared)).await
}

pub async fn spawn_app_with(config: ServeConfig) -> TestApp {
    spawn_app_on(&admin_url(), config, cheap_hashing()).await
}

/// [`spawn_app_with`], the service hashing with `hashing` (the seed still uses [`cheap_hashing`]).
pub async fn spawn_app_hashing(config: ServeConfig, hashing: HashingConfig) -> TestApp {
    spawn_app_on(&admin_url(), config, hashing).await
}

/// [`spawn_app_hashing`] against a fresh database on the server of `admin`.
pub async fn spawn_app_on(admin: &str, config: ServeConfig, hashing: HashingConfig) -> TestApp {
    let database_url = seeded_database(admin).await;
    start_app(&config, &hashing, database_url.clone(), &database_url).await
}

/// [`spawn_app`] with the service's database connections going through a [`StatementCounter`]
/// (the test's own seeding and [`TestApp::db`] connect directly and are not counted).
pub async fn spawn_app_counting_statements() -> (TestApp, StatementCounter) {
    let database_url = seeded_database(&admin_url()).await;
    let counter = StatementCounter::start(&database_url).await;
    let app = start_app(
        &serve_config(PoolMode::Shared),
        &cheap_hashing(),
        database_url,
        counter.database_url(),
    )
    .await;
    (app, counter)
}

/// [`spawn_app_with`], the service's database `delay` away in each direction through the lab's
/// latency proxy (the test's own seeding and [`TestApp::db`] connect directly). Every statement
/// then takes at least `2 × delay`, long enough for a client to give up in the middle.
pub async fn spawn_app_behind_latency(config: ServeConfig, delay: Duration) -> TestApp {
    let database_url = seeded_database(&admin_url()).await;
    let server = DatabaseServer::of(&database_url);
    let proxy = Proxy::bind("127.0.0.1:0".parse().unwrap(), server.address(), delay)
        .await
        .unwrap();
    let service_url = server.via(proxy.local_addr().unwrap());
    // Runs as long as the test's runtime.
    tokio::spawn(proxy.run_until(std::future::pending()));
    start_app(&config, &cheap_hashing(), database_url, &service_url).await
}

/// The Postgres server a database URL names, for a test proxy to stand in front of.
pub struct DatabaseServer {
    url: reqwest::Url,
}

impl DatabaseServer {
    pub fn of(database_url: &str) -> Self {
        Self {
            url: reqwest::Url::parse(database_url).expect("a postgres:// URL"),
        }
    }

    /// `host:port`, where a proxy forwards to (TCP only).
    pub fn address(&self) -> String {
        format!(
            "{}:{}",
            self.url.host_str().expect("a TCP host in the database URL"),
            self.url.port().unwrap_or(5432)
        )
    }

    /// The same database URL with `proxy` in place of the server's address.
    pub fn via(&self, proxy: SocketAddr) -> String {
        let mut url = self.url.clone();
        url.set_ip_host(proxy.ip()).unwrap();
        url.set_port(Some(proxy.port())).unwrap();
        url.to_string()
    }
}

/// A fresh database on the server of `admin`, migrated and seeded.
async fn seeded_database(admin: &str) -> String {
    let database_url = fresh_database_on(admin).await;
    let seeding = SeedConfig {
        users: SEEDED_USERS,
        todos_per_user: SEEDED_TODOS_PER_USER,
        password: SEED_PASSWORD.into(),
    };
    seed::seed(&database_url, &cheap_hashing(), &seeding)
        .await
        .expect("seeding");
    database_url
}

/// Starts the service on free ports; it connects to `service_url`, the test to `database_url`.
async fn start_app(
    config: &ServeConfig,
    hashing: &HashingConfig,
    database_url: String,
    service_url: &str,
) -> TestApp {
    let app = Application::build(service_url, config, hashing)
        .await
        .expect("building the app");
    let address = format!("http://{}", app.api_addr());
    let metrics_address = format!("http://{}", app.metrics_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        address,
        metrics_address,
        database_url,
        http,
        stop,
        server,
    }
}

impl TestApp {
    /// Sends the stop signal; the returned task completes when the service has shut down.
    pub fn stop(self) -> tokio::task::JoinHandle<anyhow::Result<()>> {
        let _ = self.stop.send(());
        self.server
    }

    pub async fn post_login(&self, email: &str, password: &str) -> Response {
        self.http
            .post(format!("{}/login", self.address))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Logs in and returns the session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let response = self.post_login(email, password).await;
        assert_eq!(response.status(), 200, "login of {email} should succeed");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn login_demo(&self) -> String {
        self.login(DEMO_EMAIL, DEMO_PASSWORD).await
    }

    pub async fn create_todo(&self, token: &str, title: &str) -> Response {
        self.http
            .post(format!("{}/todos", self.address))
            .bearer_auth(token)
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap()
    }

    pub async fn list_todos(&self, token: &str, query: &str) -> Response {
        self.http
            .get(format!("{}/todos{query}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn list_todos_with_cookie(&self, token: &str) -> Response {
        self.http
            .get(format!("{}/todos", self.address))
            .header(header::COOKIE, format!("session={token}"))
            .send()
            .await
            .unwrap()
    }

    /// Titles of `GET /todos?limit=100`, newest first.
    pub async fn titles(&self, token: &str) -> Vec<String> {
        let response = self.list_todos(token, "?limit=100").await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["todos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.metrics_address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The stored password hash of `email`, read directly from the database.
    pub async fn password_hash(&self, email: &str) -> String {
        let db = self.db().await;
        db.query_one(
            "SELECT password_hash FROM users WHERE email = $1",
            &[&email],
        )
        .await
        .unwrap()
        .get(0)
    }

    /// Rows in `sessions`, read directly from the database.
    pub async fn session_count(&self) -> i64 {
        let db = self.db().await;
        db.query_one("SELECT count(*) FROM sessions", &[])
            .await
            .unwrap()
            .get(0)
    }

    /// Blocks the write path: `LOCK TABLE todos IN SHARE MODE` blocks inserts but not selects.
    /// Returns the connection holding the lock (drop = rollback = unlock).
    pub async fn block_todo_inserts(&self) -> tokio_postgres::Client {
        let locker = self.db().await;
        locker
            .batch_execute("BEGIN; LOCK TABLE todos IN SHARE MODE")
            .await
            .unwrap();
        locker
    }

    /// Waits until `count` backends of this database wait on a lock, i.e. the writes are stuck
    /// holding their pool connections.
    pub async fn wait_for_blocked_backends(&self, count: i64) {
        let db = self.db().await;
        for _ in 0..200 {
            let blocked: i64 = db
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if blocked >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{count} writes never blocked on the lock");
    }

    /// A direct database connection, outside the service's pools.
    pub async fn db(&self) -> tokio_postgres::Client {
        db::connect_one(&self.database_url, "test").await.unwrap()
    }
}

/// Asserts a JSON error response with the given status and error code, and returns its body.
pub async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
    body
}

/// The value of the sample `name{labels}` in a Prometheus text exposition, whatever the order
/// of its labels; `None` if there is no such sample.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    wanted.sort();
    text.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (sample, label_text) = match series.split_once('{') {
            Some((sample, rest)) => (sample, rest.strip_suffix('}')?),
            None => (series, ""),
        };
        let mut found: Vec<String> = label_text
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(str::to_owned)
            .collect();
        found.sort();
        if sample != name || found != wanted {
            return None;
        }
        value.parse().ok()
    })
}
