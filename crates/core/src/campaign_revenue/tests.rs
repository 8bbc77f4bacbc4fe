use cartograph_model::{
    Coupon, Currency, Money, Order, OrderStatus, RecordKind, SourceRef, Timestamp,
};
use rust_decimal::Decimal;

use super::*;

fn order(id: &str, at: &str, total: &str, codes: &[&str]) -> Order {
    let mut o = crate::metrics::sample::order(&mut crate::metrics::sample::Rng::new(1), 0, 1);
    o.source = SourceRef::new("shop", RecordKind::Order, id);
    o.status = OrderStatus::Completed;
    o.is_archived = false;
    o.currency = Currency::USD;
    o.total = Money::parse(total, Currency::USD).expect("money");
    o.created_at = Timestamp::parse_rfc3339(at).expect("time");
    o.updated_at = None;
    o.coupons = codes
        .iter()
        .map(|c| Coupon {
            code: (*c).into(),
            amount: None,
        })
        .collect();
    o
}

fn amount(row: &CampaignRevenue) -> String {
    row.revenue.amount().to_string()
}

#[test]
fn sums_per_day_and_code_exactly() {
    let report = daily_campaign_revenue(&[
        order("1", "2026-12-01T23:59:59Z", "0.10", &["SPRING"]),
        order("2", "2026-12-01T00:00:00Z", "0.20", &["spring"]),
        order("3", "2026-12-02T00:00:00Z", "19.99", &["SPRING"]),
        order("4", "2026-12-01T12:00:00Z", "5.00", &[]),
    ]);
    assert!(report.rejected.is_empty());
    let got: Vec<_> = report
        .rows
        .iter()
        .map(|r| (r.day.to_string(), r.code.as_str(), amount(r), r.orders))
        .collect();
    assert_eq!(
        got,
        [
            ("2026-12-01".to_owned(), "SPRING", "0.30".to_owned(), 2),
            ("2026-12-02".to_owned(), "SPRING", "19.99".to_owned(), 1),
        ]
    );
}

#[test]
fn amounts_are_written_at_the_currency_scale_without_rounding() {
    let report = daily_campaign_revenue(&[
        order("1", "2026-12-01T10:00:00Z", "25.1000", &["A"]),
        order("2", "2026-12-01T10:00:00Z", "0.2", &["A"]),
        order("3", "2026-12-01T10:00:00Z", "1.125", &["B"]),
        order("4", "2026-12-01T10:00:00Z", "7", &["C"]),
    ]);
    let got: Vec<_> = report.rows.iter().map(amount).collect();
    assert_eq!(got, ["25.30", "1.125", "7.00"]);
}

#[test]
fn the_latest_version_counts_once() {
    let first = order("1", "2026-12-01T10:00:00Z", "10.00", &["A"]);
    let mut updated = first.clone();
    updated.total = Money::parse("12.50", Currency::USD).expect("money");
    updated.updated_at = Some(Timestamp::parse_rfc3339("2026-12-01T11:00:00Z").expect("t"));
    // Order of arrival does not matter: the newer version wins either way.
    for orders in [
        vec![first.clone(), updated.clone(), first.clone()],
        vec![updated.clone(), first.clone()],
    ] {
        let report = daily_campaign_revenue(&orders);
        assert_eq!(report.rows.len(), 1);
        assert_eq!(amount(&report.rows[0]), "12.50");
        assert_eq!(report.rows[0].orders, 1);
    }
    let mut cancelled = updated;
    cancelled.status = OrderStatus::Cancelled;
    cancelled.updated_at = Some(Timestamp::parse_rfc3339("2026-12-02T09:00:00Z").expect("t"));
    let report = daily_campaign_revenue(&[first, cancelled]);
    assert!(report.rows.is_empty(), "a cancelled order is no revenue");
}

#[test]
fn two_codes_each_get_the_order_and_a_repeated_code_counts_once() {
    let report = daily_campaign_revenue(&[order(
        "1",
        "2026-12-01T10:00:00Z",
        "40.00",
        &["A", "B", " a "],
    )]);
    let got: Vec<_> = report
        .rows
        .iter()
        .map(|r| (r.code.as_str(), amount(r), r.orders))
        .collect();
    assert_eq!(
        got,
        [("A", "40.00".to_owned(), 1), ("B", "40.00".to_owned(), 1)]
    );
}

#[test]
fn currencies_get_rows_of_their_own() {
    let mut eur = order("2", "2026-12-01T10:00:00Z", "0", &["A"]);
    eur.currency = Currency::EUR;
    eur.total = Money::parse("7.77", Currency::EUR).expect("money");
    let report = daily_campaign_revenue(&[order("1", "2026-12-01T10:00:00Z", "1.11", &["A"]), eur]);
    let got: Vec<_> = report
        .rows
        .iter()
        .map(|r| (r.revenue.currency(), amount(r)))
        .collect();
    assert_eq!(got.len(), 2);
    assert!(got.contains(&(Currency::EUR, "7.77".to_owned())));
    assert!(got.contains(&(Currency::USD, "1.11".to_owned())));
}

#[test]
fn bad_orders_are_rejected_by_field_and_add_nothing() {
    let mut mixed = order("2", "2026-12-01T10:00:00Z", "3.00", &["A"]);
    mixed.total = Money::parse("3.00", Currency::EUR).expect("money");
    let mut negative = order("3", "2026-12-01T10:00:00Z", "0", &["A"]);
    negative.total = Money::new(Decimal::new(-100, 2), Currency::USD);
    let report = daily_campaign_revenue(&[
        order("1", "2026-12-01T10:00:00Z", "2.00", &["A", "  "]),
        mixed,
        negative,
        order("4", "2026-12-01T10:00:00Z", "5.00", &["A"]),
    ]);
    assert_eq!(report.rows.len(), 1);
    assert_eq!(amount(&report.rows[0]), "5.00");
    let fields: Vec<_> = report
        .rejected
        .iter()
        .map(|e| (e.order.as_str(), e.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("shop/order/1", "coupons[1].code"),
            ("shop/order/2", "total"),
            ("shop/order/3", "total"),
        ]
    );
}

#[test]
fn an_overflowing_sum_rejects_the_order_from_every_code() {
    let big = Money::new(Decimal::MAX, Currency::USD);
    let mut first = order("1", "2026-12-01T10:00:00Z", "0", &["B"]);
    first.total = big;
    let mut second = order("2", "2026-12-01T10:00:00Z", "0", &["A", "B"]);
    second.total = big;
    let report = daily_campaign_revenue(&[first, second]);
    // Order 2 overflows B, so it adds nothing to A either.
    let got: Vec<_> = report
        .rows
        .iter()
        .map(|r| (r.code.as_str(), r.orders))
        .collect();
    assert_eq!(got, [("B", 1)]);
    assert_eq!(report.rejected[0].order, "shop/order/2");
}
