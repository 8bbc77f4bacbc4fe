//! The pipeline builder: connectors, store, engine configuration and modes in a few lines.
//!
//! ```no_run
//! # async fn demo(
//! #     source: std::sync::Arc<dyn cartograph_connector::CommerceSource>,
//! #     crm: std::sync::Arc<dyn cartograph_connector::CrmSink>,
//! #     store: std::sync::Arc<dyn cartograph_sync::Store>,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use cartograph_connector::Stream;
//! use cartograph_core::metrics::Rates;
//! use cartograph_model::Currency;
//! use cartograph_sync::{EngineConfig, Pipeline};
//!
//! // The CRM crate's profile says what to write and how (mapping file, order object, keys).
//! let profile = crm.profile().ok_or("a CRM connector has a profile")?;
//! let pipeline = Pipeline::builder()
//!     .source(source)
//!     .sink(crm)
//!     .store(store)
//!     .engine(EngineConfig::for_profile(&profile, Rates::new(Currency::USD))?)
//!     .build()
//!     .await?;
//! pipeline.backfill(&[Stream::Customers, Stream::Orders, Stream::Refunds]).await?;
//! pipeline.worker("w1").run_until_idle().await?;
//! println!("{:?}", pipeline.counters());
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use cartograph_connector::{
    CommerceSource, CommerceWriter, CrmSink, CrmSource, RecordOutcome, Stream, WriteStatus,
};
use cartograph_model::Timestamp;

use crate::dry_run::DryRunSink;
use crate::engine::{Engine, EngineConfig, EngineError, QualityReport};
use crate::intake::Intake;
use crate::modes::{ListConfig, ListError, ListReport, Lister};
use crate::observe::{CounterSnapshot, Counters};
use crate::store::{RunId, Store, StoreError};
use crate::worker::{Worker, WorkerConfig, WorkerPool};

/// Transport figures of both ends of a pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TransportSummary {
    /// The commerce source's transport, when it talks HTTP.
    pub source: Option<cartograph_connector::TransportStats>,
    /// The CRM sink's transport, when it talks HTTP.
    pub sink: Option<cartograph_connector::TransportStats>,
}

/// Why a pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A required part is missing.
    #[error("pipeline needs a {0}")]
    Missing(&'static str),
    /// The engine could not be built.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The CRM refused a property definition the mappings need.
    #[error("CRM property {name} could not be ensured: {error}")]
    Property {
        /// The property.
        name: String,
        /// The CRM's error.
        error: cartograph_connector::Error,
    },
    /// The CRM call failed as a whole.
    #[error("ensuring CRM properties failed: {0}")]
    Crm(cartograph_connector::Error),
    /// The parts do not fit together, e.g. an engine configured for one CRM's profile and a
    /// sink of another (a `Config` error naming the field).
    #[error(transparent)]
    Config(cartograph_connector::Error),
}

/// Builds a [`Pipeline`].
#[derive(Default)]
pub struct PipelineBuilder {
    source: Option<Arc<dyn CommerceSource>>,
    writer: Option<Arc<dyn CommerceWriter>>,
    sink: Option<Arc<dyn CrmSink>>,
    crm_source: Option<Arc<dyn CrmSource>>,
    store: Option<Arc<dyn Store>>,
    engine: Option<EngineConfig>,
    worker: WorkerConfig,
    list: ListConfig,
    dry_run: bool,
    ensure_properties: bool,
}

impl std::fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("dry_run", &self.dry_run)
            .finish_non_exhaustive()
    }
}

impl PipelineBuilder {
    /// The commerce source (required).
    #[must_use]
    pub fn source(mut self, source: Arc<dyn CommerceSource>) -> Self {
        self.source = Some(source);
        self
    }

    /// The commerce writer, for CRM-to-store flows.
    #[must_use]
    pub fn writer(mut self, writer: Arc<dyn CommerceWriter>) -> Self {
        self.writer = Some(writer);
        self
    }

    /// The CRM sink (required).
    #[must_use]
    pub fn sink(mut self, sink: Arc<dyn CrmSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The CRM source, for CRM webhooks and CRM-to-store flows.
    #[must_use]
    pub fn crm_source(mut self, source: Arc<dyn CrmSource>) -> Self {
        self.crm_source = Some(source);
        self
    }

    /// The durable store (required).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Mappings, identity rules, metrics, lifecycle rules and recipes (required).
    #[must_use]
    pub fn engine(mut self, config: EngineConfig) -> Self {
        self.engine = Some(config);
        self
    }

    /// Worker settings (batch size, leases, retries).
    #[must_use]
    pub fn worker_config(mut self, config: WorkerConfig) -> Self {
        self.worker = config;
        self
    }

    /// Listing settings (page size, delta overlap).
    #[must_use]
    pub fn list_config(mut self, config: ListConfig) -> Self {
        self.list = config;
        self
    }

    /// Computes and records every CRM write without making it (see [`Pipeline::dry_run_log`]).
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Whether `build` creates the mappings' custom properties in the CRM (default on).
    #[must_use]
    pub fn ensure_properties(mut self, ensure: bool) -> Self {
        self.ensure_properties = ensure;
        self
    }

    /// Builds the engine (compiling mappings, rebuilding the identity index from the store)
    /// and makes sure the CRM has the properties the mappings write.
    pub async fn build(self) -> Result<Pipeline, BuildError> {
        let source = self.source.ok_or(BuildError::Missing("commerce source"))?;
        let real_sink = self.sink.ok_or(BuildError::Missing("CRM sink"))?;
        let store = self.store.ok_or(BuildError::Missing("store"))?;
        let config = self
            .engine
            .ok_or(BuildError::Missing("engine configuration"))?;
        check_profile(&config, real_sink.as_ref()).map_err(BuildError::Config)?;
        let dry = self
            .dry_run
            .then(|| Arc::new(DryRunSink::new(Arc::clone(&real_sink))));
        let sink: Arc<dyn CrmSink> = match &dry {
            Some(d) => Arc::clone(d) as Arc<dyn CrmSink>,
            None => real_sink,
        };
        let counters = Arc::new(Counters::default());
        let engine = Arc::new(
            Engine::new(
                Arc::clone(&source),
                self.writer,
                Arc::clone(&sink),
                Arc::clone(&store),
                Arc::clone(&counters),
                config,
            )
            .await?,
        );
        if self.ensure_properties && sink.capabilities().property_definitions {
            // The connector's own upsert keys first, then what the mappings write.
            let mut definitions = sink.required_properties();
            for definition in engine.property_definitions() {
                if !definitions
                    .iter()
                    .any(|d| d.object == definition.object && d.name == definition.name)
                {
                    definitions.push(definition);
                }
            }
            let outcomes = sink
                .ensure_properties(&definitions)
                .await
                .map_err(BuildError::Crm)?;
            for RecordOutcome { key, status, .. } in outcomes {
                if let WriteStatus::Failed(error) = status {
                    return Err(BuildError::Property { name: key, error });
                }
            }
        }
        Ok(Pipeline {
            source,
            crm_source: self.crm_source,
            store,
            engine,
            counters,
            health: Arc::default(),
            worker: self.worker,
            list: self.list,
            dry,
        })
    }
}

/// Refuses an engine config made for another CRM than the sink's own profile: its mapping
/// names, order object and revenue fields would be wrong for that CRM.
fn check_profile(
    config: &EngineConfig,
    sink: &dyn CrmSink,
) -> Result<(), cartograph_connector::Error> {
    let (Some(expected), Some(profile)) = (config.profile.as_deref(), sink.profile()) else {
        return Ok(());
    };
    if profile.name != expected {
        return Err(cartograph_connector::Error::new(
            cartograph_connector::ErrorKind::Config,
            format!(
                "engine configured for the {expected} profile, but the sink {} writes with the {} profile",
                sink.name(),
                profile.name
            ),
        )
        .with_field("engine.profile"));
    }
    if profile.order_object != config.order_object {
        return Err(cartograph_connector::Error::new(
            cartograph_connector::ErrorKind::Config,
            format!(
                "engine writes orders as {:?}, but the sink {} is configured for {:?}",
                config.order_object,
                sink.name(),
                profile.order_object
            ),
        )
        .with_field("engine.order_object"));
    }
    Ok(())
}

/// A composed pipeline: modes, intake, workers and reports over one engine and store.
pub struct Pipeline {
    source: Arc<dyn CommerceSource>,
    crm_source: Option<Arc<dyn CrmSource>>,
    store: Arc<dyn Store>,
    engine: Arc<Engine>,
    counters: Arc<Counters>,
    health: Arc<crate::health::Health>,
    worker: WorkerConfig,
    list: ListConfig,
    dry: Option<Arc<DryRunSink>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("source", &self.source.name())
            .field("dry_run", &self.dry.is_some())
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A builder.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder {
            ensure_properties: true,
            ..PipelineBuilder::default()
        }
    }

    fn lister(&self) -> Lister {
        Lister::new(
            Arc::clone(&self.source),
            Arc::clone(&self.store),
            Arc::clone(&self.engine) as Arc<dyn crate::worker::Handler>,
            Arc::clone(&self.counters),
            self.list.clone(),
        )
    }

    /// Backfill: full history of `streams`, marked historical (no automations fire),
    /// resumable from its checkpoint. Logged as a run.
    pub async fn backfill(&self, streams: &[Stream]) -> Result<ListReport, ListError> {
        self.logged("backfill", self.lister().backfill(streams))
            .await
    }

    /// Delta: what changed since the checkpoints, with an overlap window, de-duplicated.
    pub async fn delta(&self, streams: &[Stream]) -> Result<ListReport, ListError> {
        self.logged("delta", self.lister().delta(streams)).await
    }

    /// Catch-up: what changed since `since` (after downtime), as live records.
    pub async fn catch_up(
        &self,
        streams: &[Stream],
        since: Timestamp,
    ) -> Result<ListReport, ListError> {
        self.logged("catch_up", self.lister().catch_up(streams, since))
            .await
    }

    async fn logged(
        &self,
        mode: &str,
        run: impl std::future::Future<Output = Result<ListReport, ListError>>,
    ) -> Result<ListReport, ListError> {
        let before = self.counters.snapshot();
        let id: RunId = self.store.start_run(mode, Timestamp::now()).await?;
        let span = tracing::info_span!("sync.run", mode, run = id);
        let result = tracing::Instrument::instrument(run, span).await;
        let totals = self.counters.snapshot().since(&before).totals();
        self.store.finish_run(id, &totals, Timestamp::now()).await?;
        result
    }

    /// Webhook intake writing to this pipeline's store.
    /// It answers 503 while this process's workers have stopped on a store error and none
    /// is running (see [`crate::health`]).
    pub fn intake(&self) -> Intake {
        Intake::new(Arc::clone(&self.store)).with_health(Arc::clone(&self.health))
    }

    /// Whether this process's workers can drain the queue (for readiness probes).
    pub fn health(&self) -> crate::health::HealthSnapshot {
        self.health.snapshot()
    }

    /// The commerce source (for [`Intake::commerce`]).
    pub fn source(&self) -> &Arc<dyn CommerceSource> {
        &self.source
    }

    /// The CRM source, when configured (for [`Intake::crm`]).
    pub fn crm_source(&self) -> Option<&Arc<dyn CrmSource>> {
        self.crm_source.as_ref()
    }

    /// A worker draining the queue through the engine. Run several for bounded concurrency.
    pub fn worker(&self, name: &str) -> Worker {
        Worker::new(
            Arc::clone(&self.store),
            Arc::clone(&self.engine) as Arc<dyn crate::worker::Handler>,
            Arc::clone(&self.counters),
            WorkerConfig {
                name: name.to_owned(),
                ..self.worker.clone()
            },
        )
        .with_health(Arc::clone(&self.health))
    }

    /// Starts `count` workers (`worker-0`, `worker-1`, ...) as tasks of the current Tokio
    /// runtime; stop them with [`WorkerPool::shutdown`].
    pub fn spawn_workers(&self, count: usize) -> WorkerPool {
        WorkerPool::spawn((0..count).map(|n| self.worker(&format!("worker-{n}"))))
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Live counters.
    pub fn counters(&self) -> CounterSnapshot {
        self.counters.snapshot()
    }

    /// Transport figures of the commerce source and the CRM sink (requests, retries, 429s
    /// and 5xx answers, most of them retried inside the connector before the pipeline saw
    /// anything).
    pub fn transport(&self) -> TransportSummary {
        TransportSummary {
            source: self.source.transport_stats(),
            sink: self.engine.sink.transport_stats(),
        }
    }

    /// The data-quality report.
    pub fn quality(&self) -> QualityReport {
        self.engine.quality_report()
    }

    /// Revenue reconciliation against the CRM: reads the order records back (in full or a
    /// sample) and compares them with the store's revenue, per day and currency, order by
    /// order, exact to the cent (see [`crate::reconcile`]).
    ///
    /// # Errors
    /// The sink's read errors (`Unsupported` when it cannot read orders back).
    pub async fn reconcile_with_crm(
        &self,
        read_back: &crate::reconcile::ReadBack,
    ) -> Result<crate::reconcile::CrmReconciliation, cartograph_connector::Error> {
        self.engine.reconcile_with_crm(read_back).await
    }

    /// In a dry run, every write the pipeline would have made.
    pub fn dry_run_log(&self) -> Option<Vec<crate::dry_run::PlannedWrite>> {
        self.dry.as_ref().map(|d| d.log())
    }

    /// Dead letters waiting for an operator.
    pub async fn dead_letter_count(&self) -> Result<u64, StoreError> {
        self.store.dead_letter_count().await
    }
}
