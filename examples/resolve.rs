//! Resolve people in a JSON Lines file.
//!
//! ```text
//! cargo run --release --example resolve -- records.jsonl > clusters.jsonl
//! cat records.jsonl | cargo run --release --example resolve
//! cargo run --release --example resolve -- --emit 1000 --seed 7 > sample.jsonl
//! cargo run --release --example resolve -- --generate 1000000 --seed 7
//! cargo run --release --example resolve -- --rules records.jsonl > clusters.jsonl
//! ```
//!
//! Resolution uses the probabilistic (Fellegi-Sunter) model, trained on the input itself;
//! `--rules` uses the deterministic rule set instead, as do inputs under 500 records (too few
//! to estimate the model's weights from). `--show-model` prints the trained m, u and weight
//! of every comparison level on stderr.
//!
//! Input: one JSON object per line with any of `id`, `source`, `source_id`, `email`, `phone`,
//! `first_name`, `last_name`, `company`, `address1`, `address2`, `city`, `postcode`, `region`,
//! `country`, `birth_date` (strings or numbers; null or absent is blank; unknown fields are
//! ignored). A line without `id` gets its line number. Output: one line
//! `{"id": ..., "cluster": ...}` per record, where `cluster` is the id of the cluster's
//! representative record. A summary goes to stderr; bad lines are reported with their line
//! number and skipped.
//!
//! When every input line carries a `person` label (number or string: the true person, as
//! `--emit` and `scripts/febrl_to_jsonl.py` write it), the summary adds pairwise precision,
//! recall and F1 and the wrongly merged clusters against those labels.
//!
//! `--emit N` writes N generated, labelled records (with a `person` field) instead;
//! `--generate N` resolves N generated records in memory and prints timing and quality
//! against the labels (nothing on stdout).

use std::io::{BufRead, BufWriter, Write};
use std::time::Instant;

use cartograph::core::identity::{
    IdentityRecord, MatchModel, ModelConfig, Resolution, RuleSet, resolve_batch,
};
use cartograph::testkit::generate::{GeneratorConfig, cluster_quality, generate};
use serde_json::{Map, Value};

const FIELDS: &[&str] = &[
    "source",
    "source_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "company",
    "address1",
    "address2",
    "city",
    "postcode",
    "region",
    "country",
    "birth_date",
];

fn field(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!(
            "field `{name}` must be a string or number, got {other}"
        )),
    }
}

fn parse_line(line: &str, number: usize) -> Result<IdentityRecord, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let Value::Object(obj) = value else {
        return Err("not a JSON object".to_owned());
    };
    let mut rec = IdentityRecord::new(field(&obj, "id")?.unwrap_or_else(|| number.to_string()));
    let mut values = Vec::with_capacity(FIELDS.len());
    for name in FIELDS {
        values.push(field(&obj, name)?);
    }
    let mut it = values.into_iter();
    let mut next = || it.next().flatten();
    rec.source = next();
    rec.source_id = next();
    rec.email = next();
    rec.phone = next();
    rec.first_name = next();
    rec.last_name = next();
    rec.company = next();
    rec.address1 = next();
    rec.address2 = next();
    rec.city = next();
    rec.postcode = next();
    rec.region = next();
    rec.country = next();
    rec.birth_date = next();
    Ok(rec)
}

fn to_json(rec: &IdentityRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(rec.id.clone()));
    let values = [
        &rec.source,
        &rec.source_id,
        &rec.email,
        &rec.phone,
        &rec.first_name,
        &rec.last_name,
        &rec.company,
        &rec.address1,
        &rec.address2,
        &rec.city,
        &rec.postcode,
        &rec.region,
        &rec.country,
        &rec.birth_date,
    ];
    for (name, v) in FIELDS.iter().zip(values) {
        if let Some(v) = v {
            m.insert((*name).into(), Value::String(v.clone()));
        }
    }
    m
}

/// Below this many records the model has too little to estimate its weights from, and the
/// rule set decides (see docs/identity.md, "Model versus rules").
const MODEL_MIN_RECORDS: usize = 500;

/// The probabilistic model (trained on the batch itself) by default; the rule set with
/// `--rules`, or when the batch is too small to train on.
fn resolve(records: &[IdentityRecord], args: &[String]) -> Resolution {
    if args.iter().any(|a| a == "--rules") || records.len() < MODEL_MIN_RECORDS {
        eprintln!("resolver: rule set");
        return resolve_batch(records, &RuleSet::default());
    }
    eprintln!("resolver: probabilistic model trained on this batch");
    let (model, res) = MatchModel::fit_resolve(records, &ModelConfig::default());
    eprintln!(
        "training: {:?}; prior {:.2} bits",
        model.training,
        model.prior_weight()
    );
    if args.iter().any(|a| a == "--show-model") {
        for c in &model.comparisons {
            let levels: Vec<String> = c
                .levels
                .iter()
                .map(|l| format!("{} m={:.3} u={:.2e} w={:.1}", l.label, l.m, l.u, l.weight()))
                .collect();
            eprintln!("  {}: {}", c.name, levels.join(" | "));
        }
    }
    eprintln!("pairs for review: {}", res.review.len());
    res.resolution
}

fn arg_value(args: &[String], flag: &str) -> Option<usize> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1)?.replace('_', "").parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed = arg_value(&args, "--seed").unwrap_or(7) as u64;
    if let Some(n) = arg_value(&args, "--emit") {
        let data = generate(&GeneratorConfig::new(seed, n));
        let mut out = BufWriter::new(std::io::stdout().lock());
        for r in &data.records {
            let mut m = to_json(&IdentityRecord::from(&r.customer));
            m.insert("person".into(), Value::from(r.person));
            writeln!(out, "{}", Value::Object(m))?;
        }
        return Ok(());
    }
    if let Some(n) = arg_value(&args, "--generate") {
        let t = Instant::now();
        let data = generate(&GeneratorConfig::new(seed, n));
        let records: Vec<IdentityRecord> = data
            .records
            .iter()
            .map(|r| IdentityRecord::from(&r.customer))
            .collect();
        eprintln!(
            "generated {n} records in {:.2} s",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let res = resolve(&records, &args);
        let secs = t.elapsed().as_secs_f64();
        let q = cluster_quality(&data.labels(), res.clusters());
        eprintln!(
            "resolved {} records into {} clusters in {secs:.2} s",
            records.len(),
            res.cluster_count()
        );
        eprintln!("{:?}", res.stats);
        eprintln!(
            "precision {:.4} recall {:.4} wrongly merged clusters {} ({:.4} % of clusters, {:.4} % of multi-record clusters)",
            q.precision,
            q.recall,
            q.wrongly_merged_clusters,
            q.wrong_merge_rate * 100.0,
            q.wrong_merge_rate_multi * 100.0
        );
        return Ok(());
    }

    let input: Box<dyn BufRead> = match args.iter().find(|a| !a.starts_with("--")) {
        Some(path) => Box::new(std::io::BufReader::new(std::fs::File::open(path)?)),
        None => Box::new(std::io::stdin().lock()),
    };
    let t = Instant::now();
    let mut records = Vec::new();
    let mut labels = Labels::default();
    let mut bad = 0usize;
    for (i, line) in input.lines().enumerate() {
        let number = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("line {number}: {e}");
                bad += 1;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(&line, number) {
            Ok(r) => {
                labels.push(&line);
                records.push(r);
            }
            Err(e) => {
                eprintln!("line {number}: {e}; skipped");
                bad += 1;
            }
        }
    }
    let res = resolve(&records, &args);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (i, r) in records.iter().enumerate() {
        let rep = &records[res.representative(res.cluster_of(i))].id;
        let line = serde_json::json!({ "id": r.id, "cluster": rep });
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    for issue in &res.issues {
        eprintln!(
            "record {}: {} ignored: {}",
            issue.record, issue.field, issue.reason
        );
    }
    eprintln!(
        "records {} clusters {} duplicates found {} bad lines {bad} seconds {:.2}",
        records.len(),
        res.cluster_count(),
        records.len() - res.cluster_count(),
        t.elapsed().as_secs_f64()
    );
    if let Some(truth) = labels.truth(records.len()) {
        let q = cluster_quality(&truth, res.clusters());
        let f1 = if q.precision + q.recall > 0.0 {
            2.0 * q.precision * q.recall / (q.precision + q.recall)
        } else {
            0.0
        };
        eprintln!(
            "against the `person` labels: precision {:.4} recall {:.4} F1 {f1:.4} wrongly merged clusters {}",
            q.precision, q.recall, q.wrongly_merged_clusters
        );
    }
    Ok(())
}

/// The `person` labels of the input lines, as dense numbers.
#[derive(Default)]
struct Labels {
    ids: std::collections::HashMap<String, u32>,
    truth: Vec<u32>,
    missing: bool,
}

impl Labels {
    fn push(&mut self, line: &str) {
        let label = serde_json::from_str::<Value>(line)
            .ok()
            .and_then(|v| match v.get("person") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            });
        let Some(label) = label else {
            self.missing = true;
            return;
        };
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let id = *self.ids.entry(label).or_insert(next);
        self.truth.push(id);
    }

    /// The labels, when every record had one.
    fn truth(self, records: usize) -> Option<Vec<u32>> {
        (!self.missing && records > 0 && self.truth.len() == records).then_some(self.truth)
    }
}
