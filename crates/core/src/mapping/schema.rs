//! The typed view of canonical records that paths read: runtime values, static types and
//! the field tables of every record kind.

use std::borrow::Cow;

use cartograph_model::{
    Address, AttributeValue, Attributes, Cart, Coupon, Customer, Decimal, LineItem, Money, Order,
    Product, Refund, Timestamp,
};
use time::Date;

use crate::metrics::CustomerMetrics;
use crate::rules::{AbandonedCart, CustomerStatus};

/// A value during evaluation; borrows from the record where it can.
#[derive(Debug, Clone, PartialEq)]
#[repr(u64)]
pub(crate) enum Value<'a> {
    Null,
    Str(Cow<'a, str>),
    Num(Decimal),
    Money(Money),
    Bool(bool),
    Date(Date),
    DateTime(Timestamp),
    Attr(&'a AttributeValue),
    Obj(Obj<'a>),
    List(Vec<Value<'a>>),
    /// A list borrowed from the record, not yet materialized: paths step through it
    /// without building the intermediate list.
    Slice(Slice<'a>),
}

/// A list field of a record, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Slice<'a> {
    Strs(&'a [String]),
    LineItems(&'a [LineItem]),
    Addresses(&'a [Address]),
    Coupons(&'a [Coupon]),
}

impl<'a> Slice<'a> {
    pub(crate) fn len(self) -> usize {
        match self {
            Self::Strs(x) => x.len(),
            Self::LineItems(x) => x.len(),
            Self::Addresses(x) => x.len(),
            Self::Coupons(x) => x.len(),
        }
    }

    pub(crate) fn get(self, i: usize) -> Option<Value<'a>> {
        Some(match self {
            Self::Strs(x) => b(x.get(i)?),
            Self::LineItems(x) => Value::Obj(Obj::LineItem(x.get(i)?)),
            Self::Addresses(x) => Value::Obj(Obj::Address(x.get(i)?)),
            Self::Coupons(x) => Value::Obj(Obj::Coupon(x.get(i)?)),
        })
    }

    /// Calls `f` on every element, in order.
    pub(crate) fn for_each(self, mut f: impl FnMut(Value<'a>)) {
        match self {
            Self::Strs(x) => x.iter().for_each(|v| f(b(v))),
            Self::LineItems(x) => x.iter().for_each(|v| f(Value::Obj(Obj::LineItem(v)))),
            Self::Addresses(x) => x.iter().for_each(|v| f(Value::Obj(Obj::Address(v)))),
            Self::Coupons(x) => x.iter().for_each(|v| f(Value::Obj(Obj::Coupon(v)))),
        }
    }

    /// Calls `f` on every element, in order, stopping at the first error.
    pub(crate) fn try_for_each<E>(
        self,
        mut f: impl FnMut(Value<'a>) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            Self::Strs(x) => x.iter().try_for_each(|v| f(b(v))),
            Self::LineItems(x) => x.iter().try_for_each(|v| f(Value::Obj(Obj::LineItem(v)))),
            Self::Addresses(x) => x.iter().try_for_each(|v| f(Value::Obj(Obj::Address(v)))),
            Self::Coupons(x) => x.iter().try_for_each(|v| f(Value::Obj(Obj::Coupon(v)))),
        }
    }

    /// The elements as an owned list.
    pub(crate) fn to_list(self) -> Vec<Value<'a>> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|v| out.push(v));
        out
    }
}

impl Value<'_> {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Str(_) => "string",
            Self::Num(_) => "number",
            Self::Money(_) => "money",
            Self::Bool(_) => "bool",
            Self::Date(_) => "date",
            Self::DateTime(_) => "datetime",
            Self::Attr(a) => a.type_name(),
            Self::Obj(o) => o.kind().name(),
            Self::List(_) | Self::Slice(_) => "list",
        }
    }
}

pub(crate) fn s(v: Option<&str>) -> Value<'_> {
    v.map_or(Value::Null, |x| Value::Str(Cow::Borrowed(x)))
}
fn b(v: &str) -> Value<'_> {
    Value::Str(Cow::Borrowed(v))
}
fn m(v: Option<Money>) -> Value<'static> {
    v.map_or(Value::Null, Value::Money)
}
fn t(v: Option<Timestamp>) -> Value<'static> {
    v.map_or(Value::Null, Value::DateTime)
}
fn strs(v: &[String]) -> Value<'_> {
    Value::Slice(Slice::Strs(v))
}
fn num(v: u64) -> Value<'static> {
    Value::Num(Decimal::from(v))
}

macro_rules! objects {
    ($($kind:ident($t:ty) = $name:literal),* $(,)?) => {
        /// A record or sub-record reached by a path.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub(crate) enum Obj<'a> { $($kind(&'a $t)),* }

        /// The kind of an [`Obj`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum ObjKind { $($kind),* }

        /// A compiled field read.
        #[derive(Clone, Copy)]
        pub(crate) enum Get { $($kind(for<'a> fn(&'a $t) -> Value<'a>)),* }

        impl Obj<'_> {
            pub(crate) fn kind(&self) -> ObjKind {
                match self { $(Self::$kind(_) => ObjKind::$kind),* }
            }
        }

        impl ObjKind {
            pub(crate) fn name(self) -> &'static str {
                match self { $(Self::$kind => $name),* }
            }
        }

        impl Get {
            pub(crate) fn read(self, obj: Obj<'_>) -> Value<'_> {
                match (self, obj) {
                    $((Self::$kind(f), Obj::$kind(x)) => f(x),)*
                    _ => Value::Null,
                }
            }
        }

        impl std::fmt::Debug for Get {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self { $(Self::$kind(_) => f.write_str(concat!("Get::", $name))),* }
            }
        }
    };
}

objects! {
    Customer(Customer) = "customer",
    Order(Order) = "order",
    LineItem(LineItem) = "line_item",
    Address(Address) = "address",
    Coupon(Coupon) = "coupon",
    Refund(Refund) = "refund",
    Product(Product) = "product",
    Cart(Cart) = "cart",
    Metrics(CustomerMetrics) = "metrics",
    Status(CustomerStatus) = "status",
    Abandoned(AbandonedCart) = "abandoned_cart",
}

/// The scalar part of a static type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Str,
    Num,
    Money,
    Bool,
    Date,
    DateTime,
    /// A custom attribute: checked when applied.
    Any,
    Null,
    Obj(ObjKind),
}

/// A static type: a kind, possibly a (flattened) list of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Ty {
    pub(crate) kind: Kind,
    pub(crate) list: bool,
}

impl Ty {
    pub(crate) const fn one(kind: Kind) -> Self {
        Self { kind, list: false }
    }
    pub(crate) const fn many(kind: Kind) -> Self {
        Self { kind, list: true }
    }
    pub(crate) fn with_list(self, list: bool) -> Self {
        Self {
            kind: self.kind,
            list,
        }
    }
    pub(crate) fn name(self) -> String {
        let k = match self.kind {
            Kind::Str => "string",
            Kind::Num => "number",
            Kind::Money => "money",
            Kind::Bool => "bool",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::Any => "attribute",
            Kind::Null => "null",
            Kind::Obj(o) => o.name(),
        };
        if self.list {
            format!("list of {k}")
        } else {
            k.to_owned()
        }
    }
}

const STR: Ty = Ty::one(Kind::Str);
const NUM: Ty = Ty::one(Kind::Num);
const MONEY: Ty = Ty::one(Kind::Money);
const BOOL: Ty = Ty::one(Kind::Bool);
const DATE: Ty = Ty::one(Kind::Date);
const DT: Ty = Ty::one(Kind::DateTime);
const STRS: Ty = Ty::many(Kind::Str);
const fn obj(k: ObjKind) -> Ty {
    Ty::one(Kind::Obj(k))
}
const fn objs(k: ObjKind) -> Ty {
    Ty::many(Kind::Obj(k))
}

/// One readable field.
pub(crate) struct FieldDef<T: 'static> {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) get: for<'a> fn(&'a T) -> Value<'a>,
}

macro_rules! fields {
    ($table:ident: $t:ty { $($f:literal : $ty:expr => |$x:ident| $body:expr),* $(,)? }) => {
        static $table: &[FieldDef<$t>] = &[
            $(FieldDef { name: $f, ty: $ty, get: |$x: &$t| $body }),*
        ];
    };
}

fields!(CUSTOMER: Customer {
    "id": STR => |c| b(&c.source.id),
    "system": STR => |c| b(&c.source.system),
    "email": STR => |c| s(c.email.as_ref().map(cartograph_model::EmailAddress::as_str)),
    "email_normalized": STR => |c| s(c.email.as_ref().map(cartograph_model::EmailAddress::normalized)),
    "phone": STR => |c| s(c.phone.as_deref()),
    "first_name": STR => |c| s(c.first_name.as_deref()),
    "last_name": STR => |c| s(c.last_name.as_deref()),
    "company": STR => |c| s(c.company.as_deref()),
    "date_of_birth": DATE => |c| c.date_of_birth.map_or(Value::Null, Value::Date),
    "addresses": objs(ObjKind::Address) => |c| Value::Slice(Slice::Addresses(&c.addresses)),
    "primary_address": obj(ObjKind::Address) => |c| c.primary_address().map_or(Value::Null, |a| Value::Obj(Obj::Address(a))),
    "customer_group_ids": STRS => |c| strs(&c.customer_group_ids),
    "tags": STRS => |c| strs(&c.tags),
    "channel": STR => |c| s(c.channel.as_deref()),
    "is_guest": BOOL => |c| Value::Bool(c.is_guest),
    "email_consent": STR => |c| b(consent(c.consent.email.state)),
    "sms_consent": STR => |c| b(consent(c.consent.sms.state)),
    "email_consent_updated_at": DT => |c| t(c.consent.email.updated_at),
    "created_at": DT => |c| t(c.created_at),
    "updated_at": DT => |c| t(c.updated_at),
});

fn consent(state: cartograph_model::ConsentState) -> &'static str {
    use cartograph_model::ConsentState as C;
    match state {
        C::Subscribed => "subscribed",
        C::Unsubscribed => "unsubscribed",
        C::Pending => "pending",
        C::NotSet => "not_set",
    }
}

fn payment(p: cartograph_model::PaymentStatus) -> &'static str {
    use cartograph_model::PaymentStatus as P;
    match p {
        P::Unknown => "unknown",
        P::Pending => "pending",
        P::Authorized => "authorized",
        P::Paid => "paid",
        P::PartiallyRefunded => "partially_refunded",
        P::Refunded => "refunded",
        P::Failed => "failed",
        P::Voided => "voided",
    }
}

fn fulfillment(p: cartograph_model::FulfillmentStatus) -> &'static str {
    use cartograph_model::FulfillmentStatus as F;
    match p {
        F::Unknown => "unknown",
        F::Unfulfilled => "unfulfilled",
        F::PartiallyFulfilled => "partially_fulfilled",
        F::Fulfilled => "fulfilled",
        F::Delivered => "delivered",
        F::Returned => "returned",
    }
}

fields!(ORDER: Order {
    "id": STR => |o| b(&o.source.id),
    "system": STR => |o| b(&o.source.system),
    "key": STR => |o| {
        let mut key = super::eval::spare_string(0);
        crate::metrics::write_source_key(&mut key, &o.source);
        Value::Str(Cow::Owned(key))
    },
    "number": STR => |o| s(o.number.as_deref()),
    "customer_id": STR => |o| s(o.customer.as_ref().map(|c| c.id.as_str())),
    "email": STR => |o| s(o.email.as_ref().map(cartograph_model::EmailAddress::as_str)),
    "status": STR => |o| b(o.status.as_str()),
    "raw_status": STR => |o| s(o.raw_status.label.as_deref()),
    "raw_status_id": STR => |o| s(o.raw_status.id.as_deref()),
    "payment_status": STR => |o| b(payment(o.payment_status)),
    "fulfillment_status": STR => |o| b(fulfillment(o.fulfillment_status)),
    "currency": STR => |o| b(o.currency.code()),
    "subtotal": MONEY => |o| Value::Money(o.subtotal),
    "discount": MONEY => |o| Value::Money(o.discount),
    "tax": MONEY => |o| Value::Money(o.tax),
    "shipping": MONEY => |o| Value::Money(o.shipping),
    "total": MONEY => |o| Value::Money(o.total),
    "coupons": objs(ObjKind::Coupon) => |o| Value::Slice(Slice::Coupons(&o.coupons)),
    "billing_address": obj(ObjKind::Address) => |o| o.billing_address.as_ref().map_or(Value::Null, |a| Value::Obj(Obj::Address(a))),
    "shipping_addresses": objs(ObjKind::Address) => |o| Value::Slice(Slice::Addresses(&o.shipping_addresses)),
    "channel": STR => |o| s(o.channel.as_deref()),
    "line_items": objs(ObjKind::LineItem) => |o| Value::Slice(Slice::LineItems(&o.line_items)),
    "created_at": DT => |o| Value::DateTime(o.created_at),
    "updated_at": DT => |o| t(o.updated_at),
    "paid_at": DT => |o| t(o.paid_at),
    "shipped_at": DT => |o| t(o.shipped_at),
    "is_archived": BOOL => |o| Value::Bool(o.is_archived),
    "is_revenue": BOOL => |o| Value::Bool(o.is_revenue()),
});

fields!(LINE_ITEM: LineItem {
    "id": STR => |l| b(&l.id),
    "sku": STR => |l| s(l.sku.as_deref()),
    "product_id": STR => |l| s(l.product_id.as_deref()),
    "variant_id": STR => |l| s(l.variant_id.as_deref()),
    "name": STR => |l| b(&l.name),
    "quantity": NUM => |l| Value::Num(l.quantity),
    "unit_price": MONEY => |l| Value::Money(l.unit_price),
    "total": MONEY => |l| Value::Money(l.total),
    "discount": MONEY => |l| m(l.discount),
    "tax": MONEY => |l| m(l.tax),
    "categories": STRS => |l| strs(&l.categories),
    "category": STR => |l| s(l.categories.last().map(String::as_str)),
    "brand": STR => |l| s(l.brand.as_deref()),
    "image_url": STR => |l| s(l.image_url.as_deref()),
    "product_url": STR => |l| s(l.product_url.as_deref()),
});

fields!(ADDRESS: Address {
    "first_name": STR => |a| s(a.first_name.as_deref()),
    "last_name": STR => |a| s(a.last_name.as_deref()),
    "company": STR => |a| s(a.company.as_deref()),
    "line1": STR => |a| s(a.line1.as_deref()),
    "line2": STR => |a| s(a.line2.as_deref()),
    "city": STR => |a| s(a.city.as_deref()),
    "region": STR => |a| s(a.region.as_deref()),
    "region_code": STR => |a| s(a.region_code.as_deref()),
    "postcode": STR => |a| s(a.postcode.as_deref()),
    "country_code": STR => |a| s(a.country_code.as_deref()),
    "country": STR => |a| s(a.country.as_deref()),
    "phone": STR => |a| s(a.phone.as_deref()),
});

fields!(COUPON: Coupon {
    "code": STR => |c| b(&c.code),
    "amount": MONEY => |c| m(c.amount),
});

fields!(REFUND: Refund {
    "id": STR => |r| b(&r.source.id),
    "order_id": STR => |r| b(&r.order.id),
    "amount": MONEY => |r| Value::Money(r.amount),
    "reason": STR => |r| s(r.reason.as_deref()),
    "created_at": DT => |r| Value::DateTime(r.created_at),
    "item_count": NUM => |r| num(r.items.len() as u64),
});

fields!(PRODUCT: Product {
    "id": STR => |p| b(&p.source.id),
    "system": STR => |p| b(&p.source.system),
    "name": STR => |p| b(&p.name),
    "sku": STR => |p| s(p.sku.as_deref()),
    "description": STR => |p| s(p.description.as_deref()),
    "price": MONEY => |p| m(p.price),
    "sale_price": MONEY => |p| m(p.sale_price),
    "category_ids": STRS => |p| strs(&p.category_ids),
    "brand_id": STR => |p| s(p.brand_id.as_deref()),
    "inventory": NUM => |p| p.inventory.map_or(Value::Null, |i| Value::Num(Decimal::from(i))),
    "is_visible": BOOL => |p| Value::Bool(p.is_visible),
    "url": STR => |p| s(p.url.as_deref()),
    "image_url": STR => |p| s(p.image_url.as_deref()),
    "created_at": DT => |p| t(p.created_at),
    "updated_at": DT => |p| t(p.updated_at),
});

fields!(CART: Cart {
    "id": STR => |c| b(&c.source.id),
    "email": STR => |c| s(c.email.as_ref().map(cartograph_model::EmailAddress::as_str)),
    "customer_id": STR => |c| s(c.customer.as_ref().map(|r| r.id.as_str())),
    "items": objs(ObjKind::LineItem) => |c| Value::Slice(Slice::LineItems(&c.items)),
    "value": MONEY => |c| Value::Money(c.value),
    "recovery_url": STR => |c| s(c.recovery_url.as_deref()),
    "channel": STR => |c| s(c.channel.as_deref()),
    "created_at": DT => |c| t(c.created_at),
    "updated_at": DT => |c| t(c.updated_at),
    "abandoned_at": DT => |c| t(c.abandoned_at),
    "converted_order_id": STR => |c| s(c.converted_order.as_ref().map(|r| r.id.as_str())),
});

fields!(METRICS: CustomerMetrics {
    "paid_order_count": NUM => |x| num(x.paid_order_count),
    "gross_revenue": MONEY => |x| Value::Money(x.gross_revenue),
    "refunded": MONEY => |x| Value::Money(x.refunded),
    "lifetime_value": MONEY => |x| Value::Money(x.lifetime_value),
    "average_order_value": MONEY => |x| m(x.average_order_value),
    "first_order_at": DT => |x| t(x.first_order_at),
    "last_order_at": DT => |x| t(x.last_order_at),
    "average_days_between_orders": NUM => |x| x.average_days_between_orders.map_or(Value::Null, Value::Num),
    "top_categories": STRS => |x| strs(&x.top_categories),
    "last_refund_at": DT => |x| t(x.last_refund_at),
    "last_cancelled_at": DT => |x| t(x.last_cancelled_at),
});

fields!(STATUS: CustomerStatus {
    "lifecycle": STR => |x| b(x.lifecycle.as_str()),
    "tier": STR => |x| s(x.tier.map(crate::metrics::ValueTier::as_str)),
    "rfm": STR => |x| x.rfm.map_or(Value::Null, |r| Value::Str(Cow::Owned(r.code()))),
    "rfm_recency": NUM => |x| x.rfm.map_or(Value::Null, |r| num(u64::from(r.recency))),
    "rfm_frequency": NUM => |x| x.rfm.map_or(Value::Null, |r| num(u64::from(r.frequency))),
    "rfm_monetary": NUM => |x| x.rfm.map_or(Value::Null, |r| num(u64::from(r.monetary))),
    "suppressed": BOOL => |x| Value::Bool(x.suppression.suppressed),
    "recent_refund": BOOL => |x| Value::Bool(x.suppression.recent_refund),
    "recent_cancellation": BOOL => |x| Value::Bool(x.suppression.recent_cancellation),
    "open_case": BOOL => |x| Value::Bool(x.suppression.open_case),
    "suppressed_until": DT => |x| t(x.suppression.until),
    "abandoned_cart": obj(ObjKind::Abandoned) => |x| x.abandoned_cart.as_ref().map_or(Value::Null, |a| Value::Obj(Obj::Abandoned(a))),
});

fields!(ABANDONED: AbandonedCart {
    "cart_id": STR => |a| b(&a.cart_id),
    "abandoned_at": DT => |a| Value::DateTime(a.abandoned_at),
    "value": MONEY => |a| Value::Money(a.value),
    "item_count": NUM => |a| num(a.item_count),
    "recovery_url": STR => |a| s(a.recovery_url.as_deref()),
});

fn find<T>(table: &'static [FieldDef<T>], name: &str) -> Option<&'static FieldDef<T>> {
    table.iter().find(|f| f.name == name)
}

/// Resolves `name` on an object kind.
pub(crate) fn field(kind: ObjKind, name: &str) -> Option<(Ty, Get)> {
    match kind {
        ObjKind::Customer => find(CUSTOMER, name).map(|f| (f.ty, Get::Customer(f.get))),
        ObjKind::Order => find(ORDER, name).map(|f| (f.ty, Get::Order(f.get))),
        ObjKind::LineItem => find(LINE_ITEM, name).map(|f| (f.ty, Get::LineItem(f.get))),
        ObjKind::Address => find(ADDRESS, name).map(|f| (f.ty, Get::Address(f.get))),
        ObjKind::Coupon => find(COUPON, name).map(|f| (f.ty, Get::Coupon(f.get))),
        ObjKind::Refund => find(REFUND, name).map(|f| (f.ty, Get::Refund(f.get))),
        ObjKind::Product => find(PRODUCT, name).map(|f| (f.ty, Get::Product(f.get))),
        ObjKind::Cart => find(CART, name).map(|f| (f.ty, Get::Cart(f.get))),
        ObjKind::Metrics => find(METRICS, name).map(|f| (f.ty, Get::Metrics(f.get))),
        ObjKind::Status => find(STATUS, name).map(|f| (f.ty, Get::Status(f.get))),
        ObjKind::Abandoned => find(ABANDONED, name).map(|f| (f.ty, Get::Abandoned(f.get))),
    }
}

/// The names readable on an object kind (for error messages and docs).
pub(crate) fn field_names(kind: ObjKind) -> Vec<&'static str> {
    fn names<T>(t: &'static [FieldDef<T>]) -> Vec<&'static str> {
        t.iter().map(|f| f.name).collect()
    }
    let mut out = match kind {
        ObjKind::Customer => names(CUSTOMER),
        ObjKind::Order => names(ORDER),
        ObjKind::LineItem => names(LINE_ITEM),
        ObjKind::Address => names(ADDRESS),
        ObjKind::Coupon => names(COUPON),
        ObjKind::Refund => names(REFUND),
        ObjKind::Product => names(PRODUCT),
        ObjKind::Cart => names(CART),
        ObjKind::Metrics => names(METRICS),
        ObjKind::Status => names(STATUS),
        ObjKind::Abandoned => names(ABANDONED),
    };
    if has_custom(kind) {
        out.push("custom[\"key\"]");
    }
    out
}

/// Whether the kind carries custom attributes.
pub(crate) fn has_custom(kind: ObjKind) -> bool {
    matches!(
        kind,
        ObjKind::Customer | ObjKind::Order | ObjKind::LineItem | ObjKind::Product
    )
}

/// The custom attributes of an object, if it has any.
pub(crate) fn custom<'a>(obj: &Obj<'a>) -> Option<&'a Attributes> {
    match obj {
        Obj::Customer(c) => Some(&c.custom),
        Obj::Order(o) => Some(&o.custom),
        Obj::LineItem(l) => Some(&l.custom),
        Obj::Product(p) => Some(&p.custom),
        _ => None,
    }
}
