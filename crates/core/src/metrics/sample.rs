//! A small deterministic generator of canonical orders, for benches, examples and tests.
//!
//! It is not a realistic data set: it gives every bench the same reproducible shape
//! (a few line items per order, several categories, a mix of statuses and currencies).

use cartograph_model::{
    AttributeValue, Attributes, Currency, Decimal, EmailAddress, LineItem, Money, Order,
    OrderStatus, RawStatus, RecordKind, SourceRef, Timestamp,
};

/// The system name on every sample record's `SourceRef`.
pub const SAMPLE_SYSTEM: &str = "shop";

/// SplitMix64: tiny, fast, deterministic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const CATEGORIES: [&str; 8] = [
    "Shoes", "Shirts", "Bags", "Hats", "Socks", "Jackets", "Gifts", "Outlet",
];
const STATUSES: [OrderStatus; 8] = [
    OrderStatus::Completed,
    OrderStatus::Shipped,
    OrderStatus::AwaitingFulfillment,
    OrderStatus::Completed,
    OrderStatus::Delivered,
    OrderStatus::Cancelled,
    OrderStatus::Refunded,
    OrderStatus::Pending,
];

/// `count` orders spread over `customers` customers (ids `0..customers`), five line items
/// each, seeded by `seed`. Order `i` has id `i`; one order in ten is in EUR, the rest USD.
pub fn orders(count: usize, customers: usize, seed: u64) -> Vec<Order> {
    let mut rng = Rng::new(seed);
    (0..count).map(|i| order(&mut rng, i, customers)).collect()
}

/// One generated order with id `i`.
pub fn order(rng: &mut Rng, i: usize, customers: usize) -> Order {
    let customer = rng.below(customers as u64);
    let currency = if rng.below(10) == 0 {
        Currency::EUR
    } else {
        Currency::USD
    };
    let created = 1_700_000_000 + i64::try_from(rng.below(40_000_000)).unwrap_or(0);
    let created_at = Timestamp::from_unix_seconds(created).unwrap_or(Timestamp::UNIX_EPOCH);
    let status = STATUSES[usize::try_from(rng.below(8)).unwrap_or(0)];
    let mut subtotal = 0_i64;
    let line_items: Vec<LineItem> = (0..5)
        .map(|n| {
            let qty = 1 + rng.below(3);
            let cents = 500 + i64::try_from(rng.below(20_000)).unwrap_or(0);
            let total = cents * i64::try_from(qty).unwrap_or(1);
            subtotal += total;
            let cat = CATEGORIES[usize::try_from(rng.below(8)).unwrap_or(0)];
            LineItem {
                id: format!("{i}-{n}"),
                sku: Some(format!("SKU-{}", rng.below(500))),
                product_id: Some(rng.below(500).to_string()),
                variant_id: None,
                name: format!("{cat} item {n}"),
                quantity: Decimal::from(qty),
                unit_price: Money::from_minor(cents, currency),
                total: Money::from_minor(total, currency),
                discount: None,
                tax: None,
                categories: vec!["All".to_owned(), cat.to_owned()],
                brand: Some("Acme".to_owned()),
                image_url: None,
                product_url: None,
                custom: Attributes::new(),
            }
        })
        .collect();
    let shipping = 499;
    let mut custom = Attributes::new();
    if i % 4 == 0 {
        custom.insert(
            "gift_message".to_owned(),
            AttributeValue::String("Happy birthday!".to_owned()),
        );
    }
    Order {
        source: SourceRef::new(SAMPLE_SYSTEM, RecordKind::Order, i.to_string()),
        number: Some(format!("{}", 100_000 + i)),
        customer: Some(SourceRef::new(
            SAMPLE_SYSTEM,
            RecordKind::Customer,
            customer.to_string(),
        )),
        email: EmailAddress::new(format!("customer{customer}@example.com")),
        status,
        raw_status: RawStatus::default(),
        payment_status: cartograph_model::PaymentStatus::Paid,
        fulfillment_status: cartograph_model::FulfillmentStatus::Unknown,
        currency,
        subtotal: Money::from_minor(subtotal, currency),
        discount: Money::zero(currency),
        tax: Money::from_minor(subtotal / 10, currency),
        shipping: Money::from_minor(shipping, currency),
        total: Money::from_minor(subtotal + subtotal / 10 + shipping, currency),
        coupons: Vec::new(),
        billing_address: None,
        shipping_addresses: Vec::new(),
        channel: Some("1".to_owned()),
        line_items,
        created_at,
        updated_at: None,
        paid_at: Some(created_at),
        shipped_at: None,
        is_archived: false,
        custom,
    }
}
