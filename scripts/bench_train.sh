#!/usr/bin/env bash
# Training throughput of the small config on CPU: cadenza (Burn, flex backend) beside a plain
# PyTorch Transformer-XL of the same shape (scripts/bench_train.py), in the same run.
#
#   scripts/bench_train.sh            # env: STEPS (10), WARMUP (2), BATCH (8), PRESET (small)
#
# PyTorch is pip-installed into a venv under /tmp on first use (TORCH_VENV to override).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS="${STEPS:-10}"; WARMUP="${WARMUP:-2}"; BATCH="${BATCH:-8}"; PRESET="${PRESET:-small}"
VENV="${TORCH_VENV:-/tmp/cadenza-torch-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/cadenza-target}"

if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  # The CPU wheel where the index has one; the default wheel otherwise.
  "$VENV/bin/pip" install -q torch numpy
fi

case "$PRESET" in
  small)  shape=(--n-layer 4 --d-model 256 --n-head 4 --d-inner 1024 --tgt-len 256 --mem-len 256) ;;
  course) shape=(--n-layer 12 --d-model 512 --n-head 8 --d-inner 2048 --tgt-len 512 --mem-len 512) ;;
  *) echo "PRESET must be small or course" >&2; exit 2 ;;
esac

burn=$(BENCH_PRESET="$PRESET" BENCH_BATCH="$BATCH" BENCH_WARMUP="$WARMUP" BENCH_STEPS="$STEPS" BENCH_VOCAB=400 \
  cargo test --release --test train_bench -- --ignored --nocapture --exact train_throughput 2>/dev/null | grep '^{')
torch=$("$VENV/bin/python" scripts/bench_train.py "${shape[@]}" --vocab 400 --batch "$BATCH" --warmup "$WARMUP" --steps "$STEPS")
echo "burn:    $burn"
echo "pytorch: $torch"
python3 - "$burn" "$torch" <<'PY'
import json, sys
b, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"tokens/s  burn {b['tokens_per_sec']:.0f}  pytorch {t['tokens_per_sec']:.0f}  ratio burn/pytorch {b['tokens_per_sec'] / t['tokens_per_sec']:.2f}x")
PY
