#!/usr/bin/env python3
"""Cross-checks recuento's latent-class model against the LCMCR package's own Gibbs sampler.

R is not on this machine, so this re-implements, in numpy and independently of recuento's code,
the sweep of LCMCR's C++ sampler (`NPLCM_CR_Basic_Freq.cpp`, Manrique-Vallier 2016): class
counts per observed capture pattern drawn from a multinomial; capture probabilities from
Beta(1 + captured, 1 + missed) counting the unseen; stick-breaking weights from their Beta
posteriors; the number of people on no list from a negative binomial (the 1/N prior); their
classes from a multinomial; and the concentration alpha from its Gamma(a + K - 1, b - log nu_K)
posterior, with K = 10 and a = b = 0.25. It has none of recuento's extra moves (ridge and
visibility), so agreement checks that recuento samples LCMCR's posterior, not merely its own.

For each table it runs `recuento estimate --histories FILE --lcmcr --sweeps 500000 --seed 1
--json` and compares the posterior median and 2.5%/97.5% quantiles of N with this sampler's (two
chains, 10,000 sweeps of burn-in, then 100,000 kept, as long as LCMCR's examples run, or
1,000,000 for the table that mixes slowly). The medians must agree within
four Monte Carlo standard errors (from each side's effective sample size); the quantiles are
shown. Prints a table; exits 1 when a median does not agree.

Usage: bench/check_lcmcr.sh (sets up numpy in a virtual environment and runs this; about
four minutes).
"""
import sys
import tempfile

import numpy as np

import tables

BIN = sys.argv[1]
K = 10
A_ALPHA = B_ALPHA = 0.25


def log_gamma_variate(rng, shape):
    """log of Gamma(shape, 1) variates, also for shapes far below 1 (G(a) = G(a + 1) U^(1/a))."""
    shape = np.asarray(shape, dtype=float)
    small = shape < 1
    out = np.log(rng.gamma(np.where(small, shape + 1, shape)))
    return out + np.where(small, np.log(rng.random(shape.shape)) / np.where(small, shape, 1), 0.0)


def sweep_chain(rng, patterns, freq, t, burn_in, samples):
    """One LCMCR chain; returns the kept draws of N."""
    n = int(freq.sum())
    bits = ((patterns[:, None] >> np.arange(t)) & 1).astype(float)  # cells x lists
    # LCMCR's start: capture probabilities at each list's share, weights mostly on four classes.
    lam = np.tile((bits * freq[:, None]).sum(0)[:, None] / n, (1, K))  # lists x classes
    nu = np.full(K, 0.1 / (K - 4))
    nu[:4] = 0.25 * 0.9
    alpha = 0.3 / K
    n0, count0 = 0, np.zeros(K)
    out = []
    for it in range(burn_in + samples):
        # Classes of the people seen, per capture pattern.
        like = np.exp(bits @ np.log(lam) + (1 - bits) @ np.log1p(-lam)) * nu  # cells x classes
        like /= like.sum(1, keepdims=True)
        zc = rng.multinomial(freq, like)  # cells x classes
        # Capture probabilities, with the unseen (never captured) in each class.
        captured = bits.T @ zc  # lists x classes
        total = zc.sum(0) + count0
        lam = rng.beta(1 + captured, 1 + total[None, :] - captured)
        lam = np.clip(lam, 1e-300, 1 - 1e-16)
        # Stick-breaking weights from Beta(1 + n_k, alpha + people in later classes), drawn as
        # LCMCR does, through the logs of two Gamma variates, which stays finite when alpha and
        # the later classes are tiny.
        after = n + n0 - np.cumsum(total)
        g1 = log_gamma_variate(rng, 1 + total[:-1])
        g2 = log_gamma_variate(rng, alpha + after[:-1])
        both = np.logaddexp(g1, g2)
        log_v, log_1mv = g1 - both, g2 - both
        log_nu = np.empty(K)
        log_nu[:-1] = log_v + np.concatenate(([0.0], np.cumsum(log_1mv)[:-1]))
        log_nu[K - 1] = log_1mv.sum()
        nu = np.exp(log_nu)
        # The unseen: how many (prior 1/N) and their classes.
        miss = nu * np.exp(np.log1p(-lam).sum(0))
        p0 = miss.sum()
        n0 = int(rng.negative_binomial(n, 1.0 - p0))
        count0 = rng.multinomial(n0, miss / p0)
        alpha = rng.gamma(A_ALPHA + K - 1, 1.0 / (B_ALPHA - log_nu[K - 1]))
        if it >= burn_in:
            out.append(n + n0)
    return np.array(out, dtype=float)


def ess(chains):
    """Effective sample size of the pooled draws (Geyer's initial positive sequence)."""
    total = 0.0
    for x in chains:
        x = x - x.mean()
        m = len(x)
        f = np.fft.rfft(x, 2 * m)
        acf = np.fft.irfft(f * np.conj(f))[:m] / (x.var() * m)
        s, k = 0.0, 1
        while k + 1 < m:
            pair = acf[k] + acf[k + 1]
            if pair < 0:
                break
            s += pair
            k += 2
        total += m / (1 + 2 * s)
    return total


def lcmcr(counts, t, seed, sweeps):
    patterns = np.array([h for h, c in enumerate(counts) if h and c])
    freq = np.array([c for h, c in enumerate(counts) if h and c])
    chains = [sweep_chain(np.random.default_rng(seed + c), patterns, freq, t, 10_000, sweeps) for c in range(2)]
    draws = np.concatenate(chains)
    return draws, ess(chains)


def two_classes():
    """30% of people about three times as visible to every list as the rest: each person's class
    is drawn when list 1 is."""
    high = [False]

    def probability(rng, j, h):
        if j == 0:
            high[0] = rng.random() < 0.3
        return [0.5, 0.45, 0.55, 0.5, 0.4][j] if high[0] else [0.15, 0.2, 0.12, 0.18, 0.15][j]
    return probability


TABLES = [
    # (name, lists, counts by pattern, sweeps kept per chain by the numpy sampler): the diabetes
    # table mixes slowly in both samplers (a long right tail), so it gets ten times the sweeps.
    (tables.BRUNO[0] + ", 4 lists", 4, tables.BRUNO[2], 1_000_000),
    (tables.DARROCH[0] + ", 3 lists", 3, tables.DARROCH[2], 100_000),
    ("simulated, 5 lists, two visibility classes (2,000 people)", 5, tables.simulate(3, 5, 2000, two_classes()), 100_000),
]

# Sweeps kept per chain by recuento (its `--sweeps`): ten times its default, so that its own
# Monte Carlo error is small next to the numpy sampler's.
RECUENTO_SWEEPS = 500_000


def main():
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, t, counts, sweeps) in enumerate(TABLES):
            ours = next(e for e in tables.estimate(BIN, tmp, f"t{k}", t, counts, "--lcmcr", "--sweeps",
                                                   str(RECUENTO_SWEEPS), "--seed", "1", "--no-dga")
                        if e["method"] == "lcmcr")
            draws, their_ess = lcmcr(counts, t, 1000 + k, sweeps)
            median = float(np.median(draws))
            lo, hi = np.quantile(draws, [0.025, 0.975])
            sd = float(draws.std())
            # Standard error of a median: 1.2533 sd / sqrt(ESS) for a near-normal posterior.
            se = 1.2533 * sd * np.sqrt(1 / their_ess + 1 / ours["mcmc"]["ess"])
            z = (ours["estimate"] - median) / se
            ok &= abs(z) < 4
            rows.append((name, f"{ours['estimate']:.0f} [{ours['lower']:.0f}, {ours['upper']:.0f}]", ours["mcmc"]["ess"],
                         f"{median:.0f} [{lo:.0f}, {hi:.0f}]", their_ess, z))
    print("| table | recuento: median [2.5%, 97.5%] | effective draws | LCMCR's sweep in numpy | effective draws | difference of medians / its Monte Carlo s.e. |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.0f} | {r[3]} | {r[4]:.0f} | {r[5]:+.1f} |")
    print("\nmedians agree within 4 Monte Carlo standard errors:", "yes" if ok else "NO")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
