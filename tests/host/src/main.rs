//! What a host gets from the README's dependency line alone: the two connectors it names and
//! the default features (the sync runtime and the SQLite store), all through `cartograph::`.
//! Builds everything that needs no network and prints one line per part.

use std::error::Error;

use cartograph::bigcommerce::{BigCommerce, BigCommerceConfig};
use cartograph::connector::{CommerceSource, CrmSink};
use cartograph::core::metrics::Rates;
use cartograph::http::Secret;
use cartograph::hubspot::{HubSpot, HubSpotAuth, HubSpotConfig};
use cartograph::model::{Currency, Money, Order, RecordKind, SourceRef, Timestamp};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::EngineConfig;

fn main() -> Result<(), Box<dyn Error>> {
    let bigcommerce = BigCommerce::new(
        BigCommerceConfig::builder("abc123", "access-token")
            .webhook_header_secret("shared-secret")
            .build()?,
    )?;
    let hubspot = HubSpot::new(
        HubSpotConfig::builder(HubSpotAuth::PrivateApp {
            token: Secret::new("pat-na1-example"),
        })
        .client_secret(Secret::new("app-client-secret"))
        .app_id("1234567")
        .build()?,
    )?;
    let engine =
        EngineConfig::for_profile(&cartograph::hubspot::profile(), Rates::new(Currency::USD))?;
    let dir = std::env::temp_dir().join(format!("cartograph-readme-host-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = SqliteStore::open(dir.join("host.sqlite"))?;
    let order = Order::builder(
        SourceRef::new(bigcommerce.name(), RecordKind::Order, "100"),
        Currency::USD,
        Timestamp::now(),
    )
    .shipping(Money::from_minor(599, Currency::USD))
    .build()?;
    println!("source: {}", bigcommerce.name());
    println!("sink: {}", hubspot.name());
    println!(
        "engine: profile {}",
        engine.profile.as_deref().unwrap_or("none")
    );
    println!("store: {store:?}");
    println!("order: {} total {}", order.source, order.total);
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
