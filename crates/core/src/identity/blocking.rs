//! Blocking keys: records are only compared with records sharing at least one key.

use std::hash::{Hash, Hasher};

use rustc_hash::FxHasher;

use super::features::Features;

/// One blocking key of a record: (key hash, sort value inside the block).
pub(crate) type BlockKey = (u64, u32);

/// The hash of a tagged key made of `parts` (FxHash: no random state).
pub(crate) fn key<T: Hash + ?Sized>(tag: u8, parts: &[&T]) -> u64 {
    let mut h = FxHasher::default();
    tag.hash(&mut h);
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

/// The first four bytes of a string as a big-endian number: sorts like the string's prefix.
pub(crate) fn prefix(s: Option<&str>) -> u32 {
    let mut b = [0u8; 4];
    if let Some(s) = s {
        for (d, c) in b.iter_mut().zip(s.bytes()) {
            *d = c;
        }
    }
    u32::from_be_bytes(b)
}

/// Appends the blocking keys of `f`: external id, canonical email, E.164 phone, formal first
/// name + postcode, last name + postcode, last name + birth date, formal first name + birth
/// date.
pub(crate) fn keys(f: &Features, out: &mut Vec<BlockKey>) {
    let first = f.first_canon.as_deref();
    let last = f.last.as_deref();
    if let Some(x) = f.ext.as_deref() {
        out.push((key(1, &[x]), 0));
    }
    if let Some(x) = f.canon.as_deref() {
        out.push((key(2, &[x]), prefix(first)));
    }
    if let Some(x) = f.phone.as_deref() {
        out.push((key(3, &[x]), prefix(last)));
    }
    if let Some(pc) = f.postcode.as_deref() {
        if let Some(fi) = first {
            out.push((key(4, &[fi, pc]), prefix(last)));
        }
        if let Some(la) = last {
            out.push((key(5, &[la, pc]), prefix(first)));
        }
    }
    if let Some(bd) = f.birth.as_deref() {
        if let Some(la) = last {
            out.push((key(6, &[la, bd]), prefix(first)));
        }
        if let Some(fi) = first {
            out.push((key(7, &[fi, bd]), prefix(last)));
        }
    }
}
