#!/usr/bin/env bash
# Sets up statsmodels (from PyPI) in a throwaway virtual environment and cross-checks recuento's
# log-linear fits against it. See check_loglinear.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/recuento-target}"
cargo build --locked -q -p recuento
venv="${RECUENTO_BENCH_VENV:-$HOME/.cache/recuento-bench-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q statsmodels numpy
"$venv/bin/python" bench/check_loglinear.py "$CARGO_TARGET_DIR/debug/recuento"
