//! Text folding shared by names, companies and addresses.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for comparison: NFKD, diacritics removed, lower-cased, a few ligatures and
/// special letters expanded (`ß` -> `ss`, `æ` -> `ae`, `ø` -> `o`, `ł` -> `l`), every run of
/// non-alphanumeric characters turned into one space, trimmed.
///
/// ```
/// use cartograph_core::normalize::fold_text;
/// assert_eq!(fold_text("Straße 12-b"), "strasse 12 b");
/// assert_eq!(fold_text("O'Brien"), "o brien");
/// ```
pub fn fold_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        let mut push = |s: &str| {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push_str(s);
        };
        match c {
            'ß' | 'ẞ' => push("ss"),
            'æ' | 'Æ' => push("ae"),
            'œ' | 'Œ' => push("oe"),
            'ø' | 'Ø' => push("o"),
            'ł' | 'Ł' => push("l"),
            'đ' | 'Đ' | 'ð' | 'Ð' => push("d"),
            'þ' | 'Þ' => push("th"),
            'ı' => push("i"),
            c if c.is_alphanumeric() => {
                if c.is_ascii() {
                    let mut b = [0u8; 4];
                    push(c.to_ascii_lowercase().encode_utf8(&mut b));
                } else {
                    let lower: String = c.to_lowercase().collect();
                    push(&lower);
                }
            }
            _ => pending_space = true,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_text_removes_diacritics_and_punctuation() {
        assert_eq!(fold_text("Zoë  Ångström-Łukasz"), "zoe angstrom lukasz");
        assert_eq!(fold_text("ＦＵＬＬ width"), "full width");
        assert_eq!(fold_text("  ...  "), "");
        assert_eq!(fold_text("Ærøskøbing"), "aeroskobing");
    }
}
