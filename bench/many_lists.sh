#!/usr/bin/env bash
# Times `recuento estimate --histories` (release build) on tables with more lists than the usual
# three to six, as some documentation projects have: T lists, 5,000 people of whom 30% are
# less visible to every list, each person on each list with probability 12% (4.8% for the less
# visible), drawn with a fixed seed. Prints one table: lists, capture patterns seen, people
# seen, the log-linear average with its interval, the true total, wall seconds and peak memory.
# Usage: bench/many_lists.sh [lists...]   (default: 6 8 10 12 14)
# RECUENTO_ARGS="--lcmcr" bench/many_lists.sh 14 adds the latent-class model.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/recuento-target}"
lists=("$@"); [ ${#lists[@]} -gt 0 ] || lists=(6 8 10 12 14)
cargo build --locked -q --release -p recuento
bin="$CARGO_TARGET_DIR/release/recuento"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
printf '| lists | patterns seen | people seen | log-linear average | 95%% interval | true total | seconds | peak memory (MiB) |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for t in "${lists[@]}"; do
  python3 - "$t" "$work/t$t.csv" <<'PY'
import random, sys
from collections import Counter
t, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(t)
seen = Counter()
for _ in range(5000):
    p = 0.12 if rng.random() < 0.7 else 0.048
    h = tuple(int(rng.random() < p) for _ in range(t))
    if any(h):
        seen[h] += 1
with open(path, "w") as f:
    f.write(",".join(f"list{j + 1}" for j in range(t)) + ",count\n")
    for h, n in sorted(seen.items()):
        f.write(",".join(map(str, h)) + f",{n}\n")
PY
  # shellcheck disable=SC2086
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin" estimate --histories "$work/t$t.csv" --json ${RECUENTO_ARGS:-} > "$work/t$t.json"
  python3 - "$t" "$work/t$t.csv" "$work/t$t.json" "$work/time" <<'PY'
import json, sys
t, csv, out, timing = sys.argv[1:]
rows = open(csv).read().splitlines()[1:]
people = sum(int(r.rsplit(",", 1)[1]) for r in rows)
e = next(x for x in json.load(open(out)) if x["method"] == "loglinear-averaged")
secs, kib = open(timing).read().split()
print(f"| {t} | {len(rows):,} | {people:,} | {e['estimate']:,.0f} | {e['lower']:,.0f}–{e['upper']:,.0f} | 5,000 | {float(secs):.1f} | {int(kib) / 1024:.0f} |")
PY
done
