#!/usr/bin/env python3
"""Property test of `recuento estimate --histories --json` on random capture-history tables.

Draws tables of 2 to 6 lists with cell counts from 1 to about a million people and up to 80% of
cells empty (often far from any model: lists that barely overlap, one cell holding nearly
everyone), runs recuento on each (a third of them with the latent-class model, a fifth with
--sensitivity, a quarter split into 2 to 4 strata, some of those with a minimum count per list),
and checks what must hold whatever the table: recuento exits cleanly or refuses in words, never
panics; its JSON parses; every estimate without a number says why; every warning is said in
Spanish too; every number is finite, at least the people seen, and inside its own interval,
whose lower end is at least the people seen. Prints each violation and a summary line; exits 1
if there is any.

Usage: bench/property_estimate.sh [SEED] [TABLES]   (defaults 1 and 300; about 5 minutes: six-list tables average 32,768 models each)
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile


def table(rng):
    t = rng.choice([2, 3, 3, 4, 4, 5, 6])
    scale = rng.choice([1, 3, 10, 50, 300, 5000, 10 ** 6])
    empty = rng.choice([0, 0.2, 0.5, 0.8])
    counts = [0] * (1 << t)
    for h in range(1, 1 << t):
        if rng.random() >= empty:
            shrink = 0.5 ** (bin(h).count("1") - 1) if rng.random() < 0.7 else 1
            counts[h] = int(rng.expovariate(1 / scale) * shrink)
    return t, counts


def main():
    binary = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    tables = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    rng = random.Random(seed)
    violations = refused = estimates = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(tables):
            t, counts = table(rng)
            path = os.path.join(tmp, f"t{case}.csv")
            # A quarter of the tables are split at random into strata.
            strata = rng.choice([2, 3, 4]) if rng.random() < 0.25 else 1
            place = (lambda k: f"p{k},") if strata > 1 else (lambda k: "")
            with open(path, "w") as f:
                f.write(place(0) and "place,")
                f.write(",".join(f"l{j}" for j in range(t)) + ",count\n")
                for h in range(1, 1 << t):
                    shares = [rng.random() for _ in range(strata)]
                    left = counts[h]
                    for k in range(strata):
                        n = left if k == strata - 1 else int(counts[h] * shares[k] / sum(shares))
                        left -= n
                        f.write(place(k) + ",".join(str(h >> j & 1) for j in range(t)) + f",{n}\n")
            args = [binary, "estimate", "--histories", path, "--json"]
            if strata > 1:
                args += ["--strata", "place"]
                if rng.random() < 0.5:
                    args += ["--min-list-count", str(rng.choice([2, 10, 100]))]
            if rng.random() < 0.3:
                args += ["--lcmcr", "--sweeps", "2000"]
            if rng.random() < 0.2:
                args += ["--sensitivity"]
            run = subprocess.run(args, capture_output=True, text=True, timeout=600)

            def report(what):
                nonlocal violations
                violations += 1
                print(f"table {case} ({t} lists, counts {counts}): {what}")
            if run.returncode != 0:
                refused += 1
                if "panicked" in run.stderr or not run.stderr.strip().startswith("error:"):
                    report(f"exit {run.returncode}: {run.stderr.strip()[-300:]}")
                continue
            try:
                results = json.loads(run.stdout)
            except json.JSONDecodeError:
                report(f"output is not JSON: {run.stdout[:200]}")
                continue
            for e in results:
                x, lo, hi, seen = e.get("estimate"), e.get("lower"), e.get("upper"), e["observed"]
                where = f"{e['stratum']} {e['method']} ({e['model']})"
                spanish = e.get("warnings_es", [])
                if len(spanish) != len(e["warnings"]) or any(
                        en == es for en, es in zip(e["warnings"], spanish)):
                    report(f"{where}: warnings not all in Spanish")
                if x is None:
                    if not e["warnings"]:
                        report(f"{where}: no estimate and no reason")
                    continue
                estimates += 1
                slack = 1e-6 * max(1.0, x)
                if not math.isfinite(x) or x < seen - slack:
                    report(f"{where}: estimate {x} against {seen} seen")
                if lo is not None and (lo > x + slack or lo < seen - slack):
                    report(f"{where}: lower end {lo}, estimate {x}, {seen} seen")
                if hi is not None and hi < x - slack:
                    report(f"{where}: upper end {hi} below the estimate {x}")
    print(f"{tables} tables (seed {seed}): {estimates} estimates checked, {refused} tables refused "
          f"in words, {violations} violations")
    sys.exit(1 if violations else 0)


if __name__ == "__main__":
    main()
