use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use latency_proxy::metrics::ProxyMetrics;
use latency_proxy::{shutdown, Proxy};

/// A TCP proxy that delays every chunk by a fixed time in each direction (pure latency, no
/// bandwidth limit), so a local Postgres behaves like one across a network.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Address to accept connections on; port 0 picks a free one (printed once bound).
    #[arg(long, env = "PROXY_LISTEN", default_value = "127.0.0.1:54330")]
    listen: SocketAddr,

    /// Address (host:port) to forward each connection to.
    #[arg(long, env = "PROXY_UPSTREAM", default_value = "127.0.0.1:54329")]
    upstream: String,

    /// One-way delay in milliseconds, added in each direction (a round trip gains twice this).
    /// Fractions are allowed (0.5 is half a millisecond).
    #[arg(long, env = "PROXY_DELAY_MS", default_value_t = 1.0, value_parser = parse_delay_ms)]
    delay_ms: f64,

    /// Where to serve `GET /metrics` (connections, bytes per direction) for Prometheus; port 0
    /// picks a free one (printed once bound). Off when not given.
    #[arg(long, env = "PROXY_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
}

fn parse_delay_ms(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(ms) if ms.is_finite() && (0.0..=60_000.0).contains(&ms) => Ok(ms),
        _ => Err(format!("`{text}` is not a delay between 0 and 60000 ms")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let delay = Duration::from_secs_f64(cli.delay_ms / 1000.0);
    let proxy = match Proxy::bind(cli.listen, cli.upstream.clone(), delay).await {
        Ok(proxy) => proxy,
        Err(err) => {
            eprintln!("latency-proxy: cannot listen on {}: {err}", cli.listen);
            return ExitCode::FAILURE;
        }
    };
    let listen = proxy.local_addr().unwrap_or(cli.listen);
    println!(
        "proxying {listen} -> {} with {} ms one-way delay",
        cli.upstream, cli.delay_ms
    );
    if let Some(addr) = cli.metrics_listen {
        let listener = match ProxyMetrics::bind(addr).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("latency-proxy: cannot listen for metrics on {addr}: {err}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "metrics on http://{}/metrics",
            listener.local_addr().unwrap_or(addr)
        );
        let metrics = proxy.metrics();
        tokio::spawn(async move {
            if let Err(err) = metrics.serve(listener, shutdown::signal()).await {
                eprintln!("latency-proxy: the metrics listener failed: {err}");
            }
        });
    }
    proxy.run_until(shutdown::signal()).await;
    eprintln!("latency-proxy: stopped");
    ExitCode::SUCCESS
}
