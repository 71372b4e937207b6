#!/usr/bin/env bash
# Linkage uncertainty on synthetic scenarios: people and totals from the project's own linkage
# (threshold 0.9) next to those of the linkages drawn from the match probabilities
# (`recuento estimate --linkage-sensitivity`), and the truth. One table row per seed.
# Usage: bench/linkage_draws.sh [persons] [seeds...]   (defaults: 3000, seeds 1 2 3 4 5 6)
source "$(dirname "$0")/demo_common.sh" "$@"
printf '| seed | people seen (true) | people at 0.9 | people over the draws | estimate at 0.9 | 95%% interval | estimates over the draws (median) | intervals of the draws together | pooled by Rubin'"'"'s rules: total, 95%% interval (share of variance from linkage) | true total |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for s in "${seeds[@]}"; do
  d="$work/s$s"
  "$bin" synth --persons "$persons" --seed "$s" --out "$d" >/dev/null
  "$bin" run -p "$d" >/dev/null
  "$bin" estimate -p "$d" --linkage-sensitivity > "$d/sensitivity.txt"
  "$bin" eval --truth "$d/truth.csv" --persons "$d/out/persons.csv" --json > "$d/eval.json"
  python3 - "$d" "$s" <<'PY'
import json, re, sys
d, seed = sys.argv[1], sys.argv[2]
pooled = re.search(r"\(Rubin's rules\): ([\d,]+), 95% interval ([\d,]+) – ([\d,]+) .*?; (\d+)% of its variance", open(f"{d}/sensitivity.txt").read())
e = json.load(open(f"{d}/eval.json"))
truth = json.load(open(f"{d}/scenario.json"))["persons"]
own = next(x for x in json.load(open(f"{d}/out/estimate.json")) if x["method"] == "loglinear-averaged" and x["stratum"] == "all")
draws = json.load(open(f"{d}/out/linkage_draws.json"))
people = sorted(x["persons"] for x in draws)
totals = sorted(x["estimate"]["estimate"] for x in draws)
lo = min(x["estimate"]["lower"] for x in draws)
hi = max(x["estimate"]["upper"] for x in draws)
print(f"| {seed} | {e['true_persons']:,} | {e['predicted_persons']:,} | {people[0]:,}–{people[-1]:,} | {own['estimate']:,.0f} | {own['lower']:,.0f}–{own['upper']:,.0f} | {totals[0]:,.0f}–{totals[-1]:,.0f} ({totals[len(totals) // 2]:,.0f}) | {lo:,.0f}–{hi:,.0f} | {pooled[1]}, {pooled[2]}–{pooled[3]} ({pooled[4]}%) | {truth:,} |")
PY
done
