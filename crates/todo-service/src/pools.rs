//! The pool-mode decision, in one place: which connection pool serves which endpoint.
//!
//! - [`PoolMode::Shared`] ("Act I"): one pool serves every query. A burst of logins and todo
//!   writes can hold every connection, and `GET /todos` then waits behind them until its acquire
//!   timeout answers 503: reads are crowded out, not slow.
//! - [`PoolMode::Isolated`] ("Act III"): three pools (`login`, `todo_write`, `todo_read`) on the
//!   same database. A request uses only its endpoint's pool, its session lookup included, so a
//!   write burst can exhaust the write pools but never the read pool.
//!
//! By default the isolated pools together hold exactly as many connections as the shared pool:
//! the fix adds boundaries, not capacity.
//!
//! Pools are deadpool-postgres pools: waiters queue first come, first served (a tokio semaphore)
//! and the pool reports how many wait, which is the very pressure the lab measures.
//!
//! A request gets its connection as a [`PooledClient`], which times how long the connection is
//! held (lent until dropped back into the pool): the demand side of the pool, next to the wait
//! that measures its shortage.

use std::ops::Deref;
use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool_postgres::{
    Client, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use prometheus::{Histogram, IntCounter};
use tokio_postgres::NoTls;

use crate::config::PoolConfig;
/// The mode is a configuration value, defined with the options; what it means is decided here.
pub use crate::config::PoolMode;
use crate::db;
use crate::endpoint::Endpoint;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Connection counts of the three isolated pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsolatedSizes {
    pub login: usize,
    pub todo_write: usize,
    pub todo_read: usize,
}

impl IsolatedSizes {
    /// Thirds of the shared pool's size (the remainder to reads), unless sized one by one.
    pub fn from_config(config: &PoolConfig) -> Self {
        let third = config.pool_size / 3;
        Self {
            login: config.login_pool_size.unwrap_or(third),
            todo_write: config.todo_write_pool_size.unwrap_or(third),
            todo_read: config
                .todo_read_pool_size
                .unwrap_or(config.pool_size - 2 * third),
        }
    }

    pub fn total(&self) -> usize {
        self.login + self.todo_write + self.todo_read
    }
}

/// A pool with the name it carries in metrics (`pool` label) and its instruments.
#[derive(Clone)]
pub struct NamedPool {
    name: &'static str,
    pool: Pool,
    acquire_wait: Histogram,
    acquire_timeouts: IntCounter,
}

impl NamedPool {
    fn build(
        name: &'static str,
        database_url: &str,
        size: usize,
        acquire_timeout: Duration,
        metrics: &Metrics,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(size >= 1, "pool `{name}` needs at least one connection");
        let pg_config = db::connection_config(database_url, name)?;
        let manager = Manager::from_config(
            pg_config,
            NoTls,
            // Fast: a returned connection is reused without a test query, so the pool adds no
            // round trip of its own to each request.
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .wait_timeout(Some(acquire_timeout))
            // Bounds the whole connect, handshake included (the driver's timeout is the TCP part).
            .create_timeout(Some(db::CONNECT_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .with_context(|| format!("building pool `{name}`"))?;
        metrics
            .pool_max_connections
            .with_label_values(&[name])
            .set(size as i64);
        Ok(Self {
            name,
            pool,
            acquire_wait: metrics.pool_acquire_wait_seconds.with_label_values(&[name]),
            acquire_timeouts: metrics
                .pool_acquire_timeouts_total
                .with_label_values(&[name]),
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }

    /// Waits (at most the acquire timeout) for a connection. A timeout is the pool running dry:
    /// it is counted and answered 503 `database_busy`. Private: requests acquire through
    /// [`EndpointPool::acquire`], so that every connection lent to a request is timed.
    async fn acquire(&self) -> Result<Object, ApiError> {
        let started = Instant::now();
        let result = self.pool.get().await;
        self.acquire_wait.observe(started.elapsed().as_secs_f64());
        result.map_err(|err| match err {
            PoolError::Timeout(TimeoutType::Wait) => {
                self.acquire_timeouts.inc();
                ApiError::DatabaseBusy
            }
            // No idle connection was left and opening a new one failed or timed out: the
            // database is down or restarting. The next acquire tries to connect again.
            PoolError::Backend(_) | PoolError::Timeout(_) => ApiError::database_unavailable(
                anyhow::Error::new(err).context(format!("pool `{}`", self.name)),
            ),
            other => ApiError::Internal(
                anyhow::Error::new(other).context(format!("pool `{}`", self.name)),
            ),
        })
    }
}

/// The pool one endpoint uses, as [`Pools::for_endpoint`] chose it, with that endpoint's
/// hold-time histogram. In shared mode the three endpoints' `EndpointPool`s share one pool and
/// differ only in the `endpoint` label their hold times carry.
#[derive(Clone)]
pub struct EndpointPool {
    pool: NamedPool,
    /// `db_pool_connection_hold_seconds{pool, endpoint}` for this pool and endpoint, resolved
    /// once here rather than by label lookup on every acquire.
    hold: Histogram,
}

impl EndpointPool {
    fn new(pool: NamedPool, endpoint: Endpoint, metrics: &Metrics) -> Self {
        let hold = metrics
            .pool_connection_hold_seconds
            .with_label_values(&[pool.name, endpoint.label()]);
        Self { pool, hold }
    }

    /// A connection for one request, waited for as [`NamedPool`] describes (503 on timeout).
    /// Its hold time is recorded when the returned client is dropped.
    pub async fn acquire(&self) -> Result<PooledClient, ApiError> {
        let client = self.pool.acquire().await?;
        Ok(PooledClient {
            client,
            lent_at: Instant::now(),
            hold: self.hold.clone(),
        })
    }
}

/// A pooled connection lent to a request. Dropping it returns the connection to the pool and
/// records how long it was held in `db_pool_connection_hold_seconds` (HikariCP's "usage").
///
/// Why: hold time is what a request costs the pool. Its sum over requests, divided by their
/// number, is the connection-seconds per request, and a pool of `n` connections serves at most
/// `n` divided by that, in requests per second (Little's law). The acquire wait only shows that
/// a pool ran short, not why. Every acquisition counts, so a login (two acquisitions: user lookup,
/// then session insert, with the password check in between) records two holds.
pub struct PooledClient {
    client: Object,
    lent_at: Instant,
    hold: Histogram,
}

impl Deref for PooledClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for PooledClient {
    /// Runs before the `client` field is dropped, i.e. just before the connection goes back.
    fn drop(&mut self) {
        self.hold.observe(self.lent_at.elapsed().as_secs_f64());
    }
}

/// The service's pools, one per endpoint slot. In shared mode all three slots hold the same pool.
#[derive(Clone)]
pub struct Pools {
    mode: PoolMode,
    login: EndpointPool,
    todo_write: EndpointPool,
    todo_read: EndpointPool,
}

impl Pools {
    /// The mode decision: one shared pool, or one pool per endpoint.
    pub fn build(
        database_url: &str,
        config: &PoolConfig,
        metrics: &Metrics,
    ) -> anyhow::Result<Self> {
        let timeout = config.acquire_timeout;
        let pools = match config.pool_mode {
            PoolMode::Shared => {
                let shared =
                    NamedPool::build("shared", database_url, config.pool_size, timeout, metrics)?;
                Self {
                    mode: config.pool_mode,
                    login: EndpointPool::new(shared.clone(), Endpoint::Login, metrics),
                    todo_write: EndpointPool::new(shared.clone(), Endpoint::CreateTodo, metrics),
                    todo_read: EndpointPool::new(shared, Endpoint::ListTodos, metrics),
                }
            }
            PoolMode::Isolated => {
                let sizes = IsolatedSizes::from_config(config);
                let build =
                    |name, size| NamedPool::build(name, database_url, size, timeout, metrics);
                Self {
                    mode: config.pool_mode,
                    login: EndpointPool::new(
                        build("login", sizes.login)?,
                        Endpoint::Login,
                        metrics,
                    ),
                    todo_write: EndpointPool::new(
                        build("todo_write", sizes.todo_write)?,
                        Endpoint::CreateTodo,
                        metrics,
                    ),
                    todo_read: EndpointPool::new(
                        build("todo_read", sizes.todo_read)?,
                        Endpoint::ListTodos,
                        metrics,
                    ),
                }
            }
        };
        Ok(pools)
    }

    pub fn mode(&self) -> PoolMode {
        self.mode
    }

    /// The pool every query of `endpoint` goes through.
    pub fn for_endpoint(&self, endpoint: Endpoint) -> &EndpointPool {
        match endpoint {
            Endpoint::Login => &self.login,
            Endpoint::CreateTodo => &self.todo_write,
            Endpoint::ListTodos => &self.todo_read,
        }
    }

    /// Sets the pool gauges (in use, idle, waiters) to each pool's state now; called just before a
    /// scrape is encoded, so they are exact at that instant.
    pub fn record_gauges(&self, metrics: &Metrics) {
        for pool in self.distinct() {
            let status = pool.status();
            let name = [pool.name()];
            metrics
                .pool_connections_in_use
                .with_label_values(&name)
                .set((status.size - status.available) as i64);
            metrics
                .pool_connections_idle
                .with_label_values(&name)
                .set(status.available as i64);
            metrics
                .pool_waiters
                .with_label_values(&name)
                .set(status.waiting as i64);
        }
    }

    /// Each distinct pool once (one in shared mode, three in isolated mode).
    pub fn distinct(&self) -> Vec<&NamedPool> {
        let mut pools: Vec<&NamedPool> = Vec::with_capacity(3);
        for pool in [
            &self.login.pool,
            &self.todo_write.pool,
            &self.todo_read.pool,
        ] {
            if !pools.iter().any(|seen| seen.name == pool.name) {
                pools.push(pool);
            }
        }
        pools
    }

    /// Opens every connection up front, so that both modes start a run with full, warm pools
    /// and a bad database URL fails at start-up instead of on the first request.
    pub async fn fill(&self) -> anyhow::Result<()> {
        for named in self.distinct() {
            let max = named.status().max_size;
            let mut held = Vec::with_capacity(max);
            for _ in 0..max {
                let conn = named
                    .pool
                    .get()
                    .await
                    .with_context(|| format!("connecting pool `{}`", named.name))?;
                held.push(conn);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pool_size: usize) -> PoolConfig {
        PoolConfig {
            pool_mode: PoolMode::Isolated,
            pool_size,
            login_pool_size: None,
            todo_write_pool_size: None,
            todo_read_pool_size: None,
            acquire_timeout: Duration::from_millis(500),
        }
    }

    #[test]
    fn isolated_pools_split_the_shared_size_without_adding_connections() {
        for size in 3..40 {
            let sizes = IsolatedSizes::from_config(&config(size));
            assert_eq!(sizes.total(), size);
            assert!(sizes.todo_read >= sizes.login && sizes.login == sizes.todo_write);
        }
        assert_eq!(
            IsolatedSizes::from_config(&config(12)),
            IsolatedSizes {
                login: 4,
                todo_write: 4,
                todo_read: 4
            }
        );
    }

    #[test]
    fn explicit_sizes_override_the_split() {
        let mut config = config(12);
        config.todo_read_pool_size = Some(6);
        let sizes = IsolatedSizes::from_config(&config);
        assert_eq!(
            sizes,
            IsolatedSizes {
                login: 4,
                todo_write: 4,
                todo_read: 6
            }
        );
    }
}
