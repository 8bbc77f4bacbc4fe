//! Term-frequency tables: how many records hold each value of a field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Counts of one field's values. Values held by one record are not stored (their count is
/// 1); `total` is the number of records with the field set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TermTable {
    /// Records with the field set.
    pub total: u32,
    /// Values held by at least two records, with their counts.
    pub counts: BTreeMap<String, u32>,
}

impl TermTable {
    /// The table of the values in `values`.
    pub(crate) fn build<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Self {
        let counts = super::extra::count(values);
        #[allow(clippy::cast_possible_truncation)]
        let total = counts.values().map(|c| u64::from(*c)).sum::<u64>() as u32;
        let counts = counts
            .into_iter()
            .filter(|(_, c)| *c >= 2)
            .map(|(k, c)| (k.to_owned(), c))
            .collect();
        Self { total, counts }
    }

    /// How many records hold `value` (1 when unknown: the record itself).
    pub fn count(&self, value: Option<&str>) -> u32 {
        value.map_or(0, |v| self.counts.get(v).copied().unwrap_or(1))
    }

    /// The share of records holding `value`, at least `1 / total`.
    #[allow(clippy::cast_possible_truncation)]
    pub fn frequency(&self, value: Option<&str>) -> f32 {
        let total = f64::from(self.total.max(1));
        (f64::from(self.count(value).max(1)) / total) as f32
    }

    /// The share of records holding `value` beyond the first two (0 for values held by at
    /// most two records).
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    pub fn excess(&self, value: Option<&str>) -> f32 {
        let extra = self.count(value).saturating_sub(2);
        (f64::from(extra) / f64::from(self.total.max(1))) as f32
    }

    /// The probability that two random records share a value: the sum of squared shares.
    pub(crate) fn collision(&self) -> f64 {
        let total = f64::from(self.total.max(1));
        let held: f64 = self.counts.values().map(|c| f64::from(*c)).sum();
        let singles = (total - held).max(0.0);
        (self
            .counts
            .values()
            .map(|c| f64::from(*c).powi(2))
            .sum::<f64>()
            + singles)
            / (total * total)
    }
}

/// The term-frequency tables of a trained model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TermFrequencies {
    /// Folded first names.
    pub first: TermTable,
    /// Folded last names.
    pub last: TermTable,
    /// Normalized postcodes.
    pub postcode: TermTable,
    /// E.164 phones.
    pub phone: TermTable,
    /// Canonical email local parts.
    pub local: TermTable,
}
