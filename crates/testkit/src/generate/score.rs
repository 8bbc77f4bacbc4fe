//! Pairwise cluster quality against ground truth.

use std::collections::HashMap;

/// Quality of a clustering against ground-truth labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterQuality {
    /// Records.
    pub records: usize,
    /// Ground-truth people.
    pub true_clusters: usize,
    /// Predicted clusters.
    pub predicted_clusters: usize,
    /// Record pairs that are the same person.
    pub true_pairs: u64,
    /// Record pairs put in one cluster.
    pub predicted_pairs: u64,
    /// Pairs both true and predicted.
    pub correct_pairs: u64,
    /// `correct / predicted` (1.0 when nothing was predicted).
    pub precision: f64,
    /// `correct / true` (1.0 when there is nothing to find).
    pub recall: f64,
    /// Predicted clusters holding records of two or more people.
    pub wrongly_merged_clusters: usize,
    /// `wrongly_merged_clusters / predicted_clusters`.
    pub wrong_merge_rate: f64,
    /// Predicted clusters with at least two records.
    pub multi_record_clusters: usize,
    /// `wrongly_merged_clusters / multi_record_clusters` (the stricter reading).
    pub wrong_merge_rate_multi: f64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

#[allow(clippy::cast_precision_loss)]
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Pairwise precision and recall and the wrongly-merged-cluster rate of `predicted` cluster
/// numbers against `truth` labels (same length, same record order).
///
/// # Panics
/// When the slices differ in length.
pub fn cluster_quality(truth: &[u32], predicted: &[u32]) -> ClusterQuality {
    assert_eq!(
        truth.len(),
        predicted.len(),
        "truth and predicted differ in length"
    );
    let mut cells: HashMap<(u32, u32), u64> = HashMap::new();
    let mut by_true: HashMap<u32, u64> = HashMap::new();
    let mut by_pred: HashMap<u32, u64> = HashMap::new();
    for (&t, &p) in truth.iter().zip(predicted) {
        *cells.entry((p, t)).or_default() += 1;
        *by_true.entry(t).or_default() += 1;
        *by_pred.entry(p).or_default() += 1;
    }
    let correct_pairs = cells.values().map(|&n| pairs(n)).sum();
    let true_pairs = by_true.values().map(|&n| pairs(n)).sum();
    let predicted_pairs = by_pred.values().map(|&n| pairs(n)).sum();
    let mut people_in: HashMap<u32, u32> = HashMap::new();
    for (p, _) in cells.keys() {
        *people_in.entry(*p).or_default() += 1;
    }
    let wrongly_merged_clusters = people_in.values().filter(|&&n| n > 1).count();
    let multi_record_clusters = by_pred.values().filter(|&&n| n > 1).count();
    ClusterQuality {
        records: truth.len(),
        true_clusters: by_true.len(),
        predicted_clusters: by_pred.len(),
        true_pairs,
        predicted_pairs,
        correct_pairs,
        precision: ratio(correct_pairs, predicted_pairs),
        recall: ratio(correct_pairs, true_pairs),
        wrongly_merged_clusters,
        wrong_merge_rate: ratio(wrongly_merged_clusters as u64, by_pred.len() as u64),
        multi_record_clusters,
        wrong_merge_rate_multi: ratio(wrongly_merged_clusters as u64, multi_record_clusters as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_counts_pairs_and_wrong_merges() {
        // truth: {0,1,2} {3}; predicted: {0,1} {2,3}
        let q = cluster_quality(&[7, 7, 7, 8], &[0, 0, 1, 1]);
        assert_eq!(
            (q.true_pairs, q.predicted_pairs, q.correct_pairs),
            (3, 2, 1)
        );
        assert!((q.precision - 0.5).abs() < 1e-12);
        assert!((q.recall - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(q.wrongly_merged_clusters, 1);
    }
}
