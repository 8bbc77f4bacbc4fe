//! Clustering over confident links with the chaining guards.

use super::super::batch::email_hash;
use super::super::features::Features;
use super::compare::{Side, first_names_compatible};
use super::extra::Extra;

/// Why a link was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Union {
    Merged,
    Same,
    EmailGuard,
    NameGuard,
}

const MAX_NAMES: usize = 8;

/// Union-find whose roots remember their distinct canonical emails and first names.
pub(crate) struct Clusters {
    parent: Vec<u32>,
    size: Vec<u32>,
    emails: Vec<Vec<u64>>,
    firsts: Vec<Vec<u32>>,
}

impl Clusters {
    pub(crate) fn new(features: &[Features]) -> Self {
        let n = features.len();
        #[allow(clippy::cast_possible_truncation)]
        Self {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
            emails: features
                .iter()
                .map(|f| email_hash(f).into_iter().collect())
                .collect(),
            firsts: (0..n as u32)
                .map(|i| {
                    if features[i as usize].first.is_some() {
                        vec![i]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
        }
    }

    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Joins the clusters of `a` and `b` unless a guard refuses. `distinct_emails_ok`: the
    /// link may put two different canonical emails into one cluster (an external-id
    /// override, or a direct link between two records with emails above the distinct-email
    /// weight).
    pub(crate) fn try_union(
        &mut self,
        a: u32,
        b: u32,
        distinct_emails_ok: bool,
        name_guard: f64,
        features: &[Features],
        extras: &[Extra],
    ) -> Union {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Union::Same;
        }
        let (ra, rb) = (ra as usize, rb as usize);
        if !distinct_emails_ok && !self.emails[ra].is_empty() && !self.emails[rb].is_empty() {
            // refused when the union would hold an email one of the sides did not have
            let new_b = self.emails[rb]
                .iter()
                .filter(|e| !self.emails[ra].contains(e))
                .count();
            let new_a = self.emails[ra]
                .iter()
                .filter(|e| !self.emails[rb].contains(e))
                .count();
            if new_a > 0 && new_b > 0 {
                return Union::EmailGuard;
            }
        }
        let side = |i: u32| Side {
            f: &features[i as usize],
            x: &extras[i as usize],
        };
        for &x in &self.firsts[ra] {
            for &y in &self.firsts[rb] {
                if !first_names_compatible(side(x), side(y), name_guard) {
                    return Union::NameGuard;
                }
            }
        }
        let (big, small) = if self.size[ra] >= self.size[rb] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        #[allow(clippy::cast_possible_truncation)]
        {
            self.parent[small] = big as u32;
        }
        self.size[big] += self.size[small];
        let moved = std::mem::take(&mut self.emails[small]);
        for e in moved {
            if !self.emails[big].contains(&e) {
                self.emails[big].push(e);
            }
        }
        let moved = std::mem::take(&mut self.firsts[small]);
        for x in moved {
            let known = self.firsts[big]
                .iter()
                .any(|&y| features[y as usize].first == features[x as usize].first);
            if !known && self.firsts[big].len() < MAX_NAMES {
                self.firsts[big].push(x);
            }
        }
        Union::Merged
    }
}
