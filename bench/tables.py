"""Capture-history tables shared by the cross-check scripts (check_loglinear.py, check_dga.py,
check_lcmcr.py): published tables, simulated ones, and the CSV recuento reads.

Counts are lists indexed by capture pattern: bit j set when the person is on list j + 1;
index 0 (on no list) is 0.
"""
import csv
import os
import random
import subprocess


def from_histpos(t, frequencies):
    """Counts per pattern from frequencies in Rcapture's histpos.t order: every list first,
    then counting down in binary with list 1 as the highest digit."""
    counts = [0] * (1 << t)
    for row, f in enumerate(frequencies):
        binary = (1 << t) - 1 - row
        counts[sum(1 << j for j in range(t) if binary >> (t - 1 - j) & 1)] = f
    return counts


# Published tables, as Rcapture's tests and dga's examples give them.
DARROCH = ("Darroch et al. 1993", 3, from_histpos(3, [72, 155, 7, 71, 13, 53, 43]))
BRUNO = ("Bruno et al. 1994", 4, from_histpos(4, [58, 157, 18, 104, 46, 650, 12, 709, 14, 20, 7, 74, 8, 182, 10]))
CORMACK = ("Cormack et al. 2000", 4, from_histpos(4, [72, 5, 29, 53, 24, 3, 12, 14, 0, 0, 0, 1, 0, 0, 2]))
# dga's two examples (Madigan & York 1997), already in pattern order (R's array order).
MADIGAN_YORK_3 = ("Madigan & York 1997, 3 lists", 3, [0, 60, 49, 4, 247, 112, 142, 12])
MADIGAN_YORK_5 = ("Madigan & York 1997, 5 lists", 5,
                  [0, 27, 37, 19, 4, 4, 1, 1, 97, 22, 37, 25, 2, 1, 3, 5, 83, 36, 34, 18, 3, 5, 0, 2, 30, 5, 23, 8,
                   0, 3, 0, 2])


def simulate(seed, t, people, probability):
    """`people` people; `probability(rng, j, h)` is the chance list j lists a person already on
    the lists in pattern h (so a list can refer people to another, or a person's class can be
    drawn at j = 0 and kept in a closure)."""
    rng = random.Random(seed)
    counts = [0] * (1 << t)
    for _ in range(people):
        h = 0
        for j in range(t):
            # The chance first: it may draw from `rng` itself (a person's class).
            p = probability(rng, j, h)
            if rng.random() < p:
                h |= 1 << j
        counts[h] += 1
    counts[0] = 0
    return counts


def write_histories(path, t, counts):
    """The table as `recuento estimate --histories` reads it: lists l1 … lt and a count."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"l{j + 1}" for j in range(t)] + ["count"])
        for h, c in enumerate(counts):
            if h and c:
                w.writerow([h >> j & 1 for j in range(t)] + [c])


def estimate(binary, tmp, name, t, counts, *args):
    """Runs `recuento estimate --histories … --json` on the table; returns the estimates."""
    import json
    path = os.path.join(tmp, f"{name}.csv")
    write_histories(path, t, counts)
    out = subprocess.run([binary, "estimate", "--histories", path, "--json", *args],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)
