//! `mapping_ratio_vs_serde` and `mapping_orders_per_sec_per_core`.
//!
//! The corpus is real simulator output: generated canonical orders (five line items each) are
//! seeded into the BigCommerce simulator and read back through the connector's client as the
//! four v2 documents the connector fetches per order (order, products, shipping addresses,
//! coupons), kept as JSON bytes.
//!
//! * **hop**: decode the four documents exactly as the connector does (`Response::json`,
//!   `serde_path_to_error`), `cartograph_bigcommerce::map::order` to the canonical order,
//!   `cartograph_core::mapping::order_record` with the default HubSpot `deal` and `line_item`
//!   plans (what the sync engine does), then the HubSpot `batch/upsert` bodies: deal inputs
//!   and line-item inputs in batches of 100, serialized to bytes.
//! * **baseline**: `serde_json` parse of the same four documents into the same wire types and
//!   serialize back to bytes.
//!
//! Both run on one thread, alternately, several times; the ratio is the median of the
//! per-run ratios (baseline time / hop time = hop throughput / baseline throughput).

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use cartograph_bigcommerce::BigCommerce;
use cartograph_bigcommerce::client::OrderQuery;
use cartograph_bigcommerce::sim::{SimConfig, Simulator};
use cartograph_bigcommerce::wire;
use cartograph_core::mapping::{Context, Input, Plan, defaults, order_record};
use cartograph_core::metrics::{Rates, sample};
use cartograph_http::Response;
use cartograph_http::http::HeaderMap;
use cartograph_hubspot::HubSpotMapping;
use cartograph_hubspot::map::format_properties;
use cartograph_hubspot::wire::{BatchInput, UpsertInput};
use cartograph_model::{Currency, Decimal, OrderObject, Origin};
use serde_json::json;

use crate::report::{Figure, median};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The four v2 documents of one order, as served.
pub(crate) struct WireOrder {
    order: Bytes,
    products: Bytes,
    shipping: Bytes,
    coupons: Bytes,
}

impl WireOrder {
    fn len(&self) -> usize {
        self.order.len() + self.products.len() + self.shipping.len() + self.coupons.len()
    }
}

/// Seeds `n` generated orders into a BigCommerce simulator and reads them back.
pub(crate) async fn corpus(n: usize) -> Result<Vec<WireOrder>, BoxError> {
    let sim = Simulator::start(SimConfig {
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
            out.push(WireOrder {
                order: serde_json::to_vec(&o)?.into(),
                products: serde_json::to_vec(&products)?.into(),
                shipping: serde_json::to_vec(&shipping)?.into(),
                coupons: serde_json::to_vec(&coupons)?.into(),
            });
        }
        page += 1;
    }
    Ok(out)
}

pub(crate) struct Plans {
    deal: Plan,
    line: Plan,
    mapping: HubSpotMapping,
    rates: Rates,
}

pub(crate) fn plans() -> Result<Plans, BoxError> {
    let file = defaults::hubspot()?;
    Ok(Plans {
        deal: file.compile("deal", &[])?,
        line: file.compile("line_item", &[])?,
        mapping: HubSpotMapping::default(),
        rates: Rates::new(Currency::USD).with_rate(Currency::EUR, Decimal::new(108, 2)),
    })
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, BoxError> {
    Ok(Response::new(200, HeaderMap::default(), bytes.clone()).json()?)
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
    for chunk in corpus.chunks(cartograph_hubspot::MAX_BATCH) {
        let mut deals = Vec::with_capacity(chunk.len());
        let mut lines = Vec::with_capacity(chunk.len() * 5);
        for d in chunk {
            let o: wire::Order = decode(&d.order)?;
            let products: Vec<wire::OrderProduct> = decode(&d.products)?;
            let shipping: Vec<wire::OrderShippingAddress> = decode(&d.shipping)?;
            let coupons: Vec<wire::OrderCoupon> = decode(&d.coupons)?;
            if stage == DECODE {
                black_box((&o, &products, &shipping, &coupons));
                continue;
            }
            let order = cartograph_bigcommerce::map::order(
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
            if stage == RECORD {
                black_box(&record);
                continue;
            }
            // The same inputs `HubSpotClient::record_orders` builds (its builder is inlined
            // in async code, so it is mirrored here).
            let mut props = format_properties(&record.key, &record.properties)?;
            props.insert(m.order_id_property.clone(), record.key.clone());
            props
                .entry("dealname".into())
                .or_insert_with(|| format!("Order {}", record.key));
            props
                .entry("pipeline".into())
                .or_insert_with(|| m.deal_pipeline.clone());
            props
                .entry("dealstage".into())
                .or_insert_with(|| m.deal_stage.clone());
            for line in &record.line_items {
                let key = format!("{}:{}", record.key, line.key);
                let mut lp = format_properties(&key, &line.properties)?;
                lp.insert(m.line_item_id_property.clone(), key.clone());
                lines.push(UpsertInput {
                    id: key,
                    id_property: Some(m.line_item_id_property.clone()),
                    object_write_trace_id: None,
                    properties: lp,
                });
            }
            deals.push(UpsertInput {
                id: record.key,
                id_property: Some(m.order_id_property.clone()),
                object_write_trace_id: None,
                properties: props,
            });
        }
        if stage < FULL {
            continue;
        }
        written += serde_json::to_vec(&BatchInput { inputs: deals })?.len();
        let mut lines = lines.into_iter().peekable();
        while lines.peek().is_some() {
            let inputs: Vec<UpsertInput> =
                lines.by_ref().take(cartograph_hubspot::MAX_BATCH).collect();
            written += serde_json::to_vec(&BatchInput { inputs })?.len();
        }
    }
    Ok(written)
}

/// Plain serde_json parse + serialize of the same documents into the same wire types.
pub(crate) fn baseline(corpus: &[WireOrder]) -> Result<usize, BoxError> {
    let mut written = 0;
    for d in corpus {
        let o: wire::Order = serde_json::from_slice(&d.order)?;
        let products: Vec<wire::OrderProduct> = serde_json::from_slice(&d.products)?;
        let shipping: Vec<wire::OrderShippingAddress> = serde_json::from_slice(&d.shipping)?;
        let coupons: Vec<wire::OrderCoupon> = serde_json::from_slice(&d.coupons)?;
        written += black_box(serde_json::to_vec(&o)?).len();
        written += black_box(serde_json::to_vec(&products)?).len();
        written += black_box(serde_json::to_vec(&shipping)?).len();
        written += black_box(serde_json::to_vec(&coupons)?).len();
    }
    Ok(written)
}

/// Runs the comparison; returns the two figures.
pub(crate) fn measure(corpus: &[WireOrder], runs: usize) -> Result<Vec<Figure>, BoxError> {
    let p = plans()?;
    let n = corpus.len();
    let bytes: usize = corpus.iter().map(WireOrder::len).sum();
    // Warm-up (caches, allocator), not counted.
    black_box(hop(corpus, &p, FULL)?);
    black_box(baseline(corpus)?);
    let mut hop_secs = Vec::with_capacity(runs);
    let mut base_secs = Vec::with_capacity(runs);
    let mut ratios = Vec::with_capacity(runs);
    let mut body_bytes = 0;
    for run in 0..runs {
        // Alternate which goes first so drift on a shared machine hits both equally.
        let (h, b) = if run % 2 == 0 {
            let t = Instant::now();
            body_bytes = hop(corpus, &p, FULL)?;
            let h = t.elapsed().as_secs_f64();
            let t = Instant::now();
            black_box(baseline(corpus)?);
            (h, t.elapsed().as_secs_f64())
        } else {
            let t = Instant::now();
            black_box(baseline(corpus)?);
            let b = t.elapsed().as_secs_f64();
            let t = Instant::now();
            body_bytes = hop(corpus, &p, FULL)?;
            (t.elapsed().as_secs_f64(), b)
        };
        hop_secs.push(h);
        base_secs.push(b);
        ratios.push(b / h);
    }
    // Stage breakdown: prefixes of the hop, medians of the same number of runs.
    let mut stage_secs = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..runs {
        for (i, stage) in [DECODE, CANONICAL, RECORD].into_iter().enumerate() {
            let t = Instant::now();
            black_box(hop(corpus, &p, stage)?);
            stage_secs[i].push(t.elapsed().as_secs_f64());
        }
    }
    let [decode_s, canonical_s, record_s] = stage_secs.map(|v| median(&v));
    let hop_s = median(&hop_secs);
    let base_s = median(&base_secs);
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    let us = |s: f64| s / nf * 1e6;
    let input = json!({"orders": n, "line_items_per_order": 5, "wire_bytes": bytes, "runs": runs});
    let per_sec: Vec<f64> = hop_secs.iter().map(|s| nf / s).collect();
    let base_per_sec: Vec<f64> = base_secs.iter().map(|s| nf / s).collect();
    let ratio = median(&ratios);
    let detail = json!({
        "hop_orders_per_sec_runs": per_sec,
        "baseline_orders_per_sec_runs": base_per_sec,
        "ratio_runs": ratios,
        "baseline_orders_per_sec_median": median(&base_per_sec),
        "hubspot_body_bytes": body_bytes,
        "microseconds_per_order": {
            "baseline_parse_serialize": us(base_s),
            "decode_connector_way": us(decode_s),
            "bigcommerce_map_order": us(canonical_s - decode_s),
            "mapping_order_record": us(record_s - canonical_s),
            "hubspot_format_and_serialize": us(hop_s - record_s),
            "hop_total": us(hop_s),
        },
        "threads": 1,
        "hop": "wire JSON (4 v2 documents) -> Response::json -> bigcommerce::map::order -> \
                mapping::order_record (HubSpot deal + line_item plans) -> \
                hubspot format_properties -> batch/upsert bodies (deals, line items) as bytes",
        "baseline": "serde_json::from_slice + serde_json::to_vec of the same 4 documents into \
                     the same bigcommerce::wire types",
    });
    Ok(vec![
        Figure::new("mapping_ratio_vs_serde", ratio, "ratio", input.clone())
            .target(">= 0.5", |v| v >= 0.5)
            .detail(detail),
        Figure::new(
            "mapping_orders_per_sec_per_core",
            median(&per_sec),
            "orders/s (1 thread)",
            input,
        ),
    ])
}
