//! Command line and environment options. Every option is a flag with an environment twin, so
//! scripts, tests and the experiment runner can all configure the service the same way.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "todo-service",
    version,
    about = "The todo service under test in the pool-isolation lab"
)]
pub struct Cli {
    /// PostgreSQL connection URL, e.g. postgres://postgres@127.0.0.1:54329/lab.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    #[command(flatten)]
    pub hashing: HashingConfig,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (public API and metrics listener).
    // Boxed: its options are many times the size of the other subcommands'.
    Serve(Box<ServeConfig>),
    /// Apply the schema migrations.
    Migrate,
    /// Create the demo account and N load-test users with M todos each.
    Seed(SeedConfig),
    /// Add one user.
    AddUser(AddUserConfig),
}

/// Argon2id parameters used to hash new passwords (and, through the dummy hash, to answer logins
/// for unknown emails). The defaults are OWASP's minimum for Argon2id: m=19 MiB, t=2, p=1.
/// A stored hash carries its own parameters, so they also fix what verifying it costs at login.
#[derive(Debug, Clone, Args)]
pub struct HashingConfig {
    /// Argon2id memory cost in KiB.
    #[arg(
        long,
        env = "ARGON2_MEMORY_KIB",
        default_value_t = 19_456,
        global = true
    )]
    pub argon2_memory_kib: u32,
    /// Argon2id iterations (time cost).
    #[arg(long, env = "ARGON2_ITERATIONS", default_value_t = 2, global = true)]
    pub argon2_iterations: u32,
    /// Argon2id lanes (parallelism).
    #[arg(long, env = "ARGON2_PARALLELISM", default_value_t = 1, global = true)]
    pub argon2_parallelism: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address of the public API.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Address of the metrics and health listener, kept off the public port.
    #[arg(long, env = "METRICS_LISTEN_ADDR", default_value = "127.0.0.1:9090")]
    pub metrics_listen: SocketAddr,
    #[command(flatten)]
    pub pools: PoolConfig,
    /// How long a session lasts, in seconds.
    #[arg(long, env = "SESSION_TTL_SECS", default_value_t = 86_400)]
    pub session_ttl_secs: u32,
    /// Mark the session cookie `Secure` (set this when serving over HTTPS).
    #[arg(long, env = "COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,
    /// How often expired sessions are deleted (in small batches), in seconds.
    #[arg(long, env = "SESSION_SWEEP_INTERVAL_SECS", default_value_t = 60)]
    pub session_sweep_interval_secs: u64,
    #[command(flatten)]
    pub http: HttpLimits,
    #[command(flatten)]
    pub login: LoginLimits,
}

/// What one client connection may cost the service: slow and idle clients are closed, and the
/// number of open connections is capped, so that they cannot starve normal requests.
/// [`crate::server`] enforces them on both listeners (the metrics listener with its own cap).
#[derive(Debug, Clone, Copy, Args)]
pub struct HttpLimits {
    /// Time a client has to send a request's headers, in ms: from accept on a new connection,
    /// from the first byte of the next request on a kept-alive one. Without it a client dripping
    /// header bytes (slowloris) holds a connection, a file descriptor and a task forever.
    #[arg(
        long = "header-read-timeout-ms",
        env = "HEADER_READ_TIMEOUT_MS",
        value_name = "MS",
        value_parser = millis,
        default_value = "5000"
    )]
    pub header_read: Duration,
    /// Time a client has to send a request's body once its headers arrived, in ms; past it the
    /// request is answered 408 `request_timeout` and the connection closed. Without it a body
    /// shorter than its Content-Length holds the handler (and anything it holds) until the client
    /// gives up.
    #[arg(
        long = "request-body-timeout-ms",
        env = "REQUEST_BODY_TIMEOUT_MS",
        value_name = "MS",
        value_parser = millis,
        default_value = "5000"
    )]
    pub request_body: Duration,
    /// An idle keep-alive connection is closed after this long without a new request, in ms.
    /// Longer than the header timeout so that clients reusing connections between requests (k6,
    /// browsers) rarely race a close; short enough that abandoned connections give their slot
    /// back.
    #[arg(
        long = "idle-timeout-ms",
        env = "IDLE_TIMEOUT_MS",
        value_name = "MS",
        value_parser = millis,
        default_value = "30000"
    )]
    pub idle: Duration,
    /// Most client connections open at once on the public API; past it new ones wait in the
    /// listen backlog. Lowered at start-up to fit the file-descriptor limit with a reserve for
    /// database connections and files, so that many sockets cannot make the service fail to open
    /// what it needs to answer (the effective cap is logged). 10,000 is far above the lab's
    /// bursts (about 800 connections).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// On SIGTERM, how long requests in flight may take to finish before the remaining
    /// connections are dropped, in ms; idle ones are closed at once. Bounds a stop (and a deploy).
    #[arg(
        long = "shutdown-grace-ms",
        env = "SHUTDOWN_GRACE_MS",
        value_name = "MS",
        value_parser = millis,
        default_value = "10000"
    )]
    pub shutdown_grace: Duration,
}

impl HttpLimits {
    /// The same limits with another connection cap (the one fitted to the file-descriptor limit,
    /// or the metrics listener's own).
    pub fn with_max_connections(self, max_connections: usize) -> Self {
        Self {
            max_connections,
            ..self
        }
    }
}

/// Bounds on the work a login may cause: the wait for a hashing slot, and failed attempts.
#[derive(Debug, Clone, Args)]
pub struct LoginLimits {
    /// Longest wait for a password-hashing slot, in ms; past it the login is answered 503
    /// `login_busy`.
    #[arg(
        long = "hash-wait-timeout-ms",
        env = "HASH_WAIT_TIMEOUT_MS",
        value_name = "MS",
        value_parser = millis,
        default_value = "1000"
    )]
    pub hash_wait_timeout: Duration,
    /// Failed logins for one email after which further attempts are answered 429 (at least 1).
    #[arg(
        long,
        env = "LOGIN_FAILURES_BEFORE_LOCK",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub failures_before_lock: u32,
    /// How long an email stays locked (and how long failures are remembered), in seconds.
    #[arg(long, env = "LOGIN_LOCK_SECS", default_value_t = 300)]
    pub lock_secs: u64,
}

/// Parses a duration option given in whole milliseconds (the options named `-ms`), so that code
/// past the command line only sees [`Duration`]s and no field says its unit in its name.
fn millis(text: &str) -> Result<Duration, std::num::ParseIntError> {
    text.parse().map(Duration::from_millis)
}

/// `shared`: one pool for every endpoint (Act I); `isolated`: one pool per endpoint (Act III). What
/// each means for the queries is decided in [`crate::pools`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PoolMode {
    Shared,
    Isolated,
}

impl PoolMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shared => "shared",
            Self::Isolated => "isolated",
        }
    }
}

/// Pool sizes and timeouts. See [`crate::pools`] for how the mode uses them.
#[derive(Debug, Clone, Args)]
pub struct PoolConfig {
    /// `shared`: one pool for every endpoint (Act I). `isolated`: one pool per endpoint (Act III).
    #[arg(long, env = "POOL_MODE", value_enum, default_value_t = PoolMode::Shared)]
    pub pool_mode: PoolMode,
    /// Connections of the shared pool, and the total of the isolated pools unless sized one by one.
    /// Twelve is a typical small-service pool, a few per core, small enough to run dry in a burst.
    #[arg(long, env = "POOL_SIZE", default_value_t = 12)]
    pub pool_size: usize,
    /// Isolated mode: connections for `POST /login` (default: a third of --pool-size).
    #[arg(long, env = "LOGIN_POOL_SIZE")]
    pub login_pool_size: Option<usize>,
    /// Isolated mode: connections for `POST /todos` (default: a third of --pool-size).
    #[arg(long, env = "TODO_WRITE_POOL_SIZE")]
    pub todo_write_pool_size: Option<usize>,
    /// Isolated mode: connections for `GET /todos` (default: the rest of --pool-size).
    #[arg(long, env = "TODO_READ_POOL_SIZE")]
    pub todo_read_pool_size: Option<usize>,
    /// How long a request waits for a connection before it is answered 503, in ms.
    #[arg(
        long = "acquire-timeout-ms",
        env = "ACQUIRE_TIMEOUT_MS",
        value_name = "MS",
        value_parser = millis,
        default_value = "500"
    )]
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct SeedConfig {
    /// Number of load-test users, user1@lab.test .. userN@lab.test.
    #[arg(long, default_value_t = 1000)]
    pub users: u32,
    /// Todos created for each load-test user.
    #[arg(long, default_value_t = 20)]
    pub todos_per_user: u32,
    /// Password of every load-test user.
    #[arg(
        long,
        env = "SEED_PASSWORD",
        default_value = "lab-password",
        hide_env_values = true
    )]
    pub password: String,
}

#[derive(Debug, Clone, Args)]
pub struct AddUserConfig {
    #[arg(long)]
    pub email: String,
    #[arg(long, env = "NEW_USER_PASSWORD", hide_env_values = true)]
    pub password: String,
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use clap::CommandFactory;

    use super::*;

    /// Reads one option's parsed value.
    type Field = fn(&ServeConfig) -> Duration;

    /// Every duration option given in ms: its flag, its environment twin, its default in ms and
    /// where the parsed value lands. Scripts, the experiment runner and docs/contract.md use
    /// these names.
    const MILLISECOND_OPTIONS: &[(&str, &str, u64, Field)] = &[
        (
            "header-read-timeout-ms",
            "HEADER_READ_TIMEOUT_MS",
            5_000,
            |c| c.http.header_read,
        ),
        (
            "request-body-timeout-ms",
            "REQUEST_BODY_TIMEOUT_MS",
            5_000,
            |c| c.http.request_body,
        ),
        ("idle-timeout-ms", "IDLE_TIMEOUT_MS", 30_000, |c| {
            c.http.idle
        }),
        ("shutdown-grace-ms", "SHUTDOWN_GRACE_MS", 10_000, |c| {
            c.http.shutdown_grace
        }),
        ("acquire-timeout-ms", "ACQUIRE_TIMEOUT_MS", 500, |c| {
            c.pools.acquire_timeout
        }),
        ("hash-wait-timeout-ms", "HASH_WAIT_TIMEOUT_MS", 1_000, |c| {
            c.login.hash_wait_timeout
        }),
    ];

    fn serve(flags: &[String]) -> ServeConfig {
        let args = ["todo-service".to_owned(), "serve".to_owned()];
        match Cli::try_parse_from(args.iter().chain(flags))
            .unwrap()
            .command
        {
            Command::Serve(config) => *config,
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn millisecond_options_parse_into_durations_with_their_defaults() {
        let defaults = serve(&[]);
        let flags: Vec<String> = MILLISECOND_OPTIONS
            .iter()
            .enumerate()
            .flat_map(|(i, (flag, ..))| [format!("--{flag}"), (i + 1).to_string()])
            .collect();
        let given = serve(&flags);
        for (i, &(flag, _, default_ms, value)) in MILLISECOND_OPTIONS.iter().enumerate() {
            assert_eq!(
                value(&defaults),
                Duration::from_millis(default_ms),
                "{flag}"
            );
            assert_eq!(value(&given), Duration::from_millis(i as u64 + 1), "{flag}");
        }
        assert!(Cli::try_parse_from(["todo-service", "serve", "--idle-timeout-ms", "2s"]).is_err());
    }

    #[test]
    fn millisecond_options_keep_their_environment_names() {
        let cli = Cli::command();
        let serve = cli.find_subcommand("serve").unwrap();
        for &(flag, env, ..) in MILLISECOND_OPTIONS {
            let arg = serve
                .get_arguments()
                .find(|arg| arg.get_long() == Some(flag))
                .unwrap_or_else(|| panic!("no --{flag}"));
            assert_eq!(arg.get_env(), Some(OsStr::new(env)), "--{flag}");
        }
    }
}
