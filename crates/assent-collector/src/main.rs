//! `assent-collector`: serve the reference collector.

use std::net::SocketAddr;
use std::path::PathBuf;

/// mimalloc: many small allocations per request from two threads (JSON, headers, strings).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{bail, Context, Result};
use assent_collector::{app, system_clock, AppState, Settings, Store};
use clap::Parser;

/// Verifies signed consent receipts, appends them to storage, and answers the purpose-scoped gate.
#[derive(Debug, Parser)]
#[command(name = "assent-collector", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "ASSENT_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// SQLite database file (created if missing).
    #[arg(long, env = "ASSENT_DB", default_value = "assent-receipts.sqlite")]
    db: PathBuf,
    /// PostgreSQL URL (postgres://…) for several instances behind a load balancer.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Bearer key that unlocks GET /v1/subjects/{id}/receipts.
    #[arg(long, env = "ASSENT_API_KEY")]
    api_key: Option<String>,
    /// Origins allowed to post receipts (CORS), comma-separated.
    #[arg(long = "allow-origin", env = "ASSENT_ALLOW_ORIGINS", value_delimiter = ',')]
    allow_origins: Vec<String>,
    /// Requests per minute per client address (requests with the API key are not limited).
    #[arg(long, env = "ASSENT_RATE_LIMIT", default_value_t = 600)]
    rate_limit: u32,
    /// Behind a reverse proxy or load balancer: take the client address from the last
    /// X-Forwarded-For entry. Only set it when every request comes through that proxy.
    #[arg(long, env = "ASSENT_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// The collector's Ed25519 signing key, a PKCS#8 PEM file (`openssl genpkey -algorithm ed25519`).
    /// Without it, a key stored in the database signs.
    #[arg(long, env = "ASSENT_SIGNING_KEY_FILE")]
    signing_key: Option<PathBuf>,
    /// With --signing-key: keep publishing the key stored in the database, so the acks it signed
    /// before still verify (whoever can read the database can then sign acks that verify too).
    #[arg(long, env = "ASSENT_PUBLISH_DATABASE_KEY")]
    publish_database_key: bool,
    /// A key that signed acks before (after a rotation), kept in the JWKS so those acks still verify:
    /// a PEM file with its public key (`openssl pkey -pubout`) or its private key. Repeatable.
    #[arg(long = "retired-key", env = "ASSENT_RETIRED_KEY_FILES", value_delimiter = ',')]
    retired_keys: Vec<PathBuf>,
    /// A URL that gets each withdrawal and expiry of consent as a POST signed with the collector's key
    /// (application/jose; verify it against /.well-known/jwks.json), retried with backoff until it
    /// answers 2xx. Repeatable.
    #[arg(long = "webhook", env = "ASSENT_WEBHOOKS", value_delimiter = ',')]
    webhooks: Vec<String>,
    /// Log lines as human-readable text, or as one JSON object per line for a log pipeline.
    #[arg(long, env = "ASSENT_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()));
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let store = match &args.database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            // Never print credentials: only what follows the `@`, without the query (it may hold
            // `password=`).
            let place = url.rsplit('@').next().unwrap_or("").split('?').next().unwrap_or("");
            Store::open_postgres(url).await.with_context(|| format!("PostgreSQL at {place}"))?
        }
        Some(url) => bail!(
            "--database-url must start with postgres:// (got `{}`); for SQLite use --db <file>",
            url.split(':').next().unwrap_or("")
        ),
        None => Store::open(&args.db).with_context(|| format!("open {}", args.db.display()))?,
    };
    let signing_key = match &args.signing_key {
        Some(path) => {
            use ed25519_dalek::pkcs8::DecodePrivateKey;
            let pem =
                std::fs::read_to_string(path).with_context(|| format!("read --signing-key {}", path.display()))?;
            let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
                anyhow::anyhow!("--signing-key {}: not an Ed25519 private key in PKCS#8 PEM ({e}); make one with `openssl genpkey -algorithm ed25519`", path.display())
            })?;
            Some(assent_collector::Secret(key.to_bytes()))
        }
        None => None,
    };
    let retired_keys = args
        .retired_keys
        .iter()
        .map(|path| {
            use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
            let pem =
                std::fs::read_to_string(path).with_context(|| format!("read --retired-key {}", path.display()))?;
            ed25519_dalek::VerifyingKey::from_public_key_pem(&pem)
                .or_else(|_| ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).map(|k| k.verifying_key()))
                .map(|k| k.to_bytes())
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--retired-key {}: not an Ed25519 public key (SPKI PEM) or private key (PKCS#8 PEM)",
                        path.display()
                    )
                })
        })
        .collect::<Result<Vec<_>>>()?;
    for url in &args.webhooks {
        assent_collector::webhooks::check_url(url).map_err(anyhow::Error::msg)?;
    }
    let settings = Settings {
        webhooks: args.webhooks,
        signing_key,
        retired_keys,
        publish_database_key: args.publish_database_key,
        api_key: args.api_key,
        allow_origins: args.allow_origins,
        rate_limit_per_minute: args.rate_limit,
        trust_forwarded_for: args.trust_forwarded_for,
        ..Settings::default()
    };
    let state = AppState::new(store, settings, system_clock()).await?;
    assent_collector::start_background(&state).await?;
    let stop = stopped()?;
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listen on {}", args.listen))?;
    let storage = if args.database_url.is_some() { "postgresql".to_string() } else { args.db.display().to_string() };
    tracing::info!(listen = %args.listen, storage = %storage, "assent-collector ready");
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stop)
        .await?;
    tracing::info!("assent-collector stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM (what `docker stop`, systemd and Kubernetes send): stop accepting, finish the
/// requests in flight (each is answered only after its commit), then exit 0. The handlers are installed
/// here, before the collector says it is ready, so a signal sent right after is never the default kill.
fn stopped() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let wait = {
        use tokio::signal::unix::{signal, SignalKind};
        let handler = |kind| signal(kind).context("install the SIGTERM/SIGINT handlers");
        let (mut term, mut int) = (handler(SignalKind::terminate())?, handler(SignalKind::interrupt())?);
        async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
    };
    #[cfg(windows)]
    let wait = {
        let mut ctrl_c = tokio::signal::windows::ctrl_c().context("install the Ctrl-C handler")?;
        async move {
            ctrl_c.recv().await;
        }
    };
    Ok(async move {
        wait.await;
        tracing::info!("stopping: finishing the requests in flight");
    })
}
