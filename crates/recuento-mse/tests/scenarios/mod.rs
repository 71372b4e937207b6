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

/// A class of people in a published scenario: its share of the people and the capture
/// probability of each list.
pub type Class = (f64, [f64; T]);

/// The published scenarios of the latent-class model, each a set of classes of people that lists
/// see with their own probabilities: (share of the people, capture probability of each list).
/// The first is the simulation of Manrique-Vallier (2016, *Biometrics* 72(4), section 5), the
/// paper of the model and of the LCMCR package; the other four are the further scenarios with
/// which HRDAG compared LCMCR with its Stan version (repository HRDAG/StanLCMCR,
/// `import/hand/simulations.yaml`). All have N = 2,000, 5 lists and classes of fixed size.
pub const PUBLISHED: [(&str, &[Class]); 5] = [
    (
        "Manrique-Vallier 2016",
        &[
            (0.9, [0.033, 0.033, 0.099, 0.132, 0.033]),
            (0.1, [0.660, 0.825, 0.759, 0.990, 0.693]),
        ],
    ),
    (
        "HRDAG 2: rarer",
        &[
            (0.8, [0.013, 0.013, 0.099, 0.132, 0.033]),
            (0.2, [0.560, 0.825, 0.759, 0.990, 0.593]),
        ],
    ),
    (
        "HRDAG 3: more visible",
        &[
            (0.8, [0.113, 0.113, 0.199, 0.232, 0.133]),
            (0.2, [0.860, 0.925, 0.859, 0.990, 0.793]),
        ],
    ),
    (
        "HRDAG 4: three classes",
        &[
            (0.8, [0.1, 0.05, 0.15, 0.2, 0.1]),
            (0.1, [0.5, 0.4, 0.6, 0.4, 0.5]),
            (0.1, [0.8, 0.9, 0.6, 0.7, 0.7]),
        ],
    ),
    (
        "HRDAG 5: lists disagree",
        &[
            (0.8, [0.113, 0.113, 0.199, 0.832, 0.733]),
            (0.2, [0.860, 0.925, 0.859, 0.190, 0.193]),
        ],
    ),
];

/// The lists of one replicate: `people` people, each listed by each list with the scenario's
/// probabilities.
pub fn draw(rng: &mut ChaCha8Rng, scenario: &str, people: usize) -> CaptureHistories {
    let mut counts = vec![0u64; 1 << T];
    // A published scenario: its classes in turn, each with its share of the people.
    let published = PUBLISHED.iter().find(|p| p.0 == scenario).map(|p| p.1);
    let mut class_ends = Vec::new();
    if let Some(classes) = published {
        let mut share = 0.0;
        for (s, _) in classes {
            share += s;
            class_ends.push((share * people as f64).round() as usize);
        }
    }
    for i in 0..people {
        let p: [f64; T] = match (scenario, published) {
            (_, Some(classes)) => {
                let c = class_ends.iter().position(|&end| i < end).unwrap_or(0);
                classes[c].1
            }
            ("independent", None) => [0.25, 0.3, 0.2, 0.35, 0.25],
            ("two latent classes", None) => {
                if rng.random::<f64>() < 0.3 {
                    [0.5, 0.45, 0.55, 0.5, 0.4]
                } else {
                    [0.15, 0.2, 0.12, 0.18, 0.15]
                }
            }
            ("three latent classes", None) => match rng.random_range(0..10) {
                0..=1 => [0.6, 0.55, 0.5, 0.65, 0.5],
                2..=5 => [0.3, 0.25, 0.3, 0.35, 0.2],
                _ => [0.1, 0.12, 0.08, 0.15, 0.1],
            },
            ("subgroup unseen", None) => {
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
