# Shared by the scripts that run the demo pipeline on several seeds; sourced with the caller's
# arguments ([persons] [seeds...], defaults 3000 and seeds 1 to 6), not run. Sets `persons`,
# `seeds`, `bin` (a fresh debug build of recuento) and `work` (a temporary folder, removed on
# exit), from the repository's root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/recuento-target}"
persons="${1:-3000}"; shift || true
seeds=("$@"); [ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3 4 5 6)
cargo build --locked -q -p recuento
bin="$CARGO_TARGET_DIR/debug/recuento"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
