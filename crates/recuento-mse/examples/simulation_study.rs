//! Simulation study with known N: bias and 95% interval coverage per method and scenario.
//!
//! Scenarios (5 lists, N = 2,000): independent lists; two latent classes of visibility (30% of
//! people three times as visible as the rest); three latent classes, 40% of people with about
//! 10% capture per list; one list that refers to another (a person on list 1 is much likelier
//! on list 2); a subgroup (15%) that almost no list sees. Run:
//! `cargo run --release -p recuento-mse --example simulation_study -- [replicates] [classes]
//! [people] [scenarios]` (defaults 50; K = 10 latent classes at most for the latent-class model;
//! N = 2,000 people; every scenario, or those named, separated by commas). It also prints how
//! often the headline warns that the methods disagree, and how often the headline interval
//! misses the truth with and without that warning.
//!
//! `published` in place of the scenarios runs instead the published scenarios of the
//! latent-class model (`scenarios::PUBLISHED`: the simulation of Manrique-Vallier 2016 and
//! HRDAG's four further ones), whose classes of people have fixed sizes; give them N = 2,000.
//!
//! With `profile=K` among the arguments, it also prints, per scenario, what the likelihood of a
//! K-class latent-class model says about N without any prior: the profile deviance of N (the
//! classes and capture probabilities maximised by EM at each N, from several seeded starts),
//! how often the truth lies inside the likelihood-ratio 95% region, and how often the region
//! has no upper end below four times the people observed. That separates what the lists pin
//! down from what the latent-class model's priors add (docs/benchmarks.md).
//!
//! With `capture=A` among the arguments, the latent-class model's capture probabilities get a
//! Beta(A, A) prior instead of LCMCR's Beta(1, 1).
//!
//! With `jeffreys` among the arguments, it also runs the prior-sensitivity rerun of the
//! latent-class model (`recuento_mse::prior_sensitivity`, capture probabilities Beta(½, ½)) and
//! prints, per scenario, its coverage, how far it moves the upper end of the interval, and how
//! many of the latent-class intervals that miss the truth the rerun's interval covers.

#[path = "../tests/scenarios/mod.rs"]
mod scenarios;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use recuento_model::CaptureHistories;
use recuento_mse::{Estimate, METHODS_DISAGREE, POOR_FIT, PRIOR_MOVE, estimate, prior_sensitivity};
use scenarios::{METHODS, PUBLISHED, SCENARIOS, T, Tally};

fn main() {
    let profile_classes: Option<usize> =
        std::env::args().find_map(|a| a.strip_prefix("profile=").and_then(|k| k.parse().ok()));
    let jeffreys = std::env::args().any(|a| a == "jeffreys");
    let capture_prior: f64 = std::env::args()
        .find_map(|a| a.strip_prefix("capture=").and_then(|a| a.parse().ok()))
        .unwrap_or(1.0);
    let positional: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("profile=") && !a.starts_with("capture=") && a != "jeffreys")
        .collect();
    let replicates: usize = positional
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let classes: usize = positional.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let people: usize = positional
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let published: Vec<&str> = PUBLISHED.iter().map(|p| p.0).collect();
    let all: Vec<&str> = SCENARIOS.iter().copied().chain(published.clone()).collect();
    let chosen: Vec<String> = match positional.get(3).map(String::as_str) {
        Some("published") => published.iter().map(|s| s.to_string()).collect(),
        Some(names) => names.split(',').map(|s| s.trim().to_string()).collect(),
        None => SCENARIOS.iter().map(|s| s.to_string()).collect(),
    };
    if let Some(unknown) = chosen.iter().find(|c| !all.contains(&c.as_str())) {
        eprintln!("unknown scenario {unknown:?}; the scenarios are {all:?}, or `published`");
        std::process::exit(2);
    }
    let n = people as f64;
    println!(
        "N = {people}, {T} lists, {replicates} replicates per scenario, latent-class K = {classes}, capture prior Beta({capture_prior}, {capture_prior}); relative bias of the point estimate, coverage of the 95% interval, intervals wholly below the truth, mean interval width"
    );
    println!();
    println!("| scenario | method | relative bias | coverage | below | mean width | no estimate |");
    println!("|---|---|---|---|---|---|---|");
    let mut profiles = Vec::new();
    let mut mixings = Vec::new();
    let mut reruns = Vec::new();
    let mut disagreements = Vec::new();
    let mut misfits = Vec::new();
    for scenario in all.iter().filter(|s| chosen.iter().any(|c| c == *s)) {
        let mut profile = Profiled::default();
        // Largest split R-hat and smallest effective sample size of N of the latent-class chains.
        let mut mixing = (0.0f64, f64::INFINITY);
        // The latent-class model's posterior predictive p-values, one per replicate.
        let mut checks: Vec<f64> = Vec::new();
        let mut rerun = Rerun::default();
        let mut tallies = vec![Tally::default(); METHODS.len()];
        // Replicates whose headline says the methods disagree, and the headline's misses with
        // and without that warning.
        let mut disagree = (0usize, 0usize, 0usize);
        // Replicates where even the best log-linear model does not fit (p < 0.001), and the
        // misses of the log-linear average and of the latent-class model with and without it.
        let mut misfit = Misfit::default();
        for r in 0..replicates {
            let h = scenarios::replicate(scenario, people, r);
            let options = scenarios::options(r, classes, capture_prior);
            if let Some(k) = profile_classes {
                profile.add(&h, k, people, r as u64);
            }
            let estimates = estimate(&h, &options);
            if jeffreys {
                let uniform = estimates.iter().find(|e| e.method == "lcmcr");
                let other = prior_sensitivity(&h, &options, &estimates);
                if let (Some(u), Some(j)) = (uniform, other.first()) {
                    rerun.add(u, j, n);
                }
            }
            for m in estimates.iter().filter_map(|e| e.mcmc.as_ref()) {
                mixing.0 = mixing.0.max(m.r_hat);
                mixing.1 = mixing.1.min(m.ess);
                checks.extend(m.ppp);
            }
            Tally::add(&mut tallies, &estimates, n);
            let headline = &estimates[0];
            let missed = !(headline.lower.is_some_and(|lo| lo <= n)
                && headline.upper.is_some_and(|hi| n <= hi));
            misfit.add(&estimates, n);
            if headline
                .warnings
                .iter()
                .any(|w| w.starts_with(METHODS_DISAGREE))
            {
                disagree.0 += 1;
                disagree.1 += usize::from(missed);
            } else {
                disagree.2 += usize::from(missed);
            }
        }
        disagreements.push((scenario, disagree));
        misfits.push((scenario, misfit));
        for (m, s) in METHODS.iter().zip(&tallies) {
            println!(
                "| {scenario} | {m} | {:+.1}% | {:.0}% | {:.0}% | {:.0} | {} |",
                100.0 * s.bias(),
                100.0 * s.coverage(),
                100.0 * s.below(),
                s.width(),
                s.missing
            );
        }
        profiles.push((scenario, profile));
        mixings.push((scenario, mixing, checks));
        reruns.push((scenario, rerun));
    }
    println!();
    println!(
        "Latent-class chains: largest split R-hat and smallest effective sample size of N over the replicates"
    );
    println!();
    println!(
        "| scenario | largest R-hat | smallest effective draws | posterior predictive p: median | below 0.05 | below 0.01 |"
    );
    println!("|---|---|---|---|---|---|");
    for (scenario, (r_hat, ess), mut checks) in mixings {
        checks.sort_by(f64::total_cmp);
        let below = |p: f64| checks.iter().filter(|&&c| c < p).count();
        println!(
            "| {scenario} | {r_hat:.3} | {ess:.0} | {:.2} | {} of {} | {} of {} |",
            checks.get(checks.len() / 2).copied().unwrap_or(f64::NAN),
            below(0.05),
            checks.len(),
            below(0.01),
            checks.len()
        );
    }
    println!();
    println!(
        "Headline warnings that the methods disagree (95% intervals of the log-linear average, dga and the latent-class model apart), and the headline interval's misses"
    );
    println!();
    println!(
        "| scenario | replicates warned | headline misses when warned | headline misses otherwise |"
    );
    println!("|---|---|---|---|");
    for (scenario, (warned, missed_warned, missed_otherwise)) in disagreements {
        println!(
            "| {scenario} | {warned} of {replicates} | {missed_warned} of {warned} | {missed_otherwise} of {} |",
            replicates - warned
        );
    }
    println!();
    println!(
        "Replicates where even the best log-linear model does not fit the table (deviance p < 0.001; the headline warns), and the 95% intervals that miss the truth with and without that warning"
    );
    println!();
    println!(
        "| scenario | replicates warned | log-linear average misses: warned | otherwise | latent-class misses: warned | otherwise |"
    );
    println!("|---|---|---|---|---|---|");
    for (scenario, m) in misfits {
        println!(
            "| {scenario} | {} of {replicates} | {} of {} | {} of {} | {} of {} | {} of {} |",
            m.warned,
            m.missed[0][0],
            m.warned,
            m.missed[0][1],
            replicates - m.warned,
            m.missed[1][0],
            m.warned,
            m.missed[1][1],
            replicates - m.warned
        );
    }
    if jeffreys {
        println!();
        println!(
            "The latent-class model again with capture probabilities Beta(1/2, 1/2) (the prior-sensitivity run): its coverage, the mean relative move of the upper end of the interval, how many of the intervals of the model that miss the truth the rerun's interval covers, and in how many replicates the upper end moves by {:.0}% or more (the estimate then warns) and how many of the model's misses are among them",
            100.0 * PRIOR_MOVE
        );
        println!();
        println!(
            "| scenario | coverage, Beta(1, 1) | coverage, Beta(1/2, 1/2) | upper end moves | misses the rerun covers | warned | misses warned of |"
        );
        println!("|---|---|---|---|---|---|---|");
        for (scenario, r) in reruns {
            let fits = r.replicates.max(1) as f64;
            println!(
                "| {scenario} | {:.0}% | {:.0}% | {:+.1}% | {} of {} | {} of {} | {} of {} |",
                100.0 * r.covered.0 as f64 / fits,
                100.0 * r.covered.1 as f64 / fits,
                100.0 * r.upper_move / fits,
                r.rescued,
                r.replicates - r.covered.0,
                r.flagged.0,
                r.replicates,
                r.flagged.1,
                r.replicates - r.covered.0
            );
        }
    }
    if let Some(k) = profile_classes {
        println!();
        println!(
            "Likelihood of a {k}-class latent-class model, no prior: share of replicates whose 95% likelihood-ratio region of N holds the truth, whose region has no upper end below 4 × observed, and the relative bias and spread (standard deviation) of the maximum-likelihood N"
        );
        println!();
        println!(
            "| scenario | truth in region | no upper end | maximum likelihood: relative bias | spread |"
        );
        println!("|---|---|---|---|---|");
        for (scenario, p) in profiles {
            let fits = p.replicates.max(1) as f64;
            let mean = p.mle.iter().sum::<f64>() / fits;
            let spread = (p.mle.iter().map(|m| (m - mean).powi(2)).sum::<f64>()
                / (fits - 1.0).max(1.0))
            .sqrt();
            println!(
                "| {scenario} | {:.0}% | {:.0}% | {:+.1}% | {:.0} |",
                100.0 * p.truth_inside as f64 / fits,
                100.0 * p.unbounded as f64 / fits,
                100.0 * (mean - people as f64) / people as f64,
                spread
            );
        }
    }
}

/// Tallies of the prior-sensitivity rerun over the replicates of one scenario.
#[derive(Default)]
struct Rerun {
    replicates: usize,
    /// Intervals that cover the truth: the model's, the rerun's.
    covered: (usize, usize),
    /// Sum of the relative moves of the upper end, rerun against model.
    upper_move: f64,
    /// Replicates whose model interval misses the truth and whose rerun interval covers it.
    rescued: usize,
    /// Replicates whose upper end moves by `PRIOR_MOVE` or more (the estimate then warns), and
    /// those of them whose model interval misses the truth.
    flagged: (usize, usize),
}

impl Rerun {
    fn add(&mut self, uniform: &Estimate, jeffreys: &Estimate, truth: f64) {
        let covers = |e: &Estimate| matches!((e.lower, e.upper), (Some(lo), Some(hi)) if lo <= truth && truth <= hi);
        let (a, b) = (covers(uniform), covers(jeffreys));
        self.replicates += 1;
        self.covered.0 += usize::from(a);
        self.covered.1 += usize::from(b);
        self.rescued += usize::from(!a && b);
        if let (Some(u), Some(j)) = (uniform.upper, jeffreys.upper) {
            self.upper_move += (j - u) / u;
            if ((j - u) / u).abs() >= PRIOR_MOVE {
                self.flagged.0 += 1;
                self.flagged.1 += usize::from(!a);
            }
        }
    }
}

/// Tallies of the profile likelihood of N over the replicates of one scenario.
#[derive(Default)]
struct Profiled {
    replicates: usize,
    truth_inside: usize,
    unbounded: usize,
    /// The maximum-likelihood N of each replicate (on the grid).
    mle: Vec<f64>,
}

impl Profiled {
    fn add(&mut self, h: &CaptureHistories, k: usize, people: usize, seed: u64) {
        let mut observed = vec![0.0f64; 1 << T];
        for (_, pattern, count) in &h.rows {
            observed[usize::from(*pattern)] += *count as f64;
        }
        let seen: f64 = observed.iter().sum();
        // Totals from the people seen to four times as many, evenly on the log scale, and the truth.
        let mut grid: Vec<f64> = (0..48)
            .map(|i| (seen * 4f64.powf(i as f64 / 47.0)).round())
            .chain([people as f64])
            .collect();
        grid.sort_by(f64::total_cmp);
        grid.dedup();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut warm: Option<(Vec<f64>, Vec<f64>)> = None;
        let logliks: Vec<f64> = grid
            .iter()
            .map(|&total| {
                let (ll, best) = max_loglik(&observed, k, total - seen, &mut rng, warm.take());
                warm = Some(best);
                ll
            })
            .collect();
        let (best_at, best) = logliks
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, l)| (i, *l))
            .expect("grid is not empty");
        let inside = |i: usize| 2.0 * (best - logliks[i]) < 3.84;
        let truth = grid
            .iter()
            .position(|&g| g == people as f64)
            .expect("truth is on the grid");
        self.replicates += 1;
        self.truth_inside += usize::from(inside(truth));
        self.unbounded += usize::from(inside(grid.len() - 1));
        self.mle.push(grid[best_at]);
    }
}

/// Largest log-likelihood, up to a constant, of a `k`-class latent-class model with `unseen`
/// people on no list, by EM from the warm start (the previous total's solution) and four
/// random ones; returns it with the best (class weights, capture probabilities list by list).
fn max_loglik(
    observed: &[f64],
    k: usize,
    unseen: f64,
    rng: &mut ChaCha8Rng,
    warm: Option<(Vec<f64>, Vec<f64>)>,
) -> (f64, (Vec<f64>, Vec<f64>)) {
    let mut counts = observed.to_vec();
    counts[0] = unseen;
    let total: f64 = counts.iter().sum();
    // ln(total! / unseen!): the multinomial coefficient's part that depends on N.
    let coefficient: f64 = (0..observed.iter().sum::<f64>() as u64)
        .map(|i| (unseen + 1.0 + i as f64).ln())
        .sum();
    let starts = warm.into_iter().chain((0..4).map(|_| {
        let weights: Vec<f64> = (0..k).map(|_| rng.random::<f64>() + 0.1).collect();
        let sum: f64 = weights.iter().sum();
        let weights = weights.iter().map(|w| w / sum).collect();
        let capture = (0..T * k)
            .map(|_| 0.05 + 0.65 * rng.random::<f64>())
            .collect();
        (weights, capture)
    }));
    let mut best = (f64::NEG_INFINITY, (vec![], vec![]));
    for (mut weights, mut capture) in starts {
        let mut loglik = f64::NEG_INFINITY;
        for _ in 0..2000 {
            // E step: each pattern's people shared among the classes.
            let mut in_class = vec![0.0f64; k];
            let mut captured = vec![0.0f64; T * k];
            let mut next = 0.0;
            for (pattern, &c) in counts.iter().enumerate() {
                let joint: Vec<f64> = (0..k)
                    .map(|class| {
                        (0..T).fold(weights[class], |p, j| {
                            let l = capture[j * k + class];
                            p * if pattern >> j & 1 == 1 { l } else { 1.0 - l }
                        })
                    })
                    .collect();
                let q: f64 = joint.iter().sum();
                next += c * q.ln();
                for class in 0..k {
                    let share = c * joint[class] / q;
                    in_class[class] += share;
                    for j in 0..T {
                        if pattern >> j & 1 == 1 {
                            captured[j * k + class] += share;
                        }
                    }
                }
            }
            // M step.
            for class in 0..k {
                weights[class] = (in_class[class] / total).max(1e-12);
                for j in 0..T {
                    capture[j * k + class] = (captured[j * k + class] / in_class[class].max(1e-12))
                        .clamp(1e-9, 1.0 - 1e-9);
                }
            }
            let done = next - loglik < 1e-9;
            loglik = next;
            if done {
                break;
            }
        }
        if loglik + coefficient > best.0 {
            best = (loglik + coefficient, (weights, capture));
        }
    }
    best
}

/// How often the best log-linear model is rejected by its deviance, and how the log-linear
/// average and the latent-class model fare with and without that warning.
#[derive(Default)]
struct Misfit {
    warned: usize,
    /// `missed[method][0]` when warned, `[1]` otherwise; method 0 the log-linear average, 1 the
    /// latent-class model.
    missed: [[usize; 2]; 2],
}

impl Misfit {
    fn add(&mut self, estimates: &[Estimate], n: f64) {
        let warned = estimates
            .iter()
            .find(|e| e.method == "loglinear-best")
            .and_then(|e| e.fit_p_value)
            .is_some_and(|p| p < POOR_FIT);
        self.warned += usize::from(warned);
        for (i, method) in ["loglinear-averaged", "lcmcr"].iter().enumerate() {
            let Some(e) = estimates.iter().find(|e| e.method == *method) else {
                continue;
            };
            let covered = e.lower.is_some_and(|lo| lo <= n) && e.upper.is_some_and(|hi| n <= hi);
            self.missed[i][usize::from(!warned)] += usize::from(!covered);
        }
    }
}
