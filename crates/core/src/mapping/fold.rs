//! Aggregations folded while a path is walked.
//!
//! `order.line_items[*].sku | distinct | join(", ")` would otherwise step every line into
//! a new list, deduplicate that list and join it. When an expression's first transforms
//! aggregate the list its path reaches (`count`, `sum`, `join`, `distinct | join`), the
//! elements go straight into the aggregate as the path reaches them. The results, errors
//! included, are the ones the list-building evaluation gives (the mapping tests compare the
//! two on every shape).

use std::borrow::Cow;

use cartograph_model::{Decimal, Money};

use super::compile::{Op, Step};
use super::error::FieldErrorReason as R;
use super::eval::{give_back, spare_string, step, text, type_err};
use super::schema::{Get, Slice, Value};

/// A running `sum`: numbers and money amounts, never both.
#[derive(Default)]
pub(crate) struct SumAcc {
    num: Option<Decimal>,
    money: Option<Money>,
}

impl SumAcc {
    pub(crate) fn push(&mut self, item: Value<'_>) -> Result<(), Box<R>> {
        match item {
            Value::Num(n) => {
                self.num = Some(match self.num {
                    // Same scale (quantities, amounts of one currency): add the mantissas.
                    // Below 2^96 the sum is exactly what `checked_add` gives.
                    Some(acc) if acc.scale() == n.scale() => {
                        let sum = acc.mantissa() + n.mantissa();
                        if sum.unsigned_abs() < 1 << 96 {
                            Decimal::from_i128_with_scale(sum, n.scale())
                        } else {
                            acc.checked_add(n).ok_or(R::Overflow)?
                        }
                    }
                    Some(acc) => acc.checked_add(n).ok_or(R::Overflow)?,
                    None => Decimal::ZERO.checked_add(n).ok_or(R::Overflow)?,
                });
            }
            Value::Money(m) => {
                self.money = Some(match self.money {
                    Some(acc) => acc.checked_add(&m).map_err(R::from)?,
                    None => m,
                });
            }
            other => return Err(type_err("number", &other)),
        }
        Ok(())
    }

    pub(crate) fn finish<'a>(self) -> Result<Value<'a>, Box<R>> {
        Ok(match (self.num, self.money) {
            (Some(_), Some(_)) => {
                return Err(Box::new(R::Type {
                    expected: "number".into(),
                    found: "money".into(),
                }));
            }
            (Some(n), None) => Value::Num(n),
            (None, Some(m)) => Value::Money(m),
            (None, None) => Value::Num(Decimal::ZERO),
        })
    }
}

/// Up to this many distinct strings are remembered inline; more spill to the heap.
const INLINE_SEEN: usize = 8;

/// A joined string: its hash and where it sits in the output.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    hash: u64,
    start: usize,
    end: usize,
}

fn str_hash(s: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(s)
}

/// A running `join`, optionally keeping only the first occurrence of each element.
struct JoinAcc<'a> {
    sep: &'a str,
    out: String,
    items: usize,
    distinct: bool,
    /// Hashes and byte ranges in `out` of the strings joined so far (for `distinct`).
    seen_inline: [Seen; INLINE_SEEN],
    seen_spill: Vec<Seen>,
    strings: usize,
    /// Joined elements that were not strings (for `distinct`; compared as values).
    others: Vec<Value<'a>>,
}

impl<'a> JoinAcc<'a> {
    fn new(sep: &'a str, distinct: bool) -> Self {
        Self {
            sep,
            out: spare_string(64),
            items: 0,
            distinct,
            seen_inline: [Seen::default(); INLINE_SEEN],
            seen_spill: Vec::new(),
            strings: 0,
            others: Vec::new(),
        }
    }

    fn seen(&self, i: usize) -> Seen {
        match self.seen_inline.get(i) {
            Some(&r) => r,
            None => self.seen_spill[i - INLINE_SEEN],
        }
    }

    fn seen_str(&self, s: &str, hash: u64) -> bool {
        (0..self.strings).any(|i| {
            let seen = self.seen(i);
            seen.hash == hash && self.out.get(seen.start..seen.end) == Some(s)
        })
    }

    fn remember(&mut self, seen: Seen) {
        match self.seen_inline.get_mut(self.strings) {
            Some(slot) => *slot = seen,
            None => self.seen_spill.push(seen),
        }
        self.strings += 1;
    }

    fn push(&mut self, item: Value<'a>) -> Result<(), Box<R>> {
        let mut hash = 0;
        if self.distinct {
            let dup = match &item {
                Value::Str(s) => {
                    hash = str_hash(s);
                    self.seen_str(s, hash)
                }
                other => self.others.contains(other),
            };
            if dup {
                return Ok(());
            }
        }
        if self.items > 0 {
            self.out.push_str(self.sep);
        }
        self.items += 1;
        let start = self.out.len();
        match &item {
            Value::Str(s) => {
                self.out.push_str(s);
                if self.distinct {
                    self.remember(Seen {
                        hash,
                        start,
                        end: self.out.len(),
                    });
                }
            }
            other => {
                let t = text(other).ok_or_else(|| type_err("string", other))?;
                self.out.push_str(&t);
                if self.distinct {
                    self.others.push(item);
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Value<'a> {
        if self.items == 0 {
            give_back(self.out);
            Value::Null
        } else {
            Value::Str(Cow::Owned(self.out))
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Tests turn folding off to compare with the list-building evaluation.
    pub(crate) static DISABLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether an expression starts with an aggregation [`path`] folds.
pub(crate) fn folds(ops: &[(Op, bool)]) -> bool {
    #[cfg(test)]
    if DISABLED.get() {
        return false;
    }
    matches!(
        ops,
        [(Op::Count | Op::Sum | Op::Join(_), false), ..]
            | [(Op::Distinct, false), (Op::Join(_), false), ..]
    )
}

/// An aggregation in progress (on the stack for one expression, so the large join
/// variant costs nothing).
#[allow(clippy::large_enum_variant)]
enum Fold<'a> {
    Count(u64),
    Sum(SumAcc),
    Join(JoinAcc<'a>),
}

impl<'a> Fold<'a> {
    /// The fold that the expression's first transforms describe, and how many it covers.
    fn start(ops: &'a [(Op, bool)]) -> Option<(Self, usize)> {
        match ops {
            [(Op::Count, false), ..] => Some((Self::Count(0), 1)),
            [(Op::Sum, false), ..] => Some((Self::Sum(SumAcc::default()), 1)),
            [(Op::Join(sep), false), ..] => Some((Self::Join(JoinAcc::new(sep, false)), 1)),
            [(Op::Distinct, false), (Op::Join(sep), false), ..] => {
                Some((Self::Join(JoinAcc::new(sep, true)), 2))
            }
            _ => None,
        }
    }

    fn push(&mut self, item: Value<'a>) -> Result<(), Box<R>> {
        match self {
            Self::Count(n) => {
                *n += 1;
                Ok(())
            }
            Self::Sum(acc) => acc.push(item),
            Self::Join(acc) => acc.push(item),
        }
    }

    fn finish(self) -> Result<Value<'a>, Box<R>> {
        match self {
            Self::Count(n) => Ok(Value::Num(Decimal::from(n))),
            Self::Sum(acc) => acc.finish(),
            Self::Join(acc) => Ok(acc.finish()),
        }
    }
}

/// Walks `rest` from `v`, handing every element of the resulting flattened list to `f`
/// (missing values dropped), as stepping a list and flattening it would produce them.
fn walk<'a>(
    v: Value<'a>,
    rest: &'a [Step],
    f: &mut impl FnMut(Value<'a>) -> Result<(), Box<R>>,
) -> Result<(), Box<R>> {
    let Some((s, tail)) = rest.split_first() else {
        return match v {
            Value::Null => Ok(()),
            Value::List(items) => items.into_iter().try_for_each(f),
            Value::Slice(items) => items.try_for_each(f),
            x => f(x),
        };
    };
    match v {
        Value::List(items) => items
            .into_iter()
            .try_for_each(|item| walk(step(item, s), tail, f)),
        Value::Slice(items) => items.try_for_each(|item| walk(step(item, s), tail, f)),
        x => walk(step(x, s), tail, f),
    }
}

/// Walks a path from its root value. When the path reaches a list and the first transforms
/// aggregate it, they are folded in on the way; returns the value and how many transforms
/// were applied.
pub(crate) fn path<'a>(
    mut v: Value<'a>,
    steps: &'a [Step],
    ops: &'a [(Op, bool)],
) -> Result<(Value<'a>, usize), Box<R>> {
    // An index picks from the whole list, so paths with one are walked the usual way.
    let foldable = !steps.iter().any(|s| matches!(s, Step::Index(_)));
    for (i, s) in steps.iter().enumerate() {
        if foldable && matches!(v, Value::List(_) | Value::Slice(_)) {
            return fold_from(v, &steps[i..], ops);
        }
        v = step(v, s);
    }
    if foldable && matches!(v, Value::List(_) | Value::Slice(_)) {
        return fold_from(v, &[], ops);
    }
    Ok((v, 0))
}

fn fold_from<'a>(
    v: Value<'a>,
    rest: &'a [Step],
    ops: &'a [(Op, bool)],
) -> Result<(Value<'a>, usize), Box<R>> {
    let Some((mut fold, used)) = Fold::start(ops) else {
        // No aggregation first: build the list as stepping does.
        let mut v = v;
        for s in rest {
            v = step(v, s);
        }
        return Ok((v, 0));
    };
    let mut push = |item| fold.push(item);
    match (v, rest) {
        // The usual shape, `order.line_items[*].field`: read each line's field directly.
        (Value::Slice(Slice::LineItems(lines)), [Step::Get(Get::LineItem(read))]) => {
            for line in lines {
                walk(read(line), &[], &mut push)?;
            }
        }
        (Value::Slice(Slice::Coupons(coupons)), [Step::Get(Get::Coupon(read))]) => {
            for coupon in coupons {
                walk(read(coupon), &[], &mut push)?;
            }
        }
        (v, rest) => walk(v, rest, &mut push)?,
    }
    Ok((fold.finish()?, used))
}
