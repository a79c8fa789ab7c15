//! Entry point: parses the configuration and hands it to the library.

use anyhow::Context;
use clap::Parser;
use todo_service::config::{Cli, Command};
use todo_service::startup::Application;
use todo_service::{db, seed};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tokio_postgres=warn,refinery_core=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let database_url = cli
        .database_url
        .context("set DATABASE_URL or --database-url")?;
    match cli.command {
        Command::Serve(config) => {
            db::migrate(&database_url).await?;
            let app = Application::build(&database_url, &config, &cli.hashing).await?;
            // Scripts and tests read these two lines to find the ports (port 0 = any free port).
            println!("listening on http://{}", app.api_addr());
            println!("metrics on http://{}", app.metrics_addr());
            tracing::info!(pool_mode = config.pools.pool_mode.as_str(), "serving");
            app.run_until_stopped().await
        }
        Command::Migrate => db::migrate(&database_url).await,
        Command::Seed(config) => {
            let started = std::time::Instant::now();
            let report = seed::seed(&database_url, &cli.hashing, &config).await?;
            println!(
                "seeded {} users and {} todos in {:.1} s (demo account: {} / {})",
                report.users_created,
                report.todos_created,
                started.elapsed().as_secs_f64(),
                seed::DEMO_EMAIL,
                seed::DEMO_PASSWORD
            );
            Ok(())
        }
        Command::AddUser(config) => {
            let id = seed::add_user(&database_url, &cli.hashing, &config).await?;
            println!("added user {} with id {id}", config.email);
            Ok(())
        }
    }
}
