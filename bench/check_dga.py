#!/usr/bin/env python3
"""Cross-checks recuento's average over decomposable graphs against the dga package's formula.

Re-implements, in numpy and independently of recuento's code, what the R package dga's
`bma.cr` computes (Madigan & York 1997; dga's R/bma.R, R/utils.R and src/utils.cpp): for every
decomposable graph on the lists and every number n0 = 0 .. cap of people on no list, the log
posterior

    lgamma(N + 1) - lgamma(n0 + 1) - sum lgamma(n_x + 1)          (multinomial coefficient)
    + sum over cliques C of log ML(C) - sum over separators S of log ML(S)
    - log N                                                         (the prior on N)

with log ML(A) = lgamma(alpha) - lgamma(N + alpha) + lgamma(n_{A,0} + n0 + alpha_A)
+ sum_{a != 0} lgamma(n_{A,a} + alpha_A) - 2^|A| lgamma(alpha_A), alpha = delta 2^t and
alpha_A = delta 2^(t - |A|), then normalises over graphs and n0 together. The graphs are
enumerated here from scratch (chordal graphs by simplicial elimination, maximal cliques by
brute force, separators from a maximum spanning tree of the clique graph).

For each table it runs `recuento estimate --histories FILE --json` (with `--dga-delta` where the
table's source used another delta) and compares the posterior median and the 2.5% and 97.5%
quantiles of N (the smallest N whose cumulative probability reaches each level) and the
posterior weight of every graph recuento lists. Prints a table; exits 1 if a quantile differs
by more than one person or a graph weight by more than 1e-6.

Usage: bench/check_dga.sh (sets up numpy and scipy in a virtual environment and runs this).
"""
import itertools
import sys
import tempfile

import numpy as np
from scipy.special import gammaln

import tables

BIN = sys.argv[1]


def chordal(t, adj):
    left = set(range(t))
    while left:
        for v in left:
            nb = [u for u in left if u != v and adj[v][u]]
            if all(adj[a][b] for a, b in itertools.combinations(nb, 2)):
                left.remove(v)
                break
        else:
            return False
    return True


def graphs(t):
    pairs = list(itertools.combinations(range(t), 2))
    for mask in range(1 << len(pairs)):
        adj = [[False] * t for _ in range(t)]
        for k, (i, j) in enumerate(pairs):
            if mask >> k & 1:
                adj[i][j] = adj[j][i] = True
        if not chordal(t, adj):
            continue
        cliques = [frozenset(s) for r in range(1, t + 1) for s in itertools.combinations(range(t), r)
                   if all(adj[a][b] for a, b in itertools.combinations(s, 2))]
        maximal = [c for c in cliques if not any(c < d for d in cliques)]
        # Junction tree: a maximum spanning tree of the cliques weighted by their intersections.
        edges = sorted(((len(a & b), i, j) for (i, a), (j, b) in itertools.combinations(enumerate(maximal), 2)),
                       reverse=True)
        parent = list(range(len(maximal)))

        def root(x):
            while parent[x] != x:
                x = parent[x]
            return x
        separators = []
        for w, i, j in edges:
            ri, rj = root(i), root(j)
            if ri != rj:
                parent[ri] = rj
                separators.append(maximal[i] & maximal[j])
        yield maximal, [s for s in separators if s]


def log_ml(counts, t, subset, delta, n0):
    """log ML of the margin on `subset` at every n0 (a vector)."""
    size = len(subset)
    alpha_total = delta * 2 ** t
    alpha_a = delta * 2 ** (t - size)
    margin = np.zeros(1 << size)
    for h, c in enumerate(counts):
        if h == 0:
            continue
        a = sum(1 << k for k, j in enumerate(sorted(subset)) if h >> j & 1)
        margin[a] += c
    n = sum(counts[1:])
    big_n = n + n0
    return (gammaln(alpha_total) - gammaln(big_n + alpha_total)
            + gammaln(margin[0] + n0 + alpha_a)
            + np.sum(gammaln(margin[1:] + alpha_a)) - (1 << size) * gammaln(alpha_a))


def dga(counts, t, delta):
    n = sum(counts[1:])
    cap = 20 * n + 1000
    n0 = np.arange(cap + 1, dtype=float)
    common = (gammaln(n + n0 + 1) - gammaln(n0 + 1) - sum(gammaln(c + 1) for c in counts[1:])
              - np.log(n + n0))
    cache = {}

    def ml(s):
        if s not in cache:
            cache[s] = log_ml(counts, t, s, delta, n0)
        return cache[s]
    mixture = np.zeros(cap + 1)
    ref = None
    evidences = []
    for cliques, separators in graphs(t):
        lp = common + sum(ml(c) for c in cliques) - sum((ml(s) for s in separators), np.zeros(cap + 1))
        m = lp.max()
        if ref is None:
            ref = m
        if m > ref:
            mixture *= np.exp(ref - m)
            ref = m
        p = np.exp(lp - ref)
        mixture += p
        evidences.append((frozenset(cliques), m + np.log(np.exp(lp - m).sum())))
    top = max(e for _, e in evidences)
    z = sum(np.exp(e - top) for _, e in evidences)
    weights = {g: float(np.exp(e - top) / z) for g, e in evidences}
    cdf = np.cumsum(mixture) / mixture.sum()
    q = lambda p: n + int(np.searchsorted(cdf, p))
    return q(0.5), q(0.025), q(0.975), weights


def refers(rng, j, h):
    """List 2 refers people to list 1."""
    return 0.55 if j == 1 and h & 1 else 0.2 + 0.03 * j


TABLES = [
    # (name, lists, counts by pattern (bit j = list j + 1), delta or None for recuento's 2^-t)
    (tables.MADIGAN_YORK_3[0] + " (dga's example)", 3, tables.MADIGAN_YORK_3[2], 1.0),
    (tables.MADIGAN_YORK_5[0] + " (dga's example)", 5, tables.MADIGAN_YORK_5[2], 0.5),
    (tables.BRUNO[0] + ", 4 lists", 4, tables.BRUNO[2], None),
    (tables.CORMACK[0] + ", 4 lists", 4, tables.CORMACK[2], None),
    ("simulated, 5 lists, list 2 refers to list 1", 5, tables.simulate(5, 5, 3000, refers), None),
]


def main():
    worst_q, worst_w = 0, 0.0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, t, counts, delta) in enumerate(TABLES):
            names = [f"l{j + 1}" for j in range(t)]
            used = delta if delta is not None else 2.0 ** -t
            extra = ["--dga-delta", str(delta)] if delta is not None else []
            ours = next(e for e in tables.estimate(BIN, tmp, f"t{k}", t, counts, *extra) if e["method"] == "dga")
            median, lower, upper, weights = dga(counts, t, used)
            dq = max(abs(ours["estimate"] - median), abs(ours["lower"] - lower), abs(ours["upper"] - upper))
            dw = 0.0
            for graph, weight, _ in ours["models"]:
                key = frozenset(frozenset(names.index(x) for x in clique.split(":")) for clique in graph.split(" + "))
                dw = max(dw, abs(weight - weights[key]))
            worst_q, worst_w = max(worst_q, dq), max(worst_w, dw)
            rows.append((name, used, f"{ours['estimate']:.0f} [{ours['lower']:.0f}, {ours['upper']:.0f}]",
                         f"{median} [{lower}, {upper}]", dq, len(ours["models"]), dw))
    print("| table | delta | recuento: median [2.5%, 97.5%] | dga's formula in numpy | largest difference (people) | graphs compared | largest weight difference |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:g} | {r[2]} | {r[3]} | {r[4]:.0f} | {r[5]} | {r[6]:.1e} |")
    print(f"\nworst: {worst_q:.0f} people (tolerance 1), graph weight {worst_w:.1e} (tolerance 1e-6)")
    sys.exit(0 if worst_q <= 1 and worst_w <= 1e-6 else 1)


if __name__ == "__main__":
    main()
