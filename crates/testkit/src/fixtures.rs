//! Small deterministic fixtures the conformance suites run against.
//!
//! [`Seed`] is a set of canonical commerce records (customers, groups, orders with line items,
//! refunds, products, categories, brands, carts). Its ids are strings and deliberately mixed:
//! plain numbers, prefixed text (`cust-001`), leading zeros (`001002`) and UUID shapes; emails are
//! mixed case; orders use USD, EUR, GBP and JPY (no minor units); pairs of records share an
//! update time so listings must tie-break. Vendor simulators load the same seed by converting
//! each canonical record into their own state (use [`SeedBuilder::numeric_ids`] or
//! [`Seed::map_ids`] when the vendor only has integer ids).
//!
//! [`CrmFixture`] names the properties and targets a CRM suite writes, so each CRM runs the
//! suites with its own property names.

mod build;

use cartograph_connector::Stream;
use cartograph_model::{
    CrmObjectType, EnrollmentTarget, PropertyDefinition, PropertyMap, PropertyType, PropertyValue,
    RecordKind, SourceRef,
};

pub use build::SeedBuilder;

/// A deterministic set of canonical commerce records.
///
/// ```
/// use cartograph_connector::Stream;
/// use cartograph_testkit::fixtures::Seed;
///
/// let seed = Seed::builder().customers(4).orders(3).build();
/// assert_eq!(seed.ids(Stream::Customers), ["1000", "cust-001", "001002", "000003eb-0000-4000-8000-000000000003"]);
/// assert_eq!(seed, Seed::builder().customers(4).orders(3).build());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    /// The system name in every `SourceRef`.
    pub system: String,
    /// Customers (unique case-insensitive emails).
    pub customers: Vec<cartograph_model::Customer>,
    /// Customer groups.
    pub customer_groups: Vec<cartograph_model::CustomerGroup>,
    /// Orders, some for guests.
    pub orders: Vec<cartograph_model::Order>,
    /// Refunds, each of a different order.
    pub refunds: Vec<cartograph_model::Refund>,
    /// Products with one variant each.
    pub products: Vec<cartograph_model::Product>,
    /// Categories.
    pub categories: Vec<cartograph_model::Category>,
    /// Brands.
    pub brands: Vec<cartograph_model::Brand>,
    /// Carts (active, abandoned, converted).
    pub carts: Vec<cartograph_model::Cart>,
}

#[cfg(feature = "sim")]
impl Seed {
    /// The records as a simulator seed (feature `sim`).
    pub fn to_seed_data(&self) -> cartograph_sim::SeedData {
        cartograph_sim::SeedData {
            customer_groups: self.customer_groups.clone(),
            categories: self.categories.clone(),
            brands: self.brands.clone(),
            products: self.products.clone(),
            customers: self.customers.clone(),
            orders: self.orders.clone(),
            refunds: self.refunds.clone(),
            carts: self.carts.clone(),
        }
    }

    /// Loads every record into a commerce simulator (feature `sim`); the ids it gave them.
    pub fn load_into(&self, sim: &dyn cartograph_sim::CommerceSimulator) -> cartograph_sim::Seeded {
        sim.seed(&self.to_seed_data())
    }
}

impl Default for Seed {
    /// The standard seed: 12 customers, 2 groups, 16 orders, 4 refunds, 6 products,
    /// 3 categories, 2 brands, 5 carts.
    fn default() -> Self {
        SeedBuilder::default().build()
    }
}

impl Seed {
    /// A builder with the standard counts.
    pub fn builder() -> SeedBuilder {
        SeedBuilder::default()
    }

    /// The ids of one stream's records, in seed order. Non-commerce streams give none.
    pub fn ids(&self, stream: Stream) -> Vec<String> {
        fn ids<'a>(refs: impl Iterator<Item = &'a SourceRef>) -> Vec<String> {
            refs.map(|r| r.id.clone()).collect()
        }
        match stream {
            Stream::Customers => ids(self.customers.iter().map(|r| &r.source)),
            Stream::CustomerGroups => ids(self.customer_groups.iter().map(|r| &r.source)),
            Stream::Orders => ids(self.orders.iter().map(|r| &r.source)),
            Stream::Refunds => ids(self.refunds.iter().map(|r| &r.source)),
            Stream::Products => ids(self.products.iter().map(|r| &r.source)),
            Stream::Categories => ids(self.categories.iter().map(|r| &r.source)),
            Stream::Brands => ids(self.brands.iter().map(|r| &r.source)),
            Stream::Carts => ids(self.carts.iter().map(|r| &r.source)),
            _ => Vec::new(),
        }
    }

    /// The same records with every id (and every reference to it) rewritten by `f`, for
    /// vendors that assign their own ids. `f` gets the record kind and the old id.
    ///
    /// ```
    /// use cartograph_connector::Stream;
    /// use cartograph_testkit::fixtures::Seed;
    ///
    /// let seed = Seed::default().map_ids(|kind, id| format!("{}:{id}", kind.as_str()));
    /// assert!(seed.ids(Stream::Orders).iter().all(|id| id.starts_with("order:")));
    /// let customer_ids = seed.ids(Stream::Customers);
    /// assert!(seed.orders.iter().filter_map(|o| o.customer.as_ref()).all(|c| customer_ids.contains(&c.id)));
    /// ```
    #[must_use]
    pub fn map_ids(&self, mut f: impl FnMut(RecordKind, &str) -> String) -> Seed {
        let mut memo = std::collections::HashMap::new();
        let mut map = |kind: RecordKind, id: &mut String| {
            let new = memo
                .entry((kind, id.clone()))
                .or_insert_with(|| f(kind, id))
                .clone();
            *id = new;
        };
        let mut seed = self.clone();
        for c in &mut seed.customers {
            map(RecordKind::Customer, &mut c.source.id);
            for g in &mut c.customer_group_ids {
                map(RecordKind::CustomerGroup, g);
            }
        }
        for g in &mut seed.customer_groups {
            map(RecordKind::CustomerGroup, &mut g.source.id);
        }
        for c in &mut seed.categories {
            map(RecordKind::Category, &mut c.source.id);
            if let Some(p) = &mut c.parent_id {
                map(RecordKind::Category, p);
            }
        }
        for b in &mut seed.brands {
            map(RecordKind::Brand, &mut b.source.id);
        }
        for p in &mut seed.products {
            map(RecordKind::Product, &mut p.source.id);
            for c in &mut p.category_ids {
                map(RecordKind::Category, c);
            }
            if let Some(b) = &mut p.brand_id {
                map(RecordKind::Brand, b);
            }
        }
        let mut line_products = |items: &mut Vec<cartograph_model::LineItem>| {
            for l in items {
                if let Some(p) = &mut l.product_id {
                    map(RecordKind::Product, p);
                }
            }
        };
        for o in &mut seed.orders {
            line_products(&mut o.line_items);
        }
        for c in &mut seed.carts {
            line_products(&mut c.items);
        }
        for o in &mut seed.orders {
            map(RecordKind::Order, &mut o.source.id);
            if let Some(c) = &mut o.customer {
                map(RecordKind::Customer, &mut c.id);
            }
        }
        for r in &mut seed.refunds {
            map(RecordKind::Refund, &mut r.source.id);
            map(RecordKind::Order, &mut r.order.id);
        }
        for c in &mut seed.carts {
            map(RecordKind::Cart, &mut c.source.id);
            if let Some(r) = &mut c.customer {
                map(RecordKind::Customer, &mut r.id);
            }
            if let Some(r) = &mut c.converted_order {
                map(RecordKind::Order, &mut r.id);
            }
        }
        seed
    }
}

/// What the CRM conformance suites write: property names that exist in the CRM under test,
/// an enrollment target, and a namespace for emails and keys.
///
/// Every contract uses its own emails (`<namespace>-<contract>-<n>@example.com` in mixed case),
/// so the suites can run one after another against the same system. Change `namespace` to
/// run them twice against a system that keeps state.
#[derive(Debug, Clone, PartialEq)]
pub struct CrmFixture {
    /// Prefix for emails, keys and property names.
    pub namespace: String,
    /// A writable text property on contacts (`firstname` in HubSpot, `FirstName` in
    /// Salesforce).
    pub contact_property: String,
    /// A contact property name that does not exist in the CRM.
    pub unknown_property: String,
    /// Properties of a valid order record (may be empty).
    pub order_properties: PropertyMap,
    /// Properties of a valid line item (may be empty).
    pub line_item_properties: PropertyMap,
    /// Where live enrollments go.
    pub enrollment_target: EnrollmentTarget,
    /// The custom property the suites ensure (its `name` gets the namespace prefix).
    pub property: PropertyDefinition,
}

impl Default for CrmFixture {
    /// Names that [`crate::memory::MemoryCrm`] (and HubSpot) know.
    fn default() -> Self {
        Self {
            namespace: "cf".into(),
            contact_property: "firstname".into(),
            unknown_property: "cartograph_no_such_property".into(),
            order_properties: [
                (
                    "dealname".to_owned(),
                    PropertyValue::String("Order #1".into()),
                ),
                ("amount".to_owned(), PropertyValue::Number(10.into())),
            ]
            .into(),
            line_item_properties: [
                ("name".to_owned(), PropertyValue::String("Widget".into())),
                ("quantity".to_owned(), PropertyValue::Number(2.into())),
            ]
            .into(),
            enrollment_target: EnrollmentTarget::List {
                id: "conformance".into(),
            },
            property: PropertyDefinition {
                object: CrmObjectType::Contact,
                name: "conformance_score".into(),
                label: "Conformance score".into(),
                kind: PropertyType::Number,
                options: Vec::new(),
                group: None,
                unique: false,
                description: Some("Written by the Cartograph conformance suite".into()),
            },
        }
    }
}

impl CrmFixture {
    /// A mixed-case email for contract `contract`, number `n`, in this fixture's namespace.
    pub fn email(&self, contract: &str, n: usize) -> cartograph_model::EmailAddress {
        cartograph_model::EmailAddress::new(format!(
            "{}-{contract}-{n}@Example.COM",
            capitalize(&self.namespace)
        ))
        .unwrap_or_else(|| unreachable!("the address is never blank"))
    }

    /// A key for contract `contract`, number `n`, in this fixture's namespace.
    pub fn key(&self, contract: &str, n: usize) -> String {
        format!("{}-{contract}-{n}", self.namespace)
    }

    /// The custom property definition with the namespace prefix applied.
    pub fn namespaced_property(&self) -> PropertyDefinition {
        PropertyDefinition {
            name: format!("{}_{}", self.namespace, self.property.name),
            ..self.property.clone()
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}
