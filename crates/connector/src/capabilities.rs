//! What a connector supports, declared up front.

use serde::{Deserialize, Serialize};

/// Record streams a source can list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// Customers.
    Customers,
    /// Orders.
    Orders,
    /// Refunds.
    Refunds,
    /// Products.
    Products,
    /// Categories.
    Categories,
    /// Brands.
    Brands,
    /// Customer groups.
    CustomerGroups,
    /// Carts.
    Carts,
    /// CRM contacts.
    Contacts,
    /// CRM form submissions.
    FormSubmissions,
    /// CRM list memberships.
    ListMemberships,
}

impl Stream {
    /// Stable lowercase name, used as a checkpoint key.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Customers => "customers",
            Self::Orders => "orders",
            Self::Refunds => "refunds",
            Self::Products => "products",
            Self::Categories => "categories",
            Self::Brands => "brands",
            Self::CustomerGroups => "customer_groups",
            Self::Carts => "carts",
            Self::Contacts => "contacts",
            Self::FormSubmissions => "form_submissions",
            Self::ListMemberships => "list_memberships",
        }
    }
}

/// Ways a CRM can enroll a contact in automation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentMethod {
    /// Direct workflow enrollment.
    Workflow,
    /// Static list membership.
    List,
    /// Campaign membership.
    Campaign,
    /// Automation (ActiveCampaign).
    Automation,
    /// A property a workflow watches.
    TriggerProperty,
}

/// What a connector can do. Operations outside these return `ErrorKind::Unsupported`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Streams that can be listed.
    pub list: Vec<Stream>,
    /// Streams that can be listed with a `since` filter (delta sync).
    pub delta: Vec<Stream>,
    /// Whether inbound webhooks are parsed.
    pub webhooks: bool,
    /// Whether webhook signatures are verified.
    pub webhook_signatures: bool,
    /// Largest batch accepted by a batch write (contacts, customers).
    pub max_batch: usize,
    /// Whether orders can be recorded (CRM sinks).
    pub orders: bool,
    /// Whether products can be recorded (CRM sinks).
    pub products: bool,
    /// Whether tasks or cases can be opened (CRM sinks).
    pub tasks: bool,
    /// Enrollment methods supported (CRM sinks).
    pub enrollment: Vec<EnrollmentMethod>,
    /// Whether custom properties can be created (CRM sinks).
    pub property_definitions: bool,
    /// Whether order records can be read back for reconciliation (CRM sinks:
    /// `read_orders` and `find_orders`).
    #[serde(default)]
    pub order_read_back: bool,
    /// Whether customers can be written back (commerce writers).
    pub customer_writes: bool,
    /// Whether customer groups can be created and assigned (commerce writers).
    pub customer_groups: bool,
    /// Whether shoppers can be added to segments (commerce writers).
    pub segments: bool,
}

impl Capabilities {
    /// Whether `stream` can be listed.
    pub fn can_list(&self, stream: Stream) -> bool {
        self.list.contains(&stream)
    }

    /// Whether `stream` supports delta listing.
    pub fn can_delta(&self, stream: Stream) -> bool {
        self.delta.contains(&stream)
    }
}
