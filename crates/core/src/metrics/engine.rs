//! The incremental metrics engine.

use std::collections::BTreeMap;

use cartograph_model::{CommerceEvent, Decimal, Order, Refund, Timestamp};
use rustc_hash::FxHashMap;

use super::{
    CustomerMetrics, MetricsConfig, MetricsError, average, average_gap, cancelled_time,
    customer_key, fixed, top_names, version_time,
};

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The state changed (or was confirmed) with this version.
    Applied,
    /// The event carried an older version than the one stored.
    Stale,
    /// The event does not affect metrics.
    Ignored,
}

#[derive(Debug, Clone)]
struct OrderEntry {
    customer: Option<u32>,
    version: Timestamp,
    paid: bool,
    created_at: Timestamp,
    cancelled_at: Option<Timestamp>,
    total: Decimal,
    categories: Categories,
}

#[derive(Debug, Clone, Default)]
struct OrderSlot {
    entry: Option<OrderEntry>,
    /// Refund ids attached to this order.
    refunds: Vec<u32>,
}

#[derive(Debug, Clone)]
struct RefundEntry {
    order: u32,
    amount: Decimal,
    at: Timestamp,
}

#[derive(Debug, Clone, Default)]
struct CustomerState {
    paid: u64,
    gross: Decimal,
    refunded: Decimal,
    paid_dates: BTreeMap<Timestamp, u32>,
    cancel_dates: BTreeMap<Timestamp, u32>,
    refund_dates: BTreeMap<Timestamp, u32>,
    categories: Vec<(u32, Decimal)>,
}

fn bump(set: &mut BTreeMap<Timestamp, u32>, at: Timestamp, add: bool) {
    if add {
        *set.entry(at).or_insert(0) += 1;
    } else if let Some(n) = set.get_mut(&at) {
        *n -= 1;
        if *n == 0 {
            set.remove(&at);
        }
    }
}

/// String interner: stable small ids for customer, order, refund and category keys.
///
/// Keys live end to end in one arena string; the map goes from a 64-bit hash of the key to
/// its id (keys are compared on every hit, and the rare different key with a taken hash
/// goes to `collisions`). So a new key costs no allocation of its own, and growing the map
/// never rehashes strings.
#[derive(Debug, Clone, Default)]
struct Interner {
    by_hash: FxHashMap<u64, u32>,
    collisions: FxHashMap<Box<str>, u32>,
    arena: String,
    ends: Vec<usize>,
}

fn key_hash(key: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let h = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(key);
    // Tests keep 16 hash values only, so every engine test (the incremental == recompute
    // property included) runs through the collision path too.
    if cfg!(test) { h & 0xF } else { h }
}

impl Interner {
    fn push(&mut self, key: &str) -> u32 {
        let id = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        self.arena.push_str(key);
        self.ends.push(self.arena.len());
        id
    }

    fn id(&mut self, key: &str) -> u32 {
        let h = key_hash(key);
        if let Some(&id) = self.by_hash.get(&h) {
            if self.name(id) == key {
                return id;
            }
            if let Some(&id) = self.collisions.get(key) {
                return id;
            }
            let id = self.push(key);
            self.collisions.insert(key.into(), id);
            return id;
        }
        let id = self.push(key);
        self.by_hash.insert(h, id);
        id
    }

    fn get(&self, key: &str) -> Option<u32> {
        let id = *self.by_hash.get(&key_hash(key))?;
        if self.name(id) == key {
            Some(id)
        } else {
            self.collisions.get(key).copied()
        }
    }

    fn name(&self, id: u32) -> &str {
        let i = id as usize;
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.arena.get(start..end).unwrap_or("")
    }
}

/// Category quantities of one order: up to five inline (an order's distinct categories
/// usually fit), the rest spilled.
#[derive(Debug, Clone, Default)]
struct Categories {
    len: u8,
    inline: [(u32, Decimal); 5],
    spill: Vec<(u32, Decimal)>,
}

impl Categories {
    fn iter(&self) -> impl Iterator<Item = &(u32, Decimal)> {
        self.inline[..usize::from(self.len)]
            .iter()
            .chain(&self.spill)
    }

    /// Adds `qty` to category `id`.
    fn add(&mut self, id: u32, qty: Decimal) {
        let n = usize::from(self.len);
        if let Some((_, q)) = self.inline[..n]
            .iter_mut()
            .chain(self.spill.iter_mut())
            .find(|(c, _)| *c == id)
        {
            *q += qty;
        } else if n < self.inline.len() {
            self.inline[n] = (id, qty);
            self.len += 1;
        } else {
            self.spill.push((id, qty));
        }
    }
}

/// Incremental customer metrics over a stream of orders and refunds.
///
/// ```
/// use cartograph_core::metrics::{MetricsConfig, MetricsEngine, Rates, sample};
/// use cartograph_model::{Currency, Decimal};
///
/// let rates = Rates::new(Currency::USD).with_rate(Currency::EUR, Decimal::new(108, 2));
/// let mut engine = MetricsEngine::new(MetricsConfig::new(rates));
/// for order in sample::orders(100, 10, 7) {
///     engine.upsert_order(&order)?;
/// }
/// let orders = sample::orders(100, 10, 7);
/// let key = cartograph_core::metrics::customer_key(&orders[0]).unwrap();
/// let m = engine.metrics(&key).unwrap();
/// let paid = orders
///     .iter()
///     .filter(|o| o.is_revenue())
///     .filter(|o| cartograph_core::metrics::customer_key(o).as_deref() == Some(key.as_str()))
///     .count();
/// assert_eq!(m.paid_order_count, paid as u64);
/// # Ok::<(), cartograph_core::metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MetricsEngine {
    config: MetricsConfig,
    customer_keys: Interner,
    customers: Vec<CustomerState>,
    order_keys: Interner,
    orders: Vec<OrderSlot>,
    refund_keys: Interner,
    refunds: Vec<Option<RefundEntry>>,
    categories: Interner,
    key_buf: String,
    order_buf: String,
}

impl MetricsEngine {
    /// An empty engine.
    pub fn new(config: MetricsConfig) -> Self {
        Self {
            config,
            customer_keys: Interner::default(),
            customers: Vec::new(),
            order_keys: Interner::default(),
            orders: Vec::new(),
            refund_keys: Interner::default(),
            refunds: Vec::new(),
            categories: Interner::default(),
            key_buf: String::new(),
            order_buf: String::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MetricsConfig {
        &self.config
    }

    /// Applies a commerce event: orders and refunds update metrics, the rest is ignored.
    pub fn apply(&mut self, event: &CommerceEvent) -> Result<Outcome, MetricsError> {
        use cartograph_model::CommerceEventKind as K;
        match &event.kind {
            K::OrderPlaced { order }
            | K::OrderUpdated { order }
            | K::OrderStatusChanged { order, .. }
            | K::OrderCancelled { order } => self.upsert_order(order),
            K::OrderRefunded { refund, order } => {
                if let Some(order) = order {
                    self.upsert_order(order)?;
                }
                self.upsert_refund(refund)
            }
            _ => Ok(Outcome::Ignored),
        }
    }

    /// Adds or replaces an order owned by its default [`customer_key`](super::customer_key).
    pub fn upsert_order(&mut self, order: &Order) -> Result<Outcome, MetricsError> {
        // Reuse one buffer for the owner key: no allocation per order.
        let mut buf = std::mem::take(&mut self.key_buf);
        buf.clear();
        let has_key = if let Some(c) = &order.customer {
            buf.push_str(&c.system);
            buf.push('/');
            buf.push_str(c.kind.as_str());
            buf.push('/');
            buf.push_str(&c.id);
            true
        } else if let Some(e) = &order.email {
            buf.push_str("email:");
            buf.push_str(e.normalized());
            true
        } else {
            false
        };
        debug_assert_eq!(
            has_key.then_some(buf.as_str()),
            customer_key(order).as_deref()
        );
        let out = self.upsert_order_for(has_key.then_some(buf.as_str()), order);
        self.key_buf = buf;
        out
    }

    /// Adds or replaces an order owned by `customer` (a key from identity resolution);
    /// `None` keeps the order unattributed.
    pub fn upsert_order_for(
        &mut self,
        customer: Option<&str>,
        order: &Order,
    ) -> Result<Outcome, MetricsError> {
        // The order key goes through a reused buffer: no allocation per order.
        let mut order_key = std::mem::take(&mut self.order_buf);
        super::write_source_key(&mut order_key, &order.source);
        let out = self.upsert_keyed(customer, &order_key, order);
        self.order_buf = order_key;
        out
    }

    fn upsert_keyed(
        &mut self,
        customer: Option<&str>,
        order_key: &str,
        order: &Order,
    ) -> Result<Outcome, MetricsError> {
        let version = version_time(order);
        // One key lookup per order: a key interned for an order that then fails to convert
        // keeps an empty slot, which no metric reads.
        let oid = self.order_id(order_key);
        if let Some(existing) = &self.orders[oid as usize].entry {
            if version < existing.version {
                return Ok(Outcome::Stale);
            }
        }
        let paid = order.is_revenue();
        let total = if paid {
            self.config
                .rates
                .to_base(&order.total)
                .map(|m| m.round_to_minor())
                .map_err(|source| MetricsError::Conversion {
                    record: order_key.to_owned(),
                    field: "total",
                    source,
                })?
                .amount()
        } else {
            Decimal::ZERO
        };
        let mut categories = Categories::default();
        if paid {
            for line in &order.line_items {
                if let Some(cat) = line.categories.last() {
                    categories.add(self.categories.id(cat), line.quantity);
                }
            }
        }
        let customer = customer.map(|k| self.customer_id(k));
        let entry = OrderEntry {
            customer,
            version,
            paid,
            created_at: order.created_at,
            cancelled_at: order.status.is_cancelled().then(|| cancelled_time(order)),
            total,
            categories,
        };
        self.contribute(oid, false);
        self.orders[oid as usize].entry = Some(entry);
        self.contribute(oid, true);
        Ok(Outcome::Applied)
    }

    /// Adds or replaces a refund (by its source id). A refund of an order not seen yet is
    /// kept and counted once the order arrives.
    pub fn upsert_refund(&mut self, refund: &Refund) -> Result<Outcome, MetricsError> {
        let key = super::source_key(&refund.source);
        let amount = self
            .config
            .rates
            .to_base(&refund.amount)
            .map(|m| m.round_to_minor())
            .map_err(|source| MetricsError::Conversion {
                record: key.clone(),
                field: "amount",
                source,
            })?
            .amount();
        let oid = self.order_id(&super::source_key(&refund.order));
        let rid = self.refund_keys.id(&key);
        if self.refunds.len() <= rid as usize {
            self.refunds.resize(rid as usize + 1, None);
        }
        // Detach the old version (possibly from another order), then attach the new one.
        if let Some(old) = self.refunds[rid as usize].clone() {
            self.contribute(old.order, false);
            self.orders[old.order as usize]
                .refunds
                .retain(|r| *r != rid);
            self.contribute(old.order, true);
        }
        self.contribute(oid, false);
        self.refunds[rid as usize] = Some(RefundEntry {
            order: oid,
            amount,
            at: refund.created_at,
        });
        self.orders[oid as usize].refunds.push(rid);
        self.contribute(oid, true);
        Ok(Outcome::Applied)
    }

    /// The metrics of one customer, `None` when no order names them.
    pub fn metrics(&self, customer: &str) -> Option<CustomerMetrics> {
        let id = self.customer_keys.get(customer)?;
        Some(self.build(&self.customers[id as usize]))
    }

    /// Every customer's metrics, by key, in key order.
    pub fn all(&self) -> BTreeMap<String, CustomerMetrics> {
        self.customers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let key = self
                    .customer_keys
                    .name(u32::try_from(i).unwrap_or(u32::MAX));
                (key.to_owned(), self.build(s))
            })
            .collect()
    }

    /// Visits every customer's metrics without building the sorted map.
    pub fn for_each(&self, mut f: impl FnMut(&str, CustomerMetrics)) {
        for (i, s) in self.customers.iter().enumerate() {
            let key = self
                .customer_keys
                .name(u32::try_from(i).unwrap_or(u32::MAX));
            f(key, self.build(s));
        }
    }

    /// Number of customers with at least one order.
    pub fn customer_count(&self) -> usize {
        self.customers.len()
    }

    fn customer_id(&mut self, key: &str) -> u32 {
        let id = self.customer_keys.id(key);
        if self.customers.len() <= id as usize {
            self.customers
                .resize_with(id as usize + 1, CustomerState::default);
        }
        id
    }

    fn order_id(&mut self, key: &str) -> u32 {
        let id = self.order_keys.id(key);
        if self.orders.len() <= id as usize {
            self.orders.resize_with(id as usize + 1, OrderSlot::default);
        }
        id
    }

    /// Adds (`add`) or removes an order's whole contribution from its customer.
    fn contribute(&mut self, oid: u32, add: bool) {
        let slot = &self.orders[oid as usize];
        let Some(entry) = &slot.entry else { return };
        let Some(cid) = entry.customer else { return };
        let state = &mut self.customers[cid as usize];
        let sign = |d: Decimal| if add { d } else { -d };
        for rid in &slot.refunds {
            if let Some(r) = &self.refunds[*rid as usize] {
                bump(&mut state.refund_dates, r.at, add);
                if entry.paid {
                    state.refunded += sign(r.amount);
                }
            }
        }
        if let Some(at) = entry.cancelled_at {
            bump(&mut state.cancel_dates, at, add);
        }
        if !entry.paid {
            return;
        }
        if add {
            state.paid += 1;
        } else {
            state.paid -= 1;
        }
        state.gross += sign(entry.total);
        bump(&mut state.paid_dates, entry.created_at, add);
        for (cat, qty) in entry.categories.iter() {
            match state.categories.iter_mut().find(|(c, _)| c == cat) {
                Some((_, q)) => *q += sign(*qty),
                None => state.categories.push((*cat, sign(*qty))),
            }
        }
        state.categories.retain(|(_, q)| !q.is_zero());
    }

    fn build(&self, s: &CustomerState) -> CustomerMetrics {
        let base = self.config.base();
        let ltv = fixed(s.gross - s.refunded, base);
        let first = s.paid_dates.keys().next().copied();
        let last = s.paid_dates.keys().next_back().copied();
        let weights = s
            .categories
            .iter()
            .map(|(c, q)| (self.categories.name(*c), *q))
            .collect();
        CustomerMetrics {
            paid_order_count: s.paid,
            gross_revenue: fixed(s.gross, base),
            refunded: fixed(s.refunded, base),
            lifetime_value: ltv,
            average_order_value: average(ltv, s.paid),
            first_order_at: first,
            last_order_at: last,
            average_days_between_orders: first
                .zip(last)
                .and_then(|(f, l)| average_gap(f, l, s.paid)),
            top_categories: top_names(weights, self.config.top()),
            last_refund_at: s.refund_dates.keys().next_back().copied(),
            last_cancelled_at: s.cancel_dates.keys().next_back().copied(),
        }
    }
}
