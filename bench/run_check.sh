#!/usr/bin/env bash
# Runs one of the cross-check scripts (bench/check_*.py) against the debug build of recuento,
# in a virtual environment with the Python packages it needs from PyPI:
#   bench/run_check.sh SCRIPT.py PACKAGE...
set -euo pipefail
cd "$(dirname "$0")/.."
script="$1"
shift
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/recuento-target}"
cargo build --locked -q -p recuento
venv="${RECUENTO_BENCH_VENV:-$HOME/.cache/recuento-bench-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "$@"
"$venv/bin/python" "bench/$script" "$CARGO_TARGET_DIR/debug/recuento"
