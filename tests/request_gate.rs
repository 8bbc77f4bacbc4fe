//! Every vendor connector takes a request gate with the same builder method,
//! `with_request_gate`, and sends each of its API requests through it: a gate that refuses
//! (a shared budget that cannot be reached) means no API request reaches the vendor.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cartograph::connector::{CommerceSource, CrmSink, ErrorKind, Result, TransportStats};
use cartograph::http::{Error, RequestGate};
use cartograph::model::{EmailAddress, IdentityKeys};
use cartograph::sim::{CommerceSimulator, CrmSimulator, TimeScale};

/// Counts acquisitions; refuses every one when `refuse` is set.
#[derive(Debug, Default)]
struct Gate {
    acquired: AtomicUsize,
    refuse: bool,
}

#[cartograph::connector::async_trait]
impl RequestGate for Gate {
    async fn acquire(&self) -> Result<()> {
        self.acquired.fetch_add(1, Ordering::SeqCst);
        if self.refuse {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "shared budget unreachable",
            ));
        }
        Ok(())
    }
}

/// What one call through a gated connector did.
struct Probe {
    connector: &'static str,
    result: Result<()>,
    stats: TransportStats,
    at_vendor: u64,
}

fn keys() -> [IdentityKeys; 1] {
    [IdentityKeys {
        email: EmailAddress::new("ada@example.com"),
        ..IdentityKeys::default()
    }]
}

async fn bigcommerce(gate: Arc<dyn RequestGate>) -> Probe {
    use cartograph::bigcommerce::sim::{BigCommerceSim, SimConfig};
    let sim = BigCommerceSim::start(SimConfig::default()).await.unwrap();
    let connector =
        cartograph::bigcommerce::BigCommerce::new(sim.connector_config().build().unwrap())
            .unwrap()
            .with_request_gate(gate);
    let result = connector.get_customer("1").await.map(drop);
    Probe {
        connector: "bigcommerce",
        result,
        stats: CommerceSource::transport_stats(&connector).unwrap(),
        at_vendor: CommerceSimulator::request_count(&sim),
    }
}

async fn commercetools(gate: Arc<dyn RequestGate>) -> Probe {
    use cartograph::commercetools::sim::{CommercetoolsSim, SimConfig};
    let sim = CommercetoolsSim::start(SimConfig::default()).await.unwrap();
    let connector =
        cartograph::commercetools::Commercetools::new(sim.connector_config().build().unwrap())
            .unwrap()
            .with_request_gate(gate);
    let result = connector.get_customer("c-1").await.map(drop);
    Probe {
        connector: "commercetools",
        result,
        stats: CommerceSource::transport_stats(&connector).unwrap(),
        at_vendor: CommerceSimulator::request_count(&sim),
    }
}

async fn hubspot(gate: Arc<dyn RequestGate>) -> Probe {
    use cartograph::hubspot::sim::HubSpotSim;
    let sim = HubSpotSim::start(cartograph::hubspot::sim::SimConfig::default())
        .await
        .unwrap();
    let connector =
        cartograph::hubspot::HubSpot::new(sim.connector_config().unwrap().build().unwrap())
            .unwrap()
            .with_request_gate(gate);
    let result = connector.find_contacts(&keys()).await.map(drop);
    Probe {
        connector: "hubspot",
        result,
        stats: CrmSink::transport_stats(&connector).unwrap(),
        at_vendor: CrmSimulator::request_count(&sim),
    }
}

async fn salesforce(gate: Arc<dyn RequestGate>) -> Probe {
    use cartograph::salesforce::sim::{SalesforceSim, SimConfig};
    let sim = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    let connector =
        cartograph::salesforce::Salesforce::new(sim.connector_config().unwrap().build().unwrap())
            .unwrap()
            .with_request_gate(gate);
    let result = connector.find_contacts(&keys()).await.map(drop);
    Probe {
        connector: "salesforce",
        result,
        stats: CrmSink::transport_stats(&connector).unwrap_or_default(),
        // The OAuth token call that finds the instance URL is the authenticator's own, not
        // an API request: the gate guards API requests.
        at_vendor: CrmSimulator::request_count(&sim) - sim.token_calls(),
    }
}

async fn activecampaign(gate: Arc<dyn RequestGate>) -> Probe {
    use cartograph::activecampaign::sim::{ActiveCampaignSim, SimConfig};
    let sim = ActiveCampaignSim::start(SimConfig {
        time_scale: TimeScale::new(0.05),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let connector = cartograph::activecampaign::ActiveCampaign::new(
        sim.connector_config().unwrap().build().unwrap(),
    )
    .unwrap()
    .with_request_gate(gate);
    let result = connector.find_contacts(&keys()).await.map(drop);
    Probe {
        connector: "activecampaign",
        result,
        stats: CrmSink::transport_stats(&connector).unwrap(),
        at_vendor: CrmSimulator::request_count(&sim),
    }
}

async fn probe_all(refuse: bool) -> Vec<(Arc<Gate>, Probe)> {
    let mut out = Vec::new();
    for which in 0..5 {
        let gate = Arc::new(Gate {
            refuse,
            ..Gate::default()
        });
        let probe = match which {
            0 => bigcommerce(gate.clone()).await,
            1 => commercetools(gate.clone()).await,
            2 => hubspot(gate.clone()).await,
            3 => salesforce(gate.clone()).await,
            _ => activecampaign(gate.clone()).await,
        };
        out.push((gate, probe));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connector_sends_each_request_through_its_gate() {
    for (gate, probe) in probe_all(false).await {
        let name = probe.connector;
        probe.result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let acquired = gate.acquired.load(Ordering::SeqCst) as u64;
        assert!(acquired > 0, "{name}: the gate was never asked");
        assert_eq!(
            acquired, probe.stats.requests,
            "{name}: every attempt waited for the gate"
        );
        assert!(probe.at_vendor > 0, "{name}: the vendor saw the request");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_whose_gate_refuses_sends_nothing_to_the_vendor() {
    for (gate, probe) in probe_all(true).await {
        let name = probe.connector;
        let err = probe.result.expect_err(name);
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{name}: {err}");
        assert!(gate.acquired.load(Ordering::SeqCst) > 0, "{name}");
        assert_eq!(probe.at_vendor, 0, "{name}: nothing reached the vendor");
    }
}
