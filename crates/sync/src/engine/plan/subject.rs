//! Resolving the subject: who each event is about (a person through the identity index, an
//! unattributed order, a catalog record, or nothing), and the identity links to persist.

use std::collections::BTreeMap;

use cartograph_connector::{Error, ErrorKind};
use cartograph_core::identity::{Decision, IdentityRecord, PersonId};
use cartograph_model::{
    Address, AddressKind, Cart, CommerceEvent, CommerceEventKind, Customer, EmailAddress, Order,
    RecordKind, SourceRef,
};

use super::{Planned, Planner, Subject, dead};
use crate::engine::{keys, lock};
use crate::queue_item::ItemOutcome;
use crate::store::Link;

/// A guest profile from an order or cart: the buyer as the store saw them.
pub(super) fn guest_profile(
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

impl Planner<'_> {
    pub(super) fn subject(
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
            CommerceEventKind::ProductUpserted { .. } => Ok(
                if self.config.recipes.products && self.plans.product.is_some() {
                    Subject::Catalog
                } else {
                    Subject::Skip
                },
            ),
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

    pub(super) fn order_person(
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
            && let Some(p) = lock(self.index).person_of_record(&customer.to_string())
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

    pub(super) fn cart_person(
        &self,
        cart: &Cart,
        planned: &mut Planned,
    ) -> Result<Subject, ItemOutcome> {
        if let Some(customer) = &cart.customer
            && let Some(p) = lock(self.index).person_of_record(&customer.to_string())
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

    /// Resolves a record to a person (a record already known keeps its person) and records
    /// the link to persist. `Ok(Err(note))` when several people match: never merged, the
    /// caller decides how the record goes to review.
    pub(super) fn resolve(
        &self,
        record: &IdentityRecord,
        planned: &mut Planned,
    ) -> Result<Result<PersonId, Error>, ItemOutcome> {
        let mut index = lock(self.index);
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
                    lock(self.quality).ambiguous += 1;
                    return Ok(Err(Error::new(
                        ErrorKind::Conflict,
                        format!("ambiguous identity, needs review: {}", names.join(", ")),
                    )
                    .with_record(record.id.clone())));
                }
            }
        };
        drop(index);
        lock(self.quality).resolved(identity_hash(&person, record), matched.is_some());
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
}

/// What makes a record distinct for duplicate counting: a customer account by its id; a
/// guest identity (the record of a guest order or cart) by its normalized email and name,
/// so a guest's repeat checkouts are one record, not a duplicate each.
fn identity_hash(person: &PersonId, record: &IdentityRecord) -> u64 {
    use std::hash::{Hash, Hasher};
    let norm = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_lowercase();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    person.as_str().hash(&mut h);
    if record.id.split('/').nth(1) == Some(RecordKind::Customer.as_str()) {
        ("account", &record.id).hash(&mut h);
    } else {
        (
            "guest",
            norm(&record.email),
            norm(&record.first_name),
            norm(&record.last_name),
        )
            .hash(&mut h);
    }
    h.finish()
}
