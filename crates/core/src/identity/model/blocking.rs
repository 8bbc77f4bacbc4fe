//! Blocking for the model: the union of several keys plus sorted neighbourhoods on names.

use std::thread;

use super::super::blocking::{key, prefix};
use super::super::features::Features;
use super::compare::Side;
use super::extra::Extra;

pub(crate) use super::super::blocking::BlockKey;

fn dob_bytes(d: (u16, u8, u8)) -> [u8; 4] {
    let y = d.0.to_be_bytes();
    [y[0], y[1], d.1, d.2]
}

/// Appends the blocking keys of a record: external id; canonical email; email local part
/// (at least 3 characters); E.164 phone; last name + postcode; formal first name + birth
/// date; last name + birth date; birth date + postcode; the two NYSIIS name codes in sorted
/// order (so swapped names share it); postcode + house number.
pub(crate) fn keys(s: Side<'_>, out: &mut Vec<BlockKey>) {
    fn b(v: Option<&str>) -> Option<&[u8]> {
        v.map(str::as_bytes)
    }
    let key = key::<[u8]>;
    let (f, x) = (s.f, s.x);
    let first = f.first_canon.as_deref();
    let last = f.last.as_deref();
    let sort = prefix(last.or(first));
    if let Some(v) = b(f.ext.as_deref()) {
        out.push((key(1, &[v]), 0));
    }
    if let Some(v) = b(f.canon.as_deref()) {
        out.push((key(2, &[v]), prefix(first)));
    }
    if let Some(v) = b(x.local.as_deref())
        && v.len() >= 3
    {
        out.push((key(3, &[v]), sort));
    }
    if let Some(v) = b(f.phone.as_deref()) {
        out.push((key(4, &[v]), sort));
    }
    let pc = b(f.postcode.as_deref());
    if let (Some(l), Some(p)) = (b(last), pc) {
        out.push((key(5, &[l, p]), prefix(first)));
    }
    if let Some(d) = x.dob {
        let d = dob_bytes(d);
        if let Some(fi) = b(first) {
            out.push((key(6, &[fi, &d]), prefix(last)));
        }
        if let Some(l) = b(last) {
            out.push((key(7, &[l, &d]), prefix(first)));
        }
        if let Some(p) = pc {
            out.push((key(8, &[p, &d]), sort));
        }
    }
    if x.first_ph != 0 && x.last_ph != 0 {
        let (lo, hi) = (x.first_ph.min(x.last_ph), x.first_ph.max(x.last_ph));
        out.push((key(9, &[&lo.to_be_bytes(), &hi.to_be_bytes()]), sort));
    }
    if let (Some(p), Some(n)) = (pc, b(f.street_no.as_deref())) {
        out.push((key(10, &[p, n]), sort));
    }
}

/// Candidate pairs `(a, b)`, `a < b`, packed into a `u64`, sorted and distinct: every pair
/// sharing a key (blocks over `max_block` records compare each record with its `window`
/// neighbours in name order only), plus each record with its `neighbourhood` neighbours in
/// two sorted orders of the whole batch (last + first name, first + last name).
pub(crate) fn candidate_pairs(
    features: &[Features],
    extras: &[Extra],
    max_block: usize,
    window: usize,
    neighbourhood: usize,
) -> Vec<u64> {
    let mut entries: Vec<(BlockKey, u32)> = Vec::with_capacity(features.len() * 6);
    let mut buf = Vec::new();
    for (i, (f, x)) in features.iter().zip(extras).enumerate() {
        buf.clear();
        keys(Side { f, x }, &mut buf);
        #[allow(clippy::cast_possible_truncation)]
        entries.extend(buf.iter().map(|k| (*k, i as u32)));
    }
    entries.sort_unstable();
    let mut pairs = Vec::new();
    let push = |pairs: &mut Vec<u64>, x: u32, y: u32| {
        if x != y {
            let (a, b) = if x < y { (x, y) } else { (y, x) };
            pairs.push((u64::from(a) << 32) | u64::from(b));
        }
    };
    let mut start = 0;
    while start < entries.len() {
        let k = entries[start].0.0;
        let end = start + entries[start..].iter().take_while(|e| e.0.0 == k).count();
        let block = &entries[start..end];
        let reach = if block.len() <= max_block {
            block.len()
        } else {
            window + 1
        };
        for (i, x) in block.iter().enumerate() {
            for y in block.iter().skip(i + 1).take(reach - 1) {
                push(&mut pairs, x.1, y.1);
            }
        }
        start = end;
    }
    drop(entries);
    if neighbourhood > 0 {
        let (by_last, by_first) = thread::scope(|s| {
            let h = s.spawn(|| sorted_by(features, true));
            let by_first = sorted_by(features, false);
            (
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                by_first,
            )
        });
        for order in [by_last, by_first] {
            for (i, &x) in order.iter().enumerate() {
                for &y in order.iter().skip(i + 1).take(neighbourhood) {
                    push(&mut pairs, x, y);
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Records with a name, sorted by "last first" (or "first last"), ties by position.
fn sorted_by(features: &[Features], last_first: bool) -> Vec<u32> {
    let mut v: Vec<(String, u32)> = features
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let (a, b) = if last_first {
                (f.last.as_deref(), f.first.as_deref())
            } else {
                (f.first.as_deref(), f.last.as_deref())
            };
            let a = a?;
            #[allow(clippy::cast_possible_truncation)]
            Some((format!("{a} {}", b.unwrap_or("")), i as u32))
        })
        .collect();
    v.sort_unstable();
    v.into_iter().map(|(_, i)| i).collect()
}
