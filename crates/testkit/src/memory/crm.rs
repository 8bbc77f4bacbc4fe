//! [`MemoryCrm`]: an in-memory CRM (sink and source).

use std::sync::{Arc, Mutex, MutexGuard};

use cartograph_connector::{Capabilities, EnrollmentMethod, Error, ErrorKind, Result, Stream};
use cartograph_model::{
    Association, CrmContact, CrmEventKind, CrmObjectType, EmailAddress, FormSubmission,
    MembershipChange, PropertyDefinition, PropertyMap, PropertyType, PropertyValue,
};

use super::crm_state::{
    CrmState, MemoryEnrollment, MemoryOrder, MemoryProduct, MemoryTask, WriteCounts,
};
use super::support::{Clock, Faults, lock};

/// An in-memory CRM implementing both [`CrmSink`](cartograph_connector::CrmSink) and
/// [`CrmSource`](cartograph_connector::CrmSource), shaped after HubSpot's rules:
///
/// - Contacts are unique by normalized email; secondary emails find the contact too.
/// - `upsert_contacts` answers `Created` / `Updated` / `Unchanged` per input, in order; two
///   inputs for the same contact in one batch both fail with `Invalid` (vendor code
///   `DUPLICATE_INPUT`); a batch over [`MemoryCrmBuilder::max_batch`] (default 100) fails as a
///   whole with `Invalid`; writing an undefined property fails that record with `Invalid`
///   (vendor code `PROPERTY_DOESNT_EXIST`) while the rest of the batch is written.
/// - Orders, products and tasks are idempotent by key; historical enrollments answer
///   `Unchanged` and are not recorded.
/// - Every contact change emits a CRM event; this integration's own writes carry the app id
///   and come back from [`CrmSource::parse_webhook`](cartograph_connector::CrmSource::parse_webhook)
///   with `is_own_write = true`. [`MemoryCrm::edit_contact_as_user`] makes foreign changes.
///
/// ```
/// use cartograph_connector::{CrmSink, WriteStatus};
/// use cartograph_model::{ContactUpsert, EmailAddress, IdentityKeys, Origin};
/// use cartograph_testkit::memory::MemoryCrm;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let crm = MemoryCrm::new();
/// let upsert = ContactUpsert {
///     key: "p1".into(),
///     identity: IdentityKeys { email: EmailAddress::new("Jane@Example.com"), ..Default::default() },
///     properties: Default::default(),
///     origin: Origin::Live,
/// };
/// let out = crm.upsert_contacts(&[upsert.clone()]).await?;
/// assert!(matches!(out[0].status, WriteStatus::Created));
/// let again = crm.upsert_contacts(&[upsert]).await?;
/// assert!(matches!(again[0].status, WriteStatus::Unchanged));
/// assert_eq!(crm.contacts().len(), 1);
/// # Ok::<(), cartograph_connector::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct MemoryCrm {
    pub(crate) shared: Arc<CrmShared>,
}

#[derive(Debug)]
pub(crate) struct CrmShared {
    pub(crate) name: String,
    pub(crate) app_id: String,
    pub(crate) page_size: usize,
    pub(crate) max_batch: usize,
    pub(crate) strict_properties: bool,
    pub(crate) webhook_secret: Option<String>,
    pub(crate) capabilities: Capabilities,
    pub(crate) state: Mutex<CrmState>,
    pub(crate) faults: Faults,
    pub(crate) clock: Clock,
}

/// The properties a new [`MemoryCrm`] knows (HubSpot's names).
const DEFAULT_PROPERTIES: &[(CrmObjectType, &[&str])] = &[
    (
        CrmObjectType::Contact,
        &[
            "email",
            "firstname",
            "lastname",
            "phone",
            "company",
            "city",
            "country",
            "lifecyclestage",
        ],
    ),
    (
        CrmObjectType::Deal,
        &[
            "dealname",
            "amount",
            "dealstage",
            "pipeline",
            "closedate",
            "deal_currency_code",
        ],
    ),
    (
        CrmObjectType::Order,
        &["name", "amount", "status", "currency", "order_number"],
    ),
    (
        CrmObjectType::LineItem,
        &["name", "sku", "quantity", "price", "amount"],
    ),
    (
        CrmObjectType::Product,
        &["name", "sku", "price", "description"],
    ),
];

/// Builds a [`MemoryCrm`].
#[derive(Debug, Clone)]
pub struct MemoryCrmBuilder {
    name: String,
    app_id: String,
    page_size: usize,
    max_batch: usize,
    strict_properties: bool,
    webhook_secret: Option<String>,
    capabilities: Option<Capabilities>,
    clock: Clock,
}

impl MemoryCrmBuilder {
    /// The system name (default `"memory-crm"`).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// This integration's app id, stamped on its own writes (default `"cartograph"`).
    #[must_use]
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = app_id.into();
        self
    }

    /// The largest page `list_*` returns (default 100, at least 1).
    #[must_use]
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// The largest batch a write accepts (default 100, like HubSpot).
    #[must_use]
    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch;
        self
    }

    /// Accepts any property name instead of failing undefined ones (for pipeline tests that
    /// do not care about property definitions).
    #[must_use]
    pub fn allow_any_property(mut self) -> Self {
        self.strict_properties = false;
        self
    }

    /// Requires CRM webhooks to carry this secret in the [`CRM_SECRET_HEADER`](super::CRM_SECRET_HEADER) header.
    #[must_use]
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = Some(secret.into());
        self
    }

    /// Overrides the declared capabilities; operations outside them answer `Unsupported`.
    #[must_use]
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// Shares a clock (e.g. with a [`MemoryCommerce`](super::MemoryCommerce)).
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the CRM with the default property definitions.
    pub fn build(self) -> MemoryCrm {
        let capabilities = self.capabilities.unwrap_or_else(|| Capabilities {
            list: vec![
                Stream::Contacts,
                Stream::FormSubmissions,
                Stream::ListMemberships,
            ],
            delta: vec![
                Stream::Contacts,
                Stream::FormSubmissions,
                Stream::ListMemberships,
            ],
            webhooks: true,
            webhook_signatures: self.webhook_secret.is_some(),
            max_batch: self.max_batch,
            orders: true,
            products: true,
            tasks: true,
            enrollment: vec![
                EnrollmentMethod::Workflow,
                EnrollmentMethod::List,
                EnrollmentMethod::Campaign,
                EnrollmentMethod::Automation,
                EnrollmentMethod::TriggerProperty,
            ],
            property_definitions: true,
            ..Capabilities::default()
        });
        let mut state = CrmState::default();
        for (object, names) in DEFAULT_PROPERTIES {
            for name in *names {
                state.properties.insert(
                    (object.clone(), (*name).to_owned()),
                    PropertyDefinition {
                        object: object.clone(),
                        name: (*name).to_owned(),
                        label: (*name).to_owned(),
                        kind: PropertyType::String,
                        options: Vec::new(),
                        group: None,
                        unique: false,
                        description: None,
                    },
                );
            }
        }
        MemoryCrm {
            shared: Arc::new(CrmShared {
                name: self.name,
                app_id: self.app_id,
                page_size: self.page_size,
                max_batch: self.max_batch,
                strict_properties: self.strict_properties,
                webhook_secret: self.webhook_secret,
                capabilities,
                state: Mutex::new(state),
                faults: Faults::default(),
                clock: self.clock,
            }),
        }
    }
}

impl Default for MemoryCrm {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCrm {
    /// An empty CRM with the default settings.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> MemoryCrmBuilder {
        MemoryCrmBuilder {
            name: "memory-crm".into(),
            app_id: "cartograph".into(),
            page_size: 100,
            max_batch: 100,
            strict_properties: true,
            webhook_secret: None,
            capabilities: None,
            clock: Clock::default(),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, CrmState> {
        lock(&self.shared.state)
    }

    /// The fault injector and call counter.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The clock stamped on writes.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// Defines (or redefines) a property, as an admin would.
    pub fn define_property(&self, definition: PropertyDefinition) {
        self.state().properties.insert(
            (definition.object.clone(), definition.name.clone()),
            definition,
        );
    }

    /// Creates a contact as a person in the CRM would (not this integration); its id.
    ///
    /// # Errors
    /// `Conflict` when a contact already has the email.
    pub fn create_contact_as_user(
        &self,
        email: &EmailAddress,
        properties: &PropertyMap,
    ) -> Result<String> {
        let now = self.shared.clock.now();
        let mut state = self.state();
        if let Some(id) = state.contact_by_email(email) {
            return Err(
                Error::new(ErrorKind::Conflict, format!("contact {id} has this email"))
                    .with_connector(self.shared.name.clone())
                    .with_operation("create_contact_as_user"),
            );
        }
        let id = state.next_id("contact");
        state
            .emails
            .insert(email.normalized().to_owned(), id.clone());
        state.contacts.insert(
            id.clone(),
            CrmContact {
                crm_id: id.clone(),
                email: Some(email.clone()),
                secondary_emails: Vec::new(),
                properties: PropertyMap::new(),
                updated_at: Some(now),
            },
        );
        state.event(
            now,
            None,
            CrmEventKind::ContactCreated { crm_id: id.clone() },
        );
        state.set_properties(&id, properties, now, None);
        Ok(id)
    }

    /// Changes one contact property as a person in the CRM UI would: the event is not an own
    /// write.
    ///
    /// # Errors
    /// `NotFound` for an unknown contact.
    pub fn edit_contact_as_user(
        &self,
        crm_id: &str,
        property: &str,
        value: PropertyValue,
    ) -> Result<()> {
        let now = self.shared.clock.now();
        let mut state = self.state();
        if !state.contacts.contains_key(crm_id) {
            return Err(Error::new(ErrorKind::NotFound, "no such contact")
                .with_connector(self.shared.name.clone())
                .with_operation("edit_contact_as_user")
                .with_record(crm_id.to_owned()));
        }
        state.set_properties(crm_id, &[(property.to_owned(), value)].into(), now, None);
        Ok(())
    }

    /// Deletes a contact as a person would; whether it existed.
    pub fn delete_contact_as_user(&self, crm_id: &str) -> bool {
        let now = self.shared.clock.now();
        let mut state = self.state();
        let Some(contact) = state.contacts.remove(crm_id) else {
            return false;
        };
        for email in contact.email.iter().chain(&contact.secondary_emails) {
            state.emails.remove(email.normalized());
        }
        state.event(
            now,
            None,
            CrmEventKind::ContactDeleted {
                crm_id: crm_id.to_owned(),
            },
        );
        true
    }

    /// Records a form submission (listed by `list_form_submissions`).
    pub fn add_form_submission(&self, submission: FormSubmission) {
        self.state().submissions.push(submission);
    }

    /// Records a list membership change (listed by `list_memberships`).
    pub fn add_membership(&self, change: MembershipChange) {
        self.state().memberships.push(change);
    }

    /// Every contact, by id.
    pub fn contacts(&self) -> Vec<CrmContact> {
        self.state().contacts.values().cloned().collect()
    }

    /// The contact with this email (primary or secondary, case-insensitive).
    pub fn contact_by_email(&self, email: &str) -> Option<CrmContact> {
        let state = self.state();
        let email = EmailAddress::new(email)?;
        state
            .contact_by_email(&email)
            .and_then(|id| state.contacts.get(id))
            .cloned()
    }

    /// Every recorded order, by key.
    pub fn orders(&self) -> Vec<MemoryOrder> {
        self.state().orders.values().cloned().collect()
    }

    /// Every recorded product, by key.
    pub fn products(&self) -> Vec<MemoryProduct> {
        self.state().products.values().cloned().collect()
    }

    /// Every opened task, by key.
    pub fn tasks(&self) -> Vec<MemoryTask> {
        self.state().tasks.values().cloned().collect()
    }

    /// Every recorded (live) enrollment, in order.
    pub fn enrollments(&self) -> Vec<MemoryEnrollment> {
        self.state().enrollments.clone()
    }

    /// Every association, in order.
    pub fn associations(&self) -> Vec<Association> {
        self.state().associations.clone()
    }

    /// Every property definition.
    pub fn properties(&self) -> Vec<PropertyDefinition> {
        self.state().properties.values().cloned().collect()
    }

    /// What the writes did so far.
    pub fn counts(&self) -> WriteCounts {
        self.state().counts
    }
}
