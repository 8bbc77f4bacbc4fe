//! Records: one clean account per person, then duplicates of many kinds.

use cartograph_model::{Customer, EmailAddress, RecordKind, SourceRef};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use super::people::{Emails, ascii_fold, country_of};
use super::pools::{FIRST_NAMES, US_TYPES};
use super::{DuplicateKind, LabelledCustomer, Person, PhoneNumber, RecordOrigin};

/// Writes a phone in one of its country's usual formats; only `+` formats when the record's
/// country differs from the number's.
pub(crate) fn format_phone(rng: &mut StdRng, p: &PhoneNumber, record_country: &str) -> String {
    let (cc, nsn) = match p.country {
        "US" | "CA" => ("1", &p.e164[2..]),
        "GB" | "DE" | "FR" | "AU" => (&p.e164[1..3], &p.e164[3..]),
        _ => ("", &p.e164[1..]),
    };
    let foreign = record_country != p.country;
    let style = if foreign {
        rng.random_range(0..2)
    } else {
        rng.random_range(0..6)
    };
    let grouped = |sep: &str| -> String {
        let (a, b) = nsn.split_at(3.min(nsn.len()));
        let (b, c) = b.split_at(3.min(b.len()));
        [a, b, c]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(sep)
    };
    match (style, p.country) {
        (0, _) => p.e164.clone(),
        (1, _) | (4, "AU") => format!("+{cc} {}", grouped(" ")),
        (2, "US" | "CA") => format!("({}) {}-{}", &nsn[..3], &nsn[3..6], &nsn[6..]),
        (3, "US" | "CA") => grouped("."),
        (4, "US" | "CA") => format!("1-{}", grouped("-")),
        (5, "US" | "CA") => format!("{} x{}", grouped("-"), rng.random_range(10..999)),
        (2 | 3, _) => format!("0{}", grouped(" ")),
        (4, "DE") => format!("0{}/{}", &nsn[..3], &nsn[3..]),
        (4, _) => format!("00{cc} {}", grouped(" ")),
        _ => format!("0{nsn}"),
    }
}

struct Ids {
    next: u64,
}

impl Ids {
    fn next(&mut self) -> String {
        self.next += 1;
        self.next.to_string()
    }
}

struct Draft {
    email: Option<String>,
    phone: Option<String>,
    first: Option<String>,
    last: Option<String>,
    address: Option<cartograph_model::Address>,
}

fn clean(rng: &mut StdRng, p: &Person) -> Draft {
    let country = country_of(&p.address);
    Draft {
        email: Some(p.email.clone()),
        phone: p.phone.as_ref().map(|ph| format_phone(rng, ph, country)),
        first: Some(p.first_name.clone()),
        last: Some(p.last_name.clone()),
        address: Some(p.address.clone()),
    }
}

fn build(p: &Person, d: Draft, source: SourceRef, guest: bool) -> Customer {
    let mut c = Customer::new(source);
    c.email = d.email.and_then(EmailAddress::new);
    c.phone = d.phone;
    c.first_name.clone_from(&d.first);
    c.last_name.clone_from(&d.last);
    c.company = if guest { None } else { p.company.clone() };
    c.date_of_birth = if guest { None } else { p.birth_date };
    c.is_guest = guest;
    if let Some(mut a) = d.address {
        a.first_name = d.first;
        a.last_name = d.last;
        c.addresses.push(a);
    }
    c
}

const WEIGHTS: &[(DuplicateKind, u32)] = &[
    (DuplicateKind::Copy, 10),
    (DuplicateKind::EmailCase, 12),
    (DuplicateKind::EmailAlias, 8),
    (DuplicateKind::PhoneFormat, 10),
    (DuplicateKind::Nickname, 8),
    (DuplicateKind::NameTypo, 8),
    (DuplicateKind::Diacritics, 6),
    (DuplicateKind::AddressFormat, 8),
    (DuplicateKind::GuestOrder, 20),
    (DuplicateKind::Sparse, 5),
    (DuplicateKind::EmailChanged, 5),
];

fn pick_kind(rng: &mut StdRng) -> DuplicateKind {
    let total: u32 = WEIGHTS.iter().map(|w| w.1).sum();
    let mut r = rng.random_range(0..total);
    for (k, w) in WEIGHTS {
        if r < *w {
            return *k;
        }
        r -= w;
    }
    DuplicateKind::Copy
}

fn vary_case(rng: &mut StdRng, s: &str) -> String {
    match rng.random_range(0..3) {
        0 => s.to_uppercase(),
        1 => {
            let mut c = s.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        }
        _ => s
            .chars()
            .map(|c| {
                if rng.random_bool(0.3) {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
    }
}

fn alias(rng: &mut StdRng, email: &str) -> String {
    let Some((local, domain)) = email.split_once('@') else {
        return email.to_owned();
    };
    let gmail = matches!(domain, "gmail.com" | "googlemail.com");
    let plus = gmail
        || matches!(
            domain,
            "outlook.com" | "hotmail.com" | "icloud.com" | "protonmail.com"
        );
    if gmail && rng.random_bool(0.5) {
        let plain = local.replace('.', "");
        let cut = rng.random_range(1..plain.len().max(2));
        let with_dot = format!(
            "{}.{}",
            &plain[..cut.min(plain.len())],
            &plain[cut.min(plain.len())..]
        );
        let with_dot = with_dot.trim_end_matches('.');
        let dom = if rng.random_bool(0.3) {
            "googlemail.com"
        } else {
            "gmail.com"
        };
        return format!("{with_dot}@{dom}");
    }
    if plus {
        let tag = ["shop", "news", "orders", "promo", "2024"]
            .choose(rng)
            .copied()
            .unwrap_or("x");
        return format!("{local}+{tag}@{domain}");
    }
    vary_case(rng, email)
}

fn typo(rng: &mut StdRng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 4 {
        return s.to_owned();
    }
    let i = rng.random_range(1..c.len() - 1);
    match rng.random_range(0..4) {
        0 => c.swap(i, i + 1),
        1 => {
            c.remove(i);
        }
        2 => c.insert(i, c[i]),
        _ => c[i] = char::from(b'a' + rng.random_range(0..26u8)),
    }
    c.into_iter().collect()
}

fn strip(rng: &mut StdRng, s: &str) -> String {
    let german = rng.random_bool(0.5);
    let mut out = String::new();
    for ch in s.chars() {
        match ch {
            'ä' if german => out.push_str("ae"),
            'ö' if german => out.push_str("oe"),
            'ü' if german => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii() => out.push(c),
            c => {
                let f = ascii_fold(&c.to_string());
                out.push_str(if f.is_empty() { "" } else { &f });
            }
        }
    }
    if rng.random_bool(0.3) {
        out.to_uppercase()
    } else {
        out
    }
}

fn reformat_address(rng: &mut StdRng, a: &mut cartograph_model::Address) {
    if let Some(line) = &mut a.line1 {
        for (long, short) in US_TYPES {
            if line.ends_with(long) {
                *line = format!("{}{short}.", &line[..line.len() - long.len()]);
                break;
            }
        }
        *line = line.replace("straße", "str.").replace("Road", "Rd");
        if rng.random_bool(0.3) {
            *line = line.to_uppercase();
        }
    }
    if let Some(pc) = &mut a.postcode {
        if pc.contains(' ') {
            *pc = pc.replace(' ', "");
        } else if a.country_code.as_deref() == Some("US") && rng.random_bool(0.5) {
            let plus4 = rng.random_range(0..10000);
            *pc = format!("{pc}-{plus4:04}");
        }
    }
    if rng.random_bool(0.5) {
        let name = match a.country_code.as_deref() {
            Some("US") => "United States",
            Some("GB") => "United Kingdom",
            Some("DE") => "Deutschland",
            Some("FR") => "France",
            Some("CA") => "Canada",
            _ => "Australia",
        };
        a.country = Some(name.to_owned());
        a.country_code = None;
    }
}

fn duplicate(
    rng: &mut StdRng,
    p: &Person,
    kind: DuplicateKind,
    emails: &mut Emails,
) -> (Draft, bool) {
    let mut d = clean(rng, p);
    let mut guest = false;
    match kind {
        DuplicateKind::Copy | DuplicateKind::PhoneFormat => {}
        DuplicateKind::EmailCase => d.email = Some(format!("{} ", vary_case(rng, &p.email))),
        DuplicateKind::EmailAlias => d.email = Some(alias(rng, &p.email)),
        DuplicateKind::Nickname => {
            let nick = FIRST_NAMES
                .iter()
                .find(|(f, _)| *f == p.first_name)
                .map_or("", |(_, n)| *n);
            d.first = Some(if nick.is_empty() {
                strip(rng, &p.first_name)
            } else {
                nick.to_owned()
            });
        }
        DuplicateKind::NameTypo => {
            if rng.random_bool(0.7) {
                d.last = Some(typo(rng, &p.last_name));
            } else {
                d.first = Some(typo(rng, &p.first_name));
            }
        }
        DuplicateKind::Diacritics => {
            d.first = d.first.map(|f| strip(rng, &f));
            d.last = d.last.map(|l| strip(rng, &l));
        }
        DuplicateKind::AddressFormat => {
            if let Some(a) = &mut d.address {
                reformat_address(rng, a);
            }
        }
        DuplicateKind::GuestOrder => {
            guest = true;
            if rng.random_bool(0.5) {
                d.phone = None;
            }
            if rng.random_bool(0.3) {
                d.email = Some(vary_case(rng, &p.email));
            }
        }
        DuplicateKind::Sparse => {
            d.phone = None;
            d.last = None;
            d.address = None;
        }
        DuplicateKind::EmailChanged => {
            d.email = Some(emails.fresh(rng, &p.first_name, &p.last_name));
        }
    }
    // random loss of optional fields, keeping what the kind is about
    let keep_phone = matches!(
        kind,
        DuplicateKind::PhoneFormat | DuplicateKind::EmailChanged
    );
    let keep_address = matches!(
        kind,
        DuplicateKind::AddressFormat | DuplicateKind::EmailChanged | DuplicateKind::GuestOrder
    );
    if !keep_phone && rng.random_bool(0.25) {
        d.phone = None;
    }
    if !keep_address && rng.random_bool(0.2) {
        d.address = None;
    }
    (d, guest)
}

/// One account per person, then duplicates until `total` records exist.
pub(crate) fn records(rng: &mut StdRng, people: &[Person], total: usize) -> Vec<LabelledCustomer> {
    let mut out = Vec::with_capacity(total);
    let mut ids = Ids { next: 0 };
    let mut emails = Emails::new();
    emails.reserve(people.iter().map(|p| p.email.as_str()));
    for p in people.iter().take(total) {
        let system = if rng.random_bool(0.6) {
            "bigcommerce"
        } else {
            "commercetools"
        };
        let mut d = clean(rng, p);
        if rng.random_bool(0.15) {
            d.phone = None;
        }
        let source = SourceRef::new(system, RecordKind::Customer, ids.next());
        out.push(LabelledCustomer {
            person: p.label,
            origin: RecordOrigin::Account,
            customer: build(p, d, source, false),
        });
    }
    while out.len() < total && !people.is_empty() {
        let p = &people[rng.random_range(0..people.len())];
        let kind = pick_kind(rng);
        let (d, guest) = duplicate(rng, p, kind, &mut emails);
        let source = if guest {
            SourceRef::new("bigcommerce", RecordKind::Order, ids.next())
        } else {
            match rng.random_range(0..3) {
                0 => SourceRef::new("hubspot", RecordKind::Contact, ids.next()),
                1 => SourceRef::new("salesforce", RecordKind::Contact, ids.next()),
                _ => SourceRef::new("commercetools", RecordKind::Customer, ids.next()),
            }
        };
        out.push(LabelledCustomer {
            person: p.label,
            origin: RecordOrigin::Duplicate(kind),
            customer: build(p, d, source, guest),
        });
    }
    out
}
