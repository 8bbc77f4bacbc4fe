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

/// The end of a list, or no customer.
pub(super) const NONE: u32 = u32::MAX;

/// From this many orders on, a customer keeps [`DateSets`] (the engine's default; the
/// property test varies it so both paths run).
pub(super) const SETS_FROM: u32 = 32;

/// The stored version of one order (or an empty slot: a key seen only in a refund, or an
/// order whose conversion failed). 64 bytes, one cache line.
#[derive(Debug, Clone)]
pub(super) struct OrderSlot {
    /// Total in the base currency, minor units (zero unless paid).
    pub(super) total: Decimal,
    pub(super) version: Timestamp,
    pub(super) created_at: Timestamp,
    /// Whether the order is cancelled; it was at `version` (see [`OrderSlot::cancelled_at`]).
    pub(super) cancelled: bool,
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
            cancelled: false,
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

impl OrderSlot {
    /// When the order was cancelled: [`cancelled_time`](super::cancelled_time) is the
    /// version's time, so the slot keeps a flag instead of a second copy of it.
    pub(super) fn cancelled_at(&self) -> Option<Timestamp> {
        self.cancelled.then_some(self.version)
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

/// Ordered multisets of a customer's dates, kept once it has many orders.
#[derive(Debug, Clone, Default)]
pub(super) struct DateSets {
    pub(super) paid: BTreeMap<Timestamp, u32>,
    pub(super) cancel: BTreeMap<Timestamp, u32>,
    pub(super) refund: BTreeMap<Timestamp, u32>,
}

impl DateSets {
    /// The multiset behind a date (first and last share the paid dates).
    pub(super) fn set(&mut self, kind: DateKind) -> &mut BTreeMap<Timestamp, u32> {
        match kind {
            DateKind::First | DateKind::Last => &mut self.paid,
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

/// Which of a customer's dates: the first paid order (a minimum), the last paid order,
/// the last cancellation and the last refund (maxima).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DateKind {
    First,
    Last,
    Cancel,
    Refund,
}

/// One customer, in three whole cache lines (`repr(C)`, aligned): dates and counts, the
/// inline category weights, then sums and boxes. An order reads all three, so
/// [`CustomerState::touch`] starts loading them together.
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub(super) struct CustomerState {
    /// By [`DateKind`]. A stale date (bit `kind` of `stale`) is only a bound: no value is
    /// past it in the kept direction; the engine settles it before anyone reads it.
    dates: [Option<Timestamp>; 4],
    pub(super) paid: u32,
    /// First order of the customer's list, and the list's length (no list once `sets`
    /// are kept).
    pub(super) orders: u32,
    pub(super) order_count: u32,
    stale: u8,
    pub(super) weights: Weights,
    pub(super) gross: Decimal,
    pub(super) refunded: Decimal,
    pub(super) sets: Option<Box<DateSets>>,
}

impl Default for CustomerState {
    fn default() -> Self {
        Self {
            gross: Decimal::ZERO,
            refunded: Decimal::ZERO,
            paid: 0,
            orders: NONE,
            order_count: 0,
            dates: [None; 4],
            stale: 0,
            sets: None,
            weights: Weights::default(),
        }
    }
}

impl CustomerState {
    /// Reads one value from each cache line, so that all three start loading at once (the
    /// caller passes the result to `black_box`).
    pub(super) fn touch(&self) -> (u32, u32, Decimal) {
        (self.paid, self.weights.touch(), self.gross)
    }

    /// A settled date.
    pub(super) fn date(&self, kind: DateKind) -> Option<Timestamp> {
        self.dates[kind as usize]
    }

    /// Adds (`add`) or removes one date from a running extreme (and the sets, if kept).
    pub(super) fn change_date(&mut self, kind: DateKind, v: Timestamp, add: bool) {
        // First and last share the paid multiset: bump it once, with the last.
        if let (Some(sets), false) = (&mut self.sets, kind == DateKind::First) {
            bump(sets.set(kind), v, add);
        }
        let bit = 1 << kind as u8;
        let stale = self.stale & bit != 0;
        // Whether `a` is at or beyond `b` in the kept direction.
        let reaches = |a: Timestamp, b: Timestamp| {
            if kind == DateKind::First {
                a <= b
            } else {
                a >= b
            }
        };
        let at = &mut self.dates[kind as usize];
        if !add {
            // The extreme itself leaves: what stays is at or short of it.
            if !stale && *at == Some(v) {
                self.stale |= bit;
            }
        } else if let Some(a) = *at {
            // When stale, none of the others is past `a`: `v` is the extreme once it
            // reaches `a`. Otherwise `v` replaces `a` when it goes past it.
            if stale && reaches(v, a) {
                *at = Some(v);
                self.stale &= !bit;
            } else if !stale && !reaches(a, v) {
                *at = Some(v);
            }
        } else {
            *at = Some(v);
        }
    }

    pub(super) fn is_stale(&self) -> bool {
        self.stale != 0
    }

    /// Takes every date from the sets; `false` without sets.
    pub(super) fn settle_from_sets(&mut self) -> bool {
        let Some(sets) = &self.sets else {
            return false;
        };
        self.dates = [
            sets.paid.keys().next().copied(),
            sets.paid.keys().next_back().copied(),
            sets.cancel.keys().next_back().copied(),
            sets.refund.keys().next_back().copied(),
        ];
        self.stale = 0;
        true
    }

    /// Sets every date, by [`DateKind`].
    pub(super) fn set_dates(&mut self, dates: [Option<Timestamp>; 4]) {
        self.dates = dates;
        self.stale = 0;
    }
}
