//! What the engine does with events: the recipes, as plain data with sensible defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use cartograph_connector::{ContactKeying, CrmProfile, MappingNames};
use cartograph_core::identity::{MatchModel, RuleSet};
use cartograph_core::mapping::MappingFile;
use cartograph_core::metrics::{MetricsConfig, Rates, TierConfig};
use cartograph_core::reconcile::RecordFields;
use cartograph_core::rules::RulesConfig;
use cartograph_model::{Currency, Decimal, EnrollmentTarget, OrderObject, OrderStatus};

use super::texts::TaskTexts;
use serde::{Deserialize, Serialize};

/// Which orders become CRM order records (deals, opportunities, commerce orders).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrdersAs {
    /// Every order (the default).
    #[default]
    All,
    /// Only high-value or B2B orders (recipe 5 alone).
    HighValueOnly,
    /// None: orders only update contact metrics.
    None,
}

/// Store-side writes driven by CRM changes (recipe 8): CRM property values, list
/// memberships and form submissions that put a customer into a store customer group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReverseConfig {
    /// Contact property whose value picks the customer group (e.g. `ecom_customer_group`).
    pub group_property: Option<String>,
    /// Property value -> store customer group id.
    #[serde(default)]
    pub groups_by_value: BTreeMap<String, String>,
    /// CRM list id -> store customer group id (joining the list assigns the group).
    #[serde(default)]
    pub groups_by_list: BTreeMap<String, String>,
    /// CRM form id -> store customer group id (submitting the form assigns the group).
    #[serde(default)]
    pub groups_by_form: BTreeMap<String, String>,
}

/// The use cases the engine runs, each switchable and tunable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipes {
    /// Recipe 5 and the default order flow: which orders become CRM order records.
    #[serde(default)]
    pub orders_as: OrdersAs,
    /// Recipe 5: an order at or above this total (in the metrics base currency) is
    /// high-value: it always becomes an order record and opens a task for the owner.
    pub high_value_threshold: Option<Decimal>,
    /// Recipe 5: orders with a billing company (B2B) open a task for the owner.
    #[serde(default)]
    pub b2b_tasks: bool,
    /// Recipe 2: order status -> enrollment (live events only).
    #[serde(default)]
    pub status_enrollments: BTreeMap<String, EnrollmentTarget>,
    /// Recipe 3: enrollment when a cart is abandoned (live events only).
    pub abandoned_cart_enrollment: Option<EnrollmentTarget>,
    /// Recipe 7: open a task when an order is refunded.
    #[serde(default = "yes")]
    pub refund_tasks: bool,
    /// Recipe 7: open a task when an order is cancelled.
    #[serde(default = "yes")]
    pub cancellation_tasks: bool,
    /// Recipe 6: sync products.
    #[serde(default = "yes")]
    pub products: bool,
    /// Recipe 8: CRM-to-store group assignment.
    #[serde(default)]
    pub reverse: ReverseConfig,
}

const fn yes() -> bool {
    true
}

impl Default for Recipes {
    fn default() -> Self {
        Self {
            orders_as: OrdersAs::All,
            high_value_threshold: Some(Decimal::new(500, 0)),
            b2b_tasks: true,
            status_enrollments: BTreeMap::new(),
            abandoned_cart_enrollment: None,
            refund_tasks: true,
            cancellation_tasks: true,
            products: true,
            reverse: ReverseConfig::default(),
        }
    }
}

impl Recipes {
    /// The enrollment configured for an order reaching `status`.
    pub fn enrollment_for(&self, status: OrderStatus) -> Option<&EnrollmentTarget> {
        self.status_enrollments.get(status.as_str())
    }
}

/// Everything the engine needs besides connectors and the store. Build it from the CRM's
/// profile with [`EngineConfig::for_profile`]; nothing in it is specific to one CRM.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The CRM profile this config was made for (its name); the pipeline refuses a sink whose
    /// own profile names another CRM. `None` accepts any sink.
    pub profile: Option<String>,
    /// The CRM's name for stored hashes and record ids (defaults to the profile's name, then
    /// to the sink's name).
    pub crm: Option<String>,
    /// Field mappings (the profile's mapping file, merged with any overrides).
    pub mapping: MappingFile,
    /// Mapping names inside `mapping`, per record kind.
    pub mappings: MappingNames,
    /// The CRM object orders become.
    pub order_object: OrderObject,
    /// The order-record properties revenue reconciliation reads.
    pub revenue_fields: RecordFields,
    /// How the CRM keys contacts (email-keyed CRMs get one contact upsert per email).
    pub contact_keying: ContactKeying,
    /// Identity match rules (the hard overrides, and the matcher when no model is set).
    pub identity: RuleSet,
    /// A trained probabilistic match model ([`MatchModel::train`] on the shop's customers,
    /// fitted once and reused): when set, the engine's identity index scores candidates with
    /// it (the rules' external-id and never-merge overrides still apply); `None` matches by
    /// the rules alone.
    pub identity_model: Option<MatchModel>,
    /// Metrics settings (base currency and exchange rates).
    pub metrics: MetricsConfig,
    /// Value tier cut points.
    pub tiers: TierConfig,
    /// Lifecycle, suppression and cart rules.
    pub rules: RulesConfig,
    /// The use cases.
    pub recipes: Recipes,
    /// Texts of the tasks and cases the recipes open.
    pub texts: TaskTexts,
    /// Notifications hydrated at once per batch.
    pub hydrate_concurrency: usize,
    /// How long a batch holds the locks of the people it processes (renewed every third of
    /// it while the batch writes). A worker that dies frees its people after this.
    pub subject_lock_for: Duration,
    /// When an event's person is locked by another worker, the event is put back untried
    /// and taken again after this.
    pub busy_retry_after: Duration,
}

impl EngineConfig {
    /// The defaults for a CRM: its profile's mapping file, mapping names, order object,
    /// revenue fields and contact keying; metrics in `rates`' base currency.
    ///
    /// # Errors
    /// When the profile's mapping file does not parse.
    pub fn for_profile(
        profile: &CrmProfile,
        rates: Rates,
    ) -> Result<Self, cartograph_core::mapping::LoadError> {
        let mapping = MappingFile::from_toml(&profile.mapping_toml)?;
        let fields = &profile.revenue_fields;
        Ok(Self {
            profile: Some(profile.name.to_string()),
            crm: None,
            mapping,
            mappings: profile.mappings.clone(),
            order_object: profile.order_object,
            revenue_fields: {
                let f = RecordFields::new(&fields.amount, &fields.date, &fields.currency);
                if fields.minor_units {
                    f.in_minor_units()
                } else {
                    f
                }
            },
            contact_keying: profile.contact_keying,
            identity: RuleSet::default(),
            identity_model: None,
            metrics: MetricsConfig::new(rates),
            tiers: TierConfig::default(),
            rules: RulesConfig::default(),
            recipes: Recipes::default(),
            texts: TaskTexts::default(),
            hydrate_concurrency: 8,
            subject_lock_for: Duration::from_secs(30),
            busy_retry_after: Duration::from_millis(200),
        })
    }

    /// The metrics base currency.
    pub fn base(&self) -> Currency {
        self.metrics.base()
    }
}
