//! The `CommerceWriter` implementation: lookups by email, batched customer writes (10 per
//! call), customer groups and segments (50 shopper profiles per call).

use std::collections::HashMap;

use async_trait::async_trait;
use cartograph_connector::{Capabilities, CommerceWriter, Error, ErrorKind, RecordOutcome, Result};
use cartograph_model::{Customer, CustomerGroup, CustomerWrite, EmailAddress};

use crate::client::{CUSTOMER_BATCH, CustomerQuery, SEGMENT_BATCH};
use crate::connector::BigCommerce;
use crate::map;
use crate::wire;

/// Most customers one `upsert_customers` call accepts (split into requests of
/// [`CUSTOMER_BATCH`]); larger calls are refused whole so nothing is half-written by a
/// runaway caller.
pub const MAX_UPSERT: usize = 1_000;

/// Emails per `email:in` lookup.
const EMAIL_LOOKUP_BATCH: usize = 50;

/// The batch's error, attributed to one record of it.
fn per_record(err: &Error, key: &str) -> Error {
    err.clone().with_record(key.to_owned())
}

/// Whether a failed batch should be retried one record at a time to isolate the bad one.
fn isolates(err: &Error) -> bool {
    matches!(err.kind(), ErrorKind::Invalid | ErrorKind::Conflict)
}

impl BigCommerce {
    async fn write_batch(
        &self,
        create: bool,
        batch: &[(usize, &CustomerWrite, wire::CustomerInput)],
    ) -> Result<Vec<(usize, RecordOutcome)>> {
        let inputs: Vec<wire::CustomerInput> = batch.iter().map(|(_, _, i)| i.clone()).collect();
        let result = if create {
            self.client.create_customers(&inputs).await
        } else {
            self.client.update_customers(&inputs).await
        };
        match result {
            Ok(rows) => Ok(batch
                .iter()
                .map(|(idx, w, input)| {
                    let found = if create {
                        let email = input.email.as_deref().unwrap_or_default();
                        rows.iter().find(|c| c.email.eq_ignore_ascii_case(email))
                    } else {
                        rows.iter().find(|c| Some(c.id) == input.id)
                    };
                    let outcome = match (found, create) {
                        (Some(c), true) => RecordOutcome::created(&w.key, c.id.to_string()),
                        (Some(c), false) => RecordOutcome::updated(&w.key, c.id.to_string()),
                        (None, _) => RecordOutcome::failed(
                            &w.key,
                            Error::new(ErrorKind::Other, "record missing from the batch answer")
                                .with_connector("bigcommerce")
                                .with_record(w.key.clone()),
                        ),
                    };
                    (*idx, outcome)
                })
                .collect()),
            Err(err) if batch.len() > 1 && isolates(&err) => {
                let mut out = Vec::with_capacity(batch.len());
                for item in batch {
                    let one =
                        Box::pin(self.write_batch(create, std::slice::from_ref(item))).await?;
                    out.extend(one);
                }
                Ok(out)
            }
            Err(err) if isolates(&err) => Ok(batch
                .iter()
                .map(|(idx, w, _)| {
                    (
                        *idx,
                        RecordOutcome::failed(&w.key, per_record(&err, &w.key)),
                    )
                })
                .collect()),
            Err(err) => Err(err),
        }
    }
}

#[async_trait]
impl CommerceWriter for BigCommerce {
    fn name(&self) -> &str {
        self.system()
    }

    fn capabilities(&self) -> Capabilities {
        crate::connector::capabilities()
    }

    fn transport_stats(&self) -> Option<cartograph_connector::TransportStats> {
        Some(self.client.stats())
    }

    async fn find_customers_by_email(&self, emails: &[EmailAddress]) -> Result<Vec<Customer>> {
        let mut wanted: Vec<String> = emails.iter().map(|e| e.normalized().to_owned()).collect();
        wanted.sort();
        wanted.dedup();
        let mut out = Vec::new();
        for chunk in wanted.chunks(EMAIL_LOOKUP_BATCH) {
            let mut after = None;
            loop {
                let page = self
                    .client
                    .list_customers(&CustomerQuery {
                        emails: chunk.to_vec(),
                        after: after.clone(),
                        limit: 250,
                        ..CustomerQuery::default()
                    })
                    .await?;
                for c in &page.data {
                    if chunk.iter().any(|e| e.eq_ignore_ascii_case(c.email.trim())) {
                        out.push(map::customer(self.system(), c)?);
                    }
                }
                let cursor = page.meta.cursor_pagination;
                let next = cursor
                    .as_ref()
                    .filter(|c| c.links.as_ref().is_some_and(|l| l.next.is_some()))
                    .and_then(|c| c.end_cursor.clone());
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
        }
        Ok(out)
    }

    async fn upsert_customers(&self, writes: &[CustomerWrite]) -> Result<Vec<RecordOutcome>> {
        if writes.len() > MAX_UPSERT {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "{} customers in one call; at most {MAX_UPSERT} (sent {CUSTOMER_BATCH} per request)",
                    writes.len()
                ),
            )
            .with_connector("bigcommerce")
            .with_operation("upsert_customers"));
        }
        let mut outcomes: Vec<Option<RecordOutcome>> = writes.iter().map(|_| None).collect();
        let mut creates = Vec::new();
        let mut updates = Vec::new();
        for (idx, w) in writes.iter().enumerate() {
            match map::customer_input(w) {
                Ok(input) if input.id.is_some() => updates.push((idx, w, input)),
                Ok(input) => creates.push((idx, w, input)),
                Err(err) => outcomes[idx] = Some(RecordOutcome::failed(&w.key, err)),
            }
        }
        let mut first_call = true;
        for (create, list) in [(true, &creates), (false, &updates)] {
            for batch in list.chunks(CUSTOMER_BATCH) {
                match self.write_batch(create, batch).await {
                    Ok(done) => {
                        for (idx, outcome) in done {
                            outcomes[idx] = Some(outcome);
                        }
                    }
                    // Nothing written yet: the whole call failed.
                    Err(err) if first_call => return Err(err),
                    Err(err) => {
                        for (idx, w, _) in batch {
                            outcomes[*idx] =
                                Some(RecordOutcome::failed(&w.key, per_record(&err, &w.key)));
                        }
                    }
                }
                first_call = false;
            }
        }
        Ok(outcomes
            .into_iter()
            .zip(writes)
            .map(|(o, w)| {
                o.unwrap_or_else(|| {
                    RecordOutcome::failed(
                        &w.key,
                        Error::new(ErrorKind::Other, "not written").with_record(w.key.clone()),
                    )
                })
            })
            .collect())
    }

    async fn create_customer_group(&self, name: &str) -> Result<CustomerGroup> {
        let group = self.client.create_customer_group(name).await?;
        Ok(map::customer_group(self.system(), &group))
    }

    async fn assign_customer_group(&self, customer_id: &str, group_id: &str) -> Result<()> {
        let record = format!("{}/customer/{customer_id}", self.system());
        let input = wire::CustomerInput {
            id: Some(map::numeric_id(&record, "id", customer_id)?),
            customer_group_id: Some(map::numeric_id(&record, "customer_group_id", group_id)?),
            ..wire::CustomerInput::default()
        };
        let rows = self.client.update_customers(&[input]).await?;
        if rows.is_empty() {
            return Err(Error::new(ErrorKind::NotFound, "customer not found")
                .with_connector("bigcommerce")
                .with_operation("assign_customer_group")
                .with_record(record));
        }
        Ok(())
    }

    async fn add_to_segment(
        &self,
        segment_id: &str,
        customer_ids: &[String],
    ) -> Result<Vec<RecordOutcome>> {
        let mut outcomes: Vec<Option<RecordOutcome>> = customer_ids.iter().map(|_| None).collect();
        let mut numeric: Vec<(usize, u64)> = Vec::new();
        for (idx, id) in customer_ids.iter().enumerate() {
            match id.trim().parse::<u64>() {
                Ok(n) => numeric.push((idx, n)),
                Err(_) => {
                    outcomes[idx] = Some(RecordOutcome::failed(
                        id,
                        Error::invalid_field(id.clone(), "customer_id", "not a BigCommerce id"),
                    ));
                }
            }
        }
        // Customer -> shopper profile (creating missing profiles).
        let mut profiles: HashMap<u64, String> = HashMap::new();
        for chunk in numeric.chunks(SEGMENT_BATCH) {
            let ids: Vec<u64> = chunk.iter().map(|(_, n)| *n).collect();
            let page = self
                .client
                .list_customers(&CustomerQuery {
                    ids: ids.clone(),
                    limit: 250,
                    with_segments: true,
                    ..CustomerQuery::default()
                })
                .await?;
            let mut missing = Vec::new();
            for id in &ids {
                if let Some(c) = page.data.iter().find(|c| c.id == *id) {
                    match c.shopper_profile_id.clone().filter(|p| !p.is_empty()) {
                        Some(p) => {
                            profiles.insert(*id, p);
                        }
                        None => missing.push(*id),
                    }
                }
            }
            if !missing.is_empty() {
                for p in self.client.create_shopper_profiles(&missing).await? {
                    profiles.insert(p.customer_id, p.id);
                }
            }
        }
        let known: Vec<(usize, u64, String)> = numeric
            .iter()
            .filter_map(|(idx, n)| profiles.get(n).map(|p| (*idx, *n, p.clone())))
            .collect();
        for (idx, n) in &numeric {
            if !profiles.contains_key(n) {
                outcomes[*idx] = Some(RecordOutcome::failed(
                    &customer_ids[*idx],
                    Error::new(ErrorKind::NotFound, "customer not found")
                        .with_connector("bigcommerce")
                        .with_operation("add_to_segment")
                        .with_record(customer_ids[*idx].clone()),
                ));
            }
        }
        for chunk in known.chunks(SEGMENT_BATCH) {
            let ids: Vec<String> = chunk.iter().map(|(_, _, p)| p.clone()).collect();
            match self.client.add_shopper_profiles(segment_id, &ids).await {
                Ok(_) => {
                    for (idx, _, p) in chunk {
                        outcomes[*idx] =
                            Some(RecordOutcome::updated(&customer_ids[*idx], p.clone()));
                    }
                }
                // Already a member (409): isolate which ones.
                Err(err) if err.kind() == ErrorKind::Conflict => {
                    for (idx, _, p) in chunk {
                        let key = &customer_ids[*idx];
                        let one = self
                            .client
                            .add_shopper_profiles(segment_id, std::slice::from_ref(p))
                            .await;
                        outcomes[*idx] = Some(match one {
                            Ok(_) => RecordOutcome::updated(key, p.clone()),
                            Err(e) if e.kind() == ErrorKind::Conflict => {
                                RecordOutcome::unchanged(key, Some(p.clone()))
                            }
                            Err(e) => RecordOutcome::failed(key, e),
                        });
                    }
                }
                Err(err) => {
                    for (idx, _, _) in chunk {
                        let key = &customer_ids[*idx];
                        outcomes[*idx] = Some(RecordOutcome::failed(key, per_record(&err, key)));
                    }
                }
            }
        }
        Ok(outcomes
            .into_iter()
            .zip(customer_ids)
            .map(|(o, id)| {
                o.unwrap_or_else(|| {
                    RecordOutcome::failed(id, Error::new(ErrorKind::Other, "not processed"))
                })
            })
            .collect())
    }
}
