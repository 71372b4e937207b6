//! What must hold for any capture-pattern table, however far from a model: random tables of 2
//! to 5 lists, 1 to a million people per cell, up to 80% of the cells empty, a quarter of them
//! split into strata, with a minimum count per list that can leave lists out (the CI-sized
//! version of `bench/property_estimate.sh`, which also runs the latent-class model and
//! `--sensitivity` through the command line). Every estimate is finite, at least the people
//! seen and inside its own interval; every missing number says why; every warning is said in
//! Spanish too. Seeded, so deterministic.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_model::CaptureHistories;
use recuento_mse::{Options, estimate};

/// A random table: the lists, and the people per capture pattern.
fn table(rng: &mut ChaCha8Rng) -> CaptureHistories {
    let t = [2, 3, 3, 4, 4, 5][rng.random_range(0..6)];
    let scale = [1.0, 3.0, 10.0, 50.0, 300.0, 5_000.0, 1e6][rng.random_range(0..7)];
    let empty = [0.0, 0.2, 0.5, 0.8][rng.random_range(0..4)];
    let rows = (1..1u16 << t)
        .filter_map(|h| {
            if rng.random::<f64>() < empty {
                return None;
            }
            // Fewer people on more lists, most of the time, as in real lists.
            let shrink = if rng.random::<f64>() < 0.7 {
                0.5f64.powi(h.count_ones() as i32 - 1)
            } else {
                1.0
            };
            let n = (-rng.random::<f64>().ln() * scale * shrink) as u64;
            (n > 0).then_some((vec![], h, n))
        })
        .collect::<Vec<_>>();
    // A quarter of the tables are split at random into 2 or 3 strata.
    let strata = if rng.random::<f64>() < 0.25 {
        rng.random_range(2..4)
    } else {
        1
    };
    if strata == 1 {
        return CaptureHistories {
            lists: (0..t).map(|j| format!("l{j}")).collect(),
            strata: vec![],
            rows,
        };
    }
    let mut split = Vec::new();
    for (_, h, n) in rows {
        let mut left = n;
        for k in 0..strata {
            let part = if k == strata - 1 {
                left
            } else {
                rng.random_range(0..=left)
            };
            left -= part;
            if part > 0 {
                split.push((vec![format!("p{k}")], h, part));
            }
        }
    }
    CaptureHistories {
        lists: (0..t).map(|j| format!("l{j}")).collect(),
        strata: vec!["place".into()],
        rows: split,
    }
}

#[test]
fn every_estimate_lies_inside_its_interval_and_above_the_people_seen() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut checked = 0;
    for case in 0..150 {
        let h = table(&mut rng);
        // Strata sometimes leave lists out (a minimum count per list).
        let options = Options {
            min_list_count: [1, 1, 2, 10, 100][rng.random_range(0..5)],
            ..Options::default()
        };
        for e in estimate(&h, &options) {
            // Seen in the estimate's own stratum (the sums count every stratum's people).
            let seen = e.observed as f64;
            let what = format!("table {case} {:?}: {} ({})", h.rows, e.method, e.model);
            // Every warning is said in Spanish too, for the documentation teams.
            assert_eq!(e.warnings_es.len(), e.warnings.len(), "{what}");
            for (en, es) in e.warnings.iter().zip(&e.warnings_es) {
                assert_ne!(en, es, "{what}: not in Spanish");
            }
            let Some(x) = e.estimate else {
                assert!(!e.warnings.is_empty(), "{what}: no number and no reason");
                continue;
            };
            checked += 1;
            let slack = 1e-6 * x.max(1.0);
            assert!(
                x.is_finite() && x >= seen - slack,
                "{what}: {x} for {seen} seen"
            );
            if let Some(lo) = e.lower {
                assert!(
                    lo <= x + slack && lo >= seen - slack,
                    "{what}: lower {lo}, {x}"
                );
            }
            if let Some(hi) = e.upper {
                assert!(hi >= x - slack, "{what}: upper {hi} below {x}");
            }
        }
    }
    // Most tables give numbers: the test checks estimates, not refusals.
    assert!(checked > 1_000, "{checked}");
}
