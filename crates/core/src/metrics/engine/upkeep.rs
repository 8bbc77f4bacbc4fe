//! Keeping customers in step with their orders: adding and removing an order's or a
//! refund's contribution, the per-customer order lists, and settling stale dates.

use cartograph_model::Timestamp;

use super::MetricsEngine;
use crate::metrics::customer_state::{CustomerState, DateKind, DateSets, NONE, bump};

impl MetricsEngine {
    /// The customer a stored order counts for ([`NONE`] for none or no stored version).
    pub(super) fn owner(&self, oid: u32) -> u32 {
        let slot = &self.orders[oid as usize];
        if slot.present { slot.customer } else { NONE }
    }

    /// Adds (`add`) or removes an order's whole contribution from its customer.
    pub(super) fn contribute(&mut self, oid: u32, add: bool) {
        let slot = &self.orders[oid as usize];
        if !slot.present || slot.customer == NONE {
            return;
        }
        let state = &mut self.customers[slot.customer as usize];
        let mut rid = slot.refunds;
        while rid != NONE {
            let r = &self.refunds[rid as usize];
            refund_effect(state, r.at, r.amount, slot.paid, add);
            rid = r.next;
        }
        if let Some(at) = slot.cancelled_at() {
            state.change_date(DateKind::Cancel, at, add);
        }
        if !slot.paid {
            return;
        }
        if add {
            state.paid += 1;
            state.gross += slot.total;
        } else {
            state.paid -= 1;
            state.gross -= slot.total;
        }
        state.change_date(DateKind::First, slot.created_at, add);
        state.change_date(DateKind::Last, slot.created_at, add);
        for (cat, qty) in self.order_cats.get(slot.cats, slot.cats_len) {
            state.weights.change(cat, qty, add);
        }
    }

    /// Adds (`add`) or removes one refund's contribution from its order's customer.
    pub(super) fn refund_contribution(&mut self, rid: u32, add: bool) {
        let r = &self.refunds[rid as usize];
        let slot = &self.orders[r.order as usize];
        if !slot.present || slot.customer == NONE {
            return;
        }
        let state = &mut self.customers[slot.customer as usize];
        refund_effect(state, r.at, r.amount, slot.paid, add);
    }

    /// Puts a stored order at the head of its customer's list. A customer with date sets
    /// keeps no list (nothing walks it any more), so a list never grows past
    /// `sets_from` orders and taking an order out of one stays cheap.
    pub(super) fn link(&mut self, cid: u32, oid: u32) {
        let state = &mut self.customers[cid as usize];
        if state.sets.is_some() {
            return;
        }
        let head = state.orders;
        state.orders = oid;
        state.order_count += 1;
        let build_sets = state.order_count >= self.sets_from;
        self.orders[oid as usize].next = head;
        if build_sets {
            let mut sets = DateSets::default();
            self.walk(cid, |at, kind| bump(sets.set(kind), at, true));
            let state = &mut self.customers[cid as usize];
            state.sets = Some(Box::new(sets));
            state.orders = NONE;
            state.order_count = 0;
        }
    }

    /// Takes an order out of its customer's list.
    pub(super) fn unlink(&mut self, cid: u32, oid: u32) {
        let state = &mut self.customers[cid as usize];
        if state.sets.is_some() {
            return;
        }
        let next = self.orders[oid as usize].next;
        if state.orders == oid {
            state.orders = next;
        } else {
            let mut at = state.orders;
            while at != NONE {
                let slot = &mut self.orders[at as usize];
                if slot.next == oid {
                    slot.next = next;
                    break;
                }
                at = slot.next;
            }
        }
        state.order_count -= 1;
        self.orders[oid as usize].next = NONE;
    }

    /// Visits every date the customer's orders contribute (paid dates as
    /// [`DateKind::Last`]).
    pub(super) fn walk(&self, cid: u32, mut f: impl FnMut(Timestamp, DateKind)) {
        let mut oid = self.customers[cid as usize].orders;
        while oid != NONE {
            let slot = &self.orders[oid as usize];
            let mut rid = slot.refunds;
            while rid != NONE {
                let r = &self.refunds[rid as usize];
                f(r.at, DateKind::Refund);
                rid = r.next;
            }
            if let Some(at) = slot.cancelled_at() {
                f(at, DateKind::Cancel);
            }
            if slot.paid {
                f(slot.created_at, DateKind::Last);
            }
            oid = slot.next;
        }
    }

    /// Makes a customer's dates exact again after removals.
    pub(super) fn settle(&mut self, cid: u32) {
        if cid == NONE {
            return;
        }
        let state = &mut self.customers[cid as usize];
        if state.settle_from_sets() || !state.is_stale() {
            return;
        }
        let mut dates: [Option<Timestamp>; 4] = [None; 4];
        self.walk(cid, |at, kind| {
            if matches!(kind, DateKind::First | DateKind::Last) {
                let first = &mut dates[DateKind::First as usize];
                *first = Some(first.map_or(at, |f| f.min(at)));
            }
            let max = &mut dates[kind as usize];
            *max = (*max).max(Some(at));
        });
        self.customers[cid as usize].set_dates(dates);
    }

    /// Rewrites the category arena without the ranges of replaced orders.
    pub(super) fn compact_categories(&mut self) {
        let ranges = self.orders.iter_mut().map(|slot| {
            let len = slot.cats_len;
            (&mut slot.cats, len)
        });
        self.order_cats.compact(ranges);
    }
}

/// One refund's effect on its customer: its date always, its amount when the order is paid.
fn refund_effect(
    state: &mut CustomerState,
    at: Timestamp,
    amount: cartograph_model::Decimal,
    paid: bool,
    add: bool,
) {
    state.change_date(DateKind::Refund, at, add);
    if paid {
        if add {
            state.refunded += amount;
        } else {
            state.refunded -= amount;
        }
    }
}
