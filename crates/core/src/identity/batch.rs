//! Batch resolution: blocking, pairwise rules, guarded union-find.

use std::thread;

use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};

use crate::normalize::PhoneCache;

use super::blocking::{BlockKey, keys};
use super::features::{Features, FieldIssue, prepare, prepare_phone};
use super::record::IdentityRecord;
use super::rules::RuleSet;

/// One accepted match between two records of a batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatchEdge {
    /// Input index of one record.
    pub a: usize,
    /// Input index of the other.
    pub b: usize,
    /// The rule that matched.
    pub rule: String,
    /// The rule's score.
    pub score: f32,
}

/// Counters of one batch run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchStats {
    /// Records resolved.
    pub records: usize,
    /// Distinct pairs compared.
    pub candidate_pairs: usize,
    /// Pairs some rule matched.
    pub matched_pairs: usize,
    /// Matches that joined two clusters.
    pub merges: usize,
    /// Matches refused because they would put two different emails in one cluster.
    pub refused_email_guard: usize,
    /// Matches refused because they would put incompatible first names in one cluster.
    pub refused_name_guard: usize,
    /// Distinct phone strings parsed.
    pub phones_parsed: usize,
}

/// The result of [`resolve_batch`].
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    cluster: Vec<u32>,
    representative: Vec<usize>,
    /// Accepted matches, in the order they were applied.
    pub edges: Vec<MatchEdge>,
    /// Fields that were ignored (invalid email, unparsable phone, bad date).
    pub issues: Vec<FieldIssue>,
    /// Counters.
    pub stats: BatchStats,
}

impl Resolution {
    pub(crate) fn from_parts(
        cluster: Vec<u32>,
        representative: Vec<usize>,
        edges: Vec<MatchEdge>,
        issues: Vec<FieldIssue>,
        stats: BatchStats,
    ) -> Self {
        Self {
            cluster,
            representative,
            edges,
            issues,
            stats,
        }
    }

    /// The cluster number of input record `i` (dense, `0..cluster_count()`). Numbers follow
    /// the records' canonical order, so they do not depend on input order.
    pub fn cluster_of(&self, i: usize) -> usize {
        self.cluster[i] as usize
    }

    /// The cluster number of every input record, in input order.
    pub fn clusters(&self) -> &[u32] {
        &self.cluster
    }

    /// The number of clusters (people).
    pub fn cluster_count(&self) -> usize {
        self.representative.len()
    }

    /// The input index of a cluster's representative: its member with the smallest
    /// [`IdentityRecord`] ordering (its `id` first). Use its `id` as a stable cluster key.
    pub fn representative(&self, cluster: usize) -> usize {
        self.representative[cluster]
    }

    /// The members of each cluster, as input indices in ascending order.
    pub fn members(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.cluster_count()];
        for (i, c) in self.cluster.iter().enumerate() {
            out[*c as usize].push(i);
        }
        out
    }
}

/// Resolves a batch of records into people.
///
/// Deterministic and independent of input order: records are first sorted into their
/// canonical order, pairs are evaluated in a fixed order, and matches are applied strongest
/// rule first, then by score, then by canonical position. Uses two threads.
///
/// ```
/// use cartograph_core::identity::{IdentityRecord, RuleSet, resolve_batch};
///
/// let records = vec![
///     IdentityRecord::new("a").with_email("Jane@Gmail.com ").with_name("Jane", "Doe"),
///     IdentityRecord::new("b").with_email("j.a.n.e+shop@gmail.com"),
///     IdentityRecord::new("c").with_email("john@example.com").with_name("John", "Doe"),
/// ];
/// let r = resolve_batch(&records, &RuleSet::default());
/// assert_eq!(r.cluster_of(0), r.cluster_of(1));
/// assert_ne!(r.cluster_of(0), r.cluster_of(2));
/// assert_eq!(r.cluster_count(), 2);
/// ```
pub fn resolve_batch(records: &[IdentityRecord], rules: &RuleSet) -> Resolution {
    let n = records.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| records[a].cmp(&records[b]));
    let sorted: Vec<&IdentityRecord> = order.iter().map(|&i| &records[i]).collect();

    let (features, mut issues, phones_parsed) =
        prepare_all(&sorted, rules.default_region.as_deref());
    let pairs = candidate_pairs(&features, rules);
    let mut stats = BatchStats {
        records: n,
        candidate_pairs: pairs.len(),
        phones_parsed,
        ..BatchStats::default()
    };
    let mut edges = evaluate_pairs(&pairs, &features, rules);
    drop(pairs);
    stats.matched_pairs = edges.len();
    edges.sort_unstable_by_key(|e| (e.0, u32::MAX - e.1.to_bits(), e.2, e.3));

    let mut uf = Clusters::new(&features);
    let mut accepted = Vec::new();
    for (rule_idx, score, a, b) in edges {
        let rule = &rules.rules[rule_idx as usize];
        match uf.try_union(a, b, rule, rules, &features) {
            Union::Merged => {
                stats.merges += 1;
                accepted.push(MatchEdge {
                    a: order[a as usize],
                    b: order[b as usize],
                    rule: rule.name.clone(),
                    score,
                });
            }
            Union::Same => {}
            Union::EmailGuard => stats.refused_email_guard += 1,
            Union::NameGuard => stats.refused_name_guard += 1,
        }
    }

    let (cluster, representative) = uf.numbered(&order);
    issues.sort_by(|a, b| (&a.record, &a.field).cmp(&(&b.record, &b.field)));
    Resolution {
        cluster,
        representative,
        edges: accepted,
        issues,
        stats,
    }
}

impl RuleSet {
    /// The pairs [`resolve_batch`] compares (input indices, `a < b`, sorted): for measuring
    /// blocking recall.
    pub fn candidate_pairs(&self, records: &[IdentityRecord]) -> Vec<(usize, usize)> {
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by(|&a, &b| records[a].cmp(&records[b]));
        let sorted: Vec<&IdentityRecord> = order.iter().map(|&i| &records[i]).collect();
        let (features, _, _) = prepare_all(&sorted, self.default_region.as_deref());
        super::model::to_input_pairs(&candidate_pairs(&features, self), &order)
    }
}

/// Normalizes every record: phones on one thread (the `phonenumber` crate slows down when
/// shared), everything else on another.
pub(crate) fn prepare_all(
    sorted: &[&IdentityRecord],
    region: Option<&str>,
) -> (Vec<Features>, Vec<FieldIssue>, usize) {
    let (mut features, mut issues, (phones, phone_issues, parsed)) = thread::scope(|s| {
        let phones = s.spawn(|| {
            let mut cache = PhoneCache::new();
            let mut issues = Vec::new();
            let phones: Vec<Option<Box<str>>> = sorted
                .iter()
                .map(|r| prepare_phone(r, region, &mut cache, &mut issues))
                .collect();
            (phones, issues, cache.len())
        });
        let mut issues = Vec::new();
        let features: Vec<Features> = sorted.iter().map(|r| prepare(r, &mut issues)).collect();
        let phones = phones
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (features, issues, phones)
    });
    for (f, p) in features.iter_mut().zip(phones) {
        f.phone = p;
    }
    issues.extend(phone_issues);
    (features, issues, parsed)
}

/// Distinct candidate pairs `(a, b)`, `a < b`, packed into a `u64`.
fn candidate_pairs(features: &[Features], rules: &RuleSet) -> Vec<u64> {
    let mut entries: Vec<(BlockKey, u32)> = Vec::with_capacity(features.len() * 4);
    let mut buf = Vec::new();
    for (i, f) in features.iter().enumerate() {
        buf.clear();
        keys(f, &mut buf);
        #[allow(clippy::cast_possible_truncation)]
        entries.extend(buf.iter().map(|k| (*k, i as u32)));
    }
    entries.sort_unstable();
    let mut pairs = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let k = entries[start].0.0;
        let end = start + entries[start..].iter().take_while(|e| e.0.0 == k).count();
        let block = &entries[start..end];
        let reach = if block.len() <= rules.max_block {
            block.len()
        } else {
            rules.window + 1
        };
        for (i, x) in block.iter().enumerate() {
            for y in block.iter().skip(i + 1).take(reach - 1) {
                let (a, b) = if x.1 < y.1 { (x.1, y.1) } else { (y.1, x.1) };
                pairs.push((u64::from(a) << 32) | u64::from(b));
            }
        }
        start = end;
    }
    drop(entries);
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

type Edge = (u16, f32, u32, u32);

fn evaluate_pairs(pairs: &[u64], features: &[Features], rules: &RuleSet) -> Vec<Edge> {
    let eval = |chunk: &[u64]| -> Vec<Edge> {
        chunk
            .iter()
            .filter_map(|p| {
                #[allow(clippy::cast_possible_truncation)]
                let (a, b) = ((p >> 32) as u32, *p as u32);
                rules
                    .evaluate(&features[a as usize], &features[b as usize])
                    .map(|(r, s)| (r, s, a, b))
            })
            .collect()
    };
    let mid = pairs.len() / 2;
    thread::scope(|s| {
        let second = s.spawn(|| eval(&pairs[mid..]));
        let mut first = eval(&pairs[..mid]);
        first.extend(
            second
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
        );
        first
    })
}

/// The outcome of one guarded union.
pub(crate) enum Union {
    Merged,
    Same,
    EmailGuard,
    NameGuard,
}

/// Union-find whose roots remember their distinct canonical emails and first names (shared
/// by the rule set and the model, which apply their own guards before [`Clusters::join`]).
pub(crate) struct Clusters {
    parent: Vec<u32>,
    size: Vec<u32>,
    emails: Vec<Vec<u64>>,
    firsts: Vec<Vec<u32>>,
}

const MAX_NAMES: usize = 8;

pub(crate) fn email_hash(f: &Features) -> Option<u64> {
    f.canon.as_deref().map(|e| {
        let mut h = FxHasher::default();
        e.hash(&mut h);
        h.finish()
    })
}

impl Clusters {
    pub(crate) fn new(features: &[Features]) -> Self {
        let n = features.len();
        #[allow(clippy::cast_possible_truncation)]
        Self {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
            emails: features
                .iter()
                .map(|f| email_hash(f).into_iter().collect())
                .collect(),
            firsts: (0..n as u32)
                .map(|i| {
                    if features[i as usize].first.is_some() {
                        vec![i]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
        }
    }

    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// The distinct canonical email hashes of root `r`'s cluster.
    pub(crate) fn emails(&self, r: usize) -> &[u64] {
        &self.emails[r]
    }

    /// Records of root `r`'s cluster with distinct formal first names (at most eight).
    pub(crate) fn firsts(&self, r: usize) -> &[u32] {
        &self.firsts[r]
    }

    /// Joins two roots (no guard): the smaller under the larger, emails and first names
    /// carried over.
    pub(crate) fn join(&mut self, ra: usize, rb: usize, features: &[Features]) {
        let (big, small) = if self.size[ra] >= self.size[rb] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        #[allow(clippy::cast_possible_truncation)]
        {
            self.parent[small] = big as u32;
        }
        self.size[big] += self.size[small];
        let moved = std::mem::take(&mut self.emails[small]);
        for e in moved {
            if !self.emails[big].contains(&e) {
                self.emails[big].push(e);
            }
        }
        let moved = std::mem::take(&mut self.firsts[small]);
        for x in moved {
            let canon = features[x as usize].first_canon.as_deref();
            let known = self.firsts[big]
                .iter()
                .any(|&y| features[y as usize].first_canon.as_deref() == canon);
            if !known && self.firsts[big].len() < MAX_NAMES {
                self.firsts[big].push(x);
            }
        }
    }

    /// Dense cluster numbers per input record (in canonical order) and each cluster's
    /// representative (input index): `order[pos]` is the input index at canonical `pos`.
    pub(crate) fn numbered(&mut self, order: &[usize]) -> (Vec<u32>, Vec<usize>) {
        let n = order.len();
        let mut cluster = vec![0u32; n];
        let mut number = vec![u32::MAX; n];
        let mut representative = Vec::new();
        for (pos, &input) in order.iter().enumerate() {
            #[allow(clippy::cast_possible_truncation)]
            let root = self.find(pos as u32) as usize;
            if number[root] == u32::MAX {
                #[allow(clippy::cast_possible_truncation)]
                {
                    number[root] = representative.len() as u32;
                }
                representative.push(input);
            }
            cluster[input] = number[root];
        }
        (cluster, representative)
    }

    fn try_union(
        &mut self,
        a: u32,
        b: u32,
        rule: &super::rules::MatchRule,
        rules: &RuleSet,
        features: &[Features],
    ) -> Union {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Union::Same;
        }
        let (ra, rb) = (ra as usize, rb as usize);
        if !rule.allow_distinct_emails {
            let distinct = self.emails[ra].len()
                + self.emails[rb]
                    .iter()
                    .filter(|e| !self.emails[ra].contains(e))
                    .count();
            if distinct > 1 {
                return Union::EmailGuard;
            }
        }
        for &x in &self.firsts[ra] {
            for &y in &self.firsts[rb] {
                if !rules.names_compatible(&features[x as usize], &features[y as usize]) {
                    return Union::NameGuard;
                }
            }
        }
        self.join(ra, rb, features);
        Union::Merged
    }
}
