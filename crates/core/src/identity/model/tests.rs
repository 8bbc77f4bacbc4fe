use super::synth::{Style, dataset, pairwise};
use super::*;
use crate::identity::{RuleSet, resolve_batch};

/// Pairwise precision, recall, F1 and wrongly merged clusters.
type Quality = (f64, f64, f64, usize);

/// Model and rule quality (precision, recall, F1, wrongly merged clusters) on one data set.
fn quality(style: Style, seed: u64, people: usize) -> (Quality, Quality) {
    let (records, truth) = dataset(seed, people, style);
    let t = std::time::Instant::now();
    let (model, res) = MatchModel::fit_resolve(&records, &test_config());
    let secs = t.elapsed().as_secs_f64();
    let q = pairwise(&truth, res.resolution.clusters());
    let rules = resolve_batch(&records, &RuleSet::default());
    let r = pairwise(&truth, rules.clusters());
    println!(
        "{style:?} seed {seed}: {} records, model p {:.4} r {:.4} f1 {:.4} wrong {} ({secs:.2} s) | rules p {:.4} r {:.4} f1 {:.4} wrong {}",
        records.len(),
        q.0,
        q.1,
        q.2,
        q.3,
        r.0,
        r.1,
        r.2,
        r.3
    );
    println!(
        "training {:?} prior {:.2}",
        model.training,
        model.prior_weight()
    );
    for c in &model.comparisons {
        let s: Vec<String> = c
            .levels
            .iter()
            .map(|l| format!("{} m={:.3} u={:.2e} w={:.1}", l.label, l.m, l.u, l.weight()))
            .collect();
        println!("  {}: {}", c.name, s.join(" | "));
    }
    if std::env::var_os("SHOW_ERRORS").is_some() {
        let cl = res.resolution.clusters();
        // missed pairs: same truth, different clusters, within blocked reach
        let mut shown = 0;
        for i in 0..records.len() {
            for j in i + 1..records.len() {
                if truth[i] == truth[j] && cl[i] != cl[j] && shown < 25 {
                    shown += 1;
                    let s = model.score(&records[i], &records[j]);
                    if s.weight >= model.config.match_weight {
                        for (k, c) in [(i, cl[i]), (j, cl[j])] {
                            let members: Vec<String> = (0..records.len())
                                .filter(|&x| cl[x] == c)
                                .map(|x| {
                                    format!(
                                        "{} {:?} {:?} {:?} t{}",
                                        records[x].id,
                                        records[x].first_name,
                                        records[x].last_name,
                                        records[x].email,
                                        truth[x]
                                    )
                                })
                                .collect();
                            println!("  cluster of {}: {members:?}", records[k].id);
                        }
                    }
                    println!(
                        "MISS w={:.1} {:?}\n   {:?}\n   {:?}",
                        s.weight,
                        s.terms
                            .iter()
                            .map(|t| format!("{}={}:{:.1}", t.comparison, t.level, t.weight))
                            .collect::<Vec<_>>(),
                        records[i],
                        records[j]
                    );
                }
            }
        }
        for l in res
            .links
            .iter()
            .filter(|l| truth[l.a] != truth[l.b])
            .take(25)
        {
            println!(
                "WRONG w={:.1} {:?}\n   {:?}\n   {:?}",
                l.score.weight,
                l.score
                    .terms
                    .iter()
                    .map(|t| format!("{}={}:{:.1}", t.comparison, t.level, t.weight))
                    .collect::<Vec<_>>(),
                records[l.a],
                records[l.b]
            );
        }
    }
    (q, r)
}

#[test]
fn model_beats_rules_on_independent_synthetic_data() {
    let (q, r) = quality(Style::Commerce, 11, 2_000);
    assert!(q.0 >= 0.99, "commerce precision {}", q.0);
    assert!(q.1 >= 0.88, "commerce recall {}", q.1);
    assert!(q.2 > r.2 + 0.05, "commerce F1 {} vs rules {}", q.2, r.2);
    if std::env::var_os("SHOW_ERRORS").is_some() {
        return;
    }
    let (q, r) = quality(Style::Register, 12, 1_500);
    assert!(q.0 >= 0.99, "register precision {}", q.0);
    assert!(q.1 >= 0.8, "register recall {}", q.1);
    assert!(q.2 > r.2 + 0.1, "register F1 {} vs rules {}", q.2, r.2);
}

/// The defaults with fewer random pairs for u (the tests also run unoptimized).
fn test_config() -> ModelConfig {
    ModelConfig {
        u_pairs: 100_000,
        ..ModelConfig::default()
    }
}

fn rec(id: &str) -> IdentityRecord {
    IdentityRecord::new(id)
}

#[test]
fn em_converges_deterministically_and_independently_of_input_order() {
    let (records, _) = dataset(5, 1_000, Style::Commerce);
    let config = test_config();
    let (m1, r1) = MatchModel::fit_resolve(&records, &config);
    let (m2, r2) = MatchModel::fit_resolve(&records, &config);
    assert!(m1.training.converged, "{:?}", m1.training);
    assert!(m1.training.iterations < config.max_iterations);
    assert_eq!(m1, m2);
    assert_eq!(r1, r2);
    let reversed: Vec<IdentityRecord> = records.iter().rev().cloned().collect();
    let (m3, r3) = MatchModel::fit_resolve(&reversed, &config);
    assert_eq!(m1, m3);
    let n = records.len();
    for i in 0..n {
        for j in [0, n / 3, n - 1] {
            assert_eq!(
                r1.resolution.cluster_of(i) == r1.resolution.cluster_of(j),
                r3.resolution.cluster_of(n - 1 - i) == r3.resolution.cluster_of(n - 1 - j)
            );
        }
    }
    // m sums to one over each comparison's levels, and matches agree more than non-matches
    for c in &m1.comparisons[..2] {
        let sum: f64 = c.levels.iter().map(|l| l.m).sum();
        assert!((sum - 1.0).abs() < 0.02, "{} m sums to {sum}", c.name);
        assert!(c.levels[0].weight() > 2.0, "{}: {:?}", c.name, c.levels[0]);
        assert!(c.levels.last().is_some_and(|l| l.weight() < -1.0), "{c:?}");
    }
    assert!(m1.training.blocked_match_share > 0.01 && m1.training.blocked_match_share < 0.5);
}

#[test]
fn a_common_surname_weighs_less_than_a_rare_one() {
    let (records, _) = dataset(6, 2_000, Style::Commerce);
    let model = MatchModel::train(&records, &test_config());
    let smiths = model.tf.last.count(Some("smith"));
    assert!(smiths > 20, "smith appears {smiths} times");
    let pair = |last: &str| {
        let a = rec("x").with_name("Olivia", last);
        let b = rec("y").with_name("Olivia", last);
        model.score(&a, &b)
    };
    let common = pair("Smith");
    let rare = pair("Zyxwabbel");
    let term = |s: &PairScore| s.terms[1].clone();
    assert_eq!(term(&common).level, "exact");
    assert!(term(&common).tf_adjusted && term(&rare).tf_adjusted);
    assert!(
        term(&common).weight + 3.0 < term(&rare).weight,
        "smith {} vs rare {}",
        term(&common).weight,
        term(&rare).weight
    );
    assert!(common.weight < rare.weight);
}

#[test]
fn different_emails_are_not_chained_through_a_third_record() {
    let (mut records, _) = dataset(7, 1_000, Style::Commerce);
    let n = records.len();
    // A and B have different emails; C (no email) links to both
    records.push(
        rec("chain-a")
            .with_email("vera.okoro@example.com")
            .with_name("Vera", "Okoro")
            .with_phone("+44 7700 900123"),
    );
    records.push(
        rec("chain-c")
            .with_name("Vera", "Okoro")
            .with_phone("+44 7700 900123")
            .with_address("12 Elm Road", "LS6 2QT", "GB"),
    );
    records.push(
        rec("chain-b")
            .with_email("v.okoro@work.example")
            .with_name("Vera", "Okoro")
            .with_address("12 Elm Road", "LS6 2QT", "GB"),
    );
    let (model, res) = MatchModel::fit_resolve(&records, &test_config());
    let c = |i: usize| res.resolution.cluster_of(i);
    let direct = model.score(&records[n], &records[n + 2]);
    assert!(
        direct.weight < model.config.distinct_email_weight,
        "{direct:?}"
    );
    assert_ne!(c(n), c(n + 2), "A and B chained through C");
    assert!(c(n + 1) == c(n) || c(n + 1) == c(n + 2));
    assert!(res.resolution.stats.refused_email_guard >= 1);
    // the refused link is offered for review, explained
    assert!(res.review.iter().any(|p| {
        let ids = [records[p.a].id.as_str(), records[p.b].id.as_str()];
        ids.contains(&"chain-c")
            && p.score
                .terms
                .iter()
                .any(|t| t.comparison == "phone" || t.comparison == "address")
    }));
}

#[test]
fn swapped_names_nicknames_and_other_date_formats_score_as_agreement() {
    let (records, _) = dataset(8, 1_000, Style::Register);
    let model = MatchModel::train(&records, &test_config());
    let a = rec("a").with_name("Robert", "Okafor");
    let mut a = a;
    a.birth_date = Some("1984-03-07".into());
    let mut b = rec("b").with_name("Okafor", "Robert");
    b.birth_date = Some("07.03.1984".into());
    let s = model.score(&a, &b);
    assert!(s.swapped_names);
    assert_eq!(s.terms[0].level, "exact");
    assert_eq!(s.terms[2].level, "exact");
    let mut c = rec("c").with_name("Bob", "Okafor");
    c.birth_date = Some("1984-07-03".into());
    let s = model.score(&a, &c);
    assert_eq!(s.terms[0].level, "nickname");
    assert_eq!(s.terms[2].level, "day_month_swapped");
    assert!(s.weight > model.config.match_weight, "{s:?}");
    // a different first name and date of birth at the same address: not a match
    let mut d = rec("d").with_name("Grace", "Okafor");
    d.birth_date = Some("1950-11-23".into());
    assert!(model.score(&a, &d).weight < model.config.review_weight);
}

#[test]
fn a_swap_with_one_mistyped_or_replaced_name_still_reads_swapped() {
    let (records, _) = dataset(8, 1_000, Style::Register);
    let model = MatchModel::train(&records, &test_config());
    // "Roles Brooklyn" written as first "Roles", last "Brooklyn"; the other record has the
    // surname in its place and another given name
    let a = rec("a").with_name("Roles", "Brooklyn");
    let b = rec("b").with_name("Liam", "Roles");
    let s = model.score(&a, &b);
    assert!(s.swapped_names, "{s:?}");
    // "Roles" is compared with the surname "Roles", "Brooklyn" with "Liam"
    assert_eq!(s.terms[0].level, "exact");
    assert_eq!(s.terms[1].level, "else");
    // straight names never read as swapped
    let c = rec("c").with_name("Liam", "Roles");
    assert!(!model.score(&b, &c).swapped_names);
}

/// Two records at one address with one phone and surname, different first names.
fn household_pair(birth: Option<(&str, &str)>) -> [IdentityRecord; 2] {
    let mk = |id: &str, first: &str| {
        rec(id)
            .with_name(first, "Sounness")
            .with_phone("+44 7700 900456")
            .with_address("7 Quarry Lane", "YO1 7HH", "GB")
    };
    let mut a = mk("hh-a", "Lauren");
    let mut b = mk("hh-b", "Noah");
    if let Some((x, y)) = birth {
        a.birth_date = Some(x.into());
        b.birth_date = Some(y.into());
    }
    [a, b]
}

#[test]
fn the_household_guard_yields_only_to_an_agreeing_birth_date() {
    let (base, _) = dataset(9, 1_000, Style::Commerce);
    let config = test_config();
    let model = MatchModel::train(&base, &config);
    let together = |pair: [IdentityRecord; 2], config: &ModelConfig| {
        let mut records = base.clone();
        let n = records.len();
        records.extend(pair);
        let mut m = model.clone();
        m.config = config.clone();
        let res = m.resolve(&records);
        let w = m.score(&records[n], &records[n + 1]).weight;
        (
            res.resolution.cluster_of(n) == res.resolution.cluster_of(n + 1),
            w,
        )
    };
    // no birth dates, or different ones: two people of one household
    let (joined, _) = together(household_pair(None), &config);
    assert!(!joined);
    let (joined, _) = together(household_pair(Some(("1990-01-29", "1961-06-02"))), &config);
    assert!(!joined);
    // the same birth date is evidence no household shares (twins apart): one person whose
    // first name was replaced, if the total weight makes it a match
    let same = household_pair(Some(("1990-01-29", "29.01.1990")));
    let (joined, w) = together(same.clone(), &config);
    assert!(w >= config.match_weight, "weight {w}");
    assert!(joined);
    let strict = ModelConfig {
        birth_date_lifts_name_guard: false,
        ..config.clone()
    };
    let (joined, _) = together(same, &strict);
    assert!(!joined);
}

#[test]
fn the_model_serializes_and_resolves_a_new_batch_the_same_way() {
    let (records, _) = dataset(9, 1_000, Style::Commerce);
    let (model, res) = MatchModel::fit_resolve(&records, &test_config());
    let json = serde_json::to_string(&model).expect("serialize");
    let back: MatchModel = serde_json::from_str(&json).expect("deserialize");
    // serde_json's float parsing may differ in the last bit: compare within 1e-12
    assert_eq!(back.tf, model.tf);
    assert_eq!(back.config, model.config);
    for (x, y) in back.comparisons.iter().zip(&model.comparisons) {
        for (a, b) in x.levels.iter().zip(&y.levels) {
            assert!((a.m - b.m).abs() <= 1e-12 * b.m && (a.u - b.u).abs() <= 1e-12 * b.u);
        }
    }
    let again = back.resolve(&records);
    assert_eq!(again.resolution.clusters(), res.resolution.clusters());
    for l in &res.links {
        assert_eq!(l.score.terms.len(), 6);
        let sum: f64 = l.score.prior + l.score.terms.iter().map(|t| t.weight).sum::<f64>();
        assert!(l.score.rule.is_some() || (sum - l.score.weight).abs() < 1e-9);
        assert!(l.score.weight >= model.config.match_weight);
    }
}

#[test]
fn the_index_resolves_incrementally_with_the_trained_scorer() {
    use crate::identity::{Decision, IdentityIndex};
    let (records, truth) = dataset(10, 1_000, Style::Commerce);
    let model = MatchModel::train(&records, &test_config());
    let mut index = IdentityIndex::with_model(RuleSet::default(), model.clone());
    let mut person_of = std::collections::BTreeMap::new();
    let (mut right, mut wrong, mut review) = (0, 0, 0);
    for (r, t) in records.iter().zip(&truth) {
        match index.resolve_and_insert(r) {
            Decision::Match { person, rule, .. } => {
                assert!(rule == "fellegi_sunter" || rule == "same_external_id");
                if person_of.get(t) == Some(&person) {
                    right += 1;
                } else {
                    wrong += 1;
                }
            }
            Decision::New => {
                person_of
                    .entry(*t)
                    .or_insert_with(|| index.person_of_record(&r.id).cloned().expect("inserted"));
            }
            Decision::Ambiguous { .. } => review += 1,
        }
    }
    assert!(right > 200, "right {right} wrong {wrong} review {review}");
    assert!(wrong * 50 < right, "right {right} wrong {wrong}");
    // the same decision as the batch for a fresh exact duplicate, explained
    let mut dup = records[0].clone();
    dup.id = "fresh".into();
    dup.source_id = Some("fresh".into());
    let Decision::Match { person, .. } = index.resolve(&dup) else {
        panic!("no match for an exact duplicate");
    };
    let why = index.explain(&dup, &person).expect("explained");
    assert!(why.weight >= model.config.match_weight);
    let rebuilt = IdentityIndex::from_links_with_model(RuleSet::default(), model, index.links());
    assert_eq!(rebuilt.len(), index.len());
}

#[test]
fn tiny_and_empty_batches_resolve() {
    let config = ModelConfig::default();
    let (m, r) = MatchModel::fit_resolve(&[], &config);
    assert_eq!(r.resolution.cluster_count(), 0);
    assert!(m.training.converged);
    let one = vec![rec("only")];
    let (_, r) = MatchModel::fit_resolve(&one, &config);
    assert_eq!(r.resolution.cluster_count(), 1);
    let blanks = vec![
        rec("a"),
        rec("b"),
        rec("c").with_email("  ").with_name(" ", ""),
    ];
    let (m, r) = MatchModel::fit_resolve(&blanks, &config);
    assert_eq!(r.resolution.cluster_count(), 3);
    assert!(m.score(&blanks[0], &blanks[1]).weight < config.review_weight);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn field() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some(String::new())),
            Just(Some("  ".to_owned())),
            "[a-zA-Z0-9 .@+/'-]{0,12}".prop_map(Some),
            "\\PC{0,6}".prop_map(Some),
        ]
    }

    fn record() -> impl Strategy<Value = IdentityRecord> {
        (prop::collection::vec(field(), 10), 0u8..4).prop_map(|(f, n)| {
            let mut r = IdentityRecord::new(format!("r{n}"));
            r.email = f[0].clone();
            r.phone = f[1].clone();
            r.first_name = f[2].clone();
            r.last_name = f[3].clone();
            r.address1 = f[4].clone();
            r.postcode = f[5].clone();
            r.city = f[6].clone();
            r.country = f[7].clone();
            r.birth_date = f[8].clone();
            r.source_id = f[9].clone();
            r.source = f[9].as_ref().map(|_| "s".to_owned());
            r
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn nothing_panics_on_blank_or_odd_fields(records in prop::collection::vec(record(), 0..12)) {
            let config = ModelConfig { u_pairs: 200, ..ModelConfig::default() };
            let (model, res) = MatchModel::fit_resolve(&records, &config);
            prop_assert_eq!(res.resolution.clusters().len(), records.len());
            for w in records.windows(2) {
                let s = model.score(&w[0], &w[1]);
                prop_assert!(s.weight.is_finite());
                prop_assert!((0.0..=1.0).contains(&s.probability));
            }
            let again = model.resolve(&records);
            prop_assert_eq!(again.resolution.clusters().len(), records.len());
        }
    }
}

/// Phase timings on a larger batch: `cargo test --release -p cartograph-core --lib
/// phase_timings -- --ignored --nocapture` (`PHASE_PEOPLE` sets the size).
#[test]
#[ignore = "timing report, run by hand"]
fn phase_timings() {
    let people: usize = std::env::var("PHASE_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60_000);
    let (records, truth) = dataset(21, people, Style::Commerce);
    let config = ModelConfig::default();
    let t = std::time::Instant::now();
    let mut p = prepare(&records, None);
    let t_prepare = t.elapsed();
    let tf = term_frequencies(&p.features, &p.extras);
    extra::fill_tf(&p.features, &mut p.extras, &tf);
    let t_tf = t.elapsed();
    let pairs = blocking::candidate_pairs(&p.features, &p.extras, 64, 12, 4);
    let t_block = t.elapsed();
    let packed = compare_pairs(&pairs, &p.features, &p.extras);
    let t_compare = t.elapsed();
    let model = MatchModel::fit(&p, &pairs, &packed, tf, &config);
    let t_fit = t.elapsed();
    let res = model.resolve_prepared(&p, &pairs, &packed);
    let t_resolve = t.elapsed();
    let q = pairwise(&truth, res.resolution.clusters());
    println!(
        "{} records, {} pairs: prepare {t_prepare:?} tf {:?} block {:?} compare {:?} fit {:?} ({} iterations) resolve {:?}; p {:.4} r {:.4} f1 {:.4} wrong {}",
        records.len(),
        pairs.len(),
        t_tf.saturating_sub(t_prepare),
        t_block.saturating_sub(t_tf),
        t_compare.saturating_sub(t_block),
        t_fit.saturating_sub(t_compare),
        model.training.iterations,
        t_resolve.saturating_sub(t_fit),
        q.0,
        q.1,
        q.2,
        q.3
    );
}

#[test]
fn exact_is_mode_pools_the_closest_level_with_the_levels_above_it() {
    // the degenerate fit of a namesake class: most email mass on the fuzzy level
    let mut m = [0.10, 0.03, 0.86, 0.01];
    train::exact_is_mode(&mut m);
    assert!(
        (m[0] - 0.48).abs() < 1e-12 && (m[2] - 0.48).abs() < 1e-12,
        "{m:?}"
    );
    assert!(
        (m[1] - 0.03).abs() < 1e-12 && (m[3] - 0.01).abs() < 1e-12,
        "{m:?}"
    );
    assert!((m.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // several violators pool together, and the result has the closest level as a mode
    let mut m = [0.1, 0.5, 0.4];
    train::exact_is_mode(&mut m);
    assert!(m.iter().all(|v| (v - 1.0 / 3.0).abs() < 1e-12), "{m:?}");
    // a fit that already has it is left alone
    let mut m = [0.7, 0.2, 0.1];
    train::exact_is_mode(&mut m);
    assert!(
        m.iter()
            .zip([0.7, 0.2, 0.1])
            .all(|(a, b)| (a - b).abs() < 1e-15),
        "{m:?}"
    );
}

#[test]
fn a_local_part_spelled_from_the_names_adds_no_evidence_of_its_own() {
    use super::extra::spells_names;
    for local in ["jane.doe", "doe_jane", "jdoe84", "janed", "j-doe", "doej"] {
        assert!(spells_names(local, "jane", "doe"), "{local}");
    }
    for local in ["jane", "doe", "sunflower77", "jd", "jane.smith", "info"] {
        assert!(!spells_names(local, "jane", "doe"), "{local}");
    }

    let (records, _) = dataset(9, 1_000, Style::Commerce);
    let model = MatchModel::train(&records, &test_config());
    let person = |id: &str, email: &str| rec(id).with_name("Jane", "Doe").with_email(email);
    let email = |s: &PairScore| s.terms[compare::EMAIL].level.clone();
    // namesakes whose addresses both spell their names: the local part repeats the names
    let s = model.score(
        &person("a", "jane.doe@example.com"),
        &person("b", "jane.doe@example.org"),
    );
    assert_eq!(email(&s), "null", "{s:?}");
    assert!(s.terms[compare::EMAIL].weight.abs() < f64::EPSILON);
    // a local part of its own (not the names) on two domains is still evidence
    let s = model.score(
        &person("a", "sunflower77@example.com"),
        &person("b", "sunflower77@example.org"),
    );
    assert_eq!(email(&s), "local_part", "{s:?}");
    assert!(s.terms[compare::EMAIL].weight > 3.0, "{s:?}");
    // one mailbox is one mailbox, however it is spelled
    let s = model.score(
        &person("a", "jane.doe@example.com"),
        &person("b", "Jane.Doe@example.com"),
    );
    assert_eq!(email(&s), "exact", "{s:?}");
}
