//! Category quantities: per order (to take an order's lines back out) and per customer
//! (the weights behind top categories).
//!
//! Quantities are exact decimals, but nearly all are small whole numbers: those are kept
//! as plain integers, so the common case needs neither a `Decimal` (16 bytes) nor its
//! arithmetic; anything else keeps its exact `Decimal`.

use std::cmp::Ordering;

use cartograph_model::Decimal;

/// A quantity or weight: a whole number below 2^31, or any other exact decimal.
#[derive(Debug, Clone, Copy)]
pub(super) enum Qty {
    Whole(u32),
    Exact(Decimal),
}

/// The largest whole quantity kept as an integer is `BIG - 1`.
const BIG: u32 = 1 << 31;

impl Qty {
    pub(super) fn new(d: Decimal) -> Self {
        if d.scale() == 0 && !d.is_sign_negative() {
            if let Ok(q) = u32::try_from(d.mantissa()) {
                if q < BIG {
                    return Self::Whole(q);
                }
            }
        }
        Self::Exact(d)
    }

    pub(super) fn decimal(self) -> Decimal {
        match self {
            Self::Whole(q) => Decimal::from(q),
            Self::Exact(d) => d,
        }
    }

    /// The sum of two quantities.
    pub(super) fn plus(self, other: Self) -> Self {
        match (self, other) {
            (Self::Whole(a), Self::Whole(b)) if a + b < BIG => Self::Whole(a + b),
            (a, b) => Self::Exact(a.decimal() + b.decimal()),
        }
    }

    fn is_positive(self) -> bool {
        match self {
            Self::Whole(q) => q > 0,
            Self::Exact(d) => d > Decimal::ZERO,
        }
    }

    /// Compares by value.
    pub(super) fn cmp_value(self, other: Self) -> Ordering {
        match (self, other) {
            (Self::Whole(a), Self::Whole(b)) => a.cmp(&b),
            (a, b) => a.decimal().cmp(&b.decimal()),
        }
    }
}

/// Category weights of one customer: whole ones inline, the rest (and whole ones past the
/// inline room) spilled as decimals. A category is in one place at most; zero weights are
/// dropped; order is irrelevant.
///
/// `repr(C)`: the inline weights fill one cache line of the customer's state.
#[derive(Debug, Clone, Default)]
#[repr(C)]
pub(super) struct Weights {
    whole: [(u32, u32); 8],
    /// Boxed: most customers never spill, and the box keeps their state small.
    #[allow(clippy::box_collection)]
    spill: Option<Box<Vec<(u32, Decimal)>>>,
    len: u8,
}

impl Weights {
    /// A value from the inline weights (to start loading them).
    pub(super) fn touch(&self) -> u32 {
        self.whole[0].0
    }

    /// Every positive weight.
    pub(super) fn positive(&self) -> impl Iterator<Item = (u32, Qty)> + '_ {
        self.whole[..usize::from(self.len)]
            .iter()
            .map(|(c, w)| (*c, Qty::Whole(*w)))
            .chain(
                self.spill
                    .iter()
                    .flat_map(|s| s.iter())
                    .map(|(c, w)| (*c, Qty::Exact(*w))),
            )
            .filter(|(_, w)| w.is_positive())
    }

    fn spill(&mut self) -> &mut Vec<(u32, Decimal)> {
        self.spill.get_or_insert_with(Box::default)
    }

    /// Adds (`add`) or subtracts `qty` from category `cat`.
    pub(super) fn change(&mut self, cat: u32, qty: Qty, add: bool) {
        let n = usize::from(self.len);
        if let Some(i) = self.whole[..n].iter().position(|(c, _)| *c == cat) {
            let w = self.whole[i].1;
            let whole = match qty {
                Qty::Whole(q) if add => w.checked_add(q).filter(|s| *s < BIG),
                Qty::Whole(q) => w.checked_sub(q),
                Qty::Exact(_) => None,
            };
            match whole {
                Some(0) => {
                    self.whole[i] = self.whole[n - 1];
                    self.len -= 1;
                }
                Some(s) => self.whole[i].1 = s,
                None => {
                    // No longer a small whole number: continue as a decimal.
                    self.whole[i] = self.whole[n - 1];
                    self.len -= 1;
                    let spill = self.spill();
                    spill.push((cat, Decimal::from(w)));
                    let last = spill.len() - 1;
                    self.change_spilled(last, qty, add);
                }
            }
        } else if let Some(i) = self
            .spill
            .as_ref()
            .and_then(|s| s.iter().position(|(c, _)| *c == cat))
        {
            self.change_spilled(i, qty, add);
        } else {
            match qty {
                Qty::Whole(q) if add && n < self.whole.len() => {
                    if q > 0 {
                        self.whole[n] = (cat, q);
                        self.len += 1;
                    }
                }
                _ => {
                    let d = qty.decimal();
                    let w = if add { d } else { -d };
                    if !w.is_zero() {
                        self.spill().push((cat, w));
                    }
                }
            }
        }
    }

    fn change_spilled(&mut self, i: usize, qty: Qty, add: bool) {
        let spill = self.spill();
        let w = &mut spill[i].1;
        if add {
            *w += qty.decimal();
        } else {
            *w -= qty.decimal();
        }
        if w.is_zero() {
            spill.swap_remove(i);
        }
    }
}

/// Category quantities of every stored order, end to end. A replaced order reuses its
/// range when the new one fits, else appends and leaves the old range as garbage, which
/// is compacted away once it outweighs the live entries.
///
/// A [`Qty::Whole`] quantity (nearly all) is stored in the entry itself; any other goes to
/// `big`, and the entry holds its index with the top bit set (so at most 2^31 such
/// quantities can be live at once, far past any memory).
#[derive(Debug, Clone, Default)]
pub(super) struct CategoryArena {
    items: Vec<CatQty>,
    big: Vec<Decimal>,
    garbage: usize,
    big_garbage: usize,
}

#[derive(Debug, Clone, Copy)]
struct CatQty {
    cat: u32,
    qty: u32,
}

impl CategoryArena {
    fn encode(&mut self, qty: Qty) -> u32 {
        match qty {
            Qty::Whole(q) => q,
            Qty::Exact(d) => {
                // The top bit marks an index into `big`.
                let i = u32::try_from(self.big.len()).unwrap_or(u32::MAX);
                self.big.push(d);
                BIG | (i & !BIG)
            }
        }
    }

    fn decode(&self, qty: u32) -> Qty {
        if qty & BIG == 0 {
            Qty::Whole(qty)
        } else {
            Qty::Exact(
                self.big
                    .get((qty & !BIG) as usize)
                    .copied()
                    .unwrap_or_default(),
            )
        }
    }

    /// Stores `cats` in place of the range `(start, len)`; returns the new range.
    pub(super) fn replace(&mut self, start: u32, len: u32, cats: &[(u32, Qty)]) -> (u32, u32) {
        let s = start as usize;
        let old = s..s + len as usize;
        self.big_garbage += self.items[old.clone()]
            .iter()
            .filter(|e| e.qty & BIG != 0)
            .count();
        let new_len = u32::try_from(cats.len()).unwrap_or(u32::MAX);
        let at = if cats.len() <= old.len() {
            self.garbage += old.len() - cats.len();
            s
        } else {
            self.garbage += old.len();
            self.items.len()
        };
        for (i, (cat, qty)) in cats.iter().enumerate() {
            let e = CatQty {
                cat: *cat,
                qty: self.encode(*qty),
            };
            match self.items.get_mut(at + i) {
                Some(slot) => *slot = e,
                None => self.items.push(e),
            }
        }
        (u32::try_from(at).unwrap_or(u32::MAX), new_len)
    }

    /// The categories and quantities of the range `(start, len)`.
    pub(super) fn get(&self, start: u32, len: u32) -> impl Iterator<Item = (u32, Qty)> + '_ {
        let s = start as usize;
        self.items
            .get(s..s + len as usize)
            .unwrap_or(&[])
            .iter()
            .map(|e| (e.cat, self.decode(e.qty)))
    }

    /// Whether the dead entries outweigh the live ones.
    pub(super) fn needs_compaction(&self) -> bool {
        let floor = if cfg!(test) { 4 } else { 1024 };
        (self.garbage > floor && self.garbage * 2 > self.items.len())
            || (self.big_garbage > floor && self.big_garbage * 2 > self.big.len())
    }

    /// Rewrites the arena with only the given live ranges, moving their starts.
    pub(super) fn compact<'a>(&mut self, ranges: impl Iterator<Item = (&'a mut u32, u32)>) {
        let old = std::mem::take(&mut self.items);
        let old_big = std::mem::take(&mut self.big);
        self.items.reserve(old.len() - self.garbage);
        for (start, len) in ranges {
            let s = *start as usize;
            *start = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
            for e in old.get(s..s + len as usize).unwrap_or(&[]) {
                let qty = if e.qty & BIG == 0 {
                    e.qty
                } else {
                    let q = old_big.get((e.qty & !BIG) as usize).copied();
                    self.encode(Qty::Exact(q.unwrap_or_default()))
                };
                self.items.push(CatQty { cat: e.cat, qty });
            }
        }
        self.garbage = 0;
        self.big_garbage = 0;
    }
}
