//! Phone numbers to E.164 through the `phonenumber` crate (libphonenumber metadata).

use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};
use rustc_hash::FxHashMap;

/// Why a phone number could not be normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Nothing left after trimming.
    #[error("phone is blank")]
    Blank,
    /// The number has no `+` and no region was given, so its country is unknown.
    #[error("phone has no country code and no region is known")]
    NoRegion,
    /// The region is not an ISO 3166-1 alpha-2 code libphonenumber knows.
    #[error("unknown phone region")]
    UnknownRegion,
    /// libphonenumber could not read a number.
    #[error("not a phone number")]
    Unparsable,
    /// Fewer than 5 national digits: too short to identify anyone.
    #[error("phone number too short")]
    TooShort,
}

/// A phone number in E.164 with its extension kept apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    /// `+` country code and national number, no separators (e.g. `+4915123456789`).
    pub e164: String,
    /// The extension (`x123`, `ext. 123`), if any.
    pub extension: Option<String>,
}

/// Normalizes one phone number to E.164.
///
/// A number that starts with `+` is parsed **without** a default region (the `phonenumber`
/// crate silently produces a wrong number for `+49…` with region `US`); other numbers use
/// `region` (the record's country, ISO alpha-2). Parsing is slow (about 60k/s): use a
/// [`PhoneCache`] for bulk work.
///
/// ```
/// use cartograph_core::normalize::normalize_phone;
///
/// assert_eq!(normalize_phone("(415) 555-0132", Some("US"))?.e164, "+14155550132");
/// assert_eq!(normalize_phone("+49 1512 3456789", Some("US"))?.e164, "+4915123456789");
/// let p = normalize_phone("020 7946 0958 ext. 12", Some("GB"))?;
/// assert_eq!((p.e164.as_str(), p.extension.as_deref()), ("+442079460958", Some("12")));
/// # Ok::<(), cartograph_core::normalize::PhoneError>(())
/// ```
pub fn normalize_phone(raw: &str, region: Option<&str>) -> Result<Phone, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Blank);
    }
    let region = if trimmed.starts_with('+') {
        None
    } else {
        let code = region
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or(PhoneError::NoRegion)?;
        Some(Id::from_str(&code.to_ascii_uppercase()).map_err(|_| PhoneError::UnknownRegion)?)
    };
    let number = phonenumber::parse(region, trimmed).map_err(|_| PhoneError::Unparsable)?;
    to_phone(&number)
}

fn to_phone(number: &PhoneNumber) -> Result<Phone, PhoneError> {
    if number.national().value() < 10_000 {
        return Err(PhoneError::TooShort);
    }
    let e164 = number.format().mode(Mode::E164).to_string();
    let extension = number
        .extension()
        .map(ToString::to_string)
        .filter(|e| !e.is_empty());
    Ok(Phone { e164, extension })
}

/// Region (upper-case alpha-2, `None` for `+` numbers) and the compacted raw string.
type CacheKey = (Option<[u8; 2]>, Box<str>);

/// Memoizes [`normalize_phone`] on the raw string and region.
///
/// Separators that libphonenumber ignores (spaces, `-`, `.`) are removed from the cache key,
/// so `+1 415-555-0132` and `+14155550132` share one parse. The `phonenumber` crate gets
/// slower on several threads, so one cache per resolver run, on one thread, is best.
#[derive(Debug, Default)]
pub struct PhoneCache {
    map: FxHashMap<CacheKey, Result<Phone, PhoneError>>,
    hits: u64,
}

impl PhoneCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Like [`normalize_phone`], memoized.
    pub fn normalize(&mut self, raw: &str, region: Option<&str>) -> Result<Phone, PhoneError> {
        let trimmed = raw.trim();
        let region_key = if trimmed.starts_with('+') {
            None
        } else {
            region.and_then(|r| {
                let b = r.trim().as_bytes();
                (b.len() == 2).then(|| [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()])
            })
        };
        let compact: String = trimmed
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.'))
            .collect();
        let key = (region_key, compact.into_boxed_str());
        if let Some(hit) = self.map.get(&key) {
            self.hits += 1;
            return hit.clone();
        }
        let value = normalize_phone(trimmed, region);
        self.map.insert(key, value.clone());
        value
    }

    /// Distinct raw strings parsed so far.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing was parsed yet.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Lookups answered from the cache.
    pub fn hits(&self) -> u64 {
        self.hits
    }
}

#[cfg(test)]
mod tests;
