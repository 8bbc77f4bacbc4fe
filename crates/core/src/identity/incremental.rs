//! Incremental resolution against an index of known people.

use rustc_hash::FxHashMap;

use crate::normalize::PhoneCache;

use super::batch::email_hash;
use super::blocking::keys;
use super::features::{Features, FieldIssue, prepare, prepare_phone};
use super::model::{self, MatchModel, PairScore, Scorer};
use super::person::{Candidate, Decision, PersonId, StoredLink};
use super::record::IdentityRecord;
use super::rules::RuleSet;

/// The rule name reported when a known record id resolves to its current person.
pub const SAME_RECORD: &str = "same_record";

/// The rule name of a model decision.
pub const MODEL_RULE: &str = "fellegi_sunter";

/// Most recent records read from one block for one lookup.
const MAX_PER_BLOCK: usize = 1024;

struct Person {
    id: PersonId,
    records: Vec<u32>,
    emails: Vec<u64>,
}

/// An index of known people for incremental resolution.
///
/// ```
/// use cartograph_core::identity::{Decision, IdentityIndex, IdentityRecord, RuleSet};
///
/// let mut index = IdentityIndex::new(RuleSet::default());
/// let jane = IdentityRecord::new("bc-1").with_email("jane@example.com").with_name("Jane", "Doe");
/// assert_eq!(index.resolve_and_insert(&jane), Decision::New);
///
/// let guest = IdentityRecord::new("order-9").with_email(" JANE@example.com");
/// match index.resolve(&guest) {
///     Decision::Match { person, rule, .. } => {
///         assert_eq!(person.as_str(), "bc-1");
///         assert_eq!(rule, "same_email");
///     }
///     other => panic!("{other:?}"),
/// }
///
/// // persist and rebuild
/// let links = index.links();
/// let rebuilt = IdentityIndex::from_links(RuleSet::default(), links);
/// assert_eq!(rebuilt.len(), 1);
/// ```
pub struct IdentityIndex {
    rules: RuleSet,
    raw: Vec<Option<IdentityRecord>>,
    features: Vec<Features>,
    person_of: Vec<u32>,
    persons: Vec<Person>,
    by_person: FxHashMap<PersonId, u32>,
    by_record: FxHashMap<String, u32>,
    blocks: FxHashMap<u64, Vec<u32>>,
    phones: PhoneCache,
    issues: Vec<FieldIssue>,
    model: Option<ModelState>,
}

/// The model an index scores with, and the model features of every stored record.
struct ModelState {
    model: MatchModel,
    scorer: Scorer,
    extras: Vec<model::Extra>,
}

impl std::fmt::Debug for IdentityIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityIndex")
            .field("people", &self.persons.len())
            .field("records", &self.by_record.len())
            .finish_non_exhaustive()
    }
}

impl IdentityIndex {
    /// An empty index.
    pub fn new(rules: RuleSet) -> Self {
        Self {
            rules,
            raw: Vec::new(),
            features: Vec::new(),
            person_of: Vec::new(),
            persons: Vec::new(),
            by_person: FxHashMap::default(),
            by_record: FxHashMap::default(),
            blocks: FxHashMap::default(),
            phones: PhoneCache::new(),
            issues: Vec::new(),
            model: None,
        }
    }

    /// An empty index that resolves with a trained [`MatchModel`] instead of the rules: the
    /// model's blocking keys find candidates, its weights (with the term frequencies it was
    /// trained on) score them, and its thresholds and guards decide. The same external id
    /// still always matches. `rules` only provides the phone region.
    ///
    /// ```
    /// use cartograph_core::identity::{
    ///     Decision, IdentityIndex, IdentityRecord, MatchModel, ModelConfig, RuleSet,
    /// };
    ///
    /// let first = ["Jane", "John", "Ada", "Li", "Omar", "Eva", "Raj", "Mia"];
    /// let syllable = ["ka", "ro", "mi", "len", "dor", "sa", "vik", "tan", "bel", "gru"];
    /// let last = |i: usize| -> String {
    ///     i.to_string().bytes().map(|d| syllable[usize::from(d - b'0')]).collect()
    /// };
    /// let mut batch = Vec::new();
    /// for i in 0..2_000 {
    ///     let r = IdentityRecord::new(format!("r{i}"))
    ///         .with_email(format!("user{i}@example.com"))
    ///         .with_name(first[i % 8], last(i))
    ///         .with_phone(format!("+44 7700 {:06}", i * 7_919 % 1_000_000));
    ///     if i % 4 == 0 {
    ///         // a second account: another email, the same name and phone
    ///         let mut d = r.clone();
    ///         d.id = format!("d{i}");
    ///         d.email = Some(format!("u{i}@mail.example"));
    ///         batch.push(d);
    ///     }
    ///     batch.push(r);
    /// }
    /// let model = MatchModel::train(&batch, &ModelConfig::default());
    /// let mut index = IdentityIndex::with_model(RuleSet::default(), model);
    /// for r in &batch {
    ///     index.resolve_and_insert(r);
    /// }
    /// let again = IdentityRecord::new("guest-1")
    ///     .with_email("User7@example.com")
    ///     .with_name("Mia", "tan");
    /// match index.resolve(&again) {
    ///     Decision::Match { person, rule, .. } => {
    ///         assert_eq!(person.as_str(), "r7");
    ///         assert_eq!(rule, "fellegi_sunter");
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn with_model(rules: RuleSet, model: MatchModel) -> Self {
        let mut index = Self::new(rules);
        index.model = Some(ModelState {
            scorer: Scorer::new(&model),
            model,
            extras: Vec::new(),
        });
        index
    }

    /// Rebuilds a model-scored index from stored links.
    pub fn from_links_with_model(
        rules: RuleSet,
        model: MatchModel,
        links: impl IntoIterator<Item = StoredLink>,
    ) -> Self {
        let mut index = Self::with_model(rules, model);
        for link in links {
            index.insert(&link.record, &link.person);
        }
        index
    }

    /// The model this index scores with, if any.
    pub fn model(&self) -> Option<&MatchModel> {
        self.model.as_ref().map(|m| &m.model)
    }

    /// Rebuilds an index from stored links (as returned by [`IdentityIndex::links`]).
    pub fn from_links(rules: RuleSet, links: impl IntoIterator<Item = StoredLink>) -> Self {
        let mut index = Self::new(rules);
        for link in links {
            index.insert(&link.record, &link.person);
        }
        index
    }

    /// The number of people.
    pub fn len(&self) -> usize {
        self.persons
            .iter()
            .filter(|p| !p.records.is_empty())
            .count()
    }

    /// Whether the index knows nobody.
    pub fn is_empty(&self) -> bool {
        self.by_record.is_empty()
    }

    /// The person a record id was assigned to.
    pub fn person_of_record(&self, record_id: &str) -> Option<&PersonId> {
        let idx = *self.by_record.get(record_id)?;
        Some(&self.persons[self.person_of[idx as usize] as usize].id)
    }

    /// Fields ignored so far (invalid emails, unparsable phones), oldest first.
    pub fn take_issues(&mut self) -> Vec<FieldIssue> {
        std::mem::take(&mut self.issues)
    }

    fn features(&mut self, record: &IdentityRecord) -> Features {
        let mut f = prepare(record, &mut self.issues);
        f.phone = prepare_phone(
            record,
            self.rules.default_region.as_deref(),
            &mut self.phones,
            &mut self.issues,
        );
        f
    }

    /// Decides who `record` is, without changing the index (except the phone cache).
    ///
    /// The strongest rule that matches decides. One person at that rule is a `Match`; several
    /// are `Ambiguous`; none is `New`. A person whose emails or first names the record would
    /// conflict with (the chaining guards of batch resolution) is not a candidate. A record id
    /// already in the index is compared with the others, not with its own older version; it
    /// stays with its person ([`SAME_RECORD`]) unless it now matches only other people, which
    /// is `Ambiguous` (its current person listed first).
    pub fn resolve(&mut self, record: &IdentityRecord) -> Decision {
        if self.model.is_some() {
            return self.resolve_model(record);
        }
        let f = self.features(record);
        let own = self.by_record.get(&record.id).copied();
        let mut buf = Vec::new();
        keys(&f, &mut buf);
        let candidates = self.lookup(&buf);
        let email = email_hash(&f);
        let mut best: FxHashMap<u32, (u16, f32)> = FxHashMap::default();
        for c in candidates {
            if Some(c) == own || self.raw[c as usize].is_none() {
                continue;
            }
            let Some((rule, score)) = self.rules.evaluate(&f, &self.features[c as usize]) else {
                continue;
            };
            let p = self.person_of[c as usize];
            let e = best.entry(p).or_insert((rule, score));
            if (rule, -score) < (e.0, -e.1) {
                *e = (rule, score);
            }
        }
        let mut hits: Vec<(u16, f32, &PersonId)> = best
            .into_iter()
            .filter(|(p, (rule, _))| self.admits(*p, &f, email, *rule))
            .map(|(p, (r, s))| (r, s, &self.persons[p as usize].id))
            .collect();
        let current = own.map(|o| &self.persons[self.person_of[o as usize] as usize].id);
        let Some(top) = hits.iter().map(|h| h.0).min() else {
            return current.map_or(Decision::New, |p| Decision::Match {
                person: p.clone(),
                rule: SAME_RECORD.to_owned(),
                score: 1.0,
            });
        };
        hits.retain(|h| h.0 == top);
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.2.cmp(b.2)));
        let rule = self.rules.rules[top as usize].name.clone();
        let candidates: Vec<Candidate> = hits
            .into_iter()
            .map(|(_, score, person)| Candidate {
                person: person.clone(),
                rule: rule.clone(),
                score,
            })
            .collect();
        decide(candidates, current, true)
    }

    /// Candidate records of `f`/`x` through the model's blocking keys.
    fn model_candidates(&self, f: &Features, x: &model::Extra) -> Vec<u32> {
        let mut buf = Vec::new();
        model::model_keys(model::Side { f, x }, &mut buf);
        self.lookup(&buf)
    }

    /// The records sharing a key with `buf` (the most recent `MAX_PER_BLOCK` per key),
    /// sorted and distinct.
    fn lookup(&self, buf: &[(u64, u32)]) -> Vec<u32> {
        let mut candidates: Vec<u32> = Vec::new();
        for (k, _) in buf {
            if let Some(list) = self.blocks.get(k) {
                let from = list.len().saturating_sub(MAX_PER_BLOCK);
                candidates.extend(&list[from..]);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    /// [`IdentityIndex::resolve`] with the model: each candidate person's best weight, the
    /// guards, then `Match` (one person at or above the match weight), `Ambiguous` (several,
    /// or the best in the review band) or `New`.
    #[allow(clippy::many_single_char_names)]
    fn resolve_model(&mut self, record: &IdentityRecord) -> Decision {
        let f = self.features(record);
        let Some(m) = &self.model else {
            return Decision::New;
        };
        let x = model::extra_of(record, &f, &m.model.tf);
        let cfg = &m.model.config;
        let own = self.by_record.get(&record.id).copied();
        let email = email_hash(&f);
        let mut best: Vec<(u32, f64, u32)> = Vec::new(); // (person, weight, record)
        for c in self.model_candidates(&f, &x) {
            if Some(c) == own || self.raw[c as usize].is_none() {
                continue;
            }
            let (a, b) = (
                model::Side { f: &f, x: &x },
                model::Side {
                    f: &self.features[c as usize],
                    x: &m.extras[c as usize],
                },
            );
            let w = m.scorer.weight(model::compare_sides(a, b), a, b);
            if w < cfg.review_weight {
                continue;
            }
            let p = self.person_of[c as usize];
            match best.iter_mut().find(|e| e.0 == p) {
                Some(e) if w > e.1 => *e = (p, w, c),
                Some(_) => {}
                None => best.push((p, w, c)),
            }
        }
        let mut hits: Vec<(f64, &PersonId)> = best
            .into_iter()
            .filter(|&(p, w, c)| {
                let person = &self.persons[p as usize];
                let over = w >= model::OVERRIDE_WEIGHT;
                let direct =
                    w >= cfg.distinct_email_weight && self.features[c as usize].canon.is_some();
                let emails_ok =
                    over || direct || email.is_none_or(|e| person.emails.iter().all(|x| *x == e));
                let side_c = model::Side {
                    f: &self.features[c as usize],
                    x: &m.extras[c as usize],
                };
                let names_ok = over
                    || (cfg.birth_date_lifts_name_guard
                        && w >= cfg.match_weight
                        && model::birth_dates_agree(model::Side { f: &f, x: &x }, side_c));
                emails_ok
                    && (names_ok
                        || person.records.iter().all(|&i| {
                            model::first_names_compatible(
                                model::Side { f: &f, x: &x },
                                model::Side {
                                    f: &self.features[i as usize],
                                    x: &m.extras[i as usize],
                                },
                                cfg.first_name_guard,
                            )
                        }))
            })
            .map(|(p, w, _)| (w, &self.persons[p as usize].id))
            .collect();
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let current = own.map(|o| &self.persons[self.person_of[o as usize] as usize].id);
        let candidate = |w: f64, person: &PersonId| Candidate {
            person: person.clone(),
            rule: if w >= model::OVERRIDE_WEIGHT {
                "same_external_id".to_owned()
            } else {
                MODEL_RULE.to_owned()
            },
            #[allow(clippy::cast_possible_truncation)]
            score: model::probability(w) as f32,
        };
        let matches: Vec<Candidate> = hits
            .iter()
            .filter(|h| h.0 >= cfg.match_weight)
            .map(|h| candidate(h.0, h.1))
            .collect();
        let candidates = if matches.is_empty() {
            hits.iter().map(|h| candidate(h.0, h.1)).collect()
        } else {
            matches
        };
        let confident = candidates.first().is_some_and(|c| {
            hits.first()
                .is_some_and(|h| h.0 >= cfg.match_weight && h.1 == &c.person)
        });
        if candidates.is_empty() {
            return current.map_or(Decision::New, |p| Decision::Match {
                person: p.clone(),
                rule: SAME_RECORD.to_owned(),
                score: 1.0,
            });
        }
        decide(candidates, current, confident)
    }

    /// The model's explained score of `record` against the best-scoring record of `person`
    /// (`None` without a model or when the person is unknown). For review queues.
    #[allow(clippy::many_single_char_names)]
    pub fn explain(&mut self, record: &IdentityRecord, person: &PersonId) -> Option<PairScore> {
        let f = self.features(record);
        let m = self.model.as_ref()?;
        let x = model::extra_of(record, &f, &m.model.tf);
        let p = *self.by_person.get(person)?;
        let a = model::Side { f: &f, x: &x };
        self.persons[p as usize]
            .records
            .iter()
            .map(|&i| {
                let b = model::Side {
                    f: &self.features[i as usize],
                    x: &m.extras[i as usize],
                };
                m.scorer.explain(model::compare_sides(a, b), a, b)
            })
            .max_by(|s, t| s.weight.total_cmp(&t.weight))
    }

    /// The batch guards applied to one person.
    fn admits(&self, person: u32, f: &Features, email: Option<u64>, rule: u16) -> bool {
        let p = &self.persons[person as usize];
        let r = &self.rules.rules[rule as usize];
        if let Some(e) = email
            && !r.allow_distinct_emails
            && p.emails.iter().any(|x| *x != e)
        {
            return false;
        }
        p.records
            .iter()
            .all(|&i| self.rules.names_compatible(f, &self.features[i as usize]))
    }

    /// Adds (or replaces, by `id`) a record and assigns it to `person`, creating the person
    /// when unknown. No guard is checked: this is also how a reviewed decision is applied.
    pub fn insert(&mut self, record: &IdentityRecord, person: &PersonId) {
        if let Some(old) = self.by_record.get(&record.id).copied() {
            self.raw[old as usize] = None;
            let p = self.person_of[old as usize] as usize;
            self.persons[p].records.retain(|r| *r != old);
            self.recompute_emails(p);
        }
        let f = self.features(record);
        #[allow(clippy::cast_possible_truncation)]
        let idx = self.features.len() as u32;
        let mut buf = Vec::new();
        if let Some(m) = &mut self.model {
            let x = model::extra_of(record, &f, &m.model.tf);
            model::model_keys(model::Side { f: &f, x: &x }, &mut buf);
            m.extras.push(x);
        } else {
            keys(&f, &mut buf);
        }
        for (k, _) in buf {
            self.blocks.entry(k).or_default().push(idx);
        }
        #[allow(clippy::cast_possible_truncation)]
        let p = *self.by_person.entry(person.clone()).or_insert_with(|| {
            self.persons.push(Person {
                id: person.clone(),
                records: Vec::new(),
                emails: Vec::new(),
            });
            (self.persons.len() - 1) as u32
        });
        if let Some(e) = email_hash(&f)
            && !self.persons[p as usize].emails.contains(&e)
        {
            self.persons[p as usize].emails.push(e);
        }
        self.persons[p as usize].records.push(idx);
        self.features.push(f);
        self.raw.push(Some(record.clone()));
        self.person_of.push(p);
        self.by_record.insert(record.id.clone(), idx);
    }

    fn recompute_emails(&mut self, p: usize) {
        let mut emails: Vec<u64> = Vec::new();
        for &r in &self.persons[p].records {
            if let Some(e) = email_hash(&self.features[r as usize])
                && !emails.contains(&e)
            {
                emails.push(e);
            }
        }
        self.persons[p].emails = emails;
    }

    /// Resolves and applies: a `Match` joins the person, `New` creates a person whose id is
    /// the record's `id` (suffixed `#2`, `#3`, ... if taken); `Ambiguous` changes nothing.
    pub fn resolve_and_insert(&mut self, record: &IdentityRecord) -> Decision {
        let decision = self.resolve(record);
        match &decision {
            Decision::Match { person, .. } => {
                let person = person.clone();
                self.insert(record, &person);
            }
            Decision::New => {
                let mut id = PersonId::new(record.id.clone());
                let mut n = 2;
                while self.by_person.contains_key(&id) {
                    id = PersonId::new(format!("{}#{n}", record.id));
                    n += 1;
                }
                self.insert(record, &id);
            }
            Decision::Ambiguous { .. } => {}
        }
        decision
    }

    /// Moves every record of `from` to `into` (a reviewed merge).
    pub fn merge(&mut self, from: &PersonId, into: &PersonId) {
        let records: Vec<IdentityRecord> = self
            .by_person
            .get(from)
            .map(|&p| {
                self.persons[p as usize]
                    .records
                    .iter()
                    .filter_map(|&r| self.raw[r as usize].clone())
                    .collect()
            })
            .unwrap_or_default();
        for r in &records {
            self.insert(r, into);
        }
    }

    /// Every record with its person, sorted by record id: what to persist.
    pub fn links(&self) -> Vec<StoredLink> {
        let mut out: Vec<StoredLink> = self
            .raw
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.as_ref().map(|record| StoredLink {
                    person: self.persons[self.person_of[i] as usize].id.clone(),
                    record: record.clone(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.record.id.cmp(&b.record.id));
        out
    }
}

/// The decision from the candidates at the strongest level: a known record that now matches
/// only other people is not moved silently (its current person is listed first); one
/// candidate is a `Match` when `confident`, anything else `Ambiguous`.
fn decide(mut candidates: Vec<Candidate>, current: Option<&PersonId>, confident: bool) -> Decision {
    if let Some(p) = current
        && candidates.iter().all(|c| &c.person != p)
    {
        candidates.insert(
            0,
            Candidate {
                person: p.clone(),
                rule: SAME_RECORD.to_owned(),
                score: 1.0,
            },
        );
    }
    if candidates.len() == 1 && confident {
        let c = candidates.remove(0);
        return Decision::Match {
            person: c.person,
            rule: c.rule,
            score: c.score,
        };
    }
    Decision::Ambiguous { candidates }
}
