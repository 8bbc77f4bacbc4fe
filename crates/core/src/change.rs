//! Change detection: a stable fingerprint of mapped properties per (CRM, record), to skip
//! unchanged writes and to recognise our own writes echoed back (the two-way sync loop
//! guard).
//!
//! The fingerprint is SHA-256 over a canonical byte encoding of the [`PropertyMap`] that
//! never depends on `serde`, `Debug` or hash-map order: for each property in name order, a
//! length-prefixed name, a one-byte type tag and a length-prefixed canonical text (numbers
//! without trailing zeros, datetimes as epoch milliseconds, dates `YYYY-MM-DD`,
//! multi-select options sorted and de-duplicated). The encoding is versioned; a golden test
//! pins it, so stored fingerprints stay valid across releases.

use std::fmt;

use cartograph_model::{
    CrmObjectType, PropertyDefinition, PropertyMap, PropertyType, PropertyValue, Timestamp,
    parse_decimal,
};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

const VERSION: &[u8] = b"cartograph-fingerprint-v1\0";

/// A SHA-256 fingerprint of a property map.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        use fmt::Write;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    /// Parses lower- or upper-case hex.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).ok()?;
            out[i] = u8::from_str_radix(hex, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

fn put(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn encode(h: &mut Sha256, name: &str, value: &PropertyValue) {
    put(h, name.as_bytes());
    match value {
        PropertyValue::String(s) => {
            h.update(b"s");
            put(h, s.as_bytes());
        }
        PropertyValue::Number(n) => {
            h.update(b"n");
            put(h, n.normalize().to_string().as_bytes());
        }
        PropertyValue::Bool(b) => {
            h.update(b"b");
            put(h, if *b { b"1" } else { b"0" });
        }
        PropertyValue::Date(d) => {
            h.update(b"d");
            put(
                h,
                format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()).as_bytes(),
            );
        }
        PropertyValue::DateTime(t) => {
            h.update(b"t");
            put(h, t.unix_millis().to_string().as_bytes());
        }
        PropertyValue::Enumeration(e) => {
            h.update(b"e");
            put(h, e.as_bytes());
        }
        PropertyValue::MultiEnumeration(items) => {
            h.update(b"m");
            let mut items: Vec<&str> = items.iter().map(String::as_str).collect();
            items.sort_unstable();
            items.dedup();
            h.update((items.len() as u64).to_le_bytes());
            for i in items {
                put(h, i.as_bytes());
            }
        }
        PropertyValue::Null => h.update(b"z"),
    }
}

/// The fingerprint of every property in the map.
///
/// ```
/// use cartograph_core::change::fingerprint;
/// use cartograph_model::{Decimal, PropertyMap, PropertyValue};
///
/// let mut a = PropertyMap::new();
/// a.insert("amount".into(), PropertyValue::Number(Decimal::new(1250, 2)));
/// let mut b = PropertyMap::new();
/// b.insert("amount".into(), PropertyValue::Number(Decimal::new(125, 1)));
/// assert_eq!(fingerprint(&a), fingerprint(&b)); // 12.50 == 12.5
/// ```
pub fn fingerprint(properties: &PropertyMap) -> Fingerprint {
    fingerprint_of(properties.iter())
}

/// The fingerprint of the named properties only (a record read back from a CRM carries
/// many more than we write); absent names are skipped.
pub fn fingerprint_keys<'a>(
    properties: &PropertyMap,
    keys: impl IntoIterator<Item = &'a str>,
) -> Fingerprint {
    let mut keys: Vec<&str> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    fingerprint_of(keys.into_iter().filter_map(|k| properties.get_key_value(k)))
}

fn fingerprint_of<'a>(items: impl Iterator<Item = (&'a String, &'a PropertyValue)>) -> Fingerprint {
    let mut h = Sha256::new();
    h.update(VERSION);
    for (k, v) in items {
        encode(&mut h, k, v);
    }
    Fingerprint(h.finalize().into())
}

/// Converts text values read back from a CRM (HubSpot returns every value as a string)
/// into the types of their definitions, so they fingerprint like the values we wrote.
/// Values that do not parse, and properties without a definition, are kept as they are.
pub fn typed_read_back(
    properties: &PropertyMap,
    definitions: &[PropertyDefinition],
) -> PropertyMap {
    properties
        .iter()
        .map(|(k, v)| {
            let def = definitions.iter().find(|d| &d.name == k);
            let typed = match (v, def) {
                (PropertyValue::String(s), Some(d)) => {
                    coerce(s, d.kind).unwrap_or_else(|| v.clone())
                }
                _ => v.clone(),
            };
            (k.clone(), typed)
        })
        .collect()
}

fn coerce(s: &str, kind: PropertyType) -> Option<PropertyValue> {
    let s = s.trim();
    if s.is_empty() {
        return Some(PropertyValue::Null);
    }
    Some(match kind {
        PropertyType::String => PropertyValue::String(s.to_owned()),
        PropertyType::Number => PropertyValue::Number(parse_decimal(s).ok()?),
        PropertyType::Bool => PropertyValue::Bool(match s {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return None,
        }),
        PropertyType::Date => {
            let fmt = time::format_description::well_known::Iso8601::DATE;
            match time::Date::parse(s, &fmt) {
                Ok(d) => PropertyValue::Date(d),
                Err(_) => {
                    PropertyValue::Date(Timestamp::from_unix_millis(s.parse().ok()?).ok()?.date())
                }
            }
        }
        PropertyType::DateTime => PropertyValue::DateTime(
            Timestamp::parse_rfc3339(s)
                .ok()
                .or_else(|| Timestamp::from_unix_millis(s.parse().ok()?).ok())?,
        ),
        PropertyType::Enumeration => PropertyValue::Enumeration(s.to_owned()),
        PropertyType::MultiEnumeration => {
            PropertyValue::MultiEnumeration(s.split(';').map(|x| x.trim().to_owned()).collect())
        }
    })
}

/// Names of properties whose values differ between two maps (added, removed or changed),
/// in name order; numbers compare by value.
pub fn changed_properties<'a>(old: &'a PropertyMap, new: &'a PropertyMap) -> Vec<&'a str> {
    let same = |a: &PropertyValue, b: &PropertyValue| match (a, b) {
        (PropertyValue::Number(x), PropertyValue::Number(y)) => x == y,
        _ => a == b,
    };
    let mut out: Vec<&str> = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_none_or(|o| !same(o, v)))
        .map(|(k, _)| k.as_str())
        .chain(
            old.keys()
                .filter(|k| !new.contains_key(*k))
                .map(String::as_str),
        )
        .collect();
    out.sort_unstable();
    out
}

/// Which record of which CRM a fingerprint belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordKey {
    /// The CRM (connector instance name).
    pub crm: String,
    /// The object type.
    pub object: CrmObjectType,
    /// The record key (e.g. the order key or person id).
    pub record: String,
}

/// What to do with a record about to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The properties changed since the last write: write them, then call
    /// [`ChangeTracker::written`] with this fingerprint.
    Write(Fingerprint),
    /// Same as the last write: skip.
    Unchanged,
}

/// The last written fingerprint per (CRM, record), in memory. Hosts persist the pairs
/// (fingerprints serialize as hex) and reload them with [`ChangeTracker::written`].
#[derive(Debug, Clone, Default)]
pub struct ChangeTracker {
    last: FxHashMap<RecordKey, Fingerprint>,
}

impl ChangeTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `properties` differ from the last write of `key`.
    pub fn decide(&self, key: &RecordKey, properties: &PropertyMap) -> Decision {
        let fp = fingerprint(properties);
        if self.last.get(key) == Some(&fp) {
            Decision::Unchanged
        } else {
            Decision::Write(fp)
        }
    }

    /// Records a successful write.
    pub fn written(&mut self, key: RecordKey, fingerprint: Fingerprint) {
        self.last.insert(key, fingerprint);
    }

    /// The last written fingerprint.
    pub fn last(&self, key: &RecordKey) -> Option<Fingerprint> {
        self.last.get(key).copied()
    }

    /// Whether a change event read back from the CRM carries exactly what we last wrote
    /// (compared on the properties we wrote, `written_keys`): an echo of our own write,
    /// to be dropped rather than synced back.
    pub fn is_echo<'a>(
        &self,
        key: &RecordKey,
        read_back: &PropertyMap,
        written_keys: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        self.last
            .get(key)
            .is_some_and(|fp| *fp == fingerprint_keys(read_back, written_keys))
    }

    /// Forgets a record (deleted or merged away).
    pub fn forget(&mut self, key: &RecordKey) {
        self.last.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use cartograph_model::{Decimal, PropertyOption};

    use super::*;

    fn props() -> PropertyMap {
        let mut p = PropertyMap::new();
        p.insert(
            "email".into(),
            PropertyValue::String("a@example.com".into()),
        );
        p.insert(
            "ecom_lifetime_value".into(),
            PropertyValue::Number(Decimal::new(12_345, 2)),
        );
        p.insert(
            "ecom_marketing_suppressed".into(),
            PropertyValue::Bool(false),
        );
        p.insert(
            "ecom_first_order_date".into(),
            PropertyValue::Date(time::macros::date!(2024 - 05 - 14)),
        );
        p.insert(
            "ecom_abandoned_cart_at".into(),
            PropertyValue::DateTime(Timestamp::from_unix_millis(1_715_679_240_000).unwrap()),
        );
        p.insert(
            "ecom_value_tier".into(),
            PropertyValue::Enumeration("vip".into()),
        );
        p
    }

    #[test]
    fn fingerprint_is_pinned_across_releases() {
        // Changing this value invalidates every stored fingerprint: bump VERSION instead.
        let golden = fingerprint(&props()).to_hex();
        assert_eq!(golden, GOLDEN, "fingerprint encoding changed");
    }

    const GOLDEN: &str = "e3fb6b4e234c6cb539c7a41da61756f97ea00202a134727435837602a37efa05";

    #[test]
    fn equal_values_hash_equal_and_changes_do_not() {
        let a = props();
        let mut b = props();
        b.insert(
            "ecom_lifetime_value".into(),
            PropertyValue::Number(Decimal::new(1_234_500, 4)),
        );
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b.insert(
            "ecom_lifetime_value".into(),
            PropertyValue::Number(Decimal::new(12_346, 2)),
        );
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_eq!(changed_properties(&a, &b), vec!["ecom_lifetime_value"]);
        // Moving a value between properties changes the hash (no concatenation ambiguity).
        let mut x = PropertyMap::new();
        x.insert("ab".into(), PropertyValue::String("c".into()));
        let mut y = PropertyMap::new();
        y.insert("a".into(), PropertyValue::String("bc".into()));
        assert_ne!(fingerprint(&x), fingerprint(&y));
        assert_eq!(
            Fingerprint::from_hex(&fingerprint(&a).to_hex()),
            Some(fingerprint(&a))
        );
    }

    #[test]
    fn echoes_of_our_own_writes_are_recognised() {
        let key = RecordKey {
            crm: "hubspot".into(),
            object: CrmObjectType::Contact,
            record: "p-1".into(),
        };
        let mut tracker = ChangeTracker::new();
        let Decision::Write(fp) = tracker.decide(&key, &props()) else {
            panic!()
        };
        tracker.written(key.clone(), fp);
        assert_eq!(tracker.decide(&key, &props()), Decision::Unchanged);
        // HubSpot sends every value back as text, plus properties we never wrote.
        let defs: Vec<PropertyDefinition> = [
            ("ecom_lifetime_value", PropertyType::Number),
            ("ecom_marketing_suppressed", PropertyType::Bool),
            ("ecom_first_order_date", PropertyType::Date),
            ("ecom_abandoned_cart_at", PropertyType::DateTime),
            ("ecom_value_tier", PropertyType::Enumeration),
        ]
        .into_iter()
        .map(|(n, kind)| PropertyDefinition {
            object: CrmObjectType::Contact,
            name: n.into(),
            label: n.into(),
            kind,
            options: vec![PropertyOption {
                value: "vip".into(),
                label: "VIP".into(),
            }],
            group: None,
            unique: false,
            description: None,
        })
        .collect();
        let mut wire = PropertyMap::new();
        for (k, v) in [
            ("email", "a@example.com"),
            ("ecom_lifetime_value", "123.450"),
            ("ecom_marketing_suppressed", "false"),
            ("ecom_first_order_date", "2024-05-14"),
            ("ecom_abandoned_cart_at", "1715679240000"),
            ("ecom_value_tier", "vip"),
            ("hs_object_id", "901"),
        ] {
            wire.insert(k.into(), PropertyValue::String(v.into()));
        }
        let typed = typed_read_back(&wire, &defs);
        let written: Vec<String> = props().keys().cloned().collect();
        assert!(tracker.is_echo(&key, &typed, written.iter().map(String::as_str)));
        wire.insert(
            "ecom_value_tier".into(),
            PropertyValue::String("high".into()),
        );
        let typed = typed_read_back(&wire, &defs);
        assert!(!tracker.is_echo(&key, &typed, written.iter().map(String::as_str)));
    }
}
