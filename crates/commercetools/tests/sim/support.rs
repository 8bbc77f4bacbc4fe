use std::time::Duration;

use cartograph_commercetools::Commercetools;
use cartograph_commercetools::sim::{CommercetoolsSim, SimConfig};
use cartograph_model::RecordKind;
use cartograph_sim::WebhookReceiver;
use cartograph_testkit::fixtures::Seed;
use serde_json::Value;

pub(crate) async fn sim(config: SimConfig) -> (CommercetoolsSim, Commercetools) {
    let sim = CommercetoolsSim::start(config).await.unwrap();
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
pub(crate) fn load(sim: &CommercetoolsSim, seed: &Seed) {
    seed.load_into(sim);
}

/// A bearer token of the simulator's client, fetched by hand.
pub(crate) async fn token(sim: &CommercetoolsSim) -> String {
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
    sim: &CommercetoolsSim,
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

/// How long a test waits for a push delivery.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A local push endpoint answering `status` (change it with `answer_with`).
pub(crate) async fn receiver(status: u16) -> WebhookReceiver {
    WebhookReceiver::start("/push/commercetools", status)
        .await
        .unwrap()
}
