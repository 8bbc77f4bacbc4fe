//! Comparison levels: how two records agree on each compared field.
//!
//! Level 0 of every comparison is "null" (a side is blank: no evidence, weight 0); level 1
//! is the strongest agreement; the last level is "else" (disagreement).

use super::super::features::Features;
use super::extra::Extra;

/// Number of comparisons.
pub(crate) const N: usize = 6;
/// Most levels of one comparison, null included.
pub(crate) const MAX_LEVELS: usize = 8;

pub(crate) const FIRST: usize = 0;
pub(crate) const LAST: usize = 1;
pub(crate) const EMAIL: usize = 3;
pub(crate) const PHONE: usize = 4;
pub(crate) const ADDRESS: usize = 5;

/// Names of the comparisons and of their non-null levels, strongest first, `else` last.
pub(crate) const SPECS: [(&str, &[&str]); N] = [
    (
        "first_name",
        &[
            "exact",
            "nickname",
            "jaro_winkler_0.92",
            "jaro_winkler_0.85_or_phonetic",
            "initial_or_prefix",
            "else",
        ],
    ),
    (
        "last_name",
        &[
            "exact",
            "jaro_winkler_0.92",
            "jaro_winkler_0.85_or_phonetic",
            "shared_token",
            "else",
        ],
    ),
    (
        "birth_date",
        &[
            "exact",
            "day_month_swapped",
            "one_digit",
            "two_of_three_parts",
            "else",
        ],
    ),
    (
        "email",
        &["exact", "local_part", "local_part_fuzzy", "else"],
    ),
    ("phone", &["exact", "one_digit_or_same_subscriber", "else"]),
    (
        "address",
        &[
            "street_number_and_postcode",
            "postcode_and_street_or_number",
            "street_and_number",
            "postcode",
            "city",
            "else",
        ],
    ),
];

/// The levels of one pair, and whether first and last names were compared swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Compared {
    pub levels: [u8; N],
    pub swapped: bool,
}

impl Compared {
    /// Packs levels (4 bits each) and the swap flag (bit 31).
    pub(crate) fn pack(self) -> u32 {
        let mut p = 0u32;
        for (k, l) in self.levels.iter().enumerate() {
            p |= u32::from(*l) << (4 * k);
        }
        p | (u32::from(self.swapped) << 31)
    }

    pub(crate) fn unpack(p: u32) -> Self {
        let mut levels = [0u8; N];
        for (k, l) in levels.iter_mut().enumerate() {
            #[allow(clippy::cast_possible_truncation)]
            {
                *l = ((p >> (4 * k)) & 0xf) as u8;
            }
        }
        Self {
            levels,
            swapped: p >> 31 == 1,
        }
    }
}

/// A record as the model sees it.
#[derive(Clone, Copy)]
pub(crate) struct Side<'a> {
    pub f: &'a Features,
    pub x: &'a Extra,
}

pub(crate) fn jw(x: &str, y: &str) -> f64 {
    super::strings::jaro_winkler(x, y)
}

/// Optimal-string-alignment distance, stopping early above `max` for long strings.
fn osa_at_most(x: &str, y: &str, max: usize) -> bool {
    x.len().abs_diff(y.len()) <= max && super::strings::osa(x, y) <= max
}

fn first_token(s: &str) -> &str {
    s.split(' ').next().unwrap_or(s)
}

fn first_level(x: &str, cx: Option<&str>, px: u64, y: &str, cy: Option<&str>, py: u64) -> u8 {
    if x == y {
        return 1;
    }
    if cx.is_some() && cx == cy {
        return 2;
    }
    let s = jw(x, y);
    if s >= 0.92 {
        return 3;
    }
    if s >= 0.85 || (px != 0 && px == py) || (x.len().min(y.len()) >= 4 && osa_at_most(x, y, 1)) {
        return 4;
    }
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    if (short.len() == 1 || short.len() >= 3) && long.starts_with(short)
        || first_token(x) == first_token(y)
    {
        return 5;
    }
    6
}

fn last_level(x: &str, px: u64, y: &str, py: u64) -> u8 {
    if x == y {
        return 1;
    }
    let s = jw(x, y);
    if s >= 0.92 {
        return 2;
    }
    if s >= 0.85 || (px != 0 && px == py) || (x.len().min(y.len()) >= 6 && osa_at_most(x, y, 2)) {
        return 3;
    }
    let shared = x
        .split(' ')
        .filter(|t| t.len() >= 2)
        .any(|t| y.split(' ').any(|u| u == t));
    if shared {
        return 4;
    }
    5
}

fn names(a: Side<'_>, b: Side<'_>) -> (u8, u8, bool) {
    let first = match (a.f.first.as_deref(), b.f.first.as_deref()) {
        (Some(x), Some(y)) => first_level(
            x,
            a.f.first_canon.as_deref(),
            a.x.first_ph,
            y,
            b.f.first_canon.as_deref(),
            b.x.first_ph,
        ),
        _ => 0,
    };
    let last = match (a.f.last.as_deref(), b.f.last.as_deref()) {
        (Some(x), Some(y)) => last_level(x, a.x.last_ph, y, b.x.last_ph),
        _ => 0,
    };
    if first >= 4 || last >= 3 {
        // swapped first and last names?
        if let (Some(fa), Some(la), Some(fb), Some(lb)) = (
            a.f.first.as_deref(),
            a.f.last.as_deref(),
            b.f.first.as_deref(),
            b.f.last.as_deref(),
        ) {
            // a swap needs one crosswise initial or sound to agree: skips most pairs cheaply
            let initial = |x: &str, y: &str| x.as_bytes().first() == y.as_bytes().first();
            if !(initial(fa, lb)
                || initial(la, fb)
                || (a.x.first_ph != 0 && a.x.first_ph == b.x.last_ph))
            {
                return (first, last, false);
            }
            let sf = first_level(fa, None, a.x.first_ph, lb, None, b.x.last_ph);
            let sl = last_level(la, a.x.last_ph, fb, b.x.first_ph);
            // both crosswise names agree at least fuzzily, or one agrees strongly (a swap
            // combined with a mistyped or replaced other name); either way the swapped
            // reading must fit better than the straight one
            let fuzzy = sf <= 4 && sl <= 3;
            let strong = sf <= 3 || sl <= 2;
            if (fuzzy || strong) && u16::from(sf) + u16::from(sl) < u16::from(first + last) {
                return (sf, sl, true);
            }
        }
    }
    (first, last, false)
}

fn date_digits(d: (u16, u8, u8)) -> [u8; 8] {
    let (y, m, dd) = (d.0, u16::from(d.1), u16::from(d.2));
    let mut out = [0u8; 8];
    for (i, v) in [
        y / 1000,
        y / 100 % 10,
        y / 10 % 10,
        y % 10,
        m / 10,
        m % 10,
        dd / 10,
        dd % 10,
    ]
    .into_iter()
    .enumerate()
    {
        #[allow(clippy::cast_possible_truncation)]
        {
            out[i] = v as u8;
        }
    }
    out
}

/// One substitution or one adjacent transposition apart (same length).
fn one_digit_apart(x: &[u8], y: &[u8]) -> bool {
    if x.len() != y.len() {
        return false;
    }
    let mut diff = [0usize; 3];
    let mut n = 0;
    for i in 0..x.len() {
        if x[i] != y[i] {
            if n == 2 {
                return false;
            }
            diff[n] = i;
            n += 1;
        }
    }
    match n {
        1 => true,
        2 => {
            let (i, j) = (diff[0], diff[1]);
            j == i + 1 && x[i] == y[j] && x[j] == y[i]
        }
        _ => false,
    }
}

fn dob_level(a: Option<(u16, u8, u8)>, b: Option<(u16, u8, u8)>) -> u8 {
    let (Some(x), Some(y)) = (a, b) else {
        return 0;
    };
    if x == y {
        return 1;
    }
    if x.0 == y.0 && x.1 == y.2 && x.2 == y.1 {
        return 2;
    }
    if one_digit_apart(&date_digits(x), &date_digits(y)) {
        return 3;
    }
    let same = u8::from(x.0 == y.0) + u8::from(x.1 == y.1) + u8::from(x.2 == y.2);
    if same >= 2 {
        return 4;
    }
    5
}

fn email_level(a: Side<'_>, b: Side<'_>) -> u8 {
    let (Some(ea), Some(eb)) = (a.f.canon.as_deref(), b.f.canon.as_deref()) else {
        return 0;
    };
    if ea == eb || (a.f.email.is_some() && a.f.email == b.f.email) {
        return 1;
    }
    // a local part spelled from both records' own names repeats the name comparisons:
    // namesakes on other domains share it, so its agreement is no evidence of its own
    // (the domains' disagreement is none either)
    if a.x.local_of_names && b.x.local_of_names {
        return 0;
    }
    match (a.x.local.as_deref(), b.x.local.as_deref()) {
        (Some(x), Some(y)) if x == y => 2,
        (Some(x), Some(y)) if x.len().min(y.len()) >= 4 && jw(x, y) >= 0.9 => 3,
        _ if osa_at_most(ea, eb, 1) => 3,
        _ => 4,
    }
}

fn phone_level<'a>(a: Option<&'a str>, b: Option<&'a str>) -> u8 {
    let (Some(x), Some(y)) = (a, b) else {
        return 0;
    };
    if x == y {
        return 1;
    }
    let tail = |s: &'a str| s.len().checked_sub(8).and_then(|i| s.get(i..));
    if one_digit_apart(x.as_bytes(), y.as_bytes())
        || (x.len().abs_diff(y.len()) == 1 && super::strings::osa(x, y) == 1)
        || (tail(x).is_some() && tail(x) == tail(y))
    {
        return 2;
    }
    3
}

fn address_level(a: &Features, b: &Features) -> u8 {
    let some = |f: &Features| f.street.is_some() || f.postcode.is_some() || f.city.is_some();
    if !some(a) || !some(b) {
        return 0;
    }
    let eq = |x: &Option<Box<str>>, y: &Option<Box<str>>| x.is_some() && x == y;
    let postcode = eq(&a.postcode, &b.postcode);
    let number = eq(&a.street_no, &b.street_no);
    let street = match (a.street.as_deref(), b.street.as_deref()) {
        (Some(x), Some(y)) => jw(x, y),
        _ => 0.0,
    };
    if postcode && number && street >= 0.9 {
        1
    } else if postcode && (number || street >= 0.85) {
        2
    } else if number && street >= 0.85 {
        3
    } else if postcode {
        4
    } else if matches!((a.city.as_deref(), b.city.as_deref()), (Some(x), Some(y)) if jw(x, y) >= 0.9)
    {
        5
    } else {
        6
    }
}

/// Whether two records agree on a date of birth exactly (or with day and month swapped):
/// evidence a household does not share (its members, twins apart, differ in birth date), so
/// it may lift the household guard for a direct link.
pub(crate) fn birth_dates_agree(a: Side<'_>, b: Side<'_>) -> bool {
    matches!(dob_level(a.x.dob, b.x.dob), 1 | 2)
}

/// Compares two records on every comparison.
pub(crate) fn compare(a: Side<'_>, b: Side<'_>) -> Compared {
    let (first, last, swapped) = names(a, b);
    Compared {
        levels: [
            first,
            last,
            dob_level(a.x.dob, b.x.dob),
            email_level(a, b),
            phone_level(a.f.phone.as_deref(), b.f.phone.as_deref()),
            address_level(a.f, b.f),
        ],
        swapped,
    }
}

/// Whether two first names (with last names for the swap check) may belong to one person:
/// the household guard of clustering. Nicknames, initials, prefixes, names similar at
/// `min` Jaro-Winkler or sounding alike, and swapped first/last names are compatible.
pub(crate) fn first_names_compatible(a: Side<'_>, b: Side<'_>, min: f64) -> bool {
    let (Some(x), Some(y)) = (a.f.first.as_deref(), b.f.first.as_deref()) else {
        return true;
    };
    if x == y
        || (a.f.first_canon.is_some() && a.f.first_canon == b.f.first_canon)
        || (a.x.first_ph != 0 && a.x.first_ph == b.x.first_ph)
        || jw(x, y) >= min
        || first_level(x, None, 0, y, None, 0) == 5
    {
        return true;
    }
    // swapped names are compatible when the first name agrees crosswise (the swap alone
    // may rest on the surname)
    let (first, _, swapped) = names(a, b);
    swapped && first < 6
}
