//! Time of the average over decomposable graphs for 3 to 6 lists (about 4,000–5,000 people
//! observed), with its estimate. Run: `cargo run --release -p recuento-mse --example dga_speed`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_mse::dga::{DgaOptions, posterior};

fn main() {
    println!(
        "| lists | graphs | people (true) | observed | median | 95% interval | top graph | weight | seconds |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for t in 3..=6usize {
        let mut rng = ChaCha8Rng::seed_from_u64(t as u64);
        let mut counts = vec![0u64; 1 << t];
        let truth = 7_000;
        for _ in 0..truth {
            let mut h = 0;
            for j in 0..t {
                // List 2 refers people to list 1 (a dependence the graphs can model).
                let p = if j == 1 && h & 1 != 0 {
                    0.55
                } else {
                    0.2 + 0.03 * j as f64
                };
                if rng.random::<f64>() < p {
                    h |= 1 << j;
                }
            }
            counts[h] += 1;
        }
        let lists: Vec<String> = (1..=t).map(|i| format!("l{i}")).collect();
        let started = std::time::Instant::now();
        let r = posterior(&counts, &lists, &DgaOptions::default()).expect("3 to 6 lists");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "| {t} | {} | {truth} | {} | {:.0} | {:.0}–{:.0} | {} | {:.2} | {secs:.3} |",
            r.graph_count,
            counts[1..].iter().sum::<u64>(),
            r.median,
            r.lower,
            r.upper,
            r.graphs[0].graph,
            r.graphs[0].weight
        );
    }
}
