//! Parameter estimation: u from random pairs, m (and the match share) by expectation
//! maximisation over the blocked pairs.
#![allow(clippy::many_single_char_names, clippy::cast_precision_loss)]

use std::thread;

use super::super::features::Features;
use super::compare::{self, Compared, EMAIL, FIRST, LAST, MAX_LEVELS, N, PHONE, SPECS, Side};
use super::extra::Extra;
use super::tf::TermFrequencies;

pub(crate) type Table = [[f64; MAX_LEVELS]; N];

/// SplitMix64: a small, seeded, portable generator (the sampled pairs are the same on every
/// platform and release).
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce5_e4b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for our sizes).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        #[allow(clippy::cast_possible_truncation)]
        {
            ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
        }
    }
}

/// Smallest m of an `else` level: at least 1 % of true matches may disagree on any one
/// field (moved house, new phone, a wrong date), whatever the training data shows, so that
/// no single disagreement can veto a match on its own.
pub(crate) const ELSE_M_FLOOR: f64 = 0.01;
/// Smallest m of any other level.
pub(crate) const M_FLOOR: f64 = 1e-4;

/// Number of non-null levels of comparison `k`.
pub(crate) fn levels(k: usize) -> usize {
    SPECS[k].1.len()
}

/// The starting m of comparison `k`: most matches agree exactly, a few fuzzily, few
/// disagree. Also the Dirichlet prior EM shrinks towards.
pub(crate) fn prior_m(k: usize) -> [f64; MAX_LEVELS] {
    let l = levels(k);
    let mut m = [0.0; MAX_LEVELS];
    m[1] = 0.7;
    m[l] = 0.05;
    for v in m.iter_mut().take(l).skip(2) {
        #[allow(clippy::cast_precision_loss)]
        {
            *v = 0.25 / (l - 2) as f64;
        }
    }
    m
}

/// u estimated on sampled pairs, with the share of pairs where each comparison is not null.
pub(crate) struct UEstimate {
    pub u: Table,
    pub non_null: [f64; N],
    pub pairs: u64,
}

/// Compares `samples` random distinct pairs (all pairs when there are fewer), seeded.
pub(crate) fn estimate_u(
    features: &[Features],
    extras: &[Extra],
    tf: &TermFrequencies,
    samples: usize,
    seed: u64,
    u_min: f64,
) -> UEstimate {
    let n = features.len() as u64;
    let total = n * n.saturating_sub(1) / 2;
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    if total <= samples as u64 {
        for a in 0..n {
            for b in a + 1..n {
                #[allow(clippy::cast_possible_truncation)]
                pairs.push((a as u32, b as u32));
            }
        }
    } else {
        let mut rng = SplitMix::new(seed);
        pairs.reserve(samples);
        while pairs.len() < samples {
            let a = rng.below(n);
            let b = rng.below(n);
            if a != b {
                #[allow(clippy::cast_possible_truncation)]
                pairs.push((a as u32, b as u32));
            }
        }
    }
    let count = |chunk: &[(u32, u32)]| {
        let mut c = [[0u64; MAX_LEVELS]; N];
        for &(a, b) in chunk {
            let side = |i: u32| Side {
                f: &features[i as usize],
                x: &extras[i as usize],
            };
            let cmp = compare::compare(side(a), side(b));
            for k in 0..N {
                c[k][cmp.levels[k] as usize] += 1;
            }
        }
        c
    };
    let mid = pairs.len() / 2;
    let (c1, c2) = thread::scope(|s| {
        let h = s.spawn(|| count(&pairs[mid..]));
        let c1 = count(&pairs[..mid]);
        (
            c1,
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    let mut u = [[0.0; MAX_LEVELS]; N];
    let mut non_null = [0.0; N];
    #[allow(clippy::cast_precision_loss)]
    for k in 0..N {
        let l = levels(k);
        let nn: u64 = (1..=l).map(|i| c1[k][i] + c2[k][i]).sum();
        non_null[k] = if pairs.is_empty() {
            0.0
        } else {
            nn as f64 / pairs.len() as f64
        };
        for i in 1..=l {
            let c = (c1[k][i] + c2[k][i]) as f64;
            u[k][i] = ((c + 0.5) / (nn as f64 + 0.5 * l as f64)).max(u_min);
        }
    }
    // exact-name collisions are known exactly from the term frequencies
    u[FIRST][1] = tf.first.collision().max(u_min);
    u[LAST][1] = tf.last.collision().max(u_min);
    UEstimate {
        u,
        non_null,
        pairs: pairs.len() as u64,
    }
}

/// The result of EM.
pub(crate) struct Fit {
    pub m: Table,
    pub u: Table,
    pub lambda: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// Settings of EM.
pub(crate) struct EmSettings {
    pub max_iterations: usize,
    pub tolerance: f64,
    pub prior_strength: f64,
    pub u_min: f64,
    pub total_pairs: f64,
    /// Constrain every comparison's m so that its first (closest) level is the most likely
    /// one among true matches (see [`exact_is_mode`]).
    pub exact_mode: bool,
}

/// Projects one comparison's m onto "the first level is the mode": among true matches
/// whose two values are both present, agreeing exactly is at least as likely as agreeing at
/// any looser level or disagreeing. This is the maximum-likelihood projection under that
/// order (the first level is pooled with the levels above it, each pooled level taking the
/// group's mean; the total stays 1).
///
/// Without it EM over blocked pairs can settle on a second latent class that also explains
/// the data well: namesakes whose addresses were derived from their names (similar email
/// local parts, different phones, birth dates and addresses) fitted as "the matches", with
/// most of the match class's email mass on a fuzzy level. Such a class links every
/// namesake. True duplicates of a person recorded twice agree on each field more often
/// than not; the projection forbids the namesake solution while leaving every fit that
/// respects that alone.
pub(crate) fn exact_is_mode(m: &mut [f64]) {
    let Some((&first, rest)) = m.split_first() else {
        return;
    };
    let mut others: Vec<usize> = (0..rest.len()).collect();
    others.sort_by(|&a, &b| rest[b].total_cmp(&rest[a]).then(a.cmp(&b)));
    let mut sum = first;
    let mut count = 1.0;
    let mut pooled = Vec::new();
    for i in others {
        if rest[i] > sum / count {
            sum += rest[i];
            count += 1.0;
            pooled.push(i);
        } else {
            break;
        }
    }
    if pooled.is_empty() {
        return;
    }
    let mean = sum / count;
    m[0] = mean;
    for i in pooled {
        m[i + 1] = mean;
    }
}

/// Expectation maximisation over the distinct comparison patterns of the blocked pairs
/// (`(pattern, count)`, sorted): a two-class latent model whose match class gives m and the
/// match share. The non-match class of *blocked* pairs agrees far more often than random
/// pairs (blocking selected them for agreeing), so EM fits its own level distribution for
/// it, starting from the sampled u; that distribution only serves EM. The returned u is the
/// sampled one, except the exact levels of email and phone: every pair sharing one is
/// blocked, so their u is EM's expected number of non-matching blocked pairs at that level
/// over all pairs (random samples see almost only true matches there).
pub(crate) fn em(patterns: &[(u32, u64)], u0: &UEstimate, s: &EmSettings) -> Fit {
    let mut m: Table = [[0.0; MAX_LEVELS]; N];
    for (k, row) in m.iter_mut().enumerate() {
        *row = prior_m(k);
    }
    let mut u = u0.u;
    let mut ub = u0.u;
    let mut lambda: f64 = 0.2;
    let total: f64 = patterns.iter().map(|p| p.1 as f64).sum::<f64>();
    let decoded: Vec<([u8; N], f64)> = patterns
        .iter()
        .map(|&(p, c)| (Compared::unpack(p).levels, c as f64))
        .collect();
    if total == 0.0 {
        return Fit {
            m,
            u,
            lambda: 0.0,
            iterations: 0,
            converged: true,
        };
    }
    let mut iterations = 0;
    let mut converged = false;
    while iterations < s.max_iterations {
        iterations += 1;
        let mut log_bf: Table = [[0.0; MAX_LEVELS]; N];
        for k in 0..N {
            for l in 1..=levels(k) {
                log_bf[k][l] = (m[k][l] / ub[k][l]).ln();
            }
        }
        let logit = (lambda / (1.0 - lambda)).ln();
        let mut mass = [[0.0; MAX_LEVELS]; N];
        let mut non_mass = [[0.0; MAX_LEVELS]; N];
        let mut matched = 0.0;
        for (lv, c) in &decoded {
            let mut z = logit;
            for k in 0..N {
                z += log_bf[k][lv[k] as usize];
            }
            let r = 1.0 / (1.0 + (-z).exp());
            matched += c * r;
            for k in 0..N {
                mass[k][lv[k] as usize] += c * r;
                non_mass[k][lv[k] as usize] += c * (1.0 - r);
            }
        }
        let new_lambda = (matched / total).clamp(1e-9, 1.0 - 1e-9);
        let mut delta = (new_lambda - lambda).abs();
        lambda = new_lambda;
        for k in 0..N {
            let l = levels(k);
            let prior = prior_m(k);
            let nn: f64 = (1..=l).map(|i| mass[k][i]).sum();
            let nu: f64 = (1..=l).map(|i| non_mass[k][i]).sum();
            let mut fitted = [0.0; MAX_LEVELS];
            for i in 1..=l {
                fitted[i] = (mass[k][i] + s.prior_strength * prior[i]) / (nn + s.prior_strength);
            }
            if s.exact_mode {
                exact_is_mode(&mut fitted[1..=l]);
            }
            for i in 1..=l {
                let floor = if i == l { ELSE_M_FLOOR } else { M_FLOOR };
                let v = fitted[i].clamp(floor, 1.0);
                delta = delta.max((v - m[k][i]).abs());
                m[k][i] = v;
                ub[k][i] = ((non_mass[k][i] + s.prior_strength * u0.u[k][i])
                    / (nu + s.prior_strength))
                    .clamp(1e-9, 1.0);
            }
        }
        for k in [EMAIL, PHONE] {
            let pairs = (s.total_pairs * u0.non_null[k]).max(1.0);
            let v = ((non_mass[k][1] + 0.5) / pairs).clamp(s.u_min, u0.u[k][1].max(s.u_min));
            delta = delta.max((v - u[k][1]).abs() / v.max(1e-12) * 1e-3);
            u[k][1] = v;
        }
        if delta < s.tolerance {
            converged = true;
            break;
        }
    }
    Fit {
        m,
        u,
        lambda,
        iterations,
        converged,
    }
}
