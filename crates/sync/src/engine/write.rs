//! Writing a planned batch: skip what did not change, write the rest in vendor-sized
//! batches (contacts first, so orders, tasks and enrollments find them), settle each item by
//! the outcomes of its writes, and persist state for what succeeded.

use std::collections::BTreeSet;

use cartograph_connector::{RecordOutcome, Result as ConnectorResult, WriteStatus};
use cartograph_core::change::fingerprint;
use cartograph_core::reconcile::Entry;
use cartograph_model::{OrderRecord, Origin, PropertyMap, PropertyValue, Timestamp};

use super::plan::{Pending, Planned};
use super::{Engine, lock};
use crate::queue_item::ItemOutcome;
use crate::store::BatchState;

/// Per-item settlement: the first failure of any of its writes wins.
struct Settle<'a> {
    out: &'a mut [Option<ItemOutcome>],
}

impl Settle<'_> {
    fn fail(&mut self, items: &BTreeSet<usize>, outcome: impl Fn() -> ItemOutcome) {
        for &i in items {
            if self.out[i].is_none() {
                self.out[i] = Some(outcome());
            }
        }
    }

    fn retrying(&self, items: &BTreeSet<usize>) -> bool {
        items.iter().any(|&i| {
            matches!(
                self.out[i],
                Some(ItemOutcome::Retry { .. } | ItemOutcome::Park { .. })
            )
        })
    }
}

fn order_fingerprint(record: &OrderRecord) -> String {
    let mut all: PropertyMap = record.properties.clone();
    for line in &record.line_items {
        for (k, v) in &line.properties {
            all.insert(format!("line_items[{}].{k}", line.key), v.clone());
        }
    }
    if let Some(contact) = &record.contact {
        all.insert(
            "_contact".into(),
            PropertyValue::String(format!("{contact:?}")),
        );
    }
    fingerprint(&all).to_hex()
}

/// One write per record key: a batch holding two events of one order (placed, then shipped)
/// sends the latest version once, settling both items. CRMs reject batches that name one
/// record twice (HubSpot: "IDs must be unique").
fn dedupe<T>(pending: Vec<Pending<T>>, key: impl Fn(&T) -> &str) -> Vec<Pending<T>> {
    let mut out: Vec<Pending<T>> = Vec::with_capacity(pending.len());
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for p in pending {
        match at.get(key(&p.value)) {
            Some(&idx) => {
                let slot = &mut out[idx];
                slot.items.extend(p.items);
                slot.value = p.value;
            }
            None => {
                at.insert(key(&p.value).to_owned(), out.len());
                out.push(p);
            }
        }
    }
    out
}

impl Engine {
    pub(crate) async fn write(&self, mut planned: Planned, out: &mut [Option<ItemOutcome>]) {
        planned.orders = dedupe(std::mem::take(&mut planned.orders), |o| o.key.as_str());
        planned.products = dedupe(std::mem::take(&mut planned.products), |p| p.key.as_str());
        planned.tasks = dedupe(std::mem::take(&mut planned.tasks), |t| t.key.as_str());
        planned.enrollments = dedupe(std::mem::take(&mut planned.enrollments), |e| e.key.as_str());
        let mut settle = Settle { out };
        for (i, outcome) in planned.settled {
            if settle.out[i].is_none() {
                settle.out[i] = Some(outcome);
            }
        }
        let crm = self.crm.clone();
        let max = self.sink.capabilities().max_batch.max(1);

        // Change detection: skip records whose mapped properties equal the last write.
        let mut hash_keys = Vec::new();
        let mut hashes = Vec::new();
        for (person, c) in &planned.contacts {
            let mut props = c.value.properties.clone();
            if let Some(e) = &c.value.identity.email {
                props.insert(
                    "_email".into(),
                    PropertyValue::String(e.as_str().to_owned()),
                );
            }
            hash_keys.push(format!("contact:{person}"));
            hashes.push(fingerprint(&props).to_hex());
        }
        let product_base = hash_keys.len();
        for p in &planned.products {
            hash_keys.push(format!("product:{}", p.value.key));
            hashes.push(fingerprint(&p.value.properties).to_hex());
        }
        let order_base = hash_keys.len();
        for o in &planned.orders {
            hash_keys.push(format!("order:{}", o.value.key));
            hashes.push(order_fingerprint(&o.value));
        }
        let stored = match self.store.property_hashes(&crm, &hash_keys).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read property hashes; writing everything");
                vec![None; hash_keys.len()]
            }
        };
        let unchanged = |idx: usize| stored.get(idx).and_then(Option::as_ref) == hashes.get(idx);

        let mut written_hashes = Vec::new();
        let mut crm_ids = Vec::new();

        // 1. Contacts.
        let mut contacts = Vec::new();
        for (idx, (person, c)) in planned.contacts.into_iter().enumerate() {
            if unchanged(idx) {
                self.counters.add_unchanged(1);
            } else {
                contacts.push((idx, person, c));
            }
        }
        for chunk in contacts.chunks(max) {
            let inputs: Vec<_> = chunk.iter().map(|(_, _, c)| c.value.clone()).collect();
            let result = self.sink.upsert_contacts(&inputs).await;
            self.settle_chunk(
                chunk.iter().map(|(_, _, c)| &c.items),
                result,
                &mut settle,
                |pos, outcome| {
                    let (idx, person, _) = &chunk[pos];
                    // A partial write leaves no hash, so the retry writes (and completes) it.
                    if outcome.is_ok() {
                        written_hashes.push((hash_keys[*idx].clone(), hashes[*idx].clone()));
                    }
                    if let Some(id) = &outcome.id {
                        crm_ids.push((person.clone(), id.clone()));
                    }
                },
            );
        }

        // 2. Products.
        let products: Vec<_> = planned
            .products
            .into_iter()
            .enumerate()
            .filter(|(n, _)| {
                let skip = unchanged(product_base + n);
                if skip {
                    self.counters.add_unchanged(1);
                }
                !skip
            })
            .collect();
        for chunk in products.chunks(max) {
            let inputs: Vec<_> = chunk.iter().map(|(_, p)| p.value.clone()).collect();
            let result = self.sink.upsert_products(&inputs).await;
            self.settle_chunk(
                chunk.iter().map(|(_, p)| &p.items),
                result,
                &mut settle,
                |pos, outcome| {
                    if outcome.is_ok() {
                        let idx = product_base + chunk[pos].0;
                        written_hashes.push((hash_keys[idx].clone(), hashes[idx].clone()));
                    }
                },
            );
        }

        // 3. Orders.
        let fields = &self.config.revenue_fields;
        let orders: Vec<_> = planned
            .orders
            .into_iter()
            .enumerate()
            .filter(|(n, _)| {
                let skip = unchanged(order_base + n);
                if skip {
                    self.counters.add_unchanged(1);
                }
                !skip
            })
            .collect();
        let mut crm_revenue = Vec::new();
        for chunk in orders.chunks(max) {
            let inputs: Vec<_> = chunk.iter().map(|(_, o)| o.value.clone()).collect();
            let result = self.sink.record_orders(&inputs).await;
            self.settle_chunk(
                chunk.iter().map(|(_, o)| &o.items),
                result,
                &mut settle,
                |pos, outcome| {
                    // A partially written order is counted (and hashed) when the retry
                    // completes it, so its revenue is counted once.
                    if !outcome.is_ok() {
                        return;
                    }
                    let (n, order) = &chunk[pos];
                    let idx = order_base + n;
                    written_hashes.push((hash_keys[idx].clone(), hashes[idx].clone()));
                    // Only orders that count as revenue in the store count on the CRM side.
                    let revenue = planned.revenue_keys.contains(&order.value.key);
                    crm_revenue.push((
                        order.value.key.clone(),
                        revenue,
                        revenue
                            .then(|| Entry::from_record(&order.value, fields))
                            .flatten(),
                        order.value.contact.is_some(),
                    ));
                },
            );
        }

        // 4. Tasks and 5. enrollments (idempotent by key in the sink).
        for chunk in planned.tasks.chunks(max) {
            let inputs: Vec<_> = chunk.iter().map(|t| t.value.clone()).collect();
            let result = self.sink.create_tasks(&inputs).await;
            self.settle_chunk(
                chunk.iter().map(|t| &t.items),
                result,
                &mut settle,
                |_, _| {},
            );
        }
        let live: Vec<&Pending<_>> = planned
            .enrollments
            .iter()
            .filter(|e| e.value.origin == Origin::Live)
            .collect();
        for chunk in live.chunks(max) {
            let inputs: Vec<_> = chunk.iter().map(|e| e.value.clone()).collect();
            let result = self.sink.enroll(&inputs).await;
            self.settle_chunk(
                chunk.iter().map(|e| &e.items),
                result,
                &mut settle,
                |_, _| {},
            );
        }

        // Persist what succeeded. Failures here leave state to be rebuilt by a retry.
        let now = Timestamp::now();
        // One transaction for the whole batch (a backfill page): links, review letters,
        // order owners, ledgers, hashes and CRM ids.
        let mut ledger_rows = std::mem::take(&mut planned.owners);
        ledger_rows.extend(
            planned
                .ledgers
                .into_iter()
                .filter(|(_, _, _, items)| !settle.retrying(items))
                .map(|(_, key, json, _)| (key, json)),
        );
        let batch = BatchState {
            crm,
            links: std::mem::take(&mut planned.links),
            dead_letters: std::mem::take(&mut planned.reviews),
            ledger_rows,
            property_hashes: written_hashes,
            crm_ids,
        };
        if let Err(e) = self.store.save_batch(&batch).await {
            tracing::error!(error = %e, "cannot persist sync state; the batch will be retried");
            let err = cartograph_connector::Error::new(
                cartograph_connector::ErrorKind::Unavailable,
                format!("store: {e}"),
            );
            for slot in settle.out.iter_mut().filter(|s| s.is_none()) {
                *slot = Some(ItemOutcome::Retry { error: err.clone() });
            }
            return;
        }
        let mut q = lock(&self.quality);
        for entry in planned.revenue {
            q.commerce_revenue(entry);
        }
        for key in planned.skipped_orders {
            q.skipped_order(key);
        }
        for (key, revenue, entry, with_contact) in crm_revenue {
            q.order_written(&key);
            if !revenue {
                // Cancelled, refunded-to-zero or a cart: no longer revenue on either side.
                q.not_revenue(key);
            }
            q.orders_written += 1;
            if with_contact {
                q.orders_with_contact += 1;
            }
            if let Some(entry) = entry {
                q.crm_revenue(entry);
            }
        }
        for (i, at) in planned.event_times {
            if settle.out[i].is_none() {
                let ms = (now - at).whole_milliseconds();
                q.latency(u64::try_from(ms).unwrap_or(0));
            }
        }
    }

    /// Settles one batch call: per-record failures fail that record's items; a whole-call
    /// error fails every item of the chunk; `ok` runs for each record written or unchanged,
    /// and for each record written in part ([`WriteStatus::Partial`]: `ok` sees
    /// `!outcome.is_ok()` and must not record it as complete). A partial record counts as
    /// written, and its items retry (or dead-letter) with an error that says the record
    /// exists: the retry writes the same record again by its key, never a second one.
    fn settle_chunk<'i>(
        &self,
        items: impl Iterator<Item = &'i BTreeSet<usize>>,
        result: ConnectorResult<Vec<RecordOutcome>>,
        settle: &mut Settle<'_>,
        mut ok: impl FnMut(usize, &RecordOutcome),
    ) {
        let items: Vec<&BTreeSet<usize>> = items.collect();
        match result {
            Ok(outcomes) => {
                for (pos, items) in items.iter().enumerate() {
                    match outcomes.get(pos) {
                        Some(outcome) => match &outcome.status {
                            WriteStatus::Created | WriteStatus::Updated => {
                                self.counters.add_written(1);
                                ok(pos, outcome);
                            }
                            WriteStatus::Unchanged => {
                                self.counters.add_unchanged(1);
                                ok(pos, outcome);
                            }
                            WriteStatus::Partial { error, .. } => {
                                self.counters.add_written(1);
                                ok(pos, outcome);
                                let error = partial_error(outcome, error);
                                settle.fail(items, || {
                                    ItemOutcome::from_error("complete_write", error.clone())
                                });
                            }
                            WriteStatus::Failed(error) => {
                                settle.fail(items, || {
                                    ItemOutcome::from_error("write", error.clone())
                                });
                            }
                        },
                        None => settle.fail(items, || {
                            ItemOutcome::from_error(
                                "write",
                                cartograph_connector::Error::new(
                                    cartograph_connector::ErrorKind::Other,
                                    "the CRM answered fewer outcomes than inputs",
                                ),
                            )
                        }),
                    }
                }
            }
            Err(error) => {
                for items in items {
                    settle.fail(items, || ItemOutcome::from_error("write", error.clone()));
                }
            }
        }
    }
}

/// The error of a partially written record, saying that the record exists (and as which
/// id) before what failed; kind, retry decision, retry-after, connector, operation and
/// record are the original's.
fn partial_error(
    outcome: &RecordOutcome,
    error: &cartograph_connector::Error,
) -> cartograph_connector::Error {
    let id = outcome.id.as_deref().unwrap_or("an unknown id");
    let mut out = cartograph_connector::Error::new(
        error.kind(),
        format!(
            "{} was written to the CRM as {id}, but a later step failed (a retry writes the same record again): {}",
            outcome.key,
            error.message()
        ),
    )
    .with_connector(error.connector().to_owned())
    .with_operation(error.operation().to_owned())
    .with_record(error.record().unwrap_or(&outcome.key).to_owned())
    .with_retryable(error.is_retryable())
    .with_source(error.clone());
    if let Some(field) = error.field() {
        out = out.with_field(field.to_owned());
    }
    if let Some(status) = error.status() {
        out = out.with_status(status);
    }
    if let Some(after) = error.retry_after() {
        out = out.with_retry_after(after);
    }
    if let Some(id) = error.request_id() {
        out = out.with_request_id(id.to_owned());
    }
    out
}
