#!/usr/bin/env bash
# recuento vs Splink 5 on DuckDB, same data, same run: FEBRL3, FEBRL4, and recuento's synthetic
# deduplication benchmark at 100,000 and 1,000,000 records. Prints one Markdown table.
#
#   bench/linkage_vs_splink.sh                       # all four datasets
#   bench/linkage_vs_splink.sh febrl3,febrl4         # some of them
#
# Needs python3 with venv, /usr/bin/time, and the package registries (PyPI) the first time.
# At 1,000,000 records Splink's process peaks at about 14 GiB (recuento's at about 0.7 GiB)
# and the run takes about 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/recuento-target}"
VENV="${RECUENTO_SPLINK_VENV:-$HOME/.cache/recuento-splink-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import splink, recordlinkage" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "splink==5.0.0" recordlinkage
fi
cargo build --release --locked -p recuento
"$VENV/bin/python" bench/linkage_vs_splink.py \
    --recuento "$CARGO_TARGET_DIR/release/recuento" \
    --datasets "${1:-febrl3,febrl4,synthetic100k,synthetic1m}"
