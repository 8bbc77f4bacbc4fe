//! `identity_seconds_100k`, `identity_seconds_1m`, `identity_precision`, `identity_recall`
//! and `identity_peak_rss_mb` (the rule set), and `identity_model_precision`,
//! `identity_model_recall`, `identity_model_f1`, `identity_model_seconds_100k`,
//! `identity_model_seconds_1m`, `identity_model_peak_rss_mb` (the probabilistic model).
//!
//! Each size runs in a child process (this executable with `--child identity N RUNS`) so its
//! peak RSS (`VmHWM`) belongs to that size alone. The child generates N labelled records
//! (`cartograph::testkit::generate`, seed 7), converts them to `IdentityRecord`s, drops the
//! generator's data, then times `resolve_batch` with the default `RuleSet` RUNS times and
//! scores the result against the labels (pairwise precision and recall); the rules' peak
//! RSS is read then. The model part runs in a child of its own (`--child identity-model N`,
//! so its peak RSS is the model's alone) on labelled data made independently of the testkit
//! generator (the commerce style of
//! `crates/core/src/identity/model/synth.rs`, about N records, seed 101): one
//! `MatchModel::fit_resolve` (training on the batch itself plus resolution) is timed and
//! scored, and the rule set is scored on the same data for comparison.

use std::time::Instant;

use cartograph::core::identity::{IdentityRecord, MatchModel, ModelConfig, RuleSet, resolve_batch};
use cartograph::testkit::generate::{GeneratorConfig, cluster_quality, generate};
use serde_json::{Value, json};

use crate::child;
use crate::report::{Figure, current_rss_mb, median, peak_rss_mb, round_json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[path = "../../crates/core/src/identity/model/synth.rs"]
mod synth;

/// Duplicates per person in the independent commerce data (records / people, measured).
const RECORDS_PER_PERSON: f64 = 1.8;

/// The model on independent labelled data of about `n` records: time, quality, and the
/// rule set's quality on the same records.
fn model_part(n: usize) -> Value {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let people = (n as f64 / RECORDS_PER_PERSON) as usize;
    let (records, truth) = synth::dataset(101, people, synth::Style::Commerce);
    let t = Instant::now();
    let (model, res) = MatchModel::fit_resolve(&records, &ModelConfig::default());
    let secs = t.elapsed().as_secs_f64();
    let (p, r, f1, wrong) = synth::pairwise(&truth, res.resolution.clusters());
    let rules = resolve_batch(&records, &RuleSet::default());
    let (rp, rr, rf1, rwrong) = synth::pairwise(&truth, rules.clusters());
    json!({
        "records": records.len(),
        "seconds": secs,
        "precision": p,
        "recall": r,
        "f1": f1,
        "wrongly_merged_clusters": wrong,
        "review_pairs": res.review.len(),
        "em_iterations": model.training.iterations,
        "rules": {"precision": rp, "recall": rr, "f1": rf1, "wrongly_merged_clusters": rwrong},
    })
}

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
    let rules_peak = peak_rss_mb();
    let out = json!({
        "records": n,
        "runs": secs.len(),
        "resolve_seconds_runs": secs,
        "generate_seconds": generate_secs,
        "rss_before_resolve_mb": rss_before,
        "peak_rss_mb": rules_peak,
        "quality": quality,
    });
    println!("{out}");
}

/// The model child's work (`--child identity-model N`): the model part alone, so the peak
/// RSS it reports is the model's (data, training and resolution), not the rule phase's.
pub(crate) fn model_child_main(n: usize) {
    let model = model_part(n);
    println!(
        "{}",
        json!({"model": model, "model_peak_rss_mb": peak_rss_mb()})
    );
}

/// Runs the rule child and the model child of one size and joins their figures.
fn run_size(n: &str, runs: &str) -> Result<Value, BoxError> {
    let mut v = child::run_json(&["identity", n, runs])?;
    let m = child::run_json(&["identity-model", n])?;
    v["model"] = m["model"].clone();
    v["model_peak_rss_mb"] = m["model_peak_rss_mb"].clone();
    Ok(v)
}

fn f(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_f64()
}

/// Runs the children and builds the figures.
pub(crate) fn measure(quick: bool) -> Result<Vec<Figure>, BoxError> {
    let small = run_size("100000", if quick { "3" } else { "5" })?;
    let large = if quick {
        None
    } else {
        Some(run_size("1000000", "3")?)
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
    figures.extend(model_figures(&small, large.as_ref()));
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

/// The model's figures: quality on the largest size run, time per size, peak RSS.
fn model_figures(small: &Value, large: Option<&Value>) -> Vec<Figure> {
    let scored = large.unwrap_or(small);
    let m = &scored["model"];
    let input = json!({
        "records": m["records"],
        "data": "independent commerce-style customers (synth.rs, seed 101), not the testkit generator",
    });
    let rules = m["rules"].clone();
    let seconds = |v: &Value, name: &'static str, records: usize| {
        Figure::new(
            name,
            f(v, &["model", "seconds"]).unwrap_or(f64::NAN),
            "s (training + resolution, one run)",
            json!({"records": v["model"]["records"], "nominal": records}),
        )
    };
    let mut out = vec![
        Figure::new(
            "identity_model_precision",
            f(m, &["precision"]).unwrap_or(f64::NAN),
            "pairwise precision",
            input.clone(),
        )
        .target(">= 0.99", |v| v >= 0.99)
        .detail(json!({
            "wrongly_merged_clusters": m["wrongly_merged_clusters"],
            "review_pairs": m["review_pairs"],
            "rules_on_same_data": rules,
        })),
        Figure::new(
            "identity_model_recall",
            f(m, &["recall"]).unwrap_or(f64::NAN),
            "pairwise recall",
            input.clone(),
        )
        .target(">= 0.95", |v| v >= 0.95),
        Figure::new(
            "identity_model_f1",
            f(m, &["f1"]).unwrap_or(f64::NAN),
            "pairwise F1",
            input,
        ),
        seconds(small, "identity_model_seconds_100k", 100_000).target("< 3", |v| v < 3.0),
    ];
    out.push(match large {
        Some(l) => seconds(l, "identity_model_seconds_1m", 1_000_000).target("< 30", |v| v < 30.0),
        None => Figure::missing(
            "identity_model_seconds_1m",
            "s (training + resolution, one run)",
            json!({"records": 1_000_000}),
            "skipped in --quick (run without --quick)",
        )
        .target("< 30", |v| v < 30.0),
    });
    out.push(
        Figure::new(
            "identity_model_peak_rss_mb",
            f(scored, &["model_peak_rss_mb"]).unwrap_or(f64::NAN),
            "MiB (VmHWM of the model's own child process: data, training, resolution)",
            json!({"records": m["records"]}),
        )
        .target("< 2048", |v| v < 2048.0),
    );
    out
}
