use cartograph_model::{Currency, EmailAddress, LineItem, RecordKind, SourceRef};

use super::*;

fn t(days: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_700_000_000 + days * 86_400).unwrap()
}

fn metrics(count: u64, first: i64, last: i64) -> CustomerMetrics {
    let mut m = CustomerMetrics::empty(Currency::USD);
    m.paid_order_count = count;
    m.first_order_at = Some(t(first));
    m.last_order_at = Some(t(last));
    m.average_days_between_orders = crate::metrics::average_gap(t(first), t(last), count);
    m
}

#[test]
fn lifecycle_moves_from_lead_to_lapsed() {
    let c = LifecycleConfig::default();
    assert_eq!(lifecycle(&c, None, None, t(0)), Lifecycle::Lead);
    assert_eq!(
        lifecycle(&c, Some(&metrics(1, 0, 0)), None, t(10)),
        Lifecycle::Customer
    );
    assert_eq!(
        lifecycle(&c, Some(&metrics(3, 0, 100)), None, t(101)),
        Lifecycle::Repeat
    );
    assert_eq!(
        lifecycle(&c, Some(&metrics(3, 0, 100)), Some(ValueTier::Vip), t(101)),
        Lifecycle::Vip
    );
    // Average gap 50 days; 101 days since the last order is more than twice that.
    assert_eq!(
        lifecycle(&c, Some(&metrics(3, 0, 100)), None, t(201)),
        Lifecycle::ChurnRisk
    );
    assert_eq!(
        lifecycle(&c, Some(&metrics(1, 0, 0)), None, t(119)),
        Lifecycle::Customer
    );
    assert_eq!(
        lifecycle(&c, Some(&metrics(1, 0, 0)), None, t(120)),
        Lifecycle::Lapsed
    );
}

#[test]
fn suppression_windows_expire() {
    let c = SuppressionConfig::default();
    let mut m = metrics(1, 0, 0);
    m.last_refund_at = Some(t(10));
    let s = suppression(&c, Some(&m), None, t(20));
    assert!(s.recent_refund && s.suppressed && !s.open_case);
    assert_eq!(s.until, Some(t(40)));
    assert!(!suppression(&c, Some(&m), None, t(40)).suppressed);
    let s = suppression(&c, None, Some(t(0)), t(13));
    assert!(s.open_case && s.suppressed);
    assert!(!suppression(&c, None, Some(t(0)), t(14)).suppressed);
}

fn cart() -> Cart {
    let usd = |c| cartograph_model::Money::from_minor(c, Currency::USD);
    Cart {
        source: SourceRef::new("bigcommerce", RecordKind::Cart, "c-1"),
        customer: None,
        email: EmailAddress::new("a@example.com"),
        items: vec![LineItem {
            id: "1".into(),
            sku: None,
            product_id: None,
            variant_id: None,
            name: "Hat".into(),
            quantity: Decimal::ONE,
            unit_price: usd(1000),
            total: usd(1000),
            discount: None,
            tax: None,
            categories: vec![],
            brand: None,
            image_url: None,
            product_url: None,
            custom: cartograph_model::Attributes::default(),
        }],
        value: usd(1000),
        state: CartState::Active,
        recovery_url: Some("https://shop.example/cart/c-1".into()),
        channel: None,
        created_at: Some(t(0)),
        updated_at: Some(t(0)),
        abandoned_at: None,
        converted_order: None,
    }
}

#[test]
fn cart_is_abandoned_after_sixty_idle_minutes() {
    let c = CartConfig::default();
    let due = t(0) + Duration::minutes(60);
    assert_eq!(
        abandoned_cart(&c, &cart(), None, t(0) + Duration::minutes(59)),
        CartVerdict::Pending { due_at: due }
    );
    match abandoned_cart(&c, &cart(), None, due) {
        CartVerdict::Abandoned(a) => {
            assert_eq!(a.abandoned_at, due);
            assert_eq!(a.item_count, 1);
        }
        other => panic!("expected abandoned, got {other:?}"),
    }
}

#[test]
fn orders_conversion_and_missing_email_end_a_cart() {
    let c = CartConfig::default();
    let later = t(1);
    assert_eq!(
        abandoned_cart(&c, &cart(), Some(t(0) + Duration::minutes(5)), later),
        CartVerdict::Ended {
            reason: CartEnd::OrderFollowed
        }
    );
    let mut converted = cart();
    converted.state = CartState::Converted;
    assert_eq!(
        abandoned_cart(&c, &converted, None, later),
        CartVerdict::Ended {
            reason: CartEnd::Converted
        }
    );
    let mut anonymous = cart();
    anonymous.email = None;
    assert_eq!(
        abandoned_cart(&c, &anonymous, None, later),
        CartVerdict::Ended {
            reason: CartEnd::NoEmail
        }
    );
    let mut empty = cart();
    empty.items.clear();
    assert_eq!(
        abandoned_cart(&c, &empty, None, later),
        CartVerdict::Ended {
            reason: CartEnd::Empty
        }
    );
}
