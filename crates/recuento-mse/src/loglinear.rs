//! Log-linear models for multiple systems estimation (Fienberg 1972; Bishop, Fienberg & Holland
//! 1975, ch. 6; as in Rcapture's `closedpMS.t` and `closedpCI.t`).
//!
//! The observed cells of the 2^t capture-pattern table (every pattern but "on no list") are
//! fitted by a Poisson GLM with log link: an intercept, one main effect per list (or, in models
//! M0 and Mh, one effect of the number of lists shared by all), and a chosen set of list
//! interactions (hierarchical). The intercept's fitted value is the expected count of the
//! unobserved cell, so N̂ = n + exp(β₀). Intervals come from the profile multinomial likelihood
//! of N (Cormack 1992), which is asymmetric and never goes below n.

use crate::linalg::{ln_gamma, pivoted_solve};

/// χ²₁ 0.95 quantile: the profile-likelihood drop that bounds a 95% interval.
pub const CHI2_95: f64 = 3.841_458_820_694_124;

/// One log-linear model: the interaction terms beyond the main effects, as list bitmasks, an
/// optional heterogeneity column (model Mth when there are no interactions), and how the lists'
/// own effects enter (one per list, or one shared by all: models M0 and Mh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms(pub Vec<u16>, pub Option<Heterogeneity>, pub ListEffects);

/// How the lists' own effects enter a model (the "t" of Otis et al. 1978's model names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ListEffects {
    /// A main effect per list: lists differ in how likely they are to list a person (models Mt
    /// and Mth, and every hierarchical model).
    #[default]
    PerList,
    /// One effect of the number of lists a pattern is on, shared by every list: every list
    /// equally likely to list a person (models M0 and Mh). Human-rights lists rarely are; the
    /// estimate warns when the data say so.
    Shared,
}

/// A heterogeneity column f(k), k = number of lists a pattern is on (Rivest & Baillargeon 2007;
/// the forms of Rcapture's `closedp.t`). Its coefficient models capture probabilities that vary
/// between people in the same way on every list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Heterogeneity {
    /// f(k) = 2^k − 1.
    Poisson2,
    /// f(k) = k² / 2.
    Darroch,
    /// f(k) = −ln(3.5 + k) + ln(3.5).
    Gamma35,
    /// Chao's lower bound (Rcapture's `LB`; Rivest & Baillargeon 2007): one column (k − j)₊ per
    /// knot j = 2 … t − 1 whose bit is set in the mask. With every knot, the counts of people on
    /// 2, 3, … lists are fitted freely and the unseen count is extrapolated from people on one
    /// and two lists only, as Chao's (1987) estimator does; a knot whose coefficient comes out
    /// negative is dropped (the bound needs convex log-counts), as Rcapture does.
    ChaoLb(u16),
}

impl Heterogeneity {
    /// All forms, in output order (Chao's with every knot).
    pub const ALL: [Heterogeneity; 4] = [
        Heterogeneity::Poisson2,
        Heterogeneity::Darroch,
        Heterogeneity::Gamma35,
        Heterogeneity::ChaoLb(u16::MAX),
    ];

    /// The knots j (2 ≤ j ≤ t − 1) of Chao's model that are in use, for `t` lists.
    pub fn knots(self, t: usize) -> Vec<u32> {
        match self {
            Heterogeneity::ChaoLb(mask) => (2..t.max(2) as u32)
                .filter(|j| mask & (1 << j) != 0)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Number of heterogeneity columns for `t` lists.
    pub fn columns(self, t: usize) -> usize {
        match self {
            Heterogeneity::ChaoLb(_) => self.knots(t).len(),
            _ => 1,
        }
    }

    /// Appends the heterogeneity columns of a pattern on `k` of `t` lists to a design row.
    pub fn push_columns(self, k: u32, t: usize, row: &mut Vec<f64>) {
        let kf = f64::from(k);
        match self {
            Heterogeneity::Poisson2 => row.push(2f64.powf(kf) - 1.0),
            Heterogeneity::Darroch => row.push(kf * kf / 2.0),
            Heterogeneity::Gamma35 => row.push(-(3.5 + kf).ln() + 3.5f64.ln()),
            Heterogeneity::ChaoLb(_) => row.extend(
                self.knots(t)
                    .into_iter()
                    .map(|j| f64::from(k.saturating_sub(j))),
            ),
        }
    }

    /// Rcapture's name of the model with list effects and this column.
    pub fn name(self) -> &'static str {
        match self {
            Heterogeneity::Poisson2 => "Mth Poisson2",
            Heterogeneity::Darroch => "Mth Darroch",
            Heterogeneity::Gamma35 => "Mth Gamma3.5",
            Heterogeneity::ChaoLb(_) => "Mth Chao (LB)",
        }
    }

    /// Rcapture's name of the model with one effect shared by every list and this column.
    pub fn shared_name(self) -> &'static str {
        match self {
            Heterogeneity::Poisson2 => "Mh Poisson2",
            Heterogeneity::Darroch => "Mh Darroch",
            Heterogeneity::Gamma35 => "Mh Gamma3.5",
            Heterogeneity::ChaoLb(_) => "Mh Chao (LB)",
        }
    }
}

/// Name of the model with one effect shared by every list and no heterogeneity column.
pub const M0: &str = "M0";

impl Terms {
    /// A model with each list's own effect, these interactions and no heterogeneity column.
    pub fn interactions(terms: Vec<u16>) -> Terms {
        Terms(terms, None, ListEffects::PerList)
    }

    /// Number of parameters for `t` lists: intercept + t main effects (or the one shared) +
    /// interactions + heterogeneity columns.
    pub fn parameters(&self, t: usize) -> usize {
        let lists = match self.2 {
            ListEffects::PerList => t,
            ListEffects::Shared => 1,
        };
        1 + lists + self.0.len() + self.1.map_or(0, |h| h.columns(t))
    }

    /// A readable name: `independence`, `independence + a:b + a:c`, `Mth Darroch + a:b`, `M0`,
    /// `Mh Chao (LB)`.
    pub fn describe(&self, lists: &[String]) -> String {
        let mut s = String::from(match (self.2, self.1) {
            (ListEffects::PerList, None) => "independence",
            (ListEffects::PerList, Some(h)) => h.name(),
            (ListEffects::Shared, None) => M0,
            (ListEffects::Shared, Some(h)) => h.shared_name(),
        });
        for term in &self.0 {
            let names: Vec<&str> = (0..lists.len())
                .filter(|i| term & (1 << i) != 0)
                .map(|i| lists[i].as_str())
                .collect();
            s.push_str(" + ");
            s.push_str(&names.join(":"));
        }
        s
    }

    /// Reads a model written as [`Terms::describe`] writes it: `independence + a:b + b:c`, or
    /// with a heterogeneity form first (`Mth Darroch + a:b`, `Mth Chao (LB)`); `independence`
    /// may be left out. `M0` and the `Mh` forms stand alone. A three-way term needs its two-way
    /// terms (the model must be hierarchical).
    ///
    /// # Errors
    /// In words: a list name that is not among `lists`, a term of one list, a repeated term, a
    /// term of every list (the saturated model leaves the unseen cell unidentified), a missing
    /// lower-order term, or interactions after `M0` or an `Mh` form.
    pub fn parse(text: &str, lists: &[String]) -> Result<Terms, String> {
        let mut terms = Terms::interactions(Vec::new());
        for (i, part) in text.split('+').map(str::trim).enumerate() {
            if part.is_empty() {
                return Err(format!("the model '{text}' has an empty term"));
            }
            if i == 0 && part == "independence" {
                continue;
            }
            if i == 0
                && let Some(h) = Heterogeneity::ALL.iter().find(|h| h.name() == part)
            {
                terms.1 = Some(*h);
                continue;
            }
            if i == 0 && part == M0 {
                terms.2 = ListEffects::Shared;
                continue;
            }
            if i == 0
                && let Some(h) = Heterogeneity::ALL.iter().find(|h| h.shared_name() == part)
            {
                terms.1 = Some(*h);
                terms.2 = ListEffects::Shared;
                continue;
            }
            if terms.2 == ListEffects::Shared {
                return Err(format!(
                    "the model '{text}' adds interactions to a model whose lists share one effect (M0, Mh); write them after 'independence' or an 'Mth' form instead"
                ));
            }
            let mut mask = 0u16;
            for name in part.split(':').map(str::trim) {
                let Some(j) = lists.iter().position(|l| l == name) else {
                    return Err(format!(
                        "the model '{text}' names '{name}', which is not one of the lists ({})",
                        lists.join(", ")
                    ));
                };
                mask |= 1 << j;
            }
            if mask.count_ones() < 2 {
                return Err(format!(
                    "'{part}' in the model '{text}' is not an interaction: write two or more lists joined by ':' (every list's own effect is always in the model)"
                ));
            }
            if mask.count_ones() as usize == lists.len() {
                return Err(format!(
                    "'{part}' joins every list: with it the number of people on no list cannot be estimated"
                ));
            }
            if terms.0.contains(&mask) {
                return Err(format!("'{part}' appears twice in the model '{text}'"));
            }
            terms.0.push(mask);
        }
        terms.0.sort_by_key(|m| (m.count_ones(), *m));
        if !terms.is_hierarchical() {
            return Err(format!(
                "the model '{text}' is not hierarchical: a term of three or more lists needs every term of one list fewer inside it"
            ));
        }
        Ok(terms)
    }

    fn is_hierarchical(&self) -> bool {
        self.0.iter().all(|&term| {
            let bits: Vec<u16> = (0..16)
                .filter(|i| term & (1 << i) != 0)
                .map(|i| 1 << i)
                .collect();
            if bits.len() <= 2 {
                return true;
            }
            // Every sub-term one list smaller must be in the model.
            bits.iter().all(|b| self.0.contains(&(term & !b)))
        })
    }
}

/// A Poisson GLM fit.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Coefficients: intercept, main effects, interactions (in [`Terms`] order).
    pub beta: Vec<f64>,
    /// Fitted values of the cells that were fitted.
    pub fitted: Vec<f64>,
    /// Residual deviance.
    pub deviance: f64,
    /// Poisson log-likelihood of the fitted cells.
    pub log_likelihood: f64,
    /// Variance of the intercept, from the inverse Fisher information.
    pub var_intercept: f64,
    /// Empty cells the fit drives to zero: the maximum-likelihood estimate lies on the edge of
    /// the parameter space there (Fienberg & Rinaldo 2012), and the coefficients only those
    /// cells determine run off to infinity, as in Rcapture's fits. The total still exists when
    /// the intercept is identified from the other cells.
    pub boundary: usize,
}

/// One cell's row of the design matrix, given by its non-zero entries (column, value) in column
/// order: a cell is on few lists and in few interactions, so most entries are zero.
fn design_row(pattern: usize, t: usize, terms: &Terms) -> Vec<(usize, f64)> {
    let k = pattern.count_ones();
    let mut row = vec![(0, 1.0)];
    let mut column = 1;
    match terms.2 {
        ListEffects::PerList => {
            row.extend(
                (0..t)
                    .filter(|i| pattern & (1 << i) != 0)
                    .map(|i| (column + i, 1.0)),
            );
            column += t;
        }
        ListEffects::Shared => {
            row.push((column, f64::from(k)));
            column += 1;
        }
    }
    for (j, &term) in terms.0.iter().enumerate() {
        if pattern & usize::from(term) == usize::from(term) {
            row.push((column + j, 1.0));
        }
    }
    column += terms.0.len();
    if let Some(h) = terms.1 {
        let mut values = Vec::new();
        h.push_columns(k, t, &mut values);
        row.extend((column..).zip(values));
    }
    row.retain(|(_, x)| *x != 0.0);
    row
}

/// Fits a Poisson log-linear GLM by iteratively reweighted least squares (Newton's method).
/// Returns `None` when the design is singular, when the fit does not converge, or when it runs
/// off in a way that leaves the intercept unidentified or infinite. Empty cells that the fit
/// drives to zero are handled as `glm` handles them: the fit converges on the other cells, and
/// [`Fit::boundary`] counts them. `rows` holds each cell's row of the `p`-column design matrix
/// by its non-zero entries (column, value), in column order; column 0 is the intercept.
pub fn fit_poisson(rows: &[Vec<(usize, f64)>], p: usize, y: &[f64]) -> Option<Fit> {
    fit_poisson_from(rows, p, y, None)
}

/// [`fit_poisson`] starting from the fitted values `start` (one per cell) instead of y + ½: a
/// model one term larger than one already fitted starts from that fit, which is close to its
/// own, and takes fewer steps to the same maximum. Cells the start fitted as zero start just
/// above it. When a step from the start cannot move every coefficient, the fit could settle
/// short of the maximum: it is then made again from y + ½, so a start never changes whether
/// or where a fit is found.
pub fn fit_poisson_from(
    rows: &[Vec<(usize, f64)>],
    p: usize,
    y: &[f64],
    start: Option<&[f64]>,
) -> Option<Fit> {
    match start {
        Some(_) => fit_poisson_at(rows, p, y, start).or_else(|| fit_poisson_at(rows, p, y, None)),
        None => fit_poisson_at(rows, p, y, None),
    }
}

/// [`fit_poisson_from`] without the second try: `None` as soon as a step from `start` cannot
/// move every coefficient.
fn fit_poisson_at(
    rows: &[Vec<(usize, f64)>],
    p: usize,
    y: &[f64],
    start: Option<&[f64]>,
) -> Option<Fit> {
    if rows.is_empty() || p == 0 {
        return None;
    }
    // The intercept goes last, so it is the column left out when the others already span it
    // (then the number of people on no list is not identified) and its pivot gives its variance.
    let order: Vec<usize> = (1..p).chain(std::iter::once(0)).collect();
    // A design whose columns are dependent over all the cells (more parameters than the table
    // can carry) is not a model of this table.
    let mut xtx = vec![0.0; p * p];
    // Sums over each row's non-zero entries only: with many lists they are most of the cost.
    for row in rows {
        add_outer(&mut xtx, p, row, 1.0);
    }
    mirror(&mut xtx, p);
    let (independent, _) = pivoted_solve(&xtx, &vec![0.0; p], p, &order)?;
    if independent.iter().any(Option::is_none) {
        return None;
    }
    let mut mu: Vec<f64> = match start {
        Some(start) if start.len() == y.len() => start.iter().map(|m| m.max(1e-6)).collect(),
        _ => y.iter().map(|v| v + 0.5).collect(),
    };
    let mut beta = vec![0.0; p];
    // Empty cells whose fitted value the fit drives to zero: the maximum-likelihood estimate is
    // on the boundary there (an extended MLE). They leave the normal equations, and the
    // coefficients that only they determined stay where they are.
    let mut boundary = vec![false; y.len()];
    // Cells are only taken as on the boundary once the fit with every cell has settled: on the
    // way there, an empty cell's fitted value can pass below 1e-8 and come back (a column such
    // as Poisson2's 2^k − 1 moves the cells on many lists fast), and taking it out then would
    // fit the rest better than the model allows.
    let mut flagging = false;
    let mut last_dev = f64::INFINITY;
    let mut converged = false;
    let people: f64 = y.iter().sum();
    let mut xtwx = vec![0.0; p * p];
    for iteration in 0..200 {
        let mut rhs = vec![0.0; p];
        xtwx.iter_mut().for_each(|v| *v = 0.0);
        for (((row, &yi), &mi), _) in rows
            .iter()
            .zip(y)
            .zip(&mu)
            .zip(&boundary)
            .filter(|(_, b)| !**b)
        {
            // The first step regresses the working response on the design (IRLS from
            // μ = y + ½); later ones solve for the Newton step from the current β, which is
            // the same in exact arithmetic and leaves left-out coefficients in place.
            let r = if iteration == 0 {
                mi * (mi.ln() + (yi - mi) / mi)
            } else {
                yi - mi
            };
            for &(a, x) in row {
                rhs[a] += x * r;
            }
            add_outer(&mut xtwx, p, row, mi);
        }
        mirror(&mut xtwx, p);
        let (step, _) = pivoted_solve(&xtwx, &rhs, p, &order)?;
        // From a start, a step that cannot move every coefficient means the start lies where
        // the model is ill-conditioned (a heterogeneity column nearly dependent on the lists'),
        // and the fit could settle short of the maximum: fitted from y + ½ instead.
        if start.is_some() && step.iter().any(Option::is_none) {
            return None;
        }
        for (b, s) in beta.iter_mut().zip(&step) {
            match (iteration, s) {
                (0, s) => *b = s.unwrap_or(0.0),
                (_, Some(s)) => *b += s,
                (_, None) => {}
            }
        }
        // How far the fitted values still move (on the log scale), leaving out the empty cells
        // already almost at zero: a cell on its way to the boundary moves by about 1 per step
        // (its fitted value falls by e) and keeps the fit going until it gets there, even when
        // the deviance of a poorly fitting model has stopped changing to 1e-10 of itself. A
        // fit that has converged moves far less than 1e-3 by then (Newton's steps shrink
        // quadratically), so the bound costs it no extra step.
        let mut moving = 0.0f64;
        for ((row, m), (&yi, at_boundary)) in rows
            .iter()
            .zip(mu.iter_mut())
            .zip(y.iter().zip(boundary.iter_mut()))
        {
            let eta: f64 = row.iter().map(|&(a, x)| x * beta[a]).sum();
            let before = *m;
            *m = eta.clamp(-700.0, 700.0).exp();
            *at_boundary |= flagging && yi == 0.0 && *m < 1e-8;
            let vanishing = *at_boundary || (yi == 0.0 && *m < 1e-8);
            if !vanishing {
                moving = moving.max((*m / before).ln().abs());
            }
        }
        let dev = deviance(y, &mu);
        // Relative to the deviance, and to the people in the table: a model that fits millions
        // of people almost exactly has a deviance near zero whose rounding noise (each cell's
        // y·ln(y/μ) is exact to about 1e-16·y) is far above 1e-10·0.1, and would never settle.
        if (last_dev - dev).abs() <= 1e-10 * (dev.abs() + 0.1) + 1e-13 * people && moving < 1e-3 {
            let vanishing = |(&yi, &mi): (&f64, &f64)| yi == 0.0 && mi < 1e-8;
            if flagging || !y.iter().zip(&mu).any(vanishing) {
                converged = true;
                break;
            }
            // Settled with empty cells fitted as (nearly) zero: those are on the boundary.
            // Take them out and fit the rest exactly.
            flagging = true;
            for ((at_boundary, yi), mi) in boundary.iter_mut().zip(y).zip(&mu) {
                *at_boundary = vanishing((yi, mi));
            }
        }
        last_dev = dev;
    }
    let on_boundary = boundary.iter().filter(|b| **b).count();
    // Only the intercept's size matters: it is the log of the people on no list, and past
    // e^30 the total has run off. The other coefficients may be large in a fit that has
    // converged (a heterogeneity column nearly proportional to the number of lists, as
    // Gamma3.5's is, needs a large coefficient balanced by the lists' effects), and those that
    // only empty cells determine run off on the boundary, where their cells are fitted as zero.
    if !converged || beta.iter().any(|b| !b.is_finite()) || beta[0].abs() > 30.0 {
        return None;
    }
    // Information at the final fitted values, from the cells off the boundary.
    xtwx.iter_mut().for_each(|v| *v = 0.0);
    for ((row, &mi), _) in rows.iter().zip(&mu).zip(&boundary).filter(|(_, b)| !**b) {
        add_outer(&mut xtwx, p, row, mi);
    }
    mirror(&mut xtwx, p);
    let mut e0 = vec![0.0; p];
    e0[0] = 1.0;
    let (solution, var_intercept) = pivoted_solve(&xtwx, &e0, p, &order)?;
    solution[0]?;
    // On the boundary the fitted value is zero in the limit; the last step's is below 1e-8.
    for (m, _) in mu.iter_mut().zip(&boundary).filter(|(_, b)| **b) {
        *m = 0.0;
    }
    let log_likelihood = y
        .iter()
        .zip(&mu)
        .map(|(&yi, &mi)| {
            let observed = if yi > 0.0 { yi * mi.ln() } else { 0.0 };
            observed - mi - ln_gamma(yi + 1.0)
        })
        .sum();
    Some(Fit {
        beta,
        deviance: deviance(y, &mu),
        fitted: mu,
        log_likelihood,
        var_intercept,
        boundary: on_boundary,
    })
}

/// Adds `w · x xᵀ` to the upper triangle of the `p × p` matrix `m`, for a row `x` given by its
/// non-zero entries in column order; [`mirror`] completes the matrix once every row is in.
fn add_outer(m: &mut [f64], p: usize, row: &[(usize, f64)], w: f64) {
    for (i, &(a, xa)) in row.iter().enumerate() {
        let wa = w * xa;
        for &(b, xb) in &row[i..] {
            m[a * p + b] += wa * xb;
        }
    }
}

/// Copies the upper triangle of the symmetric `p × p` matrix `m` onto its lower triangle.
fn mirror(m: &mut [f64], p: usize) {
    for a in 0..p {
        for b in 0..a {
            m[a * p + b] = m[b * p + a];
        }
    }
}

fn deviance(y: &[f64], mu: &[f64]) -> f64 {
    2.0 * y
        .iter()
        .zip(mu)
        .map(|(&yi, &mi)| {
            let a = if yi > 0.0 { yi * (yi / mi).ln() } else { 0.0 };
            a - (yi - mi)
        })
        .sum::<f64>()
}

/// A fitted log-linear model with its estimate of the population size.
#[derive(Debug, Clone)]
pub struct ModelFit {
    /// The interactions in the model.
    pub terms: Terms,
    /// The GLM fit of the observed cells.
    pub fit: Fit,
    /// Estimated number of people on no list, exp(β₀).
    pub missing: f64,
    /// N̂ = observed + missing.
    pub estimate: f64,
    /// Akaike information criterion (−2 log L + 2p).
    pub aic: f64,
    /// Bayesian information criterion (−2 log L + p ln n).
    pub bic: f64,
    /// Residual degrees of freedom.
    pub df: usize,
    /// Approximate variance of N̂: Poisson variance of the missing cell plus the delta-method
    /// variance of exp(β₀).
    pub variance: f64,
}

/// Why a model could not be fitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FitProblem {
    /// An interaction's cells are all empty: its MLE is on the boundary and the estimate does
    /// not exist (Fienberg 1972).
    EmptyMargin(u16),
    /// IRLS did not converge or the design was singular.
    NoConvergence,
}

/// Fits one model to the observed cells of `counts` (index = pattern, `counts[0]` ignored).
pub fn fit_model(counts: &[f64], t: usize, terms: &Terms) -> Result<ModelFit, FitProblem> {
    fit_model_from(counts, t, terms, None)
}

/// [`fit_model`] starting from the fit of a smaller model, `start` (see [`fit_poisson_from`]):
/// the same maximum, in fewer steps.
pub fn fit_model_from(
    counts: &[f64],
    t: usize,
    terms: &Terms,
    start: Option<&ModelFit>,
) -> Result<ModelFit, FitProblem> {
    for &term in &terms.0 {
        let margin: f64 = (1..counts.len())
            .filter(|h| h & usize::from(term) == usize::from(term))
            .map(|h| counts[h])
            .sum();
        if margin == 0.0 {
            return Err(FitProblem::EmptyMargin(term));
        }
    }
    let rows: Vec<_> = (1..counts.len()).map(|h| design_row(h, t, terms)).collect();
    let y = &counts[1..];
    let parameters = terms.parameters(t);
    let start = start.map(|s| &s.fit.fitted[..]);
    let fit = fit_poisson_from(&rows, parameters, y, start).ok_or(FitProblem::NoConvergence)?;
    let observed: f64 = y.iter().sum();
    let missing = fit.beta[0].exp();
    let p = parameters as f64;
    let df = y.len().saturating_sub(parameters);
    Ok(ModelFit {
        aic: -2.0 * fit.log_likelihood + 2.0 * p,
        bic: -2.0 * fit.log_likelihood + p * observed.ln(),
        variance: missing + missing * missing * fit.var_intercept,
        estimate: observed + missing,
        missing,
        df,
        terms: terms.clone(),
        fit,
    })
}

/// The average of several models' estimates of N ([`average`]).
#[derive(Debug, Clone)]
pub struct Average {
    /// The models' estimates weighted by exp(−Δ/2) of their AIC (or BIC).
    pub estimate: f64,
    /// Unconditional standard error (Buckland, Burnham & Augustin 1997): each model's own
    /// variance plus its distance from the average, weighted.
    pub stderr: f64,
    /// Lower end of the 95% interval: log-normal on the unseen count (Chao 1987), never below
    /// the people seen.
    pub lower: f64,
    /// Upper end of the 95% interval.
    pub upper: f64,
    /// Each model's weight, in the order of `fits`; they sum to one.
    pub weights: Vec<f64>,
}

/// Averages the estimates of `fits` (at least one) by their AIC, or BIC with `use_bic`, for a
/// table of `observed` people: the headline of the log-linear models.
pub fn average(fits: &[ModelFit], observed: f64, use_bic: bool) -> Average {
    let crit = |f: &ModelFit| if use_bic { f.bic } else { f.aic };
    let min_crit = fits.iter().map(crit).fold(f64::INFINITY, f64::min);
    let raw: Vec<f64> = fits
        .iter()
        .map(|f| (-0.5 * (crit(f) - min_crit)).exp())
        .collect();
    let total_w: f64 = raw.iter().sum();
    let weights: Vec<f64> = raw.iter().map(|w| w / total_w).collect();
    let estimate: f64 = fits.iter().zip(&weights).map(|(f, w)| w * f.estimate).sum();
    let stderr: f64 = fits
        .iter()
        .zip(&weights)
        .map(|(f, w)| w * (f.variance + (f.estimate - estimate).powi(2)).sqrt())
        .sum();
    let (lower, upper) = crate::log_normal_interval(observed, estimate, stderr * stderr);
    Average {
        estimate,
        stderr,
        lower,
        upper,
        weights,
    }
}

/// Profile multinomial log-likelihood of N for a model (up to a constant).
#[cfg(test)]
fn profile_log_likelihood(counts: &[f64], t: usize, terms: &Terms, n_total: f64) -> Option<f64> {
    Profile::new(counts, t, terms).log_likelihood(n_total)
}

/// The profile likelihood of N under one model, evaluated at many totals by
/// [`profile_interval`]: the complete table's design is built once, and each fit starts from
/// the last one's fitted values, a nearby total's (the same maximum, in fewer steps).
struct Profile<'a> {
    counts: &'a [f64],
    rows: Vec<Vec<(usize, f64)>>,
    p: usize,
    observed: f64,
    last: std::cell::RefCell<Option<Vec<f64>>>,
}

impl<'a> Profile<'a> {
    fn new(counts: &'a [f64], t: usize, terms: &Terms) -> Self {
        Profile {
            counts,
            rows: (0..counts.len()).map(|h| design_row(h, t, terms)).collect(),
            p: terms.parameters(t),
            observed: counts[1..].iter().sum(),
            last: std::cell::RefCell::new(None),
        }
    }

    fn log_likelihood(&self, n_total: f64) -> Option<f64> {
        let z0 = n_total - self.observed;
        if z0 < 0.0 {
            return None;
        }
        let mut y = self.counts.to_vec();
        // At N = n the unseen cell is empty, and a model may fit it as zero with its intercept
        // run off, where no fit is returned; the profile's value there is its limit from above,
        // which a billionth of a person gives (the top of the profile is often there, when the
        // lists overlap so much that nobody seems unseen).
        y[0] = z0.max(1e-9);
        let start = self.last.take();
        let Some(fit) = fit_poisson_from(&self.rows, self.p, &y, start.as_deref()) else {
            *self.last.borrow_mut() = start;
            return None;
        };
        let total: f64 = fit.fitted.iter().sum();
        let mut ll = ln_gamma(n_total + 1.0) - ln_gamma(z0 + 1.0);
        for (yi, mi) in y.iter().zip(&fit.fitted) {
            if *yi > 0.0 {
                ll += yi * (mi / total).ln();
            }
        }
        *self.last.borrow_mut() = Some(fit.fitted);
        Some(ll)
    }
}

/// A 95% profile-likelihood interval for N under one model. `upper` is infinite when the
/// likelihood never drops far enough (the data cannot bound the total from above).
pub fn profile_interval(counts: &[f64], t: usize, terms: &Terms, point: f64) -> (f64, f64) {
    let observed: f64 = counts[1..].iter().sum();
    let profile = Profile::new(counts, t, terms);
    let ll = |n: f64| profile.log_likelihood(n).unwrap_or(f64::NEG_INFINITY);
    // Maximise by golden-section search on [observed, cap]; the profile is unimodal.
    let cap = (point * 4.0).max(observed * 2.0 + 50.0);
    let (mut a, mut b) = (observed, cap);
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (ll(c), ll(d));
    for _ in 0..80 {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = ll(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = ll(d);
        }
        if b - a < 1e-3 {
            break;
        }
    }
    let mut n_max = 0.5 * (a + b);
    let mut l_max = ll(n_max);
    if !l_max.is_finite() {
        // The search ended where the complete-table fit fails: the point estimate is the
        // maximum of a smooth profile too.
        (n_max, l_max) = (point, ll(point));
    }
    let l_max = l_max.max(ll(observed));
    if !l_max.is_finite() {
        // The complete-table fit failed everywhere: the data give no interval under this model.
        return (observed, f64::INFINITY);
    }
    let drop = |n: f64| 2.0 * (l_max - ll(n)) - CHI2_95;
    // Lower bound: bisection on [observed, n_max].
    let lower = if drop(observed) <= 0.0 {
        observed
    } else {
        bisect(&drop, observed, n_max)
    };
    // Upper bound: expand until the drop exceeds the threshold.
    let mut hi = n_max.max(observed + 1.0) * 1.5 + 10.0;
    let limit = observed * 1_000.0 + 1e5;
    while drop(hi) < 0.0 {
        hi = n_max + (hi - n_max) * 2.0;
        if hi > limit {
            return (lower, f64::INFINITY);
        }
    }
    (lower, bisect(&drop, n_max, hi))
}

/// Root of `f` in [lo, hi] where f(lo) and f(hi) have opposite signs.
fn bisect(f: &dyn Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let f_lo_negative = f(lo) < 0.0;
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if (f(mid) < 0.0) == f_lo_negative {
            lo = mid;
        } else {
            hi = mid;
        }
        // Relative: a hundredth of a person at ten thousand people, as fine for tables of ten
        // people as of ten million.
        if hi - lo < 1e-8 * hi.abs().max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// All candidate interactions of order at most `max_order` for `t` lists (a term of every list
/// is left out: it would fit the table exactly and leave the unseen unidentified), smallest
/// order first. The models are the hierarchical sets of them ([`all_hierarchical`]).
pub fn candidate_terms(t: usize, max_order: usize) -> Vec<u16> {
    // Counted in u32: with 16 lists, 1 << 16 does not fit the u16 of a term.
    let mut terms: Vec<u16> = (1u32..(1u32 << t.min(16)))
        .filter(|m| {
            let k = m.count_ones() as usize;
            k >= 2 && k <= max_order && k < t
        })
        .filter_map(|m| u16::try_from(m).ok())
        .collect();
    terms.sort_by_key(|m| (m.count_ones(), *m));
    terms
}

/// Most models [`all_hierarchical`] enumerates. Every hierarchical model of five lists, of any
/// order (6,893 up to four-list terms), and every pairwise model of six lists (2^15 = 32,768)
/// fit under it, as Rcapture's `closedpMS.t` fits every one; beyond it (six lists with
/// three-list terms, seven lists or more) models are chosen by forward selection.
pub const MAX_MODELS: usize = 40_000;

/// Every hierarchical set of `candidates` (in the order [`candidate_terms`] gives them:
/// smaller terms first), or `None` when there are more than `limit`. Each model comes after the
/// model without its last term, which is hierarchical too (the last term is of the largest
/// order, so no other term contains it). The search stops as soon as it passes `limit`, so
/// asking costs at most `limit` models' worth of work whatever the number of lists.
pub fn all_hierarchical(candidates: &[u16], limit: usize) -> Option<Vec<Terms>> {
    /// Adds to `out` every model that keeps `chosen` and decides `candidates[from..]`; `false`
    /// once `out` holds more than `limit`.
    fn extend(
        candidates: &[u16],
        from: usize,
        chosen: &mut Vec<u16>,
        out: &mut Vec<Terms>,
        limit: usize,
    ) -> bool {
        let Some(&term) = candidates.get(from) else {
            out.push(Terms::interactions(chosen.clone()));
            return out.len() <= limit;
        };
        if !extend(candidates, from + 1, chosen, out, limit) {
            return false;
        }
        // A term of three lists or more needs every term one list smaller in the model.
        let allowed = term.count_ones() <= 2
            || (0..16)
                .filter(|b| term & (1 << b) != 0)
                .all(|b| chosen.contains(&(term & !(1 << b))));
        if allowed {
            chosen.push(term);
            let go_on = extend(candidates, from + 1, chosen, out, limit);
            chosen.pop();
            return go_on;
        }
        true
    }
    let mut sorted = candidates.to_vec();
    sorted.sort_by_key(|m| (m.count_ones(), *m));
    let mut out = Vec::new();
    extend(&sorted, 0, &mut Vec::new(), &mut out, limit).then_some(out)
}

/// Parts [`fit_all`] splits a long run of models into, each fitted on a thread of its own.
/// Fixed, not the number of cores: a model starts from its parent's fit only within its part,
/// and that choice must not depend on the machine.
const FIT_PARTS: usize = 4;

/// Fits every model of `models`, in the order [`all_hierarchical`] gives them: each starts from
/// the fit of the model without its last term when that model came earlier in its part
/// ([`fit_model_from`]; a few Newton steps instead of a dozen), otherwise from the counts. Long
/// runs (six lists' 32,768 models) are split into four parts fitted in parallel, always four
/// whatever the machine, so that every machine gives the same digits.
pub fn fit_all(counts: &[f64], t: usize, models: &[Terms]) -> Vec<Result<ModelFit, FitProblem>> {
    fn fit_part(counts: &[f64], t: usize, models: &[Terms]) -> Vec<Result<ModelFit, FitProblem>> {
        let mut index: std::collections::HashMap<&[u16], usize> =
            std::collections::HashMap::with_capacity(models.len());
        let mut results: Vec<Result<ModelFit, FitProblem>> = Vec::with_capacity(models.len());
        for terms in models {
            let parent = terms
                .0
                .split_last()
                .and_then(|(_, smaller)| index.get(smaller))
                .and_then(|&p| results[p].as_ref().ok());
            let fit = fit_model_from(counts, t, terms, parent);
            index.insert(&terms.0, results.len());
            results.push(fit);
        }
        results
    }
    if models.len() < 1024 {
        return fit_part(counts, t, models);
    }
    let size = models.len().div_ceil(FIT_PARTS);
    std::thread::scope(|scope| {
        let parts: Vec<_> = models
            .chunks(size)
            .map(|part| scope.spawn(move || fit_part(counts, t, part)))
            .collect();
        parts
            .into_iter()
            // A panic in a part is re-raised as it was, as if fitted on this thread.
            .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Forward selection: from independence, add the hierarchical term that lowers `score` most,
/// until none does.
pub fn forward_selection(candidates: &[u16], score: &dyn Fn(&Terms) -> Option<f64>) -> Vec<Terms> {
    select(candidates, score, None)
}

/// What [`screened_forward_selection`] ranks the candidates with: the table, its number of
/// lists, how many candidates to fit a step, and the fits `score` has already made.
#[derive(Clone, Copy)]
struct Screen<'a> {
    counts: &'a [f64],
    t: usize,
    keep: usize,
    fitted: &'a dyn Fn(&Terms) -> Option<ModelFit>,
}

/// Forward selection, every step trying the hierarchical additions to the current model, or,
/// with `screen`, only the `keep` with the largest [`score_statistics`]. Returns every model
/// tried.
fn select(
    candidates: &[u16],
    score: &dyn Fn(&Terms) -> Option<f64>,
    screen: Option<Screen<'_>>,
) -> Vec<Terms> {
    let mut current = Terms::interactions(Vec::new());
    let mut visited = vec![current.clone()];
    let mut best = score(&current).unwrap_or(f64::INFINITY);
    loop {
        let mut open: Vec<(u16, Terms)> = candidates
            .iter()
            .filter(|c| !current.0.contains(c))
            .map(|&c| {
                let mut next = current.clone();
                next.0.push(c);
                // As `candidate_terms` orders them: pairs first, as models are written.
                next.0.sort_unstable_by_key(|m| (m.count_ones(), *m));
                (c, next)
            })
            .filter(|(_, next)| next.is_hierarchical())
            .collect();
        if let Some(Screen {
            counts,
            t,
            keep,
            fitted,
        }) = screen
        {
            // The current model was fitted when `score` tried it; fitted again only when
            // `score` does not keep its fits.
            let Some(model) = fitted(&current).or_else(|| fit_model(counts, t, &current).ok())
            else {
                return visited;
            };
            let added: Vec<u16> = open.iter().map(|(c, _)| *c).collect();
            let statistics = score_statistics(counts, t, &model, &added);
            let mut ranked: Vec<(f64, (u16, Terms))> = statistics.into_iter().zip(open).collect();
            ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.0.cmp(&b.1.0)));
            open = ranked.into_iter().take(keep).map(|(_, o)| o).collect();
        }
        let mut step: Option<(f64, Terms)> = None;
        for (_, next) in open {
            visited.push(next.clone());
            if let Some(s) = score(&next)
                && s < step.as_ref().map_or(best, |x| x.0)
            {
                step = Some((s, next));
            }
        }
        match step {
            Some((s, next)) => {
                best = s;
                current = next;
            }
            None => return visited,
        }
    }
}

/// Cells × candidate terms above which [`screened_forward_selection`] replaces
/// [`forward_selection`]: with 15 or 16 lists and pairwise terms, fitting every candidate at
/// every step means 105 to 120 fits a step over 2^15 or 2^16 cells; up to 14 lists (at most
/// 91 candidates over 2^14 cells) the plain search runs in under a minute
/// (`bench/many_lists.sh 14`, docs/benchmarks.md).
pub const SCREEN_ABOVE: usize = 2_000_000;

/// Candidate terms fitted at each step of [`screened_forward_selection`].
pub const SCREENED: usize = 5;

/// Rao's score statistic of each candidate term, added alone to a fitted model: U² / V, with
/// U = Σ (y − μ) over the cells the term covers, and V its variance given the model's own
/// parameters, z'Wz − z'WX (X'WX)⁻¹ X'Wz with W = diag(μ). Large values mark the terms whose
/// addition would lower the deviance most, without fitting them (about χ²₁ under the model).
pub fn score_statistics(
    counts: &[f64],
    t: usize,
    model: &ModelFit,
    candidates: &[u16],
) -> Vec<f64> {
    let terms = &model.terms;
    let p = terms.parameters(t);
    let rows: Vec<_> = (1..counts.len()).map(|h| design_row(h, t, terms)).collect();
    let beta = &model.fit.beta;
    let mu: Vec<f64> = rows
        .iter()
        .map(|r| r.iter().map(|&(c, x)| beta[c] * x).sum::<f64>().exp())
        .collect();
    let mut information = vec![0.0; p * p];
    for (r, m) in rows.iter().zip(&mu) {
        for &(i, xi) in r {
            for &(j, xj) in r {
                information[i * p + j] += m * xi * xj;
            }
        }
    }
    let order: Vec<usize> = (0..p).collect();
    candidates
        .iter()
        .map(|&term| {
            let term = usize::from(term);
            let (mut u, mut zwz) = (0.0, 0.0);
            let mut a = vec![0.0; p];
            for (h, (r, m)) in (1..).zip(rows.iter().zip(&mu)) {
                if h & term == term {
                    u += counts[h] - m;
                    zwz += m;
                    for &(i, xi) in r {
                        a[i] += m * xi;
                    }
                }
            }
            let Some((x, _)) = crate::linalg::pivoted_solve(&information, &a, p, &order) else {
                return 0.0;
            };
            let explained: f64 = a
                .iter()
                .zip(&x)
                .map(|(ai, xi)| ai * xi.unwrap_or(0.0))
                .sum();
            let v = zwz - explained;
            if v > 1e-9 * zwz.max(1e-300) {
                u * u / v
            } else {
                0.0
            }
        })
        .collect()
}

/// [`forward_selection`] for tables too large to fit every candidate at every step: each step
/// ranks the candidate terms by their [`score_statistics`] at the current model and fits only
/// the [`SCREENED`] with the largest; the step takes the one that lowers `score` most, and the
/// selection stops when none of them does. The models fitted are returned, as by
/// [`forward_selection`]. `fitted` gives the fit `score` made of a model it has tried, when
/// `score` keeps its fits (`None` otherwise), so that each step's current model is not fitted
/// twice.
pub fn screened_forward_selection(
    counts: &[f64],
    t: usize,
    candidates: &[u16],
    keep: usize,
    score: &dyn Fn(&Terms) -> Option<f64>,
    fitted: &dyn Fn(&Terms) -> Option<ModelFit>,
) -> Vec<Terms> {
    let screen = Screen {
        counts,
        t,
        keep,
        fitted,
    };
    select(candidates, score, Some(screen))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The score statistic of a term agrees with the drop in deviance when it is fitted (both
    /// are about χ²₁ and equal to first order), and picks the same term first.
    #[test]
    fn score_statistics_rank_terms_as_their_fits_do() {
        // Four lists; lists 0 and 1 strongly dependent, 2 and 3 mildly, the rest independent.
        let counts: Vec<f64> = (0..16usize)
            .map(|h| {
                let on = |i: usize| h & (1 << i) != 0;
                let mut c = 200.0 * 0.3f64.powi(h.count_ones() as i32);
                if on(0) == on(1) {
                    c *= 2.5;
                }
                if on(2) == on(3) {
                    c *= 1.3;
                }
                if h == 0 { 0.0 } else { c.round() }
            })
            .collect();
        let independence = fit_model(&counts, 4, &Terms::interactions(vec![])).unwrap();
        let pairs = candidate_terms(4, 2);
        let statistics = score_statistics(&counts, 4, &independence, &pairs);
        let drops: Vec<f64> = pairs
            .iter()
            .map(|&c| {
                let f = fit_model(&counts, 4, &Terms::interactions(vec![c])).unwrap();
                independence.fit.deviance - f.fit.deviance
            })
            .collect();
        let top = |v: &[f64]| {
            let mut i: Vec<usize> = (0..v.len()).collect();
            i.sort_by(|a, b| v[*b].total_cmp(&v[*a]));
            i
        };
        assert_eq!(
            top(&statistics)[0],
            top(&drops)[0],
            "{statistics:?} {drops:?}"
        );
        assert_eq!(pairs[top(&statistics)[0]], 0b0011);
        for (s, d) in statistics.iter().zip(&drops) {
            assert!((s - d).abs() <= 0.25 * d.max(1.0), "{s} against {d}");
        }
        // Screening every candidate (keep them all) walks the path of plain forward selection.
        let aic = |terms: &Terms| fit_model(&counts, 4, terms).ok().map(|f| f.aic);
        let plain = forward_selection(&pairs, &aic);
        let screened = screened_forward_selection(&counts, 4, &pairs, pairs.len(), &aic, &|_| None);
        let last = |v: &[Terms]| {
            v.iter()
                .min_by(|a, b| aic(a).unwrap().total_cmp(&aic(b).unwrap()))
                .unwrap()
                .0
                .clone()
        };
        assert_eq!(last(&plain), last(&screened));
        // Keeping two per step fits fewer models and finds the same best one here.
        let narrow = screened_forward_selection(&counts, 4, &pairs, 2, &aic, &|_| None);
        assert!(narrow.len() < plain.len());
        assert_eq!(last(&narrow), last(&plain));
        // Handing it the fits already made visits the same models.
        let known = |terms: &Terms| fit_model(&counts, 4, terms).ok();
        let cached = screened_forward_selection(&counts, 4, &pairs, 2, &aic, &known);
        assert_eq!(
            cached.iter().map(|m| &m.0).collect::<Vec<_>>(),
            narrow.iter().map(|m| &m.0).collect::<Vec<_>>()
        );
    }

    #[test]
    fn hierarchy_is_enforced() {
        assert!(Terms::interactions(vec![0b011, 0b101, 0b110, 0b111]).is_hierarchical());
        assert!(!Terms::interactions(vec![0b011, 0b111]).is_hierarchical());
        let c = candidate_terms(3, 2);
        assert_eq!(c, vec![0b011, 0b101, 0b110]);
        assert_eq!(all_hierarchical(&c, MAX_MODELS).unwrap().len(), 8);
        // Sixteen lists, the most a table may have: all 120 pairs, the last list's too.
        let pairs = candidate_terms(16, 2);
        assert_eq!(pairs.len(), 120);
        assert!(pairs.contains(&0b1100_0000_0000_0000));
        // Three-way terms need all three two-way terms.
        let c = candidate_terms(4, 3);
        assert_eq!(c.len(), 10);
        let models = all_hierarchical(&c, MAX_MODELS).unwrap();
        assert!(models.iter().all(Terms::is_hierarchical));
        assert!(models.len() > 64);
    }

    /// The numbers of hierarchical models, as a brute-force count in Python gave them: 113 for
    /// four lists up to three-list terms, 1,024, 6,212 and 6,893 for five lists up to two-,
    /// three- and four-list terms, 32,768 for six lists with pairs; and each model comes after
    /// the one without its last term, so a fit can start from that one.
    #[test]
    fn every_hierarchical_model_is_enumerated_once() {
        for (t, order, expected) in [
            (4, 3, 113),
            (5, 2, 1024),
            (5, 3, 6212),
            (5, 4, 6893),
            (6, 2, 32_768),
        ] {
            let models = all_hierarchical(&candidate_terms(t, order), MAX_MODELS).unwrap();
            assert_eq!(models.len(), expected, "{t} lists, order {order}");
            let mut seen = std::collections::HashMap::new();
            for (i, m) in models.iter().enumerate() {
                assert!(m.is_hierarchical(), "{:?}", m.0);
                assert!(seen.insert(&m.0[..], i).is_none(), "{:?} twice", m.0);
                if let Some((_, smaller)) = m.0.split_last() {
                    assert!(seen.contains_key(smaller), "{:?} before its parent", m.0);
                }
            }
        }
        // Too many: refused after `limit` models, quickly, however many lists.
        assert!(all_hierarchical(&candidate_terms(6, 3), MAX_MODELS).is_none());
        assert!(all_hierarchical(&candidate_terms(16, 2), MAX_MODELS).is_none());
        assert_eq!(
            all_hierarchical(&candidate_terms(5, 2), 1024).map(|m| m.len()),
            Some(1024)
        );
        assert!(all_hierarchical(&candidate_terms(5, 2), 1023).is_none());
    }

    #[test]
    fn independence_on_two_lists_is_lincoln_petersen() {
        // n1 = 100, n2 = 80, m = 40: LP estimate = 100 * 80 / 40 = 200.
        let counts = [0.0, 60.0, 40.0, 40.0];
        let fit = fit_model(&counts, 2, &Terms::interactions(vec![])).unwrap();
        assert!((fit.estimate - 200.0).abs() < 1e-6, "{}", fit.estimate);
        let (lo, hi) = profile_interval(&counts, 2, &Terms::interactions(vec![]), fit.estimate);
        assert!(lo < 200.0 && hi > 200.0 && lo >= 140.0, "{lo} {hi}");
    }

    /// Tens of millions of people (a registry, not a list of victims, but recuento must not
    /// break on it): a model that fits the table almost exactly has a deviance near zero, which
    /// used to stay above the convergence tolerance by rounding alone, so the fit at the
    /// profile's maximum failed and the interval came out as [people seen, about the estimate].
    /// Profile intervals shrink as 1/√people: 100 times the people, a tenth of the width.
    #[test]
    fn profile_intervals_scale_to_tens_of_millions_of_people() {
        let table = [0.0, 100.0, 80.0, 30.0, 90.0, 25.0, 20.0, 8.0];
        let terms = Terms::interactions(vec![0b011, 0b101, 0b110]);
        let widths: Vec<f64> = [1_000.0, 100_000.0]
            .iter()
            .map(|k| {
                let counts: Vec<f64> = table.iter().map(|c| c * k).collect();
                let fit = fit_model(&counts, 3, &terms).unwrap();
                // All three two-way terms: N̂ = n + n100·n010·n001·n111 / (n110·n101·n011).
                let exact = 353.0 * k + 100.0 * 80.0 * 90.0 * 8.0 / (30.0 * 25.0 * 20.0) * k;
                assert!(
                    (fit.estimate / exact - 1.0).abs() < 1e-9,
                    "{}",
                    fit.estimate
                );
                let (lo, hi) = profile_interval(&counts, 3, &terms, fit.estimate);
                assert!(lo < fit.estimate && fit.estimate < hi, "{k}: {lo} {hi}");
                (hi - lo) / k
            })
            .collect();
        let ratio = widths[0] / widths[1];
        assert!((ratio - 10.0).abs() < 0.2, "{widths:?}");
    }

    /// Gamma3.5's column, −ln(1 + k/3.5), is nearly proportional to the number of lists, so a
    /// converged fit can need a coefficient of −57 or −86 balanced by the lists' effects; such fits
    /// used to be refused, which cut the profile interval short. The ends here are those of a
    /// profile from statsmodels fits and scipy's brentq (as in bench/check_loglinear.py).
    /// A fit started from a smaller model's fit reaches the same maximum as one started from
    /// the counts.
    #[test]
    fn a_fit_from_a_smaller_models_fit_is_the_same_fit() {
        let counts: Vec<f64> = (0..16usize)
            .map(|h| {
                let on = |i: usize| h & (1 << i) != 0;
                let mut c = 300.0 * 0.35f64.powi(h.count_ones() as i32);
                if on(0) == on(1) {
                    c *= 2.0;
                }
                if h == 0 { 0.0 } else { c.round() }
            })
            .collect();
        let smaller = fit_model(&counts, 4, &Terms::interactions(vec![0b0011])).unwrap();
        for term in [0b0101, 0b1100, 0b0110] {
            let terms = Terms::interactions(vec![0b0011, term]);
            let cold = fit_model(&counts, 4, &terms).unwrap();
            let warm = fit_model_from(&counts, 4, &terms, Some(&smaller)).unwrap();
            assert!(
                (warm.fit.deviance - cold.fit.deviance).abs() < 1e-9,
                "{} {}",
                warm.fit.deviance,
                cold.fit.deviance
            );
            assert!((warm.estimate / cold.estimate - 1.0).abs() < 1e-10);
            for (a, b) in warm.fit.fitted.iter().zip(&cold.fit.fitted) {
                assert!((a - b).abs() < 1e-8 * b.max(1.0), "{a} {b}");
            }
        }
    }

    /// Fitting each model from its parent's fit ([`fit_all`]) must find what fitting it from the
    /// counts finds, on sparse tables too, where a parent's cells fitted as zero start the
    /// child on the edge: the same models fitted or refused, the same estimates and AIC.
    #[test]
    fn models_fitted_from_their_parents_agree_with_fits_from_the_counts() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20);
        let mut compared = 0;
        for table in 0..24 {
            let (t, order) = if table % 2 == 0 { (4, 3) } else { (5, 2) };
            let scale = [3.0, 30.0, 3000.0][table % 3];
            let empty = [0.0, 0.3, 0.6][(table / 3) % 3];
            let mut counts: Vec<f64> = (0..1usize << t)
                .map(|h| {
                    if h == 0 || rng.random::<f64>() < empty {
                        0.0
                    } else {
                        (scale * rng.random::<f64>() / f64::from(h.count_ones())).round()
                    }
                })
                .collect();
            counts[1] += 1.0;
            let models = all_hierarchical(&candidate_terms(t, order), MAX_MODELS).unwrap();
            for (terms, warm) in models.iter().zip(fit_all(&counts, t, &models)) {
                let cold = fit_model(&counts, t, terms);
                match (&warm, &cold) {
                    (Ok(w), Ok(c)) => {
                        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
                        assert!(
                            close(w.estimate, c.estimate) && close(w.aic, c.aic),
                            "table {table}, {:?}: {} and AIC {} from the parent, {} and {} from the counts",
                            terms.0,
                            w.estimate,
                            w.aic,
                            c.estimate,
                            c.aic
                        );
                        compared += 1;
                    }
                    (Err(w), Err(c)) => assert_eq!(w, c, "table {table}, {:?}", terms.0),
                    _ => panic!(
                        "table {table}, {:?}: {:?} from the parent, {:?} from the counts",
                        terms.0,
                        warm.as_ref().map(|f| f.estimate),
                        cold.as_ref().map(|f| f.estimate)
                    ),
                }
            }
        }
        assert!(compared > 5000, "{compared}");
    }

    #[test]
    fn large_coefficients_of_a_converged_fit_are_accepted() {
        let counts = [0.0, 50.0, 40.0, 10.0, 30.0, 5.0, 4.0, 2.0];
        let terms = Terms(vec![], Some(Heterogeneity::Gamma35), ListEffects::PerList);
        // Inside the profile, at 150 people the Gamma coefficient of the complete table is −57.
        assert!(profile_log_likelihood(&counts, 3, &terms, 150.0).is_some());
        let fit = fit_model(&counts, 3, &terms).unwrap();
        let (lo, hi) = profile_interval(&counts, 3, &terms, fit.estimate);
        assert!((lo / 149.733_877_628_874_1 - 1.0).abs() < 1e-6, "{lo}");
        assert!((hi / 10_437.492_327_558_84 - 1.0).abs() < 1e-6, "{hi}");
    }

    /// An empty cell whose fitted value passes below 1e-8 on the way to the fit but not at it
    /// is not on the boundary: taken out early, the rest fitted better than the model allows
    /// and the profile interval (39,533–39,552) missed the estimate (40,767). The profile
    /// values here are statsmodels' (bench/check_loglinear.py fits the same table).
    #[test]
    fn empty_cells_leave_the_fit_only_once_it_has_settled() {
        let counts: Vec<f64> = [
            0, 18610, 0, 323, 0, 0, 4080, 0, 0, 0, 0, 0, 0, 2175, 2190, 0,
        ]
        .iter()
        .map(|&x| f64::from(x))
        .collect();
        let terms = Terms(vec![], Some(Heterogeneity::Poisson2), ListEffects::PerList);
        let ll = profile_log_likelihood(&counts, 4, &terms, 39_540.0).unwrap();
        assert!((ll - 198_420.216_314_776_45).abs() < 1e-6, "{ll}");
        let fit = fit_model(&counts, 4, &terms).unwrap();
        let (lo, hi) = profile_interval(&counts, 4, &terms, fit.estimate);
        assert!(
            lo < fit.estimate && fit.estimate < hi,
            "{lo} {} {hi}",
            fit.estimate
        );
    }

    /// A model that fits badly has a deviance in the millions, which stops changing to 1e-10 of
    /// itself while empty cells are still on their way to zero (1e-5 here): the fit then
    /// stopped there, and the people on no list were read off an intercept halfway along its
    /// run (2,290,018 for a table of 2,257,754 people). Fitted values must settle too; here the
    /// unseen then go to zero with the empty cells, and the model has no estimate.
    #[test]
    fn empty_cells_on_their_way_to_zero_keep_the_fit_going() {
        let mut counts = vec![0.0; 16];
        (counts[5], counts[8]) = (31_022.0, 2_226_732.0);
        let terms = Terms(vec![], Some(Heterogeneity::Poisson2), ListEffects::Shared);
        assert!(fit_model(&counts, 4, &terms).is_err());
    }

    #[test]
    fn models_are_read_back_from_their_description() {
        let lists: Vec<String> = ["ong", "prensa", "familias", "legal"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let t = Terms::parse("independence + ong:prensa + prensa:familias", &lists).unwrap();
        assert_eq!(
            t.describe(&lists),
            "independence + ong:prensa + prensa:familias"
        );
        let t = Terms::parse("Mth Darroch + ong:legal", &lists).unwrap();
        assert_eq!(t.1, Some(Heterogeneity::Darroch));
        for name in ["M0", "Mh Darroch", "Mh Chao (LB)"] {
            let t = Terms::parse(name, &lists).unwrap();
            assert_eq!(t.2, ListEffects::Shared);
            assert_eq!(t.describe(&lists), name);
            assert_eq!(t.parameters(4), 2 + t.1.map_or(0, |h| h.columns(4)));
        }
        assert!(
            Terms::parse("Mh Darroch + ong:legal", &lists)
                .unwrap_err()
                .contains("share one effect")
        );
        assert_eq!(
            Terms::parse("ong:prensa:familias", &lists).unwrap_err(),
            "the model 'ong:prensa:familias' is not hierarchical: a term of three or more lists needs every term of one list fewer inside it"
        );
        assert!(
            Terms::parse("ong:iglesia", &lists)
                .unwrap_err()
                .contains("'iglesia'")
        );
        assert!(
            Terms::parse("ong", &lists)
                .unwrap_err()
                .contains("not an interaction")
        );
        assert!(
            Terms::parse("ong:prensa:familias:legal", &lists)
                .unwrap_err()
                .contains("every list")
        );
    }

    #[test]
    fn empty_margin_is_detected() {
        // Lists 1 and 2 never overlap: the 1:2 interaction is not estimable.
        let counts = [0.0, 10.0, 10.0, 0.0, 10.0, 5.0, 5.0, 0.0];
        assert_eq!(
            fit_model(&counts, 3, &Terms::interactions(vec![0b011])).unwrap_err(),
            FitProblem::EmptyMargin(0b011)
        );
    }
}
