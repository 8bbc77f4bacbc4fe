//! Serde types mirroring HubSpot's JSON, vendor names kept (`camelCase`).
//!
//! Request types serialize exactly what the connector sends; response types are lenient
//! (only what the connector reads is required).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// `{"inputs": [...]}`: every batch request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchInput<T> {
    /// The inputs (at most 100).
    pub inputs: Vec<T>,
}

/// One input of `POST .../batch/upsert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpsertInput {
    /// The value of `id_property` (e.g. the lowercased email).
    pub id: String,
    /// The unique property `id` is a value of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_property: Option<String>,
    /// Correlates results and errors with inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
    /// Property values, all strings.
    pub properties: BTreeMap<String, String>,
}

/// One input of `POST .../batch/update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInput {
    /// Record id.
    pub id: String,
    /// Correlates results and errors with inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
    /// Property values, all strings.
    pub properties: BTreeMap<String, String>,
}

/// `{"id": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectId {
    /// The id (or the value of `idProperty`).
    pub id: String,
}

/// Body of `POST .../batch/read`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchReadRequest {
    /// Unique property the ids are values of (`email`); `None` = record ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_property: Option<String>,
    /// What to read.
    pub inputs: Vec<ObjectId>,
    /// Properties to return.
    pub properties: Vec<String>,
    /// Properties to return with history (always empty here; the spec requires the field).
    pub properties_with_history: Vec<String>,
}

/// A record as HubSpot returns it (batch results, search results, upsert results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleObject {
    /// Record id.
    pub id: String,
    /// Property values (HubSpot sends `null` for unset requested properties).
    #[serde(default)]
    pub properties: BTreeMap<String, Option<String>>,
    /// ISO creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// ISO update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Archived.
    #[serde(default)]
    pub archived: bool,
    /// Upsert only: whether the record was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<bool>,
    /// Echo of the input's trace id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_write_trace_id: Option<String>,
}

impl SimpleObject {
    /// A property value, `None` when absent, null or empty.
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.properties
            .get(name)
            .and_then(Option::as_deref)
            .filter(|v| !v.is_empty())
    }
}

/// A batch response (200 or 207).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse<T> {
    /// `COMPLETE`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Successful results.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    /// Per-input errors (207).
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<StandardError>,
    /// How many errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_errors: Option<u32>,
}

/// One error of a batch response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StandardError {
    /// `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `VALIDATION_ERROR`, `OBJECT_NOT_FOUND`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// What the error is about: `ids`, `objectWriteTraceId`, `propertyName`...
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, Vec<String>>,
    /// Details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorDetail>,
    /// Sub-category (a string or an object depending on the endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_category: Option<serde_json::Value>,
    /// Error id, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Correlation id, when given per error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// A detail of an error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Message.
    #[serde(default)]
    pub message: String,
    /// Code such as `PROPERTY_DOESNT_EXIST`, `INVALID_INTEGER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Field the error is in.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "in")]
    pub in_: Option<String>,
    /// Context (`propertyName`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, Vec<String>>,
}

/// The body of a failed call (`Error` in the spec, plus the rate-limit fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `VALIDATION_ERROR`, `RATE_LIMITS`, `OBJECT_NOT_FOUND`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Correlation id (quote it to HubSpot support).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Sub-category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_category: Option<serde_json::Value>,
    /// Details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorDetail>,
    /// Context.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, Vec<String>>,
    /// 429 only: `TEN_SECONDLY_ROLLING`, `SECONDLY`, `DAILY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// 429 only: `RATE_LIMIT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
}

/// Body of `POST .../search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    /// OR of AND groups.
    pub filter_groups: Vec<FilterGroup>,
    /// Sort order (HubSpot honours one).
    pub sorts: Vec<Sort>,
    /// Properties to return.
    pub properties: Vec<String>,
    /// Page size (<= 200).
    pub limit: u32,
    /// Offset cursor (`"0"` for the first page; results stop at 10,000).
    pub after: String,
}

/// AND of filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterGroup {
    /// Filters.
    pub filters: Vec<Filter>,
}

/// One filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Property.
    pub property_name: String,
    /// `EQ`, `GTE`, ...
    pub operator: String,
    /// Value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One sort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sort {
    /// Property.
    pub property_name: String,
    /// `ASCENDING` or `DESCENDING`.
    pub direction: String,
}

/// A search or list page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Total matches (search).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Records.
    #[serde(default)]
    pub results: Vec<SimpleObject>,
    /// Next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

/// Paging block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// Next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<NextPage>,
}

/// Next-page cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextPage {
    /// Cursor.
    pub after: String,
    /// Link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Body of property creation (`PropertyCreate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyCreate {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
    /// `string`, `number`, `date`, `datetime`, `enumeration`, `bool`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `text`, `number`, `date`, `select`, `checkbox`, `booleancheckbox`.
    pub field_type: String,
    /// Group.
    pub group_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Options (enumerations and bools).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionInput>,
    /// Unique values (usable as `idProperty`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_unique_value: bool,
}

/// One option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionInput {
    /// Label.
    pub label: String,
    /// Internal value.
    pub value: String,
    /// Hidden from forms.
    #[serde(default)]
    pub hidden: bool,
    /// Order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_order: Option<i32>,
}

/// Body of `PATCH /crm/v3/properties/{objectType}/{name}` (options only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyOptionsUpdate {
    /// The full option list.
    pub options: Vec<OptionInput>,
}

/// A property definition as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    /// Internal name.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Field type.
    #[serde(default)]
    pub field_type: String,
    /// Group.
    #[serde(default)]
    pub group_name: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// Options.
    #[serde(default)]
    pub options: Vec<OptionInput>,
    /// Unique values.
    #[serde(default)]
    pub has_unique_value: bool,
}

/// `{"results": [...]}` without paging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection<T> {
    /// Results.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
}

/// Body of property group creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyGroupCreate {
    /// Internal name.
    pub name: String,
    /// Label.
    pub label: String,
}

/// One input of v4 `batch/associate/default`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultAssociationInput {
    /// From.
    pub from: ObjectId,
    /// To.
    pub to: ObjectId,
}

/// One input of v4 `batch/create` (labelled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledAssociationInput {
    /// From.
    pub from: ObjectId,
    /// To.
    pub to: ObjectId,
    /// Types.
    pub types: Vec<AssociationSpec>,
}

/// Association category and type id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationSpec {
    /// `HUBSPOT_DEFINED`, `USER_DEFINED`, ...
    pub association_category: String,
    /// Type id.
    pub association_type_id: u32,
}

/// Answer of `PUT /crm/v3/lists/{listId}/memberships/add` (the `recordsIdsAdded` spelling
/// is HubSpot's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MembershipsUpdateResponse {
    /// Added now.
    #[serde(default)]
    pub records_ids_added: Vec<String>,
    /// Removed now.
    #[serde(default)]
    pub record_ids_removed: Vec<String>,
    /// Not found.
    #[serde(default)]
    pub record_ids_missing: Vec<String>,
}

/// A page of list memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipsPage {
    /// Members.
    #[serde(default)]
    pub results: Vec<JoinTimeAndRecordId>,
    /// Next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
}

/// One member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinTimeAndRecordId {
    /// Record id.
    #[serde(deserialize_with = "id_string")]
    pub record_id: String,
    /// ISO join time.
    pub membership_timestamp: String,
}

/// One webhook event (HubSpot posts a JSON array of these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    /// Dedupe key.
    #[serde(deserialize_with = "id_string")]
    pub event_id: String,
    /// Subscription.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub subscription_id: Option<String>,
    /// Portal.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub portal_id: Option<String>,
    /// App.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub app_id: Option<String>,
    /// Epoch milliseconds.
    pub occurred_at: i64,
    /// `contact.propertyChange`, ...
    pub subscription_type: String,
    /// Delivery attempt.
    #[serde(default)]
    pub attempt_number: Option<u32>,
    /// Record id.
    #[serde(deserialize_with = "id_string")]
    pub object_id: String,
    /// Changed property.
    #[serde(default)]
    pub property_name: Option<String>,
    /// New value.
    #[serde(default)]
    pub property_value: Option<String>,
    /// `CRM_UI`, `INTEGRATION`, `API`, `FORM`, ...
    #[serde(default)]
    pub change_source: Option<String>,
    /// Who changed it (an app id for integrations).
    #[serde(default, deserialize_with = "opt_id_string")]
    pub source_id: Option<String>,
    /// `NEW`, `UPDATED`, ...
    #[serde(default)]
    pub change_flag: Option<String>,
    /// Merge events: surviving record.
    #[serde(default, deserialize_with = "opt_id_string")]
    pub primary_object_id: Option<String>,
    /// Merge events: merged records.
    #[serde(default, deserialize_with = "id_strings")]
    pub merged_object_ids: Vec<String>,
}

/// Accepts a JSON string or number as an id string.
fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or number id, got {other}"
        ))),
    }
}

fn opt_id_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a string or number id, got {other}"
        ))),
    }
}

fn id_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let values = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    values
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            other => Err(serde::de::Error::custom(format!(
                "expected a string or number id, got {other}"
            ))),
        })
        .collect()
}

/// One result of v4 `batch/associate/default` (`PublicDefaultAssociation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultAssociationResult {
    /// From.
    pub from: ObjectId,
    /// To.
    pub to: ObjectId,
    /// The default type applied.
    #[serde(default)]
    pub association_spec: Option<AssociationSpec>,
}

/// One result of v4 `batch/create` (`LabelsBetweenObjectPair`): the pair and every label
/// now between the two records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelledAssociationResult {
    /// Type id of the source object (`0-1` for contacts).
    #[serde(default)]
    pub from_object_type_id: String,
    /// Source record id.
    #[serde(deserialize_with = "id_string")]
    pub from_object_id: String,
    /// Type id of the target object.
    #[serde(default)]
    pub to_object_type_id: String,
    /// Target record id.
    #[serde(deserialize_with = "id_string")]
    pub to_object_id: String,
    /// Labels between the pair (unlabelled types have none).
    #[serde(default)]
    pub labels: Vec<String>,
}
