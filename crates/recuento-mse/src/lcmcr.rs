//! Bayesian non-parametric latent-class model for capture–recapture (Manrique-Vallier 2016,
//! *Biometrics* 72(4); the LCMCR package).
//!
//! People fall into latent classes; within a class, lists capture independently with
//! probabilities λ_jk ~ Beta(1, 1) (LCMCR's prior; [`LcmcrOptions::capture_prior`] changes both
//! parameters, for prior sensitivity). Class weights follow a truncated stick-breaking prior with
//! concentration α ~ Gamma(0.25, 0.25); the prior on N is ∝ 1/N. Heterogeneity (some people more
//! visible to every list) is what the classes absorb, which log-linear models with pairwise
//! interactions only partly do.
//!
//! The Gibbs sampler works on the counts of distinct capture patterns, never on individuals, so
//! a sweep costs O(patterns × classes × lists) whatever N is:
//!
//! 1. class counts of each observed pattern ~ Multinomial(n_x, q_x·), q_xk ∝ π_k Π_j λ_jk^x_j (1−λ_jk)^(1−x_j);
//! 2. the unobserved count n₀ ~ NegativeBinomial(n, p₀) with p₀ = Σ_k π_k Π_j (1−λ_jk) (drawn as a
//!    Gamma–Poisson mixture);
//! 3. class counts of the unobserved ~ Multinomial(n₀, q_0·);
//! 4. λ_jk ~ Beta(a + captured in class k by list j, a + not captured), a = 1 unless
//!    [`LcmcrOptions::capture_prior`] says otherwise;
//! 5. stick-breaking V_k ~ Beta(1 + c_k, α + Σ_{l>k} c_l), π from V;
//! 6. α ~ Gamma(0.25 + K − 1, rate 0.25 − Σ_{k<K} ln(1 − V_k)).
//!
//! These Gibbs steps move along the ridge of the likelihood in tiny steps: with thousands of
//! people, the classes of the observed given (π, λ) and (π, λ) given the classes pin each other
//! down, so N drifts slowly (LCMCR's effective sample size of N is about 180 per 110,000
//! sweeps). Each sweep therefore starts with [`LcmcrOptions::ridge_moves`] random-walk
//! Metropolis moves on θ = (logit V, logit λ) against the posterior of θ with the classes of
//! people and N integrated out, which the 1/N prior makes the zero-truncated likelihood
//! (Sanathanan 1972; the sum over N has a closed form):
//!
//! ```text
//! p(θ | data, α) ∝ p(V | α) p(λ) · Π_x q_x^(n_x) / (1 − q_0)^n,   q_x = Σ_k π_k Π_j λ_jk^x_j (1 − λ_jk)^(1−x_j)
//! ```
//!
//! It costs O(2^t · K · t) per move, a few hundred operations. The moves act on the first
//! classes, up to the last one that holds people throughout the first eighth of the burn-in.
//! The proposal is a Gaussian whose covariance is that of θ over the second eighth (Gibbs
//! alone; Haario et al. 2001, adaptive Metropolis); the moves then start, the covariance is
//! learnt again from what they explore up to five eighths, and the scale adapts towards a 23%
//! acceptance rate until the burn-in ends. Everything is then frozen, so the kept draws come
//! from a fixed, valid kernel. Right after the moves, the Gibbs steps redraw the classes and n₀
//! from their conditional given the new θ, as a partially collapsed sampler must (van Dyk &
//! Park 2008).
//!
//! The ridge moves' Gaussian proposal suits classes that stay put. With K = 10 the posterior
//! keeps a third or fourth class that holds a few percent of people in some sweeps and none in
//! others, often with low capture probabilities: it holds much of the unseen, so N follows it,
//! and neither the Gibbs steps nor a Gaussian proposal follow it well (on the benchmark table
//! the ridge moves give over ten times as many effective draws of N with K = 2 as with K = 10,
//! and with K = 3 little more than with K = 10, even with the third class in the block). Each
//! sweep therefore also makes [`LcmcrOptions::visibility_moves`] one-dimensional Metropolis moves
//! on every class holding at least 2% of the weight, against the same target: every capture
//! logit of the class up by δ and its stick-breaking logit down by δ, δ ~ N(0, s_k²). For a class
//! seen rarely, that keeps π_k·λ_jk, the people it shows to each list, about the same while
//! moving how many it hides. A proposal that would leave the class under 2% is rejected, so
//! each class's move is reversible on its own; s_k adapts towards 44% acceptance until the
//! burn-in ends, and is then frozen like the ridge moves' proposal.
//!
//! Several chains run in parallel threads, each with its own seeded stream; R-hat and the
//! effective sample size of N are reported.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Gamma, Poisson, StandardNormal};

use crate::linalg::cholesky;
use serde::{Deserialize, Serialize};

/// Sampler settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LcmcrOptions {
    /// Truncation K of the stick-breaking prior (maximum number of latent classes).
    pub classes: usize,
    /// Parallel chains.
    pub chains: usize,
    /// Burn-in sweeps per chain (discarded).
    pub burn_in: usize,
    /// Kept sweeps per chain (after burn-in).
    pub samples: usize,
    /// Keep every `thin`-th sweep.
    pub thin: usize,
    /// Seed; chain `c` uses stream `c` of ChaCha8 seeded with it.
    pub seed: u64,
    /// Metropolis moves on (π, λ) per sweep with classes and N integrated out (module doc);
    /// 0 gives the plain Gibbs sampler of LCMCR. They start a quarter of the way through the
    /// burn-in, once the proposal has been learnt, and only if the burn-in is long enough to
    /// learn it.
    #[serde(default = "default_ridge_moves")]
    pub ridge_moves: usize,
    /// One-dimensional Metropolis moves per sweep on each class holding at least 2% of the
    /// weight, along the class's visibility (module doc); 0 turns them off. With
    /// `ridge_moves` also 0, the sampler is LCMCR's plain Gibbs sampler.
    #[serde(default = "default_visibility_moves")]
    pub visibility_moves: usize,
    /// Both parameters of the Beta prior of every capture probability: 1 (uniform) is LCMCR's
    /// and the default. Smaller values give more room to classes that lists rarely (or nearly
    /// always) see; the prior-sensitivity run uses ½ (Jeffreys' prior).
    #[serde(default = "default_capture_prior")]
    pub capture_prior: f64,
    /// Effective draws of N to reach: while the kept draws hold fewer (or their split R-hat is
    /// above [`TARGET_R_HAT`] and still falling), every chain goes on from where it stopped for
    /// as many sweeps again as it has kept, up to [`LcmcrOptions::max_samples`]. 0 keeps exactly
    /// [`LcmcrOptions::samples`]. The rule reads only the draws, so results stay determined by
    /// the seed and the table.
    #[serde(default)]
    pub target_ess: f64,
    /// The most kept sweeps per chain that [`LcmcrOptions::target_ess`] may reach; never fewer
    /// than [`LcmcrOptions::samples`]. 0 (the default) means [`MAX_SAMPLES_FACTOR`] times
    /// [`LcmcrOptions::samples`].
    #[serde(default)]
    pub max_samples: usize,
}

fn default_capture_prior() -> f64 {
    1.0
}

fn default_ridge_moves() -> usize {
    RIDGE_MOVES
}

fn default_visibility_moves() -> usize {
    VISIBILITY_MOVES
}

/// Default [`LcmcrOptions::ridge_moves`] (see docs/benchmarks.md for how it was chosen).
pub const RIDGE_MOVES: usize = 20;

/// Default [`LcmcrOptions::target_ess`]: 400 effective draws, with split R-hat at most
/// [`TARGET_R_HAT`], is what Vehtari et al. (2021, *Bayesian Analysis* 16(2)) advise before
/// reading 2.5% and 97.5% quantiles.
pub const TARGET_ESS: f64 = 400.0;

/// The split R-hat that [`LcmcrOptions::target_ess`] also asks for (Vehtari et al. 2021).
pub const TARGET_R_HAT: f64 = 1.01;

/// [`LcmcrOptions::max_samples`] when it is 0, as a multiple of [`LcmcrOptions::samples`].
pub const MAX_SAMPLES_FACTOR: usize = 20;

impl Default for LcmcrOptions {
    fn default() -> Self {
        LcmcrOptions {
            classes: 10,
            chains: 2,
            burn_in: 10_000,
            samples: 50_000,
            thin: 10,
            seed: 1,
            ridge_moves: RIDGE_MOVES,
            visibility_moves: VISIBILITY_MOVES,
            capture_prior: 1.0,
            target_ess: TARGET_ESS,
            max_samples: 0,
        }
    }
}

/// Posterior summary of N.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LcmcrResult {
    /// Posterior median of N.
    pub median: f64,
    /// 2.5% posterior quantile.
    pub lower: f64,
    /// 97.5% posterior quantile.
    pub upper: f64,
    /// Posterior mean.
    pub mean: f64,
    /// Split R-hat of N across chains (Gelman et al. 2013); near 1 when chains agree.
    pub r_hat: f64,
    /// Effective sample size of N over all chains (Geyer's initial positive sequence).
    pub ess: f64,
    /// Total kept draws.
    pub draws: usize,
    /// Sweeps kept per chain after burn-in: [`LcmcrOptions::samples`], or more when
    /// [`LcmcrOptions::target_ess`] asked for them.
    #[serde(default)]
    pub kept_sweeps: usize,
    /// Sweeps per second per chain (wall clock of the slowest chain).
    pub sweeps_per_second: f64,
    /// Share of the ridge moves accepted after burn-in (`None` when none were made).
    pub ridge_acceptance: Option<f64>,
    /// Share of the visibility moves accepted after burn-in (`None` when none were made).
    #[serde(default)]
    pub visibility_acceptance: Option<f64>,
    /// Posterior predictive p-value: the share of kept draws in which a table drawn from the
    /// model, with that draw's parameters and N, is at least as far from its expected counts
    /// as the observed table is (Freeman–Tukey distance). Near 0 means the model does not
    /// reproduce the overlaps between lists; values near ½ are what a fitting model gives.
    #[serde(default)]
    pub ppp: Option<f64>,
    /// The settings, seed included.
    pub options: LcmcrOptions,
    /// The kept draws of N, chain after chain (for totals across strata).
    #[serde(skip)]
    pub samples: Vec<Vec<f64>>,
}

struct Chain<'a> {
    t: usize,
    k: usize,
    patterns: &'a [(usize, u64)],
    n_obs: u64,
    lambda: Vec<f64>, // j * k + class
    pi: Vec<f64>,
    v: Vec<f64>,
    alpha: f64,
    n0: u64,
    /// Both parameters of the Beta prior of the capture probabilities.
    capture_prior: f64,
    rng: ChaCha8Rng,
    // Scratch.
    counts: Vec<u64>,          // per (pattern index incl. 0 at the end) x class
    pattern_weights: Vec<f64>, // per (pattern x, class): π_k P(x | k)
    class_total: Vec<u64>,
    captured: Vec<u64>, // per (list j, class)
    ridge: Ridge,
    visibility: Visibility,
    /// The posterior predictive check: its own random stream (so the draws of N are those of a
    /// run without it), how many kept draws it saw, and in how many the replicated table was
    /// at least as far from its expected counts as the observed one.
    check: Check,
}

/// State of the posterior predictive check of one chain ([`LcmcrResult::ppp`]).
struct Check {
    rng: ChaCha8Rng,
    draws: u64,
    exceed: u64,
    // Scratch: per observed pattern, then the other patterns together, then nobody.
    probs: Vec<f64>,
    replicate: Vec<u64>,
}

/// Weight a class must hold, in 99% of the sweeps that choose the block, to be moved by the
/// ridge moves. With 1%, a class holding a few percent sometimes joined the block and emptied
/// later, leaving the frozen proposal wrong for the rest of the chain (acceptance 1%); with 5%
/// the mean effective draws of N per second rose by 12% over ten seeds (third session; the
/// figures are in docs/benchmarks.md).
const OCCUPIED: f64 = 0.05;

/// State of the adaptive Metropolis ridge moves of one chain.
///
/// The moves act on the first `block` classes only: up to the last that holds people. The
/// stick-breaking prior orders classes by size in expectation, so the occupied ones come first;
/// the others hold nobody, their Gibbs draws come straight from the prior and mix at once.
/// Restricting the moves keeps their dimension near 2 + 2t instead of K − 1 + tK, which is what
/// makes a random walk efficient. The block is chosen once, during burn-in, so the kernel stays
/// fixed.
struct Ridge {
    /// Classes moved; 0 until chosen.
    block: usize,
    /// Dimension of the moves: min(block, K − 1) stick-breaking logits, t·block capture logits.
    d: usize,
    /// Sweeps, among those that choose the block, in which each class held at least
    /// [`OCCUPIED`] of the weight.
    occupied: Vec<f64>,
    occupancy_sweeps: f64,
    /// Draws of θ seen while learning the proposal, their mean and co-moment (Welford).
    seen: f64,
    mean: Vec<f64>,
    comoment: Vec<f64>,
    /// Cholesky factor of the proposal covariance, once learnt.
    chol: Option<Vec<f64>>,
    log_scale: f64,
    accepted: u64,
    proposed: u64,
    // Scratch.
    phi: Vec<f64>,
    proposal: Vec<f64>,
    z: Vec<f64>,
    v: Vec<f64>,
    lambda: Vec<f64>,
    class_probs: Vec<f64>,
    tail: Vec<f64>,
    q: Vec<f64>,
}

impl Ridge {
    fn new(t: usize, k: usize) -> Self {
        Ridge {
            block: 0,
            d: 0,
            occupied: vec![0.0; k],
            occupancy_sweeps: 0.0,
            seen: 0.0,
            mean: Vec::new(),
            comoment: Vec::new(),
            chol: None,
            log_scale: 0.0,
            accepted: 0,
            proposed: 0,
            phi: Vec::new(),
            proposal: Vec::new(),
            z: Vec::new(),
            v: Vec::new(),
            lambda: Vec::new(),
            class_probs: vec![0.0; 1 << t],
            tail: vec![0.0; 1 << t],
            q: vec![0.0; 1 << t],
        }
    }

    /// Chooses the block: the classes from the first to the last one that held at least
    /// [`OCCUPIED`] of the weight in at least 99% of the sweeps seen. A class beyond it that
    /// empties and fills again would make the posterior far from Gaussian in these coordinates;
    /// the Gibbs steps handle it instead. The block must start at the first class (the moves'
    /// target writes the stick-breaking weights from the first), so a first class that is
    /// sometimes small is moved too: stopping at it instead left one chain in five of the
    /// benchmark without any ridge moves, at a quarter of the effective draws of the others.
    fn choose_block(&mut self, t: usize) {
        let k = self.occupied.len();
        self.block = (0..k)
            .rev()
            .find(|&c| self.occupied[c] >= 0.99 * self.occupancy_sweeps)
            .map_or(0, |c| c + 1);
        if self.block == 0 {
            return;
        }
        let d = self.block.min(k - 1) + t * self.block;
        self.d = d;
        self.mean = vec![0.0; d];
        self.comoment = vec![0.0; d * d];
        self.log_scale = (2.38 / (d as f64).sqrt()).ln();
        self.phi = vec![0.0; d];
        self.proposal = vec![0.0; d];
        self.z = vec![0.0; d];
        self.v = vec![0.0; self.block.min(k - 1)];
        self.lambda = vec![0.0; t * self.block];
    }

    /// Adds one draw of the block's θ (in `phi`) to the moments.
    fn record(&mut self) {
        self.seen += 1.0;
        let d = self.d;
        for a in 0..d {
            let delta = self.phi[a] - self.mean[a];
            self.z[a] = delta;
            self.mean[a] += delta / self.seen;
        }
        for a in 0..d {
            let after = self.phi[a] - self.mean[a];
            for b in 0..d {
                self.comoment[a * d + b] += after * self.z[b];
            }
        }
    }

    /// Forgets the moments (to learn them again from later draws).
    fn restart_moments(&mut self) {
        self.seen = 0.0;
        self.mean.iter_mut().for_each(|x| *x = 0.0);
        self.comoment.iter_mut().for_each(|x| *x = 0.0);
    }

    /// Turns the moments into the proposal. Needs ten draws per dimension; a small ridge is
    /// added to the diagonal so that directions the burn-in never moved in can still move.
    fn learn(&mut self) {
        let d = self.d;
        if d == 0 || self.seen < 10.0 * d as f64 {
            return;
        }
        let mut cov: Vec<f64> = self
            .comoment
            .iter()
            .map(|c| c / (self.seen - 1.0))
            .collect();
        for a in 0..d {
            cov[a * d + a] += 1e-4;
        }
        if let Some(chol) = cholesky(&cov, d) {
            self.chol = Some(chol);
        }
    }
}

/// Weight a class must hold to get [`VISIBILITY_MOVES`]; below it the Gibbs steps move the class
/// (an empty class is redrawn from its prior every sweep). Over thirty seeds, 2% gave 5–14% more
/// effective draws of N per second than 0.5% (sweeps are cheaper, as fewer classes are moved),
/// on seeds 1–30 and on seeds 31–60; 0.2%, 1% and 5% were no better (docs/benchmarks.md).
const VISIBLE_AT: f64 = 0.02;

/// Default [`LcmcrOptions::visibility_moves`] (see docs/benchmarks.md for how it was chosen).
pub const VISIBILITY_MOVES: usize = 2;

/// State of the one-dimensional visibility moves of one chain: one adaptive step size per class
/// and scratch space for the pattern probabilities of the classes before and after the one moved.
struct Visibility {
    log_scale: Vec<f64>,
    accepted: u64,
    proposed: u64,
    // Scratch, per capture pattern (and per class for `after`).
    after: Vec<f64>,
    before: Vec<f64>,
    others: Vec<f64>,
    q: Vec<f64>,
    buf: Vec<f64>,
    lambda: Vec<f64>,
    logit_lambda: Vec<f64>,
    proposal: Vec<f64>,
    proposal_logit: Vec<f64>,
}

impl Visibility {
    fn new(t: usize, k: usize) -> Self {
        let n = 1 << t;
        Visibility {
            log_scale: vec![0.5f64.ln(); k],
            accepted: 0,
            proposed: 0,
            after: vec![0.0; n * k],
            before: vec![0.0; n],
            others: vec![0.0; n],
            q: vec![0.0; n],
            buf: vec![0.0; n],
            lambda: vec![0.0; t],
            logit_lambda: vec![0.0; t],
            proposal: vec![0.0; t],
            proposal_logit: vec![0.0; t],
        }
    }
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Adds π_c · P(x | class c) for every capture pattern x to `q` (bit j of x = list j), with
/// `lambda(j)` the capture probability of list j in the class.
fn add_class(t: usize, weight: f64, lambda: impl Fn(usize) -> f64, buf: &mut [f64], q: &mut [f64]) {
    buf[0] = weight;
    for j in 0..t {
        let l = lambda(j);
        let half = 1 << j;
        for x in 0..half {
            let base = buf[x];
            buf[x | half] = base * l;
            buf[x] = base * (1.0 - l);
        }
    }
    q.iter_mut().zip(buf.iter()).for_each(|(a, b)| *a += b);
}

/// log p(θ | data, α) up to terms the block's moves leave alone, in the logit coordinates of
/// the moves (module doc): the zero-truncated likelihood of the pattern counts, the Beta(1, α)
/// stick-breaking and Beta(a, a) capture priors of the block, and the Jacobians of the logits
/// (with the Jacobian, a Beta(a, a) prior contributes a·ln(λ(1 − λ)) in logit coordinates).
/// The block's sticks and capture probabilities are read from `r.v` and `r.lambda`; `r.tail`
/// holds Σ_{k ≥ block} (π_k / rest) P(x | k), which the moves scale but do not change.
fn log_target(chain: &Chain<'_>, r: &mut Ridge) -> f64 {
    let (t, k, block) = (chain.t, chain.k, r.block);
    r.q.copy_from_slice(&r.tail);
    let mut rest = 1.0;
    for c in 0..block {
        let vc = if c + 1 == k { 1.0 } else { r.v[c] };
        let lambda = &r.lambda;
        add_class(
            t,
            rest * vc,
            |j| lambda[j * block + c],
            &mut r.class_probs,
            &mut r.q,
        );
        rest *= 1.0 - vc;
    }
    // The tail was computed with rest = 1; scale it by the block's leftover stick.
    if block < k {
        for (q, tail) in r.q.iter_mut().zip(&r.tail) {
            *q += (rest - 1.0) * tail;
        }
    }
    let mut lp = chain.pattern_likelihood(&r.q);
    lp += chain.alpha * sum_ln(r.v.iter().map(|v| 1.0 - v));
    lp += sum_ln(r.v.iter().copied());
    lp + chain.capture_prior * sum_ln(r.lambda.iter().map(|l| l * (1.0 - l)))
}

/// The terms of the moves' target that belong to one class: the Beta(1, α) prior of its stick
/// `v` (none for the last class, which takes what is left) and the Beta(a, a) priors of its
/// capture probabilities (`a` = `capture_prior`), with the Jacobians of their logits.
fn class_log_prior(alpha: f64, capture_prior: f64, v: f64, last: bool, lambda: &[f64]) -> f64 {
    let stick = if last {
        0.0
    } else {
        alpha * (1.0 - v).ln() + v.ln()
    };
    stick + capture_prior * sum_ln(lambda.iter().map(|l| l * (1.0 - l)))
}

/// Σ ln xᵢ for positive xᵢ, as the logarithms of running products: one logarithm per few
/// dozen values instead of one each (the priors of the ridge moves' target are most of its
/// logarithms). A product is taken before it could underflow, and a tiny value on its own.
fn sum_ln(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut product) = (0.0, 1.0);
    for x in values {
        if x < 1e-100 {
            sum += x.ln();
            continue;
        }
        product *= x;
        if product < 1e-200 {
            sum += product.ln();
            product = 1.0;
        }
    }
    sum + product.ln()
}

fn beta(rng: &mut ChaCha8Rng, a: f64, b: f64) -> f64 {
    // Parameters are always positive here (a + counts with a > 0, 1 + counts, α > 0).
    // Beta(1, b) has the closed-form inverse CDF 1 − U^(1/b): empty classes (all of their draws,
    // under LCMCR's uniform prior) take this path, which is several times cheaper than the
    // general algorithm.
    let x = if a == 1.0 {
        let u: f64 = rng.random();
        if b == 1.0 { u } else { 1.0 - u.powf(1.0 / b) }
    } else {
        Beta::new(a, b).map_or(0.5, |d| d.sample(rng))
    };
    x.clamp(1e-12, 1.0 - 1e-12)
}

/// People left to allocate below which they are drawn one by one (a uniform and a scan over
/// the classes each) rather than by binomials, whose set-up costs more than that.
const ONE_BY_ONE: u64 = 3;

/// Draws `out` ~ Multinomial(n, weights / Σ weights) by conditional binomials, class by class;
/// the last handful of people are placed one by one.
///
/// Classes are taken in label order. The stick-breaking prior makes the first labels the
/// heaviest in expectation, so `n` is mostly used up early; sorting by weight each time cost
/// more than it saved once the binomials became cheap (the tiny classes' weights are redrawn
/// from the prior every sweep, so their order changes all the time).
fn multinomial(rng: &mut ChaCha8Rng, n: u64, weights: &[f64], out: &mut [u64]) {
    out.iter_mut().for_each(|o| *o = 0);
    let mut left = n;
    let mut mass: f64 = weights.iter().sum();
    if left == 0 || mass <= 0.0 {
        return;
    }
    let k = weights.len();
    let mut next = 0;
    while left > ONE_BY_ONE && next + 1 < k {
        let p = (weights[next] / mass).clamp(0.0, 1.0);
        let x = crate::sampling::binomial(rng, left, p);
        out[next] = x;
        left -= x;
        mass -= weights[next];
        next += 1;
        if mass <= 0.0 {
            break;
        }
    }
    if next + 1 == k {
        out[next] += left;
        return;
    }
    let rest = &weights[next..];
    let rest_mass: f64 = rest.iter().sum();
    for _ in 0..left {
        let mut u = rng.random::<f64>() * rest_mass;
        // Rounding can leave u just above the last class: it then takes the person.
        let mut chosen = k - 1;
        for (c, &w) in rest.iter().enumerate() {
            if u < w {
                chosen = next + c;
                break;
            }
            u -= w;
        }
        out[chosen] += 1;
    }
}

impl<'a> Chain<'a> {
    /// `sweeps` kept sweeps after the `done` already kept, each after its ridge and visibility
    /// moves, pushing N at every `thin`-th sweep counted from the first kept one.
    fn keep(
        &mut self,
        done: usize,
        sweeps: usize,
        thin: usize,
        moves: usize,
        vis_moves: usize,
        draws: &mut Vec<f64>,
    ) {
        for s in done..done + sweeps {
            self.ridge_moves(moves, false);
            self.visibility_moves(vis_moves, false);
            self.sweep();
            if s % thin == 0 {
                draws.push((self.n_obs + self.n0) as f64);
                self.check();
            }
        }
    }

    /// One draw of the posterior predictive check: given the current (π, λ) and N, a table of
    /// N people drawn from the model, and whether its Freeman–Tukey distance to the expected
    /// counts, Σ (√y − √e)² over the observed patterns and the other patterns seen together,
    /// is at least the observed table's (Gelman, Meng & Stern 1996; Brooks, Catchpole & Morgan
    /// 2000 use the same distance for capture–recapture).
    fn check(&mut self) {
        self.pattern_weights();
        let k = self.k;
        let q = |x: usize| -> f64 { self.pattern_weights[x * k..(x + 1) * k].iter().sum() };
        let m = self.patterns.len();
        let n = self.n_obs + self.n0;
        let q0 = q(0);
        let mut probs = std::mem::take(&mut self.check.probs);
        probs.clear();
        probs.extend(self.patterns.iter().map(|&(x, _)| q(x)));
        let seen: f64 = probs.iter().sum();
        probs.push((1.0 - q0 - seen).max(0.0));
        probs.push(q0);
        let distance = |counts: &mut dyn Iterator<Item = u64>| -> f64 {
            counts
                .zip(&probs[..=m])
                .map(|(y, p)| ((y as f64).sqrt() - (n as f64 * p).sqrt()).powi(2))
                .sum()
        };
        let observed = distance(&mut self.patterns.iter().map(|p| p.1).chain([0]));
        let mut replicate = std::mem::take(&mut self.check.replicate);
        replicate.resize(m + 2, 0);
        multinomial(&mut self.check.rng, n, &probs, &mut replicate);
        let replicated = distance(&mut replicate.iter().copied());
        self.check.draws += 1;
        self.check.exceed += u64::from(replicated >= observed);
        self.check.probs = probs;
        self.check.replicate = replicate;
    }

    fn new(
        t: usize,
        k: usize,
        patterns: &'a [(usize, u64)],
        capture_prior: f64,
        seed: u64,
        stream: u64,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        // The check's stream is far from every chain's.
        let mut check_rng = ChaCha8Rng::seed_from_u64(seed);
        check_rng.set_stream(stream | 1 << 40);
        let n_obs = patterns.iter().map(|p| p.1).sum();
        let lambda = (0..t * k).map(|_| rng.random_range(0.2..0.6)).collect();
        let mut chain = Chain {
            t,
            k,
            patterns,
            n_obs,
            lambda,
            pi: vec![1.0 / k as f64; k],
            v: vec![0.5; k],
            alpha: 1.0,
            n0: n_obs / 2,
            capture_prior,
            rng,
            counts: vec![0; (patterns.len() + 1) * k],
            pattern_weights: vec![0.0; (1 << t) * k],
            class_total: vec![0; k],
            captured: vec![0; t * k],
            ridge: Ridge::new(t, k),
            visibility: Visibility::new(t, k),
            check: Check {
                rng: check_rng,
                draws: 0,
                exceed: 0,
                probs: Vec::with_capacity(patterns.len() + 2),
                replicate: Vec::with_capacity(patterns.len() + 2),
            },
        };
        chain.set_pi_from_v();
        chain
    }

    fn set_pi_from_v(&mut self) {
        let mut rest = 1.0;
        for c in 0..self.k {
            let v = if c + 1 == self.k { 1.0 } else { self.v[c] };
            self.pi[c] = rest * v;
            rest *= 1.0 - v;
        }
    }

    /// Weights π_k P(x | class k) of every capture pattern x, into `pattern_weights[x·K + k]`,
    /// list by list (2^t·K products instead of 2^t·K·t).
    fn pattern_weights(&mut self) {
        let (t, k) = (self.t, self.k);
        let w = &mut self.pattern_weights;
        w[..k].copy_from_slice(&self.pi[..k]);
        for j in 0..t {
            let half = 1usize << j;
            for x in 0..half {
                for c in 0..k {
                    let l = self.lambda[j * k + c];
                    let base = w[x * k + c];
                    w[(x | half) * k + c] = base * l;
                    w[x * k + c] = base * (1.0 - l);
                }
            }
        }
    }

    /// The block's θ in the logit coordinates of the ridge moves, into `ridge.phi`.
    fn write_phi(&mut self) {
        let (t, k) = (self.t, self.k);
        let r = &mut self.ridge;
        let (block, cv) = (r.block, r.block.min(k - 1));
        for c in 0..cv {
            r.phi[c] = logit(self.v[c]);
        }
        for j in 0..t {
            for c in 0..block {
                r.phi[cv + j * block + c] = logit(self.lambda[j * k + c]);
            }
        }
    }

    /// `moves` adaptive Metropolis moves on the block's θ with the classes and N integrated
    /// out; the scale adapts towards 23% acceptance while `adapt` is true (burn-in only).
    fn ridge_moves(&mut self, moves: usize, adapt: bool) {
        if moves == 0 || self.ridge.chol.is_none() {
            return;
        }
        let (t, k) = (self.t, self.k);
        self.write_phi();
        let mut r = std::mem::replace(&mut self.ridge, Ridge::new(0, 0));
        let (block, cv, d) = (r.block, r.block.min(k - 1), r.d);
        // The current point, where the proposals are read too.
        r.v.copy_from_slice(&self.v[..cv]);
        for j in 0..t {
            for c in 0..block {
                r.lambda[j * block + c] = self.lambda[j * k + c];
            }
        }
        // The classes beyond the block, with their weights relative to the block's leftover.
        r.tail.iter_mut().for_each(|x| *x = 0.0);
        let mut rest = 1.0;
        for c in block..k {
            let vc = if c + 1 == k { 1.0 } else { self.v[c] };
            let lambda = &self.lambda;
            add_class(
                t,
                rest * vc,
                |j| lambda[j * k + c],
                &mut r.class_probs,
                &mut r.tail,
            );
            rest *= 1.0 - vc;
        }
        let mut current = log_target(self, &mut r);
        let Some(chol) = r.chol.take() else {
            self.ridge = r;
            return;
        };
        for _ in 0..moves {
            for z in r.z.iter_mut() {
                *z = self.rng.sample(StandardNormal);
            }
            let scale = r.log_scale.exp();
            for a in 0..d {
                let row = &chol[a * d..a * d + a + 1];
                let step: f64 = row.iter().zip(&r.z).map(|(l, z)| l * z).sum();
                r.proposal[a] = r.phi[a] + scale * step;
            }
            for c in 0..cv {
                r.v[c] = logistic(r.proposal[c]);
            }
            for (l, p) in r.lambda.iter_mut().zip(&r.proposal[cv..]) {
                *l = logistic(*p);
            }
            let inside = r.v.iter().chain(&r.lambda).all(|x| *x > 0.0 && *x < 1.0);
            let proposed = if inside {
                log_target(self, &mut r)
            } else {
                f64::NEG_INFINITY
            };
            let u: f64 = self.rng.random();
            let accept = proposed.is_finite() && u.ln() < proposed - current;
            if accept {
                current = proposed;
                std::mem::swap(&mut r.phi, &mut r.proposal);
                self.v[..cv].copy_from_slice(&r.v);
                for j in 0..t {
                    for c in 0..block {
                        self.lambda[j * k + c] = r.lambda[j * block + c];
                    }
                }
            }
            if adapt {
                r.log_scale += 0.02 * (f64::from(u8::from(accept)) - 0.234);
            } else {
                r.proposed += 1;
                r.accepted += u64::from(accept);
            }
        }
        r.chol = Some(chol);
        self.ridge = r;
        self.set_pi_from_v();
    }

    /// `moves` one-dimensional Metropolis moves per class holding at least [`VISIBLE_AT`] of the
    /// weight, along the direction that changes how visible the class is while keeping roughly
    /// how many people it shows to the lists: every capture logit of the class up by δ, its
    /// stick-breaking logit down by δ. Same target as the ridge moves (θ given α, with the classes
    /// of people and N integrated out). A proposal that would leave the class under
    /// [`VISIBLE_AT`] is rejected, so each class's move is reversible on its own. The step size
    /// of each class adapts towards 44% acceptance (the optimum of a one-dimensional random
    /// walk) while `adapt` is true (burn-in only).
    fn visibility_moves(&mut self, moves: usize, adapt: bool) {
        let (t, k) = (self.t, self.k);
        if moves == 0 {
            return;
        }
        let n = 1usize << t;
        // π_c P(x | c) of every class (the Gibbs steps' pattern weights), and the sums over the
        // classes after each one.
        self.pattern_weights();
        let weights = &self.pattern_weights;
        let mut vis = std::mem::replace(&mut self.visibility, Visibility::new(0, 0));
        vis.after[(k - 1) * n..].iter_mut().for_each(|a| *a = 0.0);
        for c in (0..k - 1).rev() {
            for x in 0..n {
                vis.after[c * n + x] = vis.after[(c + 1) * n + x] + weights[x * k + c + 1];
            }
        }
        vis.before.iter_mut().for_each(|b| *b = 0.0);
        // The likelihood part of the target is the same for every class's move: carried from
        // one class to the next instead of recomputed.
        for x in 0..n {
            vis.q[x] = vis.after[x] + weights[x * k];
        }
        let mut likelihood = self.pattern_likelihood(&vis.q);
        // `scale`: how much the moves so far have scaled the classes after them (a class's
        // weight is its stick times what the earlier classes left).
        let (mut rest, mut scale) = (1.0, 1.0);
        for c in 0..k {
            let last = c + 1 == k;
            let v_old = if last { 1.0 } else { self.v[c] };
            let mut moved = false;
            if rest * v_old >= VISIBLE_AT {
                // The other classes' part of q, for a stick v of this class: before + (1 − v)·others.
                let shrink = if last { 0.0 } else { scale / (1.0 - v_old) };
                for x in 0..n {
                    vis.others[x] = shrink * vis.after[c * n + x];
                }
                for j in 0..t {
                    vis.lambda[j] = self.lambda[j * k + c];
                    vis.logit_lambda[j] = logit(vis.lambda[j]);
                }
                let (mut v, mut logit_v) = (v_old, if last { 0.0 } else { logit(v_old) });
                let mut prior =
                    class_log_prior(self.alpha, self.capture_prior, v, last, &vis.lambda);
                for _ in 0..moves {
                    let step = vis.log_scale[c].exp() * self.rng.sample::<f64, _>(StandardNormal);
                    for j in 0..t {
                        vis.proposal_logit[j] = vis.logit_lambda[j] + step;
                        vis.proposal[j] = logistic(vis.proposal_logit[j]);
                    }
                    let logit_new = logit_v - step;
                    let v_new = if last { 1.0 } else { logistic(logit_new) };
                    let inside = vis.proposal.iter().all(|l| *l > 0.0 && *l < 1.0)
                        && (last || (v_new > 0.0 && v_new < 1.0))
                        && rest * v_new >= VISIBLE_AT;
                    let (mut new_likelihood, mut new_prior) = (f64::NEG_INFINITY, 0.0);
                    if inside {
                        for x in 0..n {
                            vis.q[x] = vis.before[x] + (1.0 - v_new) * vis.others[x];
                        }
                        let proposal = &vis.proposal;
                        add_class(t, rest * v_new, |j| proposal[j], &mut vis.buf, &mut vis.q);
                        new_likelihood = self.pattern_likelihood(&vis.q);
                        new_prior = class_log_prior(
                            self.alpha,
                            self.capture_prior,
                            v_new,
                            last,
                            &vis.proposal,
                        );
                    }
                    let u: f64 = self.rng.random();
                    let accept = new_likelihood.is_finite()
                        && u.ln() < new_likelihood + new_prior - likelihood - prior;
                    if accept {
                        (likelihood, prior) = (new_likelihood, new_prior);
                        (v, logit_v) = (v_new, logit_new);
                        std::mem::swap(&mut vis.lambda, &mut vis.proposal);
                        std::mem::swap(&mut vis.logit_lambda, &mut vis.proposal_logit);
                        moved = true;
                    }
                    if adapt {
                        vis.log_scale[c] += 0.05 * (f64::from(u8::from(accept)) - 0.44);
                    } else {
                        vis.proposed += 1;
                        vis.accepted += u64::from(accept);
                    }
                }
                if moved {
                    for j in 0..t {
                        self.lambda[j * k + c] = vis.lambda[j];
                    }
                    if !last {
                        scale *= (1.0 - v) / (1.0 - v_old);
                        self.v[c] = v;
                    }
                }
            }
            let v = if last { 1.0 } else { self.v[c] };
            if moved {
                let lambda = &self.lambda;
                add_class(
                    t,
                    rest * v,
                    |j| lambda[j * k + c],
                    &mut vis.buf,
                    &mut vis.before,
                );
            } else {
                // Unmoved: its stored weights, scaled by the moves of the classes before it.
                for x in 0..n {
                    vis.before[x] += scale * self.pattern_weights[x * k + c];
                }
            }
            rest *= 1.0 - v;
        }
        self.visibility = vis;
        self.set_pi_from_v();
    }

    /// The zero-truncated likelihood of the pattern counts given the pattern probabilities
    /// `q` (module doc), up to a constant.
    fn pattern_likelihood(&self, q: &[f64]) -> f64 {
        // 1 − q₀ as the sum of the seen cells: no cancellation when q₀ is close to 1.
        let seen: f64 = q[1..].iter().sum();
        let mut lp = -(self.n_obs as f64) * seen.ln();
        for &(x, n) in self.patterns {
            lp += n as f64 * q[x].ln();
        }
        lp
    }

    fn sweep(&mut self) {
        let k = self.k;
        let np = self.patterns.len();
        self.pattern_weights();
        // 1. Classes of the observed.
        for (i, &(pattern, n)) in self.patterns.iter().enumerate() {
            let weights = &self.pattern_weights[pattern * k..(pattern + 1) * k];
            let counts = &mut self.counts[i * k..(i + 1) * k];
            multinomial(&mut self.rng, n, weights, counts);
        }
        // 2. The unobserved count: n0 ~ NB(n, p0) as Poisson(Gamma(n, p0 / (1 - p0))).
        let p0: f64 = self.pattern_weights[..k]
            .iter()
            .sum::<f64>()
            .clamp(1e-300, 1.0 - 1e-12);
        let g =
            Gamma::new(self.n_obs as f64, p0 / (1.0 - p0)).map_or(0.0, |d| d.sample(&mut self.rng));
        self.n0 = if g > 0.0 {
            Poisson::new(g).map_or(0.0, |d: Poisson<f64>| d.sample(&mut self.rng)) as u64
        } else {
            0
        };
        // 3. Classes of the unobserved.
        {
            let weights = &self.pattern_weights[..k];
            let counts = &mut self.counts[np * k..(np + 1) * k];
            multinomial(&mut self.rng, self.n0, weights, counts);
        }
        // 4. λ, from each class's total and captures per list (one pass over the patterns).
        self.class_total.iter_mut().for_each(|x| *x = 0);
        self.captured.iter_mut().for_each(|x| *x = 0);
        for (i, &(pattern, _)) in self.patterns.iter().enumerate() {
            for c in 0..k {
                let m = self.counts[i * k + c];
                if m == 0 {
                    continue;
                }
                self.class_total[c] += m;
                for j in 0..self.t {
                    if pattern & (1 << j) != 0 {
                        self.captured[j * k + c] += m;
                    }
                }
            }
        }
        for c in 0..k {
            self.class_total[c] += self.counts[np * k + c];
        }
        for c in 0..k {
            let total = self.class_total[c];
            for j in 0..self.t {
                let yes = self.captured[j * k + c];
                let a = self.capture_prior;
                self.lambda[j * k + c] =
                    beta(&mut self.rng, a + yes as f64, a + (total - yes) as f64);
            }
        }
        // 5. Stick-breaking weights.
        let mut after: u64 = self.class_total.iter().sum();
        let mut log_rest = 0.0;
        for c in 0..k - 1 {
            let total = self.class_total[c];
            after -= total;
            self.v[c] = beta(&mut self.rng, 1.0 + total as f64, self.alpha + after as f64);
            log_rest += (1.0 - self.v[c]).ln();
        }
        self.set_pi_from_v();
        // 6. Concentration (shape-rate Gamma; rand_distr takes a scale).
        let rate = 0.25 - log_rest;
        self.alpha = Gamma::new(0.25 + (k - 1) as f64, 1.0 / rate)
            .map_or(1.0, |d| d.sample(&mut self.rng))
            .max(1e-6);
    }
}

/// Runs the sampler on a capture-pattern count table (`counts[pattern]`, `counts[0]` ignored):
/// burn-in, [`LcmcrOptions::samples`] kept sweeps per chain, then more while the draws fall
/// short of [`LcmcrOptions::target_ess`].
pub fn sample(counts: &[u64], t: usize, options: &LcmcrOptions) -> LcmcrResult {
    let patterns: Vec<(usize, u64)> = (1..counts.len())
        .filter(|&h| counts[h] > 0)
        .map(|h| (h, counts[h]))
        .collect();
    let chains = options.chains.max(1);
    let thin = options.thin.max(1);
    // A Beta prior needs positive parameters; anything else falls back to LCMCR's uniform one.
    let capture_prior = if options.capture_prior > 0.0 && options.capture_prior.is_finite() {
        options.capture_prior
    } else {
        1.0
    };
    let moves = options.ridge_moves;
    let vis_moves = options.visibility_moves;
    // Burn-in and the first `samples` kept sweeps, each chain in its own thread; the chains come
    // back with their state, to go on if the target asks for more.
    let mut chains: Vec<(Chain<'_>, Vec<f64>, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..chains)
            .map(|c| {
                let patterns = &patterns;
                scope.spawn(move || {
                    let started = std::time::Instant::now();
                    let mut chain = Chain::new(
                        t,
                        options.classes.max(1),
                        patterns,
                        capture_prior,
                        options.seed,
                        c as u64,
                    );
                    // The first eighth chooses the block of occupied classes, the second learns
                    // the proposal's covariance from Gibbs alone; the moves then start and the
                    // covariance is learnt again from what they explored (the Gibbs steps alone
                    // barely move along the ridge, so the first estimate is too narrow there).
                    let (choose_until, learn_until) = (options.burn_in / 8, options.burn_in / 4);
                    let relearn_at = options.burn_in * 5 / 8;
                    for s in 0..options.burn_in {
                        chain.ridge_moves(moves, true);
                        chain.visibility_moves(vis_moves, true);
                        chain.sweep();
                        if moves == 0 {
                            continue;
                        }
                        if s < choose_until {
                            let r = &mut chain.ridge;
                            r.occupied
                                .iter_mut()
                                .zip(&chain.pi)
                                .for_each(|(a, p)| *a += f64::from(u8::from(*p >= OCCUPIED)));
                            r.occupancy_sweeps += 1.0;
                        } else if s == choose_until {
                            chain.ridge.choose_block(t);
                        } else if s == learn_until || s == relearn_at {
                            chain.ridge.learn();
                            chain.ridge.restart_moments();
                        } else if s < relearn_at {
                            chain.write_phi();
                            chain.ridge.record();
                        }
                    }
                    let mut draws = Vec::with_capacity(options.samples / thin + 1);
                    chain.keep(0, options.samples, thin, moves, vis_moves, &mut draws);
                    let secs = started.elapsed().as_secs_f64();
                    (chain, draws, secs)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a latent-class chain panicked"))
            .collect()
    });
    // Go on while the draws fall short of the target: each round as long again as all kept so
    // far, from where every chain stopped, so that a result depends only on the seed and table.
    let max_samples = match options.max_samples {
        0 => MAX_SAMPLES_FACTOR.saturating_mul(options.samples),
        m => m,
    }
    .max(options.samples);
    let mut kept = options.samples;
    let mut last_r_hat = f64::INFINITY;
    while options.target_ess > 0.0 && kept < max_samples {
        let samples: Vec<Vec<f64>> = chains.iter().map(|c| c.1.clone()).collect();
        let total_ess: f64 = samples.iter().map(|s| ess(s)).sum();
        let r_hat = split_r_hat(&samples);
        if !go_on(total_ess, r_hat, last_r_hat, options.target_ess) {
            break;
        }
        last_r_hat = r_hat;
        let more = kept.max(1).min(max_samples - kept);
        std::thread::scope(|scope| {
            for (chain, draws, secs) in chains.iter_mut() {
                scope.spawn(move || {
                    let started = std::time::Instant::now();
                    chain.keep(kept, more, thin, moves, vis_moves, draws);
                    *secs += started.elapsed().as_secs_f64();
                });
            }
        });
        kept += more;
    }
    let samples: Vec<Vec<f64>> = chains.iter().map(|c| c.1.clone()).collect();
    let speed = chains
        .iter()
        .map(|c| (options.burn_in + kept) as f64 / c.2.max(1e-9))
        .fold(f64::INFINITY, f64::min);
    let mean_rate = |rates: Vec<f64>| {
        (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
    };
    let rate =
        |accepted: u64, proposed: u64| (proposed > 0).then(|| accepted as f64 / proposed as f64);
    let ridge_acceptance = mean_rate(
        chains
            .iter()
            .filter_map(|c| rate(c.0.ridge.accepted, c.0.ridge.proposed))
            .collect(),
    );
    let visibility_acceptance = mean_rate(
        chains
            .iter()
            .filter_map(|c| rate(c.0.visibility.accepted, c.0.visibility.proposed))
            .collect(),
    );
    let mut all: Vec<f64> = samples.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    let q = |p: f64| quantile(&all, p);
    LcmcrResult {
        median: q(0.5),
        lower: q(0.025),
        upper: q(0.975),
        mean: all.iter().sum::<f64>() / all.len().max(1) as f64,
        r_hat: split_r_hat(&samples),
        ess: samples.iter().map(|s| ess(s)).sum(),
        draws: all.len(),
        kept_sweeps: kept,
        ppp: {
            let (draws, exceed) = chains.iter().fold((0, 0), |(d, e), c| {
                (d + c.0.check.draws, e + c.0.check.exceed)
            });
            (draws > 0).then(|| exceed as f64 / draws as f64)
        },
        sweeps_per_second: speed,
        ridge_acceptance,
        visibility_acceptance,
        options: options.clone(),
        samples,
    }
}

/// Whether the chains should go on: while the effective draws fall short of `target`, or R-hat
/// is above [`TARGET_R_HAT`] and the last round brought its excess over 1 down by a tenth or
/// more (`last_r_hat` is that of the round before, infinite at first). Chains that each mix well
/// but sit in different modes are not joined by running longer, so R-hat alone does not keep
/// them going once it stops falling.
fn go_on(ess: f64, r_hat: f64, last_r_hat: f64, target: f64) -> bool {
    let closing = r_hat - 1.0 < 0.9 * (last_r_hat - 1.0);
    ess < target || (r_hat > TARGET_R_HAT && closing)
}

/// Quantile of sorted values (linear interpolation, as R's type 7).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Split R-hat (Gelman et al. 2013, BDA3 §11.4): each chain split in halves.
pub fn split_r_hat(chains: &[Vec<f64>]) -> f64 {
    let halves: Vec<&[f64]> = chains
        .iter()
        .filter(|c| c.len() >= 4)
        .flat_map(|c| {
            let h = c.len() / 2;
            [&c[..h], &c[h..2 * h]]
        })
        .collect();
    if halves.len() < 2 {
        return f64::NAN;
    }
    let n = halves[0].len() as f64;
    let means: Vec<f64> = halves.iter().map(|h| h.iter().sum::<f64>() / n).collect();
    let grand = means.iter().sum::<f64>() / means.len() as f64;
    let m = halves.len() as f64;
    let b = n / (m - 1.0) * means.iter().map(|x| (x - grand).powi(2)).sum::<f64>();
    let w = halves
        .iter()
        .zip(&means)
        .map(|(h, mu)| h.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0))
        .sum::<f64>()
        / m;
    if w == 0.0 {
        return 1.0;
    }
    (((n - 1.0) / n * w + b / n) / w).sqrt()
}

/// Effective sample size of one chain by Geyer's initial positive sequence.
pub fn ess(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return n as f64;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    if var == 0.0 {
        return n as f64;
    }
    let rho = |lag: usize| -> f64 {
        (0..n - lag)
            .map(|i| (x[i] - mean) * (x[i + lag] - mean))
            .sum::<f64>()
            / (n as f64 * var)
    };
    let mut sum = 0.0;
    let mut lag = 1;
    while lag + 1 < n {
        let pair = rho(lag) + rho(lag + 1);
        if pair <= 0.0 {
            break;
        }
        sum += pair;
        lag += 2;
    }
    (n as f64 / (1.0 + 2.0 * sum)).min(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Means, variances and one covariance of the class counts against the multinomial's,
    /// with the heaviest class last (the binomials take classes in label order) and counts
    /// that end both in the binomials and in the one-by-one placement.
    #[test]
    fn multinomial_draws_have_the_multinomial_moments() {
        let weights = [0.01, 0.3, 0.0, 0.05, 0.5, 2.0];
        let total: f64 = weights.iter().sum();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for n in [2u64, 7, 60, 900] {
            let draws = 100_000;
            let mut sum = [0.0; 6];
            let mut sum_sq = [0.0; 6];
            let mut cross = 0.0;
            let mut out = [0u64; 6];
            for _ in 0..draws {
                multinomial(&mut rng, n, &weights, &mut out);
                assert_eq!(out.iter().sum::<u64>(), n);
                assert_eq!(out[2], 0, "a class of weight 0 got people");
                for c in 0..6 {
                    let x = out[c] as f64;
                    sum[c] += x;
                    sum_sq[c] += x * x;
                }
                cross += out[1] as f64 * out[5] as f64;
            }
            let d = f64::from(draws);
            let nf = n as f64;
            for c in 0..6 {
                let p = weights[c] / total;
                let (mean, var) = (nf * p, nf * p * (1.0 - p));
                let got_mean = sum[c] / d;
                let got_var = sum_sq[c] / d - got_mean * got_mean;
                // Five standard errors of the mean; the variance within 5% (plus a little for
                // tiny variances).
                assert!(
                    (got_mean - mean).abs() <= 5.0 * (var / d).sqrt() + 1e-12,
                    "n = {n}, class {c}: mean {got_mean} vs {mean}"
                );
                assert!(
                    (got_var - var).abs() <= 0.05 * var + 1e-3,
                    "n = {n}, class {c}: variance {got_var} vs {var}"
                );
            }
            let (p1, p5) = (weights[1] / total, weights[5] / total);
            let got_cov = cross / d - (sum[1] / d) * (sum[5] / d);
            let cov = -nf * p1 * p5;
            assert!(
                (got_cov - cov).abs() <= 0.05 * cov.abs() + 1e-3,
                "n = {n}: covariance {got_cov} vs {cov}"
            );
        }
    }

    #[test]
    fn sum_ln_equals_the_sum_of_logarithms() {
        // Ordinary, tiny (taken on their own) and many small values (products that would
        // underflow if never logged).
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut values: Vec<f64> = (0..200).map(|_| rng.random_range(1e-12..1.0)).collect();
        values.extend([1e-150, 3e-300, 0.25, 1.0 - 1e-12]);
        values.extend(std::iter::repeat_n(1e-11, 100));
        let direct: f64 = values.iter().map(|x| x.ln()).sum();
        let fast = sum_ln(values.iter().copied());
        assert!(
            ((fast - direct) / direct).abs() < 1e-13,
            "{fast} vs {direct}"
        );
        assert_eq!(sum_ln(std::iter::empty()), 0.0);
    }

    /// Two latent classes of visibility over four lists: the scenario where log-linear models
    /// with independence fail and the latent-class model should not.
    fn heterogeneous(seed: u64, n: usize) -> Vec<u64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let classes = [(0.3, [0.6, 0.5, 0.55, 0.45]), (0.7, [0.15, 0.1, 0.2, 0.12])];
        let mut counts = vec![0u64; 16];
        for _ in 0..n {
            let c = if rng.random::<f64>() < classes[0].0 {
                0
            } else {
                1
            };
            let mut h = 0;
            for j in 0..4 {
                if rng.random::<f64>() < classes[c].1[j] {
                    h |= 1 << j;
                }
            }
            counts[h] += 1;
        }
        counts
    }

    #[test]
    fn recovers_n_under_heterogeneity_and_is_reproducible() {
        let counts = heterogeneous(3, 2000);
        let options = LcmcrOptions {
            burn_in: 2_000,
            samples: 20_000,
            thin: 5,
            seed: 7,
            ..LcmcrOptions::default()
        };
        let r = sample(&counts, 4, &options);
        assert!(
            r.lower <= 2000.0 && 2000.0 <= r.upper,
            "{} [{}, {}]",
            r.median,
            r.lower,
            r.upper
        );
        assert!(r.r_hat < 1.1, "r_hat {}", r.r_hat);
        assert!(r.ess > 50.0, "ess {}", r.ess);
        let again = sample(&counts, 4, &options);
        assert_eq!(again.samples, r.samples, "same seed, same draws");
    }

    /// With one class the model is independence with Beta(a, a) capture probabilities, whose
    /// posterior of N has a closed form: p(N | data) ∝ (1/N) · N!/(N − n)! · Π_j B(n_j + a,
    /// N − n_j + a). The sampler (the unseen count, the capture probabilities, the ridge and
    /// visibility moves) must reproduce its quantiles, with LCMCR's a = 1 on 1,500 people, and
    /// with a = 1 and Jeffreys' a = ½ (the prior-sensitivity run) on lists of about 15, where
    /// the two priors give posteriors far enough apart that a sampler ignoring `capture_prior`
    /// fails (checked, in the Gibbs step and in the ridge moves' target).
    #[test]
    fn one_class_matches_the_closed_form_posterior() {
        use crate::linalg::ln_gamma;
        let table = |people: usize, probs: [f64; 3]| {
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let mut counts = vec![0u64; 8];
            for _ in 0..people {
                let mut h = 0;
                for (j, p) in probs.iter().enumerate() {
                    if rng.random::<f64>() < *p {
                        h |= 1 << j;
                    }
                }
                counts[h] += 1;
            }
            counts[0] = 0;
            counts
        };
        // 2.5%, 50% and 97.5% quantiles of the exact posterior of N.
        let exact = |counts: &[u64], a: f64| {
            let n: u64 = counts.iter().sum();
            let list_n: Vec<f64> = (0..3)
                .map(|j| {
                    (1..8)
                        .filter(|h| h & (1 << j) != 0)
                        .map(|h| counts[h] as f64)
                        .sum()
                })
                .collect();
            let log_p: Vec<f64> = (0..50_000u64)
                .map(|n0| {
                    let big = (n + n0) as f64;
                    let mut l = -big.ln() + ln_gamma(big + 1.0) - ln_gamma(n0 as f64 + 1.0);
                    for nj in &list_n {
                        l += ln_gamma(nj + a) + ln_gamma(big - nj + a) - ln_gamma(big + 2.0 * a);
                    }
                    l
                })
                .collect();
            let m = log_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = log_p.iter().map(|x| (x - m).exp()).sum();
            let quantile = |p: f64| {
                let mut acc = 0.0;
                for (i, x) in log_p.iter().enumerate() {
                    acc += (x - m).exp() / z;
                    if acc >= p {
                        return (n + i as u64) as f64;
                    }
                }
                f64::NAN
            };
            (quantile(0.025), quantile(0.5), quantile(0.975))
        };
        // Lists that each hold about 15 people: there the prior of the capture probabilities
        // weighs.
        let small = table(300, [0.05, 0.06, 0.045]);
        let (uniform, jeffreys) = (exact(&small, 1.0), exact(&small, 0.5));
        assert!(
            // Twice the sampler's tolerance on the median, below.
            (uniform.1 - jeffreys.1).abs() > 0.3 * (uniform.2 - uniform.0) / 3.92,
            "the two priors should differ here: {uniform:?} vs {jeffreys:?}"
        );
        for (counts, a) in [
            (table(1500, [0.3, 0.2, 0.25]), 1.0),
            (small.clone(), 1.0),
            (small, 0.5),
        ] {
            let (lo, med, hi) = exact(&counts, a);
            for (ridge_moves, visibility_moves) in [
                (0, 0),
                (RIDGE_MOVES, 0),
                (0, VISIBILITY_MOVES),
                (RIDGE_MOVES, VISIBILITY_MOVES),
            ] {
                let r = sample(
                    &counts,
                    3,
                    &LcmcrOptions {
                        classes: 1,
                        burn_in: 2_000,
                        samples: 40_000,
                        thin: 4,
                        seed: 9,
                        ridge_moves,
                        visibility_moves,
                        capture_prior: a,
                        target_ess: 0.0,
                        ..LcmcrOptions::default()
                    },
                );
                let sd = (hi - lo) / 3.92;
                assert!(
                    (r.median - med).abs() < 0.15 * sd
                        && (r.lower - lo).abs() < 0.3 * sd
                        && (r.upper - hi).abs() < 0.3 * sd,
                    "prior Beta({a}, {a}), moves {ridge_moves}/{visibility_moves}: sampler {} [{}, {}] vs exact {med} [{lo}, {hi}]",
                    r.median,
                    r.lower,
                    r.upper
                );
            }
        }
    }

    /// The ridge and visibility moves change how fast the chain moves, not where it goes: with
    /// and without them, the posterior of N is the same up to Monte Carlo error.
    #[test]
    fn moves_leave_the_posterior_unchanged() {
        let counts = heterogeneous(11, 2500);
        let run = |ridge_moves, visibility_moves| {
            sample(
                &counts,
                4,
                &LcmcrOptions {
                    burn_in: 4_000,
                    samples: 60_000,
                    thin: 10,
                    seed: 3,
                    ridge_moves,
                    visibility_moves,
                    target_ess: 0.0,
                    ..LcmcrOptions::default()
                },
            )
        };
        let gibbs = run(0, 0);
        // Posterior sd from the Gibbs interval; Monte Carlo error of the medians is a fraction
        // of it at these sample sizes.
        let sd = (gibbs.upper - gibbs.lower) / 3.92;
        for (ridge_moves, visibility_moves) in [
            (RIDGE_MOVES, 0),
            (0, VISIBILITY_MOVES),
            (RIDGE_MOVES, VISIBILITY_MOVES),
        ] {
            let moved = run(ridge_moves, visibility_moves);
            let label = format!("{ridge_moves} ridge, {visibility_moves} visibility moves");
            assert_eq!(moved.ridge_acceptance.is_some(), ridge_moves > 0, "{label}");
            assert_eq!(
                moved.visibility_acceptance.is_some(),
                visibility_moves > 0,
                "{label}"
            );
            for rate in [moved.ridge_acceptance, moved.visibility_acceptance]
                .into_iter()
                .flatten()
            {
                assert!(rate > 0.02 && rate < 0.9, "{label}: acceptance {rate}");
            }
            assert!(
                (gibbs.median - moved.median).abs() < 0.35 * sd,
                "{label}: medians {} vs {} (sd {sd})",
                gibbs.median,
                moved.median
            );
            assert!((gibbs.lower - moved.lower).abs() < 0.5 * sd, "{label}");
            assert!((gibbs.upper - moved.upper).abs() < 0.8 * sd, "{label}");
            assert!(
                moved.ess > gibbs.ess,
                "{label}: {} vs {}",
                moved.ess,
                gibbs.ess
            );
        }
    }

    /// On a small table the priors weigh on the posterior, so a wrong prior or Jacobian term in
    /// the moves' target would show: the visibility moves alone must give the Gibbs sampler's
    /// posterior of N, whose Monte Carlo error is small here because few people pin the
    /// classes down less.
    #[test]
    fn visibility_moves_keep_the_priors_on_a_small_table() {
        let counts = heterogeneous(4, 200);
        let run = |visibility_moves| {
            let r = sample(
                &counts,
                4,
                &LcmcrOptions {
                    burn_in: 5_000,
                    samples: 200_000,
                    thin: 10,
                    seed: 8,
                    ridge_moves: 0,
                    visibility_moves,
                    target_ess: 0.0,
                    ..LcmcrOptions::default()
                },
            );
            let mut all: Vec<f64> = r.samples.concat();
            all.sort_by(f64::total_cmp);
            (r, all)
        };
        let ((gibbs, g), (moved, m)) = (run(0), run(VISIBILITY_MOVES));
        assert!(moved.ess > gibbs.ess, "{} vs {}", moved.ess, gibbs.ess);
        // Dropping the stick's logit Jacobian from the target moves the quartiles here by 3 and
        // 7 people, the median by 5 and the 90% quantile by 10; the posterior sd is about 20.
        // Dropping the capture probabilities' Jacobians moves the 10% quantile by 11.
        let sd = (gibbs.upper - gibbs.lower) / 3.92;
        for p in [0.1, 0.25, 0.5, 0.75, 0.9] {
            let (a, b) = (quantile(&g, p), quantile(&m, p));
            assert!(
                (a - b).abs() <= 0.1 * sd,
                "quantile {p}: Gibbs {a}, with visibility moves {b} (sd {sd})"
            );
        }
    }

    #[test]
    fn diagnostics_on_known_sequences() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let iid: Vec<f64> = (0..1000).map(|_| rng.random::<f64>()).collect();
        assert!(ess(&iid) > 500.0);
        let sticky: Vec<f64> = (0..1000).map(|i| (i / 100) as f64).collect();
        assert!(ess(&sticky) < 50.0);
        let a: Vec<f64> = (0..200).map(|i| (i % 7) as f64).collect();
        assert!((split_r_hat(&[a.clone(), a]) - 1.0).abs() < 0.05);
        assert_eq!(quantile(&[1.0, 2.0, 3.0], 0.5), 2.0);
    }

    /// The posterior predictive check rejects a model that cannot produce the table (one class:
    /// lists independent, every person alike, on lists drawn with two visibility classes) and
    /// not the model with classes enough.
    #[test]
    fn the_predictive_check_rejects_a_model_that_cannot_fit() {
        let counts = heterogeneous(6, 4000);
        let run = |classes| {
            sample(
                &counts,
                4,
                &LcmcrOptions {
                    classes,
                    burn_in: 2_000,
                    samples: 10_000,
                    thin: 5,
                    seed: 2,
                    target_ess: 0.0,
                    ..LcmcrOptions::default()
                },
            )
            .ppp
            .unwrap()
        };
        let (one, ten) = (run(1), run(10));
        assert!(one < 0.01, "{one}");
        assert!(ten > 0.05, "{ten}");
    }

    #[test]
    fn going_on_needs_too_few_draws_or_a_falling_r_hat() {
        // Too few effective draws: on, whatever R-hat says.
        assert!(go_on(120.0, 1.001, f64::INFINITY, TARGET_ESS));
        assert!(go_on(120.0, 1.2, 1.1, TARGET_ESS));
        // Enough draws and R-hat at most 1.01: done.
        assert!(!go_on(5_000.0, 1.005, f64::INFINITY, TARGET_ESS));
        // R-hat above 1.01: on at first, and while it falls by a tenth of its excess or more.
        assert!(go_on(5_000.0, 1.03, f64::INFINITY, TARGET_ESS));
        assert!(go_on(5_000.0, 1.02, 1.03, TARGET_ESS));
        // Chains apart that more sweeps do not bring together: done.
        assert!(!go_on(19_000.0, 1.026, 1.024, TARGET_ESS));
        assert!(!go_on(19_000.0, 1.0235, 1.024, TARGET_ESS));
    }

    #[test]
    fn extends_until_the_target_and_continues_the_same_chains() {
        let counts = heterogeneous(5, 2000);
        // Plain Gibbs mixes slowly (LCMCR's effective draws are about 180 per 110,000 sweeps),
        // so 2,000 kept sweeps fall far short of 400 effective draws.
        let fixed = LcmcrOptions {
            burn_in: 1_000,
            samples: 2_000,
            thin: 2,
            seed: 4,
            ridge_moves: 0,
            visibility_moves: 0,
            target_ess: 0.0,
            ..LcmcrOptions::default()
        };
        let short = sample(&counts, 4, &fixed);
        assert_eq!(short.kept_sweeps, 2_000);
        assert!(short.ess < TARGET_ESS, "{}", short.ess);
        let adaptive = LcmcrOptions {
            target_ess: TARGET_ESS,
            max_samples: 16_000,
            ..fixed.clone()
        };
        let long = sample(&counts, 4, &adaptive);
        // Doubling from 2,000: 4,000, 8,000, then the cap of 16,000 unless the target came first.
        assert!(
            [4_000, 8_000, 16_000].contains(&long.kept_sweeps),
            "{}",
            long.kept_sweeps
        );
        assert!(long.kept_sweeps == 16_000 || long.ess >= TARGET_ESS);
        assert_eq!(long.draws, 2 * long.kept_sweeps / 2);
        // The chains went on from where they stopped: the fixed run's draws come first.
        for (a, b) in short.samples.iter().zip(&long.samples) {
            assert_eq!(a[..], b[..a.len()]);
        }
        // The rule reads only the draws: the same seed gives the same result.
        assert_eq!(sample(&counts, 4, &adaptive).samples, long.samples);
        // A run that already holds its target is not extended.
        let mixing = LcmcrOptions {
            ridge_moves: RIDGE_MOVES,
            visibility_moves: VISIBILITY_MOVES,
            samples: 20_000,
            ..adaptive.clone()
        };
        let r = sample(&counts, 4, &mixing);
        assert_eq!(r.kept_sweeps, 20_000, "effective draws {}", r.ess);
        assert!(r.ess >= TARGET_ESS && r.r_hat <= TARGET_R_HAT);
    }
}
