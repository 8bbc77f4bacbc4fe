#![allow(missing_docs, clippy::unwrap_used)]
//! Identity resolution benches on generated, labelled data.
//!
//! `cargo bench -p cartograph-core --bench identity` times batch resolution of 10k and 100k
//! records (with a serde_json parse + serialize of the same records as the baseline),
//! incremental resolution, and phone normalization with and without the cache. Set
//! `IDENTITY_BENCH_1M=1` to also time one 1M-record resolution (a single timed run, printed
//! with the quality figures: criterion sampling of a 15 s job is not useful).
//!
//! The `identity_model` group compares the probabilistic model ([`MatchModel`]) with the
//! rule set on labelled data made independently of the testkit generator
//! (`src/identity/model/synth.rs`: commerce customers and FEBRL-style person registers, with
//! their own typo, swap, nickname, missing-field, email-change and date-format corruptions):
//! it prints pairwise precision, recall and F1, wrongly merged clusters and blocking recall
//! (the share of true pairs that reach comparison) for both, on the testkit generator's data
//! too, and times training + resolution, resolution with a trained model, and the rules on
//! 10k records.

use std::hint::black_box;
use std::time::Instant;

use cartograph_core::identity::{
    IdentityIndex, IdentityRecord, MatchModel, ModelConfig, RuleSet, resolve_batch,
};
use cartograph_core::normalize::{PhoneCache, normalize_phone};
use cartograph_testkit::generate::{GeneratorConfig, cluster_quality, generate};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

#[path = "../src/identity/model/synth.rs"]
mod synth;

/// Share of true pairs among `pairs` (sorted input-index pairs).
#[allow(clippy::cast_precision_loss)]
fn blocking_recall(truth: &[u32], pairs: &[(usize, usize)]) -> (f64, usize) {
    let mut by_person: std::collections::BTreeMap<u32, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, t) in truth.iter().enumerate() {
        by_person.entry(*t).or_default().push(i);
    }
    let mut total = 0usize;
    let mut found = 0usize;
    for members in by_person.values() {
        for (k, &a) in members.iter().enumerate() {
            for &b in &members[k + 1..] {
                total += 1;
                if pairs.binary_search(&(a.min(b), a.max(b))).is_ok() {
                    found += 1;
                }
            }
        }
    }
    (
        if total == 0 {
            1.0
        } else {
            found as f64 / total as f64
        },
        pairs.len(),
    )
}

/// Prints the quality of both models on one labelled data set.
fn report(name: &str, recs: &[IdentityRecord], truth: &[u32]) {
    let config = ModelConfig::default();
    let rules = RuleSet::default();
    let t = Instant::now();
    let (_, model) = MatchModel::fit_resolve(recs, &config);
    let model_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let by_rules = resolve_batch(recs, &rules);
    let rules_secs = t.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let per_10k = |s: f64| s * 10_000.0 / recs.len() as f64;
    for (label, clusters, secs, pairs) in [
        (
            "model",
            model.resolution.clusters(),
            model_secs,
            config.candidate_pairs(recs),
        ),
        (
            "rules",
            by_rules.clusters(),
            rules_secs,
            rules.candidate_pairs(recs),
        ),
    ] {
        let (p, r, f1, wrong) = synth::pairwise(truth, clusters);
        let (br, compared) = blocking_recall(truth, &pairs);
        println!(
            "{name} ({} records) {label}: precision {p:.4} recall {r:.4} F1 {f1:.4} wrongly merged clusters {wrong}; blocking recall {br:.4} ({compared} pairs); {:.3} s per 10k records",
            recs.len(),
            per_10k(secs)
        );
    }
}

fn model_quality(c: &mut Criterion) {
    let (commerce, commerce_truth) = synth::dataset(101, 6_000, synth::Style::Commerce);
    report("independent commerce", &commerce, &commerce_truth);
    let (register, register_truth) = synth::dataset(102, 5_000, synth::Style::Register);
    report(
        "independent FEBRL-style register",
        &register,
        &register_truth,
    );
    let (generated, generated_truth) = records(10_000);
    report("testkit generator", &generated, &generated_truth);

    let (recs, _) = synth::dataset(103, 6_000, synth::Style::Commerce);
    let recs: Vec<IdentityRecord> = recs.into_iter().take(10_000).collect();
    let config = ModelConfig::default();
    let trained = MatchModel::train(&recs, &config);
    let rules = RuleSet::default();
    let mut group = c.benchmark_group("identity_model");
    group.sample_size(10);
    group.throughput(Throughput::Elements(recs.len() as u64));
    group.bench_function(format!("model_fit_resolve_{}", recs.len()), |b| {
        b.iter(|| black_box(MatchModel::fit_resolve(black_box(&recs), &config)));
    });
    group.bench_function(format!("model_resolve_trained_{}", recs.len()), |b| {
        b.iter(|| black_box(trained.resolve(black_box(&recs))));
    });
    group.bench_function(format!("rules_resolve_{}", recs.len()), |b| {
        b.iter(|| black_box(resolve_batch(black_box(&recs), &rules)));
    });
    group.finish();
}

fn records(n: usize) -> (Vec<IdentityRecord>, Vec<u32>) {
    let data = generate(&GeneratorConfig::new(7, n));
    let recs = data
        .records
        .iter()
        .map(|r| IdentityRecord::from(&r.customer))
        .collect();
    (recs, data.labels())
}

fn batch(c: &mut Criterion) {
    let rules = RuleSet::default();
    let mut group = c.benchmark_group("identity_batch");
    group.sample_size(10);
    for n in [10_000usize, 100_000] {
        let (recs, truth) = records(n);
        let res = resolve_batch(&recs, &rules);
        let q = cluster_quality(&truth, res.clusters());
        println!(
            "{n} records: precision {:.4} recall {:.4} wrongly merged clusters {} ({:.4} %)",
            q.precision,
            q.recall,
            q.wrongly_merged_clusters,
            q.wrong_merge_rate * 100.0
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("resolve_{n}"), |b| {
            b.iter(|| black_box(resolve_batch(black_box(&recs), &rules)));
        });
        let json: Vec<String> = recs
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        group.bench_function(format!("baseline_serde_json_{n}"), |b| {
            b.iter(|| {
                for line in &json {
                    let r: IdentityRecord = serde_json::from_str(line).unwrap();
                    black_box(serde_json::to_string(&r).unwrap());
                }
            });
        });
    }
    group.finish();
    if std::env::var_os("IDENTITY_BENCH_1M").is_some() {
        let (recs, truth) = records(1_000_000);
        let t = Instant::now();
        let res = resolve_batch(&recs, &rules);
        let secs = t.elapsed().as_secs_f64();
        let q = cluster_quality(&truth, res.clusters());
        println!(
            "1000000 records: {secs:.2} s; precision {:.4} recall {:.4} wrongly merged {} ({:.4} %)",
            q.precision,
            q.recall,
            q.wrongly_merged_clusters,
            q.wrong_merge_rate * 100.0
        );
        drop(res);
        let t = Instant::now();
        let (_, res) = MatchModel::fit_resolve(&recs, &ModelConfig::default());
        let secs = t.elapsed().as_secs_f64();
        let q = cluster_quality(&truth, res.resolution.clusters());
        println!(
            "1000000 records, model (training included): {secs:.2} s; precision {:.4} recall {:.4} wrongly merged {} ({:.4} %)",
            q.precision,
            q.recall,
            q.wrongly_merged_clusters,
            q.wrong_merge_rate * 100.0
        );
    }
}

fn incremental(c: &mut Criterion) {
    let (recs, _) = records(20_000);
    let mut group = c.benchmark_group("identity_incremental");
    group.sample_size(10);
    group.throughput(Throughput::Elements(recs.len() as u64));
    group.bench_function("resolve_and_insert_20000", |b| {
        b.iter_batched(
            || IdentityIndex::new(RuleSet::default()),
            |mut index| {
                for r in &recs {
                    black_box(index.resolve_and_insert(r));
                }
                index
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn phones(c: &mut Criterion) {
    let (recs, _) = records(10_000);
    let phones: Vec<(String, Option<String>)> = recs
        .iter()
        .filter_map(|r| r.phone.clone().map(|p| (p, r.country.clone())))
        .collect();
    let mut group = c.benchmark_group("phone");
    group.sample_size(10);
    group.throughput(Throughput::Elements(phones.len() as u64));
    group.bench_function("normalize_uncached", |b| {
        b.iter(|| {
            for (p, region) in &phones {
                black_box(normalize_phone(p, region.as_deref()).ok());
            }
        });
    });
    group.bench_function("normalize_cached_cold", |b| {
        b.iter(|| {
            let mut cache = PhoneCache::new();
            for (p, region) in &phones {
                black_box(cache.normalize(p, region.as_deref()).ok());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, model_quality, batch, incremental, phones);
criterion_main!(benches);
