//! NYSIIS phonetic codes (New York State Identification and Intelligence System, 1970), the
//! phonetic key the model compares names on.

fn vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// The NYSIIS code of a folded name (ASCII letters are used, everything else is skipped),
/// at most eight letters, packed big-endian into a `u64`; 0 when the name has no letters.
/// Word boundaries are ignored (`van der berg` is coded like `vanderberg`).
pub(crate) fn nysiis(name: &str) -> u64 {
    let mut s: Vec<u8> = name
        .bytes()
        .filter(u8::is_ascii_alphabetic)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if s.is_empty() {
        return 0;
    }
    // leading groups
    for (from, to) in [
        (&b"mac"[..], &b"mcc"[..]),
        (b"kn", b"nn"),
        (b"k", b"c"),
        (b"ph", b"ff"),
        (b"pf", b"ff"),
        (b"sch", b"sss"),
    ] {
        if s.starts_with(from) {
            s[..from.len()].copy_from_slice(to);
            break;
        }
    }
    // trailing groups
    let n = s.len();
    if n >= 2 {
        let tail = [s[n - 2], s[n - 1]];
        match &tail {
            b"ee" | b"ie" => {
                s.truncate(n - 2);
                s.push(b'y');
            }
            b"dt" | b"rt" | b"rd" | b"nt" | b"nd" => {
                s.truncate(n - 2);
                s.push(b'd');
            }
            _ => {}
        }
    }
    let mut key: Vec<u8> = vec![s[0]];
    let mut i = 1;
    // the previous character as transformed (the rules rewrite the name in place)
    let mut prev = s[0];
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        let emit: &[u8];
        let mut one = [0u8; 1];
        let mut skip = 1;
        if c == b'e' && next == Some(b'v') {
            emit = b"af";
            skip = 2;
        } else if vowel(c) || c == b'y' {
            // a `y` inside a name is coded as a vowel (Smith = Smyth), a small departure
            // from the 1970 rules
            emit = b"a";
        } else if c == b'q' {
            emit = b"g";
        } else if c == b'z' {
            emit = b"s";
        } else if c == b'm' {
            emit = b"n";
        } else if c == b'k' {
            emit = if next == Some(b'n') { b"n" } else { b"c" };
        } else if c == b's' && next == Some(b'c') && s.get(i + 2) == Some(&b'h') {
            emit = b"sss";
            skip = 3;
        } else if c == b'p' && next == Some(b'h') {
            emit = b"ff";
            skip = 2;
        } else if (c == b'h' && (!vowel(prev) || next.is_some_and(|x| !vowel(x))))
            || (c == b'w' && vowel(prev))
        {
            one[0] = prev;
            emit = &one;
        } else {
            one[0] = c;
            emit = &one;
        }
        for &e in emit {
            if key.last() != Some(&e) {
                key.push(e);
            }
        }
        if let Some(&e) = emit.last() {
            prev = e;
        }
        i += skip;
    }
    if key.len() > 1 && key.last() == Some(&b's') {
        key.pop();
    }
    if key.len() > 2 && key.ends_with(b"ay") {
        key.truncate(key.len() - 2);
        key.push(b'y');
    }
    if key.len() > 1 && key.last() == Some(&b'a') {
        key.pop();
    }
    key.iter()
        .take(8)
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        << (8 * (8 - key.len().min(8)))
}

#[cfg(test)]
mod tests {
    use super::nysiis;

    fn text(code: u64) -> String {
        code.to_be_bytes()
            .iter()
            .filter(|b| **b != 0)
            .map(|b| char::from(*b))
            .collect()
    }

    #[test]
    fn nysiis_codes_sound_alike_names_alike() {
        assert_eq!(nysiis("smith"), nysiis("smyth"));
        assert_eq!(nysiis("schmidt"), nysiis("schmid"));
        assert_eq!(nysiis("catherine"), nysiis("katherine"));
        assert_eq!(text(nysiis("meyer")), text(nysiis("maier")));
        assert_ne!(nysiis("smith"), nysiis("jones"));
        assert_eq!(text(nysiis("johnson")), "jansan");
        assert_eq!(text(nysiis("knight")), "nagt");
    }

    #[test]
    fn nysiis_of_blank_or_symbols_is_zero() {
        assert_eq!(nysiis(""), 0);
        assert_eq!(nysiis("  -- 12"), 0);
        assert_ne!(nysiis("a"), 0);
    }
}
