//! Black-box tests: each starts the real service on free ports against a fresh database on the
//! lab's Postgres (`scripts/pg.sh start`; `TEST_ADMIN_DATABASE_URL` points elsewhere).

mod bad_input;
mod bulkhead;
mod database_loss;
mod helpers;
mod hygiene;
mod login;
mod login_timing;
mod metrics;
mod openapi;
mod seed;
mod sessions;
mod todos;
mod wire;
