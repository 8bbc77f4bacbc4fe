//! Labelled synthetic commerce customers for identity resolution (and later orders and carts).
//!
//! [`generate`] builds a [`Dataset`] from a [`GeneratorConfig`]: a list of ground-truth
//! [`Person`]s and a shuffled list of [`LabelledCustomer`] records, each a canonical
//! [`cartograph_model::Customer`] (store accounts, guest-order billing persons, CRM contacts)
//! with the label of the person it really is. Output is deterministic for a seed and size on
//! a given platform and `rand` version.
//!
//! What makes it hard, on purpose:
//! - duplicates of one person across systems: email case variants, Gmail dot and plus-tag
//!   aliases, phones in several national and international formats (and foreign `+` numbers
//!   on records of another country), nicknames, name typos, stripped diacritics, address
//!   spelling variants, guest orders, sparse records, changed email addresses
//!   ([`DuplicateKind`]);
//! - households that share an address, often a phone and sometimes an email address;
//! - different people with the same name (common names are drawn more often, plus explicit
//!   namesakes).
//!
//! ```
//! use cartograph_testkit::generate::{GeneratorConfig, cluster_quality, generate};
//!
//! let data = generate(&GeneratorConfig::new(7, 1_000));
//! assert_eq!(data.records.len(), 1_000);
//! let truth = data.labels();
//! // a perfect resolver scores 1.0
//! let q = cluster_quality(&truth, &truth);
//! assert_eq!((q.precision, q.recall, q.wrongly_merged_clusters), (1.0, 1.0, 0));
//! // building orders: every record names its person
//! let person = data.person(data.records[0].person);
//! assert!(!person.email.is_empty());
//! ```

mod people;
mod pools;
mod records;
mod score;

use cartograph_model::{Address, Customer};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use time::Date;

pub use score::{ClusterQuality, cluster_quality};

/// Ground-truth person label: the index of the person in [`Dataset::people`].
pub type PersonLabel = u32;

/// Generator settings. Shares are fractions in `0.0..=1.0`.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// Seed.
    pub seed: u64,
    /// Records to produce (1k to 1M are the tested sizes).
    pub records: usize,
    /// Share of records that are extra records of an already generated person.
    pub duplicate_share: f64,
    /// Share of people who join an earlier person's household (same address).
    pub household_share: f64,
    /// Share of household members who share the household phone.
    pub shared_phone_share: f64,
    /// Share of household members who share an email address with the household.
    pub shared_email_share: f64,
    /// Share of people who copy the full name of an unrelated earlier person.
    pub namesake_share: f64,
}

impl GeneratorConfig {
    /// Defaults for a seed and size: 35 % duplicates, 12 % household members (50 % share a
    /// phone, 20 % an email), 2 % explicit namesakes.
    pub fn new(seed: u64, records: usize) -> Self {
        Self {
            seed,
            records,
            duplicate_share: 0.35,
            household_share: 0.12,
            shared_phone_share: 0.5,
            shared_email_share: 0.2,
            namesake_share: 0.02,
        }
    }
}

/// A phone number of a person: its country and E.164 form (the ground truth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    /// ISO alpha-2 country of the number.
    pub country: &'static str,
    /// E.164.
    pub e164: String,
}

/// A ground-truth person.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// The label (index).
    pub label: PersonLabel,
    /// First name (proper spelling, may carry diacritics).
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Primary email (unique per person, unless shared within a household).
    pub email: String,
    /// Phone, if the person has one.
    pub phone: Option<PhoneNumber>,
    /// Home address (billing).
    pub address: Address,
    /// Date of birth, if known.
    pub birth_date: Option<Date>,
    /// Employer, if any.
    pub company: Option<String>,
    /// Household id (the label of its first member), if in a household with others.
    pub household: Option<PersonLabel>,
}

/// How a record was derived from its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RecordOrigin {
    /// The person's first store account: clean data.
    Account,
    /// An extra record of the same person.
    Duplicate(DuplicateKind),
}

/// The duplicate kinds the generator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DuplicateKind {
    /// Same data in another system (e.g. the HubSpot contact).
    Copy,
    /// Email with other letter case.
    EmailCase,
    /// Gmail dots or a `+tag` on a provider with plus addressing.
    EmailAlias,
    /// Phone written in another format.
    PhoneFormat,
    /// First name as a nickname (Bob for Robert).
    Nickname,
    /// One typo in the first or last name.
    NameTypo,
    /// Diacritics stripped or transliterated, or names in capitals.
    Diacritics,
    /// Address written differently (abbreviations, case, postcode spacing, country name).
    AddressFormat,
    /// A guest order's billing person: email, name, address, sometimes a phone.
    GuestOrder,
    /// Only email and first name.
    Sparse,
    /// A different email address; same name, phone and address.
    EmailChanged,
}

/// One generated record with its ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledCustomer {
    /// The person it really is.
    pub person: PersonLabel,
    /// How it was derived.
    pub origin: RecordOrigin,
    /// The record.
    pub customer: Customer,
}

/// A generated data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Ground-truth people, by label.
    pub people: Vec<Person>,
    /// Records, shuffled.
    pub records: Vec<LabelledCustomer>,
}

impl Dataset {
    /// The person label of every record, in record order.
    pub fn labels(&self) -> Vec<PersonLabel> {
        self.records.iter().map(|r| r.person).collect()
    }

    /// A person by label.
    pub fn person(&self, label: PersonLabel) -> &Person {
        &self.people[label as usize]
    }
}

/// Generates a labelled data set.
pub fn generate(config: &GeneratorConfig) -> Dataset {
    let mut rng = StdRng::seed_from_u64(config.seed);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let people_count = ((config.records as f64 * (1.0 - config.duplicate_share)).round() as usize)
        .clamp(usize::from(config.records > 0), config.records.max(1));
    let people = people::people(&mut rng, config, people_count);
    let mut records = records::records(&mut rng, &people, config.records);
    records.shuffle(&mut rng);
    Dataset { people, records }
}
