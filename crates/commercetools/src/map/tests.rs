use super::*;
use cartograph_model::Timestamp;
use serde_json::json;

fn ctx() -> MapContext {
    let mut ctx = MapContext::new("commercetools");
    ctx.languages = vec!["de".to_owned(), "en".to_owned()];
    ctx.now = Timestamp::parse_rfc3339("2026-01-10T12:00:00Z").expect("time");
    ctx
}

fn eur(cents: i64) -> Value {
    json!({"type":"centPrecision","currencyCode":"EUR","centAmount":cents,"fractionDigits":2})
}

fn customer_json() -> Value {
    json!({
        "id": "c-1", "version": 4, "key": "cust-key", "customerNumber": "C100",
        "externalId": "ext-9", "email": "Ann@Example.com", "firstName": "Ann",
        "lastName": "Lee", "companyName": "ACME", "dateOfBirth": "1990-02-03",
        "isEmailVerified": true,
        "addresses": [
            {"id": "a1", "streetName": "Main St", "streetNumber": "5", "city": "Berlin",
             "postalCode": "10115", "country": "DE", "phone": "+49 1"},
            {"id": "a2", "country": "FR"}
        ],
        "billingAddressIds": ["a1"], "defaultShippingAddressId": "a2",
        "customerGroup": {"typeId": "customer-group", "id": "g-1"},
        "custom": {"type": {"typeId": "type", "id": "t"}, "fields": {
            "marketingOptIn": true, "loyaltyPoints": 12.5, "tier": {"key": "gold", "label": "Gold"},
            "nickname": {"en": "Annie", "de": "Anni"}, "since": "2020-01-01",
            "credit": {"type":"centPrecision","currencyCode":"JPY","centAmount":500,"fractionDigits":0},
            "tags": ["a", "b"]
        }},
        "stores": [{"typeId": "store", "key": "eu"}],
        "createdAt": "2026-01-01T10:00:00.000Z", "lastModifiedAt": "2026-01-02T10:00:00.000Z"
    })
}

#[test]
fn customer_maps_consent_keys_group_addresses_and_typed_custom_fields() {
    let wire: wire::Customer = serde_json::from_value(customer_json()).expect("wire");
    let c = customer(&ctx(), &wire).expect("maps");
    assert_eq!(c.source.system, "commercetools");
    assert_eq!(c.source.id, "c-1");
    assert_eq!(
        c.email.as_ref().map(EmailAddress::normalized),
        Some("ann@example.com")
    );
    assert_eq!(c.consent.email.state, ConsentState::Subscribed);
    assert_eq!(c.customer_group_ids, vec!["g-1".to_owned()]);
    assert_eq!(c.addresses[0].kind, AddressKind::Billing);
    assert_eq!(c.addresses[0].line1.as_deref(), Some("Main St 5"));
    assert_eq!(c.addresses[1].kind, AddressKind::Shipping);
    assert_eq!(c.phone.as_deref(), Some("+49 1"));
    assert_eq!(c.channel.as_deref(), Some("eu"));
    assert_eq!(c.custom["isEmailVerified"], AttributeValue::Bool(true));
    assert_eq!(
        c.custom["customerNumber"],
        AttributeValue::String("C100".into())
    );
    assert_eq!(
        c.custom["externalId"],
        AttributeValue::String("ext-9".into())
    );
    assert_eq!(
        c.custom["loyaltyPoints"],
        AttributeValue::Number(Decimal::new(125, 1))
    );
    assert_eq!(c.custom["tier"], AttributeValue::Enum("gold".into()));
    assert!(matches!(c.custom["nickname"], AttributeValue::Localized(_)));
    assert!(matches!(c.custom["since"], AttributeValue::Date(_)));
    assert!(matches!(c.custom["tags"], AttributeValue::List(_)));
    let AttributeValue::Money(credit) = &c.custom["credit"] else {
        panic!("money expected");
    };
    assert_eq!(credit.amount(), Decimal::from(500));
    assert!(!c.custom.contains_key("marketingOptIn"));
}

#[test]
fn customer_with_bad_time_is_an_error_naming_record_and_field() {
    let mut json = customer_json();
    json["lastModifiedAt"] = json!("yesterday");
    let wire: wire::Customer = serde_json::from_value(json).expect("wire");
    let err = customer(&ctx(), &wire).expect_err("invalid");
    assert_eq!(err.record(), Some("customer c-1"));
    assert_eq!(err.field(), Some("lastModifiedAt"));
}

#[test]
fn money_honours_fraction_digits_and_high_precision() {
    let jpy: wire::TypedMoney = serde_json::from_value(
        json!({"type":"centPrecision","currencyCode":"JPY","centAmount":1234,"fractionDigits":0}),
    )
    .expect("wire");
    assert_eq!(
        money("r", "f", &jpy).expect("ok").amount(),
        Decimal::from(1234)
    );
    let kwd: wire::TypedMoney = serde_json::from_value(
        json!({"type":"centPrecision","currencyCode":"KWD","centAmount":1234,"fractionDigits":3}),
    )
    .expect("wire");
    assert_eq!(
        money("r", "f", &kwd).expect("ok").amount(),
        Decimal::new(1234, 3)
    );
    let high: wire::TypedMoney = serde_json::from_value(json!({"type":"highPrecision",
        "currencyCode":"EUR","centAmount":1235,"preciseAmount":123_456,"fractionDigits":4}))
    .expect("wire");
    assert_eq!(
        money("r", "f", &high).expect("ok").amount(),
        Decimal::new(123_456, 4)
    );
    let bad: wire::TypedMoney =
        serde_json::from_value(json!({"currencyCode":"XXQ","centAmount":1})).expect("wire");
    assert_eq!(
        money("r", "f", &bad).expect_err("bad").field(),
        Some("f.currencyCode")
    );
}

fn order_json() -> Value {
    json!({
        "id": "o-1", "version": 7, "orderNumber": "1001", "customerId": "c-1",
        "customerEmail": "ann@example.com",
        "lineItems": [{
            "id": "li-1", "productId": "p-1", "name": {"en": "Shirt", "de": "Hemd"},
            "variant": {"id": 1, "sku": "SKU-1", "images": [{"url": "https://img/1"}]},
            "price": {"value": eur(1000)}, "quantity": 2, "totalPrice": eur(1800),
            "discountedPricePerQuantity": [{"quantity": 2, "discountedPrice": {"value": eur(900)}}],
            "taxedPrice": {"totalNet": eur(1513), "totalGross": eur(1800)}
        }],
        "totalPrice": eur(2300),
        "taxedPrice": {"totalNet": eur(1933), "totalGross": eur(2300), "totalTax": eur(367)},
        "shippingInfo": {"shippingMethodName": "DHL", "price": eur(500)},
        "discountOnTotalPrice": {"discountedAmount": eur(0)},
        "orderState": "Open", "paymentState": "Paid", "shipmentState": "Shipped",
        "returnInfo": [], "cart": {"typeId": "cart", "id": "cart-1"},
        "store": {"typeId": "store", "key": "eu"}, "country": "DE", "locale": "de-DE",
        "billingAddress": {"country": "DE", "city": "Berlin"},
        "shippingAddress": {"country": "DE", "city": "Potsdam"},
        "createdAt": "2026-01-03T10:00:00.000Z", "lastModifiedAt": "2026-01-04T10:00:00.000Z"
    })
}

#[test]
fn order_maps_totals_tax_shipping_discounts_states_and_line_items() {
    let wire: wire::Order = serde_json::from_value(order_json()).expect("wire");
    let o = order(&ctx(), &wire).expect("maps");
    assert_eq!(o.number.as_deref(), Some("1001"));
    assert_eq!(o.customer.as_ref().map(|c| c.id.as_str()), Some("c-1"));
    assert_eq!(o.status, OrderStatus::Shipped);
    assert_eq!(o.payment_status, PaymentStatus::Paid);
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Fulfilled);
    assert_eq!(o.total.amount(), Decimal::new(2300, 2));
    assert_eq!(o.tax.amount(), Decimal::new(367, 2));
    assert_eq!(o.shipping.amount(), Decimal::new(500, 2));
    assert_eq!(o.subtotal.amount(), Decimal::new(1800, 2));
    assert_eq!(o.channel.as_deref(), Some("eu"));
    assert_eq!(o.custom["cartId"], AttributeValue::String("cart-1".into()));
    let li = &o.line_items[0];
    assert_eq!(li.name, "Hemd");
    assert_eq!(li.sku.as_deref(), Some("SKU-1"));
    assert_eq!(li.discount.map(|d| d.amount()), Some(Decimal::new(200, 2)));
    assert_eq!(li.tax.map(|t| t.amount()), Some(Decimal::new(287, 2)));
    assert_eq!(li.image_url.as_deref(), Some("https://img/1"));
}

#[test]
fn order_states_map_to_canonical_status() {
    assert_eq!(
        order_status("Cancelled", Some("Paid"), None),
        OrderStatus::Cancelled
    );
    assert_eq!(order_status("Complete", None, None), OrderStatus::Completed);
    assert_eq!(
        order_status("Open", Some("Pending"), None),
        OrderStatus::AwaitingPayment
    );
    assert_eq!(
        order_status("Open", Some("Paid"), Some("Pending")),
        OrderStatus::AwaitingFulfillment
    );
    assert_eq!(
        order_status("Open", Some("Failed"), None),
        OrderStatus::Declined
    );
    assert_eq!(order_status("Open", None, None), OrderStatus::Pending);
}

#[test]
fn refunds_come_from_successful_refund_transactions_of_payments() {
    let p: wire::Payment = serde_json::from_value(json!({
        "id": "pay-1", "version": 3, "amountPlanned": eur(2300),
        "createdAt": "2026-01-03T10:00:00.000Z",
        "transactions": [
            {"id": "t1", "type": "Charge", "amount": eur(2300), "state": "Success"},
            {"id": "t2", "type": "Refund", "amount": eur(500), "state": "Success",
             "timestamp": "2026-01-05T10:00:00.000Z"},
            {"id": "t3", "type": "Refund", "amount": eur(100), "state": "Failure"}
        ]
    }))
    .expect("wire");
    let r = refunds(&ctx(), "o-1", &p).expect("maps");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].source.id, "t2");
    assert_eq!(r[0].order.id, "o-1");
    assert_eq!(r[0].amount.amount(), Decimal::new(500, 2));
}

#[test]
fn product_uses_language_fallback_master_price_and_category_ids() {
    let p: wire::ProductProjection = serde_json::from_value(json!({
        "id": "p-1", "version": 2, "key": "shirt", "name": {"en": "Shirt", "fr": "Chemise"},
        "slug": {"en": "shirt"}, "categories": [{"typeId": "category", "id": "cat-1"}],
        "published": true,
        "masterVariant": {"id": 1, "sku": "SKU-1",
            "prices": [{"value": eur(1000), "discounted": {"value": eur(800)}}],
            "attributes": [{"name": "color", "value": {"key": "red", "label": {"en": "Red"}}}],
            "availability": {"isOnStock": true, "availableQuantity": 5}},
        "variants": [{"id": 2, "sku": "SKU-2", "prices": [{"value": eur(1100)}]}],
        "createdAt": "2026-01-01T00:00:00.000Z", "lastModifiedAt": "2026-01-02T00:00:00.000Z"
    }))
    .expect("wire");
    let mapped = product(&ctx(), &p).expect("maps");
    assert_eq!(mapped.name, "Shirt");
    assert_eq!(
        mapped.price.map(|m| m.amount()),
        Some(Decimal::new(1000, 2))
    );
    assert_eq!(
        mapped.sale_price.map(|m| m.amount()),
        Some(Decimal::new(800, 2))
    );
    assert_eq!(mapped.category_ids, vec!["cat-1".to_owned()]);
    assert_eq!(mapped.variants.len(), 2);
    assert_eq!(mapped.variants[0].options["color"], "red");
    assert_eq!(mapped.inventory, Some(5));
}

#[test]
fn idle_active_cart_with_email_is_abandoned_and_ordered_cart_is_converted() {
    let base = json!({
        "id": "cart-1", "version": 1, "customerEmail": "ann@example.com",
        "lineItems": [], "totalPrice": eur(0), "cartState": "Active",
        "createdAt": "2026-01-10T09:00:00.000Z", "lastModifiedAt": "2026-01-10T10:00:00.000Z"
    });
    let cart_of = |v: Value| cart(&ctx(), &serde_json::from_value(v).expect("wire")).expect("maps");
    assert_eq!(cart_of(base.clone()).state, CartState::Abandoned);
    let mut fresh = base.clone();
    fresh["lastModifiedAt"] = json!("2026-01-10T11:30:00.000Z");
    assert_eq!(cart_of(fresh).state, CartState::Active);
    let mut anonymous = base.clone();
    anonymous
        .as_object_mut()
        .expect("object")
        .remove("customerEmail");
    assert_eq!(cart_of(anonymous).state, CartState::Active);
    let mut ordered = base;
    ordered["cartState"] = json!("Ordered");
    assert_eq!(cart_of(ordered).state, CartState::Converted);
}

#[test]
fn category_name_falls_back_to_any_language_then_key() {
    let c: wire::Category = serde_json::from_value(
        json!({"id": "cat-1", "version": 1, "key": "k", "name": {"fr": "Chemises"},
               "parent": {"typeId": "category", "id": "cat-0"}}),
    )
    .expect("wire");
    let mapped = category(&ctx(), &c);
    assert_eq!(mapped.name, "Chemises");
    assert_eq!(mapped.parent_id.as_deref(), Some("cat-0"));
}
