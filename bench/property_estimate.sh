#!/usr/bin/env bash
# Property test of `recuento estimate` on random tables (see property_estimate.py), against the
# debug build: bench/property_estimate.sh [SEED] [TABLES]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/recuento-target}"
cargo build --locked -q -p recuento
exec python3 bench/property_estimate.py "$CARGO_TARGET_DIR/debug/recuento" "$@"
