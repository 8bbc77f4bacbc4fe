//! Building CRM records: contact upserts (profile, metrics, lifecycle status), order records
//! and product records through the compiled mapping plans; the population cache behind value
//! tiers.

use std::collections::{BTreeMap, BTreeSet};

use cartograph_connector::{Error, ErrorKind};
use cartograph_core::mapping::{Context, Input, order_record, product_record};
use cartograph_core::metrics::{CustomerMetrics, Population, TierConfig};
use cartograph_core::rules::{self, CustomerStatus, Facts};
use cartograph_model::{
    CartState, CommerceEvent, CommerceEventKind, ContactUpsert, IdentityKeys, Order, OrderRecord,
    Origin, RecordKind, SourceRef, Timestamp,
};

use super::{Pending, Planned, Planner, dead, field_error};
use crate::engine::lock;
use crate::engine::state::PersonState;
use crate::queue_item::ItemOutcome;

/// Value-tier cut points over everyone the engine has computed metrics for, rebuilt when
/// enough has changed.
#[derive(Debug)]
pub(crate) struct PopulationCache {
    tiers: TierConfig,
    metrics: BTreeMap<String, CustomerMetrics>,
    population: Option<Population>,
    dirty: usize,
}

impl PopulationCache {
    pub(crate) fn new(tiers: TierConfig) -> Self {
        Self {
            tiers,
            metrics: BTreeMap::new(),
            population: None,
            dirty: 0,
        }
    }

    pub(super) fn update(&mut self, person: &str, metrics: &CustomerMetrics) -> &Population {
        self.metrics.insert(person.to_owned(), metrics.clone());
        self.dirty += 1;
        let stale = self.dirty >= 256.max(self.metrics.len() / 20);
        if self.population.is_none() || stale {
            self.population = Some(Population::build(self.metrics.values(), self.tiers));
            self.dirty = 0;
        }
        self.population
            .get_or_insert_with(|| Population::build(std::iter::empty(), self.tiers))
    }
}

impl Planner<'_> {
    /// The order total in the metrics base currency; an amount that cannot be converted is a
    /// typed dead letter naming the field.
    pub(super) fn base_total(&self, order: &Order) -> Result<cartograph_model::Money, ItemOutcome> {
        self.config
            .metrics
            .rates
            .to_base(&order.total)
            .map_err(|e| {
                dead(
                    "metrics",
                    Error::invalid_field(order.source.to_string(), "total", e.to_string()),
                )
            })
    }

    pub(super) fn order_record(
        &self,
        event: &CommerceEvent,
        order: &Order,
    ) -> Result<OrderRecord, ItemOutcome> {
        let cx = Context {
            rates: Some(&self.config.metrics.rates),
        };
        let input = Input {
            order: Some(order),
            ..Input::default()
        };
        let (record, errors) = order_record(
            &self.plans.order,
            self.plans.line_item.as_ref(),
            self.config.order_object,
            &input,
            order,
            event.origin,
            &cx,
        );
        match errors.first() {
            Some(e) => Err(dead("map", field_error(&order.source.to_string(), e))),
            None => Ok(record),
        }
    }

    pub(super) fn plan_product(&self, i: usize, event: &CommerceEvent, planned: &mut Planned) {
        let (CommerceEventKind::ProductUpserted { product }, Some(plan)) =
            (&event.kind, self.plans.product.as_ref())
        else {
            return;
        };
        let cx = Context {
            rates: Some(&self.config.metrics.rates),
        };
        let (record, errors) = product_record(plan, product, &cx);
        if let Some(e) = errors.first() {
            planned
                .settled
                .push((i, dead("map", field_error(&product.source.to_string(), e))));
            return;
        }
        planned.products.push(Pending {
            items: BTreeSet::from([i]),
            value: record,
        });
    }

    /// The contact upsert for a person: profile, metrics and status mapped to properties.
    pub(super) fn contact_for(
        &self,
        person: &str,
        state: &PersonState,
        origin: Origin,
        now: Timestamp,
    ) -> Result<Option<ContactUpsert>, Error> {
        let Some(profile) = &state.profile else {
            return Ok(None);
        };
        let Some(email) = profile.email.clone() else {
            return Ok(None);
        };
        let metrics = state.metrics(&self.config.metrics, person).map_err(|e| {
            Error::new(ErrorKind::Invalid, e.to_string()).with_record(person.to_owned())
        })?;
        let population = {
            let mut cache = lock(self.population);
            let p = cache.update(person, &metrics);
            (p.tier(&metrics), p.rfm(&metrics))
        };
        let cart_now = state
            .cart
            .as_ref()
            .filter(|c| c.state == CartState::Abandoned)
            .map_or(now, |c| {
                let idle = time::Duration::minutes(i64::from(self.config.rules.cart.idle_minutes));
                now.max(
                    c.updated_at
                        .or(c.created_at)
                        .unwrap_or(now)
                        .saturating_add(idle),
                )
            });
        let status: CustomerStatus = rules::evaluate(
            &self.config.rules,
            &Facts {
                metrics: Some(&metrics),
                tier: population.0,
                rfm: population.1,
                open_case_at: state.open_case_at,
                cart: state.cart.as_ref(),
                now: cart_now,
            },
        );
        let cx = Context {
            rates: Some(&self.config.metrics.rates),
        };
        let input = Input {
            customer: Some(profile),
            cart: state.cart.as_ref(),
            metrics: Some(&metrics),
            status: Some(&status),
            ..Input::default()
        };
        let applied = self.plans.contact.apply(&input, &cx);
        if let Some(e) = applied.errors.first() {
            return Err(field_error(&profile.source.to_string(), e));
        }
        let mut external_ids: Vec<SourceRef> = Vec::new();
        if profile.source.kind == RecordKind::Customer {
            external_ids.push(profile.source.clone());
        }
        Ok(Some(ContactUpsert {
            key: person.to_owned(),
            identity: IdentityKeys {
                email: Some(email),
                secondary_emails: Vec::new(),
                phone: None,
                external_ids,
                crm_id: None,
            },
            properties: applied.properties,
            origin,
        }))
    }
}
