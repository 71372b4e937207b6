//! Bayesian non-parametric latent-class model for capture–recapture (Manrique-Vallier 2016,
//! *Biometrics* 72(4); the LCMCR package).
//!
//! People fall into latent classes; within a class, lists capture independently with
//! probabilities λ_jk ~ Beta(1, 1). Class weights follow a truncated stick-breaking prior with
//! concentration α ~ Gamma(0.25, 0.25); the prior on N is ∝ 1/N. Heterogeneity (some people more
//! visible to every list) is what the classes absorb, which log-linear models with pairwise
//! interactions only partly do.
//!
//! The Gibbs sampler works on the counts of distinct capture patterns, never on individuals, so
//! a sweep costs O(patterns × classes × lists) whatever N is:
//!
//! 1. class counts of each observed pattern ~ Multinomial(n_x, q_x·), q_xk ∝ π_k Π_j λ_jk^x_j (1−λ_jk)^(1−x_j);
//! 2. the unobserved count n₀ ~ NegativeBinomial(n, p₀) with p₀ = Σ_k π_k Π_j (1−λ_jk) (drawn as a
//!    Gamma–Poisson mixture);
//! 3. class counts of the unobserved ~ Multinomial(n₀, q_0·);
//! 4. λ_jk ~ Beta(1 + captured in class k by list j, 1 + not captured);
//! 5. stick-breaking V_k ~ Beta(1 + c_k, α + Σ_{l>k} c_l), π from V;
//! 6. α ~ Gamma(0.25 + K − 1, rate 0.25 − Σ_{k<K} ln(1 − V_k)).
//!
//! Several chains run in parallel threads, each with its own seeded stream; R-hat and the
//! effective sample size of N are reported.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Binomial, Distribution, Gamma, Poisson};
use serde::{Deserialize, Serialize};

/// Sampler settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LcmcrOptions {
    /// Truncation K of the stick-breaking prior (maximum number of latent classes).
    pub classes: usize,
    /// Parallel chains.
    pub chains: usize,
    /// Burn-in sweeps per chain (discarded).
    pub burn_in: usize,
    /// Kept sweeps per chain (after burn-in).
    pub samples: usize,
    /// Keep every `thin`-th sweep.
    pub thin: usize,
    /// Seed; chain `c` uses stream `c` of ChaCha8 seeded with it.
    pub seed: u64,
}

impl Default for LcmcrOptions {
    fn default() -> Self {
        LcmcrOptions {
            classes: 10,
            chains: 2,
            burn_in: 10_000,
            samples: 50_000,
            thin: 10,
            seed: 1,
        }
    }
}

/// Posterior summary of N.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LcmcrResult {
    /// Posterior median of N.
    pub median: f64,
    /// 2.5% posterior quantile.
    pub lower: f64,
    /// 97.5% posterior quantile.
    pub upper: f64,
    /// Posterior mean.
    pub mean: f64,
    /// Split R-hat of N across chains (Gelman et al. 2013); near 1 when chains agree.
    pub r_hat: f64,
    /// Effective sample size of N over all chains (Geyer's initial positive sequence).
    pub ess: f64,
    /// Total kept draws.
    pub draws: usize,
    /// Sweeps per second per chain (wall clock of the slowest chain).
    pub sweeps_per_second: f64,
    /// The settings, seed included.
    pub options: LcmcrOptions,
    /// The kept draws of N, chain after chain (for totals across strata).
    #[serde(skip)]
    pub samples: Vec<Vec<f64>>,
}

struct Chain<'a> {
    t: usize,
    k: usize,
    patterns: &'a [(usize, u64)],
    n_obs: u64,
    lambda: Vec<f64>, // j * k + class
    pi: Vec<f64>,
    v: Vec<f64>,
    alpha: f64,
    n0: u64,
    rng: ChaCha8Rng,
    // Scratch.
    counts: Vec<u64>, // per (pattern index incl. 0 at the end) x class
    weights: Vec<f64>,
}

fn beta(rng: &mut ChaCha8Rng, a: f64, b: f64) -> f64 {
    // Parameters are always positive here (1 + counts, α > 0).
    Beta::new(a, b)
        .map_or(0.5, |d| d.sample(rng))
        .clamp(1e-12, 1.0 - 1e-12)
}

fn multinomial(rng: &mut ChaCha8Rng, n: u64, weights: &[f64], out: &mut [u64]) {
    let mut left = n;
    let mut mass: f64 = weights.iter().sum();
    for (w, o) in weights.iter().zip(out.iter_mut()) {
        if left == 0 || mass <= 0.0 {
            *o = 0;
            continue;
        }
        let p = (w / mass).clamp(0.0, 1.0);
        let x = Binomial::new(left, p).map_or(0, |d| d.sample(rng));
        *o = x;
        left -= x;
        mass -= w;
    }
    // Rounding can leave a few: give them to the last class with weight.
    if left > 0
        && let Some(last) = out
            .iter_mut()
            .rev()
            .zip(weights.iter().rev())
            .find(|(_, w)| **w > 0.0)
    {
        *last.0 += left;
    }
}

impl<'a> Chain<'a> {
    fn new(t: usize, k: usize, patterns: &'a [(usize, u64)], seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        let n_obs = patterns.iter().map(|p| p.1).sum();
        let lambda = (0..t * k).map(|_| rng.random_range(0.2..0.6)).collect();
        let mut chain = Chain {
            t,
            k,
            patterns,
            n_obs,
            lambda,
            pi: vec![1.0 / k as f64; k],
            v: vec![0.5; k],
            alpha: 1.0,
            n0: n_obs / 2,
            rng,
            counts: vec![0; (patterns.len() + 1) * k],
            weights: vec![0.0; k],
        };
        chain.set_pi_from_v();
        chain
    }

    fn set_pi_from_v(&mut self) {
        let mut rest = 1.0;
        for c in 0..self.k {
            let v = if c + 1 == self.k { 1.0 } else { self.v[c] };
            self.pi[c] = rest * v;
            rest *= 1.0 - v;
        }
    }

    /// Weights π_k P(pattern | class k).
    fn class_weights(&mut self, pattern: usize) {
        for c in 0..self.k {
            let mut w = self.pi[c];
            for j in 0..self.t {
                let l = self.lambda[j * self.k + c];
                w *= if pattern & (1 << j) != 0 { l } else { 1.0 - l };
            }
            self.weights[c] = w;
        }
    }

    fn sweep(&mut self) {
        let k = self.k;
        let np = self.patterns.len();
        // 1. Classes of the observed.
        for (i, &(pattern, n)) in self.patterns.iter().enumerate() {
            self.class_weights(pattern);
            let (weights, counts) = (&self.weights, &mut self.counts[i * k..(i + 1) * k]);
            multinomial(&mut self.rng, n, weights, counts);
        }
        // 2. The unobserved count: n0 ~ NB(n, p0) as Poisson(Gamma(n, p0 / (1 - p0))).
        self.class_weights(0);
        let p0: f64 = self.weights.iter().sum::<f64>().clamp(1e-300, 1.0 - 1e-12);
        let g =
            Gamma::new(self.n_obs as f64, p0 / (1.0 - p0)).map_or(0.0, |d| d.sample(&mut self.rng));
        self.n0 = if g > 0.0 {
            Poisson::new(g).map_or(0.0, |d: Poisson<f64>| d.sample(&mut self.rng)) as u64
        } else {
            0
        };
        // 3. Classes of the unobserved.
        {
            let (weights, counts) = (&self.weights, &mut self.counts[np * k..(np + 1) * k]);
            multinomial(&mut self.rng, self.n0, weights, counts);
        }
        // 4. λ.
        for c in 0..k {
            for j in 0..self.t {
                let (mut yes, mut no) = (0u64, 0u64);
                for (i, &(pattern, _)) in self.patterns.iter().enumerate() {
                    let m = self.counts[i * k + c];
                    if pattern & (1 << j) != 0 {
                        yes += m
                    } else {
                        no += m
                    }
                }
                no += self.counts[np * k + c];
                self.lambda[j * k + c] = beta(&mut self.rng, 1.0 + yes as f64, 1.0 + no as f64);
            }
        }
        // 5. Stick-breaking weights.
        let class_total: Vec<u64> = (0..k)
            .map(|c| (0..=np).map(|i| self.counts[i * k + c]).sum())
            .collect();
        let mut after: u64 = class_total.iter().sum();
        let mut log_rest = 0.0;
        for (c, &total) in class_total.iter().enumerate().take(k - 1) {
            after -= total;
            self.v[c] = beta(&mut self.rng, 1.0 + total as f64, self.alpha + after as f64);
            log_rest += (1.0 - self.v[c]).ln();
        }
        self.set_pi_from_v();
        // 6. Concentration (shape-rate Gamma; rand_distr takes a scale).
        let rate = 0.25 - log_rest;
        self.alpha = Gamma::new(0.25 + (k - 1) as f64, 1.0 / rate)
            .map_or(1.0, |d| d.sample(&mut self.rng))
            .max(1e-6);
    }
}

/// Runs the sampler on a capture-pattern count table (`counts[pattern]`, `counts[0]` ignored).
pub fn sample(counts: &[u64], t: usize, options: &LcmcrOptions) -> LcmcrResult {
    let patterns: Vec<(usize, u64)> = (1..counts.len())
        .filter(|&h| counts[h] > 0)
        .map(|h| (h, counts[h]))
        .collect();
    let n_obs: u64 = patterns.iter().map(|p| p.1).sum();
    let chains = options.chains.max(1);
    let thin = options.thin.max(1);
    let results: Vec<(Vec<f64>, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..chains)
            .map(|c| {
                let patterns = &patterns;
                scope.spawn(move || {
                    let started = std::time::Instant::now();
                    let mut chain =
                        Chain::new(t, options.classes.max(2), patterns, options.seed, c as u64);
                    for _ in 0..options.burn_in {
                        chain.sweep();
                    }
                    let mut draws = Vec::with_capacity(options.samples / thin + 1);
                    for s in 0..options.samples {
                        chain.sweep();
                        if s % thin == 0 {
                            draws.push((n_obs + chain.n0) as f64);
                        }
                    }
                    let secs = started.elapsed().as_secs_f64().max(1e-9);
                    (draws, (options.burn_in + options.samples) as f64 / secs)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let samples: Vec<Vec<f64>> = results.iter().map(|r| r.0.clone()).collect();
    let speed = results.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    let mut all: Vec<f64> = samples.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    let q = |p: f64| quantile(&all, p);
    LcmcrResult {
        median: q(0.5),
        lower: q(0.025),
        upper: q(0.975),
        mean: all.iter().sum::<f64>() / all.len().max(1) as f64,
        r_hat: split_r_hat(&samples),
        ess: samples.iter().map(|s| ess(s)).sum(),
        draws: all.len(),
        sweeps_per_second: speed,
        options: options.clone(),
        samples,
    }
}

/// Quantile of sorted values (linear interpolation, as R's type 7).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Split R-hat (Gelman et al. 2013, BDA3 §11.4): each chain split in halves.
pub fn split_r_hat(chains: &[Vec<f64>]) -> f64 {
    let halves: Vec<&[f64]> = chains
        .iter()
        .filter(|c| c.len() >= 4)
        .flat_map(|c| {
            let h = c.len() / 2;
            [&c[..h], &c[h..2 * h]]
        })
        .collect();
    if halves.len() < 2 {
        return f64::NAN;
    }
    let n = halves[0].len() as f64;
    let means: Vec<f64> = halves.iter().map(|h| h.iter().sum::<f64>() / n).collect();
    let grand = means.iter().sum::<f64>() / means.len() as f64;
    let m = halves.len() as f64;
    let b = n / (m - 1.0) * means.iter().map(|x| (x - grand).powi(2)).sum::<f64>();
    let w = halves
        .iter()
        .zip(&means)
        .map(|(h, mu)| h.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0))
        .sum::<f64>()
        / m;
    if w == 0.0 {
        return 1.0;
    }
    (((n - 1.0) / n * w + b / n) / w).sqrt()
}

/// Effective sample size of one chain by Geyer's initial positive sequence.
pub fn ess(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return n as f64;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    if var == 0.0 {
        return n as f64;
    }
    let rho = |lag: usize| -> f64 {
        (0..n - lag)
            .map(|i| (x[i] - mean) * (x[i + lag] - mean))
            .sum::<f64>()
            / (n as f64 * var)
    };
    let mut sum = 0.0;
    let mut lag = 1;
    while lag + 1 < n {
        let pair = rho(lag) + rho(lag + 1);
        if pair <= 0.0 {
            break;
        }
        sum += pair;
        lag += 2;
    }
    (n as f64 / (1.0 + 2.0 * sum)).min(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two latent classes of visibility over four lists: the scenario where log-linear models
    /// with independence fail and the latent-class model should not.
    fn heterogeneous(seed: u64, n: usize) -> Vec<u64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let classes = [(0.3, [0.6, 0.5, 0.55, 0.45]), (0.7, [0.15, 0.1, 0.2, 0.12])];
        let mut counts = vec![0u64; 16];
        for _ in 0..n {
            let c = if rng.random::<f64>() < classes[0].0 {
                0
            } else {
                1
            };
            let mut h = 0;
            for j in 0..4 {
                if rng.random::<f64>() < classes[c].1[j] {
                    h |= 1 << j;
                }
            }
            counts[h] += 1;
        }
        counts
    }

    #[test]
    fn recovers_n_under_heterogeneity_and_is_reproducible() {
        let counts = heterogeneous(3, 2000);
        let options = LcmcrOptions {
            burn_in: 2_000,
            samples: 20_000,
            thin: 5,
            seed: 7,
            ..LcmcrOptions::default()
        };
        let r = sample(&counts, 4, &options);
        assert!(
            r.lower <= 2000.0 && 2000.0 <= r.upper,
            "{} [{}, {}]",
            r.median,
            r.lower,
            r.upper
        );
        assert!(r.r_hat < 1.1, "r_hat {}", r.r_hat);
        assert!(r.ess > 50.0, "ess {}", r.ess);
        let again = sample(&counts, 4, &options);
        assert_eq!(again.samples, r.samples, "same seed, same draws");
    }

    #[test]
    fn diagnostics_on_known_sequences() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let iid: Vec<f64> = (0..1000).map(|_| rng.random::<f64>()).collect();
        assert!(ess(&iid) > 500.0);
        let sticky: Vec<f64> = (0..1000).map(|i| (i / 100) as f64).collect();
        assert!(ess(&sticky) < 50.0);
        let a: Vec<f64> = (0..200).map(|i| (i % 7) as f64).collect();
        assert!((split_r_hat(&[a.clone(), a]) - 1.0).abs() < 0.05);
        assert_eq!(quantile(&[1.0, 2.0, 3.0], 0.5), 2.0);
    }
}
