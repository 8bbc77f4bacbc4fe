//! The whole mapping hop, beside two `serde_json` baselines timed in the same run: the one
//! definition of `mapping_ratio_vs_serde` (issue 4's target, >= 0.5),
//! `mapping_ratio_vs_typed_wire` (stricter, no target) and
//! `mapping_orders_per_sec_per_core`, shared by `examples/bench_report` and the criterion
//! bench `benches/hop.rs` (which includes this file with `#[path]`).
//!
//! **Input.** Real simulator output: generated canonical orders (five line items each) are
//! seeded into the BigCommerce simulator and read back through the connector's client as the
//! four v2 documents the connector fetches per order (`GET /v2/orders/{id}`, its
//! `products`, `shipping_addresses` and `coupons`), each kept as the `Response` the HTTP
//! layer hands the connector (status 200 and the JSON body bytes).
//!
//! **Hop** (per chunk of `MAX_BATCH` = 100 orders, as the sync engine hands them over):
//! 1. decode the four documents exactly as the connector does, into the
//!    `cartograph::bigcommerce::wire` types: the order with `Response::json` (`get_order`),
//!    the three listings with `client::v2_rows` (what every v2 page read goes through);
//! 2. `cartograph::bigcommerce::map::order` to the canonical order;
//! 3. `cartograph::core::mapping::order_record` with the default HubSpot `deal` and
//!    `line_item` plans (what the sync engine does);
//! 4. the HubSpot `batch/upsert` bodies `HubSpotClient::record_orders` sends, built by the
//!    same code (`cartograph::hubspot::body`): one deal body per chunk and the line items in
//!    bodies of 100, as bytes. Only what needs the network is left out: the contact and
//!    product look-ups (so no `hs_product_id`) and the sending.
//!
//! **Baselines**, over the same input bytes:
//! * `value` (the "plain `serde_json` parse plus serialize"): each document parsed
//!   into `serde_json::Value` and serialized back to bytes;
//! * `typed wire`: each document parsed into the connector's `bigcommerce::wire` types and
//!   serialized back, so the baseline knows the schema too.
//!
//! **Ratio** = baseline time / hop time (= hop throughput / baseline throughput). All three
//! run on one thread, interleaved in a rotating order in every run, so drift on a shared
//! machine hits them alike; each figure is the median of the per-run ratios. The stage
//! breakdown times prefixes of the hop (stop after step 1, 2, 3) in the same runs; from
//! step 3 on the records of a chunk are kept until the chunk ends, so step 4's share is the
//! body building alone (creating and dropping the records counts to step 3).

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use cartograph::bigcommerce::BigCommerce;
use cartograph::bigcommerce::client::{OrderQuery, v2_rows};
use cartograph::bigcommerce::sim::{BigCommerceSim, SimConfig};
use cartograph::bigcommerce::wire;
use cartograph::core::mapping::{Context, Input, MappingFile, Plan, order_record};
use cartograph::core::metrics::{Rates, sample};
use cartograph::http::Response;
use cartograph::http::http::HeaderMap;
use cartograph::hubspot::body::{LineItemInput, OrderInput, upsert_body};
use cartograph::hubspot::{HubSpotMapping, MAX_BATCH};
use cartograph::model::{Currency, Decimal, OrderObject, OrderRecord, Origin};
use serde_json::json;

use crate::report::{Figure, median};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The four v2 documents of one order, as served: each a [`Response`] as the connector's
/// HTTP layer hands it over (status 200, the body bytes).
pub(crate) struct WireOrder {
    order: Response,
    products: Response,
    shipping: Response,
    coupons: Response,
}

impl WireOrder {
    fn new(order: Vec<u8>, products: Vec<u8>, shipping: Vec<u8>, coupons: Vec<u8>) -> Self {
        let response = |body: Vec<u8>| Response::new(200, HeaderMap::default(), body);
        Self {
            order: response(order),
            products: response(products),
            shipping: response(shipping),
            coupons: response(coupons),
        }
    }

    fn len(&self) -> usize {
        self.documents().iter().map(|d| d.len()).sum()
    }

    /// The body bytes of the four documents.
    fn documents(&self) -> [&Bytes; 4] {
        [
            &self.order.body,
            &self.products.body,
            &self.shipping.body,
            &self.coupons.body,
        ]
    }
}

/// Seeds `n` generated orders into a BigCommerce simulator and reads them back.
pub(crate) async fn corpus(n: usize) -> Result<Vec<WireOrder>, BoxError> {
    let sim = BigCommerceSim::start(SimConfig {
        quota: 10_000_000,
        ..SimConfig::default()
    })
    .await?;
    let mut orders = sample::orders(n, 200, 11);
    for (i, o) in orders.iter_mut().enumerate() {
        o.source.id = (i + 1).to_string();
        if let Some(c) = &mut o.customer {
            let k: usize = c.id.parse().unwrap_or(0);
            c.id = (k + 1).to_string();
        }
    }
    sim.seed_orders(&orders);
    let bc = BigCommerce::new(sim.connector_config().build()?)?;
    let client = bc.client();
    let mut out = Vec::with_capacity(n);
    let mut page = 1;
    while out.len() < n {
        let Some(rows) = client
            .list_orders(&OrderQuery {
                modified_since: None,
                page,
                limit: 250,
            })
            .await?
        else {
            break;
        };
        if rows.is_empty() {
            break;
        }
        for o in rows {
            let products = client.order_products(o.id).await?;
            let shipping = client.order_shipping_addresses(o.id).await?;
            let coupons = client.order_coupons(o.id).await?;
            out.push(WireOrder::new(
                serde_json::to_vec(&o)?,
                serde_json::to_vec(&products)?,
                serde_json::to_vec(&shipping)?,
                serde_json::to_vec(&coupons)?,
            ));
        }
        page += 1;
    }
    Ok(out)
}

/// The compiled default HubSpot plans and the connector's mapping settings.
pub(crate) struct Plans {
    deal: Plan,
    line: Plan,
    mapping: HubSpotMapping,
    rates: Rates,
}

pub(crate) fn plans() -> Result<Plans, BoxError> {
    let file = MappingFile::from_toml(cartograph::hubspot::profile::DEFAULT_MAPPING)?;
    Ok(Plans {
        deal: file.compile("deal", &[])?,
        line: file.compile("line_item", &[])?,
        mapping: HubSpotMapping::default(),
        rates: Rates::new(Currency::USD).with_rate(Currency::EUR, Decimal::new(108, 2)),
    })
}

/// How the connector decodes a single record (`get_order`).
fn decode<T: serde::de::DeserializeOwned>(response: &Response) -> Result<T, BoxError> {
    Ok(response.json()?)
}

/// How the connector decodes a v2 listing (an order's products, addresses, coupons).
fn decode_rows<T: serde::de::DeserializeOwned>(response: &Response) -> Result<Vec<T>, BoxError> {
    Ok(v2_rows(response)?.unwrap_or_default())
}

/// How far [`hop`] goes: the stage breakdown times prefixes of the hop.
const DECODE: u8 = 1;
const CANONICAL: u8 = 2;
const RECORD: u8 = 3;
pub(crate) const FULL: u8 = 4;

/// The hop for every order up to `stage`; returns the bytes of the request bodies produced.
pub(crate) fn hop(corpus: &[WireOrder], p: &Plans, stage: u8) -> Result<usize, BoxError> {
    let cx = Context {
        rates: Some(&p.rates),
    };
    let m = &p.mapping;
    let mut written = 0;
    let mut records: Vec<OrderRecord> = Vec::with_capacity(MAX_BATCH);
    for chunk in corpus.chunks(MAX_BATCH) {
        records.clear();
        for d in chunk {
            let o: wire::Order = decode(&d.order)?;
            let products: Vec<wire::OrderProduct> = decode_rows(&d.products)?;
            let shipping: Vec<wire::OrderShippingAddress> = decode_rows(&d.shipping)?;
            let coupons: Vec<wire::OrderCoupon> = decode_rows(&d.coupons)?;
            if stage == DECODE {
                black_box((&o, &products, &shipping, &coupons));
                continue;
            }
            let order = cartograph::bigcommerce::map::order(
                "bigcommerce",
                &o,
                &products,
                &shipping,
                &coupons,
            )?;
            if stage == CANONICAL {
                black_box(&order);
                continue;
            }
            let (record, errors) = order_record(
                &p.deal,
                Some(&p.line),
                OrderObject::Deal,
                &Input::default(),
                &order,
                Origin::Historical,
                &cx,
            );
            if let Some(e) = errors.first() {
                return Err(format!("mapping error on {}: {e:?}", record.key).into());
            }
            // Kept for the chunk at every stage from here, so the last stage's time is
            // the bodies alone.
            records.push(record);
        }
        if stage < FULL {
            black_box(&records);
            continue;
        }
        // What `record_orders` sends: the deals of the chunk in one body, then their line
        // items in bodies of `MAX_BATCH`, trace ids = positions in the call.
        let deals = records
            .iter()
            .map(|r| OrderInput::new(m, r))
            .collect::<Result<Vec<_>, _>>()?;
        written += black_box(upsert_body(&m.order_id_property, &deals, 0)).len();
        let mut lines = Vec::with_capacity(records.len() * 5);
        for r in &records {
            for line in &r.line_items {
                lines.push(LineItemInput::new(m, &r.key, line, None)?);
            }
        }
        for (c, batch) in lines.chunks(MAX_BATCH).enumerate() {
            let body = upsert_body(&m.line_item_id_property, batch, c * MAX_BATCH);
            written += black_box(body).len();
        }
    }
    Ok(written)
}

/// The baseline: each document parsed into `serde_json::Value` and serialized back.
pub(crate) fn baseline_value(corpus: &[WireOrder]) -> Result<usize, BoxError> {
    let mut written = 0;
    for d in corpus {
        for doc in d.documents() {
            let v: serde_json::Value = serde_json::from_slice(doc)?;
            written += black_box(serde_json::to_vec(&v)?).len();
        }
    }
    Ok(written)
}

/// The stricter baseline: the same documents into the connector's wire types and back.
pub(crate) fn baseline_typed(corpus: &[WireOrder]) -> Result<usize, BoxError> {
    let mut written = 0;
    for d in corpus {
        let [order, products, shipping, coupons] = d.documents();
        let o: wire::Order = serde_json::from_slice(order)?;
        let products: Vec<wire::OrderProduct> = serde_json::from_slice(products)?;
        let shipping: Vec<wire::OrderShippingAddress> = serde_json::from_slice(shipping)?;
        let coupons: Vec<wire::OrderCoupon> = serde_json::from_slice(coupons)?;
        written += black_box(serde_json::to_vec(&o)?).len();
        written += black_box(serde_json::to_vec(&products)?).len();
        written += black_box(serde_json::to_vec(&shipping)?).len();
        written += black_box(serde_json::to_vec(&coupons)?).len();
    }
    Ok(written)
}

/// One timed task of a run.
#[derive(Clone, Copy)]
enum Task {
    Hop(u8),
    Value,
    Typed,
}

/// Per-run seconds of every task, indexed like [`TASKS`].
const TASKS: [Task; 6] = [
    Task::Hop(FULL),
    Task::Value,
    Task::Typed,
    Task::Hop(DECODE),
    Task::Hop(CANONICAL),
    Task::Hop(RECORD),
];

fn run_task(corpus: &[WireOrder], p: &Plans, task: Task) -> Result<(f64, usize), BoxError> {
    let t = Instant::now();
    let bytes = match task {
        Task::Hop(stage) => hop(corpus, p, stage)?,
        Task::Value => baseline_value(corpus)?,
        Task::Typed => baseline_typed(corpus)?,
    };
    Ok((t.elapsed().as_secs_f64(), black_box(bytes)))
}

/// Runs the comparison; returns the figures.
pub(crate) fn measure(corpus: &[WireOrder], runs: usize) -> Result<Vec<Figure>, BoxError> {
    let p = plans()?;
    let n = corpus.len();
    let bytes: usize = corpus.iter().map(WireOrder::len).sum();
    // Warm-up (caches, allocator), not counted.
    for task in TASKS {
        run_task(corpus, &p, task)?;
    }
    let mut secs: [Vec<f64>; 6] = Default::default();
    let mut body_bytes = 0;
    for run in 0..runs {
        // Rotate the order so drift on a shared machine hits every task alike.
        for k in 0..TASKS.len() {
            let i = (k + run) % TASKS.len();
            let (s, out) = run_task(corpus, &p, TASKS[i])?;
            if i == 0 {
                body_bytes = out;
            }
            secs[i].push(s);
        }
    }
    let [hop_s, value_s, typed_s, decode_s, canonical_s, record_s] = &secs;
    let per_run = |a: &[f64], b: &[f64]| -> Vec<f64> {
        a.iter().zip(b).map(|(a, b)| a / b).collect::<Vec<_>>()
    };
    let ratio_value = per_run(value_s, hop_s);
    let ratio_typed = per_run(typed_s, hop_s);
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    let us = |s: f64| s / nf * 1e6;
    let stage_us = |later: &[f64], earlier: &[f64]| -> f64 {
        us(median(
            &later
                .iter()
                .zip(earlier)
                .map(|(l, e)| l - e)
                .collect::<Vec<_>>(),
        ))
    };
    let per_sec = |s: &[f64]| s.iter().map(|s| nf / s).collect::<Vec<_>>();
    let input = json!({"orders": n, "line_items_per_order": 5, "wire_bytes": bytes, "runs": runs});
    let detail = json!({
        "hop_orders_per_sec_runs": per_sec(hop_s),
        "baseline_value_orders_per_sec_runs": per_sec(value_s),
        "baseline_typed_orders_per_sec_runs": per_sec(typed_s),
        "ratio_vs_value_runs": ratio_value,
        "ratio_vs_typed_wire_runs": ratio_typed,
        "hubspot_body_bytes": body_bytes,
        "microseconds_per_order": {
            "baseline_value_parse_serialize": us(median(value_s)),
            "baseline_typed_wire_parse_serialize": us(median(typed_s)),
            "decode_connector_way": us(median(decode_s)),
            "bigcommerce_map_order": stage_us(canonical_s, decode_s),
            "mapping_order_record": stage_us(record_s, canonical_s),
            "hubspot_bodies": stage_us(hop_s, record_s),
            "hop_total": us(median(hop_s)),
        },
        "threads": 1,
        "hop": "4 BigCommerce v2 documents per order -> Response::json / client::v2_rows -> \
                bigcommerce::map::order -> mapping::order_record (default HubSpot deal + \
                line_item plans) -> hubspot::body batch/upsert bodies (deals, line items) \
                as bytes",
        "baseline_value": "serde_json::from_slice into serde_json::Value + serde_json::to_vec, \
                           each of the same 4 documents",
        "baseline_typed_wire": "serde_json::from_slice into the bigcommerce::wire types + \
                                serde_json::to_vec, each of the same 4 documents",
    });
    Ok(vec![
        Figure::new(
            "mapping_ratio_vs_serde",
            median(&ratio_value),
            "ratio",
            input.clone(),
        )
        .target(">= 0.5", |v| v >= 0.5)
        .detail(detail),
        Figure::new(
            "mapping_ratio_vs_typed_wire",
            median(&ratio_typed),
            "ratio",
            input.clone(),
        ),
        Figure::new(
            "mapping_orders_per_sec_per_core",
            median(&per_sec(hop_s)),
            "orders/s (1 thread)",
            input,
        ),
    ])
}
