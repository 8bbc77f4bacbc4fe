//! Known numbers in several formats and regions. Expected E.164 values are derived by hand
//! from the national numbering plans (NANP: 1 + 10 digits; UK: 44 + national number without
//! the trunk 0; Germany: 49 + number without the trunk 0; France: 33 + 9 digits; etc.).

use super::*;

const CASES: &[(&str, Option<&str>, &str)] = &[
    // NANP (US/CA): trunk prefix 1, 10-digit national numbers.
    ("(415) 555-0132", Some("US"), "+14155550132"),
    ("415.555.0132", Some("US"), "+14155550132"),
    ("1-415-555-0132", Some("US"), "+14155550132"),
    ("+1 415 555 0132", None, "+14155550132"),
    ("+14155550132", Some("DE"), "+14155550132"),
    ("604-555-0199", Some("CA"), "+16045550199"),
    // UK: drop the trunk 0 after +44.
    ("07911 123456", Some("GB"), "+447911123456"),
    ("+44 7911 123456", None, "+447911123456"),
    ("0044 7911 123456", Some("GB"), "+447911123456"),
    ("020 7946 0958", Some("GB"), "+442079460958"),
    // Germany: 0151 mobile, trunk 0 dropped; 00 international prefix.
    ("0151 23456789", Some("DE"), "+4915123456789"),
    ("0151/23456789", Some("DE"), "+4915123456789"),
    ("+49 151 23456789", None, "+4915123456789"),
    ("0049 151 23456789", Some("DE"), "+4915123456789"),
    ("030 1234567", Some("DE"), "+49301234567"),
    // The IDENTITY-FACTS trap: a +49 number on a record whose region is US.
    ("+4915251622849", Some("US"), "+4915251622849"),
    ("+49 152 51622849", Some("US"), "+4915251622849"),
    // France: 9 national digits after the trunk 0.
    ("06 12 34 56 78", Some("FR"), "+33612345678"),
    ("+33 6 12 34 56 78", Some("GB"), "+33612345678"),
    // Australia, Spain, Italy (Italy keeps its leading 0 in the national number).
    ("0412 345 678", Some("AU"), "+61412345678"),
    ("612 34 56 78", Some("ES"), "+34612345678"),
    ("06 1234 5678", Some("IT"), "+390612345678"),
    // Netherlands, Switzerland.
    ("06 12345678", Some("NL"), "+31612345678"),
    ("044 668 18 00", Some("CH"), "+41446681800"),
];

#[test]
fn known_numbers_agree_with_hand_derived_e164() {
    for (raw, region, expected) in CASES {
        let got = normalize_phone(raw, *region).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(got.e164, *expected, "{raw} with region {region:?}");
    }
}

#[test]
fn cache_agrees_with_direct_parse() {
    let mut cache = PhoneCache::new();
    for _ in 0..2 {
        for (raw, region, expected) in CASES {
            assert_eq!(
                cache.normalize(raw, *region).unwrap().e164,
                *expected,
                "{raw}"
            );
        }
    }
    // second round all hits; separator-only variants share an entry in the first round too
    assert!(cache.hits() > CASES.len() as u64);
    assert!(cache.len() < CASES.len());
}

#[test]
fn extensions_are_kept_apart() {
    let p = normalize_phone("+1 415 555 0132 x 77", None).unwrap();
    assert_eq!(p.e164, "+14155550132");
    assert_eq!(p.extension.as_deref(), Some("77"));
    let p = normalize_phone("(415) 555-0132 ext. 9", Some("US")).unwrap();
    assert_eq!(p.extension.as_deref(), Some("9"));
}

#[test]
fn national_number_without_region_is_rejected() {
    assert_eq!(
        normalize_phone("0151 23456789", None),
        Err(PhoneError::NoRegion)
    );
    assert_eq!(normalize_phone("   ", Some("US")), Err(PhoneError::Blank));
    assert_eq!(
        normalize_phone("0151", Some("ZZ")),
        Err(PhoneError::UnknownRegion)
    );
    assert!(normalize_phone("hello", Some("US")).is_err());
    assert!(normalize_phone("12", Some("US")).is_err());
}
