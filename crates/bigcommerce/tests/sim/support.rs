use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use cartograph_bigcommerce::BigCommerce;
use cartograph_bigcommerce::sim::{SimConfig, Simulator};
use cartograph_connector::WebhookRequest;
use cartograph_model::RecordKind;
use cartograph_testkit::fixtures::Seed;
use tokio::sync::mpsc;

pub(crate) async fn sim(config: SimConfig) -> (Simulator, BigCommerce) {
    let sim = Simulator::start(config).await.unwrap();
    let bc = BigCommerce::new(sim.connector_config().build().unwrap()).unwrap();
    (sim, bc)
}

/// The standard testkit seed with BigCommerce-shaped ids (integers; UUIDs for carts;
/// refund ids ascending with their creation time, as the real API assigns them).
pub(crate) fn seed() -> Seed {
    let base = Seed::builder().system("bigcommerce").build();
    let mut refunds: Vec<_> = base
        .refunds
        .iter()
        .map(|r| (r.created_at, r.source.id.clone()))
        .collect();
    refunds.sort();
    let refund_rank: HashMap<String, u64> = refunds
        .into_iter()
        .enumerate()
        .map(|(i, (_, id))| (id, 900 + i as u64))
        .collect();
    let mut next = 100u64;
    base.map_ids(|kind, id| match kind {
        RecordKind::Cart => {
            next += 1;
            format!("0c0a7000-0000-4000-8000-{next:012}")
        }
        RecordKind::Refund => refund_rank[id].to_string(),
        _ => {
            next += 1;
            next.to_string()
        }
    })
}

/// Loads a seed into the simulator.
pub(crate) fn load(sim: &Simulator, seed: &Seed) {
    sim.seed_customer_groups(&seed.customer_groups);
    sim.seed_customers(&seed.customers);
    sim.seed_categories(&seed.categories);
    sim.seed_brands(&seed.brands);
    sim.seed_products(&seed.products);
    sim.seed_orders(&seed.orders);
    sim.seed_refunds(&seed.refunds);
    sim.seed_carts(&seed.carts);
}

/// A local HTTP receiver for webhook deliveries; answers `status` and forwards each
/// delivery as a `WebhookRequest`.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) rx: mpsc::UnboundedReceiver<WebhookRequest>,
    _task: tokio::task::JoinHandle<()>,
}

pub(crate) async fn receiver(status: u16) -> Receiver {
    let (tx, rx) = mpsc::unbounded_channel();
    let tx = Arc::new(Mutex::new(tx));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!(
        "http://{}/hooks/bigcommerce",
        listener.local_addr().unwrap()
    );
    let hook_url = url.clone();
    let app = axum::Router::new().route(
        "/hooks/bigcommerce",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = Arc::clone(&tx);
            let url = hook_url.clone();
            async move {
                let headers = headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            v.to_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect();
                let _ = tx
                    .lock()
                    .unwrap()
                    .send(WebhookRequest::post(url, headers, body.to_vec()));
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Receiver {
        url,
        rx,
        _task: task,
    }
}

impl Receiver {
    pub(crate) async fn next(&mut self) -> WebhookRequest {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.rx.recv())
            .await
            .expect("a delivery within 10 s")
            .expect("receiver open")
    }
}
