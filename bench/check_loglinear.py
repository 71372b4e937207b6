#!/usr/bin/env python3
"""Cross-checks recuento's log-linear fits against an independent implementation.

For several simulated capture-history tables (3 to 5 lists, independent and dependent lists) and
three published ones (Darroch et al. 1993; Bruno et al. 1994; Cormack, Chang & Smith 2000, whose
best model by AIC has empty cells fitted as zero, an estimate on the boundary), runs `recuento estimate --histories FILE --json`, takes every model it reports with fitted
cells (the best hierarchical model, the Mth heterogeneity models and Chao's lower bound, whose
columns are (k - j)+ for the knots j = 2 .. t-1 it kept, and M0 and the Mh models, whose lists
share one column k, the number of lists a pattern is on), refits the same Poisson
log-linear model with statsmodels' GLM (IRLS in numpy), and compares the fitted value of every
observed cell, the residual deviance and the unseen count. Prints a table; exits 1 if any relative
difference exceeds 1e-6.

Usage: bench/check_loglinear.sh (sets up statsmodels in a virtual environment and runs this).
"""
import random
import re
import sys
import tempfile

import numpy as np
import statsmodels.api as sm

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


def main():
    rows = []
    worst = 0.0
    cases = [(s, t, n, d) for s, (t, n, d) in enumerate(
        [(3, 800, False), (3, 1500, True), (4, 2000, False), (4, 3000, True), (5, 2500, False), (5, 4000, True)])]
    checked = [(t, n, "yes" if d else "no", simulate(s, t, n, d)) for s, t, n, d in cases]
    for source, t, counts in (tables.DARROCH, tables.BRUNO, tables.CORMACK):
        checked.append((t, sum(counts), source, counts))
    with tempfile.TemporaryDirectory() as tmp:
        for seed, (t, n, dependent, counts) in enumerate(checked):
            names = [f"l{j + 1}" for j in range(t)]
            for est in tables.estimate(BIN, tmp, f"h{seed}", t, counts):
                if not est.get("cells"):
                    continue
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
                X, y = [], []
                for cell in est["cells"]:
                    bits = [int(ch) for ch in cell["pattern"]]
                    lists = [float(sum(bits))] if shared else [float(b) for b in bits]
                    row = [1.0] + lists + [float(all(bits[j] for j in term)) for term in terms]
                    if het:
                        row.extend(het(sum(bits)))
                    X.append(row)
                    y.append(cell["observed"])
                fit = sm.GLM(np.array(y, float), np.array(X), family=sm.families.Poisson()).fit(tol=1e-13, maxiter=200)
                ours = np.array([c["fitted"] for c in est["cells"]])
                # Cells fitted as empty (the boundary) are zero in recuento and vanishing in
                # statsmodels, whose coefficients run off as far as its tolerance lets them.
                rel_fit = float(np.max(np.where(
                    (ours == 0) & (fit.fittedvalues < 1e-6), 0.0,
                    np.abs(ours - fit.fittedvalues) / np.maximum(fit.fittedvalues, 1e-12))))
                dev_ours = est["deviance"][0]
                rel_dev = abs(dev_ours - fit.deviance) / max(abs(fit.deviance), 1e-12)
                missing_sm = float(np.exp(fit.params[0]))
                rel_n = abs((est["estimate"] - est["observed"]) - missing_sm) / missing_sm
                worst = max(worst, rel_fit, rel_dev, rel_n)
                rows.append((t, n, dependent, est["model"], rel_fit, dev_ours, fit.deviance, rel_dev, rel_n))
    print("| lists | people | dependent (or published source) | model (best by AIC, the Mth models and Chao's LB, M0 and the Mh models) | max rel. diff fitted | deviance recuento | deviance statsmodels | rel. diff deviance | rel. diff unseen |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.1e} | {r[5]:.8f} | {r[6]:.8f} | {r[7]:.1e} | {r[8]:.1e} |")
    print(f"\nworst relative difference: {worst:.1e} (tolerance {TOL:.0e})")
    sys.exit(0 if worst <= TOL else 1)


if __name__ == "__main__":
    main()
