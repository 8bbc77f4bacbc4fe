//! Planning: who each event is about, what it changes in their ledger, and which CRM writes
//! follow (the recipes).

use std::collections::{BTreeMap, BTreeSet};

use cartograph_connector::{Error, ErrorKind};
use cartograph_core::identity::{Decision, IdentityRecord, PersonId};
use cartograph_core::mapping::{Context, FieldError, Input, order_record, product_record};
use cartograph_core::metrics::{CustomerMetrics, Population, TierConfig};
use cartograph_core::rules::{self, CustomerStatus, Facts};
use cartograph_model::{
    Address, AddressKind, Cart, CartState, CommerceEvent, CommerceEventKind, ContactRef,
    ContactUpsert, Customer, EmailAddress, EnrollmentRequest, IdentityKeys, Order, OrderRecord,
    OrderStatus, Origin, ProductRecord, RecordKind, SourceRef, TaskKind, TaskPriority, TaskRequest,
    Timestamp,
};

use super::config::OrdersAs;
use super::state::PersonState;
use super::{Engine, Ledger, keys, lock};
use crate::store::{Link, StoreResult};
use crate::work::ItemOutcome;

/// A write and the queue items it settles.
#[derive(Debug)]
pub(crate) struct Pending<T> {
    pub(crate) items: BTreeSet<usize>,
    pub(crate) value: T,
}

/// Everything one batch will write.
#[derive(Debug, Default)]
pub(crate) struct Planned {
    pub(crate) contacts: Vec<(String, Pending<ContactUpsert>)>,
    pub(crate) products: Vec<Pending<ProductRecord>>,
    pub(crate) orders: Vec<Pending<OrderRecord>>,
    pub(crate) tasks: Vec<Pending<TaskRequest>>,
    pub(crate) enrollments: Vec<Pending<EnrollmentRequest>>,
    pub(crate) links: Vec<Link>,
    /// Order owners to remember (order key row, person JSON).
    pub(crate) owners: Vec<(String, String)>,
    /// Updated ledgers (person, ledger row, JSON) and the items that touched each person:
    /// a ledger is saved only when none of its items will be retried, so a retry replans
    /// from the same state.
    pub(crate) ledgers: Vec<(String, String, String, BTreeSet<usize>)>,
    /// Records parked for an operator's review (ambiguous identities) whose item still
    /// completes: stored as dead letters at stage `review`, replayable once resolved.
    pub(crate) reviews: Vec<crate::store::NewDeadLetter>,
    /// Items already settled while planning (skipped, or failed).
    pub(crate) settled: Vec<(usize, ItemOutcome)>,
    /// Commerce-side revenue entries of orders seen in this batch.
    pub(crate) revenue: Vec<cartograph_core::reconcile::Entry>,
    /// Keys of the orders in this batch that count as revenue.
    pub(crate) revenue_keys: BTreeSet<String>,
    /// Event times of the live items, for latency figures.
    pub(crate) event_times: BTreeMap<usize, Timestamp>,
}

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

    fn update(&mut self, person: &str, metrics: &CustomerMetrics) -> &Population {
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

/// Who an event is about, once resolved.
enum Subject {
    Person(PersonId),
    /// An order nobody can be attributed to: anonymous (no email, no account), or its email
    /// matches several people (a shared mailbox; the error is the review note). The order
    /// is still revenue and still written, to the email's contact when there is one.
    Unattributed(Option<Error>),
    /// A product: no person.
    Catalog,
    /// Nothing to do.
    Skip,
}

fn dead(stage: &'static str, error: Error) -> ItemOutcome {
    ItemOutcome::Dead { stage, error }
}

fn field_error(record: &str, e: &FieldError) -> Error {
    Error::invalid_field(record.to_owned(), e.field.clone(), e.to_string())
}

/// A guest profile from an order or cart: the buyer as the store saw them.
fn guest_profile(
    source: &SourceRef,
    email: Option<&EmailAddress>,
    address: Option<&Address>,
) -> Customer {
    let mut c = Customer::new(source.clone());
    c.is_guest = true;
    c.email = email.cloned();
    if let Some(a) = address {
        c.first_name.clone_from(&a.first_name);
        c.last_name.clone_from(&a.last_name);
        c.company.clone_from(&a.company);
        c.phone.clone_from(&a.phone);
        c.addresses.push(Address {
            kind: AddressKind::Billing,
            ..a.clone()
        });
    }
    c
}

impl Engine {
    pub(crate) async fn plan(&self, events: Vec<(usize, CommerceEvent)>) -> StoreResult<Planned> {
        let mut planned = Planned::default();
        // Owners of the orders referenced by refunds and order events, in one store call.
        let order_keys: Vec<String> = events
            .iter()
            .filter_map(|(_, e)| match &e.kind {
                CommerceEventKind::OrderRefunded { refund, .. } => {
                    Some(keys::order_owner(&refund.order.to_string()))
                }
                _ => e
                    .kind
                    .order()
                    .map(|o| keys::order_owner(&o.source.to_string())),
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let owners: BTreeMap<String, String> = order_keys
            .iter()
            .cloned()
            .zip(self.store.metrics(&order_keys).await?)
            .filter_map(|(k, v)| {
                v.and_then(|v| serde_json::from_str::<String>(&v).ok())
                    .map(|p| (k, p))
            })
            .collect();

        // 1. Resolve who each event is about.
        let mut subjects = Vec::with_capacity(events.len());
        for (i, event) in &events {
            if event.origin == Origin::Live {
                // Latency is a live figure: history is old by definition.
                planned.event_times.insert(*i, event.occurred_at);
            }
            match self.subject(event, &owners, &mut planned) {
                Ok(s) => subjects.push(s),
                Err(outcome) => {
                    planned.settled.push((*i, outcome));
                    subjects.push(Subject::Skip);
                }
            }
        }

        // 2. Load the ledgers of everyone involved.
        let people: Vec<String> = subjects
            .iter()
            .filter_map(|s| match s {
                Subject::Person(p) => Some(p.as_str().to_owned()),
                _ => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let ledger_keys: Vec<String> = people.iter().map(|p| keys::person(p)).collect();
        let mut ledger: Ledger = BTreeMap::new();
        for (person, raw) in people.iter().zip(self.store.metrics(&ledger_keys).await?) {
            let state = match raw {
                Some(raw) => serde_json::from_str(&raw).unwrap_or_else(|e| {
                    tracing::error!(person, error = %e, "unreadable person ledger, starting afresh");
                    PersonState::default()
                }),
                None => PersonState::default(),
            };
            ledger.insert(person.clone(), state);
        }

        // 3. Apply each event to its ledger and plan the per-event writes.
        let mut touched: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
        for ((i, event), subject) in events.iter().zip(&subjects) {
            match subject {
                Subject::Skip => {}
                Subject::Catalog => self.plan_product(*i, event, &mut planned),
                Subject::Unattributed(review) => {
                    if let Err(outcome) =
                        self.plan_unattributed(*i, event, review.as_ref(), &mut planned)
                    {
                        planned.settled.push((*i, outcome));
                    }
                }
                Subject::Person(person) => {
                    let state = ledger.entry(person.as_str().to_owned()).or_default();
                    match self.apply(*i, event, person, state, &mut planned) {
                        Ok(()) => {
                            touched
                                .entry(person.as_str().to_owned())
                                .or_default()
                                .insert(*i);
                            let o = origins
                                .entry(person.as_str().to_owned())
                                .or_insert(event.origin);
                            if event.origin == Origin::Live {
                                *o = Origin::Live;
                            }
                        }
                        Err(outcome) => planned.settled.push((*i, outcome)),
                    }
                }
            }
        }

        // 4. One contact upsert per touched person, merged per email.
        let now = Timestamp::now();
        let mut by_email: BTreeMap<String, usize> = BTreeMap::new();
        for (person, items) in touched {
            let Some(state) = ledger.get(&person) else {
                continue;
            };
            match serde_json::to_string(state) {
                Ok(json) => planned.ledgers.push((
                    person.clone(),
                    keys::person(&person),
                    json,
                    items.clone(),
                )),
                Err(e) => tracing::error!(person, error = %e, "cannot encode person ledger"),
            }
            let origin = origins.get(&person).copied().unwrap_or_default();
            match self.contact_for(&person, state, origin, now) {
                Ok(Some(contact)) => {
                    let email = contact
                        .identity
                        .email
                        .as_ref()
                        .map(|e| e.normalized().to_owned())
                        .unwrap_or_default();
                    if let Some(&at) = by_email.get(&email) {
                        // A shared mailbox: one contact per email in email-keyed CRMs.
                        let (_, existing) = &mut planned.contacts[at];
                        existing.items.extend(items);
                        existing.value = contact;
                    } else {
                        by_email.insert(email, planned.contacts.len());
                        planned.contacts.push((
                            person.clone(),
                            Pending {
                                items,
                                value: contact,
                            },
                        ));
                    }
                }
                Ok(None) => {}
                Err(error) => {
                    for i in items {
                        planned.settled.push((i, dead("map", error.clone())));
                    }
                }
            }
        }
        Ok(planned)
    }

    fn subject(
        &self,
        event: &CommerceEvent,
        owners: &BTreeMap<String, String>,
        planned: &mut Planned,
    ) -> Result<Subject, ItemOutcome> {
        let record_name = event.source.to_string();
        match &event.kind {
            CommerceEventKind::CustomerCreated { customer }
            | CommerceEventKind::CustomerUpdated { customer } => {
                if customer.email.is_none() {
                    return Err(dead(
                        "map",
                        Error::invalid_field(
                            record_name,
                            "email",
                            "customer has no email; CRM contacts are keyed by email",
                        ),
                    ));
                }
                match self.resolve(&IdentityRecord::from_customer(customer), planned)? {
                    Ok(person) => Ok(Subject::Person(person)),
                    Err(review) => Err(dead("resolve", review)),
                }
            }
            CommerceEventKind::CustomerDeleted | CommerceEventKind::ProductDeleted => {
                Ok(Subject::Skip)
            }
            CommerceEventKind::ProductUpserted { .. } => Ok(if self.config.recipes.products {
                Subject::Catalog
            } else {
                Subject::Skip
            }),
            CommerceEventKind::OrderRefunded { refund, order } => {
                if let Some(owner) = owners.get(&keys::order_owner(&refund.order.to_string())) {
                    if owner.is_empty() {
                        // The order belongs to nobody (anonymous or under review).
                        return Ok(Subject::Skip);
                    }
                    return Ok(Subject::Person(PersonId::new(owner.clone())));
                }
                match order {
                    Some(order) => self.order_person(order, owners, planned),
                    None => Err(dead(
                        "resolve",
                        Error::new(
                            ErrorKind::NotFound,
                            "refund of an order this pipeline has not seen",
                        )
                        .with_record(record_name)
                        .with_field("order"),
                    )),
                }
            }
            CommerceEventKind::CartUpdated { cart } | CommerceEventKind::CartAbandoned { cart } => {
                self.cart_person(cart, planned)
            }
            CommerceEventKind::CartConverted { cart, .. } => match cart {
                Some(cart) => self.cart_person(cart, planned),
                None => Ok(Subject::Skip),
            },
            kind => match kind.order() {
                Some(order) => self.order_person(order, owners, planned),
                None => Ok(Subject::Skip),
            },
        }
    }

    fn order_person(
        &self,
        order: &Order,
        owners: &BTreeMap<String, String>,
        planned: &mut Planned,
    ) -> Result<Subject, ItemOutcome> {
        // An empty owner marks an order nobody owned last time: resolve it again.
        if let Some(owner) = owners
            .get(&keys::order_owner(&order.source.to_string()))
            .filter(|o| !o.is_empty())
        {
            return Ok(Subject::Person(PersonId::new(owner.clone())));
        }
        if let Some(customer) = &order.customer
            && let Some(p) = lock(&self.index).person_of_record(&customer.to_string())
        {
            return Ok(Subject::Person(p.clone()));
        }
        if order.email.is_none() && order.customer.is_none() {
            // An anonymous order: revenue without a person.
            return Ok(Subject::Unattributed(None));
        }
        let source = order
            .customer
            .clone()
            .unwrap_or_else(|| order.source.clone());
        let profile = guest_profile(
            &source,
            order.email.as_ref(),
            order.billing_address.as_ref(),
        );
        Ok(
            match self.resolve(&IdentityRecord::from_customer(&profile), planned)? {
                Ok(person) => Subject::Person(person),
                Err(review) => Subject::Unattributed(Some(review)),
            },
        )
    }

    fn cart_person(&self, cart: &Cart, planned: &mut Planned) -> Result<Subject, ItemOutcome> {
        if let Some(customer) = &cart.customer
            && let Some(p) = lock(&self.index).person_of_record(&customer.to_string())
        {
            return Ok(Subject::Person(p.clone()));
        }
        if cart.email.is_none() {
            // Nobody to recover the cart with.
            return Ok(Subject::Skip);
        }
        let source = cart.customer.clone().unwrap_or_else(|| cart.source.clone());
        let profile = guest_profile(&source, cart.email.as_ref(), None);
        match self.resolve(&IdentityRecord::from_customer(&profile), planned)? {
            Ok(person) => Ok(Subject::Person(person)),
            Err(review) => Err(dead("resolve", review)),
        }
    }

    /// Resolves a record to a person (a record already known keeps its person) and records the
    /// link to persist.
    /// Resolves a record to a person (a record already known keeps its person) and records
    /// the link to persist. `Ok(Err(note))` when several people match: never merged, the
    /// caller decides how the record goes to review.
    fn resolve(
        &self,
        record: &IdentityRecord,
        planned: &mut Planned,
    ) -> Result<Result<PersonId, Error>, ItemOutcome> {
        let mut index = lock(&self.index);
        let (person, matched) = if let Some(p) = index.person_of_record(&record.id).cloned() {
            index.insert(record, &p);
            (p, None)
        } else {
            match index.resolve_and_insert(record) {
                Decision::Match { person, rule, .. } => (person, Some(rule)),
                Decision::New => match index.person_of_record(&record.id) {
                    Some(p) => (p.clone(), None),
                    None => {
                        return Err(dead(
                            "resolve",
                            Error::new(ErrorKind::Other, "identity index lost a record"),
                        ));
                    }
                },
                Decision::Ambiguous { candidates } => {
                    let names: Vec<_> = candidates
                        .iter()
                        .map(|c| format!("{} ({})", c.person, c.rule))
                        .collect();
                    lock(&self.quality).ambiguous += 1;
                    return Ok(Err(Error::new(
                        ErrorKind::Conflict,
                        format!("ambiguous identity, needs review: {}", names.join(", ")),
                    )
                    .with_record(record.id.clone())));
                }
            }
        };
        drop(index);
        {
            let mut q = lock(&self.quality);
            q.resolved += 1;
            if matched.is_some() {
                q.duplicates_prevented += 1;
            }
        }
        let (system, external_id) = record.id.split_once('/').map_or_else(
            || (String::new(), record.id.clone()),
            |(s, rest)| (s.to_owned(), rest.to_owned()),
        );
        planned.links.push(Link {
            system,
            external_id,
            person: person.as_str().to_owned(),
            record: serde_json::to_string(record).unwrap_or_default(),
        });
        Ok(Ok(person))
    }

    /// Applies one event to a person's ledger and plans its order record, tasks and
    /// enrollments.
    fn apply(
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
                                reason: "cart abandoned".into(),
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
                    planned.tasks.push(Pending {
                        items: BTreeSet::from([i]),
                        value: TaskRequest {
                            key: format!("refund:{}", refund.source),
                            kind: TaskKind::Task,
                            subject: format!("Refund of {} on order {number}", refund.amount),
                            body: format!(
                                "Order {number} was refunded {}{}. Marketing sends are suppressed for this contact.",
                                refund.amount,
                                refund.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
                            ),
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

    #[allow(clippy::too_many_arguments)]
    fn apply_order(
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
            && order.created_at
                >= cart
                    .updated_at
                    .or(cart.created_at)
                    .unwrap_or(Timestamp::UNIX_EPOCH)
        {
            // An order after the cart ends the abandoned-cart flow.
            cart.state = CartState::Converted;
            cart.converted_order = Some(order.source.clone());
        }
        if order.status == OrderStatus::Incomplete || order.is_archived {
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
                        reason: format!(
                            "order {} is {}",
                            order.number.as_deref().unwrap_or(&order.source.id),
                            order.status.as_str()
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
        let mut task = |key: String, subject: String, body: String, priority| {
            planned.tasks.push(Pending {
                items: BTreeSet::from([i]),
                value: TaskRequest {
                    key,
                    kind: TaskKind::Task,
                    subject,
                    body,
                    priority,
                    due_at: Some(event.occurred_at.saturating_add(time::Duration::days(1))),
                    contact: contact.clone(),
                    order_key: Some(order_key.clone()),
                    owner_id: None,
                },
            });
        };
        if live && first_sight && (high_value || (recipes.b2b_tasks && b2b)) {
            let why = if high_value { "High-value" } else { "B2B" };
            task(
                format!("order:{order_key}"),
                format!("{why} order {number}: {}", order.total),
                format!(
                    "{why} order {number} for {} was placed. Follow up with the buyer.",
                    order.total
                ),
                TaskPriority::High,
            );
        }
        if cancelled_now {
            task(
                format!("cancel:{order_key}"),
                format!("Order {number} was cancelled"),
                format!(
                    "Order {number} ({}) was cancelled. Marketing sends are suppressed for this contact.",
                    order.total
                ),
                TaskPriority::Medium,
            );
        }
        Ok(())
    }

    fn ensure_profile(
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
    fn plan_unattributed(
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
                payload: serde_json::to_string(&crate::work::WorkItem::CommerceEvent {
                    event: Box::new(event.clone()),
                })
                .unwrap_or_default(),
                source: self.source.name().to_owned(),
                at: Timestamp::now(),
            });
        }
        // Remember that nobody owns this order, so its refunds are not reported as orphans.
        planned.owners.push((
            keys::order_owner(&order.source.to_string()),
            "\"\"".to_owned(),
        ));
        if order.status == OrderStatus::Incomplete || order.is_archived {
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

    /// The order total in the metrics base currency; an amount that cannot be converted is a
    /// typed dead letter naming the field.
    fn base_total(&self, order: &Order) -> Result<cartograph_model::Money, ItemOutcome> {
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

    /// Whether an order is high-value or B2B (recipe 5), and whether it becomes an order
    /// record.
    fn order_flags(
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

    fn order_record(
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

    fn plan_product(&self, i: usize, event: &CommerceEvent, planned: &mut Planned) {
        let CommerceEventKind::ProductUpserted { product } = &event.kind else {
            return;
        };
        let cx = Context {
            rates: Some(&self.config.metrics.rates),
        };
        let (record, errors) = product_record(&self.plans.product, product, &cx);
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
    fn contact_for(
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
            let mut cache = lock(&self.population);
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

fn contact_ref(state: &PersonState) -> Option<ContactRef> {
    state
        .profile
        .as_ref()
        .and_then(|p| p.email.clone())
        .map(ContactRef::Email)
}
