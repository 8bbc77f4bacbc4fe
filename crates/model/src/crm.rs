//! The CRM side, as intents rather than vendor objects: what to write and what was read.
//!
//! Each CRM connector turns these into its own API calls (HubSpot contacts and deals,
//! Salesforce Contacts and Opportunities, ActiveCampaign contacts and ecommerce orders).

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::common::{EmailAddress, Origin, SourceRef};
use crate::timestamp::Timestamp;

/// A CRM object type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrmObjectType {
    /// Contact / Lead.
    Contact,
    /// Company / Account.
    Company,
    /// Deal / Opportunity.
    Deal,
    /// Commerce order object.
    Order,
    /// Order or deal line item.
    LineItem,
    /// Product.
    Product,
    /// Task.
    Task,
    /// Case / ticket.
    Case,
    /// Commerce cart object.
    Cart,
    /// Any other object, by the CRM's name.
    Custom(String),
}

impl fmt::Display for CrmObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Contact => "contact",
            Self::Company => "company",
            Self::Deal => "deal",
            Self::Order => "order",
            Self::LineItem => "line_item",
            Self::Product => "product",
            Self::Task => "task",
            Self::Case => "case",
            Self::Cart => "cart",
            Self::Custom(name) => name,
        };
        f.write_str(s)
    }
}

/// A typed CRM property value. Connectors format it the way their API wants (HubSpot wants
/// every value as a string, ActiveCampaign money in cents).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum PropertyValue {
    /// Text.
    String(String),
    /// An exact number.
    Number(Decimal),
    /// A boolean.
    Bool(bool),
    /// A calendar date.
    Date(Date),
    /// An instant.
    DateTime(Timestamp),
    /// One option of an enumeration property (the option's internal value).
    Enumeration(String),
    /// Several options of a multi-select property.
    MultiEnumeration(Vec<String>),
    /// Clear the property.
    Null,
}

impl PropertyValue {
    /// Type name used in error messages.
    pub const fn type_name(&self) -> &'static str {
        match self {
            Self::String(_) => "string",
            Self::Number(_) => "number",
            Self::Bool(_) => "bool",
            Self::Date(_) => "date",
            Self::DateTime(_) => "datetime",
            Self::Enumeration(_) => "enumeration",
            Self::MultiEnumeration(_) => "multi_enumeration",
            Self::Null => "null",
        }
    }
}

/// Property values by property name, in a stable order (so hashes are stable).
pub type PropertyMap = BTreeMap<String, PropertyValue>;

/// The keys a CRM can look a contact up by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityKeys {
    /// Primary email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// Other emails known for the person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secondary_emails: Vec<EmailAddress>,
    /// Phone in E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Store records that belong to the person.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_ids: Vec<SourceRef>,
    /// The CRM record id, when already linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm_id: Option<String>,
}

/// How to point at a contact in a write.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRef {
    /// By the CRM's record id.
    CrmId(String),
    /// By email (the CRM's unique key for contacts).
    Email(EmailAddress),
}

/// Create or update one contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactUpsert {
    /// Caller's key, echoed in the outcome (e.g. the person id).
    pub key: String,
    /// How to find the contact.
    pub identity: IdentityKeys,
    /// Properties to set.
    pub properties: PropertyMap,
    /// Live or backfill.
    #[serde(default)]
    pub origin: Origin,
}

/// A contact found in a CRM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrmContact {
    /// The CRM record id.
    pub crm_id: String,
    /// Primary email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// Other emails on the record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secondary_emails: Vec<EmailAddress>,
    /// Properties read (as the CRM returned them).
    #[serde(default)]
    pub properties: PropertyMap,
    /// When the record last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
}

/// A line item attached to an order record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItemRecord {
    /// Stable key (unique within the order).
    pub key: String,
    /// Key of the line's product: the key of that product's [`ProductRecord`]
    /// (`{system}/product/{id}`), by which a sink finds the synced product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_key: Option<String>,
    /// Properties.
    pub properties: PropertyMap,
}

/// The CRM object an order becomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderObject {
    /// Deal / Opportunity (the connector's default).
    #[default]
    Deal,
    /// The CRM's commerce order object (HubSpot orders, Salesforce Order, ActiveCampaign
    /// ecommerce order).
    Order,
}

/// Create or update an order (deal, opportunity, commerce order) with its line items and
/// its association to the contact. Idempotent by `key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// Unique order key (stored in the CRM's unique order-id property).
    pub key: String,
    /// Which CRM object to write.
    #[serde(default)]
    pub object: OrderObject,
    /// The buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactRef>,
    /// Properties of the order object.
    pub properties: PropertyMap,
    /// Line items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItemRecord>,
    /// Live or backfill.
    #[serde(default)]
    pub origin: Origin,
}

/// Create or update a product. Idempotent by `key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRecord {
    /// Unique product key (stored in the CRM's unique product-id property).
    pub key: String,
    /// Properties.
    pub properties: PropertyMap,
}

/// A pointer to a CRM record for associations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    /// Object type.
    pub object: CrmObjectType,
    /// CRM record id.
    pub id: String,
}

/// Link two CRM records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Association {
    /// From.
    pub from: RecordRef,
    /// To.
    pub to: RecordRef,
    /// Association label; `None` uses the CRM's default type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Task or case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A to-do for a person.
    #[default]
    Task,
    /// A support case / ticket.
    Case,
}

/// Task priority.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskPriority {
    /// Low.
    Low,
    /// Medium.
    #[default]
    Medium,
    /// High.
    High,
}

/// Open a task or case (refund follow-up, high-value cart, B2B order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRequest {
    /// Idempotency key: the same key never opens a second task.
    pub key: String,
    /// Task or case.
    #[serde(default)]
    pub kind: TaskKind,
    /// Subject line.
    pub subject: String,
    /// Body text.
    #[serde(default)]
    pub body: String,
    /// Priority.
    #[serde(default)]
    pub priority: TaskPriority,
    /// Due time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// Contact it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactRef>,
    /// Order it concerns (its [`OrderRecord::key`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_key: Option<String>,
    /// Owner (CRM user id); `None` means the contact's owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
}

/// Where to enroll a contact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum EnrollmentTarget {
    /// A workflow the CRM can enroll into directly.
    Workflow {
        /// Workflow id.
        id: String,
    },
    /// A static list whose membership triggers automation.
    List {
        /// List id.
        id: String,
    },
    /// A campaign (Salesforce campaign member).
    Campaign {
        /// Campaign id.
        id: String,
    },
    /// An automation (ActiveCampaign).
    Automation {
        /// Automation id.
        id: String,
    },
    /// Set a property that a workflow watches.
    TriggerProperty {
        /// Property name.
        name: String,
        /// Value to set.
        value: PropertyValue,
    },
}

/// Enroll a contact in a workflow, list, campaign or automation.
///
/// Connectors refuse (outcome `Unchanged`) enrollments whose origin is historical: backfills
/// never trigger automations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentRequest {
    /// Idempotency key.
    pub key: String,
    /// The contact.
    pub contact: ContactRef,
    /// Where to enroll.
    pub target: EnrollmentTarget,
    /// Why (for logs and the run report).
    #[serde(default)]
    pub reason: String,
    /// Live or backfill.
    #[serde(default)]
    pub origin: Origin,
}

/// The type of a CRM property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertyType {
    /// Text.
    String,
    /// Number.
    Number,
    /// Boolean.
    Bool,
    /// Date.
    Date,
    /// Date and time.
    DateTime,
    /// One of a set of options.
    Enumeration,
    /// Several of a set of options.
    MultiEnumeration,
}

/// One option of an enumeration property.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PropertyOption {
    /// Internal value.
    pub value: String,
    /// Label shown to users.
    pub label: String,
}

/// A custom property the integration needs in the CRM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyDefinition {
    /// The object it belongs to.
    pub object: CrmObjectType,
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Type.
    #[serde(rename = "type")]
    pub kind: PropertyType,
    /// Options, for enumerations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<PropertyOption>,
    /// Property group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Whether values are unique (usable as an upsert key).
    #[serde(default)]
    pub unique: bool,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A form submission read from a CRM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormSubmission {
    /// Form id.
    pub form_id: String,
    /// Submission id, when the CRM has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When submitted.
    pub submitted_at: Timestamp,
    /// Email submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// Contact record, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_crm_id: Option<String>,
    /// Field values.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Page the form was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
}

/// A contact joined or left a list or segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipChange {
    /// List or segment id.
    pub list_id: String,
    /// Contact record id.
    pub contact_crm_id: String,
    /// Joined (`true`) or left.
    pub added: bool,
    /// When.
    pub at: Timestamp,
}

/// Something that happened in a CRM, for CRM-to-store flows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrmEvent {
    /// The CRM's event id (dedupe key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Whether the change was made by this integration (an echo of our own write): the
    /// pipeline must not write it back.
    #[serde(default)]
    pub is_own_write: bool,
    /// What changed it, as the CRM says (`API`, `CRM_UI`, `FORM`, an app id...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_source: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub kind: CrmEventKind,
}

/// What happened in the CRM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CrmEventKind {
    /// A contact was created.
    ContactCreated {
        /// Record id.
        crm_id: String,
    },
    /// A contact property changed.
    ContactPropertyChanged {
        /// Record id.
        crm_id: String,
        /// Property name.
        property: String,
        /// New value as the CRM sent it (`None` = cleared).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// A contact was deleted.
    ContactDeleted {
        /// Record id.
        crm_id: String,
    },
    /// Two contacts were merged.
    ContactMerged {
        /// The surviving record.
        crm_id: String,
        /// The records merged into it.
        merged_ids: Vec<String>,
    },
    /// List membership changed.
    MembershipChanged {
        /// The change.
        change: MembershipChange,
    },
    /// A form was submitted.
    FormSubmitted {
        /// The submission.
        submission: Box<FormSubmission>,
    },
    /// An event of a type Cartograph does not act on (a subscription the app should not
    /// have, or one newer than this version). Kept so it is counted and visible as a dead
    /// letter instead of vanishing.
    Unhandled {
        /// The vendor's event type (e.g. HubSpot's `subscriptionType`).
        topic: String,
        /// The record the event is about, when it names one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        object_id: Option<String>,
    },
}
