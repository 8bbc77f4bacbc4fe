//! v2 orders (with their products, shipping addresses and coupons) and v3 refunds.

use cartograph_connector::Result;
use cartograph_model::{
    Address, AddressKind, AttributeValue, Coupon, Currency, Decimal, EmailAddress,
    FulfillmentStatus, LineItem, Money, Order, PaymentStatus, RawStatus, RecordKind, Refund,
    RefundItem, SourceRef, Timestamp, non_blank,
};

use super::{
    bad, currency, money_v2, money_v2_lazy, money_v3, rfc2822_opt, rfc3339_opt, status_from_id,
};
use crate::wire;

/// A v2 order and its sub-resources as a canonical [`Order`].
///
/// The currency is `default_currency_code` (the transactional currency actually charged;
/// `currency_code` is only the display currency and is kept as `display_currency`).
/// Amounts: `subtotal` = `subtotal_ex_tax`, `discount` = `discount_amount` +
/// `coupon_discount`, `tax` = `total_tax`, `shipping` = `shipping_cost_ex_tax` +
/// `handling_cost_ex_tax`, `total` = `total_inc_tax`. `refunded_amount` is ignored (always
/// 0; refunds come from v3).
pub fn order(
    system: &str,
    o: &wire::Order,
    products: &[wire::OrderProduct],
    shipping: &[wire::OrderShippingAddress],
    coupons: &[wire::OrderCoupon],
) -> Result<Order> {
    let source = SourceRef::new(system, RecordKind::Order, o.id.to_string());
    let r = source.to_string();
    let r = r.as_str();
    let code = if o.default_currency_code.trim().is_empty() {
        o.currency_code.as_str()
    } else {
        o.default_currency_code.as_str()
    };
    let cur = currency(r, "default_currency_code", code)?;
    let status = status_from_id(o.status_id)
        .ok_or_else(|| bad(r, "status_id", format!("unknown status id {}", o.status_id)))?;
    let m = |field: &str, amount: &wire::DecimalString| money_v2(r, field, amount, cur);
    let sum = |a: Money, b: Money| a.checked_add(&b).map_err(|e| bad(r, "amounts", e));
    if o.total_inc_tax.is_blank() {
        return Err(bad(r, "total_inc_tax", "missing order total"));
    }
    let created_at = rfc2822_opt(r, "date_created", &o.date_created)?
        .ok_or_else(|| bad(r, "date_created", "missing creation date"))?;
    let mut custom = cartograph_model::Attributes::new();
    if !o.currency_code.is_empty() && o.currency_code != code {
        custom.insert(
            "display_currency".into(),
            AttributeValue::String(o.currency_code.clone()),
        );
    }
    for (key, value) in [
        ("order_source", &o.order_source),
        ("payment_method", &o.payment_method),
    ] {
        if let Some(v) = non_blank(Some(value)) {
            custom.insert(key.into(), AttributeValue::String(v));
        }
    }
    if let Some(cart) = non_blank(o.cart_id.as_ref()) {
        custom.insert("cart_id".into(), AttributeValue::String(cart));
    }
    if let Some(ext) = non_blank(o.external_id.as_ref()) {
        custom.insert("external_id".into(), AttributeValue::String(ext));
    }
    custom.insert(
        "is_email_opt_in".into(),
        AttributeValue::Bool(o.is_email_opt_in),
    );
    // Sized up front: collecting `Result`s would start small and grow.
    let mut line_items = Vec::with_capacity(products.len());
    for p in products {
        line_items.push(line_item(system, r, p, cur)?);
    }
    let mut coupon_list = Vec::with_capacity(coupons.len());
    for c in coupons {
        coupon_list.push(Coupon {
            code: c.code.clone(),
            amount: Some(money_v2(r, "coupons.discount", &c.discount, cur)?),
        });
    }
    Ok(Order {
        number: None,
        customer: (o.customer_id > 0)
            .then(|| SourceRef::new(system, RecordKind::Customer, o.customer_id.to_string())),
        email: EmailAddress::new(o.billing_address.email.clone()),
        status,
        raw_status: RawStatus {
            id: Some(o.status_id.to_string()),
            label: non_blank(Some(&o.status)),
        },
        payment_status: payment_status(&o.payment_status),
        fulfillment_status: match o.status_id {
            2 | 10 => FulfillmentStatus::Fulfilled,
            3 => FulfillmentStatus::PartiallyFulfilled,
            1 | 7 | 8 | 9 | 11 | 12 => FulfillmentStatus::Unfulfilled,
            _ => FulfillmentStatus::Unknown,
        },
        currency: cur,
        subtotal: m("subtotal_ex_tax", &o.subtotal_ex_tax)?,
        discount: sum(
            m("discount_amount", &o.discount_amount)?,
            m("coupon_discount", &o.coupon_discount)?,
        )?,
        tax: m("total_tax", &o.total_tax)?,
        shipping: sum(
            m("shipping_cost_ex_tax", &o.shipping_cost_ex_tax)?,
            m("handling_cost_ex_tax", &o.handling_cost_ex_tax)?,
        )?,
        total: m("total_inc_tax", &o.total_inc_tax)?,
        coupons: coupon_list,
        billing_address: Some(address(&o.billing_address, AddressKind::Billing)),
        shipping_addresses: shipping
            .iter()
            .map(|s| address(&s.address, AddressKind::Shipping))
            .collect(),
        channel: (o.channel_id > 0).then(|| o.channel_id.to_string()),
        line_items,
        created_at,
        updated_at: rfc2822_opt(r, "date_modified", &o.date_modified)?,
        paid_at: None,
        shipped_at: rfc2822_opt(r, "date_shipped", &o.date_shipped)?,
        is_archived: o.is_deleted,
        custom,
        source,
    })
}

fn payment_status(text: &str) -> PaymentStatus {
    const STATUSES: [(&str, PaymentStatus); 12] = [
        ("captured", PaymentStatus::Paid),
        ("paid", PaymentStatus::Paid),
        ("authorized", PaymentStatus::Authorized),
        ("authorised", PaymentStatus::Authorized),
        ("pending", PaymentStatus::Pending),
        ("refunded", PaymentStatus::Refunded),
        ("partially refunded", PaymentStatus::PartiallyRefunded),
        ("partially_refunded", PaymentStatus::PartiallyRefunded),
        ("void", PaymentStatus::Voided),
        ("voided", PaymentStatus::Voided),
        ("declined", PaymentStatus::Failed),
        ("failed", PaymentStatus::Failed),
    ];
    let text = text.trim();
    STATUSES
        .iter()
        .find(|(name, _)| text.eq_ignore_ascii_case(name))
        .map_or(PaymentStatus::Unknown, |(_, status)| *status)
}

fn address(a: &wire::BillingAddress, kind: AddressKind) -> Address {
    Address {
        kind,
        first_name: non_blank(Some(&a.first_name)),
        last_name: non_blank(Some(&a.last_name)),
        company: non_blank(Some(&a.company)),
        line1: non_blank(Some(&a.street_1)),
        line2: non_blank(Some(&a.street_2)),
        city: non_blank(Some(&a.city)),
        region: non_blank(Some(&a.state)),
        region_code: None,
        postcode: non_blank(Some(&a.zip)),
        country_code: non_blank(Some(&a.country_iso2)).map(|c| c.to_ascii_uppercase()),
        country: non_blank(Some(&a.country)),
        phone: non_blank(Some(&a.phone)),
    }
}

fn line_item(system: &str, r: &str, p: &wire::OrderProduct, cur: Currency) -> Result<LineItem> {
    // The field name is only built for an error.
    let field = |name: &str| format!("products[{}].{name}", p.id);
    let m = |name: &str, amount: &wire::DecimalString| {
        money_v2_lazy(amount, cur).map_err(|e| bad(r, &field(name), e))
    };
    let mut discount = Money::zero(cur);
    for d in &p.applied_discounts {
        discount = discount
            .checked_add(&m("applied_discounts.amount", &d.amount)?)
            .map_err(|e| bad(r, &field("applied_discounts"), e))?;
    }
    let _ = system;
    Ok(LineItem {
        id: p.id.to_string(),
        sku: non_blank(Some(&p.sku)),
        product_id: (p.product_id > 0).then(|| p.product_id.to_string()),
        variant_id: p.variant_id.filter(|v| *v > 0).map(|v| v.to_string()),
        name: p.name.clone(),
        quantity: Decimal::from(p.quantity),
        unit_price: m("price_ex_tax", &p.price_ex_tax)?,
        total: m("total_ex_tax", &p.total_ex_tax)?,
        discount: (!discount.is_zero()).then_some(discount),
        tax: Some(m("total_tax", &p.total_tax)?),
        categories: Vec::new(),
        brand: None,
        image_url: None,
        product_url: None,
        custom: p
            .product_options
            .iter()
            .map(|o| {
                (
                    format!("option:{}", o.display_name),
                    AttributeValue::String(o.display_value.clone()),
                )
            })
            .collect(),
    })
}

/// A v3 refund as a canonical [`Refund`]. Refunds carry no currency: pass the order's
/// transactional currency (`default_currency_code`).
pub fn refund(system: &str, f: &wire::Refund, cur: Currency) -> Result<Refund> {
    let source = SourceRef::new(system, RecordKind::Refund, f.id.to_string());
    let r = source.to_string();
    let r = r.as_str();
    let created_at: Timestamp = rfc3339_opt(r, "created", Some(&f.created))?
        .ok_or_else(|| bad(r, "created", "missing refund date"))?;
    let items = f
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            Ok(RefundItem {
                line_item_id: (item.item_type == "PRODUCT").then(|| item.item_id.to_string()),
                quantity: item.quantity.map(Decimal::from),
                amount: item
                    .requested_amount
                    .as_ref()
                    .map(|n| money_v3(r, &format!("items[{i}].requested_amount"), n, cur))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Refund {
        order: SourceRef::new(system, RecordKind::Order, f.order_id.to_string()),
        amount: money_v3(r, "total_amount", &f.total_amount, cur)?,
        items,
        reason: non_blank(f.reason.as_ref()),
        created_at,
        source,
    })
}

#[cfg(test)]
mod tests {
    use cartograph_model::{Currency, OrderStatus};

    use super::*;

    // Trimmed from the shape of `GET /v2/orders/{id}` and its sub-resources.
    const ORDER: &str = r#"{
      "id": 118, "customer_id": 7, "date_created": "Tue, 20 Nov 2012 00:00:00 +0000",
      "date_modified": "Wed, 21 Nov 2012 10:00:00 +0000", "date_shipped": "",
      "status_id": 11, "status": "Ready to pack", "subtotal_ex_tax": "225.0000",
      "subtotal_inc_tax": "225.0000", "subtotal_tax": "0.0000",
      "shipping_cost_ex_tax": "10.0000", "shipping_cost_inc_tax": "10.0000",
      "handling_cost_ex_tax": "1.5000", "handling_cost_inc_tax": "1.5000",
      "total_ex_tax": "231.5000", "total_inc_tax": "256.5000", "total_tax": "25.0000",
      "discount_amount": "0.0000", "coupon_discount": "5.0000", "refunded_amount": "0.0000",
      "items_total": 2, "items_shipped": 0, "payment_method": "Credit Card",
      "payment_status": "captured", "currency_code": "USD", "default_currency_code": "EUR",
      "currency_exchange_rate": "1.0000000000", "is_deleted": false, "is_email_opt_in": true,
      "channel_id": 1, "cart_id": "a8458391-ef68-4fe5-9ec1-442e6a767364", "order_source": "www",
      "billing_address": {"first_name": "Jane", "last_name": "Doe", "company": "",
        "street_1": "123 Main Street", "street_2": "", "city": "Austin", "state": "Texas",
        "zip": "12345", "country": "United States", "country_iso2": "US", "phone": "",
        "email": "janedoe@example.com"},
      "products": {"url": "https://api.bigcommerce.com/stores/abc/v2/orders/118/products",
                   "resource": "/orders/118/products"}
    }"#;
    const PRODUCTS: &str = r#"[{"id": 25, "order_id": 118, "product_id": 20, "variant_id": 31,
      "name": "Towel", "sku": "S-GREE", "type": "physical", "base_price": "54.0000",
      "price_ex_tax": "112.5000", "price_inc_tax": "125.0000", "total_ex_tax": "225.0000",
      "total_inc_tax": "250.0000", "total_tax": "25.0000", "quantity": 2,
      "applied_discounts": [{"id": "coupon", "amount": 5, "name": "SAVE5", "code": "SAVE5"}],
      "product_options": [{"display_name": "Size", "display_value": "M"}]}]"#;
    const SHIPPING: &str = r#"[{"id": 3, "order_id": 118, "first_name": "Jane", "last_name": "Doe",
      "street_1": "1 Ship St", "city": "Austin", "state": "Texas", "zip": "12345",
      "country": "United States", "country_iso2": "US", "email": "janedoe@example.com",
      "shipping_method": "Flat Rate"}]"#;
    const COUPONS: &str = r#"[{"id": 3, "coupon_id": 1, "order_id": 118, "code": "SAVE5",
      "amount": 5, "type": 0, "discount": 5}]"#;

    fn parsed() -> (
        wire::Order,
        Vec<wire::OrderProduct>,
        Vec<wire::OrderShippingAddress>,
        Vec<wire::OrderCoupon>,
    ) {
        (
            serde_json::from_str(ORDER).unwrap(),
            serde_json::from_str(PRODUCTS).unwrap(),
            serde_json::from_str(SHIPPING).unwrap(),
            serde_json::from_str(COUPONS).unwrap(),
        )
    }

    fn eur(s: &str) -> Money {
        Money::parse(s, Currency::EUR).unwrap()
    }

    #[test]
    fn order_uses_the_transactional_currency_and_exact_amounts() {
        let (o, p, s, c) = parsed();
        let order = order("bigcommerce", &o, &p, &s, &c).unwrap();
        assert_eq!(
            order.currency,
            Currency::EUR,
            "default_currency_code is what was charged"
        );
        assert_eq!(order.total, eur("256.50"));
        assert_eq!(order.total.amount().to_string(), "256.5000", "scale kept");
        assert_eq!(order.subtotal, eur("225"));
        assert_eq!(order.shipping, eur("11.5"));
        assert_eq!(order.discount, eur("5"));
        assert_eq!(order.tax, eur("25"));
        assert_eq!(
            order.status,
            OrderStatus::AwaitingFulfillment,
            "mapped by id, not label"
        );
        assert_eq!(order.raw_status.label.as_deref(), Some("Ready to pack"));
        assert_eq!(order.payment_status, PaymentStatus::Paid);
        assert_eq!(order.customer.as_ref().unwrap().id, "7");
        assert_eq!(
            order.email.as_ref().unwrap().as_str(),
            "janedoe@example.com"
        );
        assert_eq!(
            order.created_at,
            Timestamp::parse_rfc3339("2012-11-20T00:00:00Z").unwrap()
        );
        assert_eq!(order.shipped_at, None);
        assert_eq!(order.coupons[0].code, "SAVE5");
        assert_eq!(order.coupons[0].amount, Some(eur("5")));
        assert_eq!(
            order.shipping_addresses[0].line1.as_deref(),
            Some("1 Ship St")
        );
        assert_eq!(order.billing_address.as_ref().unwrap().line2, None);
        let line = &order.line_items[0];
        assert_eq!(line.quantity, Decimal::from(2));
        assert_eq!(line.unit_price, eur("112.5"));
        assert_eq!(line.variant_id.as_deref(), Some("31"));
        assert_eq!(line.discount, Some(eur("5")));
        assert_eq!(
            line.custom["option:Size"],
            AttributeValue::String("M".into())
        );
        assert_eq!(
            order.custom["display_currency"],
            AttributeValue::String("USD".into())
        );
        assert!(order.is_revenue());
    }

    #[test]
    fn incomplete_and_archived_orders_are_not_revenue() {
        let (mut o, p, s, c) = parsed();
        o.status_id = 0;
        let incomplete = order("bc", &o, &p, &s, &c).unwrap();
        assert_eq!(incomplete.status, OrderStatus::Incomplete);
        assert!(!incomplete.is_revenue());
        o.status_id = 10;
        o.is_deleted = true;
        let archived = order("bc", &o, &p, &s, &c).unwrap();
        assert!(archived.is_archived);
        assert!(!archived.is_revenue());
    }

    #[test]
    fn bad_orders_are_typed_errors() {
        let (mut o, p, s, c) = parsed();
        o.status_id = 99;
        assert_eq!(
            order("bc", &o, &p, &s, &c).unwrap_err().field(),
            Some("status_id")
        );
        o.status_id = 1;
        o.total_inc_tax = "12.5O".into();
        let err = order("bc", &o, &p, &s, &c).unwrap_err();
        assert_eq!(err.field(), Some("total_inc_tax"));
        assert_eq!(err.record(), Some("bc/order/118"));
        o.total_inc_tax = "1".into();
        o.default_currency_code = "XXQ".into();
        assert_eq!(
            order("bc", &o, &p, &s, &c).unwrap_err().field(),
            Some("default_currency_code")
        );
        o.default_currency_code = "USD".into();
        o.date_created = "2012-11-20".into();
        assert_eq!(
            order("bc", &o, &p, &s, &c).unwrap_err().field(),
            Some("date_created")
        );
    }

    // Trimmed from the shape of `GET /v3/orders/{id}/payment_actions/refunds`.
    const REFUND: &str = r#"{"id": 3, "order_id": 118, "user_id": 1,
      "created": "2024-05-14T09:34:00+00:00", "reason": "Damaged", "total_amount": 12.99,
      "total_tax": 1.3, "uses_merchant_override_values": false,
      "items": [{"item_type": "PRODUCT", "item_id": 25, "quantity": 1, "requested_amount": 10.99},
                {"item_type": "SHIPPING", "item_id": 118, "requested_amount": 2}],
      "payments": [{"id": 1, "provider_id": "storecredit", "amount": 12.99, "offline": true,
                    "is_declined": false}]}"#;

    #[test]
    fn refund_maps_number_amounts_without_float_noise() {
        let wire: wire::Refund = serde_json::from_str(REFUND).unwrap();
        let r = refund("bigcommerce", &wire, Currency::EUR).unwrap();
        assert_eq!(r.source.to_string(), "bigcommerce/refund/3");
        assert_eq!(r.order.id, "118");
        assert_eq!(r.amount.amount().to_string(), "12.99");
        assert_eq!(r.items.len(), 2);
        assert_eq!(r.items[0].line_item_id.as_deref(), Some("25"));
        assert_eq!(r.items[1].line_item_id, None);
        assert_eq!(r.items[0].amount, Some(eur("10.99")));
        assert_eq!(r.reason.as_deref(), Some("Damaged"));
    }
}
