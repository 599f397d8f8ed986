#!/usr/bin/env bash
# Evaluate benchmark: read + H1/H4/GS over every MIDI file of a folder (default: the Pop1K7
# corpus), in Rust (all cores, then one thread) and in plain Python with mido, in the same run;
# prints files/s, the speed ratio and the largest difference between the two implementations.
#
#   scripts/bench_evaluate.sh [MIDI_DIR]
#   (CARGO_TARGET_DIR is honoured; the Rust side builds with --release.)
set -euo pipefail
DIR=${1:-/work/shared/data/pop1k7/midi_analyzed}
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${BENCH_VENV:-/tmp/cadenza-bench-venv}
OUT=$(mktemp -d /tmp/cadenza-bench.XXXXXX)

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import mido" 2>/dev/null || "$VENV/bin/pip" install -q mido

cd "$HERE/.."
cargo test --release --test metrics_bench --no-run >/dev/null 2>"$OUT/build.log" || { cat "$OUT/build.log"; exit 1; }
bench() { CADENZA_BENCH_DIR="$DIR" CADENZA_BENCH_CSV="$OUT/rust.csv" \
    cargo test -q --release --test metrics_bench -- --ignored --nocapture 2>/dev/null | grep '^rust:'; }
RUST=$(bench)
RUST1=$(RAYON_NUM_THREADS=1 bench)
PY=$("$VENV/bin/python" "$HERE/bench_evaluate.py" "$DIR" --csv "$OUT/python.csv")
echo "$RUST"
echo "$RUST1"
echo "$PY"
rate() { sed -n 's/.*files_per_s=\([0-9.]*\).*/\1/p' <<<"$1"; }
python3 - "$(rate "$RUST")" "$(rate "$RUST1")" "$(rate "$PY")" <<'PYEOF'
import sys
r, r1, p = map(float, sys.argv[1:])
print(f"ratio: rust/python = {r / p:.0f}x (all threads), {r1 / p:.0f}x (one thread)")
PYEOF
"$VENV/bin/python" "$HERE/bench_evaluate.py" --compare "$OUT/rust.csv" "$OUT/python.csv"
echo "details in $OUT"
