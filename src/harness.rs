//! The pair harness (feature `sim`): one commerce simulator, one CRM simulator and a
//! pipeline between them, wired the same way for every pair. The demo, the end-to-end tests
//! and `bench_report` all build their worlds with it, so a new connector's simulator plugs
//! into all three by implementing [`CommerceSimulator`] or [`CrmSimulator`].
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn cartograph::sync::Store>) -> Result<(), Box<dyn std::error::Error>> {
//! use cartograph::harness::{CommerceSystem, CrmSystem, Harness, start_commerce, start_crm};
//! use cartograph::core::metrics::Rates;
//! use cartograph::model::Currency;
//!
//! let commerce = start_commerce(CommerceSystem::BigCommerce).await?;
//! let crm = start_crm(CrmSystem::HubSpot).await?;
//! let harness = Harness::builder(commerce, crm, store, Rates::new(Currency::USD))
//!     .build()
//!     .await?;
//! harness.pipeline.backfill(&cartograph::harness::BACKFILL_STREAMS).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use cartograph_connector::{CommerceSource, CommerceWriter, CrmSink, CrmSource, Stream};
use cartograph_core::metrics::Rates;
use cartograph_sync::{BuildError, EngineConfig, ListConfig, Pipeline, Store, WorkerConfig};
use tokio::task::JoinHandle;

pub use cartograph_sim::{CommerceSimulator, CrmSimulator, SeedData, Seeded, SimRecordView};

/// The streams a backfill lists, in dependency order.
pub const BACKFILL_STREAMS: [Stream; 4] = [
    Stream::Customers,
    Stream::Products,
    Stream::Orders,
    Stream::Refunds,
];

/// Why a harness could not be started.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A simulator or connector could not be started or built.
    #[error(transparent)]
    Connector(#[from] cartograph_connector::Error),
    /// The CRM sink has no profile, so the engine cannot be configured for it.
    #[error("the CRM sink {0} has no profile")]
    NoProfile(String),
    /// The profile's mapping file does not parse.
    #[error("the CRM profile's mapping does not load: {0}")]
    Mapping(#[from] cartograph_core::mapping::LoadError),
    /// The pipeline could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The intake server could not bind a local port.
    #[error("intake server: {0}")]
    Io(#[from] std::io::Error),
    /// The system is not compiled in (enable its facade feature).
    #[error("{0} is not enabled in this build (enable the facade feature of the same name)")]
    NotEnabled(String),
}

/// Commerce platforms with a simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommerceSystem {
    /// BigCommerce (`bigcommerce`).
    BigCommerce,
    /// commercetools (`commercetools`).
    Commercetools,
}

/// CRMs with a simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CrmSystem {
    /// HubSpot (`hubspot`).
    HubSpot,
    /// Salesforce (`salesforce`).
    Salesforce,
    /// ActiveCampaign (`activecampaign`).
    ActiveCampaign,
}

impl CommerceSystem {
    /// Every commerce system, enabled or not.
    pub const ALL: [Self; 2] = [Self::BigCommerce, Self::Commercetools];

    /// The name used on the command line and in feature names.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BigCommerce => "bigcommerce",
            Self::Commercetools => "commercetools",
        }
    }
}

impl CrmSystem {
    /// Every CRM, enabled or not.
    pub const ALL: [Self; 3] = [Self::HubSpot, Self::Salesforce, Self::ActiveCampaign];

    /// The name used on the command line and in feature names.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HubSpot => "hubspot",
            Self::Salesforce => "salesforce",
            Self::ActiveCampaign => "activecampaign",
        }
    }
}

impl fmt::Display for CommerceSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CrmSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CommerceSystem {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown commerce system {s:?} (bigcommerce, commercetools)"))
    }
}

impl FromStr for CrmSystem {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown CRM {s:?} (hubspot, salesforce, activecampaign)"))
    }
}

/// Parses a pair written `commerce:crm` (e.g. `bigcommerce:hubspot`).
///
/// # Errors
/// A message naming the part that is not a known system.
pub fn parse_pair(text: &str) -> Result<(CommerceSystem, CrmSystem), String> {
    let (commerce, crm) = text
        .split_once(':')
        .ok_or_else(|| format!("expected commerce:crm, got {text:?}"))?;
    Ok((commerce.parse()?, crm.parse()?))
}

/// Starts a commerce simulator with settings for tests and demos: time running fast (store
/// time scaled down), a generous quota.
///
/// # Errors
/// [`HarnessError::NotEnabled`] when the system's feature is off; a start failure.
pub async fn start_commerce(
    system: CommerceSystem,
) -> Result<Arc<dyn CommerceSimulator>, HarnessError> {
    match system {
        #[cfg(feature = "bigcommerce")]
        CommerceSystem::BigCommerce => {
            let sim = cartograph_bigcommerce::sim::BigCommerceSim::start(
                cartograph_bigcommerce::sim::SimConfig {
                    time_scale: cartograph_sim::TimeScale::new(0.0005),
                    ..cartograph_bigcommerce::sim::SimConfig::default()
                },
            )
            .await?;
            Ok(Arc::new(sim))
        }
        #[cfg(feature = "commercetools")]
        CommerceSystem::Commercetools => {
            let sim = cartograph_commercetools::sim::CommercetoolsSim::start(
                cartograph_commercetools::sim::SimConfig {
                    time_scale: cartograph_sim::TimeScale::new(0.0005),
                    ..cartograph_commercetools::sim::SimConfig::default()
                },
            )
            .await?;
            Ok(Arc::new(sim))
        }
        // Reachable when a system's feature is off.
        #[allow(unreachable_patterns)]
        other => Err(HarnessError::NotEnabled(other.to_string())),
    }
}

/// Starts a CRM simulator with settings for tests and demos (the vendor's documented quota
/// on a clock running fast).
///
/// # Errors
/// [`HarnessError::NotEnabled`] when the system's feature is off; a start failure.
pub async fn start_crm(system: CrmSystem) -> Result<Arc<dyn CrmSimulator>, HarnessError> {
    match system {
        #[cfg(feature = "hubspot")]
        CrmSystem::HubSpot => {
            let sim =
                cartograph_hubspot::sim::HubSpotSim::start(cartograph_hubspot::sim::SimConfig {
                    // HubSpot's 190 requests per 10 s, with time running 100x faster.
                    time_scale: cartograph_sim::TimeScale::new(0.01),
                    ..cartograph_hubspot::sim::SimConfig::default()
                })
                .await?;
            Ok(Arc::new(sim))
        }
        #[cfg(feature = "salesforce")]
        CrmSystem::Salesforce => {
            let sim = cartograph_salesforce::sim::SalesforceSim::start(
                cartograph_salesforce::sim::SimConfig {
                    time_scale: cartograph_sim::TimeScale::new(0.01),
                    ..cartograph_salesforce::sim::SimConfig::default()
                },
            )
            .await?;
            Ok(Arc::new(sim))
        }
        #[cfg(feature = "activecampaign")]
        CrmSystem::ActiveCampaign => {
            // ActiveCampaign's 5 requests/s per account, with time running 20x faster.
            let sim = cartograph_activecampaign::sim::ActiveCampaignSim::start(
                cartograph_activecampaign::sim::SimConfig {
                    time_scale: cartograph_sim::TimeScale::new(0.05),
                    ..cartograph_activecampaign::sim::SimConfig::default()
                },
            )
            .await?;
            Ok(Arc::new(sim))
        }
        // Reachable when a system's feature is off.
        #[allow(unreachable_patterns)]
        other => Err(HarnessError::NotEnabled(other.to_string())),
    }
}

/// A running pair: simulators, connectors pointed at them, a pipeline, and an intake server
/// both simulators deliver their webhooks to. Stops its server when dropped.
pub struct Harness {
    /// The commerce simulator.
    pub commerce: Arc<dyn CommerceSimulator>,
    /// The CRM simulator.
    pub crm: Arc<dyn CrmSimulator>,
    /// The commerce connector (source).
    pub source: Arc<dyn CommerceSource>,
    /// The CRM connector (sink).
    pub sink: Arc<dyn CrmSink>,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The pipeline.
    pub pipeline: Arc<Pipeline>,
    /// `http://127.0.0.1:<port>` of the intake server (`/webhooks/commerce`, `/webhooks/crm`).
    pub intake_url: String,
    server: JoinHandle<()>,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("commerce", &self.commerce.system())
            .field("crm", &self.crm.name())
            .field("intake_url", &self.intake_url)
            .finish_non_exhaustive()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// An adjustment of the engine config made from the CRM's profile.
pub type Tune = Box<dyn FnOnce(&mut EngineConfig) + Send>;

/// The connectors of a pair, as [`pair_pipeline`] wires them. [`HarnessBuilder::build`]
/// takes them from the simulators; a process that talks to simulators served by another
/// process (the crash tests' children, `bench_report`'s memory child) builds them from the
/// simulators' URLs (`SimConfig::connector_config_at`).
pub struct PairConnectors {
    /// The commerce connector as a source.
    pub source: Arc<dyn CommerceSource>,
    /// The same connector as a store-side writer, for CRM-to-store flows.
    pub writer: Option<Arc<dyn CommerceWriter>>,
    /// The CRM connector as a sink.
    pub sink: Arc<dyn CrmSink>,
    /// The same connector as a CRM source, for CRM-to-store flows.
    pub crm_source: Option<Arc<dyn CrmSource>>,
}

/// How [`pair_pipeline`] sets up the pipeline beyond its connectors; every field is
/// optional.
#[derive(Default)]
pub struct PipelineOptions {
    /// Adjusts the engine config made from the CRM sink's profile (recipes, thresholds).
    pub tune: Option<Tune>,
    /// Used instead of the config made from the profile (the pipeline still checks it
    /// matches the sink).
    pub engine: Option<EngineConfig>,
    /// Worker settings.
    pub worker: Option<WorkerConfig>,
    /// Listing settings.
    pub list: Option<ListConfig>,
}

/// Wires a pair's pipeline as every harness does: the engine config from the CRM sink's
/// profile (or `options.engine`), adjusted by `options.tune`, the connectors, the store,
/// and the worker and listing settings.
///
/// # Errors
/// [`HarnessError::NoProfile`] when the sink has no profile; a mapping or build error.
pub async fn pair_pipeline(
    connectors: PairConnectors,
    store: Arc<dyn Store>,
    rates: Rates,
    options: PipelineOptions,
) -> Result<Pipeline, HarnessError> {
    let PairConnectors {
        source,
        writer,
        sink,
        crm_source,
    } = connectors;
    let mut config = match options.engine {
        Some(config) => config,
        None => {
            let profile = sink
                .profile()
                .ok_or_else(|| HarnessError::NoProfile(sink.name().to_owned()))?;
            EngineConfig::for_profile(&profile, rates)?
        }
    };
    if let Some(tune) = options.tune {
        tune(&mut config);
    }
    let mut builder = Pipeline::builder()
        .source(source)
        .sink(sink)
        .store(store)
        .engine(config);
    if let Some(writer) = writer {
        builder = builder.writer(writer);
    }
    if let Some(crm_source) = crm_source {
        builder = builder.crm_source(crm_source);
    }
    if let Some(worker) = options.worker {
        builder = builder.worker_config(worker);
    }
    if let Some(list) = options.list {
        builder = builder.list_config(list);
    }
    // Boxed: the pipeline's build future is large, and every caller would carry it inline.
    Ok(Box::pin(builder.build()).await?)
}

/// Builds a [`Harness`].
pub struct HarnessBuilder {
    commerce: Arc<dyn CommerceSimulator>,
    crm: Arc<dyn CrmSimulator>,
    store: Arc<dyn Store>,
    rates: Rates,
    options: PipelineOptions,
    webhooks: bool,
    writer: bool,
    crm_source: bool,
}

impl Harness {
    /// A builder over two running simulators and a store, metrics in `rates`' base.
    pub fn builder(
        commerce: Arc<dyn CommerceSimulator>,
        crm: Arc<dyn CrmSimulator>,
        store: Arc<dyn Store>,
        rates: Rates,
    ) -> HarnessBuilder {
        HarnessBuilder {
            commerce,
            crm,
            store,
            rates,
            options: PipelineOptions::default(),
            webhooks: true,
            writer: true,
            crm_source: true,
        }
    }

    /// `<intake>/webhooks/commerce`.
    pub fn commerce_webhook_url(&self) -> String {
        format!("{}/webhooks/commerce", self.intake_url)
    }

    /// `<intake>/webhooks/crm`.
    pub fn crm_webhook_url(&self) -> String {
        format!("{}/webhooks/crm", self.intake_url)
    }

    /// Subscribes the intake to both simulators' webhooks (done by `build()` unless turned
    /// off with [`HarnessBuilder::webhooks`]).
    ///
    /// # Errors
    /// When a simulator refuses the subscription.
    pub async fn deliver_webhooks(&self) -> Result<(), HarnessError> {
        self.commerce
            .deliver_webhooks_to(&self.commerce_webhook_url())
            .await?;
        self.crm
            .deliver_webhooks_to(&self.crm_webhook_url())
            .await?;
        Ok(())
    }
}

impl HarnessBuilder {
    /// Adjusts the engine config made from the CRM's profile (recipes, thresholds).
    #[must_use]
    pub fn tune(mut self, tune: impl FnOnce(&mut EngineConfig) + Send + 'static) -> Self {
        self.options.tune = Some(Box::new(tune));
        self
    }

    /// Uses `config` instead of the one made from the CRM sink's profile (build it with
    /// [`EngineConfig::for_profile`] and adjust; the pipeline still checks it matches the
    /// sink).
    #[must_use]
    pub fn engine(mut self, config: EngineConfig) -> Self {
        self.options.engine = Some(config);
        self
    }

    /// Sets the worker settings.
    #[must_use]
    pub fn worker_config(mut self, config: WorkerConfig) -> Self {
        self.options.worker = Some(config);
        self
    }

    /// Sets the listing settings.
    #[must_use]
    pub fn list_config(mut self, config: ListConfig) -> Self {
        self.options.list = Some(config);
        self
    }

    /// Whether `build()` subscribes the intake to the simulators' webhooks (default yes).
    #[must_use]
    pub fn webhooks(mut self, on: bool) -> Self {
        self.webhooks = on;
        self
    }

    /// Whether the pipeline gets the commerce writer and the CRM source, for CRM-to-store
    /// flows (default yes, where the connectors have them).
    #[must_use]
    pub fn two_way(mut self, on: bool) -> Self {
        self.writer = on;
        self.crm_source = on;
        self
    }

    /// Builds connectors from the simulators, the engine config from the CRM sink's profile,
    /// the pipeline, and starts the intake server.
    ///
    /// # Errors
    /// [`HarnessError`] naming the part that failed.
    pub async fn build(self) -> Result<Harness, HarnessError> {
        let source = self.commerce.source()?;
        let sink = self.crm.sink()?;
        let writer = if self.writer {
            self.commerce.writer()?
        } else {
            None
        };
        let crm_source = if self.crm_source {
            self.crm.crm_source()?
        } else {
            None
        };
        let connectors = PairConnectors {
            source: Arc::clone(&source),
            writer,
            sink: Arc::clone(&sink),
            crm_source,
        };
        let pipeline = Arc::new(
            pair_pipeline(
                connectors,
                Arc::clone(&self.store),
                self.rates,
                self.options,
            )
            .await?,
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let intake_url = format!("http://{}", listener.local_addr()?);
        let app = cartograph_sync::router::intake_router(Arc::clone(&pipeline));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "intake server stopped");
            }
        });
        let harness = Harness {
            commerce: self.commerce,
            crm: self.crm,
            source,
            sink,
            store: self.store,
            pipeline,
            intake_url,
            server,
        };
        if self.webhooks {
            harness.deliver_webhooks().await?;
        }
        Ok(harness)
    }
}
