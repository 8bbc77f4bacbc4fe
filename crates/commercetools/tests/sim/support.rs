use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use cartograph_commercetools::Commercetools;
use cartograph_commercetools::sim::{SimConfig, Simulator};
use cartograph_connector::WebhookRequest;
use cartograph_model::RecordKind;
use cartograph_testkit::fixtures::Seed;
use serde_json::Value;
use tokio::sync::mpsc;

pub(crate) async fn sim(config: SimConfig) -> (Simulator, Commercetools) {
    let sim = Simulator::start(config).await.unwrap();
    let ct = Commercetools::new(sim.connector_config().build().unwrap()).unwrap();
    (sim, ct)
}

/// The standard testkit seed with commercetools-shaped ids (UUIDs), system `commercetools`.
pub(crate) fn seed() -> Seed {
    let base = Seed::builder().system("commercetools").build();
    let mut next = 0u64;
    base.map_ids(|kind, _| {
        next += 1;
        let tag = match kind {
            RecordKind::Customer => 0xc0,
            RecordKind::Order => 0x0d,
            RecordKind::Refund => 0xef,
            RecordKind::Cart => 0xca,
            RecordKind::Product => 0x9d,
            _ => 0x11,
        };
        format!("{tag:08x}-0000-4000-8000-{next:012x}")
    })
}

/// Loads a seed into the simulator.
pub(crate) fn load(sim: &Simulator, seed: &Seed) {
    sim.seed_customer_groups(&seed.customer_groups);
    sim.seed_categories(&seed.categories);
    sim.seed_customers(&seed.customers);
    sim.seed_products(&seed.products, &seed.brands);
    sim.seed_orders(&seed.orders);
    sim.seed_refunds(&seed.refunds);
    sim.seed_carts(&seed.carts);
}

/// A bearer token of the simulator's client, fetched by hand.
pub(crate) async fn token(sim: &Simulator) -> String {
    let c = sim.config();
    let body: Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", sim.auth_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// One raw API call: status and JSON body.
pub(crate) async fn call(
    sim: &Simulator,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let token = token(sim).await;
    let url = format!("{}/{}/{path}", sim.api_url(), sim.config().project_key);
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A local push endpoint: answers `status`, forwards each delivery.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) rx: mpsc::UnboundedReceiver<WebhookRequest>,
    _task: tokio::task::JoinHandle<()>,
}

pub(crate) async fn receiver(status: Arc<Mutex<u16>>) -> Receiver {
    let (tx, rx) = mpsc::unbounded_channel();
    let tx = Arc::new(Mutex::new(tx));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!(
        "http://{}/push/commercetools",
        listener.local_addr().unwrap()
    );
    let hook_url = url.clone();
    let app = axum::Router::new().route(
        "/push/commercetools",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = Arc::clone(&tx);
            let url = hook_url.clone();
            let status = *status.lock().unwrap();
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
                if status < 300 {
                    let _ =
                        tx.lock()
                            .unwrap()
                            .send(WebhookRequest::post(url, headers, body.to_vec()));
                }
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
