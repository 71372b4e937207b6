#!/usr/bin/env bash
# Runs the demo pipeline on several seeds and prints one table: linkage quality against the truth,
# the headline estimate with its 95% interval next to the true total, and wall time.
# Usage: bench/demo_seeds.sh [persons] [seeds...]   (defaults: 3000, seeds 1 2 3 4 5 6)
# RECUENTO_THRESHOLD=0.5 bench/demo_seeds.sh ... links at that match probability instead of the
# project's default.
source "$(dirname "$0")/demo_common.sh" "$@"
printf '| seed | records | people (true) | people found | precision | recall | F1 | estimate (log-linear, averaged) | 95%% interval | covered | latent-class (LCMCR) | 95%% interval | covered | true total | seconds |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for s in "${seeds[@]}"; do
  d="$work/s$s"
  "$bin" synth --persons "$persons" --seed "$s" --out "$d" >/dev/null
  if [ -n "${RECUENTO_THRESHOLD:-}" ]; then
    sed -i "s/^threshold = .*/threshold = $RECUENTO_THRESHOLD/" "$d/recuento.toml"
  fi
  start=$(date +%s.%N)
  "$bin" run -p "$d" >/dev/null
  end=$(date +%s.%N)
  "$bin" eval --truth "$d/truth.csv" --persons "$d/out/persons.csv" --json > "$d/eval.json"
  python3 - "$d" "$s" "$(echo "$end - $start" | bc)" <<'PY'
import json, sys
d, seed, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
e = json.load(open(f"{d}/eval.json")); ests = json.load(open(f"{d}/out/estimate.json"))
truth = json.load(open(f"{d}/scenario.json"))["persons"]
def cell(method):
    x = next((x for x in ests if x["method"] == method and x["stratum"] == "all"), None)
    if x is None or x["estimate"] is None:
        return "—", "—", "—"
    cov = "yes" if x["lower"] <= truth <= x["upper"] else "NO"
    return f"{x['estimate']:,.0f}", f"{x['lower']:,.0f}–{x['upper']:,.0f}", cov
a, b = cell("loglinear-averaged"), cell("lcmcr")
print(f"| {seed} | {e['records']:,} | {e['true_persons']:,} | {e['predicted_persons']:,} | {e['precision']:.4f} | {e['recall']:.4f} | {e['f1']:.4f} | {a[0]} | {a[1]} | {a[2]} | {b[0]} | {b[1]} | {b[2]} | {truth:,} | {secs:.1f} |")
PY
done
