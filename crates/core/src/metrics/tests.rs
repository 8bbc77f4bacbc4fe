use cartograph_model::{
    Attributes, Currency, EmailAddress, LineItem, Money, OrderStatus, RecordKind, Refund,
    SourceRef, Timestamp,
};
use proptest::prelude::*;

use super::*;

const STATUSES: [OrderStatus; 6] = [
    OrderStatus::Completed,
    OrderStatus::Shipped,
    OrderStatus::Cancelled,
    OrderStatus::Declined,
    OrderStatus::AwaitingPayment,
    OrderStatus::PartiallyRefunded,
];

fn config() -> MetricsConfig {
    MetricsConfig::new(Rates::new(Currency::USD).with_rate(Currency::EUR, Decimal::new(10_837, 4)))
}

fn ts(secs: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_700_000_000 + secs).unwrap()
}

fn line(cat: u8, qty: Decimal) -> LineItem {
    LineItem {
        id: format!("l{cat}"),
        sku: None,
        product_id: None,
        variant_id: None,
        name: "x".into(),
        quantity: qty,
        unit_price: Money::from_minor(100, Currency::USD),
        total: Money::from_minor(100, Currency::USD),
        discount: None,
        tax: None,
        categories: vec!["All".into(), format!("cat{cat}")],
        brand: None,
        image_url: None,
        product_url: None,
        custom: Attributes::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn make_order(
    id: u8,
    customer: Option<u8>,
    status: usize,
    cents: i64,
    eur: bool,
    created: i64,
    version: i64,
    lines: &[(u8, Decimal)],
) -> Order {
    let currency = if eur { Currency::EUR } else { Currency::USD };
    let mut o = sample::order(&mut sample::Rng::new(1), 0, 1);
    o.source = SourceRef::new("shop", RecordKind::Order, id.to_string());
    o.customer = customer.map(|c| SourceRef::new("shop", RecordKind::Customer, c.to_string()));
    o.email = EmailAddress::new(format!("guest{id}@example.com"));
    o.status = STATUSES[status];
    o.currency = currency;
    o.total = Money::from_minor(cents, currency);
    o.created_at = ts(created * 86_400);
    o.updated_at = Some(ts(created * 86_400 + version));
    o.line_items = lines.iter().map(|(c, q)| line(*c, *q)).collect();
    o
}

fn quantity() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        6 => (1i64..4).prop_map(Decimal::from),
        1 => (1i64..40).prop_map(|q| Decimal::new(q, 1)),
        1 => Just(Decimal::from(3_000_000_000_u64)),
    ]
}

#[derive(Debug, Clone)]
enum Ev {
    Order(Box<Order>),
    Refund(Refund),
}

fn event() -> impl Strategy<Value = Ev> {
    let order = (
        0u8..8,
        proptest::option::weighted(0.8, 0u8..3),
        0usize..STATUSES.len(),
        0i64..100_000,
        any::<bool>(),
        0i64..200,
        0i64..4,
        // Up to eight lines over twelve categories (customers past the eight inline
        // weights too). Quantities are mostly small whole numbers, sometimes fractional,
        // whole with a scale (`2.0`) or past 2^31.
        proptest::collection::vec((0u8..12, quantity()), 0..9),
    )
        .prop_map(|(id, c, s, cents, eur, created, version, lines)| {
            Ev::Order(Box::new(make_order(
                id, c, s, cents, eur, created, version, &lines,
            )))
        });
    let refund = (0u8..5, 0u8..8, 0i64..50_000, any::<bool>(), 0i64..300).prop_map(
        |(id, order, cents, eur, day)| {
            let currency = if eur { Currency::EUR } else { Currency::USD };
            Ev::Refund(Refund {
                source: SourceRef::new("shop", RecordKind::Refund, id.to_string()),
                order: SourceRef::new("shop", RecordKind::Order, order.to_string()),
                amount: Money::from_minor(cents, currency),
                items: vec![],
                reason: None,
                created_at: ts(day * 86_400),
            })
        },
    );
    prop_oneof![3 => order, 1 => refund]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn incremental_metrics_equal_a_full_recompute(
        events in proptest::collection::vec(event(), 1..40),
        // Customers keep their dates in a list walk below this many orders, in sets above.
        sets_from in prop_oneof![Just(2u32), Just(4), Just(64)],
    ) {
        let config = config();
        let mut engine = MetricsEngine::new(config.clone()).with_sets_from(sets_from);
        let mut orders = Vec::new();
        let mut refunds = Vec::new();
        for ev in &events {
            match ev {
                Ev::Order(o) => { engine.upsert_order(o).unwrap(); orders.push((**o).clone()); }
                Ev::Refund(r) => { engine.upsert_refund(r).unwrap(); refunds.push(r.clone()); }
            }
            let (full, errors) = recompute(&config, &orders, &refunds);
            prop_assert!(errors.is_empty());
            let incremental = engine.all();
            for (key, m) in &incremental {
                let expected = full.get(key).cloned().unwrap_or_else(|| CustomerMetrics::empty(Currency::USD));
                prop_assert_eq!(m, &expected, "customer {}", key);
                // Same scale too: serialized forms agree.
                prop_assert_eq!(serde_json::to_string(m).unwrap(), serde_json::to_string(&expected).unwrap());
            }
            for key in full.keys() {
                prop_assert!(incremental.contains_key(key), "missing {}", key);
            }
        }
    }
}

#[test]
fn lifetime_value_is_net_of_refunds_in_the_base_currency() {
    let config = config();
    let mut engine = MetricsEngine::new(config);
    let a = make_order(
        1,
        Some(0),
        0,
        10_000,
        false,
        0,
        0,
        &[(1, Decimal::TWO), (2, Decimal::ONE)],
    );
    let b = make_order(2, Some(0), 1, 5_000, true, 10, 0, &[(1, Decimal::ONE)]);
    let cancelled = make_order(
        3,
        Some(0),
        2,
        99_900,
        false,
        20,
        0,
        &[(3, Decimal::from(9))],
    );
    for o in [&a, &b, &cancelled] {
        engine.upsert_order(o).unwrap();
    }
    engine
        .upsert_refund(&Refund {
            source: SourceRef::new("shop", RecordKind::Refund, "r1"),
            order: a.source.clone(),
            amount: Money::from_minor(2_550, Currency::USD),
            items: vec![],
            reason: None,
            created_at: ts(86_400 * 5),
        })
        .unwrap();
    let m = engine.metrics("shop/customer/0").unwrap();
    assert_eq!(m.paid_order_count, 2);
    // 100.00 USD + 50.00 EUR * 1.0837 = 54.185 -> 54.19 USD
    assert_eq!(m.gross_revenue.to_string(), "154.19 USD");
    assert_eq!(m.refunded.to_string(), "25.50 USD");
    assert_eq!(m.lifetime_value.to_string(), "128.69 USD");
    assert_eq!(m.average_order_value.unwrap().to_string(), "64.35 USD");
    assert_eq!(m.average_days_between_orders, Some(Decimal::new(1000, 2)));
    assert_eq!(m.top_categories, vec!["cat1", "cat2"]);
    assert_eq!(m.last_cancelled_at, cancelled.updated_at);
    assert_eq!(m.last_refund_at, Some(ts(86_400 * 5)));
}

#[test]
fn stale_versions_are_ignored_and_missing_rates_are_errors() {
    let mut engine = MetricsEngine::new(MetricsConfig::new(Rates::new(Currency::USD)));
    let newer = make_order(1, Some(0), 0, 10_000, false, 0, 3, &[]);
    let older = make_order(1, Some(0), 2, 10_000, false, 0, 1, &[]);
    engine.upsert_order(&newer).unwrap();
    assert_eq!(engine.upsert_order(&older).unwrap(), Outcome::Stale);
    assert_eq!(
        engine.metrics("shop/customer/0").unwrap().paid_order_count,
        1
    );
    let eur = make_order(2, Some(0), 0, 10_000, true, 0, 0, &[]);
    let err = engine.upsert_order(&eur).unwrap_err();
    assert!(err.to_string().contains("shop/order/2"), "{err}");
    assert!(err.to_string().contains("total"), "{err}");
    assert_eq!(
        engine.metrics("shop/customer/0").unwrap().paid_order_count,
        1
    );
}

#[test]
fn population_scores_rank_customers() {
    let mut engine = MetricsEngine::new(MetricsConfig::new(Rates::new(Currency::USD)));
    for (i, o) in sample::orders(2_000, 100, 3).iter().enumerate() {
        let mut o = o.clone();
        o.currency = Currency::USD;
        o.total = Money::from_minor(1_000 + i64::try_from(i).unwrap(), Currency::USD);
        engine.upsert_order(&o).unwrap();
    }
    let all = engine.all();
    let pop = Population::build(all.values(), TierConfig::default());
    let tiers: Vec<_> = all.values().filter_map(|m| pop.tier(m)).collect();
    let vip = tiers.iter().filter(|t| **t == ValueTier::Vip).count();
    let high = tiers.iter().filter(|t| **t == ValueTier::High).count();
    assert_eq!((vip, high), (10, 20), "100 paying customers: 10 % and 20 %");
    let best = all
        .values()
        .max_by_key(|m| m.lifetime_value.amount())
        .unwrap();
    assert_eq!(pop.rfm(best).unwrap().monetary, 5);
}

#[test]
fn population_cut_points_follow_values_whatever_their_scale() {
    let people: Vec<CustomerMetrics> = ["3", "1.50", "2.5", "0.75", "10.000", "4", "2.75"]
        .iter()
        .map(|v| {
            let mut m = CustomerMetrics::empty(Currency::USD);
            m.paid_order_count = 1;
            m.lifetime_value = Money::parse(v, Currency::USD).unwrap();
            m
        })
        .collect();
    let pop = Population::build(people.iter(), TierConfig::default());
    // Ascending by value: 0.75 1.50 2.5 2.75 3 4 10.000
    assert_eq!(pop.vip_min, Some(Decimal::from(10)));
    assert_eq!(pop.high_min, Some(Decimal::from(3)));
    let breaks: Vec<String> = pop
        .monetary_breaks
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(breaks, ["1.50", "2.5", "3", "4"]);
    // One scale (the engine's case) takes the integer path: same cut points.
    let same_scale: Vec<CustomerMetrics> = people
        .iter()
        .map(|m| {
            let mut m = m.clone();
            let mut d = m.lifetime_value.amount();
            d.rescale(3);
            m.lifetime_value = Money::new(d, Currency::USD);
            m
        })
        .collect();
    let pop3 = Population::build(same_scale.iter(), TierConfig::default());
    assert_eq!(pop3, pop);
    assert_eq!(pop3.monetary_breaks[0].to_string(), "1.500");
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn average_order_value_by_integers_equals_the_decimal_division(
        units in prop_oneof![
            -1_000i64..1_000,
            -1_000_000_000_000_000i64..1_000_000_000_000_000,
            Just(999_999_999_999_999i64),
            Just(-999_999_999_999_999i64),
        ],
        count in prop_oneof![1u64..10, 1u64..1_000_000, Just((1 << 32) - 1), Just(1 << 32)],
        currency in prop_oneof![Just(Currency::USD), Just(Currency::JPY), Just(Currency::new("KWD").unwrap())],
    ) {
        // Exact halves too: a multiple of the count plus half of it, and its negative.
        let c = i128::from(count);
        let half = i128::from(units % 1_000) * c + c / 2;
        let candidates = [i128::from(units), half, -half];
        for n in candidates.into_iter().filter_map(|n| i64::try_from(n).ok()) {
            let ltv = Money::from_minor(n, currency);
            let fast = average(ltv, count).unwrap();
            let exact = average_exact(ltv, count).unwrap();
            prop_assert_eq!(fast, exact);
            prop_assert_eq!(fast.to_string(), exact.to_string());
        }
    }
}

#[test]
fn engine_slots_stay_within_their_cache_lines() {
    // Not behaviour, but the layout the engine's speed rests on: one line per order,
    // three per customer.
    assert!(std::mem::size_of::<super::customer_state::OrderSlot>() <= 64);
    assert_eq!(
        std::mem::size_of::<super::customer_state::CustomerState>(),
        192
    );
}

/// Amounts and quantities beyond what sums can hold are typed errors naming the record and
/// field, in the engine and in `recompute` alike, and leave the metrics unchanged (before,
/// such sums could panic).
#[test]
fn out_of_range_amounts_and_quantities_are_errors_not_panics() {
    let huge = Money::new(Decimal::MAX, Currency::USD);
    let mut big_total = make_order(1, Some(0), 0, 100, false, 0, 0, &[]);
    big_total.total = huge;
    let twin = {
        let mut o = big_total.clone();
        o.source = SourceRef::new("shop", RecordKind::Order, "2");
        o
    };
    let big_qty = make_order(3, Some(0), 0, 100, false, 0, 0, &[(1, Decimal::MAX)]);
    let fine = make_order(4, Some(0), 0, 2_500, false, 0, 0, &[(1, Decimal::ONE)]);
    let refund = Refund {
        source: SourceRef::new("shop", RecordKind::Refund, "r1"),
        order: fine.source.clone(),
        amount: huge,
        reason: None,
        created_at: ts(86_400),
        items: Vec::new(),
    };

    let mut engine = MetricsEngine::new(config());
    for (order, field) in [
        (&big_total, "total"),
        (&twin, "total"),
        (&big_qty, "line_items.quantity"),
    ] {
        let err = engine.upsert_order(order).unwrap_err();
        assert!(
            matches!(&err, MetricsError::Overflow { record, field: f } if *record == order.source.to_string() && f == &field),
            "{err}"
        );
    }
    engine.upsert_order(&fine).unwrap();
    let err = engine.upsert_refund(&refund).unwrap_err();
    assert!(
        matches!(
            err,
            MetricsError::Overflow {
                field: "amount",
                ..
            }
        ),
        "{err}"
    );
    let m = engine.metrics("shop/customer/0").unwrap();
    assert_eq!(m.paid_order_count, 1);
    assert_eq!(m.lifetime_value, Money::from_minor(2_500, Currency::USD));

    let orders = [big_total, twin, big_qty, fine];
    let (all, errors) = recompute(&config(), &orders, &[refund]);
    assert_eq!(errors.len(), 4);
    assert_eq!(all["shop/customer/0"], m);
}
