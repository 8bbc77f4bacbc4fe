//! Pure wire -> canonical mapping. Every function takes a [`MapContext`] (system name,
//! language chain, opt-in field, abandoned-cart window, "now") so it is testable without I/O.
//!
//! Bad vendor input is a typed [`Error`] naming the record and field, never a panic.

use cartograph_connector::{Error, Result};
use cartograph_model::{
    Address, AddressKind, AttributeValue, Attributes, Cart, CartState, Category, ChannelConsent,
    Consent, ConsentState, Coupon, Currency, Customer, CustomerGroup, EmailAddress,
    FulfillmentStatus, LineItem, Money, Order, OrderStatus, PaymentStatus, Product, RawStatus,
    RecordKind, Refund, RefundItem, SourceRef, Timestamp, Variant,
};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::wire;

/// What the mapping needs besides the wire record.
#[derive(Debug, Clone)]
pub struct MapContext {
    /// System name on `SourceRef`s.
    pub system: String,
    /// Language fallback chain for localized strings.
    pub languages: Vec<String>,
    /// Custom field read as the marketing opt-in.
    pub opt_in_field: String,
    /// Idle time after which an active cart is abandoned.
    pub abandoned_after: time::Duration,
    /// The current time (for abandoned carts).
    pub now: Timestamp,
}

impl MapContext {
    /// A context with the defaults (`commercetools`, `en`, `marketingOptIn`, 1 h).
    pub fn new(system: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            languages: vec!["en".to_owned()],
            opt_in_field: "marketingOptIn".to_owned(),
            abandoned_after: time::Duration::hours(1),
            now: Timestamp::now(),
        }
    }

    fn source(&self, kind: RecordKind, id: &str) -> SourceRef {
        SourceRef::new(self.system.clone(), kind, id.to_owned())
    }

    /// The first language of the chain present in `text`, then the alphabetically first.
    pub fn localized(&self, text: &wire::LocalizedString) -> Option<String> {
        self.languages
            .iter()
            .find_map(|lang| text.get(lang))
            .or_else(|| text.values().next())
            .cloned()
    }
}

fn record(kind: &str, id: &str) -> String {
    format!("{kind} {id}")
}

/// `TypedMoney` into exact [`Money`]: `preciseAmount` with its `fractionDigits` for high
/// precision, else `centAmount` in `fractionDigits` (default: the currency's minor units).
///
/// # Errors
/// [`cartograph_connector::ErrorKind::Invalid`] for an unknown currency or digits above 28.
pub fn money(rec: &str, field: &str, m: &wire::TypedMoney) -> Result<Money> {
    let currency = Currency::new(&m.currency_code)
        .map_err(|e| Error::invalid_field(rec, format!("{field}.currencyCode"), e.to_string()))?;
    let digits = m.fraction_digits.unwrap_or_else(|| currency.minor_units());
    if digits > 28 {
        return Err(Error::invalid_field(
            rec,
            format!("{field}.fractionDigits"),
            "fraction digits above 28",
        ));
    }
    let high = m.kind.as_deref() == Some("highPrecision");
    match (high, m.precise_amount) {
        (true, Some(precise)) => Ok(Money::from_minor_units(precise, digits, currency)),
        (true, None) => Err(Error::invalid_field(
            rec,
            format!("{field}.preciseAmount"),
            "highPrecision money without preciseAmount",
        )),
        // centAmount is always in the currency's minor units; fractionDigits of cent
        // precision money equals them.
        (false, _) => Ok(Money::from_minor_units(m.cent_amount, digits, currency)),
    }
}

/// An RFC 3339 time field.
///
/// # Errors
/// [`cartograph_connector::ErrorKind::Invalid`] naming the field.
pub fn time(rec: &str, field: &str, text: &str) -> Result<Timestamp> {
    Timestamp::parse_rfc3339(text).map_err(|e| Error::invalid_field(rec, field, e.to_string()))
}

fn opt_time(rec: &str, field: &str, text: Option<&String>) -> Result<Option<Timestamp>> {
    text.map(|t| time(rec, field, t)).transpose()
}

fn email(rec: &str, field: &str, text: Option<&String>) -> Result<Option<EmailAddress>> {
    match text.map(|t| t.trim()).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => EmailAddress::new(t)
            .map(Some)
            .ok_or_else(|| Error::invalid_field(rec, field, "not an email address")),
    }
}

/// A wire address into the canonical one.
pub fn address(a: &wire::Address, kind: AddressKind) -> Address {
    let line1 = match (&a.street_name, &a.street_number) {
        (Some(name), Some(number)) => Some(format!("{name} {number}")),
        (Some(name), None) => Some(name.clone()),
        (None, Some(number)) => Some(number.clone()),
        (None, None) => None,
    };
    Address {
        kind,
        first_name: a.first_name.clone(),
        last_name: a.last_name.clone(),
        company: a.company.clone(),
        line1,
        line2: a.additional_street_info.clone(),
        city: a.city.clone(),
        region: a.region.clone().or_else(|| a.state.clone()),
        region_code: a.state.clone(),
        postcode: a.postal_code.clone(),
        country_code: a.country.clone(),
        country: None,
        phone: a.phone.clone().or_else(|| a.mobile.clone()),
    }
}

/// A custom-field or attribute JSON value into a typed [`AttributeValue`]: booleans, numbers
/// (exact), money objects, localized strings (objects of strings), dates (`YYYY-MM-DD`),
/// date-times (RFC 3339), sets (arrays), references (`typeId:id`), enums (`{key,label}` ->
/// key), anything else as JSON.
pub fn attribute(rec: &str, field: &str, value: &Value) -> Result<AttributeValue> {
    Ok(match value {
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::Number(
            n.to_string()
                .parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(&n.to_string()))
                .map_err(|e| Error::invalid_field(rec, field, e.to_string()))?,
        ),
        Value::String(s) => {
            if let Ok(t) = Timestamp::parse_rfc3339(s) {
                AttributeValue::DateTime(t)
            } else if let Ok(d) =
                time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            {
                AttributeValue::Date(d)
            } else {
                AttributeValue::String(s.clone())
            }
        }
        Value::Array(items) => AttributeValue::List(
            items
                .iter()
                .map(|v| attribute(rec, field, v))
                .collect::<Result<_>>()?,
        ),
        Value::Object(map) => {
            if map.contains_key("centAmount") && map.contains_key("currencyCode") {
                let m: wire::TypedMoney = serde_json::from_value(value.clone())
                    .map_err(|e| Error::invalid_field(rec, field, e.to_string()))?;
                AttributeValue::Money(money(rec, field, &m)?)
            } else if let (Some(Value::String(key)), true) =
                (map.get("key"), map.contains_key("label"))
            {
                AttributeValue::Enum(key.clone())
            } else if let (Some(Value::String(type_id)), Some(Value::String(id))) =
                (map.get("typeId"), map.get("id"))
            {
                AttributeValue::String(format!("{type_id}:{id}"))
            } else if !map.is_empty() && map.values().all(Value::is_string) {
                AttributeValue::Localized(
                    map.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                        .collect(),
                )
            } else {
                AttributeValue::Json(value.clone())
            }
        }
        Value::Null => AttributeValue::Json(Value::Null),
    })
}

fn custom(rec: &str, c: Option<&wire::CustomFields>) -> Result<Attributes> {
    let mut out = Attributes::new();
    if let Some(c) = c {
        for (name, value) in &c.fields {
            out.insert(
                name.clone(),
                attribute(rec, &format!("custom.fields.{name}"), value)?,
            );
        }
    }
    Ok(out)
}

/// `Customer` into the canonical [`Customer`].
///
/// # Errors
/// Invalid email or times, bad custom field values.
pub fn customer(ctx: &MapContext, c: &wire::Customer) -> Result<Customer> {
    let rec = record("customer", &c.id);
    let mut attrs = custom(&rec, c.custom.as_ref())?;
    let opt_in = match attrs.remove(&ctx.opt_in_field) {
        Some(AttributeValue::Bool(true)) => ConsentState::Subscribed,
        Some(AttributeValue::Bool(false)) => ConsentState::Unsubscribed,
        Some(other) => {
            attrs.insert(ctx.opt_in_field.clone(), other);
            ConsentState::NotSet
        }
        None => ConsentState::NotSet,
    };
    attrs.insert(
        "isEmailVerified".to_owned(),
        AttributeValue::Bool(c.is_email_verified),
    );
    for (name, value) in [
        ("key", &c.key),
        ("customerNumber", &c.customer_number),
        ("externalId", &c.external_id),
        ("locale", &c.locale),
    ] {
        if let Some(v) = value {
            attrs.insert(name.to_owned(), AttributeValue::String(v.clone()));
        }
    }
    attrs.insert(
        "version".to_owned(),
        AttributeValue::Number(Decimal::from(c.version)),
    );
    let addresses = c
        .addresses
        .iter()
        .map(|a| {
            let id = a.id.as_deref().unwrap_or_default();
            let kind = if c.billing_address_ids.iter().any(|b| b == id)
                || c.default_billing_address_id.as_deref() == Some(id)
            {
                AddressKind::Billing
            } else if c.shipping_address_ids.iter().any(|s| s == id)
                || c.default_shipping_address_id.as_deref() == Some(id)
            {
                AddressKind::Shipping
            } else {
                AddressKind::Unknown
            };
            address(a, kind)
        })
        .collect::<Vec<_>>();
    let date_of_birth = c
        .date_of_birth
        .as_deref()
        .map(|d| {
            time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|e| Error::invalid_field(&rec, "dateOfBirth", e.to_string()))
        })
        .transpose()?;
    Ok(Customer {
        source: ctx.source(RecordKind::Customer, &c.id),
        email: email(&rec, "email", Some(&c.email))?,
        phone: addresses.iter().find_map(|a| a.phone.clone()),
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        company: c.company_name.clone(),
        date_of_birth,
        addresses,
        customer_group_ids: c
            .customer_group
            .as_ref()
            .and_then(|g| g.id.clone())
            .into_iter()
            .collect(),
        consent: Consent {
            email: ChannelConsent {
                state: opt_in,
                updated_at: None,
                source: None,
            },
            sms: ChannelConsent::default(),
        },
        channel: c.stores.first().and_then(|s| s.key.clone()),
        tags: Vec::new(),
        is_guest: false,
        created_at: Some(time(&rec, "createdAt", &c.created_at)?),
        updated_at: Some(time(&rec, "lastModifiedAt", &c.last_modified_at)?),
        custom: attrs,
    })
}

/// `CustomerGroup` into the canonical [`CustomerGroup`].
pub fn customer_group(ctx: &MapContext, g: &wire::CustomerGroup) -> CustomerGroup {
    CustomerGroup {
        source: ctx.source(RecordKind::CustomerGroup, &g.id),
        name: g.name.clone(),
        is_default: false,
    }
}

/// The canonical status of an order from `orderState`, `paymentState` and `shipmentState`.
pub fn order_status(
    order_state: &str,
    payment: Option<&str>,
    shipment: Option<&str>,
) -> OrderStatus {
    match (order_state, shipment, payment) {
        ("Cancelled", _, _) => OrderStatus::Cancelled,
        ("Complete", _, _) => OrderStatus::Completed,
        (_, Some("Delivered"), _) => OrderStatus::Delivered,
        (_, Some("Shipped"), _) => OrderStatus::Shipped,
        (_, Some("Partial"), _) => OrderStatus::PartiallyShipped,
        (_, Some("Backorder" | "Delayed"), _) => OrderStatus::OnHold,
        (_, _, Some("Failed")) => OrderStatus::Declined,
        (_, _, Some("Pending" | "BalanceDue")) => OrderStatus::AwaitingPayment,
        ("Confirmed", _, _) | (_, _, Some("Paid" | "CreditOwed")) => {
            OrderStatus::AwaitingFulfillment
        }
        _ => OrderStatus::Pending,
    }
}

fn payment_status(state: Option<&str>) -> PaymentStatus {
    match state {
        Some("Paid" | "CreditOwed") => PaymentStatus::Paid,
        Some("Pending" | "BalanceDue") => PaymentStatus::Pending,
        Some("Failed") => PaymentStatus::Failed,
        _ => PaymentStatus::Unknown,
    }
}

fn fulfillment_status(state: Option<&str>, has_returns: bool) -> FulfillmentStatus {
    if has_returns {
        return FulfillmentStatus::Returned;
    }
    match state {
        Some("Shipped") => FulfillmentStatus::Fulfilled,
        Some("Delivered") => FulfillmentStatus::Delivered,
        Some("Partial") => FulfillmentStatus::PartiallyFulfilled,
        Some("Pending" | "Ready" | "Backorder" | "Delayed") => FulfillmentStatus::Unfulfilled,
        _ => FulfillmentStatus::Unknown,
    }
}

/// A cart or order line item.
///
/// # Errors
/// Bad money.
pub fn line_item(ctx: &MapContext, rec: &str, i: &wire::LineItem) -> Result<LineItem> {
    let field = format!("lineItems[{}]", i.id);
    let unit_price = money(rec, &format!("{field}.price.value"), &i.price.value)?;
    let total = money(rec, &format!("{field}.totalPrice"), &i.total_price)?;
    let gross = unit_price
        .checked_mul(Decimal::from(i.quantity))
        .map_err(|e| Error::invalid_field(rec, &field, e.to_string()))?;
    let discount = gross.checked_sub(&total).ok().filter(|d| {
        !d.is_zero() && !d.is_negative() && !i.discounted_price_per_quantity.is_empty()
    });
    let tax = match &i.taxed_price {
        Some(t) => match &t.total_tax {
            Some(tax) => Some(money(rec, &format!("{field}.taxedPrice.totalTax"), tax)?),
            None => {
                let gross = money(
                    rec,
                    &format!("{field}.taxedPrice.totalGross"),
                    &t.total_gross,
                )?;
                let net = money(rec, &format!("{field}.taxedPrice.totalNet"), &t.total_net)?;
                gross.checked_sub(&net).ok()
            }
        },
        None => None,
    };
    let variant = i.variant.as_ref();
    Ok(LineItem {
        id: i.id.clone(),
        sku: variant.and_then(|v| v.sku.clone()),
        product_id: i.product_id.clone(),
        variant_id: variant.map(|v| v.id.to_string()),
        name: ctx.localized(&i.name).unwrap_or_default(),
        quantity: Decimal::from(i.quantity),
        unit_price,
        total,
        discount,
        tax,
        categories: Vec::new(),
        brand: None,
        image_url: variant
            .and_then(|v| v.images.first())
            .map(|img| img.url.clone()),
        product_url: None,
        custom: custom(rec, i.custom.as_ref())?,
    })
}

/// `Order` into the canonical [`Order`].
///
/// # Errors
/// Bad money, email or times.
pub fn order(ctx: &MapContext, o: &wire::Order) -> Result<Order> {
    let rec = record("order", &o.id);
    let total = money(&rec, "totalPrice", &o.total_price)?;
    let currency = total.currency();
    let line_items = o
        .line_items
        .iter()
        .map(|i| line_item(ctx, &rec, i))
        .collect::<Result<Vec<_>>>()?;
    let zero = Money::zero(currency);
    let subtotal = Money::sum(currency, line_items.iter().map(|i| &i.total))
        .map_err(|e| Error::invalid_field(&rec, "lineItems", e.to_string()))?;
    let shipping = match &o.shipping_info {
        Some(s) => money(&rec, "shippingInfo.price", &s.price)?,
        None => zero,
    };
    let discount = match &o.discount_on_total_price {
        Some(d) => money(
            &rec,
            "discountOnTotalPrice.discountedAmount",
            &d.discounted_amount,
        )?,
        None => zero,
    };
    let (tax, total) = match &o.taxed_price {
        Some(t) => {
            let gross = money(&rec, "taxedPrice.totalGross", &t.total_gross)?;
            let tax = match &t.total_tax {
                Some(tax) => money(&rec, "taxedPrice.totalTax", tax)?,
                None => gross
                    .checked_sub(&money(&rec, "taxedPrice.totalNet", &t.total_net)?)
                    .map_err(|e| Error::invalid_field(&rec, "taxedPrice", e.to_string()))?,
            };
            (tax, gross)
        }
        None => (zero, total),
    };
    let mut attrs = custom(&rec, o.custom.as_ref())?;
    for (name, value) in [
        ("orderState", Some(&o.order_state)),
        ("paymentState", o.payment_state.as_ref()),
        ("shipmentState", o.shipment_state.as_ref()),
        ("country", o.country.as_ref()),
        ("locale", o.locale.as_ref()),
        ("cartId", o.cart.as_ref().and_then(|c| c.id.as_ref())),
    ] {
        if let Some(v) = value {
            attrs.insert(name.to_owned(), AttributeValue::String(v.clone()));
        }
    }
    attrs.insert(
        "version".to_owned(),
        AttributeValue::Number(Decimal::from(o.version)),
    );
    let status = order_status(
        &o.order_state,
        o.payment_state.as_deref(),
        o.shipment_state.as_deref(),
    );
    Ok(Order {
        source: ctx.source(RecordKind::Order, &o.id),
        number: o.order_number.clone(),
        customer: o
            .customer_id
            .as_deref()
            .map(|id| ctx.source(RecordKind::Customer, id)),
        email: email(&rec, "customerEmail", o.customer_email.as_ref())?,
        status,
        raw_status: RawStatus {
            id: Some(o.order_state.clone()),
            label: Some(
                [
                    Some(o.order_state.as_str()),
                    o.payment_state.as_deref(),
                    o.shipment_state.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("/"),
            ),
        },
        payment_status: payment_status(o.payment_state.as_deref()),
        fulfillment_status: fulfillment_status(
            o.shipment_state.as_deref(),
            !o.return_info.is_empty(),
        ),
        currency,
        subtotal,
        discount,
        tax,
        shipping,
        total,
        coupons: o
            .discount_codes
            .iter()
            .filter_map(|d| {
                d.discount_code
                    .id
                    .clone()
                    .map(|code| Coupon { code, amount: None })
            })
            .collect(),
        billing_address: o
            .billing_address
            .as_ref()
            .map(|a| address(a, AddressKind::Billing)),
        shipping_addresses: o
            .shipping_address
            .iter()
            .map(|a| address(a, AddressKind::Shipping))
            .collect(),
        channel: o.store.as_ref().and_then(|s| s.key.clone()),
        line_items,
        created_at: time(&rec, "createdAt", &o.created_at)?,
        updated_at: Some(time(&rec, "lastModifiedAt", &o.last_modified_at)?),
        paid_at: None,
        shipped_at: None,
        is_archived: false,
        custom: attrs,
    })
}

/// The successful `Refund` transactions of a payment as canonical refunds of `order_id`.
///
/// # Errors
/// Bad money or times.
pub fn refunds(ctx: &MapContext, order_id: &str, p: &wire::Payment) -> Result<Vec<Refund>> {
    let rec = record("payment", &p.id);
    p.transactions
        .iter()
        .filter(|t| t.kind == "Refund" && matches!(t.state.as_deref(), Some("Success") | None))
        .map(|t| {
            let amount = money(&rec, &format!("transactions[{}].amount", t.id), &t.amount)?;
            let created_at = match t.timestamp.as_ref().or(p.created_at.as_ref()) {
                Some(ts) => time(&rec, &format!("transactions[{}].timestamp", t.id), ts)?,
                None => {
                    return Err(Error::invalid_field(
                        &rec,
                        format!("transactions[{}].timestamp", t.id),
                        "refund transaction without a time",
                    ));
                }
            };
            Ok(Refund {
                source: ctx.source(RecordKind::Refund, &t.id),
                order: ctx.source(RecordKind::Order, order_id),
                amount,
                items: vec![RefundItem {
                    line_item_id: None,
                    quantity: None,
                    amount: Some(amount),
                }],
                reason: t.interaction_id.clone(),
                created_at,
            })
        })
        .collect()
}

/// `ProductProjection` into the canonical [`Product`].
///
/// # Errors
/// Bad money or times.
pub fn product(ctx: &MapContext, p: &wire::ProductProjection) -> Result<Product> {
    let rec = record("product", &p.id);
    let variant = |v: &wire::ProductVariant| -> Result<Variant> {
        let price = v.price.as_ref().or(v.prices.first());
        Ok(Variant {
            id: v.id.to_string(),
            sku: v.sku.clone(),
            price: price
                .map(|pr| money(&rec, &format!("variants[{}].price", v.id), &pr.value))
                .transpose()?,
            inventory: v.availability.as_ref().and_then(|a| a.available_quantity),
            options: v
                .attributes
                .iter()
                .filter_map(|a| {
                    let text = match &a.value {
                        Value::String(s) => Some(s.clone()),
                        Value::Object(m) => m.get("key").and_then(Value::as_str).map(str::to_owned),
                        Value::Number(n) => Some(n.to_string()),
                        Value::Bool(b) => Some(b.to_string()),
                        _ => None,
                    };
                    text.map(|t| (a.name.clone(), t))
                })
                .collect(),
        })
    };
    let mut variants = Vec::new();
    if let Some(master) = &p.master_variant {
        variants.push(variant(master)?);
    }
    for v in &p.variants {
        variants.push(variant(v)?);
    }
    let master = p.master_variant.as_ref();
    let master_price = master.and_then(|m| m.price.as_ref().or(m.prices.first()));
    let mut attrs = Attributes::new();
    if let Some(key) = &p.key {
        attrs.insert("key".to_owned(), AttributeValue::String(key.clone()));
    }
    attrs.insert("name".to_owned(), AttributeValue::Localized(p.name.clone()));
    if let Some(m) = master {
        for a in &m.attributes {
            attrs.insert(
                format!("attribute.{}", a.name),
                attribute(
                    &rec,
                    &format!("masterVariant.attributes.{}", a.name),
                    &a.value,
                )?,
            );
        }
    }
    let inventory = master
        .and_then(|m| m.availability.as_ref())
        .and_then(|a| a.available_quantity);
    let on_stock = master
        .and_then(|m| m.availability.as_ref())
        .and_then(|a| a.is_on_stock);
    Ok(Product {
        source: ctx.source(RecordKind::Product, &p.id),
        name: ctx.localized(&p.name).unwrap_or_default(),
        sku: master.and_then(|m| m.sku.clone()),
        description: p.description.as_ref().and_then(|d| ctx.localized(d)),
        price: master_price
            .map(|pr| money(&rec, "masterVariant.price.value", &pr.value))
            .transpose()?,
        sale_price: master_price
            .and_then(|pr| pr.discounted.as_ref())
            .map(|d| money(&rec, "masterVariant.price.discounted.value", &d.value))
            .transpose()?,
        category_ids: p.categories.iter().filter_map(|c| c.id.clone()).collect(),
        brand_id: None,
        variants,
        inventory,
        availability: match (p.published, on_stock) {
            (Some(false), _) => cartograph_model::Availability::Disabled,
            (_, Some(false)) => cartograph_model::Availability::OutOfStock,
            _ => cartograph_model::Availability::Available,
        },
        is_visible: p.published.unwrap_or(true),
        url: p.slug.as_ref().and_then(|s| ctx.localized(s)),
        image_url: master.and_then(|m| m.images.first()).map(|i| i.url.clone()),
        created_at: opt_time(&rec, "createdAt", p.created_at.as_ref())?,
        updated_at: opt_time(&rec, "lastModifiedAt", p.last_modified_at.as_ref())?,
        custom: attrs,
    })
}

/// `Category` into the canonical [`Category`].
pub fn category(ctx: &MapContext, c: &wire::Category) -> Category {
    Category {
        source: ctx.source(RecordKind::Category, &c.id),
        name: ctx
            .localized(&c.name)
            .or_else(|| c.key.clone())
            .unwrap_or_default(),
        parent_id: c.parent.as_ref().and_then(|p| p.id.clone()),
    }
}

/// `Cart` into the canonical [`Cart`]. An `Active` cart with an email or customer idle for
/// longer than the window is `Abandoned` (commercetools has no abandoned flag); `Ordered`
/// is `Converted`.
///
/// # Errors
/// Bad money, email or times.
pub fn cart(ctx: &MapContext, c: &wire::Cart) -> Result<Cart> {
    let rec = record("cart", &c.id);
    let updated = time(&rec, "lastModifiedAt", &c.last_modified_at)?;
    let email = email(&rec, "customerEmail", c.customer_email.as_ref())?;
    let reachable = email.is_some() || c.customer_id.is_some();
    let idle_since = updated.saturating_add(ctx.abandoned_after);
    let (state, abandoned_at) = match c.cart_state.as_str() {
        "Ordered" => (CartState::Converted, None),
        "Active" if reachable && idle_since <= ctx.now => (CartState::Abandoned, Some(idle_since)),
        _ => (CartState::Active, None),
    };
    Ok(Cart {
        source: ctx.source(RecordKind::Cart, &c.id),
        customer: c
            .customer_id
            .as_deref()
            .map(|id| ctx.source(RecordKind::Customer, id)),
        email,
        items: c
            .line_items
            .iter()
            .map(|i| line_item(ctx, &rec, i))
            .collect::<Result<_>>()?,
        value: money(&rec, "totalPrice", &c.total_price)?,
        state,
        recovery_url: None,
        channel: c.store.as_ref().and_then(|s| s.key.clone()),
        created_at: Some(time(&rec, "createdAt", &c.created_at)?),
        updated_at: Some(updated),
        abandoned_at,
        converted_order: None,
    })
}

#[cfg(test)]
mod tests;
