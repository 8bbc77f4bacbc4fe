//! The planner on its own: events and loaded ledgers in, planned writes out, no store.

use std::collections::BTreeMap;
use std::sync::Mutex;

use cartograph_connector::{ContactKeying, CrmProfile, MappingNames, RevenueFields};
use cartograph_core::identity::IdentityIndex;
use cartograph_core::metrics::Rates;
use cartograph_model::{
    CommerceEvent, CommerceEventKind, Currency, Customer, EmailAddress, OrderObject, Origin,
    RecordKind, SourceRef, Timestamp,
};
use cartograph_testkit::fixtures::Seed;

use super::{Planner, PopulationCache};
use crate::engine::{EngineConfig, Plans, quality::Quality};

const MAPPING: &str = r#"
crm = "plannercrm"

[[properties]]
object = "contact"
name = "email"
label = "Email"
type = "string"
standard = true

[[properties]]
object = "deal"
name = "order_key"
label = "Order key"
type = "string"

[[properties]]
object = "product"
name = "product_key"
label = "Product key"
type = "string"

[[mappings]]
name = "person"
object = "contact"
subject = "customer"
fields = [{ target = "email", source = "customer.email" }]

[[mappings]]
name = "sale"
object = "deal"
subject = "order"
fields = [{ target = "order_key", source = "order.key", required = true }]

[[mappings]]
name = "article"
object = "product"
subject = "product"
fields = [{ target = "product_key", source = "product.sku" }]
"#;

struct Fixture {
    config: EngineConfig,
    plans: Plans,
    index: Mutex<IdentityIndex>,
    population: Mutex<PopulationCache>,
    quality: Mutex<Quality>,
}

impl Fixture {
    fn new(keying: ContactKeying) -> Self {
        let profile = CrmProfile::new("plannercrm", MAPPING)
            .with_mappings(MappingNames::new("person", "sale").with_products("article"))
            .with_order_object(OrderObject::Deal)
            .with_revenue_fields(RevenueFields::new("amount", "day", "currency"))
            .with_contact_keying(keying);
        let config = EngineConfig::for_profile(
            &profile,
            Rates::new(Currency::USD)
                .with_rate(Currency::EUR, cartograph_model::Decimal::new(108, 2))
                .with_rate(Currency::GBP, cartograph_model::Decimal::new(127, 2))
                .with_rate(Currency::JPY, cartograph_model::Decimal::new(67, 4)),
        )
        .unwrap();
        let m = &config.mapping;
        let plans = Plans {
            contact: m.compile("person", &[]).unwrap(),
            order: m.compile("sale", &[]).unwrap(),
            line_item: None,
            product: Some(m.compile("article", &[]).unwrap()),
        };
        Self {
            index: Mutex::new(IdentityIndex::new(config.identity.clone())),
            population: Mutex::new(PopulationCache::new(config.tiers)),
            quality: Mutex::new(Quality::default()),
            config,
            plans,
        }
    }

    fn planner(&self) -> Planner<'_> {
        Planner {
            config: &self.config,
            plans: &self.plans,
            index: &self.index,
            population: &self.population,
            quality: &self.quality,
            source_name: "shop",
        }
    }
}

fn event(source: SourceRef, kind: CommerceEventKind) -> CommerceEvent {
    CommerceEvent {
        id: None,
        source,
        occurred_at: Timestamp::now(),
        origin: Origin::Live,
        kind,
    }
}

fn customer(id: &str, email: &str, first: &str) -> CommerceEvent {
    let mut c = Customer::new(SourceRef::new("shop", RecordKind::Customer, id));
    c.email = EmailAddress::new(email);
    c.first_name = Some(first.into());
    event(
        c.source.clone(),
        CommerceEventKind::CustomerCreated {
            customer: Box::new(c),
        },
    )
}

fn plan(fixture: &Fixture, events: Vec<CommerceEvent>) -> super::Planned {
    let events: Vec<(usize, CommerceEvent)> = events.into_iter().enumerate().collect();
    let planner = fixture.planner();
    let resolved = planner.resolve_subjects(&events, &BTreeMap::new());
    planner.plan(&events, resolved, BTreeMap::new(), Timestamp::now())
}

#[test]
fn two_people_sharing_a_mailbox_are_one_upsert_when_contacts_are_keyed_by_email() {
    let fixture = Fixture::new(ContactKeying::Email);
    let planned = plan(
        &fixture,
        vec![
            customer("1", "family@example.com", "Ann"),
            customer("2", "family@example.com", "Bob"),
        ],
    );
    assert_eq!(planned.contacts.len(), 1);
    let items: Vec<usize> = planned.contacts[0].1.items.iter().copied().collect();
    assert_eq!(items, [0, 1], "one upsert settles both events");
}

#[test]
fn people_sharing_a_mailbox_stay_apart_when_contacts_are_keyed_by_external_id() {
    let fixture = Fixture::new(ContactKeying::ExternalId);
    let planned = plan(
        &fixture,
        vec![
            customer("1", "family@example.com", "Ann"),
            customer("2", "family@example.com", "Bob"),
        ],
    );
    assert_eq!(fixture.index.lock().unwrap().len(), 2, "two people");
    assert_eq!(planned.contacts.len(), 2, "one upsert per person");
}

#[test]
fn a_live_refund_opens_a_task_worded_by_the_configured_template() {
    let mut fixture = Fixture::new(ContactKeying::Email);
    fixture.config.texts.refund.subject = "Rückerstattung {amount} für Bestellung {number}".into();
    let seed = Seed::builder()
        .system("shop")
        .customers(3)
        .orders(3)
        .refunds(1)
        .build();
    let refund = seed.refunds[0].clone();
    let order = seed
        .orders
        .iter()
        .find(|o| o.source == refund.order)
        .cloned()
        .expect("the refunded order");
    let number = order
        .number
        .clone()
        .unwrap_or_else(|| order.source.id.clone());
    let events = vec![
        event(
            order.source.clone(),
            CommerceEventKind::OrderPlaced {
                order: Box::new(order.clone()),
            },
        ),
        event(
            refund.source.clone(),
            CommerceEventKind::OrderRefunded {
                refund: Box::new(refund.clone()),
                order: Some(Box::new(order)),
            },
        ),
    ];
    let planned = plan(&fixture, events);
    assert!(planned.settled.is_empty(), "{:?}", planned.settled);
    let task = planned
        .tasks
        .iter()
        .find(|t| t.value.key == format!("refund:{}", refund.source))
        .expect("refund task planned");
    assert_eq!(
        task.value.subject,
        format!("Rückerstattung {} für Bestellung {number}", refund.amount)
    );
}
