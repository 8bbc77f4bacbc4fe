//! `identity_seconds_100k`, `identity_seconds_1m`, `identity_precision`, `identity_recall`
//! and `identity_peak_rss_mb`.
//!
//! Each size runs in a child process (this executable with `--child identity N RUNS`) so its
//! peak RSS (`VmHWM`) belongs to that size alone. The child generates N labelled records
//! (`cartograph_testkit::generate`, seed 7), converts them to `IdentityRecord`s, drops the
//! generator's data, then times `resolve_batch` with the default `RuleSet` RUNS times and
//! scores the result against the labels (pairwise precision and recall).

use std::time::Instant;

use cartograph_core::identity::{IdentityRecord, RuleSet, resolve_batch};
use cartograph_testkit::generate::{GeneratorConfig, cluster_quality, generate};
use serde_json::{Value, json};

use crate::child;
use crate::report::{Figure, current_rss_mb, median, peak_rss_mb, round_json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The child's work; prints one JSON object on stdout.
pub(crate) fn child_main(n: usize, runs: usize) {
    let t = Instant::now();
    let (records, labels) = {
        let data = generate(&GeneratorConfig::new(7, n));
        let records: Vec<IdentityRecord> = data
            .records
            .iter()
            .map(|r| IdentityRecord::from(&r.customer))
            .collect();
        (records, data.labels())
    };
    let generate_secs = t.elapsed().as_secs_f64();
    let rss_before = current_rss_mb();
    let rules = RuleSet::default();
    let mut secs = Vec::with_capacity(runs);
    let mut quality = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let res = resolve_batch(&records, &rules);
        secs.push(t.elapsed().as_secs_f64());
        if quality.is_none() {
            let q = cluster_quality(&labels, res.clusters());
            quality = Some(json!({
                "precision": q.precision,
                "recall": q.recall,
                "wrongly_merged_clusters": q.wrongly_merged_clusters,
                "wrong_merge_rate": q.wrong_merge_rate,
                "clusters": res.cluster_count(),
            }));
        }
    }
    let out = json!({
        "records": n,
        "runs": secs.len(),
        "resolve_seconds_runs": secs,
        "generate_seconds": generate_secs,
        "rss_before_resolve_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "quality": quality,
    });
    println!("{out}");
}

fn f(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_f64()
}

/// Runs the children and builds the figures.
pub(crate) fn measure(quick: bool) -> Result<Vec<Figure>, BoxError> {
    let small = child::run_json(&["identity", "100000", if quick { "3" } else { "5" }])?;
    let large = if quick {
        None
    } else {
        Some(child::run_json(&["identity", "1000000", "3"])?)
    };
    let secs_of = |v: &Value| -> f64 {
        let runs: Vec<f64> = v["resolve_seconds_runs"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        median(&runs)
    };
    let mut figures = vec![
        Figure::new(
            "identity_seconds_100k",
            secs_of(&small),
            "s (median)",
            json!({"records": 100_000, "runs": small["runs"], "seed": 7}),
        )
        .detail(json!({"resolve_seconds_runs": small["resolve_seconds_runs"]})),
    ];
    figures.push(match &large {
        Some(l) => Figure::new(
            "identity_seconds_1m",
            secs_of(l),
            "s (median)",
            json!({"records": 1_000_000, "runs": l["runs"], "seed": 7}),
        )
        .target("< 30", |v| v < 30.0)
        .detail(json!({"resolve_seconds_runs": l["resolve_seconds_runs"]})),
        None => Figure::missing(
            "identity_seconds_1m",
            "s (median)",
            json!({"records": 1_000_000}),
            "skipped in --quick (a 1M run needs ~25 s and ~2 GB; run without --quick)",
        )
        .target("< 30", |v| v < 30.0),
    });
    let scored = large.as_ref().unwrap_or(&small);
    let size = scored["records"].clone();
    let q = &scored["quality"];
    figures.push(
        Figure::new(
            "identity_precision",
            f(q, &["precision"]).unwrap_or(f64::NAN),
            "pairwise precision",
            json!({"records": size, "seed": 7}),
        )
        .target(">= 0.99", |v| v >= 0.99)
        .detail(json!({
            "wrongly_merged_clusters": q["wrongly_merged_clusters"],
            "wrong_merge_rate": q["wrong_merge_rate"],
            "clusters": q["clusters"],
            "other_size": if large.is_some() { small["quality"].clone() } else { Value::Null },
        })),
    );
    figures.push(
        Figure::new(
            "identity_recall",
            f(q, &["recall"]).unwrap_or(f64::NAN),
            "pairwise recall",
            json!({"records": size, "seed": 7}),
        )
        .target(">= 0.95", |v| v >= 0.95),
    );
    let mem = |v: &Value| {
        json!({
            "records": v["records"],
            "peak_rss_mb": v["peak_rss_mb"].as_f64().map(round_json),
            "rss_before_resolve_mb": v["rss_before_resolve_mb"].as_f64().map(round_json),
            "generate_seconds": v["generate_seconds"].as_f64().map(round_json),
        })
    };
    figures.push(
        Figure::new(
            "identity_peak_rss_mb",
            f(scored, &["peak_rss_mb"]).unwrap_or(f64::NAN),
            "MiB (VmHWM of the child process)",
            json!({"records": size}),
        )
        .detail(json!({
            "note": "whole child process: generator output converted to IdentityRecords (rss_before_resolve_mb) plus resolution",
            "sizes": [mem(&small), large.as_ref().map_or(Value::Null, mem)],
        })),
    );
    Ok(figures)
}
