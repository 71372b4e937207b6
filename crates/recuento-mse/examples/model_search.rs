//! The log-linear average over every hierarchical model (six lists with pairs: 2^15 = 32,768;
//! five lists with three-list terms: 6,212; as Rcapture's `closedpMS.t` fits them) against the
//! average over the models forward selection visits, which is what recuento averaged over
//! before it enumerated them all. Bias and 95% interval coverage with known N, and seconds per
//! table.
//!
//! Scenarios: independent lists; two latent classes of visibility (30% of people about three
//! times as visible as the rest); two pairs of lists that refer to each other (a person on list
//! 1 is much likelier on list 2, one on list 4 on list 5). Run:
//! `cargo run --release -p recuento-mse --example model_search -- [replicates] [people]
//! [lists] [order]` (defaults 50, 2,000, 6 lists and pairs; 5 lists or 6, order 2 or 3).
//! Replicate `r` of every scenario is drawn with seed 1000 + r.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_model::CaptureHistories;
use recuento_mse::loglinear::{self, ModelFit, Terms};
use recuento_mse::{Options, estimate};

const SCENARIOS: [&str; 3] = ["independent", "two latent classes", "referral"];

/// Counts per capture pattern (index = pattern, bit j = list j + 1) of one replicate of `t`
/// lists (the first `t` of six).
fn draw(scenario: &str, people: usize, r: usize, t: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(1000 + r as u64);
    let mut counts = vec![0.0; 1 << t];
    for _ in 0..people {
        let p: [f64; 6] = match scenario {
            "independent" => [0.25, 0.3, 0.2, 0.35, 0.25, 0.3],
            "two latent classes" => {
                if rng.random::<f64>() < 0.3 {
                    [0.5, 0.45, 0.55, 0.5, 0.4, 0.5]
                } else {
                    [0.15, 0.2, 0.12, 0.18, 0.15, 0.15]
                }
            }
            _ => [0.3, 0.0, 0.25, 0.3, 0.0, 0.25],
        };
        let mut h = 0usize;
        for (j, &pj) in p.iter().enumerate().take(t) {
            // Referral: lists 2 and 5 take most of their people from lists 1 and 4.
            let pj = match (scenario, j) {
                ("referral", 1 | 4) => {
                    if h & (1 << (j - 1)) != 0 {
                        0.6
                    } else {
                        0.15
                    }
                }
                _ => pj,
            };
            if rng.random::<f64>() < pj {
                h |= 1 << j;
            }
        }
        counts[h] += 1.0;
    }
    counts[0] = 0.0;
    counts
}

/// The table as `recuento_mse::estimate` reads it.
fn histories(counts: &[f64], t: usize) -> CaptureHistories {
    CaptureHistories {
        lists: (1..=t).map(|i| format!("list{i}")).collect(),
        strata: vec![],
        rows: (1..counts.len())
            .filter(|&h| counts[h] > 0.0)
            .map(|h| (vec![], h as u16, counts[h] as u64))
            .collect(),
    }
}

/// The average over the models forward selection visits, each fitted once, as recuento
/// computed it before it enumerated every model: (estimate, lower, upper, models averaged).
fn forward_average(
    counts: &[f64],
    observed: f64,
    t: usize,
    order: usize,
) -> (f64, f64, f64, usize) {
    let fits: RefCell<HashMap<Vec<u16>, Option<ModelFit>>> = RefCell::new(HashMap::new());
    let score = |terms: &Terms| {
        let fit = loglinear::fit_model(counts, t, terms)
            .ok()
            .filter(|f| f.missing.is_finite() && f.missing < 1_000.0 * observed);
        let aic = fit.as_ref().map(|f| f.aic);
        fits.borrow_mut().insert(terms.0.clone(), fit);
        aic
    };
    let visited = loglinear::forward_selection(&loglinear::candidate_terms(t, order), &score);
    let fits = fits.into_inner();
    let kept: Vec<ModelFit> = visited
        .iter()
        .filter_map(|m| fits.get(&m.0).cloned().flatten())
        .collect();
    let a = loglinear::average(&kept, observed, false);
    (a.estimate, a.lower, a.upper, kept.len())
}

/// Bias, coverage and time of one method over the replicates of a scenario.
#[derive(Default)]
struct Tally {
    error: f64,
    covered: usize,
    width: f64,
    seconds: f64,
    models: usize,
    n: usize,
}

impl Tally {
    fn add(&mut self, truth: f64, (point, lower, upper, models): (f64, f64, f64, usize), s: f64) {
        self.error += point / truth - 1.0;
        self.covered += usize::from(lower <= truth && truth <= upper);
        self.width += upper - lower;
        self.seconds += s;
        self.models += models;
        self.n += 1;
    }

    fn row(&self, scenario: &str, method: &str) {
        let n = self.n.max(1) as f64;
        println!(
            "| {scenario} | {method} | {:.0} | {:+.1}% | {:.0}% | {:.0} | {:.2} |",
            self.models as f64 / n,
            100.0 * self.error / n,
            100.0 * self.covered as f64 / n,
            self.width / n,
            self.seconds / n,
        );
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let replicates = args.first().copied().unwrap_or(50);
    let people = args.get(1).copied().unwrap_or(2000);
    let t = args.get(2).copied().unwrap_or(6).clamp(5, 6);
    let order = args.get(3).copied().unwrap_or(2).clamp(2, 3);
    let options = Options {
        dga: None,
        max_order: order,
        ..Options::default()
    };
    println!(
        "N = {people}, {t} lists, terms of up to {order} lists, {replicates} replicates per scenario; models averaged (mean), relative bias of the average, coverage of the 95% interval, mean width, seconds per table (the whole estimate, heterogeneity models included, for every model; the search and fits alone for forward selection)\n"
    );
    println!("| scenario | average over | models | bias | coverage | width | seconds |");
    println!("|---|---|---|---|---|---|---|");
    for scenario in SCENARIOS {
        let (mut every, mut forward) = (Tally::default(), Tally::default());
        for r in 0..replicates {
            let counts = draw(scenario, people, r, t);
            let observed: f64 = counts.iter().sum();
            let clock = Instant::now();
            let estimates = estimate(&histories(&counts, t), &options);
            let seconds = clock.elapsed().as_secs_f64();
            let headline = estimates
                .iter()
                .find(|e| e.method == "loglinear-averaged")
                .expect("the headline");
            let averaged: usize = headline
                .model
                .split_whitespace()
                .nth(2)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            match (headline.estimate, headline.lower, headline.upper) {
                (Some(x), Some(lo), Some(hi)) => {
                    every.add(people as f64, (x, lo, hi, averaged), seconds)
                }
                _ => eprintln!("{scenario} replicate {r}: no headline estimate"),
            }
            let clock = Instant::now();
            let result = forward_average(&counts, observed, t, order);
            forward.add(people as f64, result, clock.elapsed().as_secs_f64());
        }
        every.row(scenario, "every model");
        forward.row(scenario, "forward selection");
    }
}
