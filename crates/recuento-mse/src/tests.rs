//! Statistical recovery tests: simulate lists from a known N and check the estimators.

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn simulate(seed: u64, n: usize, probs: &[f64]) -> CaptureHistories {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let t = probs.len();
    let mut counts = vec![0u64; 1 << t];
    for _ in 0..n {
        let mut h = 0usize;
        for (i, p) in probs.iter().enumerate() {
            if rng.random::<f64>() < *p {
                h |= 1 << i;
            }
        }
        counts[h] += 1;
    }
    CaptureHistories {
        lists: (0..t).map(|i| format!("l{i}")).collect(),
        strata: vec![],
        rows: (1..counts.len())
            .filter(|h| counts[*h] > 0)
            .map(|h| (vec![], h as u16, counts[h]))
            .collect(),
    }
}

#[test]
fn independent_lists_are_covered() {
    let mut covered = 0;
    for seed in 0..20 {
        let h = simulate(seed, 2000, &[0.3, 0.25, 0.2, 0.35]);
        let e = &estimate(&h, &Options::default())[0];
        if e.lower.unwrap() <= 2000.0 && 2000.0 <= e.upper.unwrap() {
            covered += 1;
        }
    }
    assert!(covered >= 17, "covered {covered} of 20");
}

#[test]
fn best_model_profile_interval_brackets_estimate() {
    let h = simulate(1, 3000, &[0.3, 0.3, 0.3]);
    let e = estimate(&h, &Options::default());
    let best = e.iter().find(|e| e.method == "loglinear-best").unwrap();
    let (lo, x, hi) = (
        best.lower.unwrap(),
        best.estimate.unwrap(),
        best.upper.unwrap(),
    );
    assert!(lo < x && x < hi, "{lo} {x} {hi}");
    assert!((x - 3000.0).abs() < 400.0, "{x}");
}

#[test]
fn two_lists_use_chapman_with_a_warning() {
    let h = simulate(2, 1000, &[0.4, 0.5]);
    let e = &estimate(&h, &Options::default())[0];
    assert_eq!(e.method, "chapman");
    assert!(e.warnings.iter().any(|w| w.contains("independent")));
    assert!((e.estimate.unwrap() - 1000.0).abs() < 150.0);
}

#[test]
fn non_overlapping_lists_are_refused() {
    let h = CaptureHistories {
        lists: vec!["a".into(), "b".into(), "c".into()],
        strata: vec![],
        rows: vec![(vec![], 1, 10), (vec![], 2, 10), (vec![], 4, 10)],
    };
    let e = &estimate(&h, &Options::default())[0];
    assert!(e.estimate.is_none());
    assert!(e.warnings[0].contains("do not overlap"));
}

/// One table with two strata: `men` as `sex=M`, `women` as `sex=F`.
fn by_sex(men: CaptureHistories, women: CaptureHistories) -> CaptureHistories {
    let mut rows: Vec<(Vec<String>, u16, u64)> = men
        .rows
        .iter()
        .map(|r| (vec!["M".to_string()], r.1, r.2))
        .collect();
    rows.extend(women.rows.iter().map(|r| (vec!["F".to_string()], r.1, r.2)));
    CaptureHistories {
        lists: men.lists,
        strata: vec!["sex".into()],
        rows,
    }
}

#[test]
fn strata_are_estimated_separately_and_together() {
    let h = by_sex(
        simulate(3, 1000, &[0.3, 0.3, 0.3]),
        simulate(4, 500, &[0.4, 0.2, 0.3]),
    );
    let e = estimate(&h, &Options::default());
    let strata: Vec<&str> = e
        .iter()
        .filter(|e| e.method == "loglinear-averaged")
        .map(|e| e.stratum.as_str())
        .collect();
    assert_eq!(strata, vec!["all", "sex=F", "sex=M"]);
}

/// Options with a short latent-class run, enough for tests.
fn quick_lcmcr() -> Options {
    Options {
        lcmcr: Some(lcmcr::LcmcrOptions {
            burn_in: 1_000,
            samples: 10_000,
            thin: 5,
            ..Default::default()
        }),
        ..Options::default()
    }
}

#[test]
fn lcmcr_is_added_when_asked() {
    let h = simulate(5, 1500, &[0.3, 0.3, 0.3, 0.3]);
    let options = quick_lcmcr();
    let e = estimate(&h, &options);
    let l = e
        .iter()
        .find(|e| e.method == "lcmcr")
        .expect("an lcmcr estimate");
    assert!(
        l.lower.unwrap() <= 1500.0 && 1500.0 <= l.upper.unwrap(),
        "{l:?}"
    );
    assert!(l.mcmc.as_ref().unwrap().r_hat < 1.1);
}

#[test]
fn heterogeneity_models_are_reported_and_fit_heterogeneous_data_better() {
    // Two visibility classes shared by all lists: Mth models should beat independence on AIC.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut counts = vec![0u64; 32];
    for _ in 0..3000 {
        let p = if rng.random::<f64>() < 0.3 { 0.5 } else { 0.12 };
        let mut h = 0usize;
        for j in 0..5 {
            if rng.random::<f64>() < p {
                h |= 1 << j;
            }
        }
        counts[h] += 1;
    }
    let h = CaptureHistories {
        lists: (0..5).map(|i| format!("l{i}")).collect(),
        strata: vec![],
        rows: (1..32)
            .filter(|h| counts[*h] > 0)
            .map(|h| (vec![], h as u16, counts[h]))
            .collect(),
    };
    let e = estimate(
        &h,
        &Options {
            max_order: 1,
            ..Options::default()
        },
    );
    let independence = e.iter().find(|e| e.method == "loglinear-best").unwrap();
    let mth: Vec<&Estimate> = e
        .iter()
        .filter(|e| e.method == "loglinear-heterogeneity")
        .collect();
    assert_eq!(mth.len(), 3);
    let names: Vec<&str> = mth.iter().map(|e| e.model.as_str()).collect();
    assert_eq!(names, vec!["Mth Poisson2", "Mth Darroch", "Mth Gamma3.5"]);
    let darroch = mth[1];
    assert!(darroch.aic.unwrap() < independence.aic.unwrap() - 10.0);
    // Independence underestimates badly; the heterogeneity model moves towards the truth.
    assert!(darroch.estimate.unwrap() > independence.estimate.unwrap());
}

#[test]
fn leave_one_list_out_drops_each_list() {
    let h = simulate(6, 2000, &[0.3, 0.25, 0.35, 0.3]);
    let e = leave_one_list_out(&h, &Options::default());
    let strata: std::collections::BTreeSet<&str> = e.iter().map(|e| e.stratum.as_str()).collect();
    assert_eq!(strata.len(), 4);
    assert!(strata.contains("all (without l0)"));
    for x in e.iter().filter(|e| e.method == "loglinear-averaged") {
        assert_eq!(x.lists.len(), 3);
        assert!(
            x.lower.unwrap() <= 2000.0 && 2000.0 <= x.upper.unwrap(),
            "{x:?}"
        );
        assert!(x.observed < h.observed());
    }
    // Fewer than three lists: nothing to leave out.
    assert!(leave_one_list_out(&simulate(1, 100, &[0.5, 0.5]), &Options::default()).is_empty());
}

#[test]
fn latent_class_total_sums_the_strata_draws() {
    let h = by_sex(
        simulate(3, 1000, &[0.3, 0.3, 0.3]),
        simulate(4, 600, &[0.4, 0.3, 0.35]),
    );
    let options = quick_lcmcr();
    let e = estimate(&h, &options);
    let sum = e
        .iter()
        .find(|e| e.stratum == "all (sum of strata)")
        .expect("summed total");
    let parts: Vec<&Estimate> = e
        .iter()
        .filter(|e| e.method == "lcmcr" && e.stratum.starts_with("sex="))
        .collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(sum.observed, h.observed());
    // The median of a sum is close to the sum of medians; the interval covers the true 1,600.
    let medians: f64 = parts.iter().map(|p| p.estimate.unwrap()).sum();
    assert!((sum.estimate.unwrap() - medians).abs() < 0.05 * medians);
    assert!(
        sum.lower.unwrap() <= 1600.0 && 1600.0 <= sum.upper.unwrap(),
        "{sum:?}"
    );
}
