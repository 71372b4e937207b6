#!/usr/bin/env python3
"""Property test of `recuento estimate --histories --json` on random capture-history tables.

Draws tables of 2 to 6 lists with cell counts from 1 to about a million people and up to 80% of
cells empty (often far from any model: lists that barely overlap, one cell holding nearly
everyone), runs recuento on each (a third of them with the latent-class model, a fifth with
--sensitivity), and checks what must hold whatever the table: recuento exits cleanly or refuses
in words, never panics; its JSON parses; every estimate without a number says why; every number
is finite, at least the people seen, and inside its own interval, whose lower end is at least
the people seen. Prints each violation and a summary line; exits 1 if there is any.

Usage: bench/property_estimate.sh [SEED] [TABLES]   (defaults 1 and 300; about 2 minutes)
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
            with open(path, "w") as f:
                f.write(",".join(f"l{j}" for j in range(t)) + ",count\n")
                for h in range(1, 1 << t):
                    f.write(",".join(str(h >> j & 1) for j in range(t)) + f",{counts[h]}\n")
            args = [binary, "estimate", "--histories", path, "--json"]
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
