//! Clustering over confident links with the chaining guards (on the shared union-find).

use super::super::batch::{Clusters, Union};
use super::super::features::Features;
use super::compare::{Side, first_names_compatible};
use super::extra::Extra;

/// Joins the clusters of `a` and `b` unless a guard refuses. `distinct_emails_ok`: the link
/// may put two different canonical emails into one cluster (an external-id override, or a
/// direct link between two records with emails above the distinct-email weight).
/// `names_ok`: the household guard is lifted (a direct link whose records agree on the
/// date of birth, see [`super::ModelConfig::birth_date_lifts_name_guard`]).
pub(crate) fn try_union(
    uf: &mut Clusters,
    (a, b): (u32, u32),
    distinct_emails_ok: bool,
    names_ok: bool,
    name_guard: f64,
    features: &[Features],
    extras: &[Extra],
) -> Union {
    let (ra, rb) = (uf.find(a), uf.find(b));
    if ra == rb {
        return Union::Same;
    }
    let (ra, rb) = (ra as usize, rb as usize);
    let (ea, eb) = (uf.emails(ra), uf.emails(rb));
    if !distinct_emails_ok && !ea.is_empty() && !eb.is_empty() {
        // refused when each side has an email the other lacks
        let new_b = eb.iter().any(|e| !ea.contains(e));
        let new_a = ea.iter().any(|e| !eb.contains(e));
        if new_a && new_b {
            return Union::EmailGuard;
        }
    }
    let side = |i: u32| Side {
        f: &features[i as usize],
        x: &extras[i as usize],
    };
    if !names_ok {
        for &x in uf.firsts(ra) {
            for &y in uf.firsts(rb) {
                if !first_names_compatible(side(x), side(y), name_guard) {
                    return Union::NameGuard;
                }
            }
        }
    }
    uf.join(ra, rb, features);
    Union::Merged
}
