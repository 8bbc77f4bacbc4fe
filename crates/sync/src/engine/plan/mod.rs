//! Planning: who each event is about, what it changes in their ledger, and which CRM writes
//! follow (the recipes). The [`Planner`] is pure: it reads no store and writes nothing; the
//! engine reads order owners and ledgers before it and writes what it planned after it.
//!
//! - [`subject`]: resolving who each event is about (identity index, order owners);
//! - [`ledger`]: applying events to a person's ledger;
//! - [`recipes`]: ledger change in, CRM intents out (order records, enrollments, tasks);
//! - [`records`]: building contact, order and product records through the mapping plans.

mod ledger;
mod recipes;
mod records;
mod subject;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use cartograph_connector::Error;
use cartograph_core::identity::{IdentityIndex, PersonId};
use cartograph_core::mapping::FieldError;
use cartograph_model::{
    CommerceEvent, CommerceEventKind, ContactUpsert, EnrollmentRequest, OrderRecord, Origin,
    ProductRecord, TaskRequest, Timestamp,
};

pub(crate) use records::PopulationCache;

use super::state::PersonState;
use super::{Engine, EngineConfig, Ledger, Plans, keys};
use crate::queue_item::ItemOutcome;
use crate::store::{Link, StoreResult};

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
    /// Keys of orders in this batch not written because incomplete or archived.
    pub(crate) skipped_orders: Vec<String>,
    /// Event times of the live items, for latency figures.
    pub(crate) event_times: BTreeMap<usize, Timestamp>,
}

/// Who an event is about, once resolved.
pub(super) enum Subject {
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

pub(super) fn dead(stage: &'static str, error: Error) -> ItemOutcome {
    ItemOutcome::Dead { stage, error }
}

pub(super) fn field_error(record: &str, e: &FieldError) -> Error {
    Error::invalid_field(record.to_owned(), e.field.clone(), e.to_string())
}
/// The pure planner over one engine's configuration, compiled plans and in-memory state
/// (identity index, value-tier population, quality figures).
pub(crate) struct Planner<'a> {
    pub(crate) config: &'a EngineConfig,
    pub(crate) plans: &'a Plans,
    pub(crate) index: &'a Mutex<IdentityIndex>,
    pub(crate) population: &'a Mutex<PopulationCache>,
    pub(crate) quality: &'a Mutex<super::quality::Quality>,
    /// The commerce source's name (on review dead letters).
    pub(crate) source_name: &'a str,
}

/// Who each event of a batch is about, with what resolving them planned so far.
pub(crate) struct Resolved {
    pub(crate) planned: Planned,
    subjects: Vec<Subject>,
}

impl Resolved {
    /// The people whose ledgers the planner needs, sorted and unique.
    pub(crate) fn people(&self) -> Vec<String> {
        self.subjects
            .iter()
            .filter_map(|s| match s {
                Subject::Person(p) => Some(p.as_str().to_owned()),
                _ => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

impl Resolved {
    /// Puts back, untried, every event about a person in `busy` (another worker holds
    /// them): each becomes a [`ItemOutcome::Defer`] until `until`, and drops out of this
    /// batch's plan.
    pub(crate) fn defer_people(
        &mut self,
        events: &[(usize, CommerceEvent)],
        busy: &BTreeSet<String>,
        until: Timestamp,
    ) {
        if busy.is_empty() {
            return;
        }
        for ((i, _), subject) in events.iter().zip(self.subjects.iter_mut()) {
            if let Subject::Person(p) = subject
                && busy.contains(p.as_str())
            {
                self.planned.settled.push((
                    *i,
                    ItemOutcome::Defer {
                        until,
                        reason: format!(
                            "person {} is being processed by another worker",
                            p.as_str()
                        ),
                    },
                ));
                self.planned.event_times.remove(i);
                *subject = Subject::Skip;
            }
        }
    }
}

impl Planner<'_> {
    /// Store keys of the owners of the orders the events reference (order events and the
    /// orders of refunds).
    pub(crate) fn owner_keys(events: &[(usize, CommerceEvent)]) -> Vec<String> {
        events
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
            .collect()
    }

    /// Step 1: resolves who each event is about, given the known order owners (order key
    /// row -> person).
    pub(crate) fn resolve_subjects(
        &self,
        events: &[(usize, CommerceEvent)],
        owners: &BTreeMap<String, String>,
    ) -> Resolved {
        let mut planned = Planned::default();
        let mut subjects = Vec::with_capacity(events.len());
        for (i, event) in events {
            if event.origin == Origin::Live {
                // Latency is a live figure: history is old by definition.
                planned.event_times.insert(*i, event.occurred_at);
            }
            match self.subject(event, owners, &mut planned) {
                Ok(s) => subjects.push(s),
                Err(outcome) => {
                    planned.settled.push((*i, outcome));
                    subjects.push(Subject::Skip);
                }
            }
        }
        Resolved { planned, subjects }
    }

    /// Steps 2 and 3: applies each event to its person's ledger (`ledger` holds the loaded
    /// state of everyone in [`Resolved::people`]), plans the per-event writes, then one
    /// contact upsert per touched person (merged per email for email-keyed CRMs).
    pub(crate) fn plan(
        &self,
        events: &[(usize, CommerceEvent)],
        resolved: Resolved,
        mut ledger: Ledger,
        now: Timestamp,
    ) -> Planned {
        let Resolved {
            mut planned,
            subjects,
        } = resolved;
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
        self.plan_contacts(touched, &origins, &ledger, now, &mut planned);
        planned
    }

    /// One contact upsert per touched person; in email-keyed CRMs people sharing a mailbox
    /// become one upsert (the last one planned wins, settling everyone's items).
    fn plan_contacts(
        &self,
        touched: BTreeMap<String, BTreeSet<usize>>,
        origins: &BTreeMap<String, Origin>,
        ledger: &Ledger,
        now: Timestamp,
        planned: &mut Planned,
    ) {
        let merge = self.config.contact_keying.merges_by_email();
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
                    if let Some(&at) = by_email.get(&email).filter(|_| merge) {
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
    }
}

impl Engine {
    /// The pure planner over this engine's state.
    pub(crate) fn planner(&self) -> Planner<'_> {
        Planner {
            config: &self.config,
            plans: &self.plans,
            index: &self.index,
            population: &self.population,
            quality: &self.quality,
            source_name: self.source.name(),
        }
    }

    /// Plans one batch: reads the order owners and ledgers it needs from the store around
    /// the pure planner. The people the batch is about are locked for `holder` first (see
    /// [`Store::lock_subjects`](crate::Store::lock_subjects)): events of a person another
    /// worker holds are deferred, so two events of one person are never applied at once and
    /// a ledger is never read while another worker is about to save it. Returns the plan and
    /// the lock subjects taken, which the caller releases once the batch is written.
    pub(crate) async fn plan(
        &self,
        events: Vec<(usize, CommerceEvent)>,
        holder: &str,
    ) -> StoreResult<(Planned, Vec<String>)> {
        let planner = self.planner();
        let owner_keys = Planner::owner_keys(&events);
        let owners: BTreeMap<String, String> = owner_keys
            .iter()
            .cloned()
            .zip(self.store.ledger_rows(&owner_keys).await?)
            .filter_map(|(k, v)| {
                v.and_then(|v| serde_json::from_str::<String>(&v).ok())
                    .map(|p| (k, p))
            })
            .collect();
        let mut resolved = planner.resolve_subjects(&events, &owners);
        let wanted = resolved.people();
        let subjects: Vec<String> = wanted.iter().map(|p| keys::lock(p)).collect();
        let now = Timestamp::now();
        let taken = self
            .store
            .lock_subjects(holder, &subjects, self.config.subject_lock_for, now)
            .await?;
        let mut locked = Vec::with_capacity(subjects.len());
        let mut busy = BTreeSet::new();
        for ((person, subject), got) in wanted.into_iter().zip(subjects).zip(taken) {
            if got {
                locked.push(subject);
            } else {
                busy.insert(person);
            }
        }
        let until = now.saturating_add(
            time::Duration::try_from(self.config.busy_retry_after)
                .unwrap_or(time::Duration::SECOND),
        );
        resolved.defer_people(&events, &busy, until);
        match self.plan_locked(&events, resolved).await {
            Ok(planned) => Ok((planned, locked)),
            Err(e) => {
                if let Err(unlock) = self.store.unlock_subjects(holder, &locked).await {
                    tracing::warn!(error = %unlock, "cannot release person locks; they expire on their own");
                }
                Err(e)
            }
        }
    }

    /// The planning of [`Engine::plan`] once the batch's people are locked: their ledgers
    /// are read here, after the lock, so no other worker's save can be missed.
    async fn plan_locked(
        &self,
        events: &[(usize, CommerceEvent)],
        resolved: Resolved,
    ) -> StoreResult<Planned> {
        let planner = self.planner();
        let people = resolved.people();
        let ledger_keys: Vec<String> = people.iter().map(|p| keys::person(p)).collect();
        let mut ledger: Ledger = BTreeMap::new();
        for (person, raw) in people
            .iter()
            .zip(self.store.ledger_rows(&ledger_keys).await?)
        {
            let state = match raw {
                Some(raw) => serde_json::from_str(&raw).unwrap_or_else(|e| {
                    tracing::error!(person, error = %e, "unreadable person ledger, starting afresh");
                    PersonState::default()
                }),
                None => PersonState::default(),
            };
            ledger.insert(person.clone(), state);
        }
        Ok(planner.plan(events, resolved, ledger, Timestamp::now()))
    }
}
