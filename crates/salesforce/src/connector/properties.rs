//! Custom fields: `required_properties` and `ensure_properties` (Tooling API).

use std::collections::HashSet;

use cartograph_connector::{RecordOutcome, Result};
use cartograph_model::{CrmObjectType, PropertyDefinition, PropertyType};

use super::{Salesforce, invalid, is_fatal};
use crate::map;

impl Salesforce {
    pub(super) fn ext_definition(
        object: CrmObjectType,
        name: &str,
        label: &str,
    ) -> PropertyDefinition {
        PropertyDefinition {
            object,
            name: name.to_owned(),
            label: label.to_owned(),
            kind: PropertyType::String,
            options: Vec::new(),
            group: None,
            unique: true,
            description: Some("External ID written by Cartograph (upsert key)".into()),
        }
    }

    pub(super) async fn property_one(&self, def: &PropertyDefinition) -> Result<RecordOutcome> {
        let key = def.name.as_str();
        let Some(sobject) = map::sobject(&def.object) else {
            return Err(invalid(
                key,
                key,
                format!("Salesforce has no {} object", def.object),
            ));
        };
        let fields = self.fields_of(&sobject, false).await?;
        if fields.contains(&def.name.to_ascii_lowercase()) {
            return Ok(RecordOutcome::unchanged(key, None));
        }
        if !crate::config::is_field_name(key) || !key.ends_with("__c") {
            return Err(invalid(
                key,
                key,
                format!("{sobject}.{key} does not exist and is not a custom field name (__c)"),
            ));
        }
        let api_name = key.trim_end_matches("__c");
        match self
            .client
            .create_custom_field(&sobject, key, map::field_metadata(def))
            .await
        {
            Ok(id) => {
                if let Some(f) = self.fields.lock().await.get_mut(&sobject) {
                    f.insert(def.name.to_ascii_lowercase());
                }
                Ok(RecordOutcome::created(key, id))
            }
            Err(e) if is_fatal(&e) => Err(e),
            Err(e) => Err(invalid(
                key,
                key,
                format!(
                    "{sobject}.{key} is missing and the Tooling API refused to create it ({}); \
                     create the field {api_name} in Setup",
                    e.message()
                ),
            )
            .with_vendor_code(e.vendor_code().unwrap_or("").to_owned())),
        }
    }

    pub(super) async fn ensure_properties_impl(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        // Describe afresh: fields may have been added in Setup since the cache was filled.
        let objects: HashSet<String> = definitions
            .iter()
            .filter_map(|d| map::sobject(&d.object))
            .collect();
        for sobject in &objects {
            match self.fields_of(sobject, true).await {
                Ok(_) => {}
                Err(e) if is_fatal(&e) => return Err(e),
                // An unknown object fails its definitions below.
                Err(_) => {
                    self.fields
                        .lock()
                        .await
                        .insert(sobject.clone(), HashSet::new());
                }
            }
        }
        let mut out = Vec::with_capacity(definitions.len());
        for def in definitions {
            match self.property_one(def).await {
                Ok(o) => out.push(o),
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => out.push(RecordOutcome::failed(def.name.clone(), e)),
            }
        }
        Ok(out)
    }
}
