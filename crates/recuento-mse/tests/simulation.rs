//! The simulation study of the estimators with known N, at CI size: the five scenarios of the
//! example `simulation_study` (`scenarios/mod.rs`), 10 replicates each instead of 50. Seeded, so
//! deterministic; the bounds leave room for what 10 replicates can show, and each states what a
//! method must get right in that scenario (docs/benchmarks.md has the 50-replicate figures).

mod scenarios;

use recuento_mse::{LOG_LINEAR_REJECTED, METHODS_DISAGREE, estimate};
use scenarios::{METHODS, SCENARIOS, Tally};

const REPLICATES: usize = 10;
const PEOPLE: usize = 2_000;

/// The tallies of every method, and the replicates whose headline warns that the methods
/// disagree.
fn study(scenario: &str) -> (Vec<Tally>, usize) {
    let mut tallies = vec![Tally::default(); METHODS.len()];
    let mut disagree = 0;
    for r in 0..REPLICATES {
        let h = scenarios::replicate(scenario, PEOPLE, r);
        let estimates = estimate(&h, &scenarios::options(r, 10, 1.0));
        Tally::add(&mut tallies, &estimates, PEOPLE as f64);
        disagree += usize::from(
            estimates[0]
                .warnings
                .iter()
                .any(|w| w.starts_with(METHODS_DISAGREE)),
        );
    }
    eprintln!("{scenario:<22} methods disagree in {disagree} of {REPLICATES}");
    for (m, t) in METHODS.iter().zip(&tallies) {
        eprintln!(
            "{scenario:<22} {m:<20} bias {:+.1}%  coverage {:.0}%  width {:.0}",
            100.0 * t.bias(),
            100.0 * t.coverage(),
            t.width()
        );
        assert_eq!(t.missing, 0, "{scenario}: {m} gave no number");
    }
    (tallies, disagree)
}

fn method(tallies: &[Tally], name: &str) -> Tally {
    tallies[METHODS.iter().position(|m| *m == name).unwrap()].clone()
}

#[test]
fn every_method_does_what_it_claims_in_each_scenario() {
    let [
        (independent, calm_independent),
        (two, _),
        (three, three_disagree),
        (referral, calm_referral),
        (unseen, _),
    ] = SCENARIOS.map(study);
    // The methods agree when their assumptions hold; when visibility varies between people, dga
    // (no heterogeneity) parts from the others and the headline says so.
    assert_eq!((calm_independent, calm_referral), (0, 0));
    assert!(three_disagree >= REPLICATES / 2, "{three_disagree}");
    // Independent lists: every method is right, and its interval covers.
    for m in METHODS {
        let t = method(&independent, m);
        assert!(t.bias().abs() < 0.02, "independent: {m} bias {}", t.bias());
        assert!(
            t.coverage() >= 0.8,
            "independent: {m} coverage {}",
            t.coverage()
        );
    }
    // One list refers people to another: the methods that model dependence between lists stay
    // right (the headline average, dga, and the latent-class model, whose classes absorb it).
    for m in ["loglinear-averaged", "dga", "lcmcr"] {
        let t = method(&referral, m);
        assert!(t.bias().abs() < 0.02, "referral: {m} bias {}", t.bias());
        assert!(
            t.coverage() >= 0.8,
            "referral: {m} coverage {}",
            t.coverage()
        );
    }
    // Visibility that varies between people: models without heterogeneity terms are low (dga,
    // Chao's lower bound); the latent-class model and the averaged log-linear model are much
    // closer.
    for (name, tallies) in [("two classes", &two), ("three classes", &three)] {
        let dga = method(tallies, "dga");
        let chao = method(tallies, "Mth Chao (LB)");
        let lcmcr = method(tallies, "lcmcr");
        let averaged = method(tallies, "loglinear-averaged");
        assert!(dga.bias() < -0.08, "{name}: dga bias {}", dga.bias());
        assert!(chao.bias() < -0.05, "{name}: Chao bias {}", chao.bias());
        assert!(
            lcmcr.bias() > dga.bias() + 0.03,
            "{name}: lcmcr {} vs dga {}",
            lcmcr.bias(),
            dga.bias()
        );
        assert!(
            averaged.bias().abs() < 0.04,
            "{name}: averaged {}",
            averaged.bias()
        );
        assert!(
            averaged.coverage() >= 0.7,
            "{name}: averaged {}",
            averaged.coverage()
        );
    }
    // A subgroup that almost no list sees: nothing recovers it, every method is low, with its
    // interval wholly below the truth.
    for m in METHODS {
        let t = method(&unseen, m);
        assert!(t.bias() < -0.08, "subgroup unseen: {m} bias {}", t.bias());
        assert!(t.below() >= 0.9, "subgroup unseen: {m} below {}", t.below());
    }
}

/// The simulation of Manrique-Vallier (2016), the paper of the latent-class model: 90% of the
/// people rarely listed, 10% on nearly every list. The log-linear models do not fit such tables
/// and their average overshoots the truth far; the latent-class model covers it, and the
/// headline says to prefer it.
#[test]
fn the_latent_class_model_covers_the_published_simulation_and_the_headline_points_to_it() {
    let scenario = scenarios::PUBLISHED[0].0;
    let mut tallies = vec![Tally::default(); METHODS.len()];
    let mut pointed = 0;
    for r in 0..REPLICATES {
        let h = scenarios::replicate(scenario, PEOPLE, r);
        let estimates = estimate(&h, &scenarios::options(r, 10, 1.0));
        Tally::add(&mut tallies, &estimates, PEOPLE as f64);
        pointed += usize::from(
            estimates[0]
                .warnings
                .iter()
                .any(|w| w.starts_with(LOG_LINEAR_REJECTED) && w.contains("prefer its total")),
        );
    }
    let lcmcr = method(&tallies, "lcmcr");
    let averaged = method(&tallies, "loglinear-averaged");
    eprintln!(
        "{scenario}: lcmcr bias {:+.1}% coverage {:.0}%; averaged bias {:+.1}% coverage {:.0}%; headline points to lcmcr in {pointed} of {REPLICATES}",
        100.0 * lcmcr.bias(),
        100.0 * lcmcr.coverage(),
        100.0 * averaged.bias(),
        100.0 * averaged.coverage()
    );
    assert!(
        lcmcr.coverage() >= 0.8,
        "lcmcr coverage {}",
        lcmcr.coverage()
    );
    assert!(lcmcr.bias().abs() < 0.1, "lcmcr bias {}", lcmcr.bias());
    assert!(averaged.bias() > 0.5, "averaged bias {}", averaged.bias());
    assert!(pointed >= REPLICATES * 7 / 10, "{pointed}");
}
