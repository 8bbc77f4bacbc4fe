//! Serde types mirroring the ActiveCampaign v3 API (vendor field names kept). Ids arrive as
//! strings (`"id": "12"`) and sometimes as numbers; [`id`] reads both.

use serde::{Deserialize, Deserializer, Serialize};

/// Reads an id given as a string or a number.
///
/// # Errors
/// When the value is neither.
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(i64),
    }
    Ok(match Id::deserialize(d)? {
        Id::S(s) => s,
        Id::N(n) => n.to_string(),
    })
}

/// Writes an id as a JSON integer when it is one (the spec types Deep Data ids as
/// integers), else as a string.
///
/// # Errors
/// Never, beyond the serializer's own.
pub fn int_id<S: serde::Serializer>(id: &str, s: S) -> Result<S::Ok, S::Error> {
    match id.parse::<i64>() {
        Ok(n) => s.serialize_i64(n),
        Err(_) => s.serialize_str(id),
    }
}

fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(i64),
        Null,
    }
    Ok(match Option::<Id>::deserialize(d)? {
        Some(Id::S(s)) => Some(s),
        Some(Id::N(n)) => Some(n.to_string()),
        Some(Id::Null) | None => None,
    })
}

/// `meta` of a list response; `total` is a string.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Meta {
    /// Total matching records.
    #[serde(default, deserialize_with = "opt_id")]
    pub total: Option<String>,
}

impl Meta {
    /// The total as a number (0 when absent or not a number).
    pub fn total(&self) -> u64 {
        self.total
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0)
    }
}

/// A contact.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Contact {
    /// Id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Email.
    #[serde(default)]
    pub email: String,
    /// First name.
    #[serde(default, rename = "firstName")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, rename = "lastName")]
    pub last_name: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Created.
    #[serde(default)]
    pub cdate: Option<String>,
    /// Updated.
    #[serde(default)]
    pub udate: Option<String>,
}

/// `GET /contacts`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactsPage {
    /// Contacts.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// Paging.
    #[serde(default)]
    pub meta: Meta,
}

/// `{ "contact": ... }` answers.
#[derive(Debug, Clone, Deserialize)]
pub struct ContactEnvelope {
    /// The contact.
    pub contact: Contact,
}

/// One custom field value in `/contact/sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValueInput {
    /// Field id.
    pub field: String,
    /// Value as text (multi-values `||a||b||`).
    pub value: String,
}

/// The `contact` of `POST /contact/sync`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactSync {
    /// Email (the key).
    pub email: String,
    /// First name.
    #[serde(rename = "firstName", skip_serializing_if = "Option::is_none", default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(rename = "lastName", skip_serializing_if = "Option::is_none", default)]
    pub last_name: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub phone: Option<String>,
    /// Custom field values.
    #[serde(rename = "fieldValues", skip_serializing_if = "Vec::is_empty", default)]
    pub field_values: Vec<FieldValueInput>,
}

/// A custom contact field.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Field {
    /// Id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Type (`text`, `date`, `datetime`, `dropdown`, ...).
    #[serde(default, rename = "type")]
    pub kind: String,
    /// Personalization tag (upper case).
    #[serde(default)]
    pub perstag: String,
}

/// `GET /fields`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FieldsPage {
    /// Fields.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Paging.
    #[serde(default)]
    pub meta: Meta,
}

/// A tag.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Tag {
    /// Id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub tag: String,
}

/// `GET /tags`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TagsPage {
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A list.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct List {
    /// Id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
}

/// `GET /lists`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListsPage {
    /// Lists.
    #[serde(default)]
    pub lists: Vec<List>,
}

/// A contact's membership of a list (`status` 1 subscribed, 2 unsubscribed).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ContactList {
    /// The list id.
    #[serde(deserialize_with = "id")]
    pub list: String,
    /// The contact id.
    #[serde(deserialize_with = "id")]
    pub contact: String,
    /// Status.
    #[serde(deserialize_with = "id")]
    pub status: String,
}

/// `GET /contacts/{id}/contactLists`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactListsPage {
    /// Memberships.
    #[serde(default, rename = "contactLists")]
    pub contact_lists: Vec<ContactList>,
}

/// A Deep Data connection.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Connection {
    /// Id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Service.
    #[serde(default)]
    pub service: String,
    /// External id.
    #[serde(default)]
    pub externalid: String,
}

/// `GET /connections`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConnectionsPage {
    /// Connections.
    #[serde(default)]
    pub connections: Vec<Connection>,
}

/// A Deep Data customer.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EcomCustomer {
    /// Id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Email.
    #[serde(default)]
    pub email: String,
    /// External id.
    #[serde(default)]
    pub externalid: String,
    /// `"1"` opted in to marketing, `"0"` not.
    #[serde(default, rename = "acceptsMarketing", deserialize_with = "opt_id")]
    pub accepts_marketing: Option<String>,
}

/// `GET /ecomCustomers`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EcomCustomersPage {
    /// Customers.
    #[serde(default, rename = "ecomCustomers")]
    pub ecom_customers: Vec<EcomCustomer>,
}

/// One product of an ecommerce order (amounts in cents).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrderProduct {
    /// Product id in the store.
    pub externalid: String,
    /// Name.
    pub name: String,
    /// Unit price in cents.
    pub price: i64,
    /// Quantity.
    pub quantity: i64,
    /// SKU.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sku: Option<String>,
    /// Category.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub category: Option<String>,
    /// Image URL.
    #[serde(rename = "imageUrl", skip_serializing_if = "Option::is_none", default)]
    pub image_url: Option<String>,
    /// Product URL.
    #[serde(
        rename = "productUrl",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub product_url: Option<String>,
}

/// The `ecomOrder` body of `POST /ecomOrders` and `PUT /ecomOrders/{id}` (orders and
/// abandoned carts; amounts in cents).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EcomOrderInput {
    /// Order id in the store (absent on abandoned carts).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub externalid: Option<String>,
    /// Cart id in the store (abandoned carts, and orders converted from one).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub externalcheckoutid: Option<String>,
    /// 1 real time (fires automations), 0 historical.
    pub source: u8,
    /// Buyer email.
    pub email: String,
    /// Total in cents.
    #[serde(rename = "totalPrice")]
    pub total_price: i64,
    /// Shipping in cents.
    #[serde(
        rename = "shippingAmount",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub shipping_amount: Option<i64>,
    /// Tax in cents.
    #[serde(rename = "taxAmount", skip_serializing_if = "Option::is_none", default)]
    pub tax_amount: Option<i64>,
    /// Discount in cents.
    #[serde(
        rename = "discountAmount",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub discount_amount: Option<i64>,
    /// ISO currency.
    pub currency: String,
    /// Connection id (sent as an integer).
    #[serde(serialize_with = "int_id", deserialize_with = "id")]
    pub connectionid: String,
    /// Ecommerce customer id (sent as an integer).
    #[serde(serialize_with = "int_id", deserialize_with = "id")]
    pub customerid: String,
    /// Order URL.
    #[serde(rename = "orderUrl", skip_serializing_if = "Option::is_none", default)]
    pub order_url: Option<String>,
    /// Created in the store (ISO 8601).
    #[serde(
        rename = "externalCreatedDate",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub external_created_date: Option<String>,
    /// Updated in the store.
    #[serde(
        rename = "externalUpdatedDate",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub external_updated_date: Option<String>,
    /// When the cart was abandoned (carts only).
    #[serde(
        rename = "abandonedDate",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub abandoned_date: Option<String>,
    /// Shipping method.
    #[serde(
        rename = "shippingMethod",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub shipping_method: Option<String>,
    /// Order number.
    #[serde(
        rename = "orderNumber",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub order_number: Option<String>,
    /// Products (an array, whatever the spec says).
    #[serde(rename = "orderProducts", default)]
    pub order_products: Vec<OrderProduct>,
}

/// An ecommerce order as read back.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EcomOrder {
    /// Id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Store order id.
    #[serde(default, deserialize_with = "opt_id")]
    pub externalid: Option<String>,
    /// Store cart id.
    #[serde(default, deserialize_with = "opt_id")]
    pub externalcheckoutid: Option<String>,
    /// Total in cents (a number, or a numeric string in some answers).
    #[serde(
        default,
        rename = "totalPrice",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_price: Option<serde_json::Value>,
    /// Three-letter currency code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// When the order was placed in the store (ISO 8601).
    #[serde(
        default,
        rename = "externalCreatedDate",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_created_date: Option<String>,
}

/// `GET /ecomOrders`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EcomOrdersPage {
    /// Orders.
    #[serde(default, rename = "ecomOrders")]
    pub ecom_orders: Vec<EcomOrder>,
    /// Listing meta (`total`).
    #[serde(default)]
    pub meta: Option<Meta>,
}

/// A note (`reltype` `Subscriber` = on a contact).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Note {
    /// Id.
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Text.
    #[serde(default)]
    pub note: String,
}

/// `GET /contacts/{id}/notes`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NotesPage {
    /// Notes.
    #[serde(default)]
    pub notes: Vec<Note>,
}

/// Any `{ "<name>": { "id": ... } }` create answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Created {
    /// Id.
    #[serde(deserialize_with = "id")]
    pub id: String,
}

/// One custom field of a bulk-imported contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkField {
    /// Field id (an integer in the spec).
    #[serde(serialize_with = "int_id", deserialize_with = "id")]
    pub id: String,
    /// Value (multi-values `||a||b||`).
    pub value: String,
}

/// A list a bulk-imported contact subscribes to (never one they unsubscribed from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkList {
    /// List id.
    pub listid: String,
}

/// One contact of `POST /import/bulk_import`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BulkContact {
    /// Email.
    pub email: String,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_name: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub phone: Option<String>,
    /// Tag names (created when missing).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tags: Vec<String>,
    /// Custom fields.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub fields: Vec<BulkField>,
    /// Lists to subscribe to.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub subscribe: Vec<BulkList>,
}
