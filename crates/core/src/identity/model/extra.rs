//! What the model compares beyond the rule features: phonetic codes, a date of birth parsed
//! from several formats, the email local part and term frequencies.

use rustc_hash::FxHashMap;

use super::super::features::Features;
use super::super::record::IdentityRecord;
use super::phonetic::nysiis;
use super::tf::TermFrequencies;

/// Model features of one record, next to its [`Features`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Extra {
    /// NYSIIS of the first name (0: none).
    pub first_ph: u64,
    /// NYSIIS of the last name (0: none).
    pub last_ph: u64,
    /// Date of birth as (year, month, day).
    pub dob: Option<(u16, u8, u8)>,
    /// The canonical email's local part.
    pub local: Option<Box<str>>,
    /// Whether the local part spells the record's own names (`jane.doe`, `jdoe84`,
    /// `doe_jane`): its agreement then repeats the name comparisons instead of adding
    /// evidence of its own (namesakes on other domains share it).
    pub local_of_names: bool,
    /// Term frequencies: the share of records holding the value.
    pub tf_first: f32,
    pub tf_last: f32,
    pub tf_postcode: f32,
    /// Shared identifiers: the share of records holding the value beyond the two one person
    /// typically has (a shop's switchboard number, `info@` local parts).
    pub shared_phone: f32,
    pub shared_local: f32,
}

/// Builds the extra features of one record (term frequencies are filled in later).
pub(crate) fn extra(rec: &IdentityRecord, f: &Features) -> Extra {
    let local: Option<Box<str>> = f
        .canon
        .as_deref()
        .and_then(|e| e.split_once('@'))
        .map(|(l, _)| l)
        .filter(|l| !l.is_empty())
        .map(Into::into);
    let local_of_names = match (local.as_deref(), f.first.as_deref(), f.last.as_deref()) {
        (Some(l), Some(first), Some(last)) => spells_names(l, first, last),
        _ => false,
    };
    Extra {
        first_ph: f.first.as_deref().map_or(0, nysiis),
        last_ph: f.last.as_deref().map_or(0, nysiis),
        dob: rec.birth_date.as_deref().and_then(parse_date),
        local,
        local_of_names,
        ..Extra::default()
    }
}

/// Whether an email local part, with separators and digits left out, is made of the first
/// and last name: both names, either order, or one of them with the other's initial. A
/// local part of one name alone is not counted (`anna@` says less about the person than
/// `anna.berg@`, and is rare enough among namesakes).
pub(crate) fn spells_names(local: &str, first: &str, last: &str) -> bool {
    let letters = |s: &str| -> String { s.chars().filter(|c| c.is_alphabetic()).collect() };
    let (l, f, s) = (letters(local), letters(first), letters(last));
    if l.len() < 3 || f.is_empty() || s.is_empty() {
        return false;
    }
    let initial = |x: &str| x.chars().next().map(String::from).unwrap_or_default();
    let candidates = [
        format!("{f}{s}"),
        format!("{s}{f}"),
        format!("{}{s}", initial(&f)),
        format!("{f}{}", initial(&s)),
        format!("{s}{}", initial(&f)),
        format!("{}{f}", initial(&s)),
    ];
    candidates.contains(&l)
}

/// Fills the term frequencies of every record from `tf` (through hash maps borrowed from
/// the tables: one lookup per field and record).
#[allow(clippy::cast_possible_truncation)]
pub(crate) fn fill_tf(features: &[Features], extras: &mut [Extra], tf: &TermFrequencies) {
    fn map(t: &super::tf::TermTable) -> FxHashMap<&str, u32> {
        t.counts.iter().map(|(k, v)| (k.as_str(), *v)).collect()
    }
    let (first, last, postcode, phone, local) = (
        map(&tf.first),
        map(&tf.last),
        map(&tf.postcode),
        map(&tf.phone),
        map(&tf.local),
    );
    let count =
        |m: &FxHashMap<&str, u32>, v: Option<&str>| v.map_or(0, |v| m.get(v).copied().unwrap_or(1));
    let share = |c: u32, total: u32| (f64::from(c.max(1)) / f64::from(total.max(1))) as f32;
    let excess =
        |c: u32, total: u32| (f64::from(c.saturating_sub(2)) / f64::from(total.max(1))) as f32;
    for (f, x) in features.iter().zip(extras.iter_mut()) {
        x.tf_first = share(count(&first, f.first.as_deref()), tf.first.total);
        x.tf_last = share(count(&last, f.last.as_deref()), tf.last.total);
        x.tf_postcode = share(count(&postcode, f.postcode.as_deref()), tf.postcode.total);
        x.shared_phone = excess(count(&phone, f.phone.as_deref()), tf.phone.total);
        x.shared_local = excess(count(&local, x.local.as_deref()), tf.local.total);
    }
}

pub(crate) fn fill_one(f: &Features, x: &mut Extra, tf: &TermFrequencies) {
    x.tf_first = tf.first.frequency(f.first.as_deref());
    x.tf_last = tf.last.frequency(f.last.as_deref());
    x.tf_postcode = tf.postcode.frequency(f.postcode.as_deref());
    x.shared_phone = tf.phone.excess(f.phone.as_deref());
    x.shared_local = tf.local.excess(x.local.as_deref());
}

/// Counts values of one field over a batch (deterministically: only lookups, no iteration).
pub(crate) fn count<'a>(values: impl Iterator<Item = Option<&'a str>>) -> FxHashMap<&'a str, u32> {
    let mut m: FxHashMap<&str, u32> = FxHashMap::default();
    for v in values.flatten() {
        *m.entry(v).or_default() += 1;
    }
    m
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn valid(y: u32, m: u32, d: u32) -> Option<(u16, u8, u8)> {
    #[allow(clippy::cast_possible_truncation)]
    ((1000..=2999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then_some((y as u16, m as u8, d as u8))
}

/// Parses a date of birth in the formats people and systems write: `YYYY-MM-DD`,
/// `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYYMMDD`, `DD.MM.YYYY`, `DD/MM/YYYY` and `MM/DD/YYYY` (a
/// slash date whose first part is at most 12 and second part more than 12 is read as
/// month/day, otherwise day/month; the model's day/month-swapped level absorbs the rest),
/// an ISO timestamp (`YYYY-MM-DDT...`), and a two-digit year (`DD.MM.YY`, pivot: 00-29 is
/// 20xx). `None` for anything else.
pub(crate) fn parse_date(raw: &str) -> Option<(u16, u8, u8)> {
    let s = raw.trim();
    let s = s.split(['T', ' ']).next().unwrap_or(s);
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let (y, m, d) = (digits(&s[..4])?, digits(&s[4..6])?, digits(&s[6..])?);
        return valid(y, m, d).or_else(|| {
            // DDMMYYYY
            valid(digits(&s[4..])?, digits(&s[2..4])?, digits(&s[..2])?)
        });
    }
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (a, b, c) = (digits(a)?, digits(b)?, digits(c)?);
    if parts[0].len() == 4 {
        return valid(a, b, c);
    }
    let year = match parts[2].len() {
        4 => c,
        2 if c < 30 => 2000 + c,
        2 => 1900 + c,
        _ => return None,
    };
    if raw.contains('/') && a <= 12 && b > 12 {
        valid(year, a, b)
    } else {
        valid(year, b, a).or_else(|| valid(year, a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates_parse_from_common_formats() {
        let d = Some((1984, 3, 7));
        for s in [
            "1984-03-07",
            "1984/03/07",
            "19840307",
            "07.03.1984",
            "07/03/1984",
            "7-3-1984",
            "1984-03-07T00:00:00Z",
            "07.03.84",
        ] {
            assert_eq!(parse_date(s), d, "{s}");
        }
        assert_eq!(parse_date("03/27/1984"), Some((1984, 3, 27)));
        assert_eq!(parse_date("27/03/1984"), Some((1984, 3, 27)));
        for s in [
            "",
            "  ",
            "1984",
            "yesterday",
            "1984-13-40",
            "99/99/9999",
            "1-2",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }
}
