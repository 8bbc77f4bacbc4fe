//! Worker processes to kill: the crash and burst tests re-run their own test binary on an
//! `#[ignore]`d entry point, which builds the same pipeline over the same SQLite file and
//! simulators (reached over HTTP), so `kill -9` hits a real process with in-flight batches
//! and open transactions.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph::bigcommerce::BigCommerce;
use cartograph::bigcommerce::sim::SimConfig as BcSimConfig;
use cartograph::connector::{CommerceSource, CrmSink};
use cartograph::harness::{PairConnectors, PipelineOptions, pair_pipeline};
use cartograph::http::{RateLimit, RetryPolicy};
use cartograph::hubspot::HubSpot;
use cartograph::hubspot::sim::{HubSpotSim, SimConfig as HsSimConfig};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{EngineConfig, ListConfig, Pipeline, Store, WorkerConfig};

/// Where the child finds the simulators and the store file.
pub struct ProcessEnv {
    pub bc: String,
    pub hs: String,
    pub db: String,
}

impl ProcessEnv {
    /// The parent's settings, in a child process.
    pub fn from_env() -> Option<Self> {
        Some(Self {
            bc: std::env::var("CHILD_BC").ok()?,
            hs: std::env::var("CHILD_HS").ok()?,
            db: std::env::var("CHILD_DB").ok()?,
        })
    }

    /// Runs this test binary's ignored test `entry` as a child process.
    pub fn spawn(&self, entry: &str) -> ChildProcess {
        ChildProcess(
            Command::new(std::env::current_exe().unwrap())
                .args(["--ignored", "--exact", entry, "--test-threads", "1"])
                .env("CHILD_BC", &self.bc)
                .env("CHILD_HS", &self.hs)
                .env("CHILD_DB", &self.db)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }
}

/// How the processes' pipeline differs between tests.
pub struct Tuning {
    /// BigCommerce's webhook header secret, for tests that send webhooks.
    pub header_secret: Option<&'static str>,
    /// Fast HubSpot retries, a 1 s request timeout and no client-side quota, for tests whose
    /// simulator injects faults (the simulator's own quota then answers).
    pub faulty_crm: bool,
    pub worker: WorkerConfig,
    pub list: ListConfig,
}

/// The pipeline every process of a test builds: same store file, same simulators, wired by
/// the pair harness from connectors pointed at the parent's simulators.
pub async fn pipeline(env: &ProcessEnv, tuning: &Tuning) -> Pipeline {
    let mut bc = BcSimConfig::default().connector_config_at(&env.bc);
    if let Some(secret) = tuning.header_secret {
        bc = bc.webhook_header_secret(secret);
    }
    let bc = BigCommerce::new(bc.build().unwrap()).unwrap();
    let mut hs = HsSimConfig::default().connector_config_at(&env.hs).unwrap();
    hs = if tuning.faulty_crm {
        hs.retry(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_delays(Duration::from_millis(5), Duration::from_millis(200))
                .with_overload_delay(Duration::from_millis(50)),
        )
        // no client-side quota: the simulator's own quota and injected 429s answer
        .rate_limit(RateLimit::new(100_000, Duration::from_secs(1)))
        .daily_limit(0)
        // Short enough that the simulator's injected delays become client timeouts.
        .timeout(Duration::from_secs(1))
    } else {
        // HubSpot's default portal quota paces the child, so a kill lands mid-run.
        hs.rate_limit(cartograph::hubspot::DEFAULT_RATE_LIMIT)
            .daily_limit(cartograph::hubspot::DEFAULT_DAILY_LIMIT)
    };
    let hs = HubSpot::new(hs.build().unwrap()).unwrap();
    // Injected CRM faults hit this call too: a process retries it until it gets through.
    let mut tries = 0;
    while let Err(error) = hs.ensure_properties(&hs.required_properties()).await {
        tries += 1;
        assert!(error.is_retryable() && tries < 100, "{error}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&env.db).unwrap());
    let connectors = PairConnectors {
        source: Arc::new(bc) as Arc<dyn CommerceSource>,
        writer: None,
        sink: Arc::new(hs) as Arc<dyn CrmSink>,
        crm_source: None,
    };
    pair_pipeline(
        connectors,
        store,
        super::rates(),
        PipelineOptions {
            // A killed process holds its people this long; the next one waits it out.
            tune: Some(Box::new(|engine: &mut EngineConfig| {
                engine.subject_lock_for = Duration::from_secs(2);
            })),
            worker: Some(tuning.worker.clone()),
            list: Some(tuning.list.clone()),
            ..PipelineOptions::default()
        },
    )
    .await
    .unwrap()
}

/// A child process, killed when dropped (a failing parent leaves no orphan behind).
pub struct ChildProcess(Child);

impl ChildProcess {
    /// SIGKILL once HubSpot holds `at_least` deals (and before the child is done); returns
    /// the deals at the kill.
    pub async fn kill_when(mut self, hs: &HubSpotSim, at_least: usize) -> usize {
        let started = Instant::now();
        loop {
            let deals = hs.records("deals").len();
            if deals >= at_least {
                self.0.kill().unwrap();
                self.0.wait().unwrap();
                return deals;
            }
            assert!(
                self.0.try_wait().unwrap().is_none(),
                "the child finished before it could be killed ({deals} deals)"
            );
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "the child made no progress ({deals} deals)"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
