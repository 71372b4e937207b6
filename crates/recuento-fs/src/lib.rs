//! Fellegi–Sunter record linkage maths on counts of comparison patterns.
//!
//! A *comparison pattern* is the vector of comparison levels of one pair (`-1` = missing). The
//! linker never runs EM over pairs: it counts distinct patterns (a few hundred at most) and runs
//! EM on those counts, as Splink does (Fellegi & Sunter 1969; Winkler 1988). u probabilities come
//! from seeded random pairs ([`u_from_counts`]); [`train`] then estimates λ (the prior match
//! probability among candidate pairs) and m by EM with u held fixed.
//!
//! ```
//! use recuento_fs::{train, u_from_counts, TrainOptions};
//! // Two comparisons with 2 and 3 levels; random pairs almost never agree.
//! let random = vec![(vec![0, 0], 900), (vec![1, 0], 90), (vec![0, 1], 9), (vec![1, 2], 1)];
//! let u = u_from_counts(&[2, 3], &random);
//! let candidates = vec![(vec![1, 2], 80), (vec![0, 0], 100), (vec![1, 1], 10), (vec![-1, 2], 5)];
//! let model = train(&[2, 3], &candidates, u, &TrainOptions::default()).unwrap();
//! let (weight, prob) = model.score(&[1, 2]);
//! assert!(weight > 0.0 && prob > 0.9);
//! ```
#![deny(missing_docs)]

use serde::{Deserialize, Serialize};

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No candidate pairs (or all patterns empty): nothing to learn from.
    #[error(
        "no candidate pairs to train the linkage model on; check the blocking rules and the column mapping"
    )]
    NoPairs,
    /// A pattern has a level outside the declared number of levels: a bug in the caller.
    #[error(
        "internal error: comparison {comparison} has level {level} but only {levels} levels are declared (please report)"
    )]
    LevelOutOfRange {
        /// Index of the comparison.
        comparison: usize,
        /// The level found.
        level: i8,
        /// Levels declared.
        levels: usize,
    },
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Smallest probability kept for any level, so that a level never seen in training does not
/// make a weight infinite.
const FLOOR: f64 = 1e-6;

/// Options for [`train`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Maximum EM iterations.
    pub max_iterations: usize,
    /// Stop when no parameter moves more than this.
    pub tolerance: f64,
    /// Starting value of λ.
    pub initial_lambda: f64,
    /// Re-estimate u by EM among the candidate pairs, starting from the random-pair u.
    ///
    /// Candidate pairs come from blocking, so their non-matches agree on the blocking columns far
    /// more often than random pairs do; with u held at the random-pair values EM explains that
    /// agreement as matches and λ runs to 1. Estimating u within the candidates (Jaro 1989; as
    /// fastLink does within blocks) keeps the two classes apart.
    pub estimate_u: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            max_iterations: 1000,
            tolerance: 1e-7,
            initial_lambda: 0.1,
            estimate_u: false,
        }
    }
}

/// A trained Fellegi–Sunter model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    /// Prior probability that a candidate pair is a match.
    pub lambda: f64,
    /// m probabilities: `m[k][l]` = P(level l on comparison k | match).
    pub m: Vec<Vec<f64>>,
    /// u probabilities: `u[k][l]` = P(level l on comparison k | non-match).
    pub u: Vec<Vec<f64>>,
    /// EM iterations run.
    pub iterations: usize,
    /// Whether EM met the tolerance before the iteration limit.
    pub converged: bool,
    /// Log-likelihood of the pattern counts after each iteration (never decreases).
    pub log_likelihood: Vec<f64>,
}

/// u probabilities from the comparison patterns of random record pairs (almost all non-matches).
/// Missing levels are skipped; every level gets at least a small floor.
pub fn u_from_counts(levels: &[usize], random: &[(Vec<i8>, u64)]) -> Vec<Vec<f64>> {
    levels
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            // Half a pair of pseudo-count per level keeps unseen levels finite but tiny.
            let mut c = vec![0.5; n];
            for (p, count) in random {
                if let Some(l) = level_index(p[k], n) {
                    c[l] += *count as f64;
                }
            }
            normalise(c)
        })
        .collect()
}

fn level_index(level: i8, n: usize) -> Option<usize> {
    (level >= 0 && (level as usize) < n).then_some(level as usize)
}

fn normalise(mut v: Vec<f64>) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    for x in &mut v {
        *x = (*x / s).max(FLOOR);
    }
    let s: f64 = v.iter().sum();
    v.iter_mut().for_each(|x| *x /= s);
    v
}

/// Trains λ and m by EM on pattern counts with u fixed.
///
/// m starts from "higher levels are likelier among matches" (a geometric profile), which puts
/// EM in the basin where matches agree; u starts from `u` and is re-estimated only when
/// [`TrainOptions::estimate_u`] is set.
///
/// # Errors
/// [`Error::NoPairs`] on empty input; [`Error::LevelOutOfRange`] on inconsistent patterns.
pub fn train(
    levels: &[usize],
    patterns: &[(Vec<i8>, u64)],
    u: Vec<Vec<f64>>,
    options: &TrainOptions,
) -> Result<Model> {
    for (p, _) in patterns {
        for (k, (&l, &n)) in p.iter().zip(levels).enumerate() {
            if l >= 0 && l as usize >= n {
                return Err(Error::LevelOutOfRange {
                    comparison: k,
                    level: l,
                    levels: n,
                });
            }
        }
    }
    let total: f64 = patterns.iter().map(|p| p.1 as f64).sum();
    if total == 0.0 {
        return Err(Error::NoPairs);
    }
    let m: Vec<Vec<f64>> = levels
        .iter()
        .map(|&n| normalise((0..n).map(|l| 4f64.powi(l as i32)).collect()))
        .collect();
    let mut model = Model {
        lambda: options.initial_lambda,
        m,
        u,
        iterations: 0,
        converged: false,
        log_likelihood: Vec::new(),
    };
    for _ in 0..options.max_iterations {
        let mut lambda_num = 0.0;
        let mut m_num: Vec<Vec<f64>> = levels.iter().map(|&n| vec![0.0; n]).collect();
        let mut u_num: Vec<Vec<f64>> = levels.iter().map(|&n| vec![0.0; n]).collect();
        let mut ll = 0.0;
        for (p, count) in patterns {
            let c = *count as f64;
            let (pm, pu) = model.likelihoods(p);
            let joint_m = model.lambda * pm;
            let joint = joint_m + (1.0 - model.lambda) * pu;
            ll += c * joint.ln();
            let post = joint_m / joint;
            lambda_num += c * post;
            for (k, &l) in p.iter().enumerate() {
                if let Some(l) = level_index(l, levels[k]) {
                    m_num[k][l] += c * post;
                    u_num[k][l] += c * (1.0 - post);
                }
            }
        }
        model.log_likelihood.push(ll);
        let new_lambda = (lambda_num / total).clamp(FLOOR, 1.0 - FLOOR);
        let new_m: Vec<Vec<f64>> = m_num
            .into_iter()
            .zip(&model.m)
            .map(|(num, old)| {
                if num.iter().sum::<f64>() > 0.0 {
                    normalise(num)
                } else {
                    old.clone()
                }
            })
            .collect();
        let mut change = (new_lambda - model.lambda).abs();
        for (a, b) in new_m.iter().flatten().zip(model.m.iter().flatten()) {
            change = change.max((a - b).abs());
        }
        if options.estimate_u {
            let new_u: Vec<Vec<f64>> = u_num
                .into_iter()
                .zip(&model.u)
                .map(|(num, old)| {
                    if num.iter().sum::<f64>() > 0.0 {
                        normalise(num)
                    } else {
                        old.clone()
                    }
                })
                .collect();
            for (a, b) in new_u.iter().flatten().zip(model.u.iter().flatten()) {
                change = change.max((a - b).abs());
            }
            model.u = new_u;
        }
        model.lambda = new_lambda;
        model.m = new_m;
        model.iterations += 1;
        if change < options.tolerance {
            model.converged = true;
            break;
        }
    }
    Ok(model)
}

/// Pattern counts of the pairs one training blocking rule generates, with the comparisons the
/// rule blocks on (which all its pairs agree on, matches or not).
#[derive(Debug, Clone)]
pub struct RulePatterns {
    /// Pattern counts of the rule's pairs.
    pub patterns: Vec<(Vec<i8>, u64)>,
    /// `blocked[k]` is true when comparison `k` uses a column of the rule.
    pub blocked: Vec<bool>,
}

/// Trains the model the way Splink does, which stays valid on blocked pairs:
///
/// 1. u is fixed from random pairs ([`u_from_counts`]);
/// 2. for every training rule, EM on the rule's pairs estimates m for the comparisons the rule
///    does *not* block on (the blocked ones agree by construction and carry no information there);
///    each comparison's m is the average over the rules that leave it free;
/// 3. λ, the probability that two random records match, solves
///    `λ · total_pairs = Σ over candidate pairs of P(match | pattern; λ)`: the expected number of
///    matches among the candidates (which hold almost all matches) is the number of matches.
///
/// The resulting match probabilities are for random record pairs, so they do not depend on which
/// blocking rules produced a pair.
///
/// # Errors
/// [`Error::NoPairs`] when no rule has pairs; [`Error::LevelOutOfRange`] on bad patterns.
pub fn train_by_rules(
    levels: &[usize],
    rules: &[RulePatterns],
    candidates: &[(Vec<i8>, u64)],
    total_pairs: f64,
    u: Vec<Vec<f64>>,
    options: &TrainOptions,
) -> Result<Model> {
    let k = levels.len();
    let mut m_sum: Vec<Vec<f64>> = levels.iter().map(|&n| vec![0.0; n]).collect();
    let mut m_rules = vec![0usize; k];
    let mut iterations = 0;
    let mut converged = true;
    let mut log_likelihood = Vec::new();
    for rule in rules {
        // Blocked comparisons become "missing": no evidence either way.
        let mut merged: std::collections::BTreeMap<Vec<i8>, u64> =
            std::collections::BTreeMap::new();
        for (p, c) in &rule.patterns {
            let q: Vec<i8> = p
                .iter()
                .zip(&rule.blocked)
                .map(|(&l, &b)| if b { -1 } else { l })
                .collect();
            *merged.entry(q).or_default() += c;
        }
        let patterns: Vec<(Vec<i8>, u64)> = merged.into_iter().collect();
        if patterns.iter().map(|p| p.1).sum::<u64>() == 0 {
            continue;
        }
        let fitted = train(
            levels,
            &patterns,
            u.clone(),
            &TrainOptions {
                estimate_u: false,
                ..options.clone()
            },
        )?;
        iterations += fitted.iterations;
        converged &= fitted.converged;
        log_likelihood.extend(fitted.log_likelihood.iter().copied());
        for c in 0..k {
            if !rule.blocked[c] {
                for (s, m) in m_sum[c].iter_mut().zip(&fitted.m[c]) {
                    *s += m;
                }
                m_rules[c] += 1;
            }
        }
    }
    if m_rules.iter().all(|&n| n == 0) {
        return Err(Error::NoPairs);
    }
    let m: Vec<Vec<f64>> = m_sum
        .into_iter()
        .zip(&m_rules)
        .zip(levels)
        .map(|((sum, &n), &levels)| {
            if n == 0 {
                // Blocked by every rule: no estimate; neutral evidence (m = u is set below).
                vec![f64::NAN; levels]
            } else {
                normalise(sum.into_iter().map(|x| x / n as f64).collect())
            }
        })
        .collect();
    let m: Vec<Vec<f64>> = m
        .into_iter()
        .zip(&u)
        .map(|(m, u)| {
            if m.iter().any(|x| x.is_nan()) {
                u.clone()
            } else {
                m
            }
        })
        .collect();
    let mut model = Model {
        lambda: 0.5,
        m,
        u,
        iterations,
        converged,
        log_likelihood,
    };
    model.lambda = solve_lambda(&model, candidates, total_pairs);
    Ok(model)
}

/// λ such that λ · total_pairs equals the expected number of matches among the candidates.
fn solve_lambda(model: &Model, candidates: &[(Vec<i8>, u64)], total_pairs: f64) -> f64 {
    let total_pairs = total_pairs.max(1.0);
    let bayes: Vec<(f64, f64)> = candidates
        .iter()
        .map(|(p, c)| (model.contributions(p).iter().sum::<f64>(), *c as f64))
        .collect();
    let expected = |lambda: f64| -> f64 {
        let prior = (lambda / (1.0 - lambda)).log2();
        bayes.iter().map(|(w, c)| c * probability(prior + w)).sum()
    };
    // f(λ) = expected(λ) / total − λ is positive for tiny λ and negative near 1: bisect on log λ.
    let (mut lo, mut hi) = ((1.0 / total_pairs).ln() - 10.0, (0.5f64).ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let lambda = mid.exp();
        if expected(lambda) / total_pairs > lambda {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp().clamp(1e-15, 0.5)
}

impl Model {
    /// P(pattern | match) and P(pattern | non-match), missing levels skipped.
    fn likelihoods(&self, pattern: &[i8]) -> (f64, f64) {
        let mut pm = 1.0;
        let mut pu = 1.0;
        for (k, &l) in pattern.iter().enumerate() {
            if let Some(l) = level_index(l, self.m[k].len()) {
                pm *= self.m[k][l];
                pu *= self.u[k][l];
            }
        }
        (pm, pu)
    }

    /// The log2 Bayes factor of each comparison for a pattern (0 for missing): the bars of a
    /// waterfall chart explaining the pair's match weight.
    pub fn contributions(&self, pattern: &[i8]) -> Vec<f64> {
        pattern
            .iter()
            .enumerate()
            .map(|(k, &l)| {
                level_index(l, self.m[k].len())
                    .map_or(0.0, |l| (self.m[k][l] / self.u[k][l]).log2())
            })
            .collect()
    }

    /// The prior match weight log2(λ / (1 − λ)).
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// Match weight (log2 odds) and match probability of a pattern.
    pub fn score(&self, pattern: &[i8]) -> (f64, f64) {
        let w = self.prior_weight() + self.contributions(pattern).iter().sum::<f64>();
        (w, probability(w))
    }
}

/// Match probability from a match weight (log2 odds).
pub fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeMap;

    fn draw(rng: &mut ChaCha8Rng, probs: &[f64]) -> i8 {
        let x: f64 = rng.random();
        let mut acc = 0.0;
        for (i, p) in probs.iter().enumerate() {
            acc += p;
            if x < acc {
                return i as i8;
            }
        }
        (probs.len() - 1) as i8
    }

    fn simulate(
        rng: &mut ChaCha8Rng,
        n: usize,
        lambda: f64,
        m: &[Vec<f64>],
        u: &[Vec<f64>],
    ) -> Vec<(Vec<i8>, u64)> {
        let mut counts: BTreeMap<Vec<i8>, u64> = BTreeMap::new();
        for _ in 0..n {
            let is_match = rng.random::<f64>() < lambda;
            let probs = if is_match { m } else { u };
            let p: Vec<i8> = probs.iter().map(|pr| draw(rng, pr)).collect();
            *counts.entry(p).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    #[test]
    fn em_recovers_known_m_and_lambda() {
        let m = vec![
            vec![0.05, 0.15, 0.8],
            vec![0.1, 0.9],
            vec![0.02, 0.08, 0.2, 0.7],
        ];
        let u = vec![
            vec![0.9, 0.08, 0.02],
            vec![0.7, 0.3],
            vec![0.8, 0.15, 0.04, 0.01],
        ];
        let levels = [3, 2, 4];
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let pairs = simulate(&mut rng, 200_000, 0.2, &m, &u);
        let random = simulate(&mut rng, 200_000, 0.0, &m, &u);
        let model = train(
            &levels,
            &pairs,
            u_from_counts(&levels, &random),
            &TrainOptions::default(),
        )
        .unwrap();
        assert!((model.lambda - 0.2).abs() < 0.01, "lambda {}", model.lambda);
        for (est, truth) in model.m.iter().flatten().zip(m.iter().flatten()) {
            assert!((est - truth).abs() < 0.02, "m {est} vs {truth}");
        }
        assert!(model.converged);
    }

    #[test]
    fn log_likelihood_never_decreases() {
        let m = vec![vec![0.1, 0.9], vec![0.2, 0.8]];
        let u = vec![vec![0.8, 0.2], vec![0.9, 0.1]];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let pairs = simulate(&mut rng, 5_000, 0.3, &m, &u);
        let model = train(&[2, 2], &pairs, u.clone(), &TrainOptions::default()).unwrap();
        for w in model.log_likelihood.windows(2) {
            assert!(w[1] >= w[0] - 1e-9, "{} then {}", w[0], w[1]);
        }
    }

    #[test]
    fn missing_levels_carry_no_evidence() {
        let model = Model {
            lambda: 0.5,
            m: vec![vec![0.1, 0.9]],
            u: vec![vec![0.9, 0.1]],
            iterations: 0,
            converged: true,
            log_likelihood: vec![],
        };
        assert_eq!(model.contributions(&[-1]), vec![0.0]);
        assert!((model.score(&[-1]).1 - 0.5).abs() < 1e-12);
        assert!(model.score(&[1]).0 > 3.0);
    }

    #[test]
    fn training_by_rules_recovers_m_and_lambda_on_blocked_pairs() {
        // Five comparisons; each rule keeps only pairs agreeing fully on one comparison, as
        // blocking does. Random pairs give u.
        let m = vec![
            vec![0.1, 0.9],
            vec![0.05, 0.15, 0.8],
            vec![0.2, 0.8],
            vec![0.05, 0.25, 0.7],
            vec![0.15, 0.85],
        ];
        let u = vec![
            vec![0.9, 0.1],
            vec![0.85, 0.1, 0.05],
            vec![0.7, 0.3],
            vec![0.8, 0.15, 0.05],
            vec![0.75, 0.25],
        ];
        let levels = [2, 3, 2, 3, 2];
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let lambda = 0.005;
        let all = simulate(&mut rng, 2_000_000, lambda, &m, &u);
        let random = simulate(&mut rng, 300_000, 0.0, &m, &u);
        let by = |k: usize| RulePatterns {
            patterns: all
                .iter()
                .filter(|(p, _)| p[k] == (levels[k] - 1) as i8)
                .cloned()
                .collect(),
            blocked: (0..levels.len()).map(|j| j == k).collect(),
        };
        let rules = vec![by(0), by(2), by(4)];
        let candidates: Vec<(Vec<i8>, u64)> = all
            .iter()
            .filter(|(p, _)| p[0] == 1 || p[2] == 1 || p[4] == 1)
            .cloned()
            .collect();
        let model = train_by_rules(
            &levels,
            &rules,
            &candidates,
            2_000_000.0,
            u_from_counts(&levels, &random),
            &TrainOptions::default(),
        )
        .unwrap();
        for (est, truth) in model.m.iter().flatten().zip(m.iter().flatten()) {
            assert!((est - truth).abs() < 0.04, "m {est} vs {truth}");
        }
        assert!(
            (model.lambda / lambda - 1.0).abs() < 0.15,
            "lambda {}",
            model.lambda
        );
    }

    #[test]
    fn empty_input_is_an_error() {
        assert!(matches!(
            train(&[2], &[], vec![vec![0.5, 0.5]], &TrainOptions::default()),
            Err(Error::NoPairs)
        ));
    }
}
