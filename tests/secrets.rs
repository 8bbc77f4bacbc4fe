//! Planted secrets (issue #19's standing suite): a full run with distinctive secrets in
//! every config (API tokens, client and signing secrets, webhook secrets) and payment card
//! numbers in webhook payloads. It runs a backfill, webhooks over HTTP, and failure paths:
//! 401s from a revoked token, forged signatures, dead letters, config errors, and a
//! receiver without a secret. A `tracing` subscriber at TRACE captures every event. No
//! planted value may appear in the captured logs, in any error's `Display` or `Debug`, in
//! any config's or connector's `Debug`, in dead letters, or anywhere in the store's files
//! (run logs, record logs, queue).
//!
//! Logs emitted through the `log` crate (no bridge is installed) are not captured.
#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cartograph::activecampaign::{ActiveCampaign, ActiveCampaignConfig};
use cartograph::bigcommerce::config::DEFAULT_SECRET_HEADER;
use cartograph::bigcommerce::sim::{BigCommerceSim, SimConfig as BcSimConfig};
use cartograph::bigcommerce::{BigCommerce, BigCommerceConfig};
use cartograph::commercetools::CommercetoolsConfig;
use cartograph::connector::{CommerceSource, CrmSink, CrmSource, Stream, WebhookRequest};
use cartograph::http::Secret;
use cartograph::hubspot::sim::{HubSpotSim, SimConfig as HsSimConfig};
use cartograph::hubspot::{HubSpot, HubSpotAuth, HubSpotConfig};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::router::{IntakeServerConfig, intake_router, serve_intake};
use cartograph::sync::{DeadLetterFilter, EngineConfig, Intake, Pipeline, Store};
use cartograph::testkit::fixtures::Seed;

const BC_TOKEN: &str = "PLANTED-bc-access-token-7f3a";
/// Standard Webhooks secrets are base64 (`whsec_` + base64 of `PLANTED-bc-signing-91cc`).
const BC_SIGNING: &str = "whsec_UExBTlRFRC1iYy1zaWduaW5nLTkxY2M=";
const BC_HEADER: &str = "PLANTED-bc-webhook-header-55d0";
const HS_TOKEN: &str = "PLANTED-hs-private-app-token-2b8e";
const HS_REVOKED: &str = "PLANTED-hs-revoked-token-c41f";
const HS_CLIENT_SECRET: &str = "PLANTED-hs-client-secret-0d6a";
const AC_TOKEN: &str = "PLANTED-ac-api-token-e812";
const AC_HOOK: &str = "PLANTED-ac-webhook-secret-3f90";
const CT_SECRET: &str = "PLANTED-ct-client-secret-a7b2";
const CARD: &str = "4111111111111111";
const CARD_SPACED: &str = "5555 5555 5555 4444";

const PLANTED: [&str; 11] = [
    BC_TOKEN,
    BC_SIGNING,
    BC_HEADER,
    HS_TOKEN,
    HS_REVOKED,
    HS_CLIENT_SECRET,
    AC_TOKEN,
    AC_HOOK,
    CT_SECRET,
    CARD,
    CARD_SPACED,
];

/// Everything the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where each planted value was found, if anywhere.
fn leaks(place: &str, text: &str) -> Vec<String> {
    PLANTED
        .iter()
        .filter(|secret| text.contains(**secret))
        .map(|secret| format!("{secret} in {place}"))
        .collect()
}

async fn pipeline(bc: Arc<BigCommerce>, hs: Arc<HubSpot>, store: Arc<dyn Store>) -> Pipeline {
    Pipeline::builder()
        .source(bc as Arc<dyn CommerceSource>)
        .sink(Arc::clone(&hs) as Arc<dyn CrmSink>)
        .crm_source(hs as Arc<dyn CrmSource>)
        .store(store)
        .engine(
            EngineConfig::for_profile(&cartograph::hubspot::profile(), common::rates()).unwrap(),
        )
        .build()
        .await
        .unwrap()
}

async fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> u16 {
    let mut request = reqwest::Client::new().post(url).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_planted_secret_reaches_logs_errors_debug_dead_letters_or_the_store() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .unwrap();
    let mut seen = String::new(); // errors' Display and Debug, configs' Debug

    // Simulators that accept only the planted credentials.
    let bc_sim = BigCommerceSim::start(BcSimConfig {
        access_token: BC_TOKEN.into(),
        signing_secret: Some(BC_SIGNING.into()),
        ..common::bc_config()
    })
    .await
    .unwrap();
    let seed = Seed::builder().numeric_ids(true).build();
    bc_sim.seed_customers(&seed.customers);
    let order_ids = bc_sim.seed_orders(&seed.orders);
    let hs_sim = HubSpotSim::start(HsSimConfig {
        token: HS_TOKEN.into(),
        client_secret: HS_CLIENT_SECRET.into(),
        burst: 10_000,
        time_scale: cartograph::sim::TimeScale::new(0.01),
        ..HsSimConfig::default()
    })
    .await
    .unwrap();

    let bc_config = bc_sim
        .connector_config()
        .webhook_header_secret(BC_HEADER)
        .build()
        .unwrap();
    let hs_config = hs_sim.connector_config().unwrap().build().unwrap();
    writeln!(seen, "{bc_config:?} {hs_config:?}").unwrap();
    let bc = Arc::new(BigCommerce::new(bc_config).unwrap());
    let hs = Arc::new(HubSpot::new(hs_config).unwrap());
    writeln!(seen, "{bc:?} {hs:?}").unwrap();
    hs.ensure_properties(&hs.required_properties())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.sqlite")).unwrap());
    let p = Arc::new(pipeline(Arc::clone(&bc), Arc::clone(&hs), Arc::clone(&store)).await);
    writeln!(seen, "{p:?}").unwrap();

    // Backfill, then webhooks over HTTP into the shipped router.
    let report = p
        .backfill(&[Stream::Customers, Stream::Orders])
        .await
        .unwrap();
    assert!(report.read > 0, "{report:?}");
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn({
        let router = intake_router(Arc::clone(&p));
        async move {
            serve_intake(
                listener,
                router,
                &IntakeServerConfig::default(),
                async move {
                    let _ = stopped.await;
                },
            )
            .await
        }
    });
    let commerce = format!("{base}/webhooks/commerce");
    let with_card = format!(
        r#"{{"scope":"store/order/updated","store_id":"1","data":{{"type":"order","id":{}}},"hash":"planted-1","created_at":1700000000,"producer":"stores/abc","payment":{{"card_number":"{CARD}","cvv":"737"}}}}"#,
        order_ids[0]
    );
    let header = [(DEFAULT_SECRET_HEADER, BC_HEADER)];
    assert_eq!(post(&commerce, &header, with_card.into_bytes()).await, 200);
    // Unparsable, with a card number in it: a dead letter that must not keep the number.
    let broken = format!(r#"{{"scope":"store/order/updated","card":"{CARD_SPACED}","data":"#);
    assert_eq!(post(&commerce, &header, broken.into_bytes()).await, 200);
    let forged = [(DEFAULT_SECRET_HEADER, "a-guess")];
    assert_eq!(
        post(&commerce, &forged, b"{}".to_vec()).await,
        401,
        "a wrong secret is refused"
    );
    // HubSpot: a person's edit, signed by the portal with the client secret, and a forgery.
    hs_sim.set_webhook_target(format!("{base}/webhooks/crm"));
    let contact = hs_sim.records("contacts").into_iter().next().unwrap();
    hs_sim
        .update_contact_as_user(&contact.id, &[("firstname", "Planted")])
        .await;
    let forged_hs = [
        ("X-HubSpot-Signature-v3", "Zm9yZ2Vk"),
        ("X-HubSpot-Request-Timestamp", "1700000000000"),
    ];
    assert_eq!(
        post(&format!("{base}/webhooks/crm"), &forged_hs, b"[]".to_vec()).await,
        401
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    p.worker("planted").run_until_idle().await.unwrap();

    // A revoked token: every CRM write answers 401 and ends in errors and dead letters.
    let revoked = Arc::new(
        HubSpot::new(
            HubSpotConfig::builder(HubSpotAuth::PrivateApp {
                token: Secret::new(HS_REVOKED),
            })
            .base_url(hs_sim.base_url())
            .unwrap()
            .client_secret(Secret::new(HS_CLIENT_SECRET))
            .build()
            .unwrap(),
        )
        .unwrap(),
    );
    if let Err(e) = revoked
        .ensure_properties(&revoked.required_properties())
        .await
    {
        writeln!(seen, "{e} {e:?}").unwrap();
    }
    let failing_store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("revoked.sqlite")).unwrap());
    let failing = Pipeline::builder()
        .source(Arc::clone(&bc) as Arc<dyn CommerceSource>)
        .sink(Arc::clone(&revoked) as Arc<dyn CrmSink>)
        .store(Arc::clone(&failing_store))
        .engine(
            EngineConfig::for_profile(&cartograph::hubspot::profile(), common::rates()).unwrap(),
        )
        .build()
        .await;
    match failing {
        Ok(failing) => match failing.backfill(&[Stream::Customers]).await {
            Ok(r) => writeln!(seen, "{r:?}").unwrap(),
            Err(e) => writeln!(seen, "{e} {e:?}").unwrap(),
        },
        Err(e) => writeln!(seen, "{e} {e:?}").unwrap(),
    }

    // Config errors that hold a secret next to the bad value.
    let bad_bc = BigCommerceConfig::builder("", BC_TOKEN)
        .webhook_header_secret(BC_HEADER)
        .build()
        .expect_err("a blank store hash is refused");
    writeln!(seen, "{bad_bc} {bad_bc:?}").unwrap();
    match HubSpotConfig::builder(HubSpotAuth::PrivateApp {
        token: Secret::new(HS_TOKEN),
    })
    .client_secret(Secret::new(HS_CLIENT_SECRET))
    .base_url("::not a url::")
    {
        Ok(b) => writeln!(seen, "{:?}", b.build()).unwrap(),
        Err(e) => writeln!(seen, "{e} {e:?}").unwrap(),
    }
    let bad_ac = ActiveCampaignConfig::builder(Secret::new(AC_TOKEN))
        .webhook_secret(Secret::new(AC_HOOK), None)
        .build()
        .expect_err("neither account nor base URL");
    writeln!(seen, "{bad_ac} {bad_ac:?}").unwrap();
    let ct = CommercetoolsConfig::builder("proj", "cid", CT_SECRET).build();
    writeln!(seen, "{ct:?}").unwrap();

    // ActiveCampaign: its secret rides in the URL; a bad body there is a dead letter, and a
    // receiver without a secret refuses everything.
    let ac_config = ActiveCampaignConfig::builder(Secret::new(AC_TOKEN))
        .account("acme")
        .webhook_secret(Secret::new(AC_HOOK), None)
        .build()
        .unwrap();
    writeln!(seen, "{ac_config:?}").unwrap();
    let ac = ActiveCampaign::new(ac_config).unwrap();
    let open = ActiveCampaign::new(
        ActiveCampaignConfig::builder(Secret::new(AC_TOKEN))
            .account("acme")
            .build()
            .unwrap(),
    )
    .unwrap();
    writeln!(seen, "{ac:?} {open:?}").unwrap();
    let intake = Intake::new(Arc::clone(&store));
    let bad_body = format!("type=update&contact%5Bid%5D=x&card={CARD}");
    let request = WebhookRequest::post(
        format!("https://host/webhooks/crm/{AC_HOOK}?token={AC_HOOK}"),
        Vec::new(),
        bad_body.into_bytes(),
    );
    let lettered = intake.crm(&ac, &request).await;
    assert_eq!(
        (lettered.status, lettered.dead_lettered),
        (200, 1),
        "{lettered:?}"
    );
    let refused = intake.crm(&open, &request).await;
    assert_eq!(refused.status, 500, "{refused:?}");
    writeln!(seen, "{lettered:?} {refused:?}").unwrap();

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();

    // Nothing leaked anywhere.
    let mut found = leaks("errors, configs and Debug output", &seen);
    let mut letters = 0;
    for s in [&store, &failing_store] {
        for letter in s.dead_letters(&DeadLetterFilter::default()).await.unwrap() {
            letters += 1;
            found.extend(leaks(
                &format!("dead letter {}", letter.record),
                &format!("{letter:?}"),
            ));
        }
    }
    drop(p);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        found.extend(leaks(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        ));
    }
    let captured = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    found.extend(leaks("the TRACE logs", &captured));
    assert!(found.is_empty(), "leaked: {found:#?}");

    // The run exercised what it claims: logs at every level, dead letters, refusals.
    assert!(letters >= 2, "the dead-letter paths ran: {letters}");
    for expected in ["TRACE", "DEBUG", "webhook refused", "401"] {
        assert!(
            captured.contains(expected),
            "the logs hold no {expected:?} ({} bytes captured)",
            captured.len()
        );
    }
    assert!(
        seen.contains("401") || seen.contains("nauthorized"),
        "the revoked token failed: {seen}"
    );
    drop(bc_sim);
}
