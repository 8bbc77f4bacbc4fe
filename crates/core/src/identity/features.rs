//! Normalized, compact features of one record: what rules compare and blocks are keyed on.

use crate::normalize::{
    PhoneCache, canonical_first_name, country_code, fold_text, normalize_company, normalize_email,
    normalize_person_name, normalize_postcode, normalize_street, street_number,
};

use super::record::IdentityRecord;

/// A field that could not be used, with the reason (the record is still resolved without it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldIssue {
    /// The record's `id`.
    pub record: String,
    /// The field name (`email`, `phone`, `birth_date`).
    pub field: String,
    /// Why it was ignored.
    pub reason: String,
}

/// Normalized features. Text fields are folded; `None` means blank or unusable.
#[derive(Debug, Clone, Default)]
pub(crate) struct Features {
    pub ext: Option<Box<str>>,
    pub email: Option<Box<str>>,
    pub canon: Option<Box<str>>,
    pub phone: Option<Box<str>>,
    pub first: Option<Box<str>>,
    pub first_canon: Option<Box<str>>,
    pub last: Option<Box<str>>,
    pub company: Option<Box<str>>,
    pub street: Option<Box<str>>,
    pub street_no: Option<Box<str>>,
    pub postcode: Option<Box<str>>,
    pub city: Option<Box<str>>,
    pub country: Option<Box<str>>,
    pub birth: Option<Box<str>>,
}

fn boxed(s: String) -> Option<Box<str>> {
    (!s.is_empty()).then(|| s.into_boxed_str())
}

fn text(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Normalizes everything except the phone (see [`prepare_phone`]).
pub(crate) fn prepare(rec: &IdentityRecord, issues: &mut Vec<FieldIssue>) -> Features {
    let mut f = Features::default();
    if let (Some(sys), Some(id)) = (text(rec.source.as_ref()), text(rec.source_id.as_ref())) {
        f.ext = Some(format!("{sys}\u{1f}{id}").into_boxed_str());
    }
    if let Some(raw) = text(rec.email.as_ref()) {
        match normalize_email(raw) {
            Ok(e) => {
                f.canon = Some(e.canonical.into_boxed_str());
                f.email = Some(e.key.into_boxed_str());
            }
            Err(err) => issues.push(issue(rec, "email", &err.to_string())),
        }
    }
    if let Some(raw) = text(rec.first_name.as_ref()) {
        let first = normalize_person_name(raw);
        f.first_canon = boxed(canonical_first_name(&first).to_owned());
        f.first = boxed(first);
    }
    f.last = text(rec.last_name.as_ref()).and_then(|s| boxed(normalize_person_name(s)));
    f.company = text(rec.company.as_ref()).and_then(|s| boxed(normalize_company(s)));
    f.country =
        text(rec.country.as_ref()).and_then(|c| country_code(c).map(String::into_boxed_str));
    if let Some(line) = text(rec.address1.as_ref()) {
        let street = normalize_street(line);
        f.street_no = street_number(&street).map(Into::into);
        f.street = boxed(street);
    }
    f.postcode = text(rec.postcode.as_ref())
        .and_then(|p| boxed(normalize_postcode(p, f.country.as_deref())));
    f.city = text(rec.city.as_ref()).and_then(|s| boxed(fold_text(s)));
    if let Some(raw) = text(rec.birth_date.as_ref()) {
        if is_iso_date(raw) {
            f.birth = Some(raw.into());
        } else {
            issues.push(issue(rec, "birth_date", "not a YYYY-MM-DD date"));
        }
    }
    f
}

/// Normalizes the phone through the cache; the region is the record's country, else
/// `default_region`.
pub(crate) fn prepare_phone(
    rec: &IdentityRecord,
    default_region: Option<&str>,
    cache: &mut PhoneCache,
    issues: &mut Vec<FieldIssue>,
) -> Option<Box<str>> {
    let raw = text(rec.phone.as_ref())?;
    let country = text(rec.country.as_ref()).and_then(country_code);
    let region = country.as_deref().or(default_region);
    match cache.normalize(raw, region) {
        Ok(p) => Some(p.e164.into_boxed_str()),
        Err(err) => {
            issues.push(issue(rec, "phone", &err.to_string()));
            None
        }
    }
}

fn issue(rec: &IdentityRecord, field: &str, reason: &str) -> FieldIssue {
    FieldIssue {
        record: rec.id.clone(),
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (b"01".as_slice()..=b"12".as_slice()).contains(&&b[5..7])
        && (b"01".as_slice()..=b"31".as_slice()).contains(&&b[8..10])
}
