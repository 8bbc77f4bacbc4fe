//! Canonical records -> the JSON the commercetools API holds (the seeding API's
//! conversions). Ids that are UUIDs are kept; others get a simulator UUID, remembered as an
//! alias so references between seeded records (an order's customer, a refund's order) and
//! later helper calls with canonical ids resolve.

use cartograph_model::{
    Address, AttributeValue, Availability, Cart, CartState, Category, ConsentState, Customer,
    CustomerGroup, LineItem, Money, Order, OrderStatus, PaymentStatus, Product, Refund, Timestamp,
    Variant,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::state::{
    CART, CATEGORY, CUSTOMER, CUSTOMER_GROUP, ORDER, PAYMENT, PRODUCT, State, client_logging,
    reference,
};
use crate::client::predicate_time;

/// The client id on records the simulator itself made (seeding, shopper actions).
pub const STOREFRONT_CLIENT: &str = "sim-storefront";

/// The custom type of customers (holds the marketing opt-in).
pub(crate) const CUSTOMER_TYPE_ID: &str = "5c7e0000-0000-4000-8000-7e0000000001";

/// `TypedMoney` of an exact amount: cent precision when the amount is a whole number of the
/// currency's minor units, else high precision with `preciseAmount`.
pub(crate) fn money(m: &Money) -> Value {
    let currency = m.currency();
    let digits = currency.minor_units();
    if let Ok(cents) = m.to_minor() {
        return json!({"type": "centPrecision", "currencyCode": currency.code(),
                      "centAmount": cents, "fractionDigits": digits});
    }
    let amount = m.amount().normalize();
    let cents = m.round_to_minor().to_minor().unwrap_or_default();
    let precise = i64::try_from(amount.mantissa()).unwrap_or(i64::MAX);
    json!({"type": "highPrecision", "currencyCode": currency.code(), "centAmount": cents,
           "fractionDigits": amount.scale(), "preciseAmount": precise})
}

fn time_or(t: Option<Timestamp>, fallback: Timestamp) -> String {
    predicate_time(t.unwrap_or(fallback))
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), Value::String(v.clone()));
    }
}

fn address(state: &mut State, a: &Address) -> Value {
    let mut out = Map::new();
    out.insert(
        "id".to_owned(),
        Value::String(state.uuid()[24..].to_owned()),
    );
    insert_opt(&mut out, "firstName", a.first_name.as_ref());
    insert_opt(&mut out, "lastName", a.last_name.as_ref());
    insert_opt(&mut out, "company", a.company.as_ref());
    insert_opt(&mut out, "streetName", a.line1.as_ref());
    insert_opt(&mut out, "additionalStreetInfo", a.line2.as_ref());
    insert_opt(&mut out, "city", a.city.as_ref());
    insert_opt(&mut out, "region", a.region.as_ref());
    insert_opt(&mut out, "state", a.region_code.as_ref());
    insert_opt(&mut out, "postalCode", a.postcode.as_ref());
    insert_opt(&mut out, "country", a.country_code.as_ref());
    insert_opt(&mut out, "phone", a.phone.as_ref());
    Value::Object(out)
}

fn custom_value(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::String(s) => Value::String(s.clone()),
        AttributeValue::Enum(k) => json!({"key": k, "label": k}),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Number(n) => {
            serde_json::from_str(&n.normalize().to_string()).unwrap_or(Value::Null)
        }
        AttributeValue::Date(d) => Value::String(d.to_string()),
        AttributeValue::DateTime(t) => Value::String(predicate_time(*t)),
        AttributeValue::Money(m) => money(m),
        AttributeValue::Localized(map) => json!(map),
        AttributeValue::List(items) => Value::Array(items.iter().map(custom_value).collect()),
        AttributeValue::Json(v) => v.clone(),
    }
}

/// A seeded customer (`authenticationMode` `Password`, marketing opt-in in a custom field).
pub(crate) fn customer(state: &mut State, c: &Customer, opt_in_field: &str) -> Value {
    let id = state.claim(CUSTOMER, &c.source.id);
    let now = Timestamp::now();
    let created = time_or(c.created_at.or(c.updated_at), now);
    let modified = time_or(c.updated_at.or(c.created_at), now);
    let addresses: Vec<Value> = c.addresses.iter().map(|a| address(state, a)).collect();
    let address_id = |i: usize| addresses.get(i).and_then(|a| a.get("id")).cloned();
    let mut fields = Map::new();
    for (name, value) in &c.custom {
        fields.insert(name.clone(), custom_value(value));
    }
    match c.consent.email.state {
        ConsentState::Subscribed => {
            fields.insert(opt_in_field.to_owned(), Value::Bool(true));
        }
        ConsentState::Unsubscribed => {
            fields.insert(opt_in_field.to_owned(), Value::Bool(false));
        }
        _ => {}
    }
    let mut out = json!({
        "id": id, "version": 1, "versionModifiedAt": modified,
        "email": c.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default(),
        "addresses": addresses, "shippingAddressIds": [], "billingAddressIds": [],
        "customerGroupAssignments": [],
        "isEmailVerified": c.email.is_some(), "stores": [],
        "authenticationMode": "Password",
        "custom": {"type": reference("type", CUSTOMER_TYPE_ID), "fields": fields},
        "createdAt": created, "lastModifiedAt": modified,
        "createdBy": client_logging(STOREFRONT_CLIENT),
        "lastModifiedBy": client_logging(STOREFRONT_CLIENT),
    });
    let map = out.as_object_mut().expect("object literal");
    insert_opt(map, "firstName", c.first_name.as_ref());
    insert_opt(map, "lastName", c.last_name.as_ref());
    insert_opt(map, "companyName", c.company.as_ref());
    if let Some(d) = c.date_of_birth {
        map.insert("dateOfBirth".to_owned(), Value::String(d.to_string()));
    }
    if let Some(first) = address_id(0) {
        map.insert("defaultBillingAddressId".to_owned(), first.clone());
        map.insert("billingAddressIds".to_owned(), json!([first]));
    }
    if let Some(second) = address_id(1) {
        map.insert("shippingAddressIds".to_owned(), json!([second]));
    }
    if let Some(group) = c.customer_group_ids.first() {
        let gid = state
            .resolve(CUSTOMER_GROUP, group)
            .unwrap_or_else(|| state.claim(CUSTOMER_GROUP, group));
        map.insert("customerGroup".to_owned(), reference(CUSTOMER_GROUP, &gid));
    }
    if let Some(store) = &c.channel {
        state.stores.insert(store.clone());
        map.insert(
            "stores".to_owned(),
            json!([{"typeId": "store", "key": store}]),
        );
    }
    out
}

/// A seeded customer group.
pub(crate) fn group(state: &mut State, g: &CustomerGroup) -> Value {
    let id = state.claim(CUSTOMER_GROUP, &g.source.id);
    let now = state.now();
    json!({"id": id, "version": 1, "name": g.name, "key": slug(&g.name),
           "createdAt": now, "lastModifiedAt": now})
}

fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// A seeded category.
pub(crate) fn category(state: &mut State, c: &Category) -> Value {
    let id = state.claim(CATEGORY, &c.source.id);
    let now = state.now();
    let mut out = json!({"id": id, "version": 1, "key": slug(&c.name),
        "name": {"en": c.name}, "slug": {"en": slug(&c.name)}, "ancestors": [],
        "orderHint": "0.5", "assets": [], "createdAt": now, "lastModifiedAt": now});
    if let Some(parent) = &c.parent_id {
        let pid = state
            .resolve(CATEGORY, parent)
            .unwrap_or_else(|| state.claim(CATEGORY, parent));
        out["parent"] = reference(CATEGORY, &pid);
        out["ancestors"] = json!([reference(CATEGORY, &pid)]);
    }
    out
}

fn variant(id: i64, v: &Variant, brand: Option<&str>) -> Value {
    let mut attributes: Vec<Value> = v
        .options
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    if let Some(brand) = brand {
        attributes.push(json!({"name": "brand", "value": brand}));
    }
    let mut out = json!({"id": id, "prices": [], "images": [], "attributes": attributes,
                         "assets": []});
    if let Some(sku) = &v.sku {
        out["sku"] = Value::String(sku.clone());
    }
    if let Some(price) = &v.price {
        out["prices"] = json!([{"id": format!("price-{id}"), "value": money(price)}]);
    }
    if let Some(q) = v.inventory {
        out["availability"] = json!({"isOnStock": q > 0, "availableQuantity": q});
    }
    out
}

/// A seeded product as its current (published) projection.
pub(crate) fn product(state: &mut State, p: &Product, brand: Option<&str>) -> Value {
    let id = state.claim(PRODUCT, &p.source.id);
    let now = Timestamp::now();
    let master_spec = match p.variants.first() {
        Some(v) if v.sku == p.sku => v.clone(),
        _ => Variant {
            id: "1".to_owned(),
            sku: p.sku.clone(),
            price: p.price,
            inventory: p.inventory,
            options: std::collections::BTreeMap::new(),
        },
    };
    let mut master = variant(1, &master_spec, brand);
    if let (Some(sale), Some(prices)) = (&p.sale_price, master["prices"].as_array_mut())
        && let Some(first) = prices.first_mut()
    {
        first["discounted"] = json!({"value": money(sale),
            "discount": reference("product-discount", "5c7e0000-0000-4000-8000-d15c00000001")});
    }
    if let Some(url) = &p.image_url {
        master["images"] = json!([{"url": url, "dimensions": {"w": 800, "h": 800}}]);
    }
    if p.availability == Availability::OutOfStock {
        master["availability"] = json!({"isOnStock": false, "availableQuantity": 0});
    }
    let skip = usize::from(master_spec.sku == p.sku && !p.variants.is_empty());
    let variants: Vec<Value> = p
        .variants
        .iter()
        .skip(skip)
        .zip(2_i64..)
        .map(|(v, n)| variant(n, v, brand))
        .collect();
    let categories: Vec<Value> = p
        .category_ids
        .iter()
        .map(|c| {
            let cid = state
                .resolve(CATEGORY, c)
                .unwrap_or_else(|| state.claim(CATEGORY, c));
            reference(CATEGORY, &cid)
        })
        .collect();
    let slug_text = p.url.clone().unwrap_or_else(|| slug(&p.name));
    let mut out = json!({
        "id": id, "version": 1,
        "productType": reference("product-type", "5c7e0000-0000-4000-8000-7e0000000002"),
        "name": {"en": p.name}, "slug": {"en": slug_text}, "categories": categories,
        "attributes": [],
        "categoryOrderHints": {}, "masterVariant": master, "variants": variants,
        "searchKeywords": {}, "hasStagedChanges": false, "published": p.is_visible
            && p.availability != Availability::Disabled,
        "createdAt": time_or(p.created_at.or(p.updated_at), now),
        "lastModifiedAt": time_or(p.updated_at.or(p.created_at), now),
    });
    if let Some(d) = &p.description {
        out["description"] = json!({"en": d});
    }
    out
}

fn line_item(state: &mut State, l: &LineItem) -> Value {
    let quantity = l
        .quantity
        .trunc()
        .to_string()
        .parse::<i64>()
        .unwrap_or(1)
        .max(1);
    let mut variant = json!({"id": l.variant_id.as_deref().and_then(|v| v.parse::<i64>().ok()).unwrap_or(1),
                             "prices": [], "images": [], "attributes": [], "assets": []});
    if let Some(sku) = &l.sku {
        variant["sku"] = Value::String(sku.clone());
    }
    if let Some(url) = &l.image_url {
        variant["images"] = json!([{"url": url, "dimensions": {"w": 800, "h": 800}}]);
    }
    let line_id = if super::state::is_uuid(&l.id) {
        l.id.clone()
    } else {
        state.uuid()
    };
    let mut out = json!({
        "id": line_id, "name": {"en": l.name}, "variant": variant,
        "price": {"id": format!("price-{line_id}"), "value": money(&l.unit_price)},
        "quantity": quantity, "totalPrice": money(&l.total),
        "discountedPricePerQuantity": [], "taxedPricePortions": [],
        "state": [{"quantity": quantity, "state": reference("state", "5c7e0000-0000-4000-8000-57a7e0000001")}],
        "priceMode": "Platform", "lineItemMode": "Standard", "perMethodTaxRate": [],
    });
    if let Some(product) = &l.product_id {
        let pid = state
            .resolve(PRODUCT, product)
            .unwrap_or_else(|| product.clone());
        out["productId"] = Value::String(pid);
        out["productType"] = reference("product-type", "5c7e0000-0000-4000-8000-7e0000000002");
    }
    if let Some(discount) = l.discount.filter(|d| !d.is_zero()) {
        let per_unit = l
            .total
            .checked_mul(Decimal::ONE / Decimal::from(quantity))
            .unwrap_or(l.total);
        out["discountedPricePerQuantity"] = json!([{"quantity": quantity,
            "discountedPrice": {"value": money(&per_unit), "includedDiscounts": [{
                "discount": reference("cart-discount", "5c7e0000-0000-4000-8000-d15c00000002"),
                "discountedAmount": money(&discount)}]}}]);
    }
    if let Some(tax) = l.tax.filter(|t| !t.is_zero()) {
        let net = l.total.checked_sub(&tax).unwrap_or(l.total);
        out["taxedPrice"] = json!({"totalNet": money(&net), "totalGross": money(&l.total),
                                   "totalTax": money(&tax), "taxPortions": []});
    }
    out
}

/// `(orderState, paymentState, shipmentState)` that map back to `status`.
pub(crate) fn states(
    status: OrderStatus,
    payment: PaymentStatus,
) -> (&'static str, Option<&'static str>, Option<&'static str>) {
    let paid = match payment {
        PaymentStatus::Failed => Some("Failed"),
        PaymentStatus::Pending => Some("Pending"),
        PaymentStatus::Paid | PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded => {
            Some("Paid")
        }
        _ => None,
    };
    match status {
        OrderStatus::Cancelled => ("Cancelled", paid, None),
        OrderStatus::Completed => ("Complete", Some("Paid"), Some("Delivered")),
        OrderStatus::Delivered => ("Confirmed", Some("Paid"), Some("Delivered")),
        OrderStatus::Shipped | OrderStatus::Refunded | OrderStatus::PartiallyRefunded => {
            ("Confirmed", Some("Paid"), Some("Shipped"))
        }
        OrderStatus::PartiallyShipped => ("Confirmed", Some("Paid"), Some("Partial")),
        OrderStatus::OnHold | OrderStatus::Disputed => ("Open", Some("Paid"), Some("Backorder")),
        OrderStatus::Declined => ("Open", Some("Failed"), None),
        OrderStatus::AwaitingPayment => ("Open", Some("Pending"), None),
        OrderStatus::AwaitingFulfillment
        | OrderStatus::AwaitingShipment
        | OrderStatus::AwaitingPickup => ("Confirmed", Some("Paid"), Some("Pending")),
        OrderStatus::Pending | OrderStatus::Incomplete => ("Open", None, None),
    }
}

/// A seeded order (with a payment holding its charge when paid). Returns the order and the
/// payment, if any.
pub(crate) fn order(state: &mut State, o: &Order) -> (Value, Option<Value>) {
    let id = state.claim(ORDER, &o.source.id);
    let created = predicate_time(o.created_at);
    let modified = time_or(o.updated_at, o.created_at);
    let lines: Vec<Value> = o.line_items.iter().map(|l| line_item(state, l)).collect();
    let (order_state, payment_state, shipment_state) = states(o.status, o.payment_status);
    let net = o.total.checked_sub(&o.tax).unwrap_or(o.total);
    let mut out = json!({
        "id": id, "version": 1, "lineItems": lines, "customLineItems": [],
        "totalPrice": money(&o.total),
        "taxedPrice": {"totalNet": money(&net), "totalGross": money(&o.total),
                       "totalTax": money(&o.tax), "taxPortions": []},
        "taxMode": "Platform", "taxRoundingMode": "HalfEven", "taxCalculationMode": "LineItemLevel",
        "inventoryMode": "None", "shippingMode": "Single", "shipping": [],
        "orderState": order_state, "syncInfo": [], "returnInfo": [], "discountCodes": [],
        "directDiscounts": [], "refusedGifts": [], "itemShippingAddresses": [],
        "origin": "Customer", "createdAt": created, "lastModifiedAt": modified,
        "createdBy": client_logging(STOREFRONT_CLIENT),
        "lastModifiedBy": client_logging(STOREFRONT_CLIENT),
    });
    let map = out.as_object_mut().expect("object literal");
    insert_opt(map, "orderNumber", o.number.as_ref());
    if let Some(p) = payment_state {
        map.insert("paymentState".to_owned(), Value::String(p.to_owned()));
    }
    if let Some(s) = shipment_state {
        map.insert("shipmentState".to_owned(), Value::String(s.to_owned()));
    }
    if let Some(email) = &o.email {
        map.insert(
            "customerEmail".to_owned(),
            Value::String(email.as_str().to_owned()),
        );
    }
    if let Some(customer) = &o.customer
        && let Some(cid) = state.resolve(CUSTOMER, &customer.id)
    {
        map.insert("customerId".to_owned(), Value::String(cid));
    }
    if !o.shipping.is_zero() {
        map.insert(
            "shippingInfo".to_owned(),
            json!({"shippingMethodName": "Standard", "price": money(&o.shipping),
                   "shippingRate": {"price": money(&o.shipping), "tiers": []},
                   "shippingMethodState": "MatchesCart", "deliveries": []}),
        );
    }
    if !o.discount.is_zero() {
        map.insert(
            "discountOnTotalPrice".to_owned(),
            json!({"discountedAmount": money(&o.discount), "includedDiscounts": []}),
        );
    }
    if !o.coupons.is_empty() {
        map.insert(
            "discountCodes".to_owned(),
            Value::Array(
                o.coupons
                    .iter()
                    .map(|c| json!({"discountCode": reference("discount-code", &c.code), "state": "MatchesCart"}))
                    .collect(),
            ),
        );
    }
    if let Some(a) = &o.billing_address {
        let a = address(state, a);
        map.insert("billingAddress".to_owned(), a);
    }
    if let Some(a) = o.shipping_addresses.first() {
        let a = address(state, a);
        map.insert("shippingAddress".to_owned(), a);
    }
    if let Some(country) = o
        .billing_address
        .as_ref()
        .and_then(|a| a.country_code.clone())
    {
        map.insert("country".to_owned(), Value::String(country));
    }
    if let Some(store) = &o.channel {
        state.stores.insert(store.clone());
        map.insert("store".to_owned(), json!({"typeId": "store", "key": store}));
    }
    let payment = (payment_state == Some("Paid")).then(|| {
        let pid = state.uuid();
        map.insert(
            "paymentInfo".to_owned(),
            json!({"payments": [reference(PAYMENT, &pid)]}),
        );
        let mut payment = json!({
            "id": pid, "version": 1, "amountPlanned": money(&o.total),
            "paymentMethodInfo": {"paymentInterface": "sim-psp", "method": "CREDIT_CARD",
                                  "name": {"en": "Credit card"}},
            "paymentStatus": {}, "interfaceInteractions": [],
            "transactions": [{"id": state.uuid(), "timestamp": created, "type": "Charge",
                              "amount": money(&o.total), "state": "Success"}],
            "createdAt": created, "lastModifiedAt": created,
        });
        if let Some(cid) = map.get("customerId").and_then(Value::as_str) {
            payment["customer"] = reference(CUSTOMER, cid);
        }
        payment
    });
    (out, payment)
}

/// A refund transaction for a payment.
pub(crate) fn refund_transaction(state: &mut State, r: &Refund) -> Value {
    let id = state.claim("transaction", &r.source.id);
    let mut out = json!({"id": id, "timestamp": predicate_time(r.created_at), "type": "Refund",
                         "amount": money(&r.amount), "state": "Success"});
    if let Some(reason) = &r.reason {
        out["interactionId"] = Value::String(reason.clone());
    }
    out
}

/// A seeded cart: `Active` (also for abandoned carts: commercetools has no abandoned state)
/// or `Ordered`.
pub(crate) fn cart(state: &mut State, c: &Cart) -> Value {
    let id = state.claim(CART, &c.source.id);
    let now = Timestamp::now();
    let lines: Vec<Value> = c.items.iter().map(|l| line_item(state, l)).collect();
    let cart_state = match c.state {
        CartState::Converted => "Ordered",
        CartState::Active | CartState::Abandoned => "Active",
    };
    let mut out = json!({
        "id": id, "version": 1, "lineItems": lines, "customLineItems": [],
        "totalPrice": money(&c.value), "cartState": cart_state, "taxMode": "Platform",
        "priceRoundingMode": "HalfEven",
        "taxRoundingMode": "HalfEven", "taxCalculationMode": "LineItemLevel",
        "inventoryMode": "None", "shippingMode": "Single", "shipping": [],
        "discountCodes": [], "directDiscounts": [], "refusedGifts": [],
        "itemShippingAddresses": [], "origin": "Customer",
        "deleteDaysAfterLastModification": 90,
        "createdAt": time_or(c.created_at.or(c.updated_at), now),
        "lastModifiedAt": time_or(c.updated_at.or(c.created_at), now),
        "createdBy": client_logging(STOREFRONT_CLIENT),
        "lastModifiedBy": client_logging(STOREFRONT_CLIENT),
    });
    if let Some(email) = &c.email {
        out["customerEmail"] = Value::String(email.as_str().to_owned());
    }
    match c
        .customer
        .as_ref()
        .and_then(|r| state.resolve(CUSTOMER, &r.id))
    {
        Some(cid) => out["customerId"] = Value::String(cid),
        None => out["anonymousId"] = Value::String(format!("anon-{id}")),
    }
    if let Some(store) = &c.channel {
        state.stores.insert(store.clone());
        out["store"] = json!({"typeId": "store", "key": store});
    }
    out
}
