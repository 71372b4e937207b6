#!/usr/bin/env bash
# Sets up numpy and scipy (from PyPI) in a throwaway virtual environment and cross-checks
# recuento's latent-class model against the LCMCR package's Gibbs sampler, re-implemented
# in numpy. See check_lcmcr.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/recuento-target}"
cargo build --locked -q -p recuento
venv="${RECUENTO_BENCH_VENV:-$HOME/.cache/recuento-bench-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q numpy
"$venv/bin/python" bench/check_lcmcr.py "$CARGO_TARGET_DIR/debug/recuento"
