//! String interner: stable small ids for customer, order, refund and category keys.

/// Keys live end to end in one text arena. The table is open addressing with linear
/// probing over 16-byte slots that hold the key's arena offset and length, its id and 32
/// bits of its hash: a lookup reads one slot and the key's bytes, nothing else, and growing
/// the table never rehashes strings.
///
/// Every key is compared in full on a hash match, so equal hashes of different keys only
/// cost a longer probe (tests keep 16 hash values to run through that path everywhere).
#[derive(Debug, Clone, Default)]
pub(super) struct Interner {
    slots: Vec<Slot>,
    len: usize,
    arena: String,
    /// Arena offset of each id's key.
    starts: Vec<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Arena offset of the key (high 48 bits) and its length (low 16 bits; [`LONG`] for a
    /// key of that length or more, whose end is the next key's start).
    at: u64,
    /// The key's id, `u32::MAX` for an empty slot.
    id: u32,
    /// 32 bits of the key's hash; also the probe start, so growing needs no key.
    tag: u32,
}

const EMPTY: Slot = Slot {
    at: 0,
    id: u32::MAX,
    tag: 0,
};

/// The length field of a long key.
const LONG: u64 = 0xFFFF;

fn key_tag(key: &str) -> u32 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    let h = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(key);
    // Spread every bit of the hash into the high half, which the tag keeps.
    let tag = (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32;
    // Tests keep 16 hash values only, so every engine test (the incremental == recompute
    // property included) runs through equal hashes of different keys too.
    if cfg!(test) { tag & 0xF } else { tag }
}

impl Interner {
    /// Whether `slot` holds `key`.
    fn holds(&self, slot: Slot, key: &str) -> bool {
        let Ok(start) = usize::try_from(slot.at >> 16) else {
            return false;
        };
        let len = if slot.at & LONG == LONG {
            self.end(slot.id) - start
        } else {
            (slot.at & LONG) as usize
        };
        len == key.len() && self.arena.as_bytes().get(start..start + len) == Some(key.as_bytes())
    }

    /// Where the key of `id` ends in the arena.
    fn end(&self, id: u32) -> usize {
        self.starts
            .get(id as usize + 1)
            .and_then(|s| usize::try_from(*s).ok())
            .unwrap_or(self.arena.len())
    }

    /// The slot holding `key`, else the empty slot where it would go.
    fn find(&self, key: &str, tag: u32) -> usize {
        self.find_hinted(key, tag, |_| {})
    }

    /// [`Interner::find`], calling `hint` with a candidate id before its key is compared.
    fn find_hinted(&self, key: &str, tag: u32, mut hint: impl FnMut(u32)) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = tag as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot.id == u32::MAX {
                return i;
            }
            if slot.tag == tag {
                hint(slot.id);
                if self.holds(slot, key) {
                    return i;
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the table (keeps the load at most one half).
    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; cap]);
        let mask = cap - 1;
        for slot in old.into_iter().filter(|s| s.id != u32::MAX) {
            let mut i = slot.tag as usize & mask;
            while self.slots[i].id != u32::MAX {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }

    /// The id of `key`, interning it if new.
    pub(super) fn id(&mut self, key: &str) -> u32 {
        self.id_hinted(key, |_| {})
    }

    /// [`Interner::id`], calling `hint` with a likely id (its hash matches) before the key
    /// is compared: the caller can start loading what it will read for that id, so both
    /// cache misses overlap. The id returned is exact; a hint may be wrong.
    pub(super) fn id_hinted(&mut self, key: &str, hint: impl FnMut(u32)) -> u32 {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let tag = key_tag(key);
        let i = self.find_hinted(key, tag, hint);
        if self.slots[i].id != u32::MAX {
            return self.slots[i].id;
        }
        let id = u32::try_from(self.starts.len()).unwrap_or(u32::MAX - 1);
        let start = self.arena.len() as u64;
        self.arena.push_str(key);
        self.starts.push(start);
        let at = (start << 16) | (key.len() as u64).min(LONG);
        self.slots[i] = Slot { at, id, tag };
        self.len += 1;
        id
    }

    /// The id of `key`, if interned.
    pub(super) fn get(&self, key: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let slot = self.slots[self.find(key, key_tag(key))];
        (slot.id != u32::MAX).then_some(slot.id)
    }

    /// The key of `id` (empty for an unknown id).
    pub(super) fn name(&self, id: u32) -> &str {
        self.starts
            .get(id as usize)
            .and_then(|s| usize::try_from(*s).ok())
            .and_then(|start| self.arena.get(start..self.end(id)))
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::Interner;

    #[test]
    fn interned_keys_keep_their_ids_and_names_through_growth() {
        let mut keys = Interner::default();
        let names: Vec<String> = (0..1000).map(|i| format!("shop/order/{i}")).collect();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(keys.id(name) as usize, i);
        }
        // A key that is a prefix of another, and the empty key, are keys of their own.
        let short = keys.id("shop/order/1");
        assert_eq!(short, 1);
        let empty = keys.id("");
        assert_eq!(empty, 1000);
        assert_eq!(keys.get("shop/order/"), None);
        for (i, name) in (0..).zip(&names) {
            assert_eq!(keys.get(name), Some(i));
            assert_eq!(keys.name(i), name);
        }
        assert_eq!(keys.name(1000), "");
        assert_eq!(keys.name(1001), "");
        assert_eq!(Interner::default().get("x"), None);
    }

    #[test]
    fn long_and_non_ascii_keys_are_keys_like_any_other() {
        let mut keys = Interner::default();
        // Around the 16-bit length kept in a slot, each a prefix of the next.
        let long: Vec<String> = [0xFFFE, 0xFFFF, 0x1_0000, 70_000]
            .iter()
            .map(|n| "é".repeat(n / 2) + &"x".repeat(n % 2))
            .collect();
        let ids: Vec<u32> = long.iter().map(|k| keys.id(k)).collect();
        let short = keys.id("clé/ø");
        assert_eq!(ids, [0, 1, 2, 3]);
        assert_eq!(short, 4);
        for (id, key) in ids.iter().zip(&long) {
            assert_eq!(keys.get(key), Some(*id));
            assert_eq!(keys.name(*id), key);
            assert_eq!(keys.id(key), *id);
        }
        assert_eq!(keys.get(&"é".repeat(0x8000 + 1)), None);
        assert_eq!(keys.name(short), "clé/ø");
    }
}
