//! Applying events to a person's ledger: profiles, carts, refunds and orders folded into
//! [`PersonState`], and orders nobody can be attributed to.

use std::collections::BTreeSet;

use cartograph_connector::Error;
use cartograph_core::identity::PersonId;
use cartograph_model::{
    Address, CartState, CommerceEvent, CommerceEventKind, ContactRef, EmailAddress,
    EnrollmentRequest, OrderStatus, Origin, SourceRef, TaskKind, TaskPriority, TaskRequest,
    Timestamp,
};

use super::subject::guest_profile;
use super::{Pending, Planned, Planner};
use crate::engine::keys;
use crate::engine::state::PersonState;
use crate::engine::texts::TaskTexts;
use crate::queue_item::ItemOutcome;

impl Planner<'_> {
    /// enrollments.
    pub(super) fn apply(
        &self,
        i: usize,
        event: &CommerceEvent,
        person: &PersonId,
        state: &mut PersonState,
        planned: &mut Planned,
    ) -> Result<(), ItemOutcome> {
        let live = event.origin == Origin::Live;
        let recipes = &self.config.recipes;
        match &event.kind {
            CommerceEventKind::CustomerCreated { customer }
            | CommerceEventKind::CustomerUpdated { customer } => {
                let newer = state
                    .profile
                    .as_ref()
                    .is_none_or(|p| p.is_guest || p.updated_at <= customer.updated_at);
                if newer {
                    state.profile = Some((**customer).clone());
                }
            }
            CommerceEventKind::CartUpdated { cart } | CommerceEventKind::CartAbandoned { cart } => {
                let mut cart = (**cart).clone();
                if matches!(event.kind, CommerceEventKind::CartAbandoned { .. }) {
                    cart.state = CartState::Abandoned;
                    cart.abandoned_at.get_or_insert(event.occurred_at);
                }
                Self::ensure_profile(state, &cart.source, cart.email.as_ref(), None);
                let abandoned = cart.state == CartState::Abandoned;
                state.cart = Some(cart);
                if abandoned && live {
                    if let (Some(target), Some(contact)) =
                        (&recipes.abandoned_cart_enrollment, contact_ref(state))
                    {
                        planned.enrollments.push(Pending {
                            items: BTreeSet::from([i]),
                            value: EnrollmentRequest {
                                key: format!("abandoned:{}", event.source),
                                contact,
                                target: target.clone(),
                                reason: self.config.texts.abandoned_cart_reason.clone(),
                                origin: event.origin,
                            },
                        });
                    }
                }
            }
            CommerceEventKind::CartConverted { cart, order } => {
                if let Some(c) = state
                    .cart
                    .as_mut()
                    .filter(|c| cart.as_ref().is_none_or(|k| k.source == c.source))
                {
                    c.state = CartState::Converted;
                    c.converted_order = Some(order.clone());
                }
            }
            CommerceEventKind::OrderRefunded { refund, order } => {
                if let Some(order) = order {
                    self.apply_order(i, event, order, false, person, state, planned)?;
                }
                let new = state.upsert_refund(refund);
                if new && live && recipes.refund_tasks {
                    let number = state
                        .orders
                        .iter()
                        .find(|o| o.source == refund.order)
                        .and_then(|o| o.number.clone())
                        .unwrap_or_else(|| refund.order.id.clone());
                    state.open_case_at = Some(event.occurred_at);
                    let texts = &self.config.texts;
                    let amount = refund.amount.to_string();
                    let reason = refund
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default();
                    let values = [
                        ("number", number.as_str()),
                        ("amount", amount.as_str()),
                        ("reason", reason.as_str()),
                    ];
                    planned.tasks.push(Pending {
                        items: BTreeSet::from([i]),
                        value: TaskRequest {
                            key: format!("refund:{}", refund.source),
                            kind: TaskKind::Task,
                            subject: TaskTexts::render(&texts.refund.subject, &values),
                            body: TaskTexts::render(&texts.refund.body, &values),
                            priority: TaskPriority::High,
                            due_at: Some(event.occurred_at.saturating_add(time::Duration::days(1))),
                            contact: contact_ref(state),
                            order_key: Some(refund.order.to_string()),
                            owner_id: None,
                        },
                    });
                }
            }
            CommerceEventKind::OrderStatusChanged { order, from, to } => {
                self.apply_order(i, event, order, *from != Some(*to), person, state, planned)?;
            }
            kind => {
                if let Some(order) = kind.order() {
                    self.apply_order(i, event, order, false, person, state, planned)?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn ensure_profile(
        state: &mut PersonState,
        source: &SourceRef,
        email: Option<&EmailAddress>,
        address: Option<&Address>,
    ) {
        let better = state
            .profile
            .as_ref()
            .is_none_or(|p| p.is_guest && p.email.is_none() && email.is_some());
        if better {
            state.profile = Some(guest_profile(source, email, address));
        }
    }

    /// An order without a person: still revenue, still an order record (to the email's
    /// contact when there is one), but no ledger, metrics, tasks or enrollments; an ambiguous
    /// identity is also parked for review.
    pub(super) fn plan_unattributed(
        &self,
        i: usize,
        event: &CommerceEvent,
        review: Option<&Error>,
        planned: &mut Planned,
    ) -> Result<(), ItemOutcome> {
        let Some(order) = event.kind.order() else {
            return Ok(());
        };
        if let Some(note) = review {
            planned.reviews.push(crate::store::NewDeadLetter {
                record: event.source.to_string(),
                stage: "review".into(),
                error_kind: note.kind().as_str().into(),
                message: note.to_string(),
                attempts: 1,
                payload_kind: "commerce_event".into(),
                payload: serde_json::to_string(&crate::queue_item::WorkItem::CommerceEvent {
                    event: Box::new(event.clone()),
                })
                .unwrap_or_default(),
                source: self.source_name.to_owned(),
                at: Timestamp::now(),
            });
        }
        // Remember that nobody owns this order, so its refunds are not reported as orphans.
        planned.owners.push((
            keys::order_owner(&order.source.to_string()),
            "\"\"".to_owned(),
        ));
        if order.status == OrderStatus::Incomplete || order.is_archived {
            planned.skipped_orders.push(order.source.to_string());
            return Ok(());
        }
        let base_total = self.base_total(order)?;
        if let Some(entry) = cartograph_core::reconcile::Entry::from_order(order) {
            planned.revenue_keys.insert(entry.key.clone());
            planned.revenue.push(entry);
        }
        let (_, _, as_record) = self.order_flags(order, &base_total);
        if as_record {
            let mut record = self.order_record(event, order)?;
            record.contact = order.email.clone().map(ContactRef::Email);
            planned.orders.push(Pending {
                items: BTreeSet::from([i]),
                value: record,
            });
        }
        Ok(())
    }
}

pub(super) fn contact_ref(state: &PersonState) -> Option<ContactRef> {
    state
        .profile
        .as_ref()
        .and_then(|p| p.email.clone())
        .map(ContactRef::Email)
}
