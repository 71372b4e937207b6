//! Multiple systems estimation: how many people, including those on no list.
//!
//! Input is a [`CaptureHistories`] table (people per capture pattern and stratum). Output is a
//! list of [`Estimate`]s, each with a 95% interval, or a plain-words reason why no number can be
//! given. Methods:
//!
//! * log-linear models over 3+ lists ([`loglinear`]): every hierarchical model up to a chosen
//!   interaction order, the best by AIC or BIC with a profile-likelihood interval, and the
//!   average over models weighted by the criterion (Buckland, Burnham & Augustin 1997), whose
//!   interval includes model uncertainty;
//! * Bayesian model averaging over decomposable graphical models ([`dga`], Madigan & York 1997),
//!   exact on a grid of N, for 3–6 lists;
//! * the Bayesian non-parametric latent-class model ([`lcmcr`], opt-in through
//!   [`Options::lcmcr`]), which absorbs heterogeneity of capture;
//! * two lists: Chapman's estimator, with a warning about the independence assumption.
//!
//! ```
//! use recuento_model::CaptureHistories;
//! use recuento_mse::{estimate, Options};
//! let h = CaptureHistories {
//!     lists: vec!["a".into(), "b".into(), "c".into()],
//!     strata: vec![],
//!     rows: vec![
//!         (vec![], 0b001, 120), (vec![], 0b010, 110), (vec![], 0b100, 100),
//!         (vec![], 0b011, 40), (vec![], 0b101, 35), (vec![], 0b110, 30), (vec![], 0b111, 12),
//!     ],
//! };
//! let estimates = estimate(&h, &Options::default());
//! let e = &estimates[0];
//! assert!(e.estimate.unwrap() > 447.0);
//! assert!(e.lower.unwrap() <= e.estimate.unwrap() && e.estimate.unwrap() <= e.upper.unwrap());
//! ```
#![deny(missing_docs)]

pub mod dga;
pub mod lcmcr;
mod linalg;
pub mod loglinear;
pub mod pooled;
mod sampling;

use recuento_model::CaptureHistories;
use serde::{Deserialize, Serialize};

use loglinear::{ListEffects, ModelFit};

/// Options for [`estimate`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Options {
    /// Highest order of list interactions (1 = independence only, 2 = pairwise, 3).
    pub max_order: usize,
    /// `aic` or `bic`: picks the best model and weights the average.
    pub criterion: String,
    /// A list with fewer people than this in a stratum is left out of that stratum.
    pub min_list_count: u64,
    /// Also run the Bayesian latent-class model ([`lcmcr`]) with these settings (3+ lists).
    pub lcmcr: Option<lcmcr::LcmcrOptions>,
    /// Also average over decomposable graphical models ([`dga`]) with these settings (3–6
    /// lists). On by default: it is computed, not sampled, and takes under half a second.
    #[serde(default)]
    pub dga: Option<dga::DgaOptions>,
    /// Also fit this log-linear model, written as [`loglinear::Terms::parse`] reads it
    /// (`independence + a:b`), with its profile-likelihood interval: method `loglinear-chosen`.
    #[serde(default)]
    pub model: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_order: 2,
            criterion: "aic".into(),
            min_list_count: 1,
            lcmcr: None,
            dga: Some(dga::DgaOptions::default()),
            model: None,
        }
    }
}

/// One cell of the capture-pattern table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// `10110`: on lists 1, 3 and 4 (one digit per list, in list order).
    pub pattern: String,
    /// People observed with this pattern.
    pub observed: u64,
    /// Expected count under the model.
    pub fitted: f64,
}

/// Diagnostics of a Bayesian estimate's sampler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mcmc {
    /// Split R-hat of N.
    pub r_hat: f64,
    /// Effective sample size of N.
    pub ess: f64,
    /// Chains run in parallel.
    pub chains: usize,
    /// Kept draws over all chains.
    pub draws: usize,
    /// Sweeps per chain (burn-in included): more than asked for when the sampler went on to
    /// reach its target of effective draws ([`lcmcr::LcmcrOptions::target_ess`]).
    pub sweeps: usize,
    /// Burn-in sweeps per chain (discarded), part of [`Mcmc::sweeps`]; 0 in files written
    /// before it was recorded.
    #[serde(default)]
    pub burn_in: usize,
    /// Latent classes (truncation).
    pub classes: usize,
    /// The seed.
    pub seed: u64,
    /// Posterior mean of N.
    pub mean: f64,
    /// Posterior predictive p-value of the capture-pattern table
    /// ([`lcmcr::LcmcrResult::ppp`]): near 0 when the model does not reproduce the overlaps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppp: Option<f64>,
}

/// One estimate of the total number of people in a stratum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// `loglinear-averaged`, `loglinear-best`, `loglinear-heterogeneity`, `dga`, `lcmcr`,
    /// `chapman`.
    pub method: String,
    /// The model, in words (`independence + a:b`), or `average of N models`.
    pub model: String,
    /// `all`, or `field=value` for a stratum.
    pub stratum: String,
    /// People seen by at least one list.
    pub observed: u64,
    /// Estimated total, or `None` when the data cannot support one (see `warnings`).
    pub estimate: Option<f64>,
    /// Lower end of the 95% interval.
    pub lower: Option<f64>,
    /// Upper end of the 95% interval (`None` also when it is unbounded).
    pub upper: Option<f64>,
    /// How the interval was computed.
    pub interval: String,
    /// Lists used (those below the minimum count are left out).
    pub lists: Vec<String>,
    /// AIC of the model (best-model estimates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aic: Option<f64>,
    /// BIC of the model (best-model estimates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bic: Option<f64>,
    /// Residual deviance and degrees of freedom (best-model estimates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviance: Option<(f64, usize)>,
    /// Standard error of the total (single log-linear models): the Poisson variance of the
    /// people on no list plus the delta-method variance of exp(β₀), as Rcapture reports it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stderr: Option<f64>,
    /// P-value of the deviance (single log-linear models with degrees of freedom left): the
    /// chance of a deviance this large if the model were right (χ² on its degrees of freedom;
    /// rough when many cells hold few people). Small values mean the table contradicts the model.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fit_p_value: Option<f64>,
    /// The capture-pattern table with the model's fitted values (best-model estimates only):
    /// one entry per observed pattern, `pattern` written as one 0/1 digit per list in list order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub cells: Vec<Cell>,
    /// Sampler diagnostics (Bayesian estimates only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mcmc: Option<Mcmc>,
    /// Models that entered the average, each as (model, weight, its estimate): log-linear models
    /// with their AIC/BIC weights and estimates; for `dga`, graphs with their posterior
    /// probabilities and posterior medians (averaged estimates only).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub models: Vec<(String, f64, f64)>,
    /// Plain-words warnings: assumptions the data contradict, lists left out, sparse cells.
    pub warnings: Vec<String>,
    /// The same warnings in Spanish, one for each of `warnings` and in the same order, for the
    /// documentation teams who read the report.
    #[serde(default)]
    pub warnings_es: Vec<String>,
    /// Posterior draws of N, chain after chain (Bayesian estimates; kept in memory to sum strata,
    /// not written out).
    #[serde(skip)]
    pub draws: Vec<f64>,
}

/// A warning in English and in Spanish.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Said {
    en: String,
    es: String,
}

fn said(en: impl Into<String>, es: impl Into<String>) -> Said {
    Said {
        en: en.into(),
        es: es.into(),
    }
}

impl Estimate {
    /// Adds a warning in both languages.
    fn warn(&mut self, w: Said) {
        self.warnings.push(w.en);
        self.warnings_es.push(w.es);
    }

    /// Adds warnings in both languages.
    fn warn_all(&mut self, w: impl IntoIterator<Item = Said>) {
        for w in w {
            self.warn(w);
        }
    }

    /// Replaces the warnings.
    fn set_warnings(&mut self, w: impl IntoIterator<Item = Said>) {
        self.warnings.clear();
        self.warnings_es.clear();
        self.warn_all(w);
    }

    /// The warnings in both languages (an estimate read from a file without its Spanish ones
    /// gets the English in their place).
    fn said(&self) -> Vec<Said> {
        self.warnings
            .iter()
            .enumerate()
            .map(|(i, en)| said(en, self.warnings_es.get(i).unwrap_or(en)))
            .collect()
    }

    /// What a table or a warning calls this estimate: its method, or for the heterogeneity
    /// models (which share the method `loglinear-heterogeneity`) the model's name, so that M0's
    /// warning is not read as Mh Darroch's.
    pub fn label(&self) -> &str {
        if self.method == "loglinear-heterogeneity" {
            &self.model
        } else {
            &self.method
        }
    }

    /// Whether the estimate comes from a model in which every list is equally likely to list a
    /// person (M0 or an Mh model), an assumption human-rights lists rarely meet: such estimates
    /// carry a test of it, and summaries may set them aside.
    pub fn assumes_equal_lists(&self) -> bool {
        self.model == loglinear::M0
            || loglinear::Heterogeneity::ALL
                .iter()
                .any(|h| self.model == h.shared_name())
    }
}

/// One stratum's capture-pattern table, the lists it uses and the warnings so far: what every
/// estimator reads.
struct Table<'a> {
    /// People per capture pattern (index = pattern over the kept lists; index 0 unused).
    counts: Vec<f64>,
    /// Number of lists kept.
    t: usize,
    /// `all` or `field=value`.
    label: &'a str,
    /// People seen by at least one list (including lists left out).
    observed: u64,
    /// Names of the lists kept.
    lists: Vec<String>,
    /// Warnings that apply to every estimate of the stratum.
    warnings: Vec<Said>,
}

impl Table<'_> {
    /// An estimate of `method` with no number yet, carrying the stratum's warnings.
    fn blank(&self, method: &str) -> Estimate {
        Estimate {
            method: method.into(),
            model: String::new(),
            stratum: self.label.into(),
            observed: self.observed,
            estimate: None,
            lower: None,
            upper: None,
            interval: String::new(),
            lists: self.lists.clone(),
            aic: None,
            bic: None,
            deviance: None,
            stderr: None,
            fit_p_value: None,
            cells: Vec::new(),
            mcmc: None,
            models: Vec::new(),
            warnings: self.warnings.iter().map(|w| w.en.clone()).collect(),
            warnings_es: self.warnings.iter().map(|w| w.es.clone()).collect(),
            draws: Vec::new(),
        }
    }

    /// No number: `why`, in plain words.
    fn refused(&self, why: Said) -> Estimate {
        let mut e = self.blank("loglinear-averaged");
        e.warn(why);
        e
    }
}

/// Estimates the total for every stratum and, when there are strata, for all together.
/// The model-averaged log-linear estimate comes first in each stratum: it is the headline, since
/// intervals from one selected model are too narrow (they ignore model choice).
pub fn estimate(histories: &CaptureHistories, options: &Options) -> Vec<Estimate> {
    let mut out = estimate_stratum(histories, None, "all", options);
    if !histories.strata.is_empty() {
        for values in histories.stratum_values() {
            let label: Vec<String> = histories
                .strata
                .iter()
                .zip(&values)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            out.extend(estimate_stratum(
                histories,
                Some(&values),
                &label.join(","),
                options,
            ));
        }
        out.extend(sum_of_headlines(&out, histories.stratum_values().len()));
        // Bayesian totals across strata: sum the strata's posterior draws.
        if options.dga.is_some() {
            out.extend(sum_of_strata(&out, "dga", histories.stratum_values().len()));
        }
        if options.lcmcr.is_some() {
            out.extend(sum_of_strata(
                &out,
                "lcmcr",
                histories.stratum_values().len(),
            ));
        }
    }
    out
}

/// The headline total across strata: the sum of each stratum's headline estimate (the
/// model-averaged log-linear estimate, or Chapman's where a stratum has two lists), with the
/// strata's variances added (they are estimated independently) and Chao's log-normal interval
/// on the sum of the unseen. Estimating each stratum apart and summing is what stratification
/// is for: it absorbs visibility that differs between strata, which the pooled table (`all`)
/// does not.
fn sum_of_headlines(estimates: &[Estimate], strata: usize) -> Option<Estimate> {
    // Each stratum's first estimate is its headline.
    let mut parts: Vec<&Estimate> = Vec::new();
    for e in estimates.iter().filter(|e| e.stratum != "all") {
        if parts.last().is_none_or(|p| p.stratum != e.stratum) {
            parts.push(e);
        }
    }
    let first = parts.first()?;
    let mut e = (*first).clone();
    e.stratum = "all (sum of strata)".into();
    e.observed = parts.iter().map(|p| p.observed).sum();
    e.cells = Vec::new();
    e.models = Vec::new();
    e.aic = None;
    e.bic = None;
    e.deviance = None;
    e.fit_p_value = None;
    let usable = parts
        .iter()
        .filter(|p| p.estimate.is_some() && p.stderr.is_some())
        .count();
    if parts.len() != strata || usable != strata {
        e.estimate = None;
        e.lower = None;
        e.upper = None;
        e.stderr = None;
        e.set_warnings([cannot_sum(
            estimates,
            |p| p.estimate.is_some() && p.stderr.is_some(),
            ("an estimate", "estimación"),
            strata,
        )]);
        return Some(e);
    }
    let total: f64 = parts.iter().filter_map(|p| p.estimate).sum();
    let variance: f64 = parts.iter().filter_map(|p| p.stderr).map(|s| s * s).sum();
    let (lower, upper) = log_normal_interval(e.observed as f64, total, variance);
    let methods: std::collections::BTreeSet<&str> =
        parts.iter().map(|p| p.method.as_str()).collect();
    e.method = "loglinear-averaged".into();
    e.model = format!(
        "sum of the {} strata's estimates ({})",
        parts.len(),
        methods.into_iter().collect::<Vec<_>>().join(", ")
    );
    e.estimate = Some(total);
    e.lower = Some(lower);
    e.upper = Some(upper);
    e.stderr = Some(variance.sqrt());
    e.interval = "log-normal on the sum of the strata's unseen, their variances added".into();
    e.set_warnings([said(
        "the strata are estimated apart and summed: this allows visibility to differ between strata, which the pooled table cannot; each stratum's own warnings are with its estimate",
        "los estratos se estiman por separado y se suman: así la visibilidad puede variar de un estrato a otro, cosa que la tabla conjunta no permite; las advertencias de cada estrato acompañan a su propia estimación",
    )]);
    Some(e)
}

/// Why a total over strata is not given: how many strata have what it sums (`what`, in English
/// and Spanish), which do not (the first ten), and what to do instead.
fn cannot_sum(
    estimates: &[Estimate],
    has: impl Fn(&Estimate) -> bool,
    what: (&str, &str),
    strata: usize,
) -> Said {
    // The strata themselves: not `all`, nor a total over strata already made.
    let mut names: Vec<&str> = Vec::new();
    for e in estimates
        .iter()
        .filter(|e| e.stratum != "all" && !e.stratum.starts_with("all ("))
    {
        if !names.contains(&e.stratum.as_str()) {
            names.push(&e.stratum);
        }
    }
    let without: Vec<&str> = names
        .iter()
        .copied()
        .filter(|s| !estimates.iter().any(|e| e.stratum == *s && has(e)))
        .collect();
    let listed = without
        .iter()
        .take(10)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let (more, more_es) = match without.len().saturating_sub(10) {
        0 => (String::new(), String::new()),
        n => (format!(" and {n} more"), format!(" y {n} más")),
    };
    let with = strata - without.len().min(strata);
    let (what, what_es) = what;
    said(
        format!(
            "the total cannot be summed over strata: {with} of {strata} strata have {what}; those without one ({listed}{more}) say why in their own warnings, usually too few people or overlaps. Merge small strata into larger ones, or give the pooled total ('all'), which assumes visibility does not differ between strata"
        ),
        format!(
            "no se puede sumar el total sobre los estratos: {with} de {strata} estratos tienen {what_es}; los que no la tienen ({listed}{more_es}) dicen por qué en sus propias advertencias, casi siempre por tener pocas personas o pocas coincidencias entre listas. Junte los estratos pequeños en otros mayores, o publique el total conjunto ('all'), que supone que la visibilidad no varía entre estratos"
        ),
    )
}

/// A Bayesian method's total as the sum of the strata's posteriors: draw `i` of the total is the
/// sum of draw `i` of every stratum. The strata are estimated independently, each with its own
/// random stream ([`stratum_seed`]), so this is a draw from the posterior of the sum. A stratum
/// whose sampler ran longer (to reach its effective draws) gives evenly spaced draws, as many as
/// the shortest stratum has.
fn sum_of_strata(estimates: &[Estimate], method: &str, strata: usize) -> Option<Estimate> {
    let parts: Vec<&Estimate> = estimates
        .iter()
        .filter(|e| e.method == method && e.stratum != "all")
        .collect();
    let first = parts.first()?;
    let n = parts.iter().map(|e| e.draws.len()).min().unwrap_or(0);
    if parts.len() != strata || n == 0 {
        let mut e = (*first).clone();
        e.stratum = "all (sum of strata)".into();
        e.estimate = None;
        e.lower = None;
        e.upper = None;
        e.mcmc = None;
        e.draws = Vec::new();
        e.set_warnings([cannot_sum(
            estimates,
            |p| p.method == method && !p.draws.is_empty(),
            (
                &format!("a {method} estimate"),
                &format!("estimación {method}"),
            ),
            strata,
        )]);
        return Some(e);
    }
    let mut total = vec![0.0; n];
    for e in &parts {
        let m = e.draws.len();
        for (i, t) in total.iter_mut().enumerate() {
            *t += e.draws[i * m / n];
        }
    }
    let mut sorted = total.clone();
    sorted.sort_by(f64::total_cmp);
    let observed = parts.iter().map(|e| e.observed).sum();
    let mut e = (*first).clone();
    e.stratum = "all (sum of strata)".into();
    e.observed = observed;
    e.estimate = Some(lcmcr::quantile(&sorted, 0.5));
    e.lower = Some(lcmcr::quantile(&sorted, 0.025));
    e.upper = Some(lcmcr::quantile(&sorted, 0.975));
    e.interval = "posterior 2.5% and 97.5% quantiles of the sum of the strata's draws".into();
    e.mcmc = None;
    e.models = Vec::new();
    // Each stratum's warnings once, saying which strata they are from unless all are.
    let mut from: Vec<(Said, Vec<&str>)> = Vec::new();
    for p in &parts {
        for w in p.said() {
            match from.iter_mut().find(|(x, _)| *x == w) {
                Some((_, strata)) => strata.push(&p.stratum),
                None => from.push((w, vec![&p.stratum])),
            }
        }
    }
    e.set_warnings(from.into_iter().map(|(w, strata)| {
        if strata.len() == parts.len() {
            w
        } else {
            let strata = strata.join(", ");
            said(
                format!("in {strata}: {}", w.en),
                format!("en {strata}: {}", w.es),
            )
        }
    }));
    e.draws = total;
    Some(e)
}

/// Leave-one-list-out sensitivity: every method again without each list in turn (people seen
/// only by that list become unseen). A total that moves a lot when one list is left out rests on
/// that list's overlaps; the report says so. Strata are labelled `all (without LIST)`.
pub fn leave_one_list_out(histories: &CaptureHistories, options: &Options) -> Vec<Estimate> {
    let t = histories.lists.len();
    let mut out = Vec::new();
    if t < 3 {
        return out;
    }
    for drop in 0..t {
        let keep: Vec<usize> = (0..t).filter(|&i| i != drop).collect();
        let mut rows: std::collections::BTreeMap<(Vec<String>, u16), u64> = Default::default();
        for (values, pattern, n) in &histories.rows {
            let mut p = 0u16;
            for (j, &i) in keep.iter().enumerate() {
                if pattern & (1 << i) != 0 {
                    p |= 1 << j;
                }
            }
            if p != 0 {
                *rows.entry((values.clone(), p)).or_default() += n;
            }
        }
        let reduced = CaptureHistories {
            lists: keep.iter().map(|&i| histories.lists[i].clone()).collect(),
            strata: Vec::new(),
            rows: rows
                .into_iter()
                .map(|((_, p), n)| (Vec::new(), p, n))
                .collect(),
        };
        for mut e in estimate(&reduced, options) {
            e.stratum = format!("all (without {})", histories.lists[drop]);
            out.push(e);
        }
    }
    out
}

/// Stratum label of [`prior_sensitivity`]'s estimate.
pub const PRIOR_SENSITIVITY_STRATUM: &str = "all (capture prior Beta(1/2, 1/2))";

/// A move of the latent-class interval's upper end, under [`prior_sensitivity`]'s prior, from
/// which the upper end is said to rest on the prior (a share of the model's upper end). In the
/// simulation study the mean move is under 0.3% with independent lists and referral and 6–7%
/// with two or three visibility classes (docs/benchmarks.md).
pub const PRIOR_MOVE: f64 = 0.02;

/// Prior sensitivity of the latent-class model: the model again, for all strata together, with
/// Jeffreys' Beta(½, ½) prior on every capture probability instead of LCMCR's uniform one. That
/// prior gives more room to classes that lists rarely see. When the upper end of the interval
/// moves by [`PRIOR_MOVE`] or more, it rests on the prior rather than on the lists (Link 2003;
/// docs/benchmarks.md), and the estimate's warnings say so with both numbers. `estimates` are
/// those [`estimate`] gave for the same histories and options: the model's own interval is their
/// `lcmcr` estimate of stratum `all` (the same pooled table and seed), not run again. Empty when
/// `options.lcmcr` is `None` or `estimates` hold no such estimate; labelled
/// [`PRIOR_SENSITIVITY_STRATUM`].
pub fn prior_sensitivity(
    histories: &CaptureHistories,
    options: &Options,
    estimates: &[Estimate],
) -> Vec<Estimate> {
    let Some(lcmcr) = &options.lcmcr else {
        return Vec::new();
    };
    let Some(uniform) = estimates
        .iter()
        .find(|e| e.method == "lcmcr" && e.stratum == "all")
    else {
        return Vec::new();
    };
    let mut rows: std::collections::BTreeMap<u16, u64> = Default::default();
    for (_, pattern, n) in &histories.rows {
        *rows.entry(*pattern).or_default() += n;
    }
    let pooled = CaptureHistories {
        lists: histories.lists.clone(),
        strata: Vec::new(),
        rows: rows.into_iter().map(|(p, n)| (Vec::new(), p, n)).collect(),
    };
    let options = Options {
        lcmcr: Some(lcmcr::LcmcrOptions {
            capture_prior: 0.5,
            ..lcmcr.clone()
        }),
        dga: None,
        model: None,
        ..options.clone()
    };
    let Some(mut e) = estimate(&pooled, &options)
        .into_iter()
        .find(|e| e.method == "lcmcr")
    else {
        return Vec::new();
    };
    e.stratum = PRIOR_SENSITIVITY_STRATUM.into();
    e.model = e.model.replace(
        "(Manrique-Vallier 2016)",
        "(Manrique-Vallier 2016), capture probabilities Beta(1/2, 1/2)",
    );
    if let (Some(before), Some(after)) = (uniform.upper, e.upper) {
        let moved = (after - before) / before;
        let (en, es) = if moved.abs() >= PRIOR_MOVE {
            (
                "the lists do not pin it down, and the latent-class model's upper end rests on its prior; many people may be rarely listed",
                "las listas no lo fijan, y el extremo superior del modelo de clases latentes depende de su distribución a priori; puede haber muchas personas que casi nunca aparecen en las listas",
            )
        } else {
            (
                "it does not rest on the choice of prior here",
                "aquí no depende de la distribución a priori elegida",
            )
        };
        e.warn(said(
            format!(
                "with this prior the upper end of the latent-class interval moves from {} to {} ({:+.1}%): {en}",
                people(before),
                people(after),
                100.0 * moved
            ),
            format!(
                "con esta distribución a priori el extremo superior del intervalo de clases latentes pasa de {} a {} ({}): {es}",
                people_es(before),
                people_es(after),
                percent_es(moved, 1, true)
            ),
        ));
    }
    vec![e]
}

fn estimate_stratum(
    histories: &CaptureHistories,
    stratum: Option<&[String]>,
    label: &str,
    options: &Options,
) -> Vec<Estimate> {
    let full = histories.pattern_counts(stratum);
    let observed: u64 = full.iter().skip(1).sum();
    // Leave out lists below the minimum count, collapsing the table over them.
    let mut warnings = Vec::new();
    let mut keep = Vec::new();
    for (i, name) in histories.lists.iter().enumerate() {
        let n: u64 = (0..full.len())
            .filter(|h| h & (1 << i) != 0)
            .map(|h| full[h])
            .sum();
        if n < options.min_list_count.max(1) {
            let min = options.min_list_count.max(1);
            warnings.push(said(
                format!(
                    "list '{name}' has {n} {} in this stratum (minimum {min}) and was left out",
                    if n == 1 { "person" } else { "people" }
                ),
                format!(
                    "la lista '{name}' tiene {} {} en este estrato (mínimo {}) y se dejó fuera",
                    people_es(n as f64),
                    if n == 1 { "persona" } else { "personas" },
                    people_es(min as f64)
                ),
            ));
        } else {
            keep.push(i);
        }
    }
    let lists: Vec<String> = keep.iter().map(|&i| histories.lists[i].clone()).collect();
    let t = keep.len();
    let mut counts = vec![0f64; 1 << t];
    for (h, &c) in full.iter().enumerate() {
        let mut g = 0usize;
        for (j, &i) in keep.iter().enumerate() {
            if h & (1 << i) != 0 {
                g |= 1 << j;
            }
        }
        counts[g] += c as f64;
    }
    // People seen only by left-out lists are still people seen.
    counts[0] = 0.0;
    warnings.extend(nested_lists(&counts, &lists));
    let table = Table {
        counts,
        t,
        label,
        observed,
        lists,
        warnings,
    };
    if t < 2 {
        return vec![table.refused(said(
            "fewer than two lists have people in this stratum: no estimate of the unseen is possible",
            "menos de dos listas tienen personas en este estrato: no se puede estimar cuántas personas no figuran en ninguna",
        ))];
    }
    // Lists that never overlap any other list give no information about the unseen.
    let overlaps: f64 = (1..table.counts.len())
        .filter(|h: &usize| h.count_ones() >= 2)
        .map(|h| table.counts[h])
        .sum();
    if overlaps == 0.0 {
        return vec![table.refused(said(
            "no person is on more than one list in this stratum: the lists do not overlap, so the number of people on no list cannot be estimated",
            "en este estrato ninguna persona figura en más de una lista: las listas no coinciden en nadie, así que no se puede estimar cuántas personas no figuran en ninguna",
        ))];
    }
    let mut out = if t == 2 {
        let mut e = chapman(&table);
        // Said, not silently skipped: the user may have asked for them.
        e.warn(said(
            "with two lists only Chapman's estimator applies: the log-linear models (and a model chosen with --model), the average over decomposable graphs and the latent-class model need three lists or more, and leaving one list out leaves nothing to estimate from",
            "con dos listas solo se aplica el estimador de Chapman: los modelos log-lineales (y un modelo elegido con --model), el promedio sobre grafos descomponibles y el modelo de clases latentes necesitan tres listas o más, y al dejar fuera una lista no queda con qué estimar",
        ));
        vec![e]
    } else {
        let mut out = loglinear_estimates(&table, options);
        if let Some(text) = &options.model {
            out.push(chosen_model(&table, text));
        }
        if let Some(o) = &options.dga {
            out.push(dga_estimate(&table, o));
        }
        if let Some(o) = &options.lcmcr {
            out.push(lcmcr_estimate(&table, o));
        }
        out
    };
    // People seen only on lists left out are outside the table, so a model of it can put the
    // total, or its lower end, below the people known to exist.
    let in_table = table.counts.iter().sum::<f64>() as u64;
    if in_table < observed {
        let seen = observed as f64;
        for e in &mut out {
            let raised = e.estimate.is_some_and(|x| x < seen) || e.lower.is_some_and(|x| x < seen);
            e.estimate = e.estimate.map(|x| x.max(seen));
            e.lower = e.lower.map(|x| x.max(seen));
            e.upper = e.upper.map(|x| x.max(seen));
            for d in &mut e.draws {
                *d = d.max(seen);
            }
            if raised {
                let only = (observed - in_table) as f64;
                e.warn(said(
                    format!(
                        "raised to the {} people seen: {} of them are only on the lists left out, which this model does not see",
                        people(seen),
                        people(only)
                    ),
                    format!(
                        "elevado a las {} personas registradas: {} de ellas solo figuran en las listas que se dejaron fuera, que este modelo no ve",
                        people_es(seen),
                        people_es(only)
                    ),
                ));
            }
        }
    }
    let rejected = log_linear_rejected(&out);
    // When the table rejects the log-linear models and the latent-class model reproduces it,
    // their disagreement is that rejection, said below: the range of the methods would take in
    // a total the data contradict. The other methods are still compared.
    let latent_preferred = rejected.as_ref().is_some_and(|r| r.1);
    let compared = out
        .iter()
        .filter(|e| !(latent_preferred && e.method == "loglinear-averaged"));
    if let Some(w) = methods_disagree(compared) {
        out[0].warn(w);
    }
    if let Some((w, _)) = rejected {
        out[0].warn(w);
    }
    out
}

/// How the headline's warning begins when two principal methods' intervals do not overlap
/// ([`read_before_publishing`]).
pub const METHODS_DISAGREE: &str = "the methods disagree";

/// How the headline's warning begins when even the best log-linear model does not fit
/// ([`read_before_publishing`]).
pub const LOG_LINEAR_REJECTED: &str = "the log-linear models' average is no total to publish";

/// Whether a headline's warning (in English) says which number to publish, or that no one
/// method's number will do: the methods disagree, or the log-linear models do not fit. The
/// report shows such warnings next to the total, not only with the other warnings.
pub fn read_before_publishing(warning: &str) -> bool {
    warning.starts_with(METHODS_DISAGREE) || warning.starts_with(LOG_LINEAR_REJECTED)
}

/// A warning for the headline when the data reject even the best log-linear model: the average
/// of models the table contradicts is then no total to publish. In the published simulations of
/// the latent-class model (Manrique-Vallier 2016 and HRDAG's four further scenarios, 250 tables;
/// docs/benchmarks.md) that happened in 192 tables, where the log-linear average missed the truth
/// in 124 and the latent-class model in 11; in the project's own five scenarios it never happened
/// (250 tables). So the warning points to the latent-class model: its total when it was run,
/// reproduces the table and converged (then `true`), or how to run it.
fn log_linear_rejected(estimates: &[Estimate]) -> Option<(Said, bool)> {
    let best = estimates.iter().find(|e| e.method == "loglinear-best")?;
    best.fit_p_value.filter(|&p| p < POOR_FIT)?;
    estimates[0].estimate?;
    let evidence = "in the published simulations of the latent-class model, the log-linear average missed the truth in 124 of the 192 tables where this happened, and the latent-class model in 11 (docs/benchmarks.md)";
    let evidence_es = "en las simulaciones publicadas del modelo de clases latentes, el promedio log-lineal no abarcó el valor real en 124 de las 192 tablas en que ocurrió esto, y el modelo de clases latentes en 11 (docs/benchmarks.md)";
    let Some(latent) = estimates.iter().find(|e| e.method == "lcmcr") else {
        return Some((
            said(
                format!(
                    "{LOG_LINEAR_REJECTED} when even the best of them does not fit: run the latent-class model (recuento estimate --lcmcr, or lcmcr = true in recuento.toml) and prefer its total if it reproduces the table; {evidence}"
                ),
                format!(
                    "el promedio de los modelos log-lineales no es un total para publicar cuando ni siquiera el mejor de ellos se ajusta: ejecute el modelo de clases latentes (recuento estimate --lcmcr, o lcmcr = true en recuento.toml) y prefiera su total si reproduce la tabla; {evidence_es}"
                ),
            ),
            false,
        ));
    };
    let mcmc = latent.mcmc.as_ref()?;
    let fits = mcmc.ppp.is_none_or(|q| q >= PREDICTIVE_MISFIT);
    let converged = mcmc.r_hat <= CONVERGED_R_HAT && mcmc.ess >= CONVERGED_ESS;
    let (Some(x), Some(lo), Some(hi)) = (latent.estimate, latent.lower, latent.upper) else {
        return None;
    };
    if !(fits && converged) {
        return None;
    }
    let ppp = mcmc.ppp.map_or(String::new(), |q| {
        format!(" (posterior predictive p = {q:.2})")
    });
    let ppp_es = mcmc.ppp.map_or(String::new(), |q| {
        format!(
            " (p predictivo a posteriori = {})",
            format!("{q:.2}").replace('.', ",")
        )
    });
    Some((
        said(
            format!(
                "{LOG_LINEAR_REJECTED} when even the best of them does not fit, while the latent-class model reproduces the table{ppp}: prefer its total, {} (95% interval {} – {}); {evidence}",
                people(x),
                people(lo),
                people(hi)
            ),
            format!(
                "el promedio de los modelos log-lineales no es un total para publicar cuando ni siquiera el mejor de ellos se ajusta, mientras que el modelo de clases latentes reproduce la tabla{ppp_es}: prefiera su total, {} (intervalo del 95\u{a0}%: {} – {}); {evidence_es}",
                people_es(x),
                people_es(lo),
                people_es(hi)
            ),
        ),
        true,
    ))
}

/// People on a list below which finding them all on another list says little.
const NESTED_MIN: f64 = 10.0;

/// Lists whose people are all on another list (of at least [`NESTED_MIN`] people): a sign that
/// one list took its people from the other (copied, referred, checked against it), which no
/// model of the overlaps can tell from the other list being nearly complete. When one list
/// holds everybody seen, the estimates all rest on the second reading, and the first would
/// leave the total unknown; both are said, for the stratum's every estimate.
fn nested_lists(counts: &[f64], lists: &[String]) -> Vec<Said> {
    let on = |j: usize| -> f64 {
        (1..counts.len())
            .filter(|h| h & (1 << j) != 0)
            .map(|h| counts[h])
            .sum()
    };
    let on_j_not_i = |j: usize, i: usize| -> f64 {
        (1..counts.len())
            .filter(|h| h & (1 << j) != 0 && h & (1 << i) == 0)
            .map(|h| counts[h])
            .sum()
    };
    let t = lists.len();
    let seen: f64 = counts.iter().skip(1).sum();
    if let Some(i) = (0..t).find(|&i| on(i) == seen)
        && (0..t).any(|j| j != i && on(j) >= NESTED_MIN)
    {
        let list = &lists[i];
        return vec![said(
            format!(
                "everyone seen in this stratum is on list '{list}': the other lists found nobody that '{list}' missed. Either '{list}' is nearly complete, or the other lists took their people from it (copied, referred or checked against it), and the data cannot tell which. Every estimate here assumes the first; if the other lists were drawn from '{list}', nobody knows how many people '{list}' missed, and the total could be much higher"
            ),
            format!(
                "todas las personas registradas en este estrato están en la lista '{list}': las demás listas no encontraron a nadie que '{list}' no tuviera. O bien '{list}' está casi completa, o las demás listas tomaron sus personas de ella (copiadas, remitidas o cotejadas con ella), y los datos no permiten saber cuál de las dos. Toda estimación aquí supone lo primero; si las demás listas salieron de '{list}', nadie sabe a cuántas personas no registró '{list}', y el total podría ser mucho mayor"
            ),
        )];
    }
    let mut out = Vec::new();
    for j in 0..t {
        let n = on(j);
        if n < NESTED_MIN {
            continue;
        }
        for i in (0..t).filter(|&i| i != j && on_j_not_i(j, i) == 0.0) {
            let (small, large) = (&lists[j], &lists[i]);
            if on_j_not_i(i, j) == 0.0 {
                // The same people on both: said once.
                if i > j {
                    out.push(said(
                        format!(
                            "lists '{small}' and '{large}' hold exactly the same {} people: they are likely one list, or one copied from the other; estimate with one of them",
                            people(n)
                        ),
                        format!(
                            "las listas '{small}' y '{large}' tienen exactamente las mismas {} personas: seguramente son una sola lista, o una copiada de la otra; estime con una de ellas",
                            people_es(n)
                        ),
                    ));
                }
                continue;
            }
            out.push(said(
                format!(
                    "all {} people on list '{small}' are also on list '{large}': '{small}' may take its people from '{large}' (copied, referred or checked against it), or '{large}' may be nearly complete. A list drawn from another says nothing about the people that one missed, and the models allow for it only through the interaction {large}:{small}; if '{small}' is drawn from '{large}' by design, estimate without it (--sensitivity shows the total without each list)",
                    people(n)
                ),
                format!(
                    "las {} personas de la lista '{small}' están también en la lista '{large}': puede que '{small}' tome sus personas de '{large}' (copiadas, remitidas o cotejadas con ella), o que '{large}' esté casi completa. Una lista que sale de otra no dice nada de las personas que esa otra no registró, y los modelos solo lo tienen en cuenta mediante la interacción {large}:{small}; si '{small}' sale de '{large}' por diseño, estime sin ella (--sensitivity muestra el total sin cada lista)",
                    people_es(n)
                ),
            ));
        }
    }
    out
}

/// The methods that rest on different assumptions, whose disagreement a reader must hear of:
/// the log-linear average (dependence between lists through interactions), the average over
/// decomposable graphs (the same, Bayesian) and the latent-class model (heterogeneity, lists
/// independent within a class).
const PRINCIPAL_METHODS: [&str; 3] = ["loglinear-averaged", "dga", "lcmcr"];

/// A warning for the headline when two principal methods' 95% intervals do not overlap: then the
/// lists do not settle the total, and the choice of method, not the data, decides the number.
fn methods_disagree<'a>(estimates: impl IntoIterator<Item = &'a Estimate>) -> Option<Said> {
    let intervals: Vec<(&str, f64, f64)> = estimates
        .into_iter()
        .filter(|e| PRINCIPAL_METHODS.contains(&e.method.as_str()))
        .filter_map(|e| {
            Some((
                e.method.as_str(),
                e.lower?,
                e.upper.unwrap_or(f64::INFINITY),
            ))
        })
        .collect();
    let apart = intervals.iter().enumerate().find_map(|(i, a)| {
        intervals[i + 1..]
            .iter()
            .find(|b| a.2 < b.1 || b.2 < a.1)
            .map(|b| (a, b))
    })?;
    let show = |(method, lo, hi): &(&str, f64, f64), spanish: bool| {
        let count = if spanish { people_es } else { people };
        let hi = match (hi.is_finite(), spanish) {
            (true, _) => count(*hi),
            (false, false) => "unbounded".into(),
            (false, true) => "sin límite".into(),
        };
        format!("{method} {} – {hi}", count(*lo))
    };
    let (why, why_es) = if apart.0.0 == "lcmcr" || apart.1.0 == "lcmcr" {
        (
            "They rest on different assumptions (the log-linear models and dga: lists depend on each other in ways their interactions describe; the latent-class model: some people are more visible to every list), and the lists alone cannot show which holds",
            "Parten de supuestos distintos (los modelos log-lineales y dga: las listas dependen unas de otras como lo describen sus interacciones; el modelo de clases latentes: algunas personas son más visibles para todas las listas), y las listas por sí solas no pueden mostrar cuál se cumple",
        )
    } else {
        (
            "Both model dependence between lists but weigh the possible dependences differently (the log-linear average: hierarchical models weighted by their AIC or BIC; dga: decomposable graphs weighted by their posterior probability under its prior), and the lists do not settle between them",
            "Ambos modelan la dependencia entre listas, pero ponderan de forma distinta las dependencias posibles (el promedio log-lineal: modelos jerárquicos ponderados por su AIC o BIC; dga: grafos descomponibles ponderados por su probabilidad a posteriori bajo su distribución a priori), y las listas no deciden entre ellos",
        )
    };
    Some(said(
        format!(
            "{METHODS_DISAGREE}: the 95% intervals of {} and {} do not overlap. {why}, so no one method's interval covers the uncertainty: publish the range of the methods, and see the sensitivity analysis",
            show(apart.0, false),
            show(apart.1, false)
        ),
        format!(
            "los métodos no concuerdan: los intervalos del 95\u{a0}% de {} y de {} no se solapan. {why_es}, así que el intervalo de ningún método abarca toda la incertidumbre: publique el rango de los métodos y consulte el análisis de sensibilidad",
            show(apart.0, true),
            show(apart.1, true)
        ),
    ))
}

/// The model the user chose, with its profile-likelihood interval, or the reason it cannot be.
fn chosen_model(table: &Table<'_>, text: &str) -> Estimate {
    let mut e = table.blank("loglinear-chosen");
    e.model = text.into();
    let terms = match loglinear::Terms::parse(text, &table.lists) {
        Ok(terms) => terms,
        Err(why) => {
            let es = format!("no se puede leer el modelo '{text}' (el motivo, en inglés: {why})");
            e.warn(said(why, es));
            return e;
        }
    };
    match fit_dropping_negative_knots(&table.counts, table.t, &terms) {
        Ok((f, dropped)) if estimable(&f, table.observed) => {
            let mut warnings = dropped;
            warnings.extend(heterogeneity_warning(&f, table.t));
            if !table.warnings.is_empty() {
                warnings.push(said(
                    "the lists of this stratum differ from the full table's; check that the model still means what was intended",
                    "las listas de este estrato no son las de la tabla completa; compruebe que el modelo sigue significando lo que se pretendía",
                ));
            }
            warnings.push(said(
                "one model chosen in advance: its interval does not include the uncertainty of the choice",
                "un solo modelo elegido de antemano: su intervalo no incluye la incertidumbre de esa elección",
            ));
            warnings.extend(poor_fit(
                &f,
                ("the chosen model", "el modelo elegido no se ajusta"),
            ));
            let mut chosen = model_estimate(table, "loglinear-chosen", &f, warnings);
            chosen.model = terms.describe(&table.lists);
            chosen
        }
        Ok(_) | Err(loglinear::FitProblem::NoConvergence) => {
            e.warn(said(
                format!(
                    "the model '{text}' cannot be fitted to this table: its estimate runs off to the boundary (too few people on some combination of lists)"
                ),
                format!(
                    "el modelo '{text}' no se puede ajustar a esta tabla: su estimación se va al límite (hay muy pocas personas en alguna combinación de listas)"
                ),
            ));
            e
        }
        Err(loglinear::FitProblem::EmptyMargin(_)) => {
            e.warn(said(
                format!(
                    "the model '{text}' has an interaction whose lists share nobody in this table: its estimate does not exist"
                ),
                format!(
                    "el modelo '{text}' tiene una interacción entre listas que no comparten a nadie en esta tabla: su estimación no existe"
                ),
            ));
            e
        }
    }
}

/// The seed of a stratum: the run's seed for `all`, otherwise mixed with the stratum's label
/// (FNV-1a), so that strata never share a random stream. Shared streams would make their
/// posterior draws move together, and the interval of their sum too wide.
fn stratum_seed(seed: u64, label: &str) -> u64 {
    if label == "all" {
        return seed;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    seed ^ h
}

/// A number of people as documentation teams read it: rounded to a whole person, thousands
/// separated by commas (`12,710,000`). The terminal, the report and the warnings all use it.
pub fn people(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A p-value as a reader takes it in: `p < 0.001`, or `p = 0.042`. The terminal and the
/// warnings use it.
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}

/// [`p_value`] as Spanish writes it, with a decimal comma: `p < 0,001`, `p = 0,023`.
fn p_value_es(p: f64) -> String {
    p_value(p).replace('.', ",")
}

/// A count of people as Spanish writes it (RAE, *Ortografía* 2010): no separator in four
/// digits, a no-break space between groups of three from five digits on (`2000`, `12 500`
/// with a no-break space); a comma or a point would be read as a decimal sign by one reader or
/// another.
pub fn people_es(x: f64) -> String {
    let s = people(x);
    if s.trim_start_matches('-').len() <= 5 {
        s.replace(',', "")
    } else {
        s.replace(',', "\u{a0}")
    }
}

/// A share as a Spanish percentage (`0.125` → `12,5 %`, with a no-break space), with `digits`
/// decimals and, if `signed`, its sign.
fn percent_es(share: f64, digits: usize, signed: bool) -> String {
    let x = 100.0 * share;
    let n = if signed {
        format!("{x:+.digits$}")
    } else {
        format!("{x:.digits$}")
    };
    format!("{}\u{a0}%", n.replace('.', ","))
}

/// Posterior weight on the graph joining every list above which the `dga` estimate warns that
/// it rests on the prior.
const SATURATED_WARNING: f64 = 0.05;

fn dga_estimate(table: &Table<'_>, options: &dga::DgaOptions) -> Estimate {
    let counts: Vec<u64> = table.counts.iter().map(|c| *c as u64).collect();
    let options = dga::DgaOptions {
        seed: stratum_seed(options.seed, table.label),
        ..options.clone()
    };
    let mut e = table.blank("dga");
    e.model = "average over decomposable graphical models (Madigan & York 1997)".into();
    let Some(r) = dga::posterior(&counts, &table.lists, &options) else {
        e.warn(said(
            format!(
                "the average over decomposable graphs needs 3 to 6 lists; this stratum has {}",
                table.t
            ),
            format!(
                "el promedio sobre grafos descomponibles necesita de 3 a 6 listas; este estrato tiene {}",
                table.t
            ),
        ));
        return e;
    };
    if r.tail_mass > 0.005 {
        let top = (table.observed + r.cap) as f64;
        e.warn(said(
            format!(
                "{:.1}% of the posterior lies near the top of the range searched ({} people): the data barely bound the total from above, so the upper end of the interval is too low",
                100.0 * r.tail_mass,
                people(top)
            ),
            format!(
                "el {} de la distribución a posteriori está cerca del extremo superior del rango explorado ({} personas): los datos apenas acotan el total por arriba, así que el extremo superior del intervalo es demasiado bajo",
                percent_es(r.tail_mass, 1, false),
                people_es(top)
            ),
        ));
    }
    if r.saturated_weight >= SATURATED_WARNING {
        e.warn(said(
            format!(
                "{:.0}% of the posterior weight is on the graph that joins every list ({}): under it the lists say nothing about the people on no list, so that part of the estimate comes from the prior (δ = {}), not from the data; the overlaps fit no simpler dependence, so do not publish this estimate without the log-linear and latent-class ones",
                100.0 * r.saturated_weight,
                table.lists.join(":"),
                r.delta
            ),
            format!(
                "el {} del peso a posteriori está en el grafo que une todas las listas ({}): con él las listas no dicen nada de las personas que no figuran en ninguna, así que esa parte de la estimación viene de la distribución a priori (δ = {}), no de los datos; las coincidencias entre listas no se ajustan a ninguna dependencia más simple, así que no publique esta estimación sin las log-lineales y la de clases latentes",
                percent_es(r.saturated_weight, 0, false),
                table.lists.join(":"),
                r.delta.to_string().replace('.', ",")
            ),
        ));
    }
    e.warn(said(
        "the average over decomposable graphs models dependence between lists (one list referring people to another) but not heterogeneity that all lists share; that biases the total downwards",
        "el promedio sobre grafos descomponibles modela la dependencia entre listas (una lista que remite personas a otra), pero no la heterogeneidad que comparten todas las listas, que sesga el total hacia abajo",
    ));
    Estimate {
        model: format!(
            "average over {} decomposable graphs (Madigan & York 1997), prior δ = {}",
            r.graph_count, r.delta
        ),
        estimate: Some(r.median),
        lower: Some(r.lower),
        upper: Some(r.upper),
        interval: "posterior 2.5% and 97.5% quantiles, averaged over graphs; estimate is the posterior median".into(),
        models: r
            .graphs
            .iter()
            .filter(|g| g.weight >= 0.001)
            .take(20)
            .map(|g| (g.graph.clone(), g.weight, g.median))
            .collect(),
        draws: r.draws,
        ..e
    }
}

/// Pools the headline estimates made on several linkages drawn at random ([`pooled::pool`],
/// Rubin's rules): `None` with fewer than two, or one without a total or standard error.
pub fn pool_linkages<'a>(
    estimates: impl IntoIterator<Item = &'a Estimate>,
) -> Option<pooled::Pooled> {
    let draws: Option<Vec<pooled::Draw>> = estimates
        .into_iter()
        .map(|e| {
            Some(pooled::Draw {
                estimate: e.estimate?,
                stderr: e.stderr?,
                seen: e.observed as f64,
            })
        })
        .collect();
    pooled::pool(&draws?)
}

/// Posterior predictive p-value below which the latent-class estimate warns that the model does
/// not reproduce the table. In the simulation study (250 tables drawn from models it can fit)
/// it never fell below 0.01, and fell below 0.05 in 2 (docs/benchmarks.md).
const PREDICTIVE_MISFIT: f64 = 0.01;

/// Largest split R-hat of N with which the latent-class sampler is taken to have converged;
/// above it the estimate warns.
const CONVERGED_R_HAT: f64 = 1.05;

/// Fewest effective draws of N with which the latent-class sampler is taken to have converged.
const CONVERGED_ESS: f64 = 200.0;

fn lcmcr_estimate(table: &Table<'_>, options: &lcmcr::LcmcrOptions) -> Estimate {
    let counts: Vec<u64> = table.counts.iter().map(|c| *c as u64).collect();
    let options = &lcmcr::LcmcrOptions {
        seed: stratum_seed(options.seed, table.label),
        ..options.clone()
    };
    let r = lcmcr::sample(&counts, table.t, options);
    let mut e = table.blank("lcmcr");
    if let Some(p) = r.ppp.filter(|&p| p < PREDICTIVE_MISFIT) {
        e.warn(said(
            format!(
                "the latent-class model does not reproduce the overlaps between lists: tables drawn from its posterior lie closer to their expected counts than the observed one in all but {} of the draws (posterior predictive p = {p:.3}); its total rests on a model the data contradict",
                people(p * r.draws as f64)
            ),
            format!(
                "el modelo de clases latentes no reproduce las coincidencias entre listas: las tablas generadas desde su distribución a posteriori quedan más cerca de sus conteos esperados que la observada en todas las extracciones menos {} (p predictivo a posteriori = {}); su total se apoya en un modelo que los datos contradicen",
                people_es(p * r.draws as f64),
                format!("{p:.3}").replace('.', ",")
            ),
        ));
    }
    if r.r_hat > CONVERGED_R_HAT || r.ess < CONVERGED_ESS {
        e.warn(said(
            format!(
                "the sampler may not have converged (R-hat {:.3}, effective sample size {:.0} after {} kept sweeps per chain); run more sweeps (`--sweeps` with `--histories`, `lcmcr_sweeps` in recuento.toml) before relying on this interval",
                r.r_hat,
                r.ess,
                people(r.kept_sweeps as f64)
            ),
            format!(
                "puede que el muestreador no haya convergido (R-hat {}, tamaño muestral efectivo {:.0} tras {} iteraciones conservadas por cadena); haga más iteraciones (`--sweeps` con `--histories`, `lcmcr_sweeps` en recuento.toml) antes de fiarse de este intervalo",
                format!("{:.3}", r.r_hat).replace('.', ","),
                r.ess,
                people_es(r.kept_sweeps as f64)
            ),
        ));
    }
    e.warn(said(
        "the latent-class model absorbs heterogeneity (people more visible to every list) but assumes lists are independent within each class. When many people are rarely listed, the lists fit much larger totals almost as well, and the model's priors favour the smaller ones: in recuento's simulations with a large, rarely listed group its interval fell wholly below the truth in 16% to 40% of cases, in the model's published ones in 0% to 14% (docs/benchmarks.md). Do not read its upper end as a ceiling: compare it with the log-linear and Mth estimates, and see how far it moves under another prior (recuento estimate --sensitivity)",
        "el modelo de clases latentes absorbe la heterogeneidad (personas más visibles para todas las listas), pero supone que dentro de cada clase las listas son independientes. Cuando muchas personas casi nunca aparecen en las listas, estas se ajustan casi igual de bien a totales mucho mayores, y las distribuciones a priori del modelo favorecen los menores: en las simulaciones de recuento con un grupo grande que casi nunca aparece, su intervalo quedó por completo por debajo de la verdad en el 16\u{a0}% al 40\u{a0}% de los casos, y en las simulaciones publicadas del modelo en el 0\u{a0}% al 14\u{a0}% (docs/benchmarks.md). No lea su extremo superior como un techo: compárelo con las estimaciones log-lineales y Mth, y vea cuánto se mueve con otra distribución a priori (recuento estimate --sensitivity)",
    ));
    Estimate {
        model: format!(
            "latent classes, stick-breaking prior truncated at K = {} (Manrique-Vallier 2016)",
            options.classes
        ),
        estimate: Some(r.median),
        lower: Some(r.lower),
        upper: Some(r.upper),
        interval: "posterior 2.5% and 97.5% quantiles; estimate is the posterior median".into(),
        mcmc: Some(Mcmc {
            r_hat: r.r_hat,
            ess: r.ess,
            chains: options.chains,
            draws: r.draws,
            sweeps: options.burn_in + r.kept_sweeps,
            burn_in: options.burn_in,
            classes: options.classes,
            seed: options.seed,
            mean: r.mean,
            ppp: r.ppp,
        }),
        draws: r.samples.concat(),
        ..e
    }
}

/// Chapman's bias-corrected Lincoln–Petersen estimator with Chao's log-normal interval.
fn chapman(table: &Table<'_>) -> Estimate {
    let counts = &table.counts;
    let n1 = counts[1] + counts[3];
    let n2 = counts[2] + counts[3];
    let m = counts[3];
    let n_hat = (n1 + 1.0) * (n2 + 1.0) / (m + 1.0) - 1.0;
    let var = (n1 + 1.0) * (n2 + 1.0) * (n1 - m) * (n2 - m) / ((m + 1.0).powi(2) * (m + 2.0));
    // The people in the two lists' table: those seen only on lists left out of the stratum
    // are outside it, and the estimate is raised to them afterwards as every method's is.
    let (lower, upper) = log_normal_interval(n1 + n2 - m, n_hat, var);
    let mut e = table.blank("chapman");
    e.warn(said(
        "only two lists: the estimate assumes the lists are independent and every person equally likely to be listed; if one list copies the other, or some people are more visible to both, the true total is higher than this",
        "solo dos listas: la estimación supone que las listas son independientes y que todas las personas tienen la misma probabilidad de aparecer; si una lista copia a la otra, o algunas personas son más visibles para ambas, el total real es mayor que este",
    ));
    if m < 7.0 {
        e.warn(said(
            format!("only {m} people are on both lists: the estimate is very unstable"),
            format!("solo {m} personas figuran en ambas listas: la estimación es muy inestable"),
        ));
    }
    // One list inside the other: Chapman's variance is zero, and so is the interval's width.
    for (inner, n, outer) in [(0, n1, 1), (1, n2, 0)] {
        if n == m && m > 0.0 {
            let (inner, outer) = (&table.lists[inner], &table.lists[outer]);
            e.warn(said(
                format!(
                    "every person on '{inner}' is also on '{outer}': Chapman's variance is then zero, so the interval shows no uncertainty at all; the real uncertainty is larger, and a list built from the other gives no information about the people on neither"
                ),
                format!(
                    "todas las personas de '{inner}' figuran también en '{outer}': la varianza de Chapman es entonces cero, así que el intervalo no muestra ninguna incertidumbre; la incertidumbre real es mayor, y una lista hecha a partir de la otra no informa de las personas que no están en ninguna"
                ),
            ));
        }
    }
    Estimate {
        model: "independence (two lists)".into(),
        estimate: Some(n_hat),
        lower: Some(lower),
        upper: Some(upper),
        interval: "log-normal (Chao 1987)".into(),
        stderr: Some(var.sqrt()),
        ..e
    }
}

/// A log-linear model's fit, or why it has none.
type Fitted = Result<ModelFit, loglinear::FitProblem>;

/// The models forward selection visits when there are too many to fit every one, with their
/// fits. Each is fitted once, from the fit of the model it adds a term to, and kept for the
/// average (with many lists, fitting is nearly all of the time).
fn selected_models(
    counts: &[f64],
    t: usize,
    candidates: &[u16],
    crit: &dyn Fn(&ModelFit) -> f64,
) -> (Vec<loglinear::Terms>, Vec<Fitted>) {
    let selected = std::cell::RefCell::new(std::collections::HashMap::<Vec<u16>, Fitted>::new());
    let score = |terms: &loglinear::Terms| {
        let fit = {
            let fits = selected.borrow();
            let parent = terms.0.iter().find_map(|term| {
                let mut smaller = terms.0.clone();
                smaller.retain(|x| x != term);
                fits.get(&smaller).and_then(|f| f.as_ref().ok())
            });
            loglinear::fit_model_from(counts, t, terms, parent)
        };
        let score = fit.as_ref().ok().map(crit);
        selected.borrow_mut().insert(terms.0.clone(), fit);
        score
    };
    let models = if (1usize << t).saturating_mul(candidates.len()) > loglinear::SCREEN_ABOVE {
        loglinear::screened_forward_selection(
            counts,
            t,
            candidates,
            loglinear::SCREENED,
            &score,
            &|terms| {
                selected
                    .borrow()
                    .get(&terms.0)
                    .and_then(|fit| fit.as_ref().ok().cloned())
            },
        )
    } else {
        loglinear::forward_selection(candidates, &score)
    };
    let mut selected = selected.into_inner();
    let results = models
        .iter()
        .map(|m| {
            selected
                .remove(&m.0)
                .unwrap_or_else(|| loglinear::fit_model(counts, t, m))
        })
        .collect();
    (models, results)
}

/// Chao's (1987) log-normal interval for N: the unseen count f0 = N − n is log-normal, so the
/// interval is asymmetric and never below n.
pub(crate) fn log_normal_interval(observed: f64, n_hat: f64, var: f64) -> (f64, f64) {
    let f0 = (n_hat - observed).max(1e-9);
    let c = (1.96 * (1.0 + var / (f0 * f0)).ln().sqrt()).exp();
    (observed + f0 / c, observed + f0 * c)
}

fn loglinear_estimates(table: &Table<'_>, options: &Options) -> Vec<Estimate> {
    let (counts, t, observed) = (&table.counts[..], table.t, table.observed);
    let use_bic = options.criterion == "bic";
    let crit = |f: &ModelFit| if use_bic { f.bic } else { f.aic };
    let candidates = loglinear::candidate_terms(t, options.max_order);
    let (models, results): (Vec<loglinear::Terms>, Vec<Fitted>) =
        match loglinear::all_hierarchical(&candidates, loglinear::MAX_MODELS) {
            Some(models) => {
                let results = loglinear::fit_all(counts, t, &models);
                (models, results)
            }
            None => {
                let (mut models, mut results) = selected_models(counts, t, &candidates, &crit);
                // Too many to fit every one (six lists with three-list terms): every model of a
                // lower order is averaged too when there are few enough, so that allowing
                // larger terms never averages over fewer models than not allowing them.
                let lower = (2..options.max_order).rev().find_map(|order| {
                    let lower = loglinear::candidate_terms(t, order);
                    loglinear::all_hierarchical(&lower, loglinear::MAX_MODELS)
                });
                if let Some(lower) = lower {
                    let visited: std::collections::HashSet<&[u16]> =
                        models.iter().map(|m| &m.0[..]).collect();
                    let others: Vec<loglinear::Terms> = lower
                        .into_iter()
                        .filter(|m| !visited.contains(&m.0[..]))
                        .collect();
                    results.extend(loglinear::fit_all(counts, t, &others));
                    models.extend(others);
                }
                (models, results)
            }
        };
    let mut fits = Vec::new();
    let mut not_estimable = 0usize;
    for fit in results {
        match fit {
            Ok(f) if estimable(&f, observed) => fits.push(f),
            _ => not_estimable += 1,
        }
    }
    let mut shared = Vec::new();
    if not_estimable > 0 {
        shared.push(said(
            format!(
                "{not_estimable} of {} models could not be fitted (empty or near-empty combinations of lists) and were left out",
                models.len()
            ),
            format!(
                "{not_estimable} de {} modelos no se pudieron ajustar (combinaciones de listas vacías o casi vacías) y se dejaron fuera",
                models.len()
            ),
        ));
    }
    if fits.is_empty() {
        return vec![table.refused(said(
            "no log-linear model could be fitted: the overlaps between lists are too sparse in this stratum",
            "no se pudo ajustar ningún modelo log-lineal: en este estrato las coincidencias entre listas son demasiado escasas",
        ))];
    }
    fits.sort_by(|a, b| crit(a).total_cmp(&crit(b)));
    let best = &fits[0];
    let loglinear::Average {
        estimate: avg,
        stderr: se,
        lower: avg_lo,
        upper: avg_hi,
        weights,
    } = loglinear::average(&fits, observed as f64, use_bic);
    let spread_lo = fits
        .iter()
        .take(10)
        .map(|f| f.estimate)
        .fold(f64::INFINITY, f64::min);
    let spread_hi = fits.iter().take(10).map(|f| f.estimate).fold(0.0, f64::max);
    let mut averaged = table.blank("loglinear-averaged");
    averaged.warn_all(shared.iter().cloned());
    averaged.warn(said(
        format!(
            "the ten best-fitting models give totals from {} to {}; the interval includes this model uncertainty",
            people(spread_lo),
            people(spread_hi)
        ),
        format!(
            "los diez modelos que mejor se ajustan dan totales de {} a {}; el intervalo incluye esta incertidumbre sobre el modelo",
            people_es(spread_lo),
            people_es(spread_hi)
        ),
    ));
    averaged.warn(said(
        "log-linear models assume a closed population and model dependence between lists only through the interactions included. Heterogeneity that all lists share (some victims more visible to every list) biases the total: downwards when the lists look independent, and far upwards when a few very visible people are on most lists while most people are rarely listed, as the pairwise interactions then extrapolate to many unseen (nearly three times the truth, on average, in the simulation of Manrique-Vallier 2016, the paper of the latent-class model; docs/benchmarks.md); compare with the latent-class model",
        "los modelos log-lineales suponen una población cerrada y modelan la dependencia entre listas solo mediante las interacciones incluidas. La heterogeneidad que comparten todas las listas (víctimas más visibles para todas ellas) sesga el total: hacia abajo cuando las listas parecen independientes, y muy hacia arriba cuando unas pocas personas muy visibles están en casi todas las listas y la mayoría casi nunca aparece, porque entonces las interacciones entre pares extrapolan a muchas personas sin registrar (casi tres veces el valor real, en promedio, en la simulación de Manrique-Vallier 2016, el artículo del modelo de clases latentes; docs/benchmarks.md); compárelo con el modelo de clases latentes",
    ));
    let mut best_warnings = shared.clone();
    best_warnings.push(said(
        "the interval of one selected model ignores the uncertainty of choosing it; prefer the averaged estimate",
        "el intervalo de un solo modelo seleccionado ignora la incertidumbre de haberlo elegido; es preferible la estimación promediada",
    ));
    // The average leans on the best model: when that does not fit, the headline says so too.
    let best_misfit = poor_fit(
        best,
        (
            "even the best log-linear model",
            "ni siquiera el mejor modelo log-lineal se ajusta",
        ),
    );
    best_warnings.extend(best_misfit.clone());
    averaged.warn_all(best_misfit);
    if avg_hi - avg_lo < 1.0 {
        averaged.warn(said(
            "this interval has no width: the models that carry the average put (almost) nobody on no list, with no uncertainty. That happens when they fit empty combinations of lists as zero (the edge of what the models allow) or when nearly everyone is on several lists; it is not evidence that every person was listed, so read the other methods and the upper end of loglinear-best before publishing it",
            "este intervalo no tiene anchura: los modelos que pesan en el promedio no ponen a (casi) nadie fuera de todas las listas, y sin incertidumbre. Ocurre cuando ajustan como cero combinaciones de listas vacías (el límite de lo que los modelos admiten) o cuando casi todas las personas figuran en varias listas; no prueba que todas las personas estén registradas, así que lea los demás métodos y el extremo superior de loglinear-best antes de publicarlo",
        ));
    }
    let mut out = vec![
        Estimate {
            model: format!(
                "average of {} models weighted by {}",
                fits.len(),
                options.criterion.to_uppercase()
            ),
            estimate: Some(avg),
            lower: Some(avg_lo),
            upper: Some(avg_hi),
            interval: "log-normal with unconditional variance (Buckland et al. 1997)".into(),
            stderr: Some(se),
            models: fits
                .iter()
                .zip(&weights)
                .filter(|(_, w)| **w >= 0.001)
                .map(|(f, w)| (f.terms.describe(&table.lists), *w, f.estimate))
                .collect(),
            ..averaged
        },
        model_estimate(table, "loglinear-best", best, best_warnings),
    ];
    // The classic models of Rcapture's closedp.t: Mth (list effects plus one heterogeneity
    // column), then M0 and Mh, whose lists share one effect.
    let forms = loglinear::Heterogeneity::ALL
        .map(|h| (Some(h), ListEffects::PerList))
        .into_iter()
        .chain(
            std::iter::once(None)
                .chain(loglinear::Heterogeneity::ALL.map(Some))
                .map(|h| (h, ListEffects::Shared)),
        );
    for (h, effects) in forms {
        match heterogeneity_fit(counts, t, observed, h, effects) {
            Some((f, mut w)) => {
                if effects == ListEffects::Shared {
                    w.push(equal_lists_test(table, &f));
                }
                out.push(model_estimate(table, "loglinear-heterogeneity", &f, w));
            }
            // Said, not left out: a statistician comparing with Rcapture looks for every row.
            None => {
                let mut e = table.blank("loglinear-heterogeneity");
                e.model = loglinear::Terms(Vec::new(), h, effects).describe(&table.lists);
                e.warn(said(
                    "this model cannot be fitted to this table: its estimate runs off (to infinity, past a thousand times the people seen, or down to nobody unseen at all), which happens when too few people are on several lists at once",
                    "este modelo no se puede ajustar a esta tabla: su estimación se dispara (al infinito, a más de mil veces las personas registradas, o a nadie sin registrar), lo que ocurre cuando hay muy pocas personas en varias listas a la vez",
                ));
                out.push(e);
            }
        }
    }
    out
}

/// What the data say of a model whose lists share one effect (M0, Mh): the likelihood-ratio
/// test against the same model with each list's own effect (Mt, Mth), which nests it.
fn equal_lists_test(table: &Table<'_>, shared: &ModelFit) -> Said {
    let t = table.t;
    let per_list = loglinear::Terms(shared.terms.0.clone(), shared.terms.1, ListEffects::PerList);
    let name = match per_list.1 {
        Some(_) => per_list.describe(&table.lists),
        None => "independence (Mt)".to_string(),
    };
    // The lists' t effects against one shared effect: t − 1 degrees of freedom.
    let df = t.saturating_sub(1);
    let Ok(wider) = loglinear::fit_model(&table.counts, t, &per_list) else {
        return said(
            format!(
                "this model gives every list the same chance of listing a person; that could not be tested here ({name} could not be fitted)"
            ),
            format!(
                "este modelo da a todas las listas la misma probabilidad de registrar a una persona; aquí no se pudo comprobar ({name} no se pudo ajustar)"
            ),
        );
    };
    let statistic = (shared.fit.deviance - wider.fit.deviance).max(0.0);
    let p = linalg::chi2_sf(statistic, df as f64);
    let test = format!(
        "likelihood-ratio test against {name}: {statistic:.1} on {df} degrees of freedom, {}",
        p_value(p)
    );
    let test_es = format!(
        "prueba de razón de verosimilitudes frente a {name}: {} con {df} grados de libertad, {}",
        format!("{statistic:.1}").replace('.', ","),
        p_value_es(p)
    );
    if p < 0.05 {
        said(
            format!(
                "this model gives every list the same chance of listing a person, and the data contradict it: the lists differ ({test}); prefer {name}"
            ),
            format!(
                "este modelo da a todas las listas la misma probabilidad de registrar a una persona, y los datos lo contradicen: las listas difieren ({test_es}); es preferible {name}"
            ),
        )
    } else {
        said(
            format!(
                "this model gives every list the same chance of listing a person; the data do not contradict it here ({test})"
            ),
            format!(
                "este modelo da a todas las listas la misma probabilidad de registrar a una persona; aquí los datos no lo contradicen ({test_es})"
            ),
        )
    }
}

/// P-value of the deviance below which a model is said not to fit the table.
pub const POOR_FIT: f64 = 0.001;

/// A warning when the table contradicts the model (deviance p-value below [`POOR_FIT`]);
/// `which` names the model in English, and in Spanish says it does not fit (`el modelo elegido no
/// se ajusta`: Spanish negates the verb unless the subject already does, as `ni siquiera`).
fn poor_fit(f: &ModelFit, which: (&str, &str)) -> Option<Said> {
    if f.df == 0 {
        return None;
    }
    let p = linalg::chi2_sf(f.fit.deviance, f.df as f64);
    (p < POOR_FIT).then(|| {
        said(
            format!(
                "{} does not fit the table (deviance {:.1} on {} degrees of freedom, {}): the lists' overlaps contradict it, so its total rests on assumptions the data reject; compare with the heterogeneity models (Mth) and the latent-class model, or stratify",
                which.0,
                f.fit.deviance,
                f.df,
                p_value(p)
            ),
            format!(
                "{} a la tabla (devianza {} con {} grados de libertad, {}): las coincidencias entre listas lo contradicen, así que su total se apoya en supuestos que los datos rechazan; compárelo con los modelos de heterogeneidad (Mth) y el de clases latentes, o estratifique",
                which.1,
                format!("{:.1}", f.fit.deviance).replace('.', ","),
                f.df,
                p_value_es(p)
            ),
        )
    })
}

/// Whether a fit gives an estimate: a missing cell a thousand times the observed count is not
/// one, the model is on the edge of non-existence (near-empty margins).
fn estimable(f: &ModelFit, observed: u64) -> bool {
    f.missing.is_finite() && f.missing < 1_000.0 * observed as f64
}

/// Fits a model; for Chao's lower bound, drops the knots whose coefficient comes out negative
/// (a negative one would make the bound a guess) and refits, the lowest such knot first, one at
/// a time, as Rcapture's `Chao.neg` does. The knots dropped are said in one warning, in the
/// order they were dropped.
fn fit_dropping_negative_knots(
    counts: &[f64],
    t: usize,
    terms: &loglinear::Terms,
) -> Result<(ModelFit, Vec<Said>), loglinear::FitProblem> {
    let mut terms = terms.clone();
    let mut dropped = Vec::new();
    loop {
        let f = loglinear::fit_model(counts, t, &terms)?;
        let done = |f| Ok((f, knots_dropped_warning(&dropped).into_iter().collect()));
        let Some(form @ loglinear::Heterogeneity::ChaoLb(mask)) = terms.1 else {
            return done(f);
        };
        let gammas = &f.fit.beta[f.fit.beta.len() - form.columns(t)..];
        let Some((_, knot)) = gammas.iter().zip(form.knots(t)).find(|(g, _)| **g < 0.0) else {
            return done(f);
        };
        dropped.push(knot);
        terms.1 = Some(loglinear::Heterogeneity::ChaoLb(mask & !(1 << knot)));
    }
}

/// "the term for people on more than 2 lists" or "the terms for people on more than 4, 5 and 2
/// lists", in the order they were dropped.
fn knots_dropped_warning(knots: &[u32]) -> Option<Said> {
    let (last, rest) = knots.split_last()?;
    let (which, which_es) = if rest.is_empty() {
        (
            format!(
                "the term for people on more than {last} lists had a negative coefficient and was dropped"
            ),
            format!(
                "el término de las personas en más de {last} listas tenía un coeficiente negativo y se quitó"
            ),
        )
    } else {
        let rest: Vec<String> = rest.iter().map(u32::to_string).collect();
        let rest = rest.join(", ");
        (
            format!(
                "the terms for people on more than {rest} and {last} lists had negative coefficients and were dropped one at a time, in that order"
            ),
            format!(
                "los términos de las personas en más de {rest} y {last} listas tenían coeficientes negativos y se quitaron de uno en uno, en ese orden"
            ),
        )
    };
    Some(said(
        format!("Chao's model: {which}, as Rcapture does"),
        format!("modelo de Chao: {which_es}, como hace Rcapture"),
    ))
}

/// Fits model Mth (or, with shared list effects, Mh) with heterogeneity form `h`, or M0 when
/// `h` is `None`, with the warnings its coefficients call for.
fn heterogeneity_fit(
    counts: &[f64],
    t: usize,
    observed: u64,
    h: Option<loglinear::Heterogeneity>,
    effects: ListEffects,
) -> Option<(ModelFit, Vec<Said>)> {
    let terms = loglinear::Terms(Vec::new(), h, effects);
    let (f, mut warnings) = fit_dropping_negative_knots(counts, t, &terms).ok()?;
    if !estimable(&f, observed) {
        return None;
    }
    warnings.extend(heterogeneity_warning(&f, t));
    Some((f, warnings))
}

/// What a fitted heterogeneity column says: Chao's model is a lower bound; a negative
/// coefficient of the other forms means the data show no heterogeneity of that form.
fn heterogeneity_warning(f: &ModelFit, t: usize) -> Option<Said> {
    let form = f.terms.1?;
    if let loglinear::Heterogeneity::ChaoLb(_) = form {
        return Some(said(
            "Chao's model gives a lower bound: it extrapolates the unseen from people on one and two lists only, so under heterogeneity the true total is likely higher",
            "el modelo de Chao da una cota inferior: extrapola las personas no registradas solo a partir de las que están en una y en dos listas, así que con heterogeneidad el total real probablemente es mayor",
        ));
    }
    let gammas = &f.fit.beta[f.fit.beta.len() - form.columns(t)..];
    gammas.iter().any(|g| *g < 0.0).then(|| {
        let name = loglinear::Terms(Vec::new(), Some(form), f.terms.2).describe(&[]);
        said(
            format!(
                "the heterogeneity coefficient of {name} is negative: the data show no heterogeneity of this form, and the model is not meaningful here"
            ),
            format!(
                "el coeficiente de heterogeneidad de {name} es negativo: los datos no muestran heterogeneidad de esta forma, y aquí el modelo no tiene sentido"
            ),
        )
    })
}

/// An estimate from one fitted log-linear model, with its profile-likelihood interval and the
/// capture-pattern table of fitted values.
fn model_estimate(
    table: &Table<'_>,
    method: &str,
    fit: &ModelFit,
    warnings: Vec<Said>,
) -> Estimate {
    let (counts, t) = (&table.counts, table.t);
    let (lo, hi) = loglinear::profile_interval(counts, t, &fit.terms, fit.estimate);
    let mut e = table.blank(method);
    e.warn_all(warnings);
    if hi.is_infinite() {
        e.warn(said(
            "the data do not bound the total from above under this model",
            "con este modelo los datos no acotan el total por arriba",
        ));
    }
    if fit.fit.boundary > 0 {
        let cells = fit.fit.boundary;
        e.warn(said(
            format!(
                "the model expects nobody at all in {cells} combination(s) of lists that nobody is on: its fit lies on the edge of what the model allows (Fienberg & Rinaldo 2012); the total is still defined, as Rcapture gives it, but compare it with models without the interactions that cause this"
            ),
            format!(
                "el modelo no espera a nadie en {cells} combinación(es) de listas en las que no hay nadie: su ajuste está en el límite de lo que el modelo admite (Fienberg y Rinaldo 2012); el total sigue definido, como lo da Rcapture, pero compárelo con modelos sin las interacciones que lo causan"
            ),
        ));
    }
    Estimate {
        model: fit.terms.describe(&table.lists),
        estimate: Some(fit.estimate),
        lower: Some(lo),
        upper: hi.is_finite().then_some(hi),
        interval: "profile likelihood".into(),
        aic: Some(fit.aic),
        bic: Some(fit.bic),
        deviance: Some((fit.fit.deviance, fit.df)),
        stderr: Some(fit.variance.sqrt()),
        fit_p_value: (fit.df > 0).then(|| linalg::chi2_sf(fit.fit.deviance, fit.df as f64)),
        cells: (1..counts.len())
            .zip(&fit.fit.fitted)
            .map(|(h, f)| Cell {
                pattern: (0..t)
                    .map(|j| if h & (1 << j) != 0 { '1' } else { '0' })
                    .collect(),
                observed: counts[h] as u64,
                fitted: *f,
            })
            .collect(),
        ..e
    }
}

#[cfg(test)]
mod tests;
