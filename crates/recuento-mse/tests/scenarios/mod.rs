//! The scenarios of the simulation study with known N (issue "Estimation engine"), shared by the
//! example `simulation_study` (50 replicates, docs/benchmarks.md) and the test `simulation` (a
//! few replicates in CI): how the lists are drawn, and the tally of bias and coverage per method.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_model::CaptureHistories;
use recuento_mse::{Estimate, Options, lcmcr::LcmcrOptions};

/// Lists in every scenario.
pub const T: usize = 5;

/// The scenarios, in the order of the table.
pub const SCENARIOS: [&str; 5] = [
    "independent",
    "two latent classes",
    "three latent classes",
    "referral",
    "subgroup unseen",
];

/// The lists of one replicate: `people` people, each listed by each list with the scenario's
/// probabilities.
pub fn draw(rng: &mut ChaCha8Rng, scenario: &str, people: usize) -> CaptureHistories {
    let mut counts = vec![0u64; 1 << T];
    for _ in 0..people {
        let p: [f64; T] = match scenario {
            "independent" => [0.25, 0.3, 0.2, 0.35, 0.25],
            "two latent classes" => {
                if rng.random::<f64>() < 0.3 {
                    [0.5, 0.45, 0.55, 0.5, 0.4]
                } else {
                    [0.15, 0.2, 0.12, 0.18, 0.15]
                }
            }
            "three latent classes" => match rng.random_range(0..10) {
                0..=1 => [0.6, 0.55, 0.5, 0.65, 0.5],
                2..=5 => [0.3, 0.25, 0.3, 0.35, 0.2],
                _ => [0.1, 0.12, 0.08, 0.15, 0.1],
            },
            "subgroup unseen" => {
                if rng.random::<f64>() < 0.15 {
                    [0.02, 0.01, 0.02, 0.01, 0.02]
                } else {
                    [0.3, 0.3, 0.25, 0.35, 0.3]
                }
            }
            _ => [0.3, 0.0, 0.25, 0.3, 0.25], // referral: list 2 below
        };
        let mut h = 0usize;
        for (j, pj) in p.iter().enumerate() {
            let pj = if scenario == "referral" && j == 1 {
                if h & 1 != 0 { 0.6 } else { 0.15 }
            } else {
                *pj
            };
            if rng.random::<f64>() < pj {
                h |= 1 << j;
            }
        }
        counts[h] += 1;
    }
    CaptureHistories {
        lists: (1..=T).map(|i| format!("list{i}")).collect(),
        strata: vec![],
        rows: (1..counts.len())
            .filter(|&h| counts[h] > 0)
            .map(|h| (vec![], h as u16, counts[h]))
            .collect(),
    }
}

/// The methods tallied, by `method` or, for the heterogeneity models, by `model`.
pub const METHODS: [&str; 6] = [
    "loglinear-averaged",
    "loglinear-best",
    "Mth Darroch",
    "Mth Chao (LB)",
    "dga",
    "lcmcr",
];

/// The lists of replicate `r` of a scenario, always the same for the same `r`.
pub fn replicate(scenario: &str, people: usize, r: usize) -> CaptureHistories {
    draw(
        &mut ChaCha8Rng::seed_from_u64(1000 + r as u64),
        scenario,
        people,
    )
}

/// The estimation options of replicate `r`: every method, the latent-class model with 2 chains
/// of 30,000 sweeps after 5,000 of burn-in (every 5th kept) and at most `classes` classes.
pub fn options(r: usize, classes: usize, capture_prior: f64) -> Options {
    Options {
        lcmcr: Some(LcmcrOptions {
            burn_in: 5_000,
            samples: 30_000,
            thin: 5,
            seed: r as u64,
            classes,
            capture_prior,
            ..LcmcrOptions::default()
        }),
        ..Options::default()
    }
}

/// Bias and coverage of one method over the replicates of a scenario.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    relative_error: f64,
    covered: usize,
    below: usize,
    width: f64,
    estimates: usize,
    /// Replicates in which the method gave no number.
    pub missing: usize,
}

impl Tally {
    /// Adds the estimates of one replicate whose true total is `n` to the tallies of
    /// [`METHODS`].
    pub fn add(tallies: &mut [Tally], estimates: &[Estimate], n: f64) {
        for e in estimates {
            let Some(i) = METHODS.iter().position(|m| *m == e.method || *m == e.model) else {
                continue;
            };
            let s = &mut tallies[i];
            match (e.estimate, e.lower, e.upper) {
                (Some(x), Some(lo), Some(hi)) => {
                    s.relative_error += (x - n) / n;
                    s.covered += usize::from(lo <= n && n <= hi);
                    s.width += hi - lo;
                    s.estimates += 1;
                    s.below += usize::from(hi < n);
                }
                _ => s.missing += 1,
            }
        }
    }

    fn per_estimate(&self, x: f64) -> f64 {
        x / self.estimates.max(1) as f64
    }

    /// Mean relative error of the point estimate.
    pub fn bias(&self) -> f64 {
        self.per_estimate(self.relative_error)
    }

    /// Share of 95% intervals that hold the truth.
    pub fn coverage(&self) -> f64 {
        self.per_estimate(self.covered as f64)
    }

    /// Share of intervals wholly below the truth.
    pub fn below(&self) -> f64 {
        self.per_estimate(self.below as f64)
    }

    /// Mean width of the intervals.
    pub fn width(&self) -> f64 {
        self.per_estimate(self.width)
    }
}
