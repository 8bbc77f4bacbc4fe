//! A probabilistic (Fellegi-Sunter) match model, estimated from the unlabelled batch itself.
//!
//! Each pair of records is compared on six comparisons (first name, last name, date of
//! birth, email, phone, address), each giving one *level*: `null` when a side is blank, then
//! from exact agreement through fuzzy bands (Jaro-Winkler, edit distance, NYSIIS phonetic
//! codes, nicknames, initials, day/month swaps, one-digit typos, local parts, postcodes and
//! house numbers) down to `else`. A level has an *m* probability (how often true matches
//! show it) and a *u* probability (how often non-matches do); its match weight is
//! `log2(m / u)` bits. The pair's weight is the prior `log2(λ / (1 - λ))` (λ: the share of
//! all record pairs that match) plus the weights of its levels; its match probability is
//! `2^w / (1 + 2^w)`.
//!
//! Estimation, as Splink does it:
//! - **u** from random record pairs sampled with a seeded generator ([`ModelConfig::seed`]),
//!   the exact-name levels from the term frequencies, the exact email and phone levels from
//!   the non-matching share EM assigns to the blocked pairs sharing them;
//! - **m** and λ by expectation maximisation over the distinct comparison patterns of the
//!   blocked pairs, starting from (and shrunk towards) a weak prior;
//! - **term frequencies**: an exact first name, last name or postcode weighs
//!   `log2(m / tf)` where `tf` is the share of records with that value, so *smith* counts for
//!   less than a rare name; a phone or email local part held by more records than a person
//!   has (a switchboard, `info@`) counts for less in proportion.
//!
//! Pairs at or above [`ModelConfig::match_weight`] are links, pairs between it and
//! [`ModelConfig::review_weight`] are for review. Links are applied strongest first through
//! a union-find with the guards of the rule set: two different canonical emails only join a
//! cluster through a direct link between two records with emails weighing at least
//! [`ModelConfig::distinct_email_weight`] (never through a third record), and first names
//! that cannot be one person's (not similar, not a nickname, initial or swap) never share a
//! cluster. The same external id always links (the rules' override).
//!
//! The model is estimated from the batch, so train it on a real population (a few thousand
//! records or more), not on a handful:
//!
//! ```
//! use cartograph_core::identity::{IdentityRecord, MatchModel, ModelConfig};
//!
//! let first = ["Jane", "John", "Ada", "Li", "Omar", "Eva", "Raj", "Mia"];
//! let syllable = ["ka", "ro", "mi", "len", "dor", "sa", "vik", "tan", "bel", "gru"];
//! let last = |i: usize| -> String {
//!     i.to_string().bytes().map(|d| syllable[usize::from(d - b'0')]).collect()
//! };
//! let mut records = Vec::new();
//! for i in 0..2_000 {
//!     let r = IdentityRecord::new(format!("r{i}"))
//!         .with_email(format!("user{i}@example.com"))
//!         .with_name(first[i % 8], last(i))
//!         .with_phone(format!("+44 7700 {:06}", i * 7_919 % 1_000_000));
//!     if i % 4 == 0 {
//!         // a second account: another email, the same name and phone
//!         let mut d = r.clone();
//!         d.id = format!("d{i}");
//!         d.email = Some(format!("u{i}@mail.example"));
//!         records.push(d);
//!     }
//!     records.push(r);
//! }
//! let (model, res) = MatchModel::fit_resolve(&records, &ModelConfig::default());
//! let (d0, r0, r1) = (0, 1, 2); // input order: d0, r0, r1, r2, r3, d4, r4, ...
//! assert_eq!(res.resolution.cluster_of(d0), res.resolution.cluster_of(r0));
//! assert_ne!(res.resolution.cluster_of(r0), res.resolution.cluster_of(r1));
//! // the model serializes, and scores pairs with an explanation
//! let json = serde_json::to_string(&model)?;
//! let back: MatchModel = serde_json::from_str(&json)?;
//! let s = back.score(&records[d0], &records[r0]);
//! assert!(s.weight > back.config.match_weight);
//! assert_eq!(s.terms[4].comparison, "phone");
//! assert_eq!(s.terms[4].level, "exact");
//! # Ok::<(), serde_json::Error>(())
//! ```

// m, u, k (comparison), l (level), a and b (the two records) are the literature's names
#![allow(clippy::many_single_char_names)]

mod blocking;
mod cluster;
mod compare;
mod extra;
mod phonetic;
mod strings;
mod tf;
mod train;

#[cfg(test)]
pub(crate) mod synth;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::thread;

use serde::{Deserialize, Serialize};

use super::batch::{BatchStats, Clusters, MatchEdge, Resolution, Union, prepare_all};
use super::features::{Features, FieldIssue};
use super::record::IdentityRecord;
use compare::{Compared, MAX_LEVELS, N, SPECS};
use train::Table;

pub use tf::{TermFrequencies, TermTable};

pub(crate) use blocking::keys as model_keys;
pub(crate) use compare::{
    Side, birth_dates_agree, compare as compare_sides, first_names_compatible,
};
pub(crate) use extra::Extra;

/// The model features of one record, term frequencies from `tf`.
pub(crate) fn extra_of(rec: &IdentityRecord, f: &Features, tf: &TermFrequencies) -> Extra {
    let mut x = extra::extra(rec, f);
    extra::fill_one(f, &mut x, tf);
    x
}

/// Settings of training, blocking, thresholds and guards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    /// Seed of the random pairs u is estimated on.
    pub seed: u64,
    /// Random pairs compared to estimate u (all pairs when the batch has fewer).
    pub u_pairs: usize,
    /// Most EM rounds.
    pub max_iterations: usize,
    /// EM stops when no m (nor λ) moves by more than this.
    pub tolerance: f64,
    /// Weight of the prior EM shrinks m towards, in pairs.
    pub prior_strength: f64,
    /// Pairs weighing at least this (bits) are matches. 6 bits is a match probability of
    /// about 0.985.
    pub match_weight: f64,
    /// Pairs from this weight up to `match_weight` go to review (`Ambiguous`).
    pub review_weight: f64,
    /// A link that would put two different canonical emails into one cluster must be a
    /// direct link between records with emails weighing at least this.
    pub distinct_email_weight: f64,
    /// First names below this Jaro-Winkler similarity (and not nickname-, initial-,
    /// phonetic- or swap-compatible) never share a cluster.
    pub first_name_guard: f64,
    /// A direct link at or above `match_weight` whose two records agree on the date of
    /// birth (exactly, or with day and month swapped) is not refused by the household
    /// guard: household members share surname, address, phone and sometimes email, but
    /// not birth dates (twins apart), so the agreement is evidence the guard's "another
    /// member of the household" explanation does not have. The other guard (distinct
    /// emails) still applies.
    pub birth_date_lifts_name_guard: bool,
    /// EM keeps each comparison's closest level the most likely one among true matches
    /// (exact agreement at least as likely as any looser level or a disagreement). Without
    /// it EM can fit namesakes with name-derived emails as the match class (decision 0018).
    pub exact_mode: bool,
    /// Most bits a term-frequency adjustment may move a level's weight.
    pub max_tf_adjustment: f64,
    /// Blocks larger than this compare each record with `window` neighbours only.
    pub max_block: usize,
    /// Neighbours compared inside an oversized block.
    pub window: usize,
    /// Neighbours compared in each sorted-neighbourhood pass (by last + first name and by
    /// first + last name).
    pub neighbourhood: usize,
    /// Phone region for records without a country (ISO alpha-2).
    pub default_region: Option<String>,
}

impl ModelConfig {
    /// The pairs the model compares (input indices, `a < b`, sorted): for measuring
    /// blocking recall, the share of true pairs that reach comparison.
    pub fn candidate_pairs(&self, records: &[IdentityRecord]) -> Vec<(usize, usize)> {
        let p = prepare(records, self.default_region.as_deref());
        let pairs = blocking::candidate_pairs(
            &p.features,
            &p.extras,
            self.max_block,
            self.window,
            self.neighbourhood,
        );
        to_input_pairs(&pairs, &p.order)
    }
}

/// Packed canonical-position pairs as sorted input-index pairs.
pub(crate) fn to_input_pairs(pairs: &[u64], order: &[usize]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = pairs
        .iter()
        .map(|p| {
            let (a, b) = split(*p);
            let (x, y) = (order[a as usize], order[b as usize]);
            (x.min(y), x.max(y))
        })
        .collect();
    out.sort_unstable();
    out
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            seed: 0x5eed_1d3a,
            u_pairs: 400_000,
            max_iterations: 200,
            tolerance: 1e-6,
            prior_strength: 1.0,
            match_weight: 6.0,
            review_weight: 0.0,
            distinct_email_weight: 8.0,
            first_name_guard: 0.8,
            birth_date_lifts_name_guard: true,
            exact_mode: true,
            max_tf_adjustment: 6.0,
            max_block: 64,
            window: 12,
            neighbourhood: 4,
            default_region: None,
        }
    }
}

/// One level of a comparison with its estimated probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// Stable name (`exact`, `nickname`, `day_month_swapped`, ..., `else`).
    pub label: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
}

impl Level {
    /// The level's match weight, `log2(m / u)` bits.
    pub fn weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

/// One comparison's levels (null excluded), strongest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonParams {
    /// `first_name`, `last_name`, `birth_date`, `email`, `phone` or `address`.
    pub name: String,
    /// Levels, strongest first, `else` last.
    pub levels: Vec<Level>,
}

/// How the model was trained.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    /// Records trained on.
    pub records: usize,
    /// Blocked pairs EM ran over.
    pub blocked_pairs: u64,
    /// Distinct comparison patterns among them.
    pub patterns: usize,
    /// Random pairs compared for u.
    pub u_pairs: u64,
    /// EM rounds run.
    pub iterations: usize,
    /// Whether EM met the tolerance.
    pub converged: bool,
    /// EM's share of matches among the blocked pairs.
    pub blocked_match_share: f64,
}

/// A trained model: m and u per level, the prior, term frequencies and the settings. Plain
/// serde data: fit once, store, reuse (batch or [`IdentityIndex::with_model`]).
///
/// [`IdentityIndex::with_model`]: super::IdentityIndex::with_model
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchModel {
    /// The settings (thresholds and guards apply when resolving).
    pub config: ModelConfig,
    /// Comparisons in order: first name, last name, birth date, email, phone, address.
    pub comparisons: Vec<ComparisonParams>,
    /// λ: the probability that two random records are one person.
    pub match_probability: f64,
    /// Smallest u any level or term-frequency adjustment may use.
    pub u_floor: f64,
    /// Term-frequency tables.
    pub tf: TermFrequencies,
    /// Training figures.
    pub training: TrainingReport,
}

/// One comparison's part of a pair's weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// The comparison.
    pub comparison: Cow<'static, str>,
    /// The level reached (`null`: a side is blank).
    pub level: Cow<'static, str>,
    /// Its weight in bits (after any term-frequency adjustment).
    pub weight: f64,
    /// Whether a term frequency changed the weight.
    pub tf_adjusted: bool,
}

/// A pair's score with the levels and weights that make it (for review queues and audits).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairScore {
    /// Total weight in bits: `prior` plus every term's weight.
    pub weight: f64,
    /// `2^weight / (1 + 2^weight)`.
    pub probability: f64,
    /// The prior weight `log2(λ / (1 - λ))`.
    pub prior: f64,
    /// Whether first and last names were compared swapped.
    pub swapped_names: bool,
    /// A hard rule that decided regardless of the weight (`same_external_id`).
    pub rule: Option<Cow<'static, str>>,
    /// One term per comparison, in the model's order.
    pub terms: Vec<Term>,
}

/// A scored pair of input records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredPair {
    /// Input index of one record.
    pub a: usize,
    /// Input index of the other.
    pub b: usize,
    /// The score.
    pub score: PairScore,
}

/// The result of resolving a batch with the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelResolution {
    /// Clusters, accepted edges (rule `fellegi_sunter` or `same_external_id`, score = match
    /// probability), issues and counters, as for the rule set.
    pub resolution: Resolution,
    /// The explained score of every accepted edge, in the order applied.
    pub links: Vec<ScoredPair>,
    /// Pairs left in different clusters that weigh at least `review_weight`: below the
    /// match weight, or refused by a guard. Strongest first.
    pub review: Vec<ScoredPair>,
}

/// The weight of a pair sharing an external id (always a match).
pub(crate) const OVERRIDE_WEIGHT: f64 = 1_000.0;

/// m and u as weights, ready to score.
pub(crate) struct Scorer {
    w: Table,
    m: Table,
    u: Table,
    prior: f64,
    u_floor: f64,
    max_tf: f64,
}

fn cap(x: f64, base: f64, max: f64) -> f64 {
    x.clamp(base - max, base + max)
}

impl Scorer {
    pub(crate) fn new(model: &MatchModel) -> Self {
        let mut m = [[0.0; MAX_LEVELS]; N];
        let mut u = [[1.0; MAX_LEVELS]; N];
        let mut w = [[0.0; MAX_LEVELS]; N];
        for (k, c) in model.comparisons.iter().enumerate().take(N) {
            for (i, l) in c.levels.iter().enumerate().take(MAX_LEVELS - 1) {
                m[k][i + 1] = l.m;
                u[k][i + 1] = l.u;
                w[k][i + 1] = l.weight();
            }
        }
        let lambda = model.match_probability.clamp(1e-15, 0.5);
        Self {
            w,
            m,
            u,
            prior: (lambda / (1.0 - lambda)).log2(),
            u_floor: model.u_floor,
            max_tf: model.config.max_tf_adjustment,
        }
    }

    /// The weight of level `l` of comparison `k` for this pair, and whether a term
    /// frequency adjusted it.
    fn level_weight(&self, k: usize, l: u8, a: Side<'_>, b: Side<'_>) -> (f64, bool) {
        let l = l as usize;
        if l == 0 {
            return (0.0, false);
        }
        let base = self.w[k][l];
        let m = self.m[k][l];
        let tf = |t: f32| {
            let u = f64::from(t).max(self.u_floor);
            (cap((m / u).log2(), base, self.max_tf), true)
        };
        let shared = |s: f32| {
            let u = f64::from(s);
            if u > self.u[k][l] {
                (cap((m / u).log2(), base, self.max_tf), true)
            } else {
                (base, false)
            }
        };
        match (k, l) {
            (compare::FIRST, 1) => tf(a.x.tf_first.max(b.x.tf_first)),
            (compare::LAST, 1) => tf(a.x.tf_last.max(b.x.tf_last)),
            (compare::ADDRESS, 4) => tf(a.x.tf_postcode.max(b.x.tf_postcode)),
            (compare::PHONE, 1) => shared(a.x.shared_phone.max(b.x.shared_phone)),
            (compare::EMAIL, 2) => shared(a.x.shared_local.max(b.x.shared_local)),
            _ => (base, false),
        }
    }

    /// The total weight of a compared pair.
    pub(crate) fn weight(&self, c: Compared, a: Side<'_>, b: Side<'_>) -> f64 {
        if a.f.ext.is_some() && a.f.ext == b.f.ext {
            return OVERRIDE_WEIGHT;
        }
        let mut w = self.prior;
        for k in 0..N {
            w += self.level_weight(k, c.levels[k], a, b).0;
        }
        w
    }

    /// The explained score of a compared pair.
    pub(crate) fn explain(&self, c: Compared, a: Side<'_>, b: Side<'_>) -> PairScore {
        let terms: Vec<Term> = (0..N)
            .map(|k| {
                let (weight, tf_adjusted) = self.level_weight(k, c.levels[k], a, b);
                let l = c.levels[k] as usize;
                Term {
                    comparison: Cow::Borrowed(SPECS[k].0),
                    level: Cow::Borrowed(if l == 0 { "null" } else { SPECS[k].1[l - 1] }),
                    weight,
                    tf_adjusted,
                }
            })
            .collect();
        let over = a.f.ext.is_some() && a.f.ext == b.f.ext;
        let weight = if over {
            OVERRIDE_WEIGHT
        } else {
            self.prior + terms.iter().map(|t| t.weight).sum::<f64>()
        };
        PairScore {
            weight,
            probability: probability(weight),
            prior: self.prior,
            swapped_names: c.swapped,
            rule: over.then_some(Cow::Borrowed("same_external_id")),
            terms,
        }
    }
}

/// The match probability of a weight: `2^w / (1 + 2^w)`.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// The weight of a match probability: `log2(p / (1 - p))`.
pub fn weight_for_probability(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

/// Records in canonical order with their features.
struct Prepared {
    order: Vec<usize>,
    features: Vec<Features>,
    extras: Vec<Extra>,
    issues: Vec<FieldIssue>,
    phones_parsed: usize,
}

fn prepare(records: &[IdentityRecord], region: Option<&str>) -> Prepared {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by(|&a, &b| records[a].cmp(&records[b]));
    let sorted: Vec<&IdentityRecord> = order.iter().map(|&i| &records[i]).collect();
    let (features, issues, phones_parsed) = prepare_all(&sorted, region);
    let extras = sorted
        .iter()
        .zip(&features)
        .map(|(r, f)| extra::extra(r, f))
        .collect();
    Prepared {
        order,
        features,
        extras,
        issues,
        phones_parsed,
    }
}

fn term_frequencies(features: &[Features], extras: &[Extra]) -> TermFrequencies {
    TermFrequencies {
        first: TermTable::build(features.iter().map(|f| f.first.as_deref())),
        last: TermTable::build(features.iter().map(|f| f.last.as_deref())),
        postcode: TermTable::build(features.iter().map(|f| f.postcode.as_deref())),
        phone: TermTable::build(features.iter().map(|f| f.phone.as_deref())),
        local: TermTable::build(extras.iter().map(|x| x.local.as_deref())),
    }
}

/// Compares every candidate pair (two threads); packed levels in pair order.
fn compare_pairs(pairs: &[u64], features: &[Features], extras: &[Extra]) -> Vec<u32> {
    let run = |chunk: &[u64]| -> Vec<u32> {
        chunk
            .iter()
            .map(|p| {
                let (a, b) = split(*p);
                compare::compare(side(features, extras, a), side(features, extras, b)).pack()
            })
            .collect()
    };
    let mid = pairs.len() / 2;
    thread::scope(|s| {
        let h = s.spawn(|| run(&pairs[mid..]));
        let mut first = run(&pairs[..mid]);
        first.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        first
    })
}

fn split(p: u64) -> (u32, u32) {
    #[allow(clippy::cast_possible_truncation)]
    ((p >> 32) as u32, p as u32)
}

fn side<'a>(features: &'a [Features], extras: &'a [Extra], i: u32) -> Side<'a> {
    Side {
        f: &features[i as usize],
        x: &extras[i as usize],
    }
}

impl MatchModel {
    /// Trains a model on a batch (see [`MatchModel::fit_resolve`]).
    pub fn train(records: &[IdentityRecord], config: &ModelConfig) -> Self {
        Self::fit_resolve(records, config).0
    }

    /// Trains a model on a batch and resolves the batch with it. Deterministic and
    /// independent of input order; uses two threads.
    pub fn fit_resolve(
        records: &[IdentityRecord],
        config: &ModelConfig,
    ) -> (Self, ModelResolution) {
        let p = prepare(records, config.default_region.as_deref());
        let tf = term_frequencies(&p.features, &p.extras);
        let mut p = p;
        extra::fill_tf(&p.features, &mut p.extras, &tf);
        let pairs = blocking::candidate_pairs(
            &p.features,
            &p.extras,
            config.max_block,
            config.window,
            config.neighbourhood,
        );
        let packed = compare_pairs(&pairs, &p.features, &p.extras);
        let model = Self::fit(&p, &pairs, &packed, tf, config);
        let res = model.resolve_prepared(&p, &pairs, &packed);
        (model, res)
    }

    fn fit(
        p: &Prepared,
        pairs: &[u64],
        packed: &[u32],
        tf: TermFrequencies,
        config: &ModelConfig,
    ) -> Self {
        let n = p.features.len();
        #[allow(clippy::cast_precision_loss)]
        let nf = n.max(1) as f64;
        let u_floor = (0.01 / nf).max(1e-12);
        let u0 = train::estimate_u(
            &p.features,
            &p.extras,
            &tf,
            config.u_pairs,
            config.seed,
            u_floor,
        );
        let mut pats: Vec<u32> = packed.iter().map(|x| x & !(1 << 31)).collect();
        pats.sort_unstable();
        let mut patterns: Vec<(u32, u64)> = Vec::new();
        for x in pats {
            match patterns.last_mut() {
                Some((q, c)) if *q == x => *c += 1,
                _ => patterns.push((x, 1)),
            }
        }
        let total_pairs = nf * (nf - 1.0) / 2.0;
        let fit = train::em(
            &patterns,
            &u0,
            &train::EmSettings {
                max_iterations: config.max_iterations,
                tolerance: config.tolerance,
                prior_strength: config.prior_strength,
                u_min: u_floor,
                total_pairs: total_pairs.max(1.0),
                exact_mode: config.exact_mode,
            },
        );
        #[allow(clippy::cast_precision_loss)]
        let lambda = if total_pairs >= 1.0 {
            (fit.lambda * pairs.len() as f64 / total_pairs).clamp(1e-15, 0.5)
        } else {
            1e-6
        };
        let comparisons = (0..N)
            .map(|k| ComparisonParams {
                name: SPECS[k].0.to_owned(),
                levels: SPECS[k]
                    .1
                    .iter()
                    .enumerate()
                    .map(|(i, label)| Level {
                        label: (*label).to_owned(),
                        m: fit.m[k][i + 1],
                        u: fit.u[k][i + 1],
                    })
                    .collect(),
            })
            .collect();
        Self {
            config: config.clone(),
            comparisons,
            match_probability: lambda,
            u_floor,
            tf,
            training: TrainingReport {
                records: n,
                blocked_pairs: pairs.len() as u64,
                patterns: patterns.len(),
                u_pairs: u0.pairs,
                iterations: fit.iterations,
                converged: fit.converged,
                blocked_match_share: fit.lambda,
            },
        }
    }

    /// Resolves a batch with this model's parameters and term frequencies (no training).
    pub fn resolve(&self, records: &[IdentityRecord]) -> ModelResolution {
        let mut p = prepare(records, self.config.default_region.as_deref());
        extra::fill_tf(&p.features, &mut p.extras, &self.tf);
        let c = &self.config;
        let pairs = blocking::candidate_pairs(
            &p.features,
            &p.extras,
            c.max_block,
            c.window,
            c.neighbourhood,
        );
        let packed = compare_pairs(&pairs, &p.features, &p.extras);
        self.resolve_prepared(&p, &pairs, &packed)
    }

    /// Scores one pair of records, with the explanation.
    pub fn score(&self, a: &IdentityRecord, b: &IdentityRecord) -> PairScore {
        let region = self.config.default_region.as_deref();
        let (fs, _, _) = prepare_all(&[a, b], region);
        let mut xs: Vec<Extra> = [a, b]
            .iter()
            .zip(&fs)
            .map(|(r, f)| extra::extra(r, f))
            .collect();
        for (f, x) in fs.iter().zip(xs.iter_mut()) {
            extra::fill_one(f, x, &self.tf);
        }
        let (sa, sb) = (side(&fs, &xs, 0), side(&fs, &xs, 1));
        Scorer::new(self).explain(compare::compare(sa, sb), sa, sb)
    }

    /// The prior weight, `log2(λ / (1 - λ))` bits.
    pub fn prior_weight(&self) -> f64 {
        let l = self.match_probability.clamp(1e-15, 0.5);
        (l / (1.0 - l)).log2()
    }

    fn resolve_prepared(&self, p: &Prepared, pairs: &[u64], packed: &[u32]) -> ModelResolution {
        let scorer = Scorer::new(self);
        let c = &self.config;
        let (features, extras) = (&p.features, &p.extras);
        let score = |range: std::ops::Range<usize>| -> Vec<(f64, u32, u32)> {
            range
                .filter_map(|i| {
                    let (a, b) = split(pairs[i]);
                    let w = scorer.weight(
                        Compared::unpack(packed[i]),
                        side(features, extras, a),
                        side(features, extras, b),
                    );
                    (w >= c.review_weight).then_some((w, a, b))
                })
                .collect()
        };
        let mid = pairs.len() / 2;
        let mut scored = thread::scope(|s| {
            let h = s.spawn(|| score(mid..pairs.len()));
            let mut first = score(0..mid);
            first.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            first
        });
        scored.sort_unstable_by(|x, y| {
            y.0.total_cmp(&x.0)
                .then_with(|| (x.1, x.2).cmp(&(y.1, y.2)))
        });
        let n = features.len();
        let mut stats = BatchStats {
            records: n,
            candidate_pairs: pairs.len(),
            phones_parsed: p.phones_parsed,
            ..BatchStats::default()
        };
        let mut uf = Clusters::new(features);
        let mut accepted = Vec::new();
        let mut links = Vec::new();
        let mut pending = Vec::new();
        let explain = |a: u32, b: u32| {
            let (sa, sb) = (side(features, extras, a), side(features, extras, b));
            scorer.explain(compare::compare(sa, sb), sa, sb)
        };
        for &(w, a, b) in &scored {
            if w < c.match_weight {
                pending.push((w, a, b));
                continue;
            }
            stats.matched_pairs += 1;
            let over = w >= OVERRIDE_WEIGHT;
            let direct = features[a as usize].canon.is_some()
                && features[b as usize].canon.is_some()
                && w >= c.distinct_email_weight;
            let names_ok = c.birth_date_lifts_name_guard
                && compare::birth_dates_agree(side(features, extras, a), side(features, extras, b));
            match cluster::try_union(
                &mut uf,
                (a, b),
                over || direct,
                over || names_ok,
                c.first_name_guard,
                features,
                extras,
            ) {
                Union::Merged => {
                    stats.merges += 1;
                    let score = explain(a, b);
                    let (ia, ib) = (p.order[a as usize], p.order[b as usize]);
                    #[allow(clippy::cast_possible_truncation)]
                    accepted.push(MatchEdge {
                        a: ia,
                        b: ib,
                        rule: if over {
                            "same_external_id".to_owned()
                        } else {
                            "fellegi_sunter".to_owned()
                        },
                        score: score.probability as f32,
                    });
                    links.push(ScoredPair {
                        a: ia,
                        b: ib,
                        score,
                    });
                }
                Union::Same => {}
                Union::EmailGuard => {
                    stats.refused_email_guard += 1;
                    pending.push((w, a, b));
                }
                Union::NameGuard => {
                    stats.refused_name_guard += 1;
                    pending.push((w, a, b));
                }
            }
        }
        let mut review = Vec::new();
        for (_, a, b) in pending {
            if uf.find(a) != uf.find(b) {
                review.push(ScoredPair {
                    a: p.order[a as usize],
                    b: p.order[b as usize],
                    score: explain(a, b),
                });
            }
        }
        let (cluster_of, representative) = uf.numbered(&p.order);
        let mut issues = p.issues.clone();
        issues.sort_by(|a, b| (&a.record, &a.field).cmp(&(&b.record, &b.field)));
        ModelResolution {
            resolution: Resolution::from_parts(cluster_of, representative, accepted, issues, stats),
            links,
            review,
        }
    }
}
