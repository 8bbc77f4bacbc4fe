//! Allocation-free string similarities for short ASCII strings (folded names, streets,
//! local parts), falling back to `strsim` for longer or non-ASCII text. Same results as
//! `strsim::jaro_winkler` and `strsim::osa_distance`.

const MAX: usize = 64;

/// Jaro-Winkler similarity (prefix scale 0.1, at most 4 prefix characters, boost above a
/// Jaro similarity of 0.7, as `strsim`).
pub(crate) fn jaro_winkler(x: &str, y: &str) -> f64 {
    if x == y {
        return 1.0;
    }
    let (a, b) = (x.as_bytes(), y.as_bytes());
    if !x.is_ascii() || !y.is_ascii() || a.len() > MAX || b.len() > MAX {
        return strsim::jaro_winkler(x, y);
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let jaro = jaro(a, b);
    if jaro <= 0.7 {
        return jaro;
    }
    let prefix = a.iter().zip(b).take(4).take_while(|(p, q)| p == q).count();
    #[allow(clippy::cast_precision_loss)]
    let p = prefix as f64;
    jaro + 0.1 * p * (1.0 - jaro)
}

#[allow(clippy::cast_precision_loss)]
fn jaro(a: &[u8], b: &[u8]) -> f64 {
    if a.len() == 1 && b.len() == 1 {
        return if a[0] == b[0] { 1.0 } else { 0.0 };
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_flag = [false; MAX];
    let mut b_flag = [false; MAX];
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_flag[j] && b[j] == ca {
                a_flag[i] = true;
                b_flag[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0;
    for (i, &ca) in a.iter().enumerate() {
        if a_flag[i] {
            while !b_flag[j] {
                j += 1;
            }
            if ca != b[j] {
                transpositions += 1;
            }
            j += 1;
        }
    }
    let m = matches as f64;
    let t = (transpositions / 2) as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - t) / m) / 3.0
}

/// Optimal-string-alignment distance (Damerau-Levenshtein without repeated edits of a
/// substring).
pub(crate) fn osa(x: &str, y: &str) -> usize {
    let (a, b) = (x.as_bytes(), y.as_bytes());
    if !x.is_ascii() || !y.is_ascii() || a.len() >= MAX || b.len() >= MAX {
        return strsim::osa_distance(x, y);
    }
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return n.max(m);
    }
    // three rolling rows
    let mut two = [0usize; MAX];
    let mut prev = [0usize; MAX];
    let mut cur = [0usize; MAX];
    for (j, v) in prev.iter_mut().enumerate().take(m + 1) {
        *v = j;
    }
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(two[j - 2] + 1);
            }
            cur[j] = v;
        }
        two[..=m].copy_from_slice(&prev[..=m]);
        prev[..=m].copy_from_slice(&cur[..=m]);
    }
    prev[m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_metrics_agree_with_strsim() {
        let words = [
            "",
            "a",
            "ab",
            "martha",
            "marhta",
            "dwayne",
            "duane",
            "dixon",
            "dicksonx",
            "jones",
            "johnson",
            "smith",
            "smyth",
            "catherine",
            "kathryn",
            "ca",
            "abc",
            "acb",
            "bca",
            "muller",
            "mueller",
            "jose",
            "josé",
            "van der berg",
            "vanderberg",
        ];
        for x in words {
            for y in words {
                let (f, s) = (jaro_winkler(x, y), strsim::jaro_winkler(x, y));
                assert!((f - s).abs() < 1e-12, "jw {x:?} {y:?}: {f} vs {s}");
                assert_eq!(osa(x, y), strsim::osa_distance(x, y), "osa {x:?} {y:?}");
            }
        }
    }
}
