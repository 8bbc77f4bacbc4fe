//! v4 associations: default type (`batch/associate/default`) and labelled
//! (`batch/create` with a `USER_DEFINED` type id from the config).

use std::collections::BTreeMap;

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_http::Request;
use cartograph_model::Association;

use super::{HubSpotClient, is_data_error};
use crate::error::{CONNECTOR, batch_error};
use crate::map::object_type;
use crate::wire::{
    AssociationSpec, BatchInput, BatchResponse, DefaultAssociationInput, DefaultAssociationResult,
    LabelledAssociationInput, LabelledAssociationResult, ObjectId,
};

impl HubSpotClient {
    /// Links `(from id, to id)` pairs with the default association type, or the
    /// `USER_DEFINED` type `type_id`; one result per pair, in order.
    ///
    /// Never fails as a whole: callers run it after their records are written, so every
    /// failure is reported per pair. A transport or auth failure stops the remaining chunks
    /// (they fail with the same error, unsent); a data error or an answer that cannot be
    /// read fails only its chunk.
    pub(crate) async fn associate_pairs(
        &self,
        from: &str,
        to: &str,
        pairs: &[(String, String)],
        type_id: Option<u32>,
        operation: &'static str,
    ) -> Vec<Result<(), Error>> {
        let mut out = Vec::with_capacity(pairs.len());
        let mut stop: Option<Error> = None;
        for chunk in pairs.chunks(self.batch_size()) {
            if let Some(err) = &stop {
                out.extend(chunk.iter().map(|_| Err(err.clone())));
                continue;
            }
            match self
                .associate_chunk(from, to, chunk, type_id, operation)
                .await
            {
                Ok(results) => out.extend(results),
                Err(err) => {
                    out.extend(chunk.iter().map(|_| Err(err.clone())));
                    if !is_data_error(&err) && err.kind() != ErrorKind::Decode {
                        stop = Some(err);
                    }
                }
            }
        }
        out
    }

    /// One association batch call; `Err` when the call failed or its answer is unreadable.
    async fn associate_chunk(
        &self,
        from: &str,
        to: &str,
        chunk: &[(String, String)],
        type_id: Option<u32>,
        operation: &'static str,
    ) -> Result<Vec<Result<(), Error>>> {
        let base = self.paths.associations(from, to);
        let request = match type_id {
            None => Request::post(format!("{base}/batch/associate/default")).serialize_json(
                &BatchInput {
                    inputs: chunk
                        .iter()
                        .map(|(f, t)| DefaultAssociationInput {
                            from: ObjectId { id: f.clone() },
                            to: ObjectId { id: t.clone() },
                        })
                        .collect(),
                },
            )?,
            Some(id) => {
                Request::post(format!("{base}/batch/create")).serialize_json(&BatchInput {
                    inputs: chunk
                        .iter()
                        .map(|(f, t)| LabelledAssociationInput {
                            from: ObjectId { id: f.clone() },
                            to: ObjectId { id: t.clone() },
                            types: vec![AssociationSpec {
                                association_category: "USER_DEFINED".into(),
                                association_type_id: id,
                            }],
                        })
                        .collect(),
                })?
            }
        };
        // Associating twice is harmless: safe to replay.
        let response = self
            .send(request.operation(operation).retry_safe(true))
            .await?;
        let status = response.status;
        // `batch/associate/default` answers `{from: {id}, to: {id}, associationSpec}` per
        // pair; `batch/create` answers `{fromObjectId, toObjectId, labels, ...}`.
        let (linked, errors): (Vec<(String, String)>, _) = if type_id.is_none() {
            let body: BatchResponse<DefaultAssociationResult> = response.json()?;
            (
                body.results
                    .into_iter()
                    .map(|r| (r.from.id, r.to.id))
                    .collect(),
                body.errors,
            )
        } else {
            let body: BatchResponse<LabelledAssociationResult> = response.json()?;
            (
                body.results
                    .into_iter()
                    .map(|r| (r.from_object_id, r.to_object_id))
                    .collect(),
                body.errors,
            )
        };
        let mut out = Vec::with_capacity(chunk.len());
        for (f, t) in chunk {
            let confirmed = linked.is_empty() && errors.is_empty()
                || linked
                    .iter()
                    .any(|(a, b)| (a == f && b == t) || (a == t && b == f));
            if confirmed {
                out.push(Ok(()));
                continue;
            }
            let error = errors
                .iter()
                .find(|e| e.context.values().flatten().any(|v| v == f || v == t));
            out.push(Err(match error.or(errors.first()) {
                Some(e) => batch_error(e, status, None, operation),
                None => Error::new(ErrorKind::Other, "association not confirmed")
                    .with_connector(CONNECTOR)
                    .with_operation(operation),
            }));
        }
        Ok(out)
    }

    /// Links records; one outcome per association, keyed `from_type:id->to_type:id`.
    ///
    /// Every group (default-type and labelled, per object-type pair) is sent even when an
    /// earlier group failed; failures are per association.
    ///
    /// # Errors
    /// None today: every failure is reported in the association's outcome.
    pub async fn associate(&self, associations: &[Association]) -> Result<Vec<RecordOutcome>> {
        const OP: &str = "associate";
        let key_of = |a: &Association| {
            format!(
                "{}:{}->{}:{}",
                a.from.object, a.from.id, a.to.object, a.to.id
            )
        };
        let mut outcomes: Vec<Option<RecordOutcome>> = associations.iter().map(|_| None).collect();
        let mut groups: BTreeMap<(String, String, Option<u32>), Vec<usize>> = BTreeMap::new();
        for (i, a) in associations.iter().enumerate() {
            let type_id = match &a.label {
                None => None,
                Some(label) => match self.config.mapping.association_labels.get(label) {
                    Some(id) => Some(*id),
                    None => {
                        let key = key_of(a);
                        outcomes[i] = Some(RecordOutcome::failed(
                            &key,
                            Error::invalid_field(
                                &key,
                                "label",
                                format!("association label {label:?} is not configured"),
                            )
                            .with_connector(CONNECTOR)
                            .with_operation(OP),
                        ));
                        continue;
                    }
                },
            };
            groups
                .entry((
                    object_type(&a.from.object),
                    object_type(&a.to.object),
                    type_id,
                ))
                .or_default()
                .push(i);
        }
        for ((from, to, type_id), members) in groups {
            let pairs: Vec<(String, String)> = members
                .iter()
                .map(|&i| {
                    (
                        associations[i].from.id.clone(),
                        associations[i].to.id.clone(),
                    )
                })
                .collect();
            let results = self.associate_pairs(&from, &to, &pairs, type_id, OP).await;
            for (&i, result) in members.iter().zip(results) {
                let key = key_of(&associations[i]);
                outcomes[i] = Some(match result {
                    Ok(()) => RecordOutcome::created(&key, associations[i].from.id.clone()),
                    Err(err) => RecordOutcome::failed(&key, err.with_record(key.clone())),
                });
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| RecordOutcome::unchanged("", None)))
            .collect())
    }
}
