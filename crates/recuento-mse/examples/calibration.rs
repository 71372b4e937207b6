//! Simulation-based calibration of the latent-class sampler: the rank histogram of the true N
//! among posterior draws and the coverage of the 95% interval, over data sets drawn from the
//! model's own prior (the method is described in `tests/sbc/mod.rs`). Run:
//! `cargo run --release -p recuento-mse --example calibration -- [replicates] [lists] [classes]
//! [seen once]` (defaults 400, 5 lists, K = 10 and 0; 2 chains of 50,000 sweeps after 10,000 of
//! burn-in, 99 draws per rank). With `seen once` = s, only data sets in which at least a share s
//! of the people seen are on one list only are kept.

#[path = "../tests/sbc/mod.rs"]
mod sbc;

use recuento_mse::lcmcr::quantile;
use sbc::{Design, N_MAX, N_MIN, Replicate, rank_histogram, replicate};

/// Bins of the rank histogram.
const BINS: usize = 10;

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (replicates, t, k) = (arg(1, 400), arg(2, 5).clamp(2, 8), arg(3, 10).max(1));
    let min_once: f64 = std::env::args()
        .nth(4)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0.0);
    let started = std::time::Instant::now();
    let design = Design {
        t,
        k,
        min_once,
        burn_in: 10_000,
        samples: 50_000,
        rank_draws: 99,
    };
    let mut draws = 0;
    let results: Vec<Replicate> = (0..replicates as u64)
        .filter_map(|r| {
            let (x, tries) = replicate(r, &design);
            draws += tries;
            x
        })
        .collect();
    let m = results.len();
    println!(
        "{m} of {replicates} replicates ({t} lists, K = {k}, N ∝ 1/N on {N_MIN}–{N_MAX}; 2 chains of {} sweeps after {} of burn-in), {:.0} s",
        design.samples,
        design.burn_in,
        started.elapsed().as_secs_f64()
    );
    if min_once > 0.0 {
        println!(
            "Only data sets with at least {:.0}% of the people seen on one list only: {replicates} of {draws} drawn from the prior.",
            100.0 * min_once
        );
    }
    let u: Vec<f64> = results.iter().map(|x| x.u).collect();
    let (bins, chi2) = rank_histogram(&u, BINS);
    let expected = m as f64 / BINS as f64;
    println!();
    println!(
        "Rank of the true N among {} posterior draws, in {BINS} bins (expected {expected:.1} each):",
        design.rank_draws
    );
    println!();
    println!("| bin | replicates |");
    println!("|---|---|");
    for (i, b) in bins.iter().enumerate() {
        println!(
            "| {:.1}–{:.1} | {b} |",
            i as f64 / BINS as f64,
            (i + 1) as f64 / BINS as f64
        );
    }
    println!();
    println!(
        "chi-square {chi2:.1} on {} degrees of freedom (5% critical value 16.9, 1% 21.7)",
        BINS - 1
    );
    // Coverage by how much of the population the lists saw: calibration holds on average over
    // the prior, and these rows show where the posterior is sure and where it is not.
    println!();
    println!(
        "| share of people seen | replicates | 95% interval covers N | median R-hat | median ESS |"
    );
    println!("|---|---|---|---|---|");
    for (lo, hi) in [
        (0.0, 0.25),
        (0.25, 0.5),
        (0.5, 0.75),
        (0.75, 1.01),
        (0.0, 1.01),
    ] {
        let group: Vec<&Replicate> = results
            .iter()
            .filter(|x| {
                let s = x.observed as f64 / x.n as f64;
                lo <= s && s < hi
            })
            .collect();
        if group.is_empty() {
            continue;
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            quantile(&v, 0.5)
        };
        println!(
            "| {} | {} | {:.1}% | {:.3} | {:.0} |",
            if hi > 1.0 && lo == 0.0 {
                "all".to_string()
            } else {
                format!("{:.0}–{:.0}%", 100.0 * lo, 100.0 * hi.min(1.0))
            },
            group.len(),
            100.0 * group.iter().filter(|x| x.covered).count() as f64 / group.len() as f64,
            median(group.iter().map(|x| x.r_hat).collect()),
            median(group.iter().map(|x| x.ess).collect()),
        );
    }
}
