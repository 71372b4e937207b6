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
    from_counts(&counts, t)
}

/// A table of `t` lists named `l0`, `l1`, … from counts per capture pattern (index = pattern).
fn from_counts(counts: &[u64], t: usize) -> CaptureHistories {
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
    assert!(e.warnings.iter().any(|w| w.contains("need three lists")));
    assert!((e.estimate.unwrap() - 1000.0).abs() < 150.0);
    // Seber's (1982) standard error of Chapman's estimate.
    let c: Vec<f64> = h.pattern_counts(None).iter().map(|x| *x as f64).collect();
    let (n1, n2, m) = (c[1] + c[3], c[2] + c[3], c[3]);
    let var = (n1 + 1.0) * (n2 + 1.0) * (n1 - m) * (n2 - m) / ((m + 1.0).powi(2) * (m + 2.0));
    assert!((e.stderr.unwrap() - var.sqrt()).abs() < 1e-9);
    // List l0 inside list l1: a zero-width interval, which the warning explains.
    let e = &estimate(&from_counts(&[0, 0, 15, 3], 2), &Options::default())[0];
    assert_eq!(e.lower, e.upper);
    assert!(
        e.warnings
            .iter()
            .any(|w| w.contains("every person on 'l0' is also on 'l1'")),
        "{:?}",
        e.warnings
    );
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

/// A list whose people are all on another is named, and when one list holds everybody seen,
/// every estimate says that the data cannot tell a complete list from lists drawn from it.
#[test]
fn lists_inside_other_lists_are_named() {
    let nested = |counts: &[u64]| {
        let h = from_counts(counts, 3);
        let options = Options {
            lcmcr: Some(quick_lcmcr().lcmcr.unwrap()),
            ..Options::default()
        };
        let out = estimate(&h, &options);
        let said: Vec<(String, String)> = out[0]
            .warnings
            .iter()
            .zip(&out[0].warnings_es)
            .filter(|(en, _)| en.contains("copied"))
            .map(|(en, es)| (en.clone(), es.clone()))
            .collect();
        (out, said)
    };
    // l1 (50 people) only with l0; l2 has people of its own. Patterns: bit 0 = l0.
    let (_, said) = nested(&[0, 100, 0, 40, 50, 30, 0, 10]);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0]
            .0
            .starts_with("all 50 people on list 'l1' are also on list 'l0'"),
        "{said:?}"
    );
    assert!(
        said[0].1.starts_with("las 50 personas de la lista 'l1'"),
        "{said:?}"
    );
    // Everybody on l0: each method's estimate carries it, the latent-class model's too.
    let (out, said) = nested(&[0, 100, 0, 40, 0, 30, 0, 10]);
    assert!(
        said[0]
            .0
            .starts_with("everyone seen in this stratum is on list 'l0'"),
        "{said:?}"
    );
    for e in &out {
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("nobody that 'l0' missed")),
            "{}: {:?}",
            e.method,
            e.warnings
        );
    }
    // The same people on two lists: said once.
    let (_, said) = nested(&[0, 60, 0, 0, 0, 0, 25, 15]);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0]
            .0
            .contains("lists 'l1' and 'l2' hold exactly the same 40 people"),
        "{said:?}"
    );
    // Independent lists, and a list of fewer than 10 people inside another: nothing said.
    let h = simulate(3, 2000, &[0.3, 0.25, 0.2, 0.35]);
    assert!(
        estimate(&h, &Options::default())
            .iter()
            .all(|e| e.warnings.iter().all(|w| !w.contains("copied")))
    );
    let (_, said) = nested(&[0, 100, 0, 9, 50, 30, 0, 0]);
    assert!(said.is_empty(), "{said:?}");
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
    assert_eq!(strata, vec!["all", "sex=F", "sex=M", "all (sum of strata)"]);
    // The headline total across strata: the strata's estimates summed, variances added.
    let of = |s: &str| {
        e.iter()
            .find(|e| e.method == "loglinear-averaged" && e.stratum == s)
            .unwrap()
    };
    let (f, m, sum) = (of("sex=F"), of("sex=M"), of("all (sum of strata)"));
    assert!((sum.estimate.unwrap() - f.estimate.unwrap() - m.estimate.unwrap()).abs() < 1e-9);
    let se = (f.stderr.unwrap().powi(2) + m.stderr.unwrap().powi(2)).sqrt();
    assert!((sum.stderr.unwrap() - se).abs() < 1e-9);
    assert_eq!(sum.observed, h.observed());
    assert!(
        sum.lower.unwrap() <= 1500.0 && 1500.0 <= sum.upper.unwrap(),
        "{sum:?}"
    );
}

/// A stratum whose lists do not overlap has no estimate, so neither has the sum; the sum says
/// which stratum lacks one and what to do instead.
#[test]
fn a_sum_over_strata_names_the_strata_without_an_estimate() {
    let h = by_sex(
        simulate(3, 1000, &[0.3, 0.3, 0.3]),
        from_counts(&[0, 4, 3, 0, 2, 0, 0, 0], 3),
    );
    let e = estimate(&h, &Options::default());
    for method in ["loglinear-averaged", "dga"] {
        let sum = e
            .iter()
            .find(|e| e.method == method && e.stratum == "all (sum of strata)")
            .unwrap();
        assert!(sum.estimate.is_none());
        assert!(
            sum.warnings[0].contains("1 of 2 strata") && sum.warnings[0].contains("(sex=F)"),
            "{:?}",
            sum.warnings
        );
        assert!(sum.warnings[0].contains("Merge small strata"));
    }
}

/// Options with a short latent-class run, enough for tests.
fn quick_lcmcr() -> Options {
    Options {
        lcmcr: Some(lcmcr::LcmcrOptions {
            burn_in: 1_000,
            samples: 10_000,
            thin: 5,
            // Short fixed runs keep the tests quick; `extends_until_the_target` tests the rule.
            target_ess: 0.0,
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
fn prior_sensitivity_reruns_the_latent_class_model_with_jeffreys_prior() {
    // Two visibility classes, strata by sex: the rerun pools the strata, says its prior, and
    // gives rarely seen people more room, so its upper end is higher.
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut counts = vec![0u64; 16];
    for _ in 0..2000 {
        let p = if rng.random::<f64>() < 0.3 {
            0.45
        } else {
            0.12
        };
        let mut h = 0usize;
        for j in 0..4 {
            if rng.random::<f64>() < p {
                h |= 1 << j;
            }
        }
        counts[h] += 1;
    }
    let table = from_counts(&counts, 4);
    let h = by_sex(table.clone(), table);
    assert!(prior_sensitivity(&h, &Options::default(), &[]).is_empty());
    let options = quick_lcmcr();
    let estimates = estimate(&h, &options);
    assert!(prior_sensitivity(&h, &options, &[]).is_empty());
    let uniform = estimates
        .iter()
        .find(|e| e.method == "lcmcr" && e.stratum == "all")
        .unwrap();
    let jeffreys = prior_sensitivity(&h, &options, &estimates);
    assert_eq!(jeffreys.len(), 1);
    let jeffreys = &jeffreys[0];
    assert_eq!(jeffreys.stratum, PRIOR_SENSITIVITY_STRATUM);
    assert!(
        jeffreys.model.contains("Beta(1/2, 1/2)"),
        "{}",
        jeffreys.model
    );
    assert_eq!(jeffreys.observed, uniform.observed);
    assert!(
        jeffreys.upper.unwrap() > uniform.upper.unwrap(),
        "{jeffreys:?} vs {uniform:?}"
    );
    // It compares itself with the model's own interval, in words.
    let said = format!("from {} to", people(uniform.upper.unwrap()));
    assert!(
        jeffreys.warnings.iter().any(|w| w.contains(&said)),
        "{:?}",
        jeffreys.warnings
    );
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
    let h = from_counts(&counts, 5);
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
    let names: Vec<&str> = mth.iter().map(|e| e.model.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "Mth Poisson2",
            "Mth Darroch",
            "Mth Gamma3.5",
            "Mth Chao (LB)",
            "M0",
            "Mh Poisson2",
            "Mh Darroch",
            "Mh Gamma3.5",
            "Mh Chao (LB)"
        ]
    );
    assert!(mth[4..].iter().all(|e| e.assumes_equal_lists()));
    assert!(!mth[..4].iter().any(|e| e.assumes_equal_lists()));
    // The lists here are equally likely to list a person, and the test of equal lists says so.
    for e in &mth[4..] {
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("the data do not contradict it")),
            "{e:?}"
        );
    }
    let darroch = mth[1];
    assert!(darroch.aic.unwrap() < independence.aic.unwrap() - 10.0);
    // With only independence allowed, even the best model does not fit heterogeneous lists,
    // and says so; the Darroch model does fit.
    assert!(independence.fit_p_value.unwrap() < 0.001);
    assert!(
        independence
            .warnings
            .iter()
            .any(|w| w.contains("does not fit the table")),
        "{:?}",
        independence.warnings
    );
    assert!(darroch.fit_p_value.unwrap() > 0.01, "{darroch:?}");
    // Independence underestimates badly; the heterogeneity model moves towards the truth.
    assert!(darroch.estimate.unwrap() > independence.estimate.unwrap());
}

/// A heterogeneity model that cannot be fitted is still listed, with no number and the reason,
/// as Rcapture lists every model: here nobody is on lists 2 and 3 together, or on all three.
#[test]
fn heterogeneity_models_that_run_off_are_listed_without_a_number() {
    let mut counts = vec![0u64; 8];
    (counts[1], counts[2], counts[3], counts[4], counts[5]) = (200, 150, 40, 3, 1);
    let e = estimate(&from_counts(&counts, 3), &Options::default());
    let rows: Vec<&Estimate> = e
        .iter()
        .filter(|e| e.method == "loglinear-heterogeneity")
        .collect();
    assert_eq!(rows.len(), 9);
    let darroch = rows.iter().find(|e| e.model == "Mth Darroch").unwrap();
    assert_eq!(darroch.estimate, None);
    assert!(
        darroch
            .warnings
            .iter()
            .any(|w| w.contains("cannot be fitted")),
        "{darroch:?}"
    );
    // Chao's model keeps its number (its one knot is dropped: it is then Mt).
    let chao = rows.iter().find(|e| e.model == "Mth Chao (LB)").unwrap();
    assert!(chao.estimate.is_some(), "{chao:?}");
}

/// People seen only on a list left out of a stratum (too few people) are still people: no
/// estimate or lower end falls below the people seen, and a raised one says why.
#[test]
fn estimates_never_fall_below_the_people_seen_when_a_list_is_left_out() {
    // Lists that overlap so much that the 141 people in the table are about all there are.
    let mut counts = vec![0u64; 16];
    (counts[1], counts[2], counts[3], counts[4]) = (5, 4, 40, 3);
    (counts[5], counts[6], counts[7], counts[8]) = (30, 30, 29, 1);
    let options = Options {
        min_list_count: 3,
        ..quick_lcmcr()
    };
    let e = estimate(&from_counts(&counts, 4), &options);
    let mut raised = 0;
    for x in e.iter().filter(|x| x.estimate.is_some()) {
        assert_eq!(x.observed, 142);
        assert!(
            x.lower.unwrap() >= 142.0 && x.estimate.unwrap() >= 142.0,
            "{x:?}"
        );
        // The draws that sum strata are raised too, so no total across strata counts fewer.
        assert!(x.draws.iter().all(|d| *d >= 142.0), "{}", x.method);
        raised += usize::from(x.warnings.iter().any(|w| w.contains("raised to the 142")));
    }
    // Here most models reach down to the 141 people in the table.
    assert!(raised > 0);
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
        .find(|e| e.method == "lcmcr" && e.stratum == "all (sum of strata)")
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

#[test]
fn strata_whose_samplers_ran_longer_are_summed_from_evenly_spaced_draws() {
    let h = by_sex(
        simulate(3, 1000, &[0.3, 0.3, 0.3]),
        simulate(4, 600, &[0.4, 0.3, 0.35]),
    );
    let mut e = estimate(&h, &quick_lcmcr());
    e.retain(|x| !x.stratum.starts_with("all ("));
    let before = super::sum_of_strata(&e, "lcmcr", 2).expect("summed total");
    // As when one stratum's sampler went on to reach its effective draws: twice the draws,
    // each draw twice, so that its evenly spaced draws are exactly the ones it had.
    for x in e
        .iter_mut()
        .filter(|x| x.method == "lcmcr" && x.stratum == "sex=M")
    {
        x.draws = x.draws.iter().flat_map(|&d| [d, d]).collect();
    }
    let after = super::sum_of_strata(&e, "lcmcr", 2).expect("summed total");
    assert!(before.estimate.is_some());
    assert_eq!(after.draws, before.draws);
    assert_eq!(
        (after.estimate, after.lower, after.upper),
        (before.estimate, before.lower, before.upper)
    );
}

#[test]
fn mh_chao_matches_the_closed_form_on_any_table() {
    // With one effect shared by every list, Chao's model fits the number of people on k lists
    // exactly for k = 1 … t and extrapolates from f1 and f2: f0 = (t − 1) / t · f1² / (2 f2),
    // whatever the lists' own sizes.
    // Lists of very different sizes (weights w), and counts falling off with k in a way whose
    // logarithm per pattern is convex, so that Chao's model keeps every knot.
    let t = 5;
    let w = [1.5, 0.6, 1.0, 0.4, 1.2];
    let by_k = [0.0, 400.0, 40.0, 10.0, 5.0, 4.0];
    let counts: Vec<u64> = (0..1usize << t)
        .map(|h| {
            let weight: f64 = (0..t).filter(|j| h >> j & 1 == 1).map(|j| w[j]).product();
            (by_k[h.count_ones() as usize] * weight).round() as u64
        })
        .collect();
    let by_lists = |k: u32| -> f64 {
        (1..counts.len())
            .filter(|h| h.count_ones() == k)
            .map(|h| counts[h] as f64)
            .sum()
    };
    let (f1, f2) = (by_lists(1), by_lists(2));
    let n: f64 = counts[1..].iter().sum::<u64>() as f64;
    let expected = n + (t as f64 - 1.0) / t as f64 * f1 * f1 / (2.0 * f2);
    let e = estimate(&from_counts(&counts, t), &Options::default());
    let chao = e.iter().find(|e| e.model == "Mh Chao (LB)").unwrap();
    assert!(
        !chao.warnings.iter().any(|w| w.contains("was dropped")),
        "{chao:?}"
    );
    let x = chao.estimate.unwrap();
    assert!((x - expected).abs() < 1e-6 * expected, "{x} vs {expected}");
    // Lists of such different sizes are not equally likely to list a person: the test says so.
    assert!(
        chao.warnings
            .iter()
            .any(|w| w.contains("the data contradict it") && w.contains("Mth Chao (LB)")),
        "{chao:?}"
    );
}

#[test]
fn m0_matches_the_zero_truncated_binomial() {
    // M0: every person listed by each list with one probability p. Its estimate solves
    // t·p / (1 − (1 − p)^t) = captures / people seen, N = n / (1 − (1 − p)^t).
    let h = simulate(4, 3000, &[0.2, 0.2, 0.2, 0.2]);
    let t = 4;
    let n = h.observed() as f64;
    let captures: f64 = h
        .rows
        .iter()
        .map(|(_, pattern, count)| f64::from(pattern.count_ones()) * *count as f64)
        .sum();
    let mean = |p: f64| t as f64 * p / (1.0 - (1.0 - p).powi(t));
    let (mut lo, mut hi) = (1e-9, 1.0 - 1e-9);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mean(mid) < captures / n {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let expected = n / (1.0 - (1.0 - lo).powi(t));
    let e = estimate(&h, &Options::default());
    let m0 = e.iter().find(|e| e.model == "M0").unwrap();
    let x = m0.estimate.unwrap();
    assert!((x - expected).abs() < 1e-6 * expected, "{x} vs {expected}");
    assert!(
        m0.lower.unwrap() <= 3000.0 && 3000.0 <= m0.upper.unwrap(),
        "{m0:?}"
    );
}

#[test]
fn chao_lower_bound_matches_the_closed_form_on_a_symmetric_table() {
    // When the count of a pattern depends only on how many lists it is on, model Mth Chao (LB)
    // reduces to model Mh with Chao's (1987) estimator: f0 = (t − 1) / t · f1² / (2 f2).
    let t = 4;
    let per_pattern = [0.0, 150.0, 40.0, 15.0, 9.0]; // by number of lists
    let rows: Vec<(Vec<String>, u16, u64)> = (1u16..16)
        .map(|h| (vec![], h, per_pattern[h.count_ones() as usize] as u64))
        .collect();
    let f1 = 4.0 * 150.0;
    let f2 = 6.0 * 40.0;
    let n: f64 = rows.iter().map(|r| r.2 as f64).sum();
    let expected = n + (t as f64 - 1.0) / t as f64 * f1 * f1 / (2.0 * f2);
    let h = CaptureHistories {
        lists: (0..t).map(|i| format!("l{i}")).collect(),
        strata: vec![],
        rows,
    };
    let e = estimate(&h, &Options::default());
    let chao = e
        .iter()
        .find(|e| e.model == "Mth Chao (LB)")
        .expect("a Chao estimate");
    let x = chao.estimate.unwrap();
    assert!((x - expected).abs() < 1e-6 * expected, "{x} vs {expected}");
    assert!(chao.lower.unwrap() < x && x < chao.upper.unwrap());
    assert!(chao.warnings.iter().any(|w| w.contains("lower bound")));
}

#[test]
fn chao_drops_a_knot_with_a_negative_coefficient() {
    // Log-counts concave in the number of lists (too few people on 3 lists): the knot at 2
    // would be negative, and once it is gone the one at 3, so both are dropped and said.
    let per_pattern = [0.0, 150.0, 60.0, 5.0, 4.0];
    let counts: Vec<u64> = (0..16usize)
        .map(|h| per_pattern[h.count_ones() as usize] as u64)
        .collect();
    let h = from_counts(&counts, 4);
    let e = estimate(&h, &Options::default());
    let chao = e.iter().find(|e| e.model == "Mth Chao (LB)").unwrap();
    assert!(
        chao.warnings
            .iter()
            .any(|w| w.contains("more than 2 and 3 lists") && w.contains("dropped")),
        "{:?}",
        chao.warnings
    );
    assert!(chao.estimate.is_some());
}

#[test]
fn knots_dropped_are_said_in_one_warning_in_their_order() {
    assert_eq!(knots_dropped_warning(&[]), None);
    assert_eq!(
        knots_dropped_warning(&[2]).unwrap().en,
        "Chao's model: the term for people on more than 2 lists had a negative coefficient and was dropped, as Rcapture does"
    );
    assert!(
        knots_dropped_warning(&[4, 5, 2])
            .unwrap()
            .en
            .contains("the terms for people on more than 4, 5 and 2 lists had negative coefficients and were dropped one at a time, in that order")
    );
}

/// An estimate of `method` with only a 95% interval, for the checks that read intervals.
fn interval(method: &str, lower: f64, upper: Option<f64>) -> Estimate {
    let table = Table {
        counts: Vec::new(),
        t: 0,
        label: "all",
        observed: 100,
        lists: Vec::new(),
        warnings: Vec::new(),
    };
    Estimate {
        estimate: Some(lower),
        lower: Some(lower),
        upper,
        ..table.blank(method)
    }
}

#[test]
fn methods_whose_intervals_do_not_overlap_are_said_to_disagree() {
    let headline = interval("loglinear-averaged", 9_831.0, Some(14_009.0));
    let overlapping = interval("dga", 10_233.0, Some(26_195.0));
    assert_eq!(
        methods_disagree(&[headline.clone(), overlapping.clone()]),
        None
    );
    let apart = interval("lcmcr", 16_868.0, Some(33_736.0));
    let w = methods_disagree(&[headline.clone(), overlapping.clone(), apart.clone()]).unwrap();
    assert!(
        w.en.contains("loglinear-averaged 9,831 – 14,009 and lcmcr 16,868 – 33,736"),
        "{w:?}"
    );
    // In Spanish, numbers as Spanish writes them.
    assert!(
        w.es.contains("loglinear-averaged 9831 – 14\u{a0}009 y de lcmcr 16\u{a0}868 – 33\u{a0}736"),
        "{w:?}"
    );
    // The heterogeneity models are many and often contradicted: they are not compared.
    let mth = interval("loglinear-heterogeneity", 20_000.0, Some(30_000.0));
    assert_eq!(methods_disagree(&[headline.clone(), mth]), None);
    // An interval with no upper end reaches every higher one.
    let open = interval("dga", 15_000.0, None);
    assert_eq!(methods_disagree(&[open.clone(), apart]), None);
    let w = methods_disagree(&[headline, open]).unwrap();
    assert!(w.en.contains("dga 15,000 – unbounded"), "{w:?}");
    assert!(w.es.contains("dga 15\u{a0}000 – sin límite"), "{w:?}");
}

#[test]
fn dga_covers_the_truth_when_one_list_refers_to_another() {
    // List 2 sees people on list 1 far more often: a dependence the graphs can model.
    let mut covered = 0;
    for seed in 0..20 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        let mut counts = [0u64; 16];
        for _ in 0..2000 {
            let mut h = 0usize;
            if rng.random::<f64>() < 0.3 {
                h |= 1;
            }
            let p2 = if h & 1 != 0 { 0.6 } else { 0.15 };
            if rng.random::<f64>() < p2 {
                h |= 2;
            }
            for (j, p) in [(2, 0.25), (3, 0.3)] {
                if rng.random::<f64>() < p {
                    h |= 1 << j;
                }
            }
            counts[h] += 1;
        }
        let h = from_counts(&counts, 4);
        let e = estimate(&h, &Options::default());
        let d = e
            .iter()
            .find(|e| e.method == "dga")
            .expect("a dga estimate");
        if d.lower.unwrap() <= 2000.0 && 2000.0 <= d.upper.unwrap() {
            covered += 1;
        }
        // The graph with the l0–l1 edge carries the weight.
        let top = &d.models[0].0;
        assert!(top.contains("l0:l1"), "{top}");
    }
    // 95% intervals: 17 or more of 20 happens with probability 0.98.
    assert!(covered >= 17, "covered {covered} of 20");
}

/// When only the graph joining every list fits (here far more people are on all three lists
/// than any pairwise dependence explains), the `dga` estimate comes from the prior, and it says
/// so; on independent lists it does not.
#[test]
fn dga_warns_when_the_saturated_graph_carries_the_posterior() {
    let warned = |h: &CaptureHistories| {
        let e = estimate(h, &Options::default());
        let dga = e.iter().find(|e| e.method == "dga").unwrap().clone();
        dga.warnings.iter().any(|w| w.contains("joins every list"))
    };
    let mut counts = vec![0u64; 8];
    (counts[1], counts[2], counts[4]) = (500, 400, 300);
    (counts[3], counts[5], counts[6], counts[7]) = (20, 20, 20, 300);
    assert!(warned(&from_counts(&counts, 3)));
    assert!(!warned(&simulate(4, 2000, &[0.3, 0.25, 0.35])));
}

#[test]
fn dga_total_sums_the_strata_with_separate_streams() {
    let h = by_sex(
        simulate(3, 1000, &[0.3, 0.3, 0.3]),
        simulate(4, 600, &[0.4, 0.3, 0.35]),
    );
    let e = estimate(&h, &Options::default());
    let sum = e
        .iter()
        .find(|e| e.method == "dga" && e.stratum == "all (sum of strata)")
        .expect("summed total");
    assert!(sum.lower.unwrap() <= 1600.0 && 1600.0 <= sum.upper.unwrap());
    let parts: Vec<&Estimate> = e
        .iter()
        .filter(|e| e.method == "dga" && e.stratum.starts_with("sex="))
        .collect();
    // Independent streams: the sum's interval is narrower than the sum of the intervals.
    let width = |e: &Estimate| e.upper.unwrap() - e.lower.unwrap();
    assert!(width(sum) < 0.95 * parts.iter().map(|p| width(p)).sum::<f64>());
}

#[test]
fn a_chosen_model_is_fitted_with_its_profile_interval() {
    let h = simulate(8, 2000, &[0.3, 0.25, 0.35, 0.3]);
    let options = Options {
        model: Some("l0:l1 + l2:l3".into()),
        ..Options::default()
    };
    let e = estimate(&h, &options);
    let chosen = e
        .iter()
        .find(|e| e.method == "loglinear-chosen")
        .expect("the chosen model");
    assert_eq!(chosen.model, "independence + l0:l1 + l2:l3");
    let (lo, x, hi) = (
        chosen.lower.unwrap(),
        chosen.estimate.unwrap(),
        chosen.upper.unwrap(),
    );
    assert!(lo < x && x < hi, "{lo} {x} {hi}");
    // The same fit as the log-linear machinery gives for those terms.
    let counts: Vec<f64> = h.pattern_counts(None).iter().map(|c| *c as f64).collect();
    let terms = loglinear::Terms::interactions(vec![0b0011, 0b1100]);
    let fit = loglinear::fit_model(&counts, 4, &terms).unwrap();
    assert!((fit.estimate - x).abs() < 1e-9, "{} vs {x}", fit.estimate);
    assert_eq!(chosen.cells.len(), 15);
    // A model naming a list that is not there gives no number, and says why.
    let bad = Options {
        model: Some("l0:l9".into()),
        ..Options::default()
    };
    let e = estimate(&h, &bad);
    let chosen = e.iter().find(|e| e.method == "loglinear-chosen").unwrap();
    assert!(chosen.estimate.is_none());
    assert!(chosen.warnings.iter().any(|w| w.contains("'l9'")));
}

#[test]
fn people_are_written_with_thousands_separated() {
    assert_eq!(people(12_710_000.4), "12,710,000");
    assert_eq!(people(999.5), "1,000");
    assert_eq!(people(0.0), "0");
    assert_eq!(people(-1234.0), "-1,234");
}

#[test]
fn p_values_are_written_as_read() {
    assert_eq!(p_value(0.0004), "p < 0.001");
    assert_eq!(p_value(0.001), "p = 0.001");
    assert_eq!(p_value(0.04213), "p = 0.042");
}

/// Every warning, whatever path made it, is said in Spanish too: strata with a list left out,
/// one without overlaps, sums that cannot be made, two lists, a chosen model (readable or not),
/// the latent-class model and both sensitivity analyses.
#[test]
fn every_warning_is_said_in_spanish_too() {
    let check = |estimates: &[Estimate]| {
        assert!(!estimates.is_empty());
        for e in estimates {
            assert_eq!(e.warnings_es.len(), e.warnings.len(), "{e:?}");
            for (en, es) in e.warnings.iter().zip(&e.warnings_es) {
                assert_ne!(en, es, "not in Spanish");
            }
        }
    };
    // sex=F: no overlaps, and list l2 below the minimum count of 3.
    let h = by_sex(
        simulate(3, 1000, &[0.3, 0.3, 0.3, 0.4]),
        from_counts(&[0, 4, 3, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], 4),
    );
    for model in ["l0:l1", "l0:l9", "Mth Chao (LB)"] {
        let options = Options {
            min_list_count: 3,
            model: Some(model.into()),
            ..quick_lcmcr()
        };
        let e = estimate(&h, &options);
        check(&e);
        check(&leave_one_list_out(&h, &options));
        check(&prior_sensitivity(&h, &options, &e));
        assert!(
            e.iter()
                .any(|e| e.warnings_es.iter().any(|w| w.contains("se dejó fuera")))
        );
        assert!(e.iter().any(|e| {
            e.warnings_es
                .iter()
                .any(|w| w.contains("no se puede sumar"))
        }));
    }
    check(&estimate(&simulate(5, 300, &[0.3, 0.4]), &quick_lcmcr()));
}

#[test]
fn a_sum_of_draws_says_which_strata_its_warnings_come_from() {
    // Women: list l2 has a handful of people, below the minimum of 10, so it is left out there.
    let h = by_sex(
        simulate(3, 1000, &[0.3, 0.3, 0.3, 0.4]),
        simulate(4, 600, &[0.4, 0.3, 0.004, 0.35]),
    );
    let options = Options {
        min_list_count: 10,
        ..Options::default()
    };
    let e = estimate(&h, &options);
    let sum = e
        .iter()
        .find(|e| e.method == "dga" && e.stratum == "all (sum of strata)")
        .expect("summed total");
    assert!(sum.estimate.is_some());
    assert!(
        sum.warnings
            .iter()
            .any(|w| w.starts_with("in sex=F: list 'l2' has")),
        "{:?}",
        sum.warnings
    );
    assert!(
        sum.warnings_es
            .iter()
            .any(|w| w.starts_with("en sex=F: la lista 'l2' tiene"))
    );
    // What every stratum says is said once, as it is.
    assert_eq!(
        sum.warnings
            .iter()
            .filter(|w| w.starts_with("the average over decomposable graphs models"))
            .count(),
        1
    );
}

/// With lists left out of a stratum two may remain; Chapman's estimate is then raised to the
/// people seen like every other method's (found by `bench/property_estimate.sh 7 400`).
#[test]
fn chapman_never_falls_below_the_people_seen_when_lists_are_left_out() {
    // l2 has 90 people, all on it alone: below the minimum of 95, so it is left out; l0 and l1
    // overlap so much that Chapman's estimate (166) is below the 230 people seen.
    let mut counts = vec![0u64; 8];
    counts[0b001] = 40;
    counts[0b010] = 40;
    counts[0b011] = 60;
    counts[0b100] = 90;
    let h = from_counts(&counts, 3);
    let options = Options {
        min_list_count: 95,
        ..Options::default()
    };
    let e = estimate(&h, &options);
    let chapman = e.iter().find(|e| e.method == "chapman").unwrap();
    let (x, lo, hi) = (
        chapman.estimate.unwrap(),
        chapman.lower.unwrap(),
        chapman.upper.unwrap(),
    );
    assert_eq!(chapman.observed, 230);
    assert!(230.0 <= lo && lo <= x && x <= hi, "{lo} {x} {hi}");
    assert!(
        chapman
            .warnings
            .iter()
            .any(|w| w.starts_with("raised to the 230 people seen: 90 of them")),
        "{:?}",
        chapman.warnings
    );
}

/// A latent-class model that cannot reproduce the table (one class on lists drawn with two
/// visibility classes) says so, in both languages.
#[test]
fn a_latent_class_model_the_table_contradicts_is_said_not_to_fit() {
    let (seen, unseen) = (
        simulate(8, 1500, &[0.6, 0.5, 0.55, 0.45]),
        simulate(9, 3500, &[0.15, 0.1, 0.2, 0.12]),
    );
    let mut counts = vec![0u64; 16];
    for (_, h, n) in seen.rows.iter().chain(&unseen.rows) {
        counts[*h as usize] += n;
    }
    let h = from_counts(&counts, 4);
    let options = Options {
        lcmcr: Some(lcmcr::LcmcrOptions {
            classes: 1,
            burn_in: 1_000,
            samples: 10_000,
            thin: 5,
            target_ess: 0.0,
            ..Default::default()
        }),
        dga: None,
        ..Options::default()
    };
    let e = estimate(&h, &options);
    let l = e.iter().find(|e| e.method == "lcmcr").unwrap();
    assert!(l.mcmc.as_ref().unwrap().ppp.unwrap() < PREDICTIVE_MISFIT);
    assert!(
        l.warnings
            .iter()
            .any(|w| w.starts_with("the latent-class model does not reproduce the overlaps")),
        "{:?}",
        l.warnings
    );
    assert!(
        l.warnings_es
            .iter()
            .any(|w| w.starts_with("el modelo de clases latentes no reproduce"))
    );
}

/// Lists drawn as in the simulation of Manrique-Vallier (2016): 1,800 people whom lists rarely
/// see and 200 whom nearly every list sees.
fn rarely_and_often_seen(seed: u64) -> CaptureHistories {
    let rare = simulate(seed, 1_800, &[0.033, 0.033, 0.099, 0.132, 0.033]);
    let often = simulate(seed + 1, 200, &[0.660, 0.825, 0.759, 0.990, 0.693]);
    let mut counts = vec![0u64; 32];
    for (_, h, n) in rare.rows.iter().chain(&often.rows) {
        counts[*h as usize] += n;
    }
    from_counts(&counts, 5)
}

#[test]
fn a_headline_whose_every_log_linear_model_is_rejected_points_to_the_latent_class_model() {
    let h = rarely_and_often_seen(3);
    let rejected = |e: &Estimate| {
        e.warnings
            .iter()
            .position(|w| w.starts_with(LOG_LINEAR_REJECTED))
    };
    // Without the latent-class model: how to run it.
    let e = estimate(&h, &Options::default());
    let best = e.iter().find(|e| e.method == "loglinear-best").unwrap();
    assert!(best.fit_p_value.unwrap() < POOR_FIT, "{best:?}");
    // The log-linear average overshoots the 2,000 people by far here.
    assert!(e[0].lower.unwrap() > 2_000.0, "{:?}", e[0]);
    let i = rejected(&e[0]).expect("the headline says the log-linear models are rejected");
    assert!(e[0].warnings[i].contains("--lcmcr"), "{}", e[0].warnings[i]);
    assert!(
        e[0].warnings_es[i].starts_with("el promedio de los modelos log-lineales no es un total"),
        "{}",
        e[0].warnings_es[i]
    );
    // With it: its total, which covers the truth.
    let e = estimate(&h, &quick_lcmcr());
    let latent = e.iter().find(|e| e.method == "lcmcr").unwrap();
    assert!(
        latent.lower.unwrap() <= 2_000.0 && 2_000.0 <= latent.upper.unwrap(),
        "{latent:?}"
    );
    let i = rejected(&e[0]).expect("the headline points to the latent-class model");
    let total = format!(
        "prefer its total, {} (95% interval {} – {})",
        people(latent.estimate.unwrap()),
        people(latent.lower.unwrap()),
        people(latent.upper.unwrap())
    );
    assert!(e[0].warnings[i].contains(&total), "{}", e[0].warnings[i]);
    // The rejected average is not one of the methods whose range to publish.
    assert!(
        !e[0]
            .warnings
            .iter()
            .any(|w| w.starts_with(METHODS_DISAGREE) && w.contains("loglinear-averaged")),
        "{:?}",
        e[0].warnings
    );
    // Lists the log-linear models fit: nothing to say.
    let h = simulate(4, 2_000, &[0.3, 0.25, 0.2, 0.35, 0.3]);
    let e = estimate(&h, &quick_lcmcr());
    assert_eq!(rejected(&e[0]), None, "{:?}", e[0].warnings);
}

/// Six lists, the first three of which depend on each other beyond their pairs (list 3 takes
/// most of the people on both 1 and 2). With three-list terms there are 3.7 million models,
/// too many to fit: forward selection adds the three-list term, and every pairwise model is
/// still averaged, so allowing three-list terms never averages over fewer models than pairs
/// alone (before, it averaged over the few dozen the search visited).
#[test]
fn allowing_three_list_terms_on_six_lists_keeps_every_pairwise_model() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut counts = vec![0u64; 1 << 6];
    for _ in 0..5000 {
        let a = rng.random::<f64>() < 0.3;
        let b = rng.random::<f64>() < if a { 0.6 } else { 0.15 };
        let c = rng.random::<f64>() < if a && b { 0.7 } else { 0.2 };
        let mut h = usize::from(a) | usize::from(b) << 1 | usize::from(c) << 2;
        for j in 3..6 {
            if rng.random::<f64>() < 0.25 {
                h |= 1 << j;
            }
        }
        counts[h] += 1;
    }
    let table = from_counts(&counts, 6);
    let averaged = |max_order| {
        let options = Options {
            max_order,
            dga: None,
            ..Options::default()
        };
        let estimates = estimate(&table, &options);
        let e = &estimates[0];
        // The figures of docs/benchmarks.md ("Every model of six lists").
        eprintln!(
            "max_order {max_order}: {} {:.0} ({:.0}-{:.0}); best {}",
            e.model,
            e.estimate.unwrap_or(f64::NAN),
            e.lower.unwrap_or(f64::NAN),
            e.upper.unwrap_or(f64::NAN),
            estimates[1].model
        );
        let models: usize = estimates[0]
            .model
            .split_whitespace()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .unwrap();
        (models, estimates[1].model.clone())
    };
    let (pairs, _) = averaged(2);
    let (triples, best) = averaged(3);
    assert_eq!(pairs, 32_768);
    assert!(triples > pairs, "{triples} models with three-list terms");
    assert!(best.contains("l0:l1:l2"), "{best}");
}
