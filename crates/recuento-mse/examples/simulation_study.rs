//! Simulation study with known N: bias and 95% interval coverage per method and scenario.
//!
//! Scenarios (5 lists, N = 2,000): independent lists; two latent classes of visibility (30% of
//! people three times as visible as the rest); three latent classes, 40% of people with about
//! 10% capture per list; one list that refers to another (a person on list 1 is much likelier
//! on list 2); a subgroup (15%) that almost no list sees. Run:
//! `cargo run --release -p recuento-mse --example simulation_study -- [replicates] [classes]`
//! (defaults 50, and K = 10 latent classes at most for the latent-class model).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_model::CaptureHistories;
use recuento_mse::{Options, estimate, lcmcr::LcmcrOptions};

const N: usize = 2000;
const T: usize = 5;

fn draw(rng: &mut ChaCha8Rng, scenario: &str) -> CaptureHistories {
    let mut counts = vec![0u64; 1 << T];
    for _ in 0..N {
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

fn main() {
    let replicates: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let classes: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let methods = [
        "loglinear-averaged",
        "loglinear-best",
        "Mth Darroch",
        "Mth Chao (LB)",
        "dga",
        "lcmcr",
    ];
    println!(
        "N = {N}, {T} lists, {replicates} replicates per scenario, latent-class K = {classes}; relative bias of the point estimate, coverage of the 95% interval, mean interval width"
    );
    println!();
    println!("| scenario | method | relative bias | coverage | mean width | no estimate |");
    println!("|---|---|---|---|---|---|");
    for scenario in [
        "independent",
        "two latent classes",
        "three latent classes",
        "referral",
        "subgroup unseen",
    ] {
        let mut stats = vec![(0.0f64, 0usize, 0.0f64, 0usize, 0usize); methods.len()];
        for r in 0..replicates {
            let mut rng = ChaCha8Rng::seed_from_u64(1000 + r as u64);
            let h = draw(&mut rng, scenario);
            let options = Options {
                lcmcr: Some(LcmcrOptions {
                    burn_in: 5_000,
                    samples: 30_000,
                    thin: 5,
                    seed: r as u64,
                    classes,
                    ..LcmcrOptions::default()
                }),
                ..Options::default()
            };
            for e in estimate(&h, &options) {
                let Some(i) = methods.iter().position(|m| *m == e.method || *m == e.model) else {
                    continue;
                };
                let s = &mut stats[i];
                match (e.estimate, e.lower, e.upper) {
                    (Some(x), Some(lo), Some(hi)) => {
                        s.0 += (x - N as f64) / N as f64;
                        s.1 += usize::from(lo <= N as f64 && N as f64 <= hi);
                        s.2 += hi - lo;
                        s.3 += 1;
                    }
                    _ => s.4 += 1,
                }
            }
        }
        for (m, s) in methods.iter().zip(&stats) {
            let n = s.3.max(1) as f64;
            println!(
                "| {scenario} | {m} | {:+.1}% | {:.0}% | {:.0} | {} |",
                100.0 * s.0 / n,
                100.0 * s.1 as f64 / n,
                s.2 / n,
                s.4
            );
        }
    }
}
