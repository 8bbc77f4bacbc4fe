//! The simulator's in-memory store.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use cartograph_model::Timestamp;

use crate::wire;

/// An order with its sub-resources.
#[derive(Clone, Debug, Default)]
pub(crate) struct OrderRec {
    pub(crate) order: wire::Order,
    pub(crate) products: Vec<wire::OrderProduct>,
    pub(crate) shipping: Vec<wire::OrderShippingAddress>,
    pub(crate) coupons: Vec<wire::OrderCoupon>,
}

/// A cart and when it last changed (real time, for the idle timer).
#[derive(Clone, Debug)]
pub(crate) struct CartRec {
    pub(crate) cart: wire::Cart,
    pub(crate) last_change: Instant,
    pub(crate) abandoned: bool,
}

/// One webhook delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The hook.
    pub hook_id: u64,
    /// The event scope.
    pub scope: String,
    /// The payload hash (same on every attempt).
    pub hash: String,
    /// Attempt number (1-based).
    pub attempt: u32,
    /// The receiver's status, `None` when the connection failed.
    pub status: Option<u16>,
}

/// Everything the store holds.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) customers: BTreeMap<u64, wire::Customer>,
    pub(crate) groups: BTreeMap<u64, wire::CustomerGroup>,
    pub(crate) orders: BTreeMap<u64, OrderRec>,
    pub(crate) refunds: BTreeMap<u64, wire::Refund>,
    pub(crate) products: BTreeMap<u64, wire::Product>,
    pub(crate) categories: BTreeMap<u64, wire::Category>,
    pub(crate) brands: BTreeMap<u64, wire::Brand>,
    pub(crate) carts: BTreeMap<String, CartRec>,
    /// Shopper profiles by id.
    pub(crate) profiles: BTreeMap<String, wire::ShopperProfile>,
    /// Segment id -> shopper profile ids.
    pub(crate) segments: BTreeMap<String, BTreeSet<String>>,
    pub(crate) hooks: BTreeMap<u64, wire::Hook>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) requests: u64,
    next_id: u64,
    next_uuid: u64,
}

impl State {
    /// A fresh numeric id above every id in use.
    pub(crate) fn allocate(&mut self) -> u64 {
        self.next_id = self.next_id.max(1000) + 1;
        self.next_id
    }

    /// Keeps `id` (when numeric) and moves the allocator past it, or allocates.
    pub(crate) fn claim(&mut self, id: &str) -> u64 {
        match id.trim().parse::<u64>() {
            Ok(n) if n > 0 => {
                self.next_id = self.next_id.max(n);
                n
            }
            _ => self.allocate(),
        }
    }

    /// A fresh UUID-shaped id (deterministic, for carts and shopper profiles).
    pub(crate) fn uuid(&mut self) -> String {
        self.next_uuid += 1;
        format!("5e1f0000-0000-4000-8000-{:012x}", self.next_uuid)
    }
}

/// Now, truncated to whole seconds (BigCommerce timestamps have second precision).
pub(crate) fn now() -> Timestamp {
    let t = Timestamp::now();
    Timestamp::from_unix_seconds(t.unix_seconds()).unwrap_or(t)
}
