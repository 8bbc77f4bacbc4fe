//! The incremental metrics engine.

use std::collections::BTreeMap;

use cartograph_model::{CommerceEvent, Decimal, Money, Order, Refund};

use super::categories::{CategoryArena, Qty};
use super::customer_state::{CustomerState, DateKind, NONE, OrderSlot, RefundSlot, SETS_FROM};
use super::interner::Interner;

use super::{
    CustomerMetrics, MetricsConfig, MetricsError, average, average_gap, cancelled_time,
    customer_key, fixed, version_time,
};

mod upkeep;

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
    refunds: Vec<RefundSlot>,
    categories: Interner,
    order_cats: CategoryArena,
    /// From this many orders on, a customer keeps date sets.
    sets_from: u32,
    /// One order's categories while it is being read.
    cat_buf: Vec<(u32, Qty)>,
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
            order_cats: CategoryArena::default(),
            sets_from: SETS_FROM,
            cat_buf: Vec::new(),
            key_buf: String::new(),
            order_buf: String::new(),
        }
    }

    /// The engine with date sets from `n` orders per customer on (tests run both paths).
    #[cfg(test)]
    pub(super) fn with_sets_from(mut self, n: u32) -> Self {
        self.sets_from = n;
        self
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
        let slot = &self.orders[oid as usize];
        if slot.present && version < slot.version {
            return Ok(Outcome::Stale);
        }
        let paid = order.is_revenue();
        let out_of_range = |field| MetricsError::Overflow {
            record: order_key.to_owned(),
            field,
        };
        let total = if paid {
            let total = self
                .to_base(&order.total)
                .map_err(|source| MetricsError::Conversion {
                    record: order_key.to_owned(),
                    field: "total",
                    source,
                })?;
            super::amount_in_range(total).ok_or_else(|| out_of_range("total"))?
        } else {
            Decimal::ZERO
        };
        let customer = customer.map_or(NONE, |k| self.customer_id(k));
        let mut cats = std::mem::take(&mut self.cat_buf);
        cats.clear();
        if paid {
            // Read a few lines' categories and quantities first, then intern them: the
            // reads of the lines then overlap instead of waiting on each other.
            for chunk in order.line_items.chunks(8) {
                let mut lines = [("", Qty::Whole(0)); 8];
                let mut n = 0;
                for line in chunk {
                    if let Some(cat) = line.categories.last() {
                        if !super::quantity_in_range(line.quantity) {
                            self.cat_buf = cats;
                            return Err(out_of_range("line_items.quantity"));
                        }
                        lines[n] = (cat.as_str(), Qty::new(line.quantity));
                        n += 1;
                    }
                }
                for (cat, qty) in &lines[..n] {
                    let id = self.categories.id(cat);
                    match cats.iter_mut().find(|(c, _)| *c == id) {
                        Some((_, q)) => *q = q.plus(*qty),
                        None => cats.push((id, *qty)),
                    }
                }
            }
        }
        let old_customer = self.owner(oid);
        self.contribute(oid, false);
        if old_customer != customer && old_customer != NONE {
            self.unlink(old_customer, oid);
        }
        let slot = &mut self.orders[oid as usize];
        let (cats_at, cats_len) = self.order_cats.replace(slot.cats, slot.cats_len, &cats);
        self.cat_buf = cats;
        slot.total = total;
        slot.version = version;
        slot.created_at = order.created_at;
        slot.cancelled = order.status.is_cancelled();
        debug_assert_eq!(cancelled_time(order), version);
        slot.customer = customer;
        slot.cats = cats_at;
        slot.cats_len = cats_len;
        slot.present = true;
        slot.paid = paid;
        self.contribute(oid, true);
        if old_customer != customer {
            if customer != NONE {
                self.link(customer, oid);
            }
            self.settle(old_customer);
        }
        self.settle(customer);
        if self.order_cats.needs_compaction() {
            self.compact_categories();
        }
        Ok(Outcome::Applied)
    }

    /// Adds or replaces a refund (by its source id). A refund of an order not seen yet is
    /// kept and counted once the order arrives.
    pub fn upsert_refund(&mut self, refund: &Refund) -> Result<Outcome, MetricsError> {
        let key = super::source_key(&refund.source);
        let amount = self
            .to_base(&refund.amount)
            .map_err(|source| MetricsError::Conversion {
                record: key.clone(),
                field: "amount",
                source,
            })?;
        let amount = super::amount_in_range(amount).ok_or_else(|| MetricsError::Overflow {
            record: key.clone(),
            field: "amount",
        })?;
        let oid = self.order_id(&super::source_key(&refund.order));
        let rid = self.refund_keys.id(&key);
        if self.refunds.len() <= rid as usize {
            self.refunds
                .resize_with(rid as usize + 1, RefundSlot::default);
        }
        // Detach the old version (possibly from another order), then attach the new one.
        let old_order = self.refunds[rid as usize].order;
        if old_order != NONE {
            self.refund_contribution(rid, false);
            let mut at = self.orders[old_order as usize].refunds;
            if at == rid {
                self.orders[old_order as usize].refunds = self.refunds[rid as usize].next;
            } else {
                while at != NONE {
                    let next = self.refunds[at as usize].next;
                    if next == rid {
                        self.refunds[at as usize].next = self.refunds[rid as usize].next;
                        break;
                    }
                    at = next;
                }
            }
        }
        let slot = &mut self.refunds[rid as usize];
        slot.amount = amount;
        slot.at = refund.created_at;
        slot.order = oid;
        slot.next = self.orders[oid as usize].refunds;
        self.orders[oid as usize].refunds = rid;
        self.refund_contribution(rid, true);
        if old_order != NONE {
            self.settle(self.owner(old_order));
        }
        self.settle(self.owner(oid));
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
        // Start loading the customer's state as soon as its id is likely: the key check
        // and the lines read next overlap the wait.
        let customers = &self.customers;
        let id = self.customer_keys.id_hinted(key, |id| {
            if let Some(s) = customers.get(id as usize) {
                std::hint::black_box(s.touch());
            }
        });
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

    /// `money` in the base currency, rounded to minor units.
    fn to_base(&self, money: &Money) -> Result<Decimal, super::RateError> {
        self.config
            .rates
            .to_base(money)
            .map(|m| m.round_to_minor().amount())
    }

    fn build(&self, s: &CustomerState) -> CustomerMetrics {
        let base = self.config.base();
        let ltv = fixed(s.gross - s.refunded, base);
        let paid = u64::from(s.paid);
        let first = s.date(DateKind::First);
        let last = s.date(DateKind::Last);
        CustomerMetrics {
            paid_order_count: paid,
            gross_revenue: fixed(s.gross, base),
            refunded: fixed(s.refunded, base),
            lifetime_value: ltv,
            average_order_value: average(ltv, paid),
            first_order_at: first,
            last_order_at: last,
            average_days_between_orders: first.zip(last).and_then(|(f, l)| average_gap(f, l, paid)),
            top_categories: self.top_categories(s),
            last_refund_at: s.date(DateKind::Refund),
            last_cancelled_at: s.date(DateKind::Cancel),
        }
    }

    /// The customer's heaviest categories (positive weights, most first, then by name),
    /// picked without sorting them all.
    fn top_categories(&self, s: &CustomerState) -> Vec<String> {
        let n = self.config.top();
        let mut best: [(&str, Qty); 3] = [("", Qty::Whole(0)); 3];
        let mut len = 0;
        for (cat, w) in s.weights.positive() {
            let name = self.categories.name(cat);
            let before = |(other, ow): (&str, Qty)| w.cmp_value(ow).then(other.cmp(name)).is_gt();
            let mut i = len;
            while i > 0 && before(best[i - 1]) {
                i -= 1;
            }
            if i >= n {
                continue;
            }
            for j in (i..len.min(n - 1)).rev() {
                best[j + 1] = best[j];
            }
            best[i] = (name, w);
            len = (len + 1).min(n);
        }
        best[..len].iter().map(|(c, _)| (*c).to_owned()).collect()
    }
}
