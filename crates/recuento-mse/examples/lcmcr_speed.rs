//! Speed of the latent-class sampler on the reference shape of the estimation issue: 4 lists,
//! about 4,400 observed people, K = 10 classes. Prints, per setting, sweeps per second per chain
//! and effective draws of N per second (wall clock of the whole run, ESS summed over chains),
//! averaged over seeds 1, 2, 3 (or 1 to N with `seeds=N`, F to F + N − 1 with `first=F` too).
//! Run on an otherwise idle machine:
//! `cargo run --release -p recuento-mse --example lcmcr_speed [classes=K] [seeds=N] [first=F] [chains=1|2]
//! [scale=S] [MOVES …]` (default: K = 10, 1 and 2 chains, plain Gibbs and the default moves,
//! scale 1: `scale=S` multiplies every count by S). Each MOVES is
//! `R/V`, R ridge moves and V visibility moves per sweep, or `R` alone: R ridge moves with the
//! default visibility moves, or none when R is 0 (`0` is LCMCR's plain Gibbs sampler).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_mse::lcmcr::{LcmcrOptions, RIDGE_MOVES, VISIBILITY_MOVES, sample};

fn main() {
    // Two visibility classes, 6,650 people: about 4,400 are seen by at least one list.
    let mut rng = ChaCha8Rng::seed_from_u64(2016);
    let classes = [
        (0.35, [0.55, 0.45, 0.5, 0.4]),
        (0.65, [0.2, 0.15, 0.22, 0.12]),
    ];
    let mut counts = vec![0u64; 16];
    for _ in 0..6_650 {
        let c = usize::from(rng.random::<f64>() >= classes[0].0);
        let mut h = 0;
        for j in 0..4 {
            if rng.random::<f64>() < classes[c].1[j] {
                h |= 1 << j;
            }
        }
        counts[h] += 1;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let classes: usize = args
        .iter()
        .find_map(|a| a.strip_prefix("classes=")?.parse().ok())
        .unwrap_or(10);
    let seeds: u64 = args
        .iter()
        .find_map(|a| a.strip_prefix("seeds=")?.parse().ok())
        .unwrap_or(3)
        .max(1);
    let first: u64 = args
        .iter()
        .find_map(|a| a.strip_prefix("first=")?.parse().ok())
        .unwrap_or(1);
    let only_chains: Option<usize> = args
        .iter()
        .find_map(|a| a.strip_prefix("chains=")?.parse().ok());
    let mut moves: Vec<(usize, usize)> = args
        .iter()
        .filter_map(|a| match a.split_once('/') {
            Some((r, v)) => Some((r.parse().ok()?, v.parse().ok()?)),
            None => {
                let r: usize = a.parse().ok()?;
                Some((r, if r == 0 { 0 } else { VISIBILITY_MOVES }))
            }
        })
        .collect();
    if moves.is_empty() {
        moves = vec![(0, 0), (RIDGE_MOVES, VISIBILITY_MOVES)];
    }
    // `scale=S` multiplies every count: the same shares with S times the people, to see how
    // mixing changes with the size of the table.
    let scale: u64 = args
        .iter()
        .find_map(|a| a.strip_prefix("scale=")?.parse().ok())
        .unwrap_or(1)
        .max(1);
    counts.iter_mut().for_each(|c| *c *= scale);
    let observed: u64 = counts[1..].iter().sum();
    println!(
        "observed {observed} of {}, K = {classes}, 10,000 + 100,000 sweeps per chain, thin 10",
        6_650 * scale
    );
    println!(
        "| moves (ridge/visibility) | chains | seed | sweeps/s per chain | ESS of N | ESS/s | median | 95% interval | R-hat | acceptance (ridge/visibility) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let percent = |a: Option<f64>| a.map_or("—".to_string(), |a| format!("{:.0}%", 100.0 * a));
    for &(ridge_moves, visibility_moves) in &moves {
        for chains in [1, 2] {
            if only_chains.is_some_and(|c| c != chains) {
                continue;
            }
            let (mut speed, mut ess_rate) = (0.0, 0.0);
            for seed in first..first + seeds {
                let options = LcmcrOptions {
                    classes,
                    chains,
                    burn_in: 10_000,
                    samples: 100_000,
                    thin: 10,
                    seed,
                    ridge_moves,
                    visibility_moves,
                    // A fixed run: the speed of a sweep is what is measured.
                    target_ess: 0.0,
                    ..LcmcrOptions::default()
                };
                let started = std::time::Instant::now();
                let r = sample(&counts, 4, &options);
                let wall = started.elapsed().as_secs_f64();
                speed += r.sweeps_per_second / seeds as f64;
                ess_rate += r.ess / wall / seeds as f64;
                println!(
                    "| {ridge_moves}/{visibility_moves} | {chains} | {seed} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0}–{:.0} | {:.3} | {}/{} |",
                    r.sweeps_per_second,
                    r.ess,
                    r.ess / wall,
                    r.median,
                    r.lower,
                    r.upper,
                    r.r_hat,
                    percent(r.ridge_acceptance),
                    percent(r.visibility_acceptance),
                );
            }
            println!(
                "| {ridge_moves}/{visibility_moves} | {chains} | mean | {speed:.0} | | {ess_rate:.0} | | | | |"
            );
        }
    }
}
