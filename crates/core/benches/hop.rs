//! The whole hop: BigCommerce v2 order wire JSON (the order and its five products) ->
//! canonical [`Order`] (`cartograph_bigcommerce::map::order`) -> deal [`OrderRecord`]
//! (default HubSpot deal plan, `order_record`) -> HubSpot `POST /crm/v3/objects/0-3/batch/upsert`
//! JSON body, 100 deals per body.
//!
//! The HubSpot connector builds that body inside its async `record_orders` (no public pure
//! function), so this bench rebuilds it with the connector's public pieces, exactly as
//! `record_orders` + `upsert_all` do for deals: `map::format_properties`, the order-id
//! property, `dealname`/`pipeline`/`dealstage` defaults when unmapped, and
//! `wire::{BatchInput, UpsertInput}` with `idProperty` and `objectWriteTraceId`.
//!
//! Baselines over the same input bytes, in the same run: `serde_json` parse into
//! `serde_json::Value` + serialize, and parse into the BigCommerce wire types + serialize.
//! Before criterion runs, an interleaved pass prints the hop/baseline throughput ratios
//! (ratios survive noisy machines better than absolute figures).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]
// Bench data generation and reporting: small counters cast to i64/f64, short names.
#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    clippy::many_single_char_names
)]
#![recursion_limit = "256"]

use std::hint::black_box;
use std::time::Duration;

use cartograph_bigcommerce::{map as bc_map, wire as bc};
use cartograph_core::mapping::{Context, Input, Plan, defaults, order_record};
use cartograph_hubspot::config::HubSpotMapping;
use cartograph_hubspot::map::format_properties;
use cartograph_hubspot::wire::{BatchInput, UpsertInput};
use cartograph_model::{Order, OrderObject, OrderRecord, Origin};
use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Wall-clock time by default; thread CPU time with `CARTOGRAPH_BENCH_CLOCK=cpu`.
#[path = "support/clock.rs"]
mod clock;

const ORDERS: usize = 1_000;
const BATCH: usize = 100;

/// One order as the API returns it: `GET /v2/orders/{id}` and `GET /v2/orders/{id}/products`.
struct Wire {
    order: Vec<u8>,
    products: Vec<u8>,
}

fn wire_orders() -> Vec<Wire> {
    let statuses = [
        (10, "Completed"),
        (2, "Shipped"),
        (11, "Awaiting Fulfillment"),
        (5, "Cancelled"),
    ];
    (0..ORDERS)
        .map(|i| {
            let (status_id, status) = statuses[i % statuses.len()];
            let mut subtotal = 0_i64;
            let products: Vec<serde_json::Value> = (0..5)
                .map(|n| {
                    let qty = 1 + (i + n) % 3;
                    let cents = 500 + ((i * 7919 + n * 104_729) % 20_000) as i64;
                    let total = cents * qty as i64;
                    subtotal += total;
                    serde_json::json!({
                        "id": i * 10 + n,
                        "order_id": 100 + i,
                        "product_id": 77 + (i + n) % 500,
                        "variant_id": 300 + n,
                        "name": format!("Trail runner {n} / size {}", 38 + n),
                        "sku": format!("TR-{}-{}", (i + n) % 500, 38 + n),
                        "type": "physical",
                        "base_price": format!("{}.{:02}", cents / 100, cents % 100),
                        "price_ex_tax": format!("{}.{:02}", cents / 100, cents % 100),
                        "price_inc_tax": format!("{}.{:02}", cents * 11 / 1000, (cents * 11 / 10) % 100),
                        "total_ex_tax": format!("{}.{:02}", total / 100, total % 100),
                        "total_inc_tax": format!("{}.{:02}", total * 11 / 1000, (total * 11 / 10) % 100),
                        "total_tax": format!("{}.{:02}", total / 1000, (total / 10) % 100),
                        "quantity": qty,
                        "quantity_refunded": 0,
                        "product_options": [{"display_name": "Size", "display_value": format!("{}", 38 + n)}],
                    })
                })
                .collect();
            let tax = subtotal / 10;
            let total = subtotal + tax + 499;
            let money = |c: i64| format!("{}.{:02}", c / 100, c % 100);
            let order = serde_json::json!({
                "id": 100 + i,
                "customer_id": 1 + i % 200,
                "date_created": format!("Tue, {:02} Nov 2025 1{}:2{}:00 +0000", 1 + i % 28, i % 10, i % 10),
                "date_modified": format!("Wed, {:02} Nov 2025 0{}:00:00 +0000", 1 + i % 28, i % 10),
                "date_shipped": "",
                "status_id": status_id,
                "status": status,
                "subtotal_ex_tax": money(subtotal),
                "subtotal_inc_tax": money(subtotal + tax),
                "subtotal_tax": money(tax),
                "shipping_cost_ex_tax": "4.9900",
                "shipping_cost_inc_tax": "4.9900",
                "handling_cost_ex_tax": "0.0000",
                "handling_cost_inc_tax": "0.0000",
                "wrapping_cost_ex_tax": "0.0000",
                "total_ex_tax": money(subtotal + 499),
                "total_inc_tax": money(total),
                "total_tax": money(tax),
                "discount_amount": "0.0000",
                "coupon_discount": "0.0000",
                "refunded_amount": "0.0000",
                "items_total": 5,
                "items_shipped": 0,
                "payment_method": "Credit Card",
                "payment_status": "captured",
                "currency_code": "USD",
                "default_currency_code": "USD",
                "currency_exchange_rate": "1.0000000000",
                "is_deleted": false,
                "is_email_opt_in": i % 2 == 0,
                "channel_id": 1,
                "order_source": "www",
                "customer_message": "",
                "billing_address": {
                    "first_name": "Jane", "last_name": format!("Doe{i}"), "company": "",
                    "street_1": format!("{} Main St", 1 + i), "street_2": "", "city": "Austin",
                    "state": "Texas", "zip": "78701", "country": "United States",
                    "country_iso2": "US", "phone": "+1 512 555 0100",
                    "email": format!("jane.doe{}@example.com", i % 200),
                },
                "products": {"url": format!("https://api.bigcommerce.com/stores/abc/v2/orders/{}/products", 100 + i), "resource": format!("/orders/{}/products", 100 + i)},
                "shipping_addresses": {"url": format!("https://api.bigcommerce.com/stores/abc/v2/orders/{}/shipping_addresses", 100 + i), "resource": format!("/orders/{}/shipping_addresses", 100 + i)},
                "coupons": {"url": format!("https://api.bigcommerce.com/stores/abc/v2/orders/{}/coupons", 100 + i), "resource": format!("/orders/{}/coupons", 100 + i)},
            });
            Wire {
                order: serde_json::to_vec(&order).expect("serialize"),
                products: serde_json::to_vec(&products).expect("serialize"),
            }
        })
        .collect()
}

/// BigCommerce bytes -> canonical order.
fn canonical(w: &Wire) -> Order {
    let order: bc::Order = serde_json::from_slice(&w.order).expect("order parses");
    let products: Vec<bc::OrderProduct> =
        serde_json::from_slice(&w.products).expect("products parse");
    bc_map::order("bigcommerce", &order, &products, &[], &[]).expect("order maps")
}

/// One `batch/upsert` input for a deal, as `record_orders` + `upsert_all` build it.
fn upsert_input(m: &HubSpotMapping, trace: usize, record: &OrderRecord) -> UpsertInput {
    let mut properties = format_properties(&record.key, &record.properties).expect("formats");
    properties.insert(m.order_id_property.clone(), record.key.clone());
    properties
        .entry("dealname".into())
        .or_insert_with(|| format!("Order {}", record.key));
    properties
        .entry("pipeline".into())
        .or_insert_with(|| m.deal_pipeline.clone());
    properties
        .entry("dealstage".into())
        .or_insert_with(|| m.deal_stage.clone());
    UpsertInput {
        id: record.key.clone(),
        id_property: Some(m.order_id_property.clone()),
        object_write_trace_id: Some(trace.to_string()),
        properties,
    }
}

/// The hop for one batch of wire orders: HubSpot request bodies out.
fn hop(batch: &[Wire], deal: &Plan, m: &HubSpotMapping, cx: Context<'_>) -> Vec<u8> {
    let mut inputs = Vec::with_capacity(batch.len());
    for (i, w) in batch.iter().enumerate() {
        let order = canonical(w);
        let (record, errors) = order_record(
            deal,
            None,
            OrderObject::Deal,
            &Input::default(),
            &order,
            Origin::Live,
            &cx,
        );
        debug_assert!(errors.is_empty(), "{errors:?}");
        inputs.push(upsert_input(m, i, &record));
    }
    serde_json::to_vec(&BatchInput { inputs }).expect("body serializes")
}

fn baseline_value(batch: &[Wire]) -> usize {
    let mut n = 0;
    for w in batch {
        for bytes in [&w.order, &w.products] {
            let v: serde_json::Value = serde_json::from_slice(bytes).expect("parse");
            n += serde_json::to_vec(&v).expect("serialize").len();
        }
    }
    n
}

fn baseline_typed(batch: &[Wire]) -> usize {
    let mut n = 0;
    for w in batch {
        let o: bc::Order = serde_json::from_slice(&w.order).expect("parse");
        let p: Vec<bc::OrderProduct> = serde_json::from_slice(&w.products).expect("parse");
        n += serde_json::to_vec(&o).expect("serialize").len();
        n += serde_json::to_vec(&p).expect("serialize").len();
    }
    n
}

/// Median time of `f` over all orders, interleaved with the others by the caller.
fn time_once(clock: &clock::Clock, f: &mut dyn FnMut()) -> Duration {
    let start = clock.start();
    f();
    clock.end(start)
}

fn hop_bench(c: &mut Criterion<clock::Clock>) {
    let wires = wire_orders();
    let deal = defaults::hubspot()
        .expect("bundled mapping")
        .compile("deal", &[])
        .expect("deal plan compiles");
    let m = HubSpotMapping::default();
    let cx = Context::default();
    let bytes: usize = wires.iter().map(|w| w.order.len() + w.products.len()).sum();

    // Sanity: the body is what HubSpot expects.
    let body: serde_json::Value =
        serde_json::from_slice(&hop(&wires[..BATCH], &deal, &m, cx)).expect("json");
    let first = &body["inputs"][0];
    assert_eq!(first["idProperty"], "cartograph_order_id");
    assert_eq!(first["id"], "bigcommerce/order/100");
    assert_eq!(first["properties"]["dealstage"], "closedwon");
    assert_eq!(body["inputs"].as_array().map(Vec::len), Some(BATCH));

    // Interleaved ratio pass: 15 rounds of each over all orders, medians compared.
    let clock = clock::Clock::from_env();
    let (mut th, mut tv, mut tt) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        th.push(time_once(&clock, &mut || {
            for b in wires.chunks(BATCH) {
                black_box(hop(b, &deal, &m, cx));
            }
        }));
        tv.push(time_once(&clock, &mut || {
            for b in wires.chunks(BATCH) {
                black_box(baseline_value(b));
            }
        }));
        tt.push(time_once(&clock, &mut || {
            for b in wires.chunks(BATCH) {
                black_box(baseline_typed(b));
            }
        }));
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64()
    };
    let (h, v, t) = (median(&mut th), median(&mut tv), median(&mut tt));
    let per_s = |secs: f64| ORDERS as f64 / secs;
    eprintln!(
        "hop: {:.0} orders/s; serde_json Value parse+serialize {:.0} orders/s; wire types {:.0} orders/s",
        per_s(h),
        per_s(v),
        per_s(t)
    );
    eprintln!(
        "hop ratio (hop throughput / baseline throughput): vs Value {:.2}, vs wire types {:.2}; input {} bytes per order",
        v / h,
        t / h,
        bytes / ORDERS
    );

    let mut g = c.benchmark_group("hop");
    g.throughput(Throughput::Elements(ORDERS as u64));
    g.bench_function("bigcommerce_wire_to_hubspot_deal_upsert_body", |b| {
        b.iter(|| {
            for batch in wires.chunks(BATCH) {
                black_box(hop(batch, &deal, &m, cx));
            }
        });
    });
    g.bench_function("baseline_serde_json_value_parse_serialize", |b| {
        b.iter(|| {
            for batch in wires.chunks(BATCH) {
                black_box(baseline_value(batch));
            }
        });
    });
    g.bench_function("baseline_serde_json_wire_types_parse_serialize", |b| {
        b.iter(|| {
            for batch in wires.chunks(BATCH) {
                black_box(baseline_typed(batch));
            }
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(clock::Clock::from_env());
    targets = hop_bench
}
criterion_main!(benches);
