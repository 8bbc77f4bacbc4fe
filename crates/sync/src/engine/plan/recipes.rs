//! The recipes: a ledger change in, CRM intents out (order records, enrollments, tasks and
//! cases), with the words taken from the config's [`TaskTexts`].

use std::collections::BTreeSet;

use cartograph_core::identity::PersonId;
use cartograph_model::{
    CartState, CommerceEvent, EnrollmentRequest, Order, OrderStatus, Origin, TaskKind,
    TaskPriority, TaskRequest, Timestamp,
};

use super::ledger::contact_ref;
use super::{Pending, Planned, Planner};
use crate::engine::config::OrdersAs;
use crate::engine::keys;
use crate::engine::state::PersonState;
use crate::engine::texts::TaskTexts;
use crate::queue_item::ItemOutcome;

impl Planner<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply_order(
        &self,
        i: usize,
        event: &CommerceEvent,
        order: &Order,
        status_event: bool,
        person: &PersonId,
        state: &mut PersonState,
        planned: &mut Planned,
    ) -> Result<(), ItemOutcome> {
        let live = event.origin == Origin::Live;
        let recipes = &self.config.recipes;
        let order_key = order.source.to_string();
        // An amount that cannot be converted never enters the ledger: it would poison every
        // later metrics computation of this person.
        let base_total = self.base_total(order)?;
        let previous = state.upsert_order(order);
        planned.owners.push((
            keys::order_owner(&order_key),
            serde_json::Value::String(person.as_str().to_owned()).to_string(),
        ));
        Self::ensure_profile(
            state,
            &order.source,
            order.email.as_ref(),
            order.billing_address.as_ref(),
        );
        if let Some(entry) = cartograph_core::reconcile::Entry::from_order(order) {
            planned.revenue_keys.insert(entry.key.clone());
            planned.revenue.push(entry);
        }
        if let Some(cart) = state.cart.as_mut()
            && cart.state != CartState::Converted
            && order_follows_cart(
                order.created_at,
                cart.updated_at
                    .or(cart.created_at)
                    .unwrap_or(Timestamp::UNIX_EPOCH),
            )
        {
            // An order after the cart ends the abandoned-cart flow.
            cart.state = CartState::Converted;
            cart.converted_order = Some(order.source.clone());
        }
        if order.status == OrderStatus::Incomplete || order.is_archived {
            planned.skipped_orders.push(order_key.clone());
            return Ok(());
        }
        let (high_value, b2b, as_record) = self.order_flags(order, &base_total);
        if as_record {
            let mut record = self.order_record(event, order)?;
            record.contact = contact_ref(state);
            planned.orders.push(Pending {
                items: BTreeSet::from([i]),
                value: record,
            });
        }
        let status_changed =
            status_event || previous.as_ref().is_some_and(|p| p.status != order.status);
        if live && status_changed {
            if let (Some(target), Some(contact)) =
                (recipes.enrollment_for(order.status), contact_ref(state))
            {
                planned.enrollments.push(Pending {
                    items: BTreeSet::from([i]),
                    value: EnrollmentRequest {
                        key: format!("status:{order_key}:{}", order.status.as_str()),
                        contact,
                        target: target.clone(),
                        reason: TaskTexts::render(
                            &self.config.texts.status_enrollment_reason,
                            &[
                                (
                                    "number",
                                    order.number.as_deref().unwrap_or(&order.source.id),
                                ),
                                ("status", order.status.as_str()),
                            ],
                        ),
                        origin: event.origin,
                    },
                });
            }
        }
        let first_sight = previous.is_none();
        let number = order
            .number
            .clone()
            .unwrap_or_else(|| order.source.id.clone());
        let contact = contact_ref(state);
        let cancelled_now = live
            && order.status.is_cancelled()
            && previous.as_ref().is_none_or(|p| !p.status.is_cancelled())
            && recipes.cancellation_tasks;
        if cancelled_now {
            state.open_case_at = Some(event.occurred_at);
        }
        let texts = &self.config.texts;
        let total = order.total.to_string();
        let values = [("number", number.as_str()), ("total", total.as_str())];
        let mut task = |key: String, text: &crate::engine::texts::TaskText, priority| {
            planned.tasks.push(Pending {
                items: BTreeSet::from([i]),
                value: TaskRequest {
                    key,
                    kind: TaskKind::Task,
                    subject: TaskTexts::render(&text.subject, &values),
                    body: TaskTexts::render(&text.body, &values),
                    priority,
                    due_at: Some(event.occurred_at.saturating_add(time::Duration::days(1))),
                    contact: contact.clone(),
                    order_key: Some(order_key.clone()),
                    owner_id: None,
                },
            });
        };
        if live && first_sight && (high_value || (recipes.b2b_tasks && b2b)) {
            let text = if high_value {
                &texts.high_value
            } else {
                &texts.b2b
            };
            task(format!("order:{order_key}"), text, TaskPriority::High);
        }
        if cancelled_now {
            task(
                format!("cancel:{order_key}"),
                &texts.cancellation,
                TaskPriority::Medium,
            );
        }
        Ok(())
    }

    /// Whether an order is high-value or B2B (recipe 5), and whether it becomes an order
    /// record.
    pub(super) fn order_flags(
        &self,
        order: &Order,
        base_total: &cartograph_model::Money,
    ) -> (bool, bool, bool) {
        let recipes = &self.config.recipes;
        let high_value = recipes
            .high_value_threshold
            .is_some_and(|t| base_total.amount() >= t);
        let b2b = order
            .billing_address
            .as_ref()
            .is_some_and(|a| a.company.is_some());
        let as_record = match recipes.orders_as {
            OrdersAs::All => true,
            OrdersAs::HighValueOnly => high_value || b2b,
            OrdersAs::None => false,
        };
        (high_value, b2b, as_record)
    }
}

/// Whether an order placed at `order_at` comes after the cart last changed at `cart_at`, at
/// whole-second resolution: vendors stamp orders in whole seconds (BigCommerce's RFC 2822
/// dates) while carts carry fractions, so an order placed in the second its cart last
/// changed would otherwise read as placed before it.
pub(super) fn order_follows_cart(order_at: Timestamp, cart_at: Timestamp) -> bool {
    order_at.unix_seconds() >= cart_at.unix_seconds()
}

#[cfg(test)]
mod cart_tests {
    use cartograph_model::Timestamp;

    use super::order_follows_cart;

    #[test]
    fn an_order_stamped_in_the_second_its_cart_last_changed_follows_it() {
        let cart_at = Timestamp::from_unix_millis(1_764_806_400_700).unwrap();
        let same_second = Timestamp::from_unix_seconds(1_764_806_400).unwrap();
        assert!(order_follows_cart(same_second, cart_at));
        let later = Timestamp::from_unix_seconds(1_764_806_401).unwrap();
        assert!(order_follows_cart(later, cart_at));
        let earlier = Timestamp::from_unix_seconds(1_764_806_399).unwrap();
        assert!(!order_follows_cart(earlier, cart_at));
    }
}
