//! Conformance suite for `cartograph_sync::Store` implementations: one async function per
//! contract, each panicking with a clear message on a violation. Run them all with
//! [`run_all`], giving a factory that opens a fresh, empty store.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use cartograph_model::Timestamp;
use cartograph_sync::{
    BatchState, Checkpoint, DeadLetterFilter, EnqueueOutcome, Link, NewDeadLetter, NewQueuedEvent,
    RecordLog, RunTotals, Store,
};

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_700_000_000 + seconds).expect("valid test time")
}

fn event(key: &str, not_before: Timestamp) -> NewQueuedEvent {
    NewQueuedEvent {
        key: key.to_owned(),
        source: "test".to_owned(),
        kind: "test_event".to_owned(),
        payload: format!(r#"{{"key":"{key}"}}"#),
        not_before,
    }
}

fn link(system: &str, id: &str, person: &str) -> Link {
    Link {
        system: system.to_owned(),
        external_id: id.to_owned(),
        person: person.to_owned(),
        record: format!(r#"{{"id":"{system}/{id}","person":"{person}"}}"#),
    }
}

fn letter(record: &str, stage: &str) -> NewDeadLetter {
    NewDeadLetter {
        record: record.to_owned(),
        stage: stage.to_owned(),
        error_kind: "invalid".to_owned(),
        message: format!("{record} failed at {stage}"),
        attempts: 1,
        payload_kind: "test_event".to_owned(),
        payload: format!(r#"{{"record":"{record}"}}"#),
        source: "test".to_owned(),
        at: at(0),
    }
}

/// Checkpoints are saved per (source, stream) and read back unchanged.
pub async fn checkpoints_round_trip(store: &dyn Store) {
    assert_eq!(
        store.checkpoint("bc", "orders").await.expect("read"),
        None,
        "empty store has no checkpoint"
    );
    let cp = Checkpoint {
        since: Some(at(5)),
        cursor: Some("page-2".into()),
        backfill_done: false,
        saved_at: Some(at(6)),
    };
    store
        .save_checkpoint("bc", "orders", &cp)
        .await
        .expect("save");
    store
        .save_checkpoint(
            "bc",
            "customers",
            &Checkpoint {
                backfill_done: true,
                ..Checkpoint::default()
            },
        )
        .await
        .expect("save");
    assert_eq!(
        store.checkpoint("bc", "orders").await.expect("read"),
        Some(cp.clone())
    );
    let newer = Checkpoint {
        since: Some(at(9)),
        cursor: None,
        backfill_done: true,
        saved_at: Some(at(10)),
    };
    store
        .save_checkpoint("bc", "orders", &newer)
        .await
        .expect("overwrite");
    assert_eq!(
        store.checkpoint("bc", "orders").await.expect("read"),
        Some(newer),
        "save must overwrite"
    );
    assert!(
        store
            .checkpoint("bc", "customers")
            .await
            .expect("read")
            .expect("present")
            .backfill_done
    );
}

/// Enqueue de-duplicates by key, within a call, across calls, and against processed keys.
pub async fn enqueue_deduplicates_by_key(store: &dyn Store) {
    let out = store
        .enqueue(&[event("a", at(0)), event("b", at(0)), event("a", at(0))])
        .await
        .expect("enqueue");
    assert!(
        matches!(out[0], EnqueueOutcome::Queued(_)),
        "first a queued: {out:?}"
    );
    assert!(
        matches!(out[1], EnqueueOutcome::Queued(_)),
        "b queued: {out:?}"
    );
    assert_eq!(
        out[2],
        EnqueueOutcome::Duplicate,
        "second a in the same call must be a duplicate"
    );
    assert_eq!(
        store.enqueue(&[event("a", at(0))]).await.expect("enqueue")[0],
        EnqueueOutcome::Duplicate
    );
    store
        .mark_processed(&["done".to_owned()], at(0))
        .await
        .expect("mark");
    assert_eq!(
        store
            .enqueue(&[event("done", at(0))])
            .await
            .expect("enqueue")[0],
        EnqueueOutcome::Duplicate,
        "an already processed key must not be queued again"
    );
    let stats = store.queue_stats(at(1)).await.expect("stats");
    assert_eq!(stats.ready, 2, "{stats:?}");
}

/// Leases hand out due events oldest first, count attempts, and hide leased events until
/// the lease expires.
pub async fn lease_hides_events_until_expiry(store: &dyn Store) {
    store
        .enqueue(&[
            event("e1", at(0)),
            event("e2", at(0)),
            event("later", at(100)),
        ])
        .await
        .expect("enqueue");
    let first = store
        .lease("w1", 10, Duration::from_secs(30), at(1))
        .await
        .expect("lease");
    let keys: Vec<_> = first.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        ["e1", "e2"],
        "due events, oldest first; not-yet-due events stay"
    );
    assert!(first.iter().all(|e| e.attempts == 1));
    assert!(first[0].payload.contains("e1"));
    assert!(
        store
            .lease("w2", 10, Duration::from_secs(30), at(2))
            .await
            .expect("lease")
            .is_empty(),
        "leased events are hidden"
    );
    let stats = store.queue_stats(at(2)).await.expect("stats");
    assert_eq!(
        (stats.ready, stats.leased, stats.delayed),
        (0, 2, 1),
        "{stats:?}"
    );
    let again = store
        .lease("w2", 10, Duration::from_secs(30), at(40))
        .await
        .expect("lease");
    assert_eq!(again.len(), 2, "expired leases are taken again");
    assert!(
        again.iter().all(|e| e.attempts == 2),
        "attempts counted per lease"
    );
    store
        .complete(&again.iter().map(|e| e.id).collect::<Vec<_>>())
        .await
        .expect("complete");
    let later = store
        .lease("w3", 10, Duration::from_secs(30), at(200))
        .await
        .expect("lease");
    assert_eq!(
        later.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        ["later"]
    );
}

/// Completing removes events and marks their keys processed; retry_later delays with the
/// error recorded.
pub async fn complete_and_retry(store: &dyn Store) {
    store
        .enqueue(&[event("c1", at(0)), event("c2", at(0))])
        .await
        .expect("enqueue");
    let leased = store
        .lease("w", 10, Duration::from_secs(30), at(0))
        .await
        .expect("lease");
    store.complete(&[leased[0].id]).await.expect("complete");
    assert_eq!(
        store
            .processed(&["c1".into(), "c2".into()])
            .await
            .expect("processed"),
        vec![true, false]
    );
    store
        .retry_later(leased[1].id, at(60), "HTTP 503")
        .await
        .expect("retry");
    assert!(
        store
            .lease("w", 10, Duration::from_secs(30), at(30))
            .await
            .expect("lease")
            .is_empty(),
        "not due before next attempt"
    );
    let retried = store
        .lease("w", 10, Duration::from_secs(30), at(61))
        .await
        .expect("lease");
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(retried[0].attempts, 2);
    assert_eq!(store.queue_stats(at(61)).await.expect("stats").total(), 1);
}

/// Concurrent workers never hold the same event at once, and every event is handed out once.
pub async fn concurrent_workers_never_share_an_event(store: Arc<dyn Store>) {
    let events: Vec<_> = (0..400)
        .map(|i| event(&format!("k{i:04}"), at(0)))
        .collect();
    for chunk in events.chunks(50) {
        store.enqueue(chunk).await.expect("enqueue");
    }
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .lease(&format!("w{w}"), 7, Duration::from_secs(600), at(1))
                    .await
                    .expect("lease");
                if batch.is_empty() {
                    break;
                }
                let ids: Vec<_> = batch.iter().map(|e| e.id).collect();
                mine.extend(batch.into_iter().map(|e| e.key));
                store.complete(&ids).await.expect("complete");
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for key in task.await.expect("worker task") {
            assert!(
                seen.insert(key.clone()),
                "event {key} was leased by two workers"
            );
        }
    }
    assert_eq!(seen.len(), 400, "every event handed out exactly once");
}

/// A deferred event comes back at its new time with its attempt count as before the lease.
pub async fn defer_does_not_count_an_attempt(store: &dyn Store) {
    store.enqueue(&[event("d1", at(0))]).await.expect("enqueue");
    let first = store
        .lease("w", 10, Duration::from_secs(30), at(0))
        .await
        .expect("lease");
    assert_eq!(first[0].attempts, 1);
    store
        .defer(first[0].id, at(5), "subject busy")
        .await
        .expect("defer");
    assert!(
        store
            .lease("w", 10, Duration::from_secs(30), at(4))
            .await
            .expect("lease")
            .is_empty(),
        "a deferred event is not due before its time"
    );
    let again = store
        .lease("w", 10, Duration::from_secs(30), at(5))
        .await
        .expect("lease");
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].attempts, 1,
        "a deferred lease is not counted as an attempt"
    );
    assert!(
        store.defer(9_999_999, at(5), "gone").await.is_err(),
        "deferring an unknown event is an error"
    );
}

/// Subject locks are exclusive between holders, renewable by their holder, released by their
/// holder only, and free again once expired.
pub async fn subject_locks_are_exclusive(store: &dyn Store) {
    let hold = Duration::from_secs(30);
    let ab: Vec<String> = vec!["person:a".into(), "person:b".into()];
    assert_eq!(
        store
            .lock_subjects("w1", &ab, hold, at(0))
            .await
            .expect("lock"),
        vec![true, true]
    );
    let bc: Vec<String> = vec!["person:b".into(), "person:c".into()];
    assert_eq!(
        store
            .lock_subjects("w2", &bc, hold, at(1))
            .await
            .expect("lock"),
        vec![false, true],
        "a subject held by another holder is not taken"
    );
    assert_eq!(
        store
            .lock_subjects("w1", &ab[1..], hold, at(20))
            .await
            .expect("renew"),
        vec![true],
        "a holder renews its own lock"
    );
    // w2 releasing b (which it does not hold) changes nothing.
    store.unlock_subjects("w2", &ab[1..]).await.expect("unlock");
    assert_eq!(
        store
            .lock_subjects("w2", &ab[1..], hold, at(40))
            .await
            .expect("lock"),
        vec![false],
        "the renewal moved the expiry, and another holder cannot release it"
    );
    assert_eq!(
        store
            .lock_subjects("w2", &ab[..1], hold, at(31))
            .await
            .expect("lock"),
        vec![true],
        "an expired lock is free"
    );
    store.unlock_subjects("w1", &ab[1..]).await.expect("unlock");
    assert_eq!(
        store
            .lock_subjects("w3", &ab[1..], hold, at(41))
            .await
            .expect("lock"),
        vec![true],
        "a released lock is free"
    );
    assert!(
        store
            .lock_subjects("w3", &[], hold, at(41))
            .await
            .expect("empty")
            .is_empty()
    );
}

/// Many holders racing for the same subjects: at every moment each subject has one holder.
pub async fn concurrent_holders_never_share_a_subject(store: Arc<dyn Store>) {
    let subjects: Vec<String> = (0..5).map(|i| format!("person:{i}")).collect();
    let inside = Arc::new(
        (0..subjects.len())
            .map(|_| std::sync::atomic::AtomicUsize::new(0))
            .collect::<Vec<_>>(),
    );
    let mut tasks = Vec::new();
    for w in 0..6 {
        let store = Arc::clone(&store);
        let subjects = subjects.clone();
        let inside = Arc::clone(&inside);
        tasks.push(tokio::spawn(async move {
            let holder = format!("h{w}");
            let mut held = 0_u32;
            for round in 0..40 {
                let pick = vec![
                    subjects[(w + round) % subjects.len()].clone(),
                    subjects[(w * 3 + round * 2 + 1) % subjects.len()].clone(),
                ];
                let got = store
                    .lock_subjects(&holder, &pick, Duration::from_secs(600), at(1))
                    .await
                    .expect("lock");
                let mine: Vec<String> = pick
                    .iter()
                    .zip(&got)
                    .filter(|(_, g)| **g)
                    .map(|(s, _)| s.clone())
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect();
                for s in &mine {
                    let i: usize = s["person:".len()..].parse().expect("index");
                    let before = inside[i].fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert_eq!(before, 0, "{s} held by two holders at once");
                }
                tokio::task::yield_now().await;
                for s in &mine {
                    let i: usize = s["person:".len()..].parse().expect("index");
                    inside[i].fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                }
                held += u32::try_from(mine.len()).expect("small");
                store.unlock_subjects(&holder, &mine).await.expect("unlock");
            }
            held
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("holder task");
    }
    assert!(total > 0, "some locks were taken");
}

/// A renewed lease keeps its events hidden past the first expiry; only the holder's live
/// leases are renewed.
pub async fn renew_extends_only_the_holders_live_leases(store: &dyn Store) {
    store
        .enqueue(&[event("r1", at(0)), event("r2", at(0))])
        .await
        .expect("enqueue");
    let a = store
        .lease("a", 1, Duration::from_secs(10), at(0))
        .await
        .expect("lease a");
    let b = store
        .lease("b", 1, Duration::from_secs(10), at(0))
        .await
        .expect("lease b");
    assert_eq!((a.len(), b.len()), (1, 1));
    let ids = [a[0].id, b[0].id];
    assert_eq!(
        store
            .renew_leases("a", &ids, Duration::from_secs(30), at(5))
            .await
            .expect("renew"),
        vec![true, false],
        "a renews its own lease, not b's"
    );
    // At 20 s b's lease has expired and its event is due again; a's is still held.
    let again = store
        .lease("c", 10, Duration::from_secs(10), at(20))
        .await
        .expect("lease c");
    assert_eq!(
        again.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[1]],
        "only the unrenewed event was re-delivered"
    );
    assert_eq!(
        store
            .renew_leases("b", &ids[1..], Duration::from_secs(30), at(21))
            .await
            .expect("late renew"),
        vec![false],
        "an expired lease taken by another is not renewed"
    );
}

/// Pruning forgets only keys processed before the cut.
pub async fn prune_processed_forgets_only_old_keys(store: &dyn Store) {
    let keys = |ks: &[&str]| ks.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
    store
        .mark_processed(&keys(&["old-1", "old-2"]), at(0))
        .await
        .expect("mark old");
    store
        .mark_processed(&keys(&["new-1"]), at(100))
        .await
        .expect("mark new");
    assert_eq!(
        store.prune_processed(at(50)).await.expect("prune"),
        2,
        "two keys were older than the cut"
    );
    assert_eq!(
        store
            .processed(&keys(&["old-1", "old-2", "new-1"]))
            .await
            .expect("processed"),
        vec![false, false, true],
        "only the old keys are forgotten"
    );
    assert_eq!(store.prune_processed(at(50)).await.expect("again"), 0);
}

/// Links, CRM ids, metrics state and property hashes are stored per key and overwritten.
pub async fn keyed_state_round_trips(store: &dyn Store) {
    store
        .save_links(&[
            link("bc", "7", "p1"),
            link("bc", "8", "p1"),
            link("hs", "7", "p2"),
        ])
        .await
        .expect("links");
    store
        .save_links(&[link("bc", "8", "p3")])
        .await
        .expect("relink");
    assert_eq!(
        store.load_links().await.expect("load"),
        vec![
            link("bc", "7", "p1"),
            link("bc", "8", "p3"),
            link("hs", "7", "p2")
        ],
        "links are replaced per (system, external id) and listed in key order"
    );
    store
        .save_crm_ids("hubspot", &[("p1".into(), "501".into())])
        .await
        .expect("crm ids");
    assert_eq!(
        store
            .crm_ids("hubspot", &["p1".into(), "p2".into()])
            .await
            .expect("crm ids"),
        vec![Some("501".to_owned()), None]
    );
    assert_eq!(
        store
            .crm_ids("salesforce", &["p1".into()])
            .await
            .expect("crm ids"),
        vec![None],
        "ids are per CRM"
    );
    store
        .save_ledger_rows(&[("p1".into(), r#"{"orders":1}"#.into())])
        .await
        .expect("metrics");
    store
        .save_ledger_rows(&[("p1".into(), r#"{"orders":2}"#.into())])
        .await
        .expect("metrics");
    assert_eq!(
        store
            .ledger_rows(&["p1".into(), "p9".into()])
            .await
            .expect("metrics"),
        vec![Some(r#"{"orders":2}"#.to_owned()), None]
    );
    store
        .save_property_hashes("hubspot", &[("contact:p1".into(), "abc".into())])
        .await
        .expect("hashes");
    assert_eq!(
        store
            .property_hashes("hubspot", &["contact:p1".into()])
            .await
            .expect("hashes"),
        vec![Some("abc".to_owned())]
    );
    assert_eq!(
        store
            .property_hashes("other", &["contact:p1".into()])
            .await
            .expect("hashes"),
        vec![None]
    );
}

/// One batch's state saved at once reads back like the single-kind saves: links replaced
/// per (system, external id), review letters parked, ledger rows, hashes and CRM ids per
/// CRM; an empty batch is a no-op.
pub async fn batch_state_round_trips(store: &dyn Store) {
    store
        .save_batch(&BatchState::default())
        .await
        .expect("an empty batch saves");
    store
        .save_links(&[link("bc", "8", "p1")])
        .await
        .expect("links");
    let batch = BatchState {
        crm: "hubspot".into(),
        links: vec![link("bc", "7", "p1"), link("bc", "8", "p2")],
        dead_letters: vec![letter("order/9", "review")],
        ledger_rows: vec![
            ("person:p1".into(), r#"{"orders":1}"#.into()),
            ("order-owner:9".into(), r#""p1""#.into()),
        ],
        property_hashes: vec![("contact:p1".into(), "h1".into())],
        crm_ids: vec![("p1".into(), "501".into()), ("p2".into(), "502".into())],
    };
    store.save_batch(&batch).await.expect("batch");
    assert_eq!(
        store.load_links().await.expect("load"),
        vec![link("bc", "7", "p1"), link("bc", "8", "p2")],
        "batch links replace earlier links of the same record"
    );
    assert_eq!(
        store
            .ledger_rows(&[
                "person:p1".into(),
                "order-owner:9".into(),
                "person:p9".into()
            ])
            .await
            .expect("rows"),
        vec![
            Some(r#"{"orders":1}"#.to_owned()),
            Some(r#""p1""#.to_owned()),
            None
        ]
    );
    assert_eq!(
        store
            .property_hashes("hubspot", &["contact:p1".into()])
            .await
            .expect("hashes"),
        vec![Some("h1".to_owned())]
    );
    assert_eq!(
        store
            .property_hashes("other", &["contact:p1".into()])
            .await
            .expect("hashes"),
        vec![None],
        "batch hashes belong to the batch's CRM"
    );
    assert_eq!(
        store
            .crm_ids("hubspot", &["p1".into(), "p2".into()])
            .await
            .expect("ids"),
        vec![Some("501".to_owned()), Some("502".to_owned())]
    );
    let parked = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .expect("letters");
    assert_eq!(parked.len(), 1, "the review letter is parked: {parked:?}");
    assert_eq!(parked[0].record, "order/9");
    // Saving the same batch again changes nothing but the letter's attempts.
    store.save_batch(&batch).await.expect("again");
    assert_eq!(store.load_links().await.expect("load").len(), 2);
    assert_eq!(store.dead_letter_count().await.expect("count"), 1);
}

/// Dead letters: added, merged per (record, stage), listed with filters, inspected,
/// replayed into the queue, discarded.
pub async fn dead_letters_lifecycle(store: &dyn Store) {
    let a = store
        .add_dead_letter(&letter("order/1", "map"))
        .await
        .expect("add");
    let again = store
        .add_dead_letter(&NewDeadLetter {
            message: "still broken".into(),
            at: at(9),
            ..letter("order/1", "map")
        })
        .await
        .expect("add");
    assert_eq!(a, again, "same record and stage is one letter");
    let b = store
        .add_dead_letter(&letter("order/2", "write"))
        .await
        .expect("add");
    assert_eq!(store.dead_letter_count().await.expect("count"), 2);
    let merged = store.dead_letter(a).await.expect("get").expect("present");
    assert_eq!(merged.attempts, 2);
    assert_eq!(merged.message, "still broken");
    assert_eq!((merged.first_seen, merged.last_seen), (at(0), at(9)));
    let only_write = store
        .dead_letters(&DeadLetterFilter {
            stage: Some("write".into()),
            ..DeadLetterFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(only_write.iter().map(|l| l.id).collect::<Vec<_>>(), vec![b]);
    let paged = store
        .dead_letters(&DeadLetterFilter {
            after_id: Some(a),
            limit: Some(10),
            ..DeadLetterFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(paged.iter().map(|l| l.id).collect::<Vec<_>>(), vec![b]);
    let queued = store.replay_dead_letter(a, at(20)).await.expect("replay");
    assert!(
        store.dead_letter(a).await.expect("get").is_none(),
        "replayed letter is removed"
    );
    let leased = store
        .lease("w", 10, Duration::from_secs(5), at(21))
        .await
        .expect("lease");
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0].id, queued);
    assert_eq!(leased[0].kind, "test_event");
    assert!(leased[0].payload.contains("order/1"));
    store.discard_dead_letter(b).await.expect("discard");
    assert_eq!(store.dead_letter_count().await.expect("count"), 0);
    assert!(
        store.discard_dead_letter(b).await.is_err(),
        "discarding twice is an error"
    );
}

/// A queued event can be moved to the dead letters and is then no longer leased.
pub async fn queued_events_can_be_dead_lettered(store: &dyn Store) {
    store
        .enqueue(&[event("bad", at(0))])
        .await
        .expect("enqueue");
    let leased = store
        .lease("w", 1, Duration::from_secs(5), at(0))
        .await
        .expect("lease");
    let id = store
        .dead_letter_queued(leased[0].id, &letter("bad", "hydrate"))
        .await
        .expect("dead letter");
    assert!(
        store
            .lease("w", 1, Duration::from_secs(5), at(100))
            .await
            .expect("lease")
            .is_empty()
    );
    assert_eq!(
        store
            .dead_letter(id)
            .await
            .expect("get")
            .expect("present")
            .stage,
        "hydrate"
    );
    assert_eq!(
        store.processed(&["bad".into()]).await.expect("processed"),
        vec![false],
        "dead-lettered is not processed"
    );
}

/// The run log keeps runs, their totals and their per-record lines in order.
pub async fn run_log_round_trips(store: &dyn Store) {
    let run = store.start_run("backfill", at(0)).await.expect("start");
    let lines: Vec<_> = (0..3)
        .map(|i| RecordLog {
            record: format!("order/{i}"),
            stage: "write".into(),
            outcome: "created".into(),
            detail: format!("deal {i}"),
            at: at(i),
        })
        .collect();
    store.log_records(run, &lines).await.expect("log");
    let open = store.run(run).await.expect("run").expect("present");
    assert_eq!(open.mode, "backfill");
    assert_eq!(open.finished_at, None);
    let totals = RunTotals {
        read: 3,
        written: 3,
        ..RunTotals::default()
    };
    store
        .finish_run(run, &totals, at(10))
        .await
        .expect("finish");
    let done = store.run(run).await.expect("run").expect("present");
    assert_eq!(done.totals, totals);
    assert_eq!(done.finished_at, Some(at(10)));
    assert_eq!(store.run_records(run, 10).await.expect("records"), lines);
    assert_eq!(store.run_records(run, 2).await.expect("records").len(), 2);
    assert!(store.run(run + 1000).await.expect("run").is_none());
}

/// Runs every contract, each against a fresh store from `open`.
pub async fn run_all<F>(mut open: F)
where
    F: FnMut() -> Arc<dyn Store>,
{
    checkpoints_round_trip(open().as_ref()).await;
    enqueue_deduplicates_by_key(open().as_ref()).await;
    lease_hides_events_until_expiry(open().as_ref()).await;
    complete_and_retry(open().as_ref()).await;
    concurrent_workers_never_share_an_event(open()).await;
    defer_does_not_count_an_attempt(open().as_ref()).await;
    subject_locks_are_exclusive(open().as_ref()).await;
    concurrent_holders_never_share_a_subject(open()).await;
    keyed_state_round_trips(open().as_ref()).await;
    batch_state_round_trips(open().as_ref()).await;
    prune_processed_forgets_only_old_keys(open().as_ref()).await;
    renew_extends_only_the_holders_live_leases(open().as_ref()).await;
    dead_letters_lifecycle(open().as_ref()).await;
    queued_events_can_be_dead_lettered(open().as_ref()).await;
    run_log_round_trips(open().as_ref()).await;
}
