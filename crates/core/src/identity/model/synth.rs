//! Labelled test data made independently of `cartograph_testkit::generate`: its own name
//! pools, its own corruption processes (keyboard typos, transpositions, swapped names,
//! nicknames and initials, missing fields, changed emails, date formats and day/month swaps,
//! phone formats, street abbreviations) and its own confusers (households, namesakes,
//! twins). Used by the model's tests and, through `#[path]`, by the identity bench.
//! Only `IdentityRecord`'s public API is used here.
#![allow(
    dead_code,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use super::IdentityRecord;

/// Which kind of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Shop customers: email on most records, phones, sparse addresses and birth dates.
    Commerce,
    /// Person registers in the style of the FEBRL benchmarks: names, full addresses, dates
    /// of birth, no email, heavy typos, up to several duplicates per original.
    Register,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// Zipf-like pick: index i with weight 1 / (i + 2).
    fn zipf(&mut self, n: usize) -> usize {
        let total: f64 = (0..n).map(|i| 1.0 / (i as f64 + 2.0)).sum();
        let mut x = (self.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        for i in 0..n {
            x -= 1.0 / (i as f64 + 2.0);
            if x <= 0.0 {
                return i;
            }
        }
        n - 1
    }
}

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "Michael",
    "Jennifer",
    "William",
    "Linda",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Daniel",
    "Margaret",
    "Matthew",
    "Nancy",
    "Anthony",
    "Lisa",
    "Katherine",
    "Steven",
    "Sandra",
    "Andrew",
    "Ashley",
    "Jürgen",
    "Françoise",
    "José",
    "Mehmet",
    "Aiko",
    "Priya",
    "Olufemi",
    "Zoë",
    "Søren",
    "Anneliese",
    "Giuseppe",
    "Björn",
    "Małgorzata",
    "Chloé",
    "Rafael",
    "Ingrid",
    "Hiroshi",
    "Fatima",
    "Dmitri",
    "Siobhan",
    "Lorenzo",
    "Annika",
    "Kwame",
    "Yara",
    "Tobias",
    "Elena",
    "Nikolai",
    "Camille",
    "Matteo",
    "Freya",
    "Luca",
    "Noor",
    "Ravi",
    "Greta",
    "Jonas",
    "Leonie",
    "Finn",
    "Clara",
    "Emil",
    "Ida",
];

const NICK: &[(&str, &str)] = &[
    ("Robert", "Bob"),
    ("William", "Bill"),
    ("Elizabeth", "Liz"),
    ("Michael", "Mike"),
    ("Katherine", "Kate"),
    ("Richard", "Dick"),
    ("Joseph", "Joe"),
    ("Thomas", "Tom"),
    ("Christopher", "Chris"),
    ("Daniel", "Dan"),
    ("Margaret", "Peggy"),
    ("Matthew", "Matt"),
    ("Anthony", "Tony"),
    ("Steven", "Steve"),
    ("Andrew", "Andy"),
    ("James", "Jim"),
    ("Patricia", "Pat"),
    ("Susan", "Sue"),
    ("Jennifer", "Jen"),
    ("David", "Dave"),
];

const LAST: &[&str] = &[
    "Smith",
    "Müller",
    "García",
    "Nguyen",
    "Johnson",
    "Schmidt",
    "Brown",
    "Williams",
    "Jones",
    "Miller",
    "Davis",
    "Martínez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "Thompson",
    "White",
    "López",
    "Lee",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "Weber",
    "Schneider",
    "Becker",
    "Meyer",
    "Fischer",
    "Wagner",
    "Dubois",
    "Lefèvre",
    "Rossi",
    "Russo",
    "Kowalski",
    "Nowak",
    "Yilmaz",
    "Kaya",
    "O'Brien",
    "MacDonald",
    "Van der Berg",
    "De Jong",
    "Andersson",
    "Johansson",
    "Novák",
    "Horvat",
    "Tanaka",
    "Suzuki",
    "Kim",
    "Park",
    "Singh",
    "Patel",
    "Okafor",
    "Mensah",
];

const SYL: &[&str] = &[
    "ka", "ro", "mi", "len", "dor", "sa", "vik", "tan", "bel", "gru", "hof", "mar", "ney", "ström",
    "ski", "ell", "ton", "ber", "wald", "quist", "ri", "zu", "lo", "pe", "nak",
];

const STREETS: &[&str] = &[
    "Main", "Oak", "Maple", "Cedar", "Elm", "Park", "Lake", "Hill", "Church", "Mill", "King",
    "Queen", "Station", "Garden", "River", "Linden", "Birken", "Eichen", "Rosen", "Berg",
];

const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "web.de",
    "gmx.de",
    "icloud.com",
    "aol.com",
    "proton.me",
    "orange.fr",
];

#[derive(Clone)]
struct Person {
    first: String,
    last: String,
    email: Option<String>,
    phone: Option<String>,
    street: Option<String>,
    postcode: Option<String>,
    city: Option<String>,
    country: &'static str,
    dob: Option<(u32, u32, u32)>,
}

fn rare_last(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..2 + rng.below(2) {
        s.push_str(SYL[rng.below(SYL.len())]);
    }
    capitalize(&s)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'ä' | 'á' | 'à' => Some('a'),
            'ö' | 'ó' | 'ø' => Some('o'),
            'ü' | 'ú' => Some('u'),
            'é' | 'è' | 'ë' => Some('e'),
            'í' => Some('i'),
            'ç' => Some('c'),
            'ł' => Some('l'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// A mailbox belongs to one person (or one household): a generated address that another
/// person already has gets a number appended.
fn unique_email(
    rng: &mut Rng,
    first: &str,
    last: &str,
    used: &mut std::collections::BTreeSet<String>,
) -> String {
    let mut e = email_for(rng, first, last);
    while used.contains(&e) {
        let (l, d) = e.split_once('@').unwrap_or((&e, "example.com"));
        e = format!("{l}{}@{d}", rng.below(10));
    }
    used.insert(e.clone());
    e
}

fn email_for(rng: &mut Rng, first: &str, last: &str) -> String {
    let (f, l) = (ascii_lower(first), ascii_lower(last));
    let local = match rng.below(5) {
        0 => format!("{f}.{l}"),
        1 => format!("{}{l}", &f[..1.min(f.len())]),
        2 => format!("{f}_{l}{}", rng.below(99)),
        3 => format!("{f}{}", 1950 + rng.below(60)),
        _ => format!("{l}.{f}"),
    };
    format!("{local}@{}", DOMAINS[rng.zipf(DOMAINS.len())])
}

fn phone_for(rng: &mut Rng, country: &str) -> String {
    match country {
        "US" => format!(
            "+1 {} {}-{:04}",
            [212, 415, 312, 617, 206, 303, 512][rng.below(7)],
            200 + rng.below(800),
            rng.below(10_000)
        ),
        "GB" => format!("+44 7{:03} {:06}", rng.below(1000), rng.below(1_000_000)),
        _ => format!(
            "+49 1{} {:07}",
            [51, 52, 60, 70, 76][rng.below(5)],
            rng.below(10_000_000)
        ),
    }
}

fn address_for(rng: &mut Rng, country: &'static str) -> (String, String, String) {
    let name = STREETS[rng.below(STREETS.len())];
    let no = 1 + rng.below(250);
    match country {
        "US" => (
            format!(
                "{no} {name} {}",
                ["Street", "Avenue", "Road", "Lane"][rng.below(4)]
            ),
            format!("{:05}", 10_000 + rng.below(89_999)),
            ["Springfield", "Riverside", "Fairview", "Madison"][rng.below(4)].to_owned(),
        ),
        "GB" => (
            format!(
                "{no} {name} {}",
                ["Road", "Street", "Close", "Lane"][rng.below(4)]
            ),
            format!(
                "{}{} {}{}",
                ["SW", "N", "M", "LS", "B"][rng.below(5)],
                1 + rng.below(20),
                rng.below(10),
                ["AB", "XY", "QT", "LN"][rng.below(4)]
            ),
            ["London", "Leeds", "Manchester", "Bristol"][rng.below(4)].to_owned(),
        ),
        _ => (
            format!("{name}straße {no}"),
            format!("{:05}", 10_000 + rng.below(89_999)),
            ["Berlin", "Köln", "Hamburg", "München"][rng.below(4)].to_owned(),
        ),
    }
}

fn person(rng: &mut Rng, style: Style, used: &mut std::collections::BTreeSet<String>) -> Person {
    let country = ["US", "GB", "DE"][rng.below(3)];
    let first = FIRST[rng.zipf(FIRST.len())].to_owned();
    let last = if rng.chance(0.35) {
        rare_last(rng)
    } else {
        LAST[rng.zipf(LAST.len())].to_owned()
    };
    let (street, postcode, city) = address_for(rng, country);
    let register = style == Style::Register;
    let has_addr = register || rng.chance(0.6);
    Person {
        email: (!register).then(|| unique_email(rng, &first, &last, used)),
        phone: (rng.chance(if register { 0.5 } else { 0.65 })).then(|| phone_for(rng, country)),
        street: has_addr.then_some(street),
        postcode: has_addr.then_some(postcode),
        city: has_addr.then_some(city),
        country,
        dob: (register || rng.chance(0.3)).then(|| {
            (
                1940 + rng.below(65) as u32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            )
        }),
        first,
        last,
    }
}

const KEYBOARD: &[&str] = &["qwertyuiop", "asdfghjkl", "zxcvbnm"];

fn neighbour_key(c: char, rng: &mut Rng) -> char {
    for row in KEYBOARD {
        if let Some(i) = row.find(c) {
            let b = row.as_bytes();
            let j = if i == 0 {
                1
            } else if i + 1 == b.len() || rng.chance(0.5) {
                i - 1
            } else {
                i + 1
            };
            return char::from(b[j]);
        }
    }
    c
}

/// One typo: keyboard substitution, deletion, insertion or adjacent transposition.
fn typo(s: &str, rng: &mut Rng) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 3 {
        return s.to_owned();
    }
    let i = 1 + rng.below(c.len() - 1);
    match rng.below(4) {
        0 => c[i] = neighbour_key(c[i].to_ascii_lowercase(), rng),
        1 => {
            c.remove(i);
        }
        2 => {
            let x = c[i - 1];
            c.insert(i, x);
        }
        _ if i + 1 < c.len() => c.swap(i, i + 1),
        _ => c.swap(i - 1, i),
    }
    c.into_iter().collect()
}

fn render_dob(d: (u32, u32, u32), rng: &mut Rng) -> String {
    let (y, m, dd) = d;
    match rng.below(6) {
        0 | 1 => format!("{y:04}-{m:02}-{dd:02}"),
        2 => format!("{dd:02}.{m:02}.{y:04}"),
        3 => format!("{y:04}{m:02}{dd:02}"),
        4 => format!("{dd:02}/{m:02}/{y:04}"),
        _ => format!("{y:04}/{m:02}/{dd:02}"),
    }
}

fn record(id: String, p: &Person, rng: &mut Rng, dup: bool) -> IdentityRecord {
    let mut r =
        IdentityRecord::new(id.clone()).with_source(["shop", "crm", "pos"][rng.below(3)], id);
    r.first_name = Some(p.first.clone());
    r.last_name = Some(p.last.clone());
    r.email.clone_from(&p.email);
    r.phone.clone_from(&p.phone);
    r.address1.clone_from(&p.street);
    r.postcode.clone_from(&p.postcode);
    r.city.clone_from(&p.city);
    r.country = Some(p.country.to_owned());
    r.birth_date = p.dob.map(|d| {
        if dup {
            render_dob(d, rng)
        } else {
            format!("{:04}-{:02}-{:02}", d.0, d.1, d.2)
        }
    });
    r
}

/// Applies 1-3 corruptions to a duplicate.
fn corrupt(
    r: &mut IdentityRecord,
    p: &Person,
    rng: &mut Rng,
    style: Style,
    used: &mut std::collections::BTreeSet<String>,
) {
    let heavy = style == Style::Register;
    let count = 1 + rng.below(if heavy { 4 } else { 3 });
    for _ in 0..count {
        match rng.below(15) {
            0 | 1 => r.first_name = r.first_name.as_deref().map(|s| typo(s, rng)),
            2 | 3 => r.last_name = r.last_name.as_deref().map(|s| typo(s, rng)),
            4 => std::mem::swap(&mut r.first_name, &mut r.last_name),
            5 => {
                if let Some((_, n)) = NICK.iter().find(|(f, _)| *f == p.first) {
                    r.first_name = Some((*n).to_owned());
                } else {
                    r.first_name = Some(p.first.chars().take(1).collect());
                }
            }
            6 if !heavy => r.email = Some(unique_email(rng, &p.first, &p.last, used)),
            6 => r.phone = None,
            7 => match rng.below(3) {
                0 => r.phone = None,
                1 => {
                    r.address1 = None;
                    r.postcode = None;
                }
                _ => r.birth_date = None,
            },
            8 if !heavy => r.email = None,
            8 => r.city = r.city.as_deref().map(|s| typo(s, rng)),
            9 => {
                if let Some((y, m, d)) = p.dob {
                    r.birth_date = Some(if m != d && d <= 12 && rng.chance(0.5) {
                        format!("{y:04}-{d:02}-{m:02}")
                    } else {
                        format!("{y:04}-{m:02}-{:02}", (d % 28) + 1)
                    });
                }
            }
            10 => r.address1 = r.address1.as_deref().map(|s| typo(s, rng)),
            11 => {
                r.address1 = r.address1.as_deref().map(|s| {
                    s.replace("Street", "St.")
                        .replace("Road", "Rd")
                        .replace("straße", "str.")
                        .replace("Avenue", "Ave")
                });
            }
            12 => {
                r.first_name = r.first_name.as_deref().map(str::to_uppercase);
                r.last_name = r.last_name.as_deref().map(ascii_lower);
            }
            13 => {
                if let (Some(ph), "US") = (&p.phone, p.country) {
                    let digits: String = ph.chars().filter(char::is_ascii_digit).collect();
                    r.phone = Some(format!(
                        "({}) {}-{}",
                        &digits[1..4],
                        &digits[4..7],
                        &digits[7..]
                    ));
                } else {
                    r.phone = r.phone.as_deref().map(|s| typo(s, rng));
                }
            }
            _ => r.postcode = None,
        }
    }
}

/// Labelled records: (records, person label per record). Deterministic in `seed`.
pub(crate) fn dataset(seed: u64, people: usize, style: Style) -> (Vec<IdentityRecord>, Vec<u32>) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut persons: Vec<Person> = Vec::with_capacity(people);
    let mut used = std::collections::BTreeSet::new();
    while persons.len() < people {
        let mut p = person(&mut rng, style, &mut used);
        if !persons.is_empty() && rng.chance(0.1) {
            // a housemate of an earlier person: same address, often same name and phone
            let h = persons[rng.below(persons.len())].clone();
            p.street.clone_from(&h.street);
            p.postcode.clone_from(&h.postcode);
            p.city.clone_from(&h.city);
            p.country = h.country;
            if rng.chance(0.8) {
                p.last.clone_from(&h.last);
            }
            if rng.chance(0.5) {
                p.phone.clone_from(&h.phone);
            }
            if rng.chance(0.15) {
                p.email.clone_from(&h.email);
            }
            if p.first == h.first {
                FIRST[(rng.below(FIRST.len() - 1) + 1) % FIRST.len()].clone_into(&mut p.first);
            }
        } else if !persons.is_empty() && rng.chance(0.02) {
            // a namesake: same full name, nothing else in common
            let h = &persons[rng.below(persons.len())];
            p.first.clone_from(&h.first);
            p.last.clone_from(&h.last);
            if p.email.is_some() {
                p.email = Some(unique_email(&mut rng, &p.first, &p.last, &mut used));
            }
        }
        persons.push(p);
    }
    let mut records = Vec::new();
    let mut labels = Vec::new();
    for (i, p) in persons.iter().enumerate() {
        records.push(record(format!("p{i}"), p, &mut rng, false));
        labels.push(i as u32);
        let dups = match style {
            Style::Commerce => [0, 0, 0, 0, 0, 1, 1, 1, 2, 3][rng.below(10)],
            Style::Register => [0, 0, 0, 0, 1, 1, 1, 2, 3, 5][rng.below(10)],
        };
        for d in 0..dups {
            let mut r = record(format!("p{i}-d{d}"), p, &mut rng, true);
            corrupt(&mut r, p, &mut rng, style, &mut used);
            records.push(r);
            labels.push(i as u32);
        }
    }
    // shuffle so that duplicates are not adjacent to their originals
    for i in (1..records.len()).rev() {
        let j = rng.below(i + 1);
        records.swap(i, j);
        labels.swap(i, j);
    }
    (records, labels)
}

/// Pairwise precision, recall and F1 of predicted cluster numbers against labels, and
/// the number of predicted clusters holding two or more people.
pub(crate) fn pairwise(truth: &[u32], predicted: &[u32]) -> (f64, f64, f64, usize) {
    use std::collections::BTreeMap;
    let mut cells: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    let mut t: BTreeMap<u32, u64> = BTreeMap::new();
    let mut p: BTreeMap<u32, u64> = BTreeMap::new();
    let mut people: BTreeMap<u32, std::collections::BTreeSet<u32>> = BTreeMap::new();
    for (&a, &b) in truth.iter().zip(predicted) {
        *cells.entry((a, b)).or_default() += 1;
        *t.entry(a).or_default() += 1;
        *p.entry(b).or_default() += 1;
        people.entry(b).or_default().insert(a);
    }
    let pairs = |n: u64| n * n.saturating_sub(1) / 2;
    let correct: u64 = cells.values().map(|&c| pairs(c)).sum();
    let tp: u64 = t.values().map(|&c| pairs(c)).sum();
    let pp: u64 = p.values().map(|&c| pairs(c)).sum();
    let precision = if pp == 0 {
        1.0
    } else {
        correct as f64 / pp as f64
    };
    let recall = if tp == 0 {
        1.0
    } else {
        correct as f64 / tp as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    let wrong = people.values().filter(|s| s.len() > 1).count();
    (precision, recall, f1, wrong)
}
