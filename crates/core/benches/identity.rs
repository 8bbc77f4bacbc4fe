#![allow(missing_docs, clippy::unwrap_used)]
//! Identity resolution benches on generated, labelled data.
//!
//! `cargo bench -p cartograph-core --bench identity` times batch resolution of 10k and 100k
//! records (with a serde_json parse + serialize of the same records as the baseline),
//! incremental resolution, and phone normalization with and without the cache. Set
//! `IDENTITY_BENCH_1M=1` to also time one 1M-record resolution (a single timed run, printed
//! with the quality figures: criterion sampling of a 15 s job is not useful).

use std::hint::black_box;
use std::time::Instant;

use cartograph_core::identity::{IdentityIndex, IdentityRecord, RuleSet, resolve_batch};
use cartograph_core::normalize::{PhoneCache, normalize_phone};
use cartograph_testkit::generate::{GeneratorConfig, cluster_quality, generate};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

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

criterion_group!(benches, batch, incremental, phones);
criterion_main!(benches);
