"""What each blocking rule of a settings file finds, measured on files with a truth column: its
pairs, the pairs no other rule finds, its true pairs, the true pairs no other rule finds, and
the recall and pair count of all rules together. This is how the rules in
bench/settings/synthetic.toml were chosen (docs/benchmarks.md, sixth session).

    python bench/rule_coverage.py FILE.csv [SETTINGS.toml] [TRUTH_COLUMN]

SETTINGS.toml defaults to bench/settings/synthetic.toml and TRUTH_COLUMN to person_id (the
columns of `recuento synth --dedupe-records N`); one list, deduplicated. The rules are turned
into SQL as bench/linkage_vs_splink.py turns them for Splink. Compared text columns are folded
as recuento folds them (lower case, accents off, punctuation to spaces); with the synthetic
settings this reproduces the candidate pairs and blocking recall that `recuento link-files`
prints (32,072,599 and 0.9914 at 1,000,000 records, seed 1; the fourth session's rules,
`git show 9ea44e4^:bench/settings/synthetic.toml`, 59,763,973 and 0.9901). Needs the duckdb
Python package (bench/linkage_vs_splink.sh's virtual environment has it). 15-20 s and a few
GiB at 1,000,000 records.
"""

import sys
import time
import tomllib
from pathlib import Path

import duckdb

from linkage_vs_splink import HERE, blocking_rule_sql

# Methods whose columns recuento standardises itself rather than folding the text.
NOT_FOLDED = {"date", "national_id", "age"}


def fold_sql(col):
    return (f"nullif(trim(regexp_replace(regexp_replace(lower(strip_accents(\"{col}\")), "
            f"'[^a-z0-9 ]', ' ', 'g'), ' +', ' ', 'g')), '')")


def main():
    path = sys.argv[1]
    settings_path = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "settings" / "synthetic.toml"
    truth = sys.argv[3] if len(sys.argv) > 3 else "person_id"
    settings = tomllib.loads(settings_path.read_text())
    started = time.time()
    con = duckdb.connect()
    con.execute("SET threads = 2")
    columns = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_csv('{path}', all_varchar = true)").fetchall()]
    folded = {
        c for comp in settings["comparisons"]
        if comp.get("fold", True) and comp["method"] not in NOT_FOLDED for c in comp["columns"]
    }
    select = ", ".join(
        f"{fold_sql(c)} AS \"{c}\"" if c in folded else f"nullif(trim(\"{c}\"), '') AS \"{c}\""
        for c in columns
    )
    con.execute(f"CREATE TABLE r AS SELECT row_number() OVER () AS rid, {select} "
                f"FROM read_csv('{path}', all_varchar = true)")
    rules = blocking_rule_sql(settings, columns)
    parts = []
    for bit, (sql, both_ways) in enumerate(rules):
        # A rule that reads differently with l and r exchanged finds some pairs only with the
        # later record on the left.
        pair, order = (("l.rid AS a, r.rid AS c", "l.rid < r.rid") if both_ways else
                       ("least(l.rid, r.rid) AS a, greatest(l.rid, r.rid) AS c", "l.rid <> r.rid"))
        parts.append(f"SELECT {pair}, {1 << bit} AS bit FROM r l JOIN r r ON {sql} WHERE {order}")
    con.execute(f"CREATE TABLE pairs AS SELECT a, c, bit_or(bit)::BIGINT AS bits "
                f"FROM ({' UNION ALL '.join(parts)}) GROUP BY a, c")
    con.execute(f"""CREATE TABLE found AS SELECT pairs.*, l."{truth}" = r."{truth}" AS true_pair
        FROM pairs JOIN r l ON l.rid = pairs.a JOIN r r ON r.rid = pairs.c""")
    true_pairs = con.execute(
        f'SELECT sum(k * (k - 1) / 2)::BIGINT FROM (SELECT count(*) AS k FROM r GROUP BY "{truth}")'
    ).fetchone()[0]
    print("| rule | pairs | pairs no other rule finds | true pairs | true pairs no other rule finds |")
    print("|---|---|---|---|---|")
    for i, rule in enumerate(settings["blocking_rules"]):
        bit = 1 << i
        row = con.execute(f"""SELECT count(*) FILTER (WHERE bits & {bit} <> 0),
            count(*) FILTER (WHERE bits = {bit}),
            count(*) FILTER (WHERE bits & {bit} <> 0 AND true_pair),
            count(*) FILTER (WHERE bits = {bit} AND true_pair) FROM found""").fetchone()
        print(f"| {', '.join(rule)} | " + " | ".join(f"{v:,}" for v in row) + " |")
    total, found_true = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE true_pair) FROM found").fetchone()
    print(f"\nall rules: {total:,} candidate pairs, blocking recall {found_true / true_pairs:.4f} "
          f"({found_true:,} of {true_pairs:,} true pairs); {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
