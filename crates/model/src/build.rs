//! Constructors and builders for the canonical records, so a host (or a host's tests) can
//! build orders, line items and carts whose amounts add up without naming every field.
//!
//! Plain records (`Customer`, `Product`, `Variant`, `Refund`, `Address`) get a `new` with the
//! required parts; fill the rest with struct update syntax (`..Customer::new(source)`). Records
//! whose amounts derive from their lines get a checked path: [`LineItem::new`] computes the
//! line total, [`Order::builder`] the subtotal and total, [`Cart::with_items`] the cart value.
//! Amounts in another currency than the record's are an [`InvalidRecord`] naming the record
//! and the field, never a silent conversion.
//!
//! ```
//! use cartograph_model::{
//!     Currency, Customer, EmailAddress, LineItem, Money, Order, OrderStatus, RecordKind,
//!     SourceRef, Timestamp,
//! };
//!
//! let ada = Customer {
//!     email: EmailAddress::new("ada@example.com"),
//!     first_name: Some("Ada".into()),
//!     ..Customer::new(SourceRef::new("shop", RecordKind::Customer, "1"))
//! };
//! let line = LineItem::new("1-1", "Tea", 3.into(), Money::from_minor(450, Currency::USD))?;
//! let order = Order::builder(
//!     SourceRef::new("shop", RecordKind::Order, "100"),
//!     Currency::USD,
//!     Timestamp::parse_rfc3339("2026-03-01T10:00:00Z").expect("valid"),
//! )
//! .status(OrderStatus::Completed)
//! .customer(&ada)
//! .line_item(line)
//! .shipping(Money::from_minor(599, Currency::USD))
//! .build()?;
//! assert_eq!(order.subtotal, Money::from_minor(1350, Currency::USD));
//! assert_eq!(order.total, Money::from_minor(1949, Currency::USD));
//! assert_eq!(order.email, ada.email);
//! # Ok::<(), cartograph_model::InvalidRecord>(())
//! ```

use rust_decimal::Decimal;

use crate::cart::{Cart, CartState};
use crate::catalog::{Availability, Product, Variant};
use crate::common::{Address, AddressKind, AttributeValue, Attributes, EmailAddress, SourceRef};
use crate::currency::Currency;
use crate::customer::Customer;
use crate::money::{Money, MoneyError};
use crate::order::{
    Coupon, FulfillmentStatus, LineItem, Order, OrderStatus, PaymentStatus, RawStatus, Refund,
};
use crate::timestamp::Timestamp;

/// A record built from inconsistent parts: which record, which field, and the money error
/// (a currency other than the record's, or an amount out of range).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{record}: field {field}: {cause}")]
pub struct InvalidRecord {
    record: String,
    field: String,
    #[source]
    cause: MoneyError,
}

impl InvalidRecord {
    fn new(record: impl Into<String>, field: impl Into<String>, cause: MoneyError) -> Self {
        Self {
            record: record.into(),
            field: field.into(),
            cause,
        }
    }

    /// The record, e.g. `shop/order/100` or `line item 100-1`.
    pub fn record(&self) -> &str {
        &self.record
    }

    /// The field, e.g. `shipping` or `line_items[1].total`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The money error behind it.
    pub const fn cause(&self) -> &MoneyError {
        &self.cause
    }
}

/// `Ok` when `money` is in `currency`.
fn same_currency(
    record: &dyn std::fmt::Display,
    field: &str,
    money: &Money,
    currency: Currency,
) -> Result<(), InvalidRecord> {
    if money.currency() == currency {
        Ok(())
    } else {
        Err(InvalidRecord::new(
            record.to_string(),
            field,
            MoneyError::CurrencyMismatch {
                left: currency,
                right: money.currency(),
            },
        ))
    }
}

/// Checks every amount of `lines` is in `currency` and sums their totals.
fn lines_total(
    record: &dyn std::fmt::Display,
    field: &str,
    lines: &[LineItem],
    currency: Currency,
) -> Result<Money, InvalidRecord> {
    let mut sum = Money::zero(currency);
    for (i, line) in lines.iter().enumerate() {
        let amounts = [
            ("unit_price", Some(&line.unit_price)),
            ("total", Some(&line.total)),
            ("discount", line.discount.as_ref()),
            ("tax", line.tax.as_ref()),
        ];
        for (name, amount) in amounts {
            if let Some(amount) = amount {
                same_currency(record, &format!("{field}[{i}].{name}"), amount, currency)?;
            }
        }
        sum = sum.checked_add(&line.total).map_err(|e| {
            InvalidRecord::new(record.to_string(), format!("{field}[{i}].total"), e)
        })?;
    }
    Ok(sum)
}

impl LineItem {
    /// A line of `quantity` units of `name` at `unit_price` each; the total is
    /// `unit_price × quantity`, exactly. Product, SKU and the rest are `None`: set them with
    /// struct update syntax.
    ///
    /// # Errors
    /// [`InvalidRecord`] (field `total`) when the product does not fit the decimal range.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        quantity: Decimal,
        unit_price: Money,
    ) -> Result<Self, InvalidRecord> {
        let id = id.into();
        let total = unit_price
            .checked_mul(quantity)
            .map_err(|e| InvalidRecord::new(format!("line item {id}"), "total", e))?;
        Ok(Self {
            id,
            sku: None,
            product_id: None,
            variant_id: None,
            name: name.into(),
            quantity,
            unit_price,
            total,
            discount: None,
            tax: None,
            categories: Vec::new(),
            brand: None,
            image_url: None,
            product_url: None,
            custom: Attributes::new(),
        })
    }

    /// The line with the product's id, SKU, first variant and URL.
    #[must_use]
    pub fn for_product(mut self, product: &Product) -> Self {
        self.product_id = Some(product.source.id.clone());
        self.sku.clone_from(&product.sku);
        self.variant_id = product.variants.first().map(|v| v.id.clone());
        self.product_url.clone_from(&product.url);
        self
    }
}

impl Order {
    /// A builder for an order in `currency` placed at `created_at`: status `Pending`, no
    /// lines, zero amounts until given. [`OrderBuilder::build`] sums the subtotal from the
    /// line totals and the total as subtotal − discount + tax + shipping.
    pub fn builder(source: SourceRef, currency: Currency, created_at: Timestamp) -> OrderBuilder {
        OrderBuilder {
            order: Self {
                source,
                number: None,
                customer: None,
                email: None,
                status: OrderStatus::Pending,
                raw_status: RawStatus::default(),
                payment_status: PaymentStatus::default(),
                fulfillment_status: FulfillmentStatus::default(),
                currency,
                subtotal: Money::zero(currency),
                discount: Money::zero(currency),
                tax: Money::zero(currency),
                shipping: Money::zero(currency),
                total: Money::zero(currency),
                coupons: Vec::new(),
                billing_address: None,
                shipping_addresses: Vec::new(),
                channel: None,
                line_items: Vec::new(),
                created_at,
                updated_at: None,
                paid_at: None,
                shipped_at: None,
                is_archived: false,
                custom: Attributes::new(),
            },
        }
    }
}

/// Builds an [`Order`] whose subtotal and total follow from its parts (see
/// [`Order::builder`]). Set a total that differs (tax-inclusive prices, rounding the store
/// did) on the built order's public field.
#[derive(Debug, Clone)]
#[must_use]
pub struct OrderBuilder {
    order: Order,
}

impl OrderBuilder {
    /// The human-facing order number.
    pub fn number(mut self, number: impl Into<String>) -> Self {
        self.order.number = Some(number.into());
        self
    }

    /// The canonical status (default `Pending`).
    pub fn status(mut self, status: OrderStatus) -> Self {
        self.order.status = status;
        self
    }

    /// The vendor's own status id and label.
    pub fn raw_status(mut self, id: impl Into<String>, label: impl Into<String>) -> Self {
        self.order.raw_status = RawStatus {
            id: Some(id.into()),
            label: Some(label.into()),
        };
        self
    }

    /// The payment state (default `Unknown`).
    pub fn payment_status(mut self, status: PaymentStatus) -> Self {
        self.order.payment_status = status;
        self
    }

    /// The fulfilment state (default `Unknown`).
    pub fn fulfillment_status(mut self, status: FulfillmentStatus) -> Self {
        self.order.fulfillment_status = status;
        self
    }

    /// The buyer's account: sets `customer`, and `email` and the billing address from the
    /// customer when not given (yet).
    pub fn customer(mut self, customer: &Customer) -> Self {
        self.order.customer = Some(customer.source.clone());
        if self.order.email.is_none() {
            self.order.email.clone_from(&customer.email);
        }
        if self.order.billing_address.is_none() {
            self.order.billing_address = customer.primary_address().cloned();
        }
        self
    }

    /// The buyer's email (a guest order has an email and no customer).
    pub fn email(mut self, email: EmailAddress) -> Self {
        self.order.email = Some(email);
        self
    }

    /// Adds a line.
    pub fn line_item(mut self, line: LineItem) -> Self {
        self.order.line_items.push(line);
        self
    }

    /// Adds lines.
    pub fn line_items(mut self, lines: impl IntoIterator<Item = LineItem>) -> Self {
        self.order.line_items.extend(lines);
        self
    }

    /// The order-level discount (subtracted from the total).
    pub fn discount(mut self, discount: Money) -> Self {
        self.order.discount = discount;
        self
    }

    /// The tax (added to the total).
    pub fn tax(mut self, tax: Money) -> Self {
        self.order.tax = tax;
        self
    }

    /// Shipping and handling (added to the total).
    pub fn shipping(mut self, shipping: Money) -> Self {
        self.order.shipping = shipping;
        self
    }

    /// Adds a coupon (its amount is informational: give the discount with
    /// [`OrderBuilder::discount`]).
    pub fn coupon(mut self, coupon: Coupon) -> Self {
        self.order.coupons.push(coupon);
        self
    }

    /// The billing address.
    pub fn billing_address(mut self, address: Address) -> Self {
        self.order.billing_address = Some(address);
        self
    }

    /// Adds a shipping address (one per consignment).
    pub fn shipping_address(mut self, address: Address) -> Self {
        self.order.shipping_addresses.push(address);
        self
    }

    /// The sales channel or store.
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.order.channel = Some(channel.into());
        self
    }

    /// When the order last changed.
    pub fn updated_at(mut self, at: Timestamp) -> Self {
        self.order.updated_at = Some(at);
        self
    }

    /// When it was paid.
    pub fn paid_at(mut self, at: Timestamp) -> Self {
        self.order.paid_at = Some(at);
        self
    }

    /// When it shipped.
    pub fn shipped_at(mut self, at: Timestamp) -> Self {
        self.order.shipped_at = Some(at);
        self
    }

    /// Sets a custom attribute.
    pub fn custom(mut self, name: impl Into<String>, value: AttributeValue) -> Self {
        self.order.custom.insert(name.into(), value);
        self
    }

    /// The order, its subtotal the sum of the line totals and its total
    /// subtotal − discount + tax + shipping.
    ///
    /// # Errors
    /// [`InvalidRecord`] naming the order and the field when an amount is in another
    /// currency than the order's (e.g. `line_items[1].unit_price`) or out of range.
    pub fn build(self) -> Result<Order, InvalidRecord> {
        let mut order = self.order;
        let currency = order.currency;
        let record = order.source.clone();
        for (field, amount) in [
            ("discount", &order.discount),
            ("tax", &order.tax),
            ("shipping", &order.shipping),
        ] {
            same_currency(&record, field, amount, currency)?;
        }
        order.subtotal = lines_total(&record, "line_items", &order.line_items, currency)?;
        let total = order
            .subtotal
            .checked_sub(&order.discount)
            .and_then(|t| t.checked_add(&order.tax))
            .and_then(|t| t.checked_add(&order.shipping))
            .map_err(|e| InvalidRecord::new(record.to_string(), "total", e))?;
        order.total = total;
        Ok(order)
    }
}

impl Cart {
    /// An active, empty cart in `currency` (value zero); add items with [`Cart::with_items`]
    /// and the rest with struct update syntax.
    pub fn new(source: SourceRef, currency: Currency) -> Self {
        Self {
            source,
            customer: None,
            email: None,
            items: Vec::new(),
            value: Money::zero(currency),
            state: CartState::Active,
            recovery_url: None,
            channel: None,
            created_at: None,
            updated_at: None,
            abandoned_at: None,
            converted_order: None,
        }
    }

    /// The cart with `items` added and its value the sum of all item totals.
    ///
    /// # Errors
    /// [`InvalidRecord`] naming the cart and the item field in another currency than the
    /// cart's value.
    pub fn with_items(
        mut self,
        items: impl IntoIterator<Item = LineItem>,
    ) -> Result<Self, InvalidRecord> {
        self.items.extend(items);
        self.value = lines_total(&self.source, "items", &self.items, self.value.currency())?;
        Ok(self)
    }
}

impl Product {
    /// A visible, available product with only a source reference and a name; fill the rest
    /// with struct update syntax.
    pub fn new(source: SourceRef, name: impl Into<String>) -> Self {
        Self {
            source,
            name: name.into(),
            sku: None,
            description: None,
            price: None,
            sale_price: None,
            category_ids: Vec::new(),
            brand_id: None,
            variants: Vec::new(),
            inventory: None,
            availability: Availability::Available,
            is_visible: true,
            url: None,
            image_url: None,
            created_at: None,
            updated_at: None,
            custom: Attributes::new(),
        }
    }
}

impl Variant {
    /// A variant with only an id (price, stock and options unset).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            sku: None,
            price: None,
            inventory: None,
            options: std::collections::BTreeMap::new(),
        }
    }
}

impl Refund {
    /// A refund of `amount` on `order` (not itemized, no reason).
    pub fn new(source: SourceRef, order: SourceRef, amount: Money, created_at: Timestamp) -> Self {
        Self {
            source,
            order,
            amount,
            items: Vec::new(),
            reason: None,
            created_at,
        }
    }
}

impl Address {
    /// An empty address of `kind`; fill the lines with struct update syntax.
    pub fn new(kind: AddressKind) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::RecordKind;

    fn usd(cents: i64) -> Money {
        Money::from_minor(cents, Currency::USD)
    }

    fn at() -> Timestamp {
        Timestamp::parse_rfc3339("2026-03-01T10:00:00Z").expect("valid")
    }

    fn order_ref() -> SourceRef {
        SourceRef::new("shop", RecordKind::Order, "100")
    }

    #[test]
    fn line_total_is_exact_unit_price_times_quantity() {
        let line = LineItem::new("l1", "Flour", Decimal::new(25, 1), usd(199)).expect("fits");
        assert_eq!(line.total, Money::new(Decimal::new(4975, 3), Currency::USD));
        assert_eq!(line.total.to_decimal_string(2), "4.98");
        assert_eq!(line.quantity, Decimal::new(25, 1));
    }

    #[test]
    fn line_total_overflow_names_the_line_and_field() {
        let err = LineItem::new(
            "l9",
            "Gold",
            Decimal::MAX,
            Money::new(Decimal::MAX, Currency::USD),
        )
        .expect_err("overflows");
        assert_eq!(err.record(), "line item l9");
        assert_eq!(err.field(), "total");
        assert_eq!(err.cause(), &MoneyError::Overflow);
    }

    #[test]
    fn order_total_is_subtotal_minus_discount_plus_tax_and_shipping() {
        let order = Order::builder(order_ref(), Currency::USD, at())
            .status(OrderStatus::Shipped)
            .line_item(LineItem::new("a", "A", 2.into(), usd(1000)).expect("fits"))
            .line_item(LineItem::new("b", "B", 1.into(), usd(250)).expect("fits"))
            .discount(usd(300))
            .tax(usd(181))
            .shipping(usd(599))
            .build()
            .expect("consistent");
        assert_eq!(order.subtotal, usd(2250));
        assert_eq!(order.total, usd(2250 - 300 + 181 + 599));
        assert_eq!(order.status, OrderStatus::Shipped);
        assert_eq!(order.line_items.len(), 2);
        assert!(order.is_revenue());
    }

    #[test]
    fn order_takes_email_and_billing_address_from_the_customer_unless_given() {
        let customer = Customer {
            email: EmailAddress::new("ada@example.com"),
            addresses: vec![Address {
                city: Some("London".into()),
                ..Address::new(AddressKind::Billing)
            }],
            ..Customer::new(SourceRef::new("shop", RecordKind::Customer, "7"))
        };
        let order = Order::builder(order_ref(), Currency::USD, at())
            .customer(&customer)
            .build()
            .expect("consistent");
        assert_eq!(order.customer, Some(customer.source.clone()));
        assert_eq!(order.email, customer.email);
        assert_eq!(
            order.billing_address.and_then(|a| a.city).as_deref(),
            Some("London")
        );
        let given = EmailAddress::new("billing@example.com");
        let order = Order::builder(order_ref(), Currency::USD, at())
            .email(given.clone().expect("non-blank"))
            .customer(&customer)
            .build()
            .expect("consistent");
        assert_eq!(order.email, given);
    }

    #[test]
    fn order_with_a_line_in_another_currency_names_order_and_field() {
        let err = Order::builder(order_ref(), Currency::USD, at())
            .line_item(LineItem::new("a", "A", 1.into(), usd(100)).expect("fits"))
            .line_item(
                LineItem::new("b", "B", 1.into(), Money::from_minor(100, Currency::EUR))
                    .expect("fits"),
            )
            .build()
            .expect_err("mixed currencies");
        assert_eq!(err.record(), "shop/order/100");
        assert_eq!(err.field(), "line_items[1].unit_price");
        assert_eq!(
            err.to_string(),
            "shop/order/100: field line_items[1].unit_price: currency mismatch: USD and EUR"
        );
    }

    #[test]
    fn order_shipping_in_another_currency_is_refused() {
        let err = Order::builder(order_ref(), Currency::USD, at())
            .shipping(Money::from_minor(500, Currency::GBP))
            .build()
            .expect_err("mixed currencies");
        assert_eq!(err.field(), "shipping");
    }

    #[test]
    fn cart_value_is_the_sum_of_its_items() {
        let cart = Cart::new(
            SourceRef::new("shop", RecordKind::Cart, "c1"),
            Currency::USD,
        )
        .with_items([
            LineItem::new("1", "A", 3.into(), usd(333)).expect("fits"),
            LineItem::new("2", "B", 1.into(), usd(1)).expect("fits"),
        ])
        .expect("consistent");
        assert_eq!(cart.value, usd(1000));
        assert_eq!(cart.state, CartState::Active);
        let err = cart
            .with_items([
                LineItem::new("3", "C", 1.into(), Money::from_minor(1, Currency::EUR))
                    .expect("fits"),
            ])
            .expect_err("mixed currencies");
        assert_eq!(err.record(), "shop/cart/c1");
        assert_eq!(err.field(), "items[2].unit_price");
    }

    #[test]
    fn line_for_product_copies_its_identifiers() {
        let product = Product {
            sku: Some("SKU-1".into()),
            url: Some("/p/1".into()),
            variants: vec![Variant::new("1-v1")],
            ..Product::new(SourceRef::new("shop", RecordKind::Product, "1"), "Tea")
        };
        let line = LineItem::new("l", "Tea", 1.into(), usd(450))
            .expect("fits")
            .for_product(&product);
        assert_eq!(line.product_id.as_deref(), Some("1"));
        assert_eq!(line.sku.as_deref(), Some("SKU-1"));
        assert_eq!(line.variant_id.as_deref(), Some("1-v1"));
        assert_eq!(line.product_url.as_deref(), Some("/p/1"));
        assert!(product.is_visible);
        assert_eq!(product.availability, Availability::Available);
    }
}
