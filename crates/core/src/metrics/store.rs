//! The engine's compact state: one fixed-size slot per order and refund, one per customer.
//!
//! Nothing here allocates per order: an order's categories live in one shared arena, its
//! refunds and its customer's orders are linked lists threaded through the slots (ids, with
//! [`NONE`] ending a list), and a customer keeps its first, last, last-cancelled and
//! last-refund dates as plain values. Removing the value that was the extreme only marks it
//! stale; the engine settles stale customers at the end of each update by walking their
//! orders, or, for customers with many orders, from ordered multisets kept for them alone
//! ([`DateSets`]), so one update never costs more than a logarithm there.

use std::collections::BTreeMap;

use cartograph_model::{Decimal, Timestamp};

use super::categories::Weights;
use super::engine::DateKind;

/// The end of a list, or no customer.
pub(super) const NONE: u32 = u32::MAX;

/// From this many orders on, a customer keeps [`DateSets`] (the engine's default; the
/// property test varies it so both paths run).
pub(super) const SETS_FROM: u32 = 32;

/// The stored version of one order (or an empty slot: a key seen only in a refund, or an
/// order whose conversion failed).
#[derive(Debug, Clone)]
pub(super) struct OrderSlot {
    /// Total in the base currency, minor units (zero unless paid).
    pub(super) total: Decimal,
    pub(super) version: Timestamp,
    pub(super) created_at: Timestamp,
    pub(super) cancelled_at: Option<Timestamp>,
    /// Owner, [`NONE`] when unattributed.
    pub(super) customer: u32,
    /// The owner's next order.
    pub(super) next: u32,
    /// The first refund attached to this order.
    pub(super) refunds: u32,
    /// Categories of the paid lines: `cats_len` entries of the arena from `cats`.
    pub(super) cats: u32,
    pub(super) cats_len: u32,
    /// Whether a version is stored.
    pub(super) present: bool,
    pub(super) paid: bool,
}

impl Default for OrderSlot {
    fn default() -> Self {
        Self {
            total: Decimal::ZERO,
            version: Timestamp::UNIX_EPOCH,
            created_at: Timestamp::UNIX_EPOCH,
            cancelled_at: None,
            customer: NONE,
            next: NONE,
            refunds: NONE,
            cats: 0,
            cats_len: 0,
            present: false,
            paid: false,
        }
    }
}

/// The stored version of one refund.
#[derive(Debug, Clone)]
pub(super) struct RefundSlot {
    pub(super) amount: Decimal,
    pub(super) at: Timestamp,
    /// The refunded order, [`NONE`] while no version is stored.
    pub(super) order: u32,
    /// The next refund of the same order.
    pub(super) next: u32,
}

impl Default for RefundSlot {
    fn default() -> Self {
        Self {
            amount: Decimal::ZERO,
            at: Timestamp::UNIX_EPOCH,
            order: NONE,
            next: NONE,
        }
    }
}

/// A running minimum (`MAX = false`) or maximum of a multiset of times. When stale, `at`
/// is only a bound (every value is at or past it in the kept direction) and the engine
/// settles it before anyone reads it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Extreme<const MAX: bool> {
    pub(super) at: Option<Timestamp>,
    pub(super) stale: bool,
}

impl<const MAX: bool> Extreme<MAX> {
    /// Whether `a` is at or beyond `b` in the kept direction.
    fn reaches(a: Timestamp, b: Timestamp) -> bool {
        if MAX { a >= b } else { a <= b }
    }

    pub(super) fn add(&mut self, v: Timestamp) {
        match self.at {
            None => self.at = Some(v),
            Some(a) if self.stale => {
                // None of the others is past `a`: `v` is the extreme once it reaches `a`.
                if Self::reaches(v, a) {
                    self.at = Some(v);
                    self.stale = false;
                }
            }
            Some(a) => {
                if !Self::reaches(a, v) {
                    self.at = Some(v);
                }
            }
        }
    }

    pub(super) fn remove(&mut self, v: Timestamp) {
        if !self.stale && self.at == Some(v) {
            self.stale = true;
        }
    }
}

/// Ordered multisets of a customer's dates, kept once it has many orders.
#[derive(Debug, Clone, Default)]
pub(super) struct DateSets {
    pub(super) paid: BTreeMap<Timestamp, u32>,
    pub(super) cancel: BTreeMap<Timestamp, u32>,
    pub(super) refund: BTreeMap<Timestamp, u32>,
}

impl DateSets {
    pub(super) fn set(&mut self, kind: DateKind) -> &mut BTreeMap<Timestamp, u32> {
        match kind {
            DateKind::Paid => &mut self.paid,
            DateKind::Cancel => &mut self.cancel,
            DateKind::Refund => &mut self.refund,
        }
    }
}

pub(super) fn bump(set: &mut BTreeMap<Timestamp, u32>, at: Timestamp, add: bool) {
    if add {
        *set.entry(at).or_insert(0) += 1;
    } else if let Some(n) = set.get_mut(&at) {
        *n -= 1;
        if *n == 0 {
            set.remove(&at);
        }
    }
}

/// One customer.
#[derive(Debug, Clone)]
pub(super) struct CustomerState {
    pub(super) gross: Decimal,
    pub(super) refunded: Decimal,
    pub(super) paid: u32,
    /// First order of the customer's list, and the list's length (no list once `sets`
    /// are kept).
    pub(super) orders: u32,
    pub(super) order_count: u32,
    pub(super) first: Extreme<false>,
    pub(super) last: Extreme<true>,
    pub(super) last_cancel: Extreme<true>,
    pub(super) last_refund: Extreme<true>,
    pub(super) sets: Option<Box<DateSets>>,
    pub(super) weights: Weights,
}

impl Default for CustomerState {
    fn default() -> Self {
        Self {
            gross: Decimal::ZERO,
            refunded: Decimal::ZERO,
            paid: 0,
            orders: NONE,
            order_count: 0,
            first: Extreme::default(),
            last: Extreme::default(),
            last_cancel: Extreme::default(),
            last_refund: Extreme::default(),
            sets: None,
            weights: Weights::default(),
        }
    }
}

impl CustomerState {
    pub(super) fn paid_date(&mut self, at: Timestamp, add: bool) {
        if let Some(sets) = &mut self.sets {
            bump(&mut sets.paid, at, add);
        }
        if add {
            self.first.add(at);
            self.last.add(at);
        } else {
            self.first.remove(at);
            self.last.remove(at);
        }
    }

    pub(super) fn cancel_date(&mut self, at: Timestamp, add: bool) {
        if let Some(sets) = &mut self.sets {
            bump(&mut sets.cancel, at, add);
        }
        if add {
            self.last_cancel.add(at);
        } else {
            self.last_cancel.remove(at);
        }
    }

    pub(super) fn refund_date(&mut self, at: Timestamp, add: bool) {
        if let Some(sets) = &mut self.sets {
            bump(&mut sets.refund, at, add);
        }
        if add {
            self.last_refund.add(at);
        } else {
            self.last_refund.remove(at);
        }
    }

    pub(super) fn is_stale(&self) -> bool {
        self.first.stale || self.last.stale || self.last_cancel.stale || self.last_refund.stale
    }

    /// Takes every date from the sets; `false` without sets.
    pub(super) fn settle_from_sets(&mut self) -> bool {
        let Some(sets) = &self.sets else {
            return false;
        };
        let first = sets.paid.keys().next().copied();
        let last = sets.paid.keys().next_back().copied();
        let cancel = sets.cancel.keys().next_back().copied();
        let refund = sets.refund.keys().next_back().copied();
        self.set_dates(first, last, cancel, refund);
        true
    }

    pub(super) fn set_dates(
        &mut self,
        first: Option<Timestamp>,
        last: Option<Timestamp>,
        cancel: Option<Timestamp>,
        refund: Option<Timestamp>,
    ) {
        self.first = Extreme {
            at: first,
            stale: false,
        };
        self.last = Extreme {
            at: last,
            stale: false,
        };
        self.last_cancel = Extreme {
            at: cancel,
            stale: false,
        };
        self.last_refund = Extreme {
            at: refund,
            stale: false,
        };
    }
}
