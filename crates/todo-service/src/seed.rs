//! The `seed` and `add-user` subcommands: there is no signup endpoint, users come from here.
//!
//! Seeding hashes each distinct password once and inserts all users and todos with set-based
//! SQL (`generate_series`), so 1,000 users with 20 todos each take seconds, not one Argon2 hash
//! per user. Seeded load-test users therefore share one hash (and salt); that is fine for
//! synthetic accounts and keeps the login cost under load identical for every user.

use anyhow::Context;

use crate::auth::PasswordHasher;
use crate::config::{AddUserConfig, HashingConfig, SeedConfig};
use crate::db::{self, users};
use crate::domain::{Email, Password};

pub const DEMO_EMAIL: &str = "demo@lab.test";
pub const DEMO_PASSWORD: &str = "demo-password";
const DEMO_TODOS: &[&str] = &[
    "Read the lab's README",
    "Log in while the load runs",
    "Watch the read pool on the dashboard",
];

/// What a seed run created.
#[derive(Debug, PartialEq, Eq)]
pub struct SeedReport {
    pub users_created: u64,
    pub todos_created: u64,
}

pub async fn seed(
    database_url: &str,
    hashing: &HashingConfig,
    config: &SeedConfig,
) -> anyhow::Result<SeedReport> {
    db::migrate(database_url).await?;
    let hasher = PasswordHasher::new(hashing)?;
    let demo_hash = hasher.hash(&Password::parse(DEMO_PASSWORD.into())?).await?;
    let user_hash = hasher
        .hash(&Password::parse(config.password.clone())?)
        .await?;
    let client = db::connect_one(database_url, "seed").await?;

    let demo = client
        .execute(
            "WITH demo AS ( \
                 INSERT INTO users (email, password_hash) VALUES ($1, $2) \
                 ON CONFLICT (email) DO NOTHING RETURNING id) \
             INSERT INTO todos (user_id, title, created_at) \
             SELECT demo.id, t.title, now() - make_interval(mins => t.n::int) \
             FROM demo, unnest($3::text[]) WITH ORDINALITY AS t(title, n)",
            &[&DEMO_EMAIL, &demo_hash, &DEMO_TODOS],
        )
        .await
        .context("creating the demo account")?;

    // Users and their todos in one statement: only users created now get todos, so a second
    // run adds nothing.
    let row = client
        .query_one(
            "WITH new_users AS ( \
                 INSERT INTO users (email, password_hash) \
                 SELECT 'user' || i || '@lab.test', $1 FROM generate_series(1, $2::int) AS i \
                 ON CONFLICT (email) DO NOTHING RETURNING id), \
             new_todos AS ( \
                 INSERT INTO todos (user_id, title, created_at) \
                 SELECT u.id, 'Seeded todo #' || n, now() - make_interval(mins => n) \
                 FROM new_users u, generate_series(1, $3::int) AS n RETURNING 1) \
             SELECT (SELECT count(*) FROM new_users), (SELECT count(*) FROM new_todos)",
            &[
                &user_hash,
                &(config.users as i32),
                &(config.todos_per_user as i32),
            ],
        )
        .await
        .context("creating load-test users")?;
    let demo_created = u64::from(demo > 0);
    Ok(SeedReport {
        users_created: row.get::<_, i64>(0) as u64 + demo_created,
        todos_created: row.get::<_, i64>(1) as u64 + demo,
    })
}

pub async fn add_user(
    database_url: &str,
    hashing: &HashingConfig,
    config: &AddUserConfig,
) -> anyhow::Result<i64> {
    db::migrate(database_url).await?;
    let email = Email::parse(&config.email)?;
    let password = Password::parse(config.password.clone())?;
    let hash = PasswordHasher::new(hashing)?.hash(&password).await?;
    let client = db::connect_one(database_url, "add-user").await?;
    users::insert(&client, &email, &hash)
        .await?
        .with_context(|| format!("a user with email {} already exists", email.as_str()))
}
