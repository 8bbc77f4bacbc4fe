//! A webhook intake server with axum: how a host application wires Cartograph into its own
//! HTTP stack.
//!
//! ```sh
//! # against real accounts
//! BIGCOMMERCE_STORE_HASH=abc123 BIGCOMMERCE_TOKEN=... BIGCOMMERCE_WEBHOOK_SECRET=... \
//! HUBSPOT_TOKEN=pat-... HUBSPOT_CLIENT_SECRET=... HUBSPOT_APP_ID=123456 \
//! CARTOGRAPH_BASE_CURRENCY=USD CARTOGRAPH_RATES="EUR=1.08,GBP=1.27" \
//! cargo run --release --example webhook_server -- 0.0.0.0:8080 cartograph.sqlite
//!
//! # or against the simulators, for a local try
//! cargo run --release --example webhook_server -- --sim
//! ```
//!
//! Routes: `POST /webhooks/commerce` (BigCommerce) and `POST /webhooks/crm` (HubSpot). Each
//! request is verified and committed to the durable queue before the answer goes out (200;
//! 401 for a bad signature; 503 when the store cannot commit, so the vendor retries). Two
//! workers drain the queue in the background. Ctrl-C stops accepting requests, lets the
//! workers finish and settle their batches, and exits.
//!
//! Settings that protect the data:
//! - `HUBSPOT_APP_ID` (required with real accounts): the loop guard. HubSpot webhook events
//!   whose source is this app are echoes of our own writes and are dropped; without it every
//!   write would come back as a CRM change. `CARTOGRAPH_NO_LOOP_GUARD=1` starts without it
//!   (only for an app that subscribes to no contact events).
//! - `CARTOGRAPH_BASE_CURRENCY` (default USD) and `CARTOGRAPH_RATES` (`CODE=rate,...`, how many
//!   base units one unit of CODE is worth): orders in a currency without a rate are
//!   dead-lettered ("no exchange rate"), never converted at a guess. With `--sim` the
//!   simulator's currencies get example rates.
//! - `CARTOGRAPH_PUBLIC_URL`: the URL HubSpot calls (its v3 signature covers it) when the
//!   server runs behind a proxy; `CARTOGRAPH_TRUSTED_PROXIES` (comma-separated IPs) whose
//!   `X-Forwarded-*` headers are honoured instead.

use std::sync::Arc;

use cartograph::bigcommerce::{BigCommerce, BigCommerceConfig};
use cartograph::connector::{CommerceSource, CommerceWriter, CrmSink, CrmSource};
use cartograph::core::metrics::Rates;
use cartograph::http::Secret;
use cartograph::hubspot::{HubSpot, HubSpotAuth, HubSpotConfig};
use cartograph::model::{Currency, Decimal};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{EngineConfig, Pipeline, Store};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn env(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("set {name} (or run with --sim)").into())
}

/// Exchange rates from `CARTOGRAPH_BASE_CURRENCY` and `CARTOGRAPH_RATES`; example rates for
/// the simulators' currencies with `--sim` when none are set.
fn rates(sim: bool) -> Result<Rates, BoxError> {
    let base: Currency = std::env::var("CARTOGRAPH_BASE_CURRENCY")
        .unwrap_or_else(|_| "USD".into())
        .parse()?;
    let mut rates = Rates::new(base);
    match std::env::var("CARTOGRAPH_RATES") {
        Ok(list) => {
            for pair in list.split(',').filter(|p| !p.trim().is_empty()) {
                let (code, rate) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("CARTOGRAPH_RATES: {pair:?} is not CODE=rate"))?;
                let rate: Decimal = rate
                    .trim()
                    .parse()
                    .map_err(|e| format!("CARTOGRAPH_RATES: rate of {code}: {e}"))?;
                rates = rates.with_rate(code.trim().parse()?, rate);
            }
        }
        Err(_) if sim => {
            rates = rates
                .with_rate(Currency::EUR, Decimal::new(108, 2))
                .with_rate(Currency::GBP, Decimal::new(127, 2))
                .with_rate(Currency::JPY, Decimal::new(67, 4));
        }
        Err(_) => eprintln!(
            "CARTOGRAPH_RATES not set: orders in currencies other than {base} will be \
             dead-lettered for a missing exchange rate"
        ),
    }
    Ok(rates)
}

/// The connectors, from the environment or from freshly started simulators.
async fn connectors(
    sim: bool,
    keep: &mut Vec<Box<dyn std::any::Any + Send>>,
) -> Result<(Arc<BigCommerce>, Arc<HubSpot>), BoxError> {
    if sim {
        let bc = cartograph::bigcommerce::sim::BigCommerceSim::start(
            cartograph::bigcommerce::sim::SimConfig::default(),
        )
        .await?;
        let hs = cartograph::hubspot::sim::HubSpotSim::start(
            cartograph::hubspot::sim::SimConfig::default(),
        )
        .await?;
        let pair = (
            Arc::new(BigCommerce::new(bc.connector_config().build()?)?),
            Arc::new(HubSpot::new(hs.connector_config()?.build()?)?),
        );
        eprintln!(
            "simulators: BigCommerce {} HubSpot {}",
            bc.base_url(),
            hs.base_url()
        );
        keep.push(Box::new(bc));
        keep.push(Box::new(hs));
        return Ok(pair);
    }
    let bc = BigCommerceConfig::builder(env("BIGCOMMERCE_STORE_HASH")?, env("BIGCOMMERCE_TOKEN")?)
        .webhook_header_secret(env("BIGCOMMERCE_WEBHOOK_SECRET")?)
        .build()?;
    let hs = HubSpotConfig::builder(HubSpotAuth::PrivateApp {
        token: Secret::new(env("HUBSPOT_TOKEN")?),
    })
    .client_secret(Secret::new(env("HUBSPOT_CLIENT_SECRET")?));
    let hs = match std::env::var("HUBSPOT_APP_ID") {
        Ok(app_id) => hs.app_id(app_id),
        Err(_) if std::env::var("CARTOGRAPH_NO_LOOP_GUARD").as_deref() == Ok("1") => {
            eprintln!("loop guard off: HubSpot echoes of our own writes will be processed");
            hs
        }
        Err(_) => {
            return Err(
                "set HUBSPOT_APP_ID (the loop guard: our own writes are recognised by \
                        it), or CARTOGRAPH_NO_LOOP_GUARD=1"
                    .into(),
            );
        }
    };
    let hs = hs.build()?;
    Ok((Arc::new(BigCommerce::new(bc)?), Arc::new(HubSpot::new(hs)?)))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sim = args.iter().any(|a| a == "--sim");
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let addr = positional.first().map_or("127.0.0.1:8080", |s| s.as_str());
    let db = positional
        .get(1)
        .map_or("cartograph.sqlite", |s| s.as_str());

    let mut keep = Vec::new();
    let (bigcommerce, hubspot) = connectors(sim, &mut keep).await?;
    hubspot
        .ensure_properties(&hubspot.required_properties())
        .await?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(db)?);
    let pipeline = Arc::new(
        Pipeline::builder()
            .source(Arc::clone(&bigcommerce) as Arc<dyn CommerceSource>)
            .writer(bigcommerce as Arc<dyn CommerceWriter>)
            .sink(Arc::clone(&hubspot) as Arc<dyn CrmSink>)
            .crm_source(hubspot as Arc<dyn CrmSource>)
            .store(store)
            .engine(EngineConfig::for_profile(
                &cartograph::hubspot::profile(),
                rates(sim)?,
            )?)
            .build()
            .await?,
    );

    let workers = pipeline.spawn_workers(2);

    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!(
        "listening on http://{}/webhooks/{{commerce,crm}}",
        listener.local_addr()?
    );
    // Header/body read timeouts, a connection limit and the body limit; set `public_url`
    // (the URL HubSpot calls) and `trusted_proxies` when running behind a reverse proxy.
    let mut server = cartograph::sync::router::IntakeServerConfig {
        public_url: std::env::var("CARTOGRAPH_PUBLIC_URL").ok(),
        ..cartograph::sync::router::IntakeServerConfig::default()
    };
    if let Ok(list) = std::env::var("CARTOGRAPH_TRUSTED_PROXIES") {
        for ip in list.split(',').filter(|p| !p.trim().is_empty()) {
            server.trusted_proxies.push(ip.trim().parse()?);
        }
    }
    cartograph::sync::router::serve_intake(
        listener,
        cartograph::sync::router::intake_router_with(Arc::clone(&pipeline), server.clone()),
        &server,
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await?;

    eprintln!("stopping: finishing in-flight batches");
    for report in workers.shutdown().await? {
        eprintln!("worker done: {report:?}");
    }
    eprintln!("counters: {:?}", pipeline.counters());
    Ok(())
}
