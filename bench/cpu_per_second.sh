#!/usr/bin/env bash
# CPU use of one `recuento link-files` run, second by second, then its stage times: shows which
# stages keep both cores busy. Prints "second:ticks" (100 ticks = one core for one second).
#
#   bench/cpu_per_second.sh SETTINGS.toml OUT_DIR FILE.csv [more link-files arguments]
#
# Example (docs/benchmarks.md, linkage engine):
#   recuento synth --dedupe-records 1000000 --seed 1 --out /tmp/d1m
#   bench/cpu_per_second.sh bench/settings/synthetic.toml /tmp/o /tmp/d1m/dedupe.csv --truth-column person_id
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/recuento-target}"
if [ $# -lt 3 ]; then
    echo "usage: bench/cpu_per_second.sh SETTINGS.toml OUT_DIR FILE.csv [link-files arguments]" >&2
    exit 2
fi
settings=$1 out=$2 file=$3
shift 3
cargo build --release --locked -p recuento >&2
rm -rf "$out"
"$CARGO_TARGET_DIR/release/recuento" link-files --settings "$settings" --out "$out" "$@" "$file" \
    > "$out.log" 2>&1 &
pid=$!
previous=0 second=0
while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    second=$((second + 1))
    now=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || break
    [ -z "$now" ] && break
    printf '%s:%s ' "$second" "$((now - previous))"
    previous=$now
done
echo
wait "$pid"
grep "time:" "$out.log"
