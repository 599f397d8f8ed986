#!/usr/bin/env bash
# Training throughput on CPU: cadenza (`pipeline bench train`, Burn's flex backend) beside a plain
# PyTorch Transformer-XL of the same shape and batch (scripts/bench_train.py), in the same run.
#
#   scripts/bench_train.sh            # env: CONFIG (configs/default.toml), STEPS (10), WARMUP (2)
#
# PyTorch is pip-installed into a venv under /tmp on first use (TORCH_VENV to override).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG="${CONFIG:-configs/default.toml}"; STEPS="${STEPS:-10}"; WARMUP="${WARMUP:-2}"
VENV="${TORCH_VENV:-/tmp/cadenza-torch-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/cadenza-target}"

if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q torch numpy
fi

burn=$(cargo run --release --quiet --bin pipeline -- bench train --config "$CONFIG" --steps "$STEPS" --warmup "$WARMUP" | tail -1)
shape=$(python3 -c 'import json,sys; m=json.loads(sys.argv[1])["model"]; b=json.loads(sys.argv[1])["batch_size"]
print(" ".join(f"--{k.replace(chr(95), chr(45))} {m[k]}" for k in ["n_layer", "d_model", "n_head", "d_inner", "tgt_len", "mem_len", "vocab"]), "--batch", b)' "$burn")
# shellcheck disable=SC2086
torch=$("$VENV/bin/python" scripts/bench_train.py $shape --warmup "$WARMUP" --steps "$STEPS")
echo "burn:    $burn"
echo "pytorch: $torch"
python3 - "$burn" "$torch" <<'PY'
import json, sys
b, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"tokens/s  burn {b['tokens_per_sec']:.0f}  pytorch {t['tokens_per_sec']:.0f}  ratio burn/pytorch {b['tokens_per_sec'] / t['tokens_per_sec']:.2f}x")
PY
