//! Unit tests of rules, batch resolution, guards and the incremental index.

use super::*;

fn rec(id: &str) -> IdentityRecord {
    IdentityRecord::new(id)
}

fn same(r: &Resolution, a: usize, b: usize) -> bool {
    r.cluster_of(a) == r.cluster_of(b)
}

#[test]
fn email_case_and_whitespace_variants_merge() {
    let rs = [
        rec("1")
            .with_email("Jane@Gmail.com ")
            .with_name("Jane", "Doe"),
        rec("2")
            .with_email("jane@gmail.com")
            .with_name("JANE", "DOE"),
    ];
    let r = resolve_batch(&rs, &RuleSet::default());
    assert!(same(&r, 0, 1));
    assert_eq!(r.edges[0].rule, "same_email");
}

#[test]
fn phone_formats_and_nicknames_merge() {
    let rs = [
        rec("1")
            .with_phone("(415) 555-0132")
            .with_name("Robert", "Smith")
            .with_address("1 Main St", "94105", "US"),
        rec("2")
            .with_phone("+1 415 555 0132")
            .with_name("Bob", "Smith"),
    ];
    let r = resolve_batch(&rs, &RuleSet::default());
    assert!(same(&r, 0, 1));
    assert_eq!(r.edges[0].rule, "phone_and_name");
}

#[test]
fn household_sharing_phone_and_address_stays_apart() {
    let rs = [
        rec("1")
            .with_phone("+14155550132")
            .with_name("Jane", "Smith")
            .with_address("1 Main St", "94105", "US"),
        rec("2")
            .with_phone("+14155550132")
            .with_name("John", "Smith")
            .with_address("1 Main Street", "94105", "US"),
    ];
    let r = resolve_batch(&rs, &RuleSet::default());
    assert!(!same(&r, 0, 1));
}

#[test]
fn shared_family_mailbox_with_different_first_names_stays_apart() {
    let rs = [
        rec("1")
            .with_email("smiths@example.com")
            .with_name("Jane", "Smith"),
        rec("2")
            .with_email("smiths@example.com")
            .with_name("Peter", "Smith"),
        // a nameless guest order with the shared mailbox joins one of them, never both
        rec("3").with_email("smiths@example.com"),
    ];
    let r = resolve_batch(&rs, &RuleSet::default());
    assert!(!same(&r, 0, 1));
    assert_eq!(r.cluster_count(), 2);
    assert!(r.stats.refused_name_guard > 0);
}

#[test]
fn chaining_through_a_nameless_record_is_refused_by_the_email_guard() {
    // a and b: same name and address but different emails; c has no email and links both
    let rs = [
        rec("a")
            .with_email("a@example.com")
            .with_name("Ann", "Lee")
            .with_address("5 Oak Rd", "10001", "US"),
        rec("b")
            .with_email("b@example.com")
            .with_name("Ann", "Lee")
            .with_address("5 Oak Road", "10001", "US"),
        rec("c")
            .with_name("Ann", "Lee")
            .with_address("5 Oak Rd", "10001", "US"),
    ];
    let r = resolve_batch(&rs, &RuleSet::default());
    assert!(!same(&r, 0, 1));
    assert_eq!(r.cluster_count(), 2);
    assert!(r.stats.refused_email_guard > 0);
}

#[test]
fn blank_fields_never_match_under_exact_rules() {
    let rs = [
        rec("1").with_name("Ann", "Lee"),
        rec("2").with_name("Ann", "Lee"),
    ];
    let r = resolve_batch(&rs, &RuleSet::default());
    assert!(!same(&r, 0, 1));
}

#[test]
fn invalid_fields_are_reported_not_dropped_silently() {
    let rs = [rec("1").with_email("not an email").with_phone("hello")];
    let r = resolve_batch(&rs, &RuleSet::default());
    let fields: Vec<&str> = r.issues.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["email", "phone"]);
    assert_eq!(r.issues[0].record, "1");
}

#[test]
fn rules_round_trip_through_json() {
    let json = serde_json::to_string_pretty(&RuleSet::default()).unwrap();
    assert!(json.contains("\"method\": \"jaro_winkler\""));
    let back: RuleSet = serde_json::from_str(&json).unwrap();
    assert_eq!(back, RuleSet::default());
    let custom: RuleSet = serde_json::from_str(
        r#"{"rules":[{"name":"email_only","all":[{"field":"email","method":"exact"}]}]}"#,
    )
    .unwrap();
    assert_eq!(custom.max_block, RuleSet::default().max_block);
    let rs = [
        rec("1").with_email("x@y.com").with_name("A", "B"),
        rec("2").with_email("x@y.com").with_name("Zed", "Q"),
    ];
    // no name comparison in the custom rule, but the first-name guard still applies
    assert!(!same(&resolve_batch(&rs, &custom), 0, 1));
}

#[test]
fn incremental_reports_ambiguity_instead_of_merging() {
    let mut index = IdentityIndex::new(RuleSet::default());
    let a = rec("a").with_phone("+14155550132").with_name("Ann", "Lee");
    let b = rec("b")
        .with_phone("+14155550199")
        .with_name("Ann", "Lee")
        .with_email("ann@x.com");
    index.insert(&a, &PersonId::new("p1"));
    index.insert(&b, &PersonId::new("p2"));
    let c = rec("c")
        .with_phone("+14155550132")
        .with_name("Ann", "Lee")
        .with_address("1 A St", "94105", "US");
    assert!(
        matches!(index.resolve(&c), Decision::Match { ref person, .. } if person.as_str() == "p1")
    );
    index.insert(
        &rec("d")
            .with_phone("+14155550132")
            .with_name("Ann", "Lee")
            .with_email("other@x.com"),
        &PersonId::new("p3"),
    );
    let e = rec("e").with_phone("+14155550132").with_name("Ann", "Lee");
    match index.resolve(&e) {
        Decision::Ambiguous { candidates } => {
            let ids: Vec<&str> = candidates.iter().map(|c| c.person.as_str()).collect();
            assert_eq!(ids, ["p1", "p3"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        index.resolve(&rec("z").with_email("z@z.com")),
        Decision::New
    );
}

#[test]
fn incremental_index_rebuilt_from_links_decides_the_same() {
    let mut index = IdentityIndex::new(RuleSet::default());
    for (i, email) in ["a@x.com", "b@x.com", "A@X.com "].iter().enumerate() {
        index.resolve_and_insert(&rec(&i.to_string()).with_email(*email));
    }
    assert_eq!(index.len(), 2);
    let links = index.links();
    let json = serde_json::to_string(&links).unwrap();
    let mut rebuilt = IdentityIndex::from_links(
        RuleSet::default(),
        serde_json::from_str::<Vec<StoredLink>>(&json).unwrap(),
    );
    let probe = rec("9").with_email("b@x.com");
    assert_eq!(rebuilt.resolve(&probe), index.resolve(&probe));
    assert_eq!(
        rebuilt.person_of_record("2").map(PersonId::as_str),
        Some("0")
    );
}

#[test]
fn link_graph_refuses_contradicting_links_and_merges() {
    let mut g = LinkGraph::default();
    let (p1, p2) = (PersonId::new("p1"), PersonId::new("p2"));
    g.link_source(ExternalKey::new("bc", "1"), &p1).unwrap();
    assert!(matches!(
        g.link_source(ExternalKey::new("bc", "1"), &p2),
        Err(LinkError::SourceLinked { .. })
    ));
    g.set_crm_record(&p1, "hubspot", "h1").unwrap();
    assert!(g.set_crm_record(&p2, "hubspot", "h1").is_err());
    g.set_crm_record(&p2, "hubspot", "h2").unwrap();
    g.set_crm_record(&p2, "salesforce", "s2").unwrap();
    g.link_source(ExternalKey::new("ct", "9"), &p2).unwrap();
    let displaced = g.merge(&p2, &p1).unwrap();
    assert_eq!(displaced, [("hubspot".to_owned(), "h2".to_owned())]);
    assert_eq!(g.person_of(&ExternalKey::new("ct", "9")), Some(&p1));
    assert_eq!(g.crm_record(&p1, "salesforce"), Some("s2"));
    assert_eq!(g.person_of_crm("hubspot", "h2"), None);
}
