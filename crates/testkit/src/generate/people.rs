//! Ground-truth people: names, unique emails, phones, addresses, households, namesakes.

use std::collections::HashSet;

use cartograph_model::{Address, AddressKind};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use time::{Date, Month};

use super::pools::{
    CA_AREA, CITIES_AU, CITIES_CA, CITIES_DE, CITIES_FR, CITIES_GB, CITIES_US, COMPANY_SUFFIXES,
    COMPANY_WORDS, DE_STREETS, DOMAINS, FIRST_NAMES, FR_STREETS, LAST_NAMES, STREET_NAMES, US_AREA,
    US_TYPES,
};
use super::{GeneratorConfig, Person, PersonLabel, PhoneNumber};

/// Skewed pick: low indexes (common names) are drawn more often.
pub(crate) fn skewed<'a, T>(rng: &mut StdRng, pool: &'a [T]) -> &'a T {
    let u: f64 = rng.random();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((u * u) * pool.len() as f64) as usize;
    &pool[i.min(pool.len() - 1)]
}

/// ASCII letters of a name for email local parts (`José` -> `jose`, `O'Brien` -> `obrien`).
pub(crate) fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let m = match c {
            'á' | 'à' | 'â' | 'ä' | 'å' | 'Á' | 'Ä' | 'Å' => "a",
            'é' | 'è' | 'ê' | 'ë' | 'É' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'ø' | 'Ö' | 'Ø' => "o",
            'ú' | 'ù' | 'û' | 'ü' | 'Ü' => "u",
            'ç' => "c",
            'ñ' => "n",
            'ß' => "ss",
            'ł' | 'Ł' => "l",
            'ś' | 'Ś' => "s",
            'ż' | 'ź' => "z",
            c if c.is_ascii_alphabetic() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => continue,
        };
        out.push_str(m);
    }
    out
}

/// The mailbox an address really reaches (Gmail ignores dots and tags): generator-side
/// uniqueness check only.
fn mailbox(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let local = local.split('+').next().unwrap_or(local);
    if matches!(domain, "gmail.com" | "googlemail.com") {
        format!("{}@gmail.com", local.replace('.', ""))
    } else {
        format!("{local}@{domain}")
    }
}

pub(crate) struct Emails {
    used: HashSet<String>,
}

impl Emails {
    pub(crate) fn new() -> Self {
        Self {
            used: HashSet::new(),
        }
    }

    /// Marks existing addresses as taken.
    pub(crate) fn reserve<'a>(&mut self, existing: impl IntoIterator<Item = &'a str>) {
        self.used.extend(existing.into_iter().map(mailbox));
    }

    /// A new email for a name, unique by mailbox.
    pub(crate) fn fresh(&mut self, rng: &mut StdRng, first: &str, last: &str) -> String {
        let (f, l) = (ascii_fold(first), ascii_fold(last));
        let domain = if rng.random_bool(0.2) {
            format!(
                "{}.com",
                ascii_fold(COMPANY_WORDS.choose(rng).copied().unwrap_or("acme"))
            )
        } else {
            let total: u32 = DOMAINS.iter().map(|d| d.1).sum();
            let mut pick = rng.random_range(0..total);
            let mut chosen = DOMAINS[0].0;
            for (d, w) in DOMAINS {
                if pick < *w {
                    chosen = d;
                    break;
                }
                pick -= w;
            }
            chosen.to_owned()
        };
        let initial = f.chars().next().unwrap_or('x');
        let base = match rng.random_range(0..5) {
            0 => format!("{f}.{l}"),
            1 => format!("{f}{l}"),
            2 => format!("{initial}{l}"),
            3 => format!("{f}_{l}"),
            _ => format!("{f}.{l}{}", rng.random_range(50..100)),
        };
        let mut email = format!("{base}@{domain}");
        while !self.used.insert(mailbox(&email)) {
            email = format!("{base}{}@{domain}", rng.random_range(1..10_000));
        }
        email
    }
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn phone(rng: &mut StdRng, country: &'static str) -> PhoneNumber {
    let nsn = match country {
        "US" | "CA" => {
            let area = if country == "US" { US_AREA } else { CA_AREA };
            let a = area.choose(rng).copied().unwrap_or(415);
            format!("{a}{}{}", rng.random_range(200..1000), digits(rng, 4))
        }
        "GB" => format!("7{}{}", rng.random_range(4..10), digits(rng, 8)),
        "DE" => format!(
            "1{}{}",
            ["51", "52", "57", "60", "62", "70", "71", "72", "76"]
                .choose(rng)
                .copied()
                .unwrap_or("51"),
            digits(rng, 8)
        ),
        "FR" => format!("{}{}", rng.random_range(6..8), digits(rng, 8)),
        _ => format!("4{}", digits(rng, 8)),
    };
    let cc = match country {
        "US" | "CA" => "1",
        "GB" => "44",
        "DE" => "49",
        "FR" => "33",
        _ => "61",
    };
    PhoneNumber {
        country,
        e164: format!("+{cc}{nsn}"),
    }
}

fn address(rng: &mut StdRng, first: &str, last: &str) -> Address {
    let country = match rng.random_range(0..100) {
        0..50 => "US",
        50..65 => "GB",
        65..80 => "DE",
        80..90 => "FR",
        90..95 => "CA",
        _ => "AU",
    };
    let n = rng.random_range(1..400);
    let (line1, city, postcode) = match country {
        "DE" => (
            format!(
                "{}straße {n}",
                DE_STREETS.choose(rng).copied().unwrap_or("Haupt")
            ),
            CITIES_DE.choose(rng).copied().unwrap_or("Berlin"),
            format!("{:05}", rng.random_range(1067..99999)),
        ),
        "FR" => (
            format!(
                "{n} rue {}",
                FR_STREETS.choose(rng).copied().unwrap_or("Pasteur")
            ),
            CITIES_FR.choose(rng).copied().unwrap_or("Paris"),
            format!("{:05}", rng.random_range(1000..96000)),
        ),
        "GB" => (
            format!(
                "{n} {} {}",
                STREET_NAMES.choose(rng).copied().unwrap_or("High"),
                ["Street", "Road", "Lane"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("Road")
            ),
            CITIES_GB.choose(rng).copied().unwrap_or("London"),
            format!(
                "{}{} {}{}{}",
                ["SW", "N", "E", "M", "B", "LS", "G", "BS"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("N"),
                rng.random_range(1..20),
                rng.random_range(1..10),
                char::from(b'A' + rng.random_range(0..26u8)),
                char::from(b'A' + rng.random_range(0..26u8)),
            ),
        ),
        _ => {
            let (long, _) = US_TYPES.choose(rng).copied().unwrap_or(("Street", "St"));
            let city = match country {
                "CA" => CITIES_CA,
                "AU" => CITIES_AU,
                _ => CITIES_US,
            };
            let postcode = match country {
                "CA" => format!(
                    "M{}{} {}{}{}",
                    rng.random_range(1..10),
                    char::from(b'A' + rng.random_range(0..26u8)),
                    rng.random_range(1..10),
                    char::from(b'A' + rng.random_range(0..26u8)),
                    rng.random_range(1..10)
                ),
                "AU" => format!("{}", rng.random_range(2000..7000)),
                _ => format!("{:05}", rng.random_range(10000..99999)),
            };
            (
                format!(
                    "{n} {} {long}",
                    STREET_NAMES.choose(rng).copied().unwrap_or("Main")
                ),
                city.choose(rng).copied().unwrap_or("Springfield"),
                postcode,
            )
        }
    };
    Address {
        kind: AddressKind::Billing,
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        line1: Some(line1),
        city: Some(city.to_owned()),
        postcode: Some(postcode),
        country_code: Some(country.to_owned()),
        ..Address::default()
    }
}

/// Generates `count` people.
pub(crate) fn people(rng: &mut StdRng, cfg: &GeneratorConfig, count: usize) -> Vec<Person> {
    let mut emails = Emails::new();
    let mut out: Vec<Person> = Vec::with_capacity(count);
    let mut household_size: Vec<u8> = Vec::with_capacity(count);
    for i in 0..count {
        #[allow(clippy::cast_possible_truncation)]
        let label = i as PersonLabel;
        let mut first = skewed(rng, FIRST_NAMES).0.to_owned();
        let mut last = (*skewed(rng, LAST_NAMES)).to_owned();
        if i > 0 && rng.random_bool(cfg.namesake_share) {
            let other = &out[rng.random_range(0..i)];
            first.clone_from(&other.first_name);
            last.clone_from(&other.last_name);
        }
        let mut household = None;
        let anchor = (i > 0 && rng.random_bool(cfg.household_share))
            .then(|| rng.random_range(0..i))
            .filter(|&a| household_size[out[a].household.unwrap_or(out[a].label) as usize] < 4);
        let mut person = if let Some(a) = anchor {
            let head = out[a].household.unwrap_or(out[a].label);
            household = Some(head);
            out[a].household = Some(head);
            household_size[head as usize] += 1;
            let anchor = out[a].clone();
            if rng.random_bool(0.8) {
                last.clone_from(&anchor.last_name);
            }
            while ascii_fold(&first) == ascii_fold(&anchor.first_name) {
                skewed(rng, FIRST_NAMES).0.clone_into(&mut first);
            }
            let mut address = anchor.address.clone();
            address.first_name = Some(first.clone());
            address.last_name = Some(last.clone());
            let phone = if anchor.phone.is_some() && rng.random_bool(cfg.shared_phone_share) {
                anchor.phone.clone()
            } else {
                rng.random_bool(0.7)
                    .then(|| phone(rng, country_of(&address)))
            };
            let email = if rng.random_bool(cfg.shared_email_share) {
                anchor.email.clone()
            } else {
                emails.fresh(rng, &first, &last)
            };
            Person {
                label,
                first_name: first,
                last_name: last,
                email,
                phone,
                address,
                birth_date: None,
                company: None,
                household,
            }
        } else {
            let address = address(rng, &first, &last);
            let phone = rng
                .random_bool(0.7)
                .then(|| phone(rng, country_of(&address)));
            let email = emails.fresh(rng, &first, &last);
            Person {
                label,
                first_name: first,
                last_name: last,
                email,
                phone,
                address,
                birth_date: None,
                company: None,
                household,
            }
        };
        if rng.random_bool(0.2) {
            let month = Month::try_from(rng.random_range(1..13u8)).unwrap_or(Month::January);
            person.birth_date = Date::from_calendar_date(
                rng.random_range(1940..2006),
                month,
                rng.random_range(1..29),
            )
            .ok();
        }
        if rng.random_bool(0.15) {
            let word = COMPANY_WORDS.choose(rng).copied().unwrap_or("Acme");
            let suffix = COMPANY_SUFFIXES.choose(rng).copied().unwrap_or("");
            person.company = Some(format!("{word} {suffix}").trim().to_owned());
        }
        household_size.push(1);
        out.push(person);
    }
    out
}

pub(crate) fn country_of(address: &Address) -> &'static str {
    match address.country_code.as_deref() {
        Some("GB") => "GB",
        Some("DE") => "DE",
        Some("FR") => "FR",
        Some("CA") => "CA",
        Some("AU") => "AU",
        _ => "US",
    }
}
