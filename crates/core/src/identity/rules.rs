//! Match rules as data: ordered rules, each an AND of field comparisons with thresholds.

use serde::{Deserialize, Serialize};

use super::features::Features;

/// A field of a record that rules compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Field {
    /// `source` + `source_id`.
    ExternalId,
    /// Email match key (trimmed, lower-cased, IDNA domain).
    Email,
    /// Provider-aware canonical email (Gmail dots, plus tags).
    CanonicalEmail,
    /// Phone in E.164.
    Phone,
    /// Folded first name (nickname-aware with [`Method::Name`]).
    FirstName,
    /// Folded last name.
    LastName,
    /// Company without legal suffixes.
    Company,
    /// Normalized first street line.
    Street,
    /// House number from the street line.
    StreetNumber,
    /// Normalized postcode.
    Postcode,
    /// Folded city.
    City,
    /// ISO alpha-2 country.
    Country,
    /// Date of birth.
    BirthDate,
}

impl Field {
    pub(crate) fn get(self, f: &Features) -> Option<&str> {
        match self {
            Self::ExternalId => f.ext.as_deref(),
            Self::Email => f.email.as_deref(),
            Self::CanonicalEmail => f.canon.as_deref(),
            Self::Phone => f.phone.as_deref(),
            Self::FirstName => f.first.as_deref(),
            Self::LastName => f.last.as_deref(),
            Self::Company => f.company.as_deref(),
            Self::Street => f.street.as_deref(),
            Self::StreetNumber => f.street_no.as_deref(),
            Self::Postcode => f.postcode.as_deref(),
            Self::City => f.city.as_deref(),
            Self::Country => f.country.as_deref(),
            Self::BirthDate => f.birth.as_deref(),
        }
    }
}

/// How two values are compared. Similarities are in `0.0..=1.0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Method {
    /// Equal normalized values.
    Exact,
    /// Jaro-Winkler similarity at least `min`.
    JaroWinkler {
        /// Threshold.
        min: f64,
    },
    /// At most `max` edits (Damerau-Levenshtein, optimal string alignment).
    Levenshtein {
        /// Maximum edits.
        max: usize,
    },
    /// Jaccard similarity of the word sets at least `min` (word order does not matter).
    TokenSet {
        /// Threshold.
        min: f64,
    },
    /// First names: same formal name after nickname mapping (Bob = Robert) scores 1.0, an
    /// initial matching the other name 0.9, otherwise Jaro-Winkler; at least `min`.
    Name {
        /// Threshold.
        min: f64,
    },
}

/// What a blank value on either side means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Blank {
    /// A blank never matches (Salesforce `NullNotAllowed`): the default.
    #[default]
    NoMatch,
    /// A blank on either side is accepted (scores 0.5).
    Ignore,
}

/// One comparison inside a rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The field.
    pub field: Field,
    /// The method and its threshold.
    #[serde(flatten)]
    pub method: Method,
    /// Blank handling.
    #[serde(default)]
    pub blank: Blank,
}

impl Comparison {
    /// Exact comparison, blanks never match.
    pub const fn exact(field: Field) -> Self {
        Self {
            field,
            method: Method::Exact,
            blank: Blank::NoMatch,
        }
    }

    /// A comparison with the given method, blanks never match.
    pub const fn with(field: Field, method: Method) -> Self {
        Self {
            field,
            method,
            blank: Blank::NoMatch,
        }
    }

    /// The same comparison, accepting blanks.
    #[must_use]
    pub const fn or_blank(mut self) -> Self {
        self.blank = Blank::Ignore;
        self
    }

    /// The similarity when the comparison passes.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn score(&self, left: &Features, right: &Features) -> Option<f64> {
        let (Some(x), Some(y)) = (self.field.get(left), self.field.get(right)) else {
            return (self.blank == Blank::Ignore).then_some(0.5);
        };
        match self.method {
            Method::Exact => (x == y).then_some(1.0),
            Method::JaroWinkler { min } => pass(jaro_winkler(x, y), min),
            Method::Levenshtein { max } => {
                let edits = strsim::osa_distance(x, y);
                (edits <= max).then(|| 1.0 - edits as f64 / x.len().max(y.len()).max(1) as f64)
            }
            Method::TokenSet { min } => pass(token_set(x, y), min),
            Method::Name { min } => {
                let (cx, cy) = (left.first_canon.as_deref(), right.first_canon.as_deref());
                pass(first_name_similarity(x, y, cx, cy), min)
            }
        }
    }
}

fn pass(s: f64, min: f64) -> Option<f64> {
    (s >= min).then_some(s)
}

fn jaro_winkler(x: &str, y: &str) -> f64 {
    if x == y {
        1.0
    } else {
        strsim::jaro_winkler(x, y)
    }
}

#[allow(clippy::cast_precision_loss)]
fn token_set(x: &str, y: &str) -> f64 {
    if x == y {
        return 1.0;
    }
    let xs: Vec<&str> = x.split(' ').collect();
    let ys: Vec<&str> = y.split(' ').collect();
    let common = xs.iter().filter(|t| ys.contains(t)).count();
    let union = xs.len() + ys.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

/// Nickname-, initial- and typo-aware first-name similarity.
pub(crate) fn first_name_similarity(x: &str, y: &str, cx: Option<&str>, cy: Option<&str>) -> f64 {
    if x == y || (cx.is_some() && cx == cy) {
        return 1.0;
    }
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    if short.len() == 1 && long.starts_with(short) {
        return 0.9;
    }
    jaro_winkler(x, y)
}

/// One named rule: all comparisons must pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchRule {
    /// Stable name, reported with every match.
    pub name: String,
    /// Comparisons that must all pass.
    pub all: Vec<Comparison>,
    /// Whether this rule may put two different canonical emails into one cluster. Off for
    /// every default rule except `same_external_id` and `phone_and_name`.
    #[serde(default)]
    pub allow_distinct_emails: bool,
}

impl MatchRule {
    /// The rule's score (mean similarity) when every comparison passes.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn score(&self, a: &Features, b: &Features) -> Option<f64> {
        let mut sum = 0.0;
        for c in &self.all {
            sum += c.score(a, b)?;
        }
        Some(sum / self.all.len().max(1) as f64)
    }
}

/// The ordered rules plus blocking and guard settings. The first rule that matches a pair
/// decides it; earlier rules are stronger.
///
/// ```
/// use cartograph_core::identity::RuleSet;
///
/// let rules = RuleSet::default();
/// let json = serde_json::to_string(&rules)?;
/// let back: RuleSet = serde_json::from_str(&json)?;
/// assert_eq!(back, rules);
/// assert_eq!(rules.rules[0].name, "same_external_id");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleSet {
    /// Rules, strongest first.
    pub rules: Vec<MatchRule>,
    /// Blocks larger than this are not compared all-pairs; each record is compared with its
    /// `window` nearest neighbours (sorted by name) instead.
    pub max_block: usize,
    /// Neighbours compared inside an oversized block.
    pub window: usize,
    /// Two first names below this similarity (after nickname mapping) never share a cluster,
    /// whatever rule links them: the household guard.
    pub first_name_guard: f64,
    /// Phone region for records without a country (ISO alpha-2).
    pub default_region: Option<String>,
    /// Fields that veto a match when both sides are set and differ (default: birth date:
    /// a father and son with one name, address and phone). Rules on the external id ignore it.
    pub conflicting: Vec<Field>,
}

impl Default for RuleSet {
    fn default() -> Self {
        use Comparison as C;
        use Field as F;
        let first = C::with(F::FirstName, Method::Name { min: 0.9 });
        let last = C::with(F::LastName, Method::JaroWinkler { min: 0.9 });
        let rule = |name: &str, all: Vec<Comparison>, allow: bool| MatchRule {
            name: name.to_owned(),
            all,
            allow_distinct_emails: allow,
        };
        Self {
            rules: vec![
                rule("same_external_id", vec![C::exact(F::ExternalId)], true),
                rule(
                    "same_email",
                    vec![C::exact(F::Email), first.or_blank(), last.or_blank()],
                    false,
                ),
                rule(
                    "same_canonical_email",
                    vec![
                        C::exact(F::CanonicalEmail),
                        first.or_blank(),
                        last.or_blank(),
                    ],
                    false,
                ),
                rule(
                    "phone_and_name",
                    vec![C::exact(F::Phone), first, last],
                    true,
                ),
                rule(
                    "name_and_address",
                    vec![
                        first,
                        last,
                        C::exact(F::Postcode),
                        C::exact(F::StreetNumber),
                        C::with(F::Street, Method::JaroWinkler { min: 0.85 }),
                    ],
                    false,
                ),
                rule(
                    "name_and_birth_date",
                    vec![first, last, C::exact(F::BirthDate)],
                    false,
                ),
            ],
            max_block: 64,
            window: 12,
            first_name_guard: 0.9,
            default_region: None,
            conflicting: vec![F::BirthDate],
        }
    }
}

impl RuleSet {
    /// The first rule matching the pair: (rule index, score).
    pub(crate) fn evaluate(&self, a: &Features, b: &Features) -> Option<(u16, f32)> {
        let vetoed = self.conflicting.iter().any(|f| match (f.get(a), f.get(b)) {
            (Some(x), Some(y)) => x != y,
            _ => false,
        });
        self.rules.iter().enumerate().find_map(|(i, r)| {
            if vetoed && !r.all.iter().any(|c| c.field == Field::ExternalId) {
                return None;
            }
            #[allow(clippy::cast_possible_truncation)]
            r.score(a, b).map(|s| (i as u16, s as f32))
        })
    }

    /// Whether two records' first names may share a cluster.
    pub(crate) fn names_compatible(&self, a: &Features, b: &Features) -> bool {
        match (a.first.as_deref(), b.first.as_deref()) {
            (Some(x), Some(y)) => {
                first_name_similarity(x, y, a.first_canon.as_deref(), b.first_canon.as_deref())
                    >= self.first_name_guard
            }
            _ => true,
        }
    }
}
