//! Property groups and custom properties: make sure the integration's properties exist
//! with the right types (unique-value ones included).

use std::collections::BTreeMap;

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_http::Request;
use cartograph_model::{PropertyDefinition, PropertyType};

use super::HubSpotClient;
use crate::error::{CONNECTOR, batch_error};
use crate::map::{object_type, property_create, type_matches};
use crate::wire::{
    BatchInput, BatchResponse, Collection, OptionInput, Property, PropertyGroupCreate,
    PropertyOptionsUpdate,
};

const OP: &str = "ensure_properties";

impl HubSpotClient {
    /// Creates the property group when missing.
    async fn ensure_group(&self, object: &str, name: &str) -> Result<()> {
        let path = format!("{}/groups/{name}", self.paths.properties(object));
        match self.send(Request::get(path).operation(OP)).await {
            Ok(_) => return Ok(()),
            Err(err) if err.kind() == ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        let label = if name == self.config.mapping.property_group {
            self.config.mapping.property_group_label.clone()
        } else {
            name.to_owned()
        };
        let body = PropertyGroupCreate {
            name: name.to_owned(),
            label,
        };
        let request = Request::post(format!("{}/groups", self.paths.properties(object)))
            .operation(OP)
            .serialize_json(&body)?;
        match self.send(request).await {
            Ok(_) => Ok(()),
            // Created meanwhile by someone else.
            Err(err) if err.kind() == ErrorKind::Conflict => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// All properties of an object type.
    async fn list_properties(&self, object: &str) -> Result<Vec<Property>> {
        let request = Request::get(self.paths.properties(object)).operation(OP);
        let page: Collection<Property> = self.send(request).await?.json()?;
        Ok(page.results)
    }

    /// Makes sure each definition exists with the right type; one outcome per definition
    /// (`Created`, `Updated` when enumeration options were added, `Unchanged`, or `Failed`
    /// with [`ErrorKind::Conflict`] when a property exists with another type or without
    /// unique values).
    ///
    /// # Errors
    /// The call failed (e.g. missing scope) before anything was known.
    pub async fn ensure_properties(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        let mut outcomes: Vec<Option<RecordOutcome>> = definitions.iter().map(|_| None).collect();
        let mut by_object: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, def) in definitions.iter().enumerate() {
            by_object
                .entry(object_type(&def.object))
                .or_default()
                .push(i);
        }
        for (object, members) in by_object {
            let mut groups: Vec<String> = Vec::new();
            for &i in &members {
                let group = definitions[i]
                    .group
                    .clone()
                    .unwrap_or_else(|| self.config.mapping.property_group.clone());
                if !groups.contains(&group) {
                    groups.push(group);
                }
            }
            for group in &groups {
                self.ensure_group(&object, group).await?;
            }
            let existing = self.list_properties(&object).await?;
            let mut creates = Vec::new();
            let mut create_idx = Vec::new();
            for &i in &members {
                let def = &definitions[i];
                let key = format!("{}.{}", def.object, def.name);
                match existing.iter().find(|p| p.name == def.name) {
                    None => {
                        creates.push(property_create(def, &self.config.mapping.property_group));
                        create_idx.push(i);
                    }
                    Some(p) if !type_matches(p, def.kind) => {
                        outcomes[i] = Some(RecordOutcome::failed(
                            &key,
                            conflict(
                                &key,
                                &def.name,
                                format!(
                                    "property exists as {}/{}, wanted {:?}",
                                    p.kind, p.field_type, def.kind
                                ),
                            ),
                        ));
                    }
                    Some(p) if def.unique && !p.has_unique_value => {
                        outcomes[i] = Some(RecordOutcome::failed(
                            &key,
                            conflict(
                                &key,
                                &def.name,
                                "property exists without unique values (cannot be changed)".into(),
                            ),
                        ));
                    }
                    Some(p) => {
                        outcomes[i] = Some(self.ensure_options(&object, p, def, &key).await);
                    }
                }
            }
            if !creates.is_empty() {
                for chunk in creates
                    .chunks(self.batch_size())
                    .zip(create_idx.chunks(self.batch_size()))
                {
                    let (inputs, idx) = chunk;
                    let request =
                        Request::post(format!("{}/batch/create", self.paths.properties(&object)))
                            .operation(OP)
                            .serialize_json(&BatchInput {
                                inputs: inputs.to_vec(),
                            })?;
                    let response = self.send(request).await?;
                    let status = response.status;
                    let body: BatchResponse<Property> = response.json()?;
                    for (n, &i) in idx.iter().enumerate() {
                        let def = &definitions[i];
                        let key = format!("{}.{}", def.object, def.name);
                        let done = body.results.iter().any(|p| p.name == inputs[n].name);
                        outcomes[i] = Some(if done {
                            RecordOutcome::created(&key, def.name.clone())
                        } else {
                            let error = body
                                .errors
                                .iter()
                                .find(|e| {
                                    e.context.get("name").is_some_and(|v| v.contains(&def.name))
                                })
                                .or_else(|| body.errors.first());
                            let err = error.map_or_else(
                                || {
                                    Error::new(ErrorKind::Other, "property not created")
                                        .with_connector(CONNECTOR)
                                        .with_operation(OP)
                                },
                                |e| batch_error(e, status, None, OP),
                            );
                            RecordOutcome::failed(
                                &key,
                                err.with_record(key.clone()).with_field(def.name.clone()),
                            )
                        });
                    }
                }
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| RecordOutcome::unchanged("", None)))
            .collect())
    }

    async fn ensure_options(
        &self,
        object: &str,
        existing: &Property,
        def: &PropertyDefinition,
        key: &str,
    ) -> RecordOutcome {
        if !matches!(
            def.kind,
            PropertyType::Enumeration | PropertyType::MultiEnumeration
        ) {
            return RecordOutcome::unchanged(key, Some(def.name.clone()));
        }
        let missing: Vec<_> = def
            .options
            .iter()
            .filter(|o| !existing.options.iter().any(|e| e.value == o.value))
            .collect();
        if missing.is_empty() {
            return RecordOutcome::unchanged(key, Some(def.name.clone()));
        }
        let mut options = existing.options.clone();
        for o in missing {
            options.push(OptionInput {
                label: o.label.clone(),
                value: o.value.clone(),
                hidden: false,
                display_order: i32::try_from(options.len()).ok(),
            });
        }
        let request = Request::patch(format!("{}/{}", self.paths.properties(object), def.name))
            .operation(OP)
            .serialize_json(&PropertyOptionsUpdate { options });
        let result = match request {
            Ok(request) => self.send(request).await.map(|_| ()),
            Err(err) => Err(err),
        };
        match result {
            Ok(()) => RecordOutcome::updated(key, def.name.clone()),
            Err(err) => RecordOutcome::failed(key, err.clone().with_record(key.to_owned())),
        }
    }
}

fn conflict(key: &str, name: &str, message: String) -> Error {
    Error::new(ErrorKind::Conflict, message)
        .with_connector(CONNECTOR)
        .with_operation(OP)
        .with_record(key.to_owned())
        .with_field(name.to_owned())
}
