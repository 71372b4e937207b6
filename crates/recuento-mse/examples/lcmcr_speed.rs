//! Speed of the latent-class sampler on the reference shape of the estimation issue: 4 lists,
//! about 4,400 observed people, K = 10 classes. Prints sweeps per second per chain and effective
//! draws of N per second. Run: `cargo run --release -p recuento-mse --example lcmcr_speed`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_mse::lcmcr::{LcmcrOptions, sample};

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
    let observed: u64 = counts[1..].iter().sum();
    println!("observed {observed} of 6650, K = 10");
    println!(
        "| chains | sweeps per chain | sweeps/s per chain | ESS of N | ESS/s | median | 95% interval | R-hat |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for chains in [1, 2] {
        let options = LcmcrOptions {
            classes: 10,
            chains,
            burn_in: 10_000,
            samples: 100_000,
            thin: 1,
            seed: 1,
        };
        let started = std::time::Instant::now();
        let r = sample(&counts, 4, &options);
        let wall = started.elapsed().as_secs_f64();
        println!(
            "| {chains} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0}–{:.0} | {:.3} |",
            options.burn_in + options.samples,
            r.sweeps_per_second,
            r.ess,
            r.ess / wall,
            r.median,
            r.lower,
            r.upper,
            r.r_hat
        );
    }
}
