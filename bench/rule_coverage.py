"""What each blocking rule of the synthetic benchmark finds, measured on a file with a truth
column: its pairs, the pairs no other rule finds, its true pairs, the true pairs no other rule
finds, and the recall and pair count of all rules together. This is how the rules in
bench/settings/synthetic.toml were chosen (docs/benchmarks.md, sixth session).

    python bench/rule_coverage.py FILE.csv [current|fourth-session]

FILE.csv is `recuento synth --dedupe-records N` output. Keys are folded as recuento folds
compared names (lower case, accents off, punctuation to spaces); with the fourth session's
rules this reproduces the candidate-pair count recuento prints (59,763,973 at 1,000,000
records, seed 1). Needs the duckdb Python package (bench/linkage_vs_splink.sh's virtual
environment has it). About 20 s and a few GiB at 1,000,000 records.
"""

import re
import sys
import time

import duckdb

G1 = "split_part(g, ' ', 1)"
YEAR = "substr(b, 1, 4)"
# (name, keys both records share, (left, right) asymmetric keys, condition over l and r)
RULES = {
    "current": [
        ("national_id", ["n"], [], None),
        ("surname1, birth_date", ["s1", "b"], [], None),
        ("given1, birth_date", [G1, "b"], [], None),
        ("given1, surname1 first part, year", [G1, "split_part(s1, ' ', 1)", YEAR], [], None),
        ("national_id from 5th character", ["substr(n, 5)"], [], None),
        ("surname2, given1, year", ["s2", G1, YEAR], [], None),
        ("surname1, surname2, year", ["s1", "s2", YEAR], [], None),
        ("birth_date, municipality", ["b", "m"], [], None),
        ("surnames swapped, given1", [G1], [("s1", "s2"), ("s2", "s1")], None),
        ("given1, surname1, municipality, a birth date missing", [G1, "s1", "m"], [],
         "l.b IS NULL OR r.b IS NULL"),
    ],
    "fourth-session": [
        ("national_id", ["n"], [], None),
        ("given1, surname1, year", [G1, "s1", YEAR], [], None),
        ("surname1, birth_date", ["s1", "b"], [], None),
        ("given1, birth_date", [G1, "b"], [], None),
        ("surname1=surname2, given1, year", [G1, YEAR], [("s1", "s2")], None),
        ("surname2, given1, year", ["s2", G1, YEAR], [], None),
        ("given1, surname1, surname2", [G1, "s1", "s2"], [], None),
        ("birth_date, municipality", ["b", "m"], [], None),
        ("given1, surname1, municipality", [G1, "s1", "m"], [], None),
        ("surname1, surname2, year", ["s1", "s2", YEAR], [], None),
        ("given1, surname1 first part, year", [G1, "split_part(s1, ' ', 1)", YEAR], [], None),
        ("national_id from 5th character", ["substr(n, 5)"], [], None),
    ],
}


def side(expr, alias):
    return re.sub(r"\b(g|s1|s2|b|n|m)\b", lambda m: f"{alias}.{m.group(1)}", expr)


def rule_sql(bit, keys, asym, cond):
    on = [f"{side(k, 'l')} = {side(k, 'r')}" for k in keys]
    on += [f"{side(a, 'l')} = {side(b, 'r')}" for a, b in asym]
    where = "l.id < r.id" if not asym else "l.id <> r.id"
    if cond:
        where += f" AND ({cond})"
    pair = "l.id AS a, r.id AS c" if not asym else "least(l.id, r.id) AS a, greatest(l.id, r.id) AS c"
    return f"SELECT {pair}, {1 << bit} AS bit FROM r l JOIN r r ON {' AND '.join(on)} WHERE {where}"


def fold(col):
    return (f"nullif(trim(regexp_replace(regexp_replace(lower(strip_accents({col})), "
            f"'[^a-z0-9 ]', ' ', 'g'), ' +', ' ', 'g')), '')")


def main():
    path = sys.argv[1]
    rules = RULES[sys.argv[2] if len(sys.argv) > 2 else "current"]
    started = time.time()
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(f"""CREATE TABLE r AS SELECT row_number() OVER () AS id, person_id AS p,
        {fold('given_names')} AS g, {fold('surname1')} AS s1, {fold('surname2')} AS s2,
        nullif(birth_date, '') AS b, nullif(national_id, '') AS n, {fold('municipality')} AS m
        FROM read_csv('{path}', all_varchar = true)""")
    union = " UNION ALL ".join(rule_sql(i, k, a, c) for i, (_, k, a, c) in enumerate(rules))
    con.execute(f"CREATE TABLE pairs AS SELECT a, c, bit_or(bit)::BIGINT AS bits FROM ({union}) GROUP BY a, c")
    con.execute("""CREATE TABLE found AS SELECT pairs.*, l.p = r.p AS true_pair
        FROM pairs JOIN r l ON l.id = pairs.a JOIN r r ON r.id = pairs.c""")
    true_pairs = con.execute(
        "SELECT sum(k * (k - 1) / 2)::BIGINT FROM (SELECT count(*) AS k FROM r GROUP BY p)"
    ).fetchone()[0]
    print("| rule | pairs | pairs no other rule finds | true pairs | true pairs no other rule finds |")
    print("|---|---|---|---|---|")
    for i, (name, *_rest) in enumerate(rules):
        bit = 1 << i
        row = con.execute(f"""SELECT count(*) FILTER (WHERE bits & {bit} <> 0),
            count(*) FILTER (WHERE bits = {bit}),
            count(*) FILTER (WHERE bits & {bit} <> 0 AND true_pair),
            count(*) FILTER (WHERE bits = {bit} AND true_pair) FROM found""").fetchone()
        print(f"| {name} | " + " | ".join(f"{v:,}" for v in row) + " |")
    total, found_true = con.execute("SELECT count(*), count(*) FILTER (WHERE true_pair) FROM found").fetchone()
    print(f"\nall rules: {total:,} candidate pairs, blocking recall {found_true / true_pairs:.4f} "
          f"({found_true:,} of {true_pairs:,} true pairs); {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
