//! Simulation-based calibration of the latent-class sampler (Talts et al. 2018, "Validating
//! Bayesian inference algorithms with simulation-based calibration"), shared by the test
//! `calibration` and the example of the same name.
//!
//! Each replicate draws every parameter from the model's own prior (α ~ Gamma(0.25, 0.25),
//! truncated stick-breaking weights, λ_jk ~ Beta(1, 1), N ∝ 1/N on the integers of
//! [`N_MIN`, `N_MAX`]), simulates the people and their lists, and runs the sampler on the counts
//! of the patterns seen. If the sampler draws from the posterior, the rank of the true N among
//! posterior draws is uniform, and the 95% interval covers the true N in 95% of replicates
//! (averaged over the prior, not at any one N). A bug in any step (a wrong conditional, a move
//! that does not keep the posterior) shows as a rank histogram that is not flat.
//!
//! The prior on N is truncated so that it can be drawn from; the sampler's prior is not, so
//! only its draws of N inside [`N_MIN`, `N_MAX`] are kept, which gives exactly the posterior
//! under the truncated prior. Keeping only data sets with a statistic of the data alone in some
//! range (here the share of people seen on one list only) leaves the ranks uniform too, and
//! takes the check to the hard cases, where lists see few people and much of the population is
//! unseen, which the prior rarely draws.

// The test reads only some of what the example prints.
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Gamma};
use recuento_mse::lcmcr::{LcmcrOptions, quantile, sample};

/// Smallest N the prior draws.
pub const N_MIN: u64 = 200;
/// Largest N the prior draws.
pub const N_MAX: u64 = 20_000;

/// Draws N with P(N = n) ∝ 1/n on the integers of [`N_MIN`, `N_MAX`]: a log-uniform proposal
/// rounded down gives P(n) ∝ ln(1 + 1/n), corrected by rejection to 1/n.
fn draw_n(rng: &mut ChaCha8Rng) -> u64 {
    let (lo, hi) = ((N_MIN as f64).ln(), ((N_MAX + 1) as f64).ln());
    let ratio = |n: f64| (1.0 / n) / (1.0 / n).ln_1p();
    loop {
        let n = (lo + rng.random::<f64>() * (hi - lo)).exp().floor();
        if rng.random::<f64>() * ratio(N_MIN as f64) <= ratio(n) {
            return n as u64;
        }
    }
}

/// What one replicate gives.
pub struct Replicate {
    /// The true N.
    pub n: u64,
    /// People seen by at least one list.
    pub observed: u64,
    /// Rank of the true N among the thinned draws, jittered to a uniform on (0, 1).
    pub u: f64,
    /// Whether the 95% interval covers the true N.
    pub covered: bool,
    /// Split R-hat of N.
    pub r_hat: f64,
    /// Effective draws of N.
    pub ess: f64,
}

/// The shape of a calibration run.
pub struct Design {
    /// Lists.
    pub t: usize,
    /// Truncation K, of the prior that draws the data and of the sampler.
    pub k: usize,
    /// Keep only data sets with at least this share of the people seen on one list only.
    pub min_once: f64,
    /// Burn-in sweeps per chain (2 chains).
    pub burn_in: usize,
    /// Sweeps per chain after burn-in; every 25th is kept.
    pub samples: usize,
    /// Draws of N per replicate used for its rank (evenly spaced through the kept draws).
    pub rank_draws: usize,
}

/// One draw from the prior and the data it generates: N and the pattern counts.
fn prior_draw(rng: &mut ChaCha8Rng, t: usize, k: usize) -> (u64, Vec<u64>) {
    let alpha: f64 = Gamma::new(0.25_f64, 4.0)
        .map_or(1.0, |d| d.sample(rng))
        .max(1e-6);
    let mut pi = vec![0.0; k];
    let mut rest = 1.0;
    for p in pi.iter_mut().take(k - 1) {
        let v: f64 = Beta::new(1.0, alpha).map_or(1.0, |d| d.sample(rng));
        *p = rest * v;
        rest *= 1.0 - v;
    }
    pi[k - 1] = rest;
    let lambda: Vec<f64> = (0..t * k).map(|_| rng.random()).collect(); // [class * t + list]
    let n = draw_n(rng);
    let mut counts = vec![0u64; 1 << t];
    for _ in 0..n {
        let mut u: f64 = rng.random();
        let class = pi
            .iter()
            .position(|&p| {
                u -= p;
                u < 0.0
            })
            .unwrap_or(k - 1);
        let mut h = 0;
        for j in 0..t {
            if rng.random::<f64>() < lambda[class * t + j] {
                h |= 1 << j;
            }
        }
        counts[h] += 1;
    }
    (n, counts)
}

/// Share of the people seen who are on exactly one list: a statistic of the data alone, high
/// when lists see few people each (and much of the population is unseen).
pub fn seen_once(counts: &[u64]) -> f64 {
    let observed: u64 = counts[1..].iter().sum();
    let once: u64 = (0..counts.len())
        .filter(|h| h.count_ones() == 1)
        .map(|h| counts[h])
        .sum();
    once as f64 / observed.max(1) as f64
}

/// Runs replicate `r`: draws from the prior until the data have at least `min_once` of the
/// people seen on one list only (a condition on the data alone, under which the ranks are
/// still uniform), then samples the posterior. Returns the replicate and the draws it took.
pub fn replicate(r: u64, design: &Design) -> (Option<Replicate>, u64) {
    let (t, k, min_once) = (design.t, design.k, design.min_once);
    let mut rng = ChaCha8Rng::seed_from_u64(90_000 + r);
    let mut tries = 0;
    let (n, counts) = loop {
        tries += 1;
        let draw = prior_draw(&mut rng, t, k);
        // No one seen: no data, no posterior.
        if draw.1[1..].iter().any(|&c| c > 0) && seen_once(&draw.1) >= min_once {
            break draw;
        }
    };
    let observed: u64 = counts[1..].iter().sum();
    let options = LcmcrOptions {
        classes: k,
        chains: 2,
        burn_in: design.burn_in,
        samples: design.samples,
        thin: 25,
        seed: r,
        // A fixed run length: calibration checks the kernel, not the stopping rule.
        target_ess: 0.0,
        ..LcmcrOptions::default()
    };
    let result = sample(&counts, t, &options);
    // Draws under the truncated prior, chain after chain; thinned evenly for the rank so that
    // the draws used are close to independent.
    let kept: Vec<f64> = result
        .samples
        .iter()
        .flatten()
        .copied()
        .filter(|&x| (N_MIN as f64..=N_MAX as f64).contains(&x))
        .collect();
    if kept.len() < design.rank_draws {
        return (None, tries); // never seen: the posterior of N lies almost all outside the range
    }
    let step = kept.len() as f64 / design.rank_draws as f64;
    let thinned: Vec<f64> = (0..design.rank_draws)
        .map(|i| kept[(i as f64 * step) as usize])
        .collect();
    let below = thinned.iter().filter(|&&x| x < n as f64).count();
    let ties = thinned.iter().filter(|&&x| x == n as f64).count();
    let rank = below + rng.random_range(0..=ties);
    let u = (rank as f64 + rng.random::<f64>()) / (design.rank_draws + 1) as f64;
    let mut sorted = kept;
    sorted.sort_by(f64::total_cmp);
    let (lower, upper) = (quantile(&sorted, 0.025), quantile(&sorted, 0.975));
    let replicate = Replicate {
        n,
        observed,
        u,
        covered: lower <= n as f64 && n as f64 <= upper,
        r_hat: result.r_hat,
        ess: result.ess,
    };
    (Some(replicate), tries)
}

/// The rank histogram of `u` in `bins` bins and its chi-square statistic against flat.
pub fn rank_histogram(u: &[f64], bins: usize) -> (Vec<usize>, f64) {
    let mut h = vec![0usize; bins];
    for x in u {
        h[((x * bins as f64) as usize).min(bins - 1)] += 1;
    }
    let expected = u.len() as f64 / bins as f64;
    let chi2 = h
        .iter()
        .map(|&b| (b as f64 - expected).powi(2) / expected)
        .sum();
    (h, chi2)
}
