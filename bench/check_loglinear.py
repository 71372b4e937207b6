#!/usr/bin/env python3
"""Cross-checks recuento's log-linear fits against an independent implementation.

For several simulated capture-history tables (3 to 6 lists, independent and dependent lists) and
three published ones (Darroch et al. 1993; Bruno et al. 1994; Cormack, Chang & Smith 2000, whose
best model by AIC has empty cells fitted as zero, an estimate on the boundary), runs `recuento estimate --histories FILE --json`, takes every model it reports with fitted
cells (the best hierarchical model, the Mth heterogeneity models and Chao's lower bound, whose
columns are (k - j)+ for the knots j = 2 .. t-1 it kept, and M0 and the Mh models, whose lists
share one column k, the number of lists a pattern is on), refits the same Poisson
log-linear model with statsmodels' GLM (IRLS in numpy), and compares the fitted value of every
observed cell, the residual deviance and the unseen count. Then the 95% profile-likelihood
interval of each model: the multinomial profile log-likelihood of N from statsmodels fits of the
complete table (the unseen cell set to N - n), maximised with scipy's bounded Brent search and
cut at the chi-square drop with scipy's brentq, with recuento's rule for an unbounded upper end
(no drop before 1,000 times the people seen). And every model recuento refuses ("cannot be
fitted") on a table with no empty cell, where the maximum-likelihood fit always exists, is
refitted: a refusal there counts as a failure. Last, the headline, `loglinear-averaged`: every
hierarchical model with two-list terms refitted with statsmodels, weighted by AIC, the
unconditional standard error of Buckland, Burnham & Augustin (1997) from each model's variance
(the Poisson variance of the unseen plus the delta-method variance of exp(intercept), from
statsmodels' covariance) and Chao's log-normal interval, compared with recuento's. Prints a table; exits 1 if any relative
difference exceeds 1e-6 or a model is refused that statsmodels fits.

Usage: bench/check_loglinear.sh (sets up statsmodels in a virtual environment and runs this).
"""
import random
import re
import sys
import tempfile
import warnings

import numpy as np
import statsmodels.api as sm
from scipy.optimize import brentq, minimize_scalar
from scipy.special import gammaln

import tables

BIN = sys.argv[1]
TOL = 1e-6


def simulate(seed, t, n, dependent):
    """Lists with capture probabilities drawn from 0.15-0.45; with `dependent`, list 2 lists
    people on list 1 2.5 times as often."""
    probs = random.Random(seed).uniform
    chances = [probs(0.15, 0.45) for _ in range(t)]

    def probability(rng, j, h):
        return min(0.9, chances[j] * 2.5) if dependent and j == 1 and h & 1 else chances[j]
    return tables.simulate(seed + 1000, t, n, probability)


CHI2_95 = 3.841458820694124


def poisson(X, y):
    return sm.GLM(np.array(y, float), np.array(X, float), family=sm.families.Poisson()).fit(tol=1e-13, maxiter=500)


class Extended:
    """The maximum-likelihood fit, also when it lies on the edge of the parameter space (an
    extended MLE, Fienberg & Rinaldo 2012): IRLS on every cell creeps towards that edge only
    slowly (statsmodels' unseen count of one sparse table falls from 0.0025 to 0.0009 between
    100 and 10,000 iterations, towards 0), so empty cells that the full fit drives below 1e-3
    are set to zero and the rest refitted without them, whose fit is then exact."""

    def __init__(self, X, y):
        X, y = np.array(X, float), np.array(y, float)
        full = poisson(X, y)
        keep = ~((y == 0) & (full.fittedvalues < 1e-3))
        fit = full if keep.all() else poisson(X[keep], y[keep])
        self.fitted = np.zeros(len(y))
        self.fitted[keep] = fit.fittedvalues
        self.deviance = fit.deviance
        self.llf = fit.llf
        # The unseen count, exp(intercept), comes from the cells left only if they determine
        # the intercept. Otherwise it moves with the empty cells towards the edge, where it is
        # zero in the limit, and the full fit's (creeping) value is the one to compare.
        e0 = np.eye(X.shape[1])[0]
        rank = np.linalg.matrix_rank
        self.unseen_on_edge = not keep.all() and rank(np.vstack([X[keep], e0])) > rank(X[keep])
        source = full if self.unseen_on_edge else fit
        self.params = source.params
        self.var_intercept = float(source.cov_params()[0, 0])


def profile_interval(design, counts, t, point):
    """The 95% profile-likelihood interval of N, computed independently of recuento: each
    profile value from a statsmodels fit of the complete table, the unseen cell set to N - n."""
    observed = float(sum(counts[1:]))
    X = [design(h) for h in range(1 << t)]

    def ll(n_total):
        y = [n_total - observed] + [float(c) for c in counts[1:]]
        m = Extended(X, y).fitted
        total = m.sum()
        return gammaln(n_total + 1) - gammaln(n_total - observed + 1) + sum(
            yi * np.log(mi / total) for yi, mi in zip(y, m) if yi > 0)

    cap = max(point * 4.0, observed * 2.0 + 50.0)
    best = minimize_scalar(lambda n: -ll(n), bounds=(observed, cap), method="bounded",
                           options={"xatol": 1e-7})
    n_max = best.x
    l_max = max(-best.fun, ll(observed))

    def drop(n):
        return 2.0 * (l_max - ll(n)) - CHI2_95
    lower = observed if drop(observed) <= 0 else brentq(drop, observed, n_max, xtol=1e-9)
    hi = max(n_max, observed + 1.0) * 1.5 + 10.0
    while drop(hi) < 0:
        hi = n_max + (hi - n_max) * 2.0
        if hi > observed * 1000.0 + 1e5:
            return lower, float("inf")
    return lower, brentq(drop, n_max, hi, xtol=1e-9)


def relative(ours, theirs):
    if ours is None:
        ours = float("inf")
    if np.isinf(ours) and np.isinf(theirs):
        return 0.0
    return abs(ours - theirs) / abs(theirs)


def averaged(counts, t):
    """The AIC-weighted average of every hierarchical model with two-list terms, its
    unconditional standard error (Buckland et al. 1997) and Chao's (1987) log-normal interval,
    from statsmodels fits (models whose unseen count runs past 1,000 times the people seen, or
    is not determined by the cells fitted, are left out, as recuento leaves them out)."""
    observed = float(sum(counts[1:]))
    cells = list(range(1, 1 << t))
    y = [counts[h] for h in cells]
    pairs = [(a, b) for a in range(t) for b in range(a + 1, t)]
    fits = []
    for mask in range(1 << len(pairs)):
        terms = [pairs[i] for i in range(len(pairs)) if mask >> i & 1]
        X = [[1.0] + [float(h >> j & 1) for j in range(t)] + [float(h >> a & 1 and h >> b & 1) for a, b in terms]
             for h in cells]
        fit = Extended(X, y)
        missing = float(np.exp(fit.params[0]))
        # A model whose unseen count is on the edge (the cells it fits do not determine it)
        # has no estimate, in recuento as in Fienberg & Rinaldo (2012).
        if fit.unseen_on_edge or not np.isfinite(missing) or missing >= 1000 * observed:
            continue
        aic = -2.0 * fit.llf + 2.0 * len(X[0])
        variance = missing + missing ** 2 * fit.var_intercept
        fits.append((aic, observed + missing, variance))
    best = min(f[0] for f in fits)
    raw = [np.exp(-0.5 * (f[0] - best)) for f in fits]
    weights = [w / sum(raw) for w in raw]
    avg = sum(w * f[1] for w, f in zip(weights, fits))
    se = sum(w * np.sqrt(f[2] + (f[1] - avg) ** 2) for w, f in zip(weights, fits))
    f0 = avg - observed
    c = np.exp(1.96 * np.sqrt(np.log(1.0 + se * se / (f0 * f0))))
    return len(fits), avg, observed + f0 / c, observed + f0 * c


def main():
    # Cells fitted as empty make statsmodels warn of perfect separation; that is the boundary
    # fit the table compares, not a problem.
    warnings.simplefilter("ignore")
    rows = []
    refused = []
    averages = []
    worst = 0.0
    cases = [(s, t, n, d) for s, (t, n, d) in enumerate(
        [(3, 800, False), (3, 1500, True), (4, 2000, False), (4, 3000, True), (5, 2500, False), (5, 4000, True), (5, 300, False), (4, 150, True),
         # Six lists: recuento averages every one of the 2^15 pairwise models (since the
         # twentieth session; forward selection's before), and so does `averaged` below.
         (6, 3000, True)])]
    checked = [(t, n, "yes" if d else "no", simulate(s, t, n, d)) for s, t, n, d in cases]
    for source, t, counts in (tables.DARROCH, tables.BRUNO, tables.CORMACK):
        checked.append((t, sum(counts), source, counts))
    # Two that broke recuento's profile intervals before the fifteenth session: three lists
    # whose people differ strongly in visibility (Gamma3.5 needs a coefficient near -90), and
    # Darroch et al.'s table with 100,000 times the people (a deviance near zero).
    checked.append((3, 500, "visibility classes", simulate_classes(99, 3, 500)))
    big = [c * 100_000 for c in tables.DARROCH[2]]
    checked.append((3, sum(big), "Darroch et al. 1993 x 100,000", big))
    # A sparse table from a fuzz test: Mth Poisson2's empty cells pass below 1e-8 on the way to
    # the fit, and were taken out too early before the fifteenth session.
    sparse = [0, 18610, 0, 323, 0, 0, 4080, 0, 0, 0, 0, 0, 0, 2175, 2190, 0]
    checked.append((4, sum(sparse), "sparse, 9 empty cells", sparse))
    with tempfile.TemporaryDirectory() as tmp:
        for seed, (t, n, dependent, counts) in enumerate(checked):
            names = [f"l{j + 1}" for j in range(t)]
            for est in tables.estimate(BIN, tmp, f"h{seed}", t, counts):
                parts = est["model"].split(" + ")
                # M0 and the Mh models give every list one shared effect: a column k.
                shared = parts[0] == "M0" or parts[0].startswith("Mh ")
                form = parts[0].replace("Mh ", "Mth ", 1)
                het = {
                    "Mth Poisson2": lambda k: [2.0 ** k - 1.0],
                    "Mth Darroch": lambda k: [k * k / 2.0],
                    "Mth Gamma3.5": lambda k: [-np.log(3.5 + k) + np.log(3.5)],
                }.get(form)
                if form == "Mth Chao (LB)":
                    # Knots whose coefficient came out negative were dropped; the warnings say which.
                    said = re.findall(r"more than ([\d, and]+) lists had (?:a )?negative", " ".join(est["warnings"]))
                    dropped = {int(m) for knots in said for m in re.findall(r"\d+", knots)}
                    knots = [j for j in range(2, t) if j not in dropped]
                    het = lambda k, knots=knots: [float(max(k - j, 0)) for j in knots]
                terms = [[names.index(x) for x in part.split(":")] for part in parts[1:]]

                def design(h, terms=terms, shared=shared, het=het):
                    bits = [h >> j & 1 for j in range(t)]
                    lists = [float(sum(bits))] if shared else [float(b) for b in bits]
                    row = [1.0] + lists + [float(all(bits[j] for j in term)) for term in terms]
                    if het:
                        row.extend(het(sum(bits)))
                    return row
                observed_cells = [h for h in range(1, 1 << t)]
                if est["method"] == "loglinear-averaged":
                    models, avg, lower, upper = averaged(counts, t)
                    diffs = [relative(est[k], v) for k, v in (("estimate", avg), ("lower", lower), ("upper", upper))]
                    worst = max(worst, *diffs)
                    averages.append((t, n, dependent, est["model"], models, avg, lower, upper, max(diffs)))
                    continue
                if not est.get("cells"):
                    # A refusal: where no cell is empty the fit exists, so refit it.
                    if est["method"] == "loglinear-heterogeneity" and all(counts[h] > 0 for h in observed_cells):
                        fit = poisson([design(h) for h in observed_cells], [counts[h] for h in observed_cells])
                        unseen = float(np.exp(fit.params[0]))
                        if np.isfinite(unseen) and unseen < 1000 * sum(counts):
                            refused.append((t, n, dependent, est["model"], unseen))
                    continue
                X = [design(h) for h in observed_cells]
                y = [cell["observed"] for cell in est["cells"]]
                fit = Extended(X, y)
                ours = np.array([c["fitted"] for c in est["cells"]])
                # Relative, or absolute below one person.
                rel_fit = float(np.max(np.abs(ours - fit.fitted) / np.maximum(fit.fitted, 1.0)))
                dev_ours = est["deviance"][0]
                # Relative, or absolute below 1: a saturated model's deviance is zero up to
                # rounding, and rounding has no relative size.
                rel_dev = abs(dev_ours - fit.deviance) / max(abs(fit.deviance), 1.0)
                missing_sm = float(np.exp(fit.params[0]))
                missing_ours = est["estimate"] - est["observed"]
                if fit.unseen_on_edge and missing_ours < 1e-6 and missing_sm < 1e-2:
                    # Zero in the limit: recuento reaches it, IRLS in statsmodels creeps there.
                    rel_n = 0.0
                else:
                    rel_n = abs(missing_ours - missing_sm) / max(missing_sm, 1.0)
                lower, upper = profile_interval(design, counts, t, est["observed"] + missing_sm)
                rel_lo = relative(est["lower"], lower)
                rel_hi = relative(est["upper"], upper)
                worst = max(worst, rel_fit, rel_dev, rel_n, rel_lo, rel_hi)
                rows.append((t, n, dependent, est["model"], rel_fit, dev_ours, fit.deviance, rel_dev, rel_n,
                             lower, upper, rel_lo, rel_hi))
    print("| lists | people | dependent (or source) | model (best by AIC, the Mth models and Chao's LB, M0 and the Mh models) "
          "| max rel. diff fitted | deviance recuento | deviance statsmodels | rel. diff deviance | rel. diff unseen "
          "| profile interval (statsmodels) | rel. diff lower, upper |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:,} | {r[2]} | {r[3]} | {r[4]:.1e} | {r[5]:.8f} | {r[6]:.8f} | {r[7]:.1e} | {r[8]:.1e} "
              f"| {r[9]:,.2f} – {r[10]:,.2f} | {r[11]:.1e}, {r[12]:.1e} |")
    print("\n| lists | people | dependent (or source) | recuento's average | models (statsmodels) | average and 95% interval (statsmodels) | max rel. diff |")
    print("|---|---|---|---|---|---|---|")
    for r in averages:
        print(f"| {r[0]} | {r[1]:,} | {r[2]} | {r[3]} | {r[4]} | {r[5]:,.2f} [{r[6]:,.2f}, {r[7]:,.2f}] | {r[8]:.1e} |")
    print(f"\nworst relative difference: {worst:.1e} (tolerance {TOL:.0e}) over {len(rows)} models and {len(averages)} averages")
    for t, n, dependent, model, unseen in refused:
        print(f"REFUSED by recuento, fitted by statsmodels: {t} lists, {n:,} people ({dependent}), {model}: {unseen:,.1f} unseen")
    print(f"models refused by recuento on tables without empty cells that statsmodels fits: {len(refused)}")
    sys.exit(0 if worst <= TOL and not refused else 1)


def simulate_classes(seed, t, people):
    """Two classes of visibility: a third of the people on each list with chance 0.6, the rest
    with chance 0.08."""
    def probability(rng, j, h, state={}):
        if j == 0:
            state["p"] = 0.6 if rng.random() < 1 / 3 else 0.08
        return state["p"]
    return tables.simulate(seed, t, people, probability)


if __name__ == "__main__":
    main()
