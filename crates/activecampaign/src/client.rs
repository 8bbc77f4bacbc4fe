//! [`ActiveCampaignClient`]: one method per ActiveCampaign call, sent through
//! `cartograph-http` (auth, the 5 requests/s limiter, retries of 429/503/5xx).

use cartograph_http::url::path_segment;
use std::sync::Arc;

use cartograph_connector::{Result, TransportStats};
use cartograph_http::{HeaderToken, HttpClient, RateLimiter, Request, RequestGate};
use serde_json::{Value, json};

use crate::config::ActiveCampaignConfig;
use crate::error::ActiveCampaignPolicy;
use crate::wire::{
    Connection, ConnectionsPage, Contact, ContactEnvelope, ContactListsPage, ContactSync,
    ContactsPage, Created, EcomCustomer, EcomCustomersPage, EcomOrder, EcomOrderInput,
    EcomOrdersPage, Field, FieldsPage, List, ListsPage, Note, NotesPage, Tag, TagsPage,
};

/// Largest page ActiveCampaign serves.
pub const MAX_PAGE: u32 = 100;

/// Low-level ActiveCampaign API calls. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ActiveCampaignClient {
    http: HttpClient,
}

fn created(value: &Value, name: &str) -> Result<String> {
    let inner = value.get(name).cloned().unwrap_or(Value::Null);
    let created: Created = serde_json::from_value(inner).map_err(|e| {
        cartograph_connector::Error::new(
            cartograph_connector::ErrorKind::Decode,
            format!("cannot decode {name} id: {e}"),
        )
        .with_connector(crate::error::CONNECTOR)
        .with_field(format!("{name}.id"))
    })?;
    Ok(created.id)
}

impl ActiveCampaignClient {
    /// A client for `config` with its own HTTP client and rate limiter.
    ///
    /// # Errors
    /// [`cartograph_connector::ErrorKind::Config`] for a bad URL, token or limit.
    pub fn new(config: &ActiveCampaignConfig) -> Result<Self> {
        let auth = Arc::new(HeaderToken::new("Api-Token", config.api_token.clone())?);
        let limiter = RateLimiter::shared(config.rate_limit())?;
        let http_config = config
            .settings
            .http_config(config.base_url()?, auth, Some(limiter));
        let http = HttpClient::new(http_config, Arc::new(ActiveCampaignPolicy))?;
        Ok(Self { http })
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// account, on every machine) instead of this client's own in-process rate limiter.
    #[must_use]
    pub fn with_request_gate(mut self, gate: Arc<dyn RequestGate>) -> Self {
        self.http = self.http.with_request_gate(gate);
        self
    }

    /// Transport counters.
    pub fn stats(&self) -> TransportStats {
        self.http.stats()
    }

    /// `GET /contacts?email=`: the contact holding `email`, if any.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn find_contact_by_email(&self, email: &str) -> Result<Option<Contact>> {
        let page: ContactsPage = self
            .http
            .send_json(
                Request::get("contacts")
                    .operation("find_contacts")
                    .query("email", email),
            )
            .await?;
        Ok(page
            .contacts
            .into_iter()
            .find(|c| c.email.eq_ignore_ascii_case(email)))
    }

    /// `GET /contacts/{id}`; `None` on 404.
    ///
    /// # Errors
    /// Transport and vendor errors other than 404.
    pub async fn get_contact(&self, id: &str) -> Result<Option<Contact>> {
        match self
            .http
            .send_json::<ContactEnvelope>(
                Request::get(format!("contacts/{}", path_segment(id, "contact id")?))
                    .operation("find_contacts"),
            )
            .await
        {
            Ok(env) => Ok(Some(env.contact)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /contacts` page, oldest change first; `updated_after` is a date
    /// (`YYYY-MM-DD`).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn list_contacts(
        &self,
        updated_after: Option<&str>,
        offset: u64,
        limit: u32,
    ) -> Result<ContactsPage> {
        let mut request = Request::get("contacts")
            .operation("list_contacts")
            .query("limit", limit.clamp(1, MAX_PAGE).to_string())
            .query("offset", offset.to_string())
            .query("orders[udate]", "ASC");
        if let Some(date) = updated_after {
            request = request.query("filters[updated_after]", date);
        }
        self.http.send_json(request).await
    }

    /// `GET /contacts?listid=&status=`: contacts of a list with a status (1 subscribed, 2
    /// unsubscribed), one page.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn list_members(
        &self,
        list: &str,
        status: u8,
        offset: u64,
        limit: u32,
    ) -> Result<ContactsPage> {
        self.http
            .send_json(
                Request::get("contacts")
                    .operation("list_memberships")
                    .query("listid", list)
                    .query("status", status.to_string())
                    .query("limit", limit.clamp(1, MAX_PAGE).to_string())
                    .query("offset", offset.to_string()),
            )
            .await
    }

    /// `POST /contact/sync`: creates or updates by email.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn sync_contact(&self, contact: &ContactSync) -> Result<Contact> {
        let env: ContactEnvelope = self
            .http
            .send_json(
                Request::post("contact/sync")
                    .operation("upsert_contacts")
                    .json(json!({ "contact": contact }))
                    .retry_safe(true),
            )
            .await?;
        Ok(env.contact)
    }

    /// Every custom field (`GET /fields`, paged by 100).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn list_fields(&self) -> Result<Vec<Field>> {
        let mut out = Vec::new();
        loop {
            let page: FieldsPage = self
                .http
                .send_json(
                    Request::get("fields")
                        .operation("ensure_properties")
                        .query("limit", MAX_PAGE.to_string())
                        .query("offset", out.len().to_string()),
                )
                .await?;
            let n = page.fields.len();
            out.extend(page.fields);
            if n == 0 || out.len() as u64 >= page.meta.total() {
                return Ok(out);
            }
        }
    }

    /// `POST /fields`.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn create_field(
        &self,
        title: &str,
        kind: &str,
        perstag: &str,
        descript: &str,
    ) -> Result<String> {
        let value: Value = self
            .http
            .send_json(Request::post("fields").operation("ensure_properties").json(
                json!({ "field": {
                    "title": title, "type": kind, "perstag": perstag, "descript": descript,
                }}),
            ))
            .await?;
        created(&value, "field")
    }

    /// The tag named `name`, if any (`GET /tags?search=`).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn find_tag(&self, name: &str) -> Result<Option<Tag>> {
        let page: TagsPage = self
            .http
            .send_json(Request::get("tags").operation("tags").query("search", name))
            .await?;
        Ok(page
            .tags
            .into_iter()
            .find(|t| t.tag.eq_ignore_ascii_case(name)))
    }

    /// `POST /tags` (a contact tag).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn create_tag(&self, name: &str) -> Result<String> {
        let value: Value = self
            .http
            .send_json(Request::post("tags").operation("tags").json(
                json!({ "tag": { "tag": name, "tagType": "contact", "description": "Synced by Cartograph" }}),
            ))
            .await?;
        created(&value, "tag")
    }

    /// `POST /contactTags`.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn tag_contact(&self, contact: &str, tag: &str) -> Result<()> {
        self.http
            .send(
                Request::post("contactTags")
                    .operation("tags")
                    .json(json!({ "contactTag": { "contact": int(contact), "tag": int(tag) }}))
                    .retry_safe(true),
            )
            .await
            .map(drop)
    }

    /// The list named `name`, if any.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn find_list(&self, name: &str) -> Result<Option<List>> {
        let page: ListsPage = self
            .http
            .send_json(
                Request::get("lists")
                    .operation("lists")
                    .query("filters[name]", name),
            )
            .await?;
        Ok(page.lists.into_iter().find(|l| l.name == name))
    }

    /// The contact's list memberships (`GET /contacts/{id}/contactLists`).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn contact_lists(&self, contact: &str) -> Result<ContactListsPage> {
        self.http
            .send_json(
                Request::get(format!(
                    "contacts/{}/contactLists",
                    path_segment(contact, "contact id")?
                ))
                .operation("lists"),
            )
            .await
    }

    /// `POST /contactLists` with `status` (1 subscribe, 2 unsubscribe).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn set_list_status(&self, list: &str, contact: &str, status: u8) -> Result<()> {
        self.http
            .send(
                Request::post("contactLists")
                    .operation("lists")
                    .json(json!({ "contactList": {
                        "list": list, "contact": contact, "status": status.to_string(),
                    }}))
                    .retry_safe(true),
            )
            .await
            .map(drop)
    }

    /// The connection of `service`/`externalid`, if any.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn find_connection(
        &self,
        service: &str,
        externalid: &str,
    ) -> Result<Option<Connection>> {
        let page: ConnectionsPage = self
            .http
            .send_json(
                Request::get("connections")
                    .operation("connection")
                    .query("filters[service]", service)
                    .query("filters[externalid]", externalid),
            )
            .await?;
        Ok(page
            .connections
            .into_iter()
            .find(|c| c.service == service && c.externalid == externalid))
    }

    /// `POST /connections`.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn create_connection(&self, c: &crate::config::ConnectionSettings) -> Result<String> {
        let value: Value = self
            .http
            .send_json(
                Request::post("connections")
                    .operation("connection")
                    .json(json!({
                        "connection": {
                            "service": c.service, "externalid": c.externalid, "name": c.name,
                            "logoUrl": c.logo_url, "linkUrl": c.link_url,
                        }
                    })),
            )
            .await?;
        created(&value, "connection")
    }

    /// The ecommerce customer of `email` on `connection`, if any.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn find_ecom_customer(
        &self,
        connection: &str,
        email: &str,
    ) -> Result<Option<EcomCustomer>> {
        let page: EcomCustomersPage = self
            .http
            .send_json(
                Request::get("ecomCustomers")
                    .operation("record_orders")
                    .query("filters[email]", email)
                    .query("filters[connectionid]", connection),
            )
            .await?;
        Ok(page
            .ecom_customers
            .into_iter()
            .find(|c| c.email.eq_ignore_ascii_case(email)))
    }

    /// `POST /ecomCustomers`.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn create_ecom_customer(
        &self,
        connection: &str,
        externalid: &str,
        email: &str,
        accepts_marketing: bool,
    ) -> Result<String> {
        let value: Value = self
            .http
            .send_json(
                Request::post("ecomCustomers")
                    .operation("record_orders")
                    .json(json!({
                        "ecomCustomer": {
                            "connectionid": connection, "externalid": externalid, "email": email,
                            "acceptsMarketing": if accepts_marketing { "1" } else { "0" },
                        }
                    })),
            )
            .await?;
        created(&value, "ecomCustomer")
    }

    /// `POST /import/bulk_import` (up to 250 contacts; queued by ActiveCampaign).
    ///
    /// # Errors
    /// Transport and vendor errors; a refused payload is `Invalid` (see
    /// [`crate::error`] for "Rate limit exceeded.").
    pub async fn bulk_import(&self, contacts: &[crate::wire::BulkContact]) -> Result<Value> {
        self.http
            .send_json(
                Request::post("import/bulk_import")
                    .operation("upsert_contacts")
                    .json(json!({ "contacts": contacts }))
                    // Re-sending an import is harmless: contacts are matched by email.
                    .retry_safe(true),
            )
            .await
    }

    /// `PUT /ecomCustomers/{id}` setting `acceptsMarketing`.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn set_accepts_marketing(&self, id: &str, accepts_marketing: bool) -> Result<()> {
        self.http
            .send(
                Request::put(format!(
                    "ecomCustomers/{}",
                    path_segment(id, "ecomCustomer id")?
                ))
                .operation("upsert_contacts")
                .json(json!({ "ecomCustomer": {
                    "acceptsMarketing": if accepts_marketing { "1" } else { "0" },
                }})),
            )
            .await
            .map(drop)
    }

    /// Ecommerce orders of `connection` with this order id (`filter = "externalid"`) or
    /// cart id (`"externalcheckoutid"`).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn find_ecom_order(
        &self,
        connection: &str,
        filter: &str,
        value: &str,
    ) -> Result<Option<EcomOrder>> {
        let page: EcomOrdersPage = self
            .http
            .send_json(
                Request::get("ecomOrders")
                    .operation("record_orders")
                    .query("filters[connectionid]", connection)
                    .query(format!("filters[{filter}]"), value),
            )
            .await?;
        Ok(page.ecom_orders.into_iter().find(|o| {
            let got = if filter == "externalid" {
                &o.externalid
            } else {
                &o.externalcheckoutid
            };
            got.as_deref() == Some(value)
        }))
    }

    /// One page of the ecommerce orders of `connection` (`limit` at most 100, `offset`);
    /// the orders and the listing's total.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn list_ecom_orders(
        &self,
        connection: &str,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<EcomOrder>, Option<u64>)> {
        let page: EcomOrdersPage = self
            .http
            .send_json(
                Request::get("ecomOrders")
                    .operation("read_orders")
                    .query("filters[connectionid]", connection)
                    .query("limit", limit.to_string())
                    .query("offset", offset.to_string()),
            )
            .await?;
        let total = page.meta.map(|m| m.total());
        Ok((page.ecom_orders, total))
    }

    /// `POST /ecomOrders`.
    ///
    /// # Errors
    /// Transport and vendor errors (422 `duplicate` is a Conflict).
    pub async fn create_ecom_order(&self, order: &EcomOrderInput) -> Result<String> {
        let value: Value = self
            .http
            .send_json(
                Request::post("ecomOrders")
                    .operation("record_orders")
                    .json(json!({ "ecomOrder": order })),
            )
            .await?;
        created(&value, "ecomOrder")
    }

    /// `PUT /ecomOrders/{id}`.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn update_ecom_order(&self, id: &str, order: &EcomOrderInput) -> Result<()> {
        self.http
            .send(
                Request::put(format!("ecomOrders/{}", path_segment(id, "ecomOrder id")?))
                    .operation("record_orders")
                    .json(json!({ "ecomOrder": order })),
            )
            .await
            .map(drop)
    }

    /// Notes on a contact.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn contact_notes(&self, contact: &str) -> Result<Vec<Note>> {
        let page: NotesPage = self
            .http
            .send_json(
                Request::get(format!(
                    "contacts/{}/notes",
                    path_segment(contact, "contact id")?
                ))
                .operation("create_tasks"),
            )
            .await?;
        Ok(page.notes)
    }

    /// `POST /notes` on a contact (`reltype` `Subscriber`).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn create_note(&self, contact: &str, text: &str) -> Result<String> {
        let value: Value = self
            .http
            .send_json(
                Request::post("notes")
                    .operation("create_tasks")
                    .json(json!({
                        "note": { "note": text, "reltype": "Subscriber", "relid": int(contact) }
                    })),
            )
            .await?;
        created(&value, "note")
    }

    /// `POST /contactAutomations`.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn add_to_automation(&self, contact: &str, automation: &str) -> Result<String> {
        let value: Value = self
            .http
            .send_json(Request::post("contactAutomations").operation("enroll").json(json!({
                "contactAutomation": { "contact": int(contact), "automation": int(automation) }
            })))
            .await?;
        created(&value, "contactAutomation")
    }

    /// `POST /webhooks` for contact changes, from every source but `api` (so our own
    /// writes do not come back).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn register_webhook(&self, name: &str, url: &str) -> Result<String> {
        let value: Value = self
            .http
            .send_json(
                Request::post("webhooks")
                    .operation("register_webhook")
                    .json(json!({
                        "webhook": {
                            "name": name, "url": url,
                            "events": ["update", "subscribe", "unsubscribe"],
                            "sources": ["public", "admin", "system"],
                        }
                    })),
            )
            .await?;
        created(&value, "webhook")
    }
}

/// An id as a JSON integer when it is one (the spec types these ids as integers).
fn int(id: &str) -> Value {
    id.parse::<i64>()
        .map_or_else(|_| Value::String(id.to_owned()), Value::from)
}
