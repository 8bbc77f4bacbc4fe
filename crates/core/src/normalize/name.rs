//! Person and company names.

use super::text::fold_text;

/// Titles and honorifics dropped from person names.
const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "herr", "frau", "mme", "mlle", "m", "sr",
    "sra", "jr", "ii", "iii",
];

/// Nickname -> formal first name (folded). Common English, plus a few German, French,
/// Spanish and Italian short forms.
const NICKNAMES: &[(&str, &str)] = &[
    ("abby", "abigail"),
    ("al", "albert"),
    ("alex", "alexander"),
    ("andy", "andrew"),
    ("drew", "andrew"),
    ("tony", "anthony"),
    ("barb", "barbara"),
    ("ben", "benjamin"),
    ("benny", "benjamin"),
    ("bert", "albert"),
    ("beth", "elizabeth"),
    ("betty", "elizabeth"),
    ("liz", "elizabeth"),
    ("lizzie", "elizabeth"),
    ("eliza", "elizabeth"),
    ("bill", "william"),
    ("billy", "william"),
    ("will", "william"),
    ("willy", "william"),
    ("liam", "william"),
    ("bob", "robert"),
    ("bobby", "robert"),
    ("rob", "robert"),
    ("robbie", "robert"),
    ("bert", "robert"),
    ("cathy", "catherine"),
    ("kathy", "catherine"),
    ("katherine", "catherine"),
    ("kate", "catherine"),
    ("katie", "catherine"),
    ("kat", "catherine"),
    ("chris", "christopher"),
    ("chuck", "charles"),
    ("charlie", "charles"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("dave", "david"),
    ("davy", "david"),
    ("deb", "deborah"),
    ("debbie", "deborah"),
    ("dick", "richard"),
    ("rick", "richard"),
    ("ricky", "richard"),
    ("rich", "richard"),
    ("don", "donald"),
    ("doug", "douglas"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("ted", "edward"),
    ("ned", "edward"),
    ("fred", "frederick"),
    ("freddie", "frederick"),
    ("gabe", "gabriel"),
    ("greg", "gregory"),
    ("hank", "henry"),
    ("harry", "henry"),
    ("jack", "john"),
    ("johnny", "john"),
    ("jon", "jonathan"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("jamie", "james"),
    ("jen", "jennifer"),
    ("jenny", "jennifer"),
    ("jeff", "jeffrey"),
    ("jerry", "gerald"),
    ("joe", "joseph"),
    ("joey", "joseph"),
    ("josh", "joshua"),
    ("judy", "judith"),
    ("ken", "kenneth"),
    ("kenny", "kenneth"),
    ("larry", "lawrence"),
    ("len", "leonard"),
    ("leo", "leonard"),
    ("maggie", "margaret"),
    ("meg", "margaret"),
    ("peggy", "margaret"),
    ("marge", "margaret"),
    ("matt", "matthew"),
    ("mike", "michael"),
    ("mikey", "michael"),
    ("mick", "michael"),
    ("nate", "nathan"),
    ("nick", "nicholas"),
    ("nicky", "nicholas"),
    ("pam", "pamela"),
    ("pat", "patricia"),
    ("patty", "patricia"),
    ("trish", "patricia"),
    ("pete", "peter"),
    ("phil", "philip"),
    ("phillip", "philip"),
    ("ron", "ronald"),
    ("ronnie", "ronald"),
    ("sam", "samuel"),
    ("sammy", "samuel"),
    ("sandy", "sandra"),
    ("steve", "stephen"),
    ("steven", "stephen"),
    ("stevie", "stephen"),
    ("sue", "susan"),
    ("susie", "susan"),
    ("suzy", "susan"),
    ("tim", "timothy"),
    ("timmy", "timothy"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("val", "valerie"),
    ("vicky", "victoria"),
    ("vic", "victor"),
    ("walt", "walter"),
    ("zach", "zachary"),
    ("zack", "zachary"),
    ("becky", "rebecca"),
    ("becca", "rebecca"),
    ("cindy", "cynthia"),
    ("jess", "jessica"),
    ("jessie", "jessica"),
    ("mandy", "amanda"),
    ("mandi", "amanda"),
    ("manda", "amanda"),
    ("nancy", "ann"),
    ("annie", "ann"),
    ("anne", "ann"),
    ("anna", "ann"),
    ("molly", "mary"),
    ("polly", "mary"),
    ("sally", "sarah"),
    ("sara", "sarah"),
    ("tina", "christina"),
    ("chrissy", "christina"),
    ("kim", "kimberly"),
    ("toni", "antonia"),
    ("hans", "johannes"),
    ("jo", "johanna"),
    ("sepp", "josef"),
    ("joseph", "josef"),
    ("franz", "franziskus"),
    ("fritz", "friedrich"),
    ("uli", "ulrich"),
    ("steffi", "stefanie"),
    ("pepe", "jose"),
    ("paco", "francisco"),
    ("pancho", "francisco"),
    ("lupe", "guadalupe"),
    ("beppe", "giuseppe"),
    ("gigi", "luigi"),
    ("jojo", "johanna"),
];

/// Folds a person name: [`fold_text`] plus titles and honorifics dropped.
///
/// ```
/// use cartograph_core::normalize::normalize_person_name;
/// assert_eq!(normalize_person_name("Dr. José  Müller"), "jose muller");
/// ```
pub fn normalize_person_name(raw: &str) -> String {
    let folded = fold_text(raw);
    let kept: Vec<&str> = folded.split(' ').filter(|t| !TITLES.contains(t)).collect();
    if kept.is_empty() {
        folded
    } else {
        kept.join(" ")
    }
}

/// The formal form of a folded first name (`bob` -> `robert`, `liz` -> `elizabeth`); the name
/// itself when it is not a known nickname. Only the first token is looked up.
///
/// ```
/// use cartograph_core::normalize::canonical_first_name;
/// assert_eq!(canonical_first_name("bob"), "robert");
/// assert_eq!(canonical_first_name("robert"), "robert");
/// assert_eq!(canonical_first_name("zelda"), "zelda");
/// ```
pub fn canonical_first_name(folded: &str) -> &str {
    let first = folded.split(' ').next().unwrap_or(folded);
    NICKNAMES
        .iter()
        .find(|(nick, _)| *nick == first)
        .map_or(first, |(_, formal)| formal)
}

/// Legal-form suffixes dropped from company names (folded forms).
const LEGAL_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "ug",
    "ohg",
    "ev",
    "mbh",
    "sa",
    "sas",
    "sarl",
    "sl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "pty",
    "pte",
    "kk",
    "sro",
    "doo",
    "the",
];

/// Folds a company name and drops legal-form suffixes (`Acme, Inc.` -> `acme`; `Müller GmbH
/// & Co. KG` -> `muller`).
///
/// ```
/// use cartograph_core::normalize::normalize_company;
/// assert_eq!(normalize_company("ACME, Inc."), "acme");
/// assert_eq!(normalize_company("Müller GmbH & Co. KG"), "muller");
/// ```
pub fn normalize_company(raw: &str) -> String {
    let folded = fold_text(raw);
    let mut tokens: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
    while tokens.len() > 1 {
        match tokens.last() {
            Some(t) if LEGAL_SUFFIXES.contains(t) || *t == "and" => {
                tokens.pop();
            }
            _ => break,
        }
    }
    if tokens.first() == Some(&"the") && tokens.len() > 1 {
        tokens.remove(0);
    }
    tokens.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_map_to_the_same_formal_name() {
        for (a, b) in [
            ("bob", "robert"),
            ("liz", "elizabeth"),
            ("bill", "william"),
            ("jim", "james"),
        ] {
            assert_eq!(canonical_first_name(a), canonical_first_name(b));
        }
        assert_ne!(canonical_first_name("jane"), canonical_first_name("john"));
    }

    #[test]
    fn titles_are_dropped_but_a_lone_title_stays() {
        assert_eq!(normalize_person_name("Mrs. Ann O'Neil"), "ann o neil");
        assert_eq!(normalize_person_name("Dr"), "dr");
    }

    #[test]
    fn company_suffixes_are_dropped() {
        assert_eq!(normalize_company("The Widget Company, Ltd."), "widget");
        assert_eq!(normalize_company("Co"), "co");
    }
}
