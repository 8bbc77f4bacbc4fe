//! Postal addresses: street lines, house numbers, postcodes, countries.

use super::text::fold_text;

/// Street-type words and their short forms (folded).
const STREET_WORDS: &[(&str, &str)] = &[
    ("street", "st"),
    ("str", "st"),
    ("strasse", "st"),
    ("avenue", "ave"),
    ("av", "ave"),
    ("road", "rd"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("boulevard", "blvd"),
    ("court", "ct"),
    ("place", "pl"),
    ("square", "sq"),
    ("terrace", "ter"),
    ("highway", "hwy"),
    ("parkway", "pkwy"),
    ("circle", "cir"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
    ("apartment", "apt"),
    ("suite", "ste"),
    ("floor", "fl"),
    ("rue", "r"),
    ("calle", "c"),
    ("weg", "wg"),
    ("platz", "pl"),
];

/// Folds a street line and shortens street-type words (`123 Main Street` -> `123 main st`;
/// `Hauptstraße 5` -> `hauptst 5`).
///
/// ```
/// use cartograph_core::normalize::normalize_street;
/// assert_eq!(normalize_street("123 Main Street"), "123 main st");
/// assert_eq!(normalize_street("Hauptstraße 5"), "hauptst 5");
/// ```
pub fn normalize_street(raw: &str) -> String {
    let folded = fold_text(raw);
    let mut out = String::with_capacity(folded.len());
    for token in folded.split(' ').filter(|t| !t.is_empty()) {
        let token = STREET_WORDS
            .iter()
            .find(|(long, _)| *long == token)
            .map_or_else(|| shorten_compound(token), |(_, short)| (*short).to_owned());
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&token);
    }
    out
}

/// German compounds: `hauptstrasse` -> `hauptst`, `bahnhofstr` -> `bahnhofst`.
fn shorten_compound(token: &str) -> String {
    for suffix in ["strasse", "str"] {
        if let Some(stem) = token.strip_suffix(suffix)
            && stem.len() >= 3
            && stem.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return format!("{stem}st");
        }
    }
    token.to_owned()
}

/// The first run of digits in a street line (the house number), if any.
///
/// ```
/// use cartograph_core::normalize::street_number;
/// assert_eq!(street_number("Flat 2, 10 Downing St"), Some("2"));
/// assert_eq!(street_number("Main St"), None);
/// ```
pub fn street_number(line: &str) -> Option<&str> {
    let start = line.find(|c: char| c.is_ascii_digit())?;
    let rest = &line[start..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Normalizes a postcode: upper-case alphanumerics only; US ZIP+4 cut to five digits.
///
/// ```
/// use cartograph_core::normalize::normalize_postcode;
/// assert_eq!(normalize_postcode("sw1a 1aa", Some("GB")), "SW1A1AA");
/// assert_eq!(normalize_postcode("94105-1234", Some("US")), "94105");
/// ```
pub fn normalize_postcode(raw: &str, country: Option<&str>) -> String {
    let mut out: String = raw
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if country == Some("US") && out.len() == 9 && out.bytes().all(|b| b.is_ascii_digit()) {
        out.truncate(5);
    }
    out
}

/// Country names and ISO alpha-3 codes -> ISO 3166-1 alpha-2 (folded keys).
const COUNTRIES: &[(&str, &str)] = &[
    ("united states", "US"),
    ("united states of america", "US"),
    ("usa", "US"),
    ("us", "US"),
    ("america", "US"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("great britain", "GB"),
    ("gbr", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("northern ireland", "GB"),
    ("germany", "DE"),
    ("deutschland", "DE"),
    ("deu", "DE"),
    ("france", "FR"),
    ("fra", "FR"),
    ("canada", "CA"),
    ("can", "CA"),
    ("australia", "AU"),
    ("aus", "AU"),
    ("spain", "ES"),
    ("espana", "ES"),
    ("esp", "ES"),
    ("italy", "IT"),
    ("italia", "IT"),
    ("ita", "IT"),
    ("netherlands", "NL"),
    ("the netherlands", "NL"),
    ("holland", "NL"),
    ("nederland", "NL"),
    ("nld", "NL"),
    ("switzerland", "CH"),
    ("schweiz", "CH"),
    ("suisse", "CH"),
    ("che", "CH"),
    ("austria", "AT"),
    ("osterreich", "AT"),
    ("aut", "AT"),
    ("belgium", "BE"),
    ("belgique", "BE"),
    ("belgie", "BE"),
    ("bel", "BE"),
    ("ireland", "IE"),
    ("irl", "IE"),
    ("new zealand", "NZ"),
    ("nzl", "NZ"),
    ("mexico", "MX"),
    ("mex", "MX"),
    ("brazil", "BR"),
    ("brasil", "BR"),
    ("bra", "BR"),
    ("japan", "JP"),
    ("jpn", "JP"),
    ("sweden", "SE"),
    ("sverige", "SE"),
    ("swe", "SE"),
    ("norway", "NO"),
    ("norge", "NO"),
    ("nor", "NO"),
    ("denmark", "DK"),
    ("danmark", "DK"),
    ("dnk", "DK"),
    ("finland", "FI"),
    ("suomi", "FI"),
    ("fin", "FI"),
    ("poland", "PL"),
    ("polska", "PL"),
    ("pol", "PL"),
    ("portugal", "PT"),
    ("prt", "PT"),
    ("india", "IN"),
    ("ind", "IN"),
    ("china", "CN"),
    ("chn", "CN"),
    ("singapore", "SG"),
    ("sgp", "SG"),
    ("south africa", "ZA"),
    ("zaf", "ZA"),
];

/// A country as ISO 3166-1 alpha-2 (upper case): two-letter codes pass through, common names
/// (in English and the local language) and alpha-3 codes are mapped; `None` when unknown.
///
/// ```
/// use cartograph_core::normalize::country_code;
/// assert_eq!(country_code("de").as_deref(), Some("DE"));
/// assert_eq!(country_code("United Kingdom").as_deref(), Some("GB"));
/// assert_eq!(country_code("Österreich").as_deref(), Some("AT"));
/// assert_eq!(country_code("Atlantis"), None);
/// ```
pub fn country_code(raw: &str) -> Option<String> {
    let folded = fold_text(raw);
    if let Some((_, code)) = COUNTRIES.iter().find(|(name, _)| *name == folded) {
        return Some((*code).to_owned());
    }
    (folded.len() == 2 && folded.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| folded.to_ascii_uppercase())
}
