//! The latent-class sampler draws from its model's posterior: simulation-based calibration
//! (`sbc/mod.rs`) on small data sets drawn from the prior, with shorter chains than the
//! example `calibration` runs (`docs/benchmarks.md` has its figures).

mod sbc;

use sbc::{Design, rank_histogram, replicate};

/// The rank of the true N is uniform, and the 95% interval covers the truth about 95% of the
/// time, over data sets drawn from the prior, and again over the hard ones alone (at least
/// half of the people seen on one list only). The bounds are wide enough for 120 replicates
/// (the chi-square 0.1% critical value on 4 degrees of freedom is 18.5), and the run is seeded,
/// so the test is deterministic. It fails when a step samples the wrong conditional: classes
/// of the unseen drawn from π instead of π_k P(unseen | k) give chi-square 46.6 and coverage
/// 73%; n₀ drawn with mean n·p₀ instead of n·p₀/(1 − p₀), 26.4 and 81%. Errors worth a person
/// or two in N pass it: the capture probabilities' prior Beta(2, 1) in the Gibbs step, or the
/// ridge moves' target without the Jacobian of the sticks' logits (which no test here catches;
/// `visibility_moves_keep_the_priors_on_a_small_table` catches the visibility moves' own).
#[test]
fn ranks_of_the_true_n_are_uniform() {
    for min_once in [0.0, 0.5] {
        let design = Design {
            t: 4,
            k: 5,
            min_once,
            burn_in: 4_000,
            samples: 16_000,
            rank_draws: 19,
        };
        let results: Vec<_> = (0..120).filter_map(|r| replicate(r, &design).0).collect();
        assert!(results.len() >= 115, "{} replicates", results.len());
        let u: Vec<f64> = results.iter().map(|x| x.u).collect();
        let (bins, chi2) = rank_histogram(&u, 5);
        let covered = results.iter().filter(|x| x.covered).count() as f64 / results.len() as f64;
        eprintln!(
            "seen once ≥ {min_once}: ranks {bins:?}, chi-square {chi2:.1}, coverage {covered:.3}"
        );
        assert!(
            chi2 < 18.5,
            "seen once ≥ {min_once}: ranks {bins:?}, chi-square {chi2:.1}"
        );
        assert!(
            (0.88..=0.995).contains(&covered),
            "seen once ≥ {min_once}: coverage {covered:.3}"
        );
    }
}
