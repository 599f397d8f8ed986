#!/usr/bin/env bash
# GPU smoke test of training: the course model (12L/512, tgt/mem 512) for 200 steps in bf16 on
# burn-cuda, on synthetic tokens (no corpus needed on the GPU machine). Reports tokens/s and the
# peak GPU memory seen by nvidia-smi.
#
#   scripts/gpu-smoke.sh build   # here, no GPU or CUDA toolkit needed: builds the benchmark test
#                                # binary with --features cuda, strips it into bin-cuda/ (git-ignored)
#   scripts/gpu-smoke.sh run     # on the GPU machine (carry bin-cuda): runs it, prints JSON + peak memory
#
# Env for run: STEPS (200), WARMUP (5), BATCH (8), PRECISION (bf16|f16|f32), PRESET (course).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-run}" in
build)
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/cadenza-target-cuda}"
  exe=$(cargo test --release --features cuda --test train_bench --no-run --message-format=json \
        | grep -o '"executable":"[^"]*train_bench[^"]*"' | tail -1 | cut -d'"' -f4)
  [ -x "$exe" ] || { echo "gpu-smoke: no test executable built" >&2; exit 1; }
  mkdir -p bin-cuda
  strip -o bin-cuda/train_bench "$exe"
  ls -lh bin-cuda/train_bench
  ;;
run)
  bin=bin-cuda/train_bench
  [ -x "$bin" ] || { echo "gpu-smoke: $bin missing; run 'scripts/gpu-smoke.sh build' first and carry bin-cuda" >&2; exit 1; }
  out="${OUT:-$(mktemp -d)}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1 || echo 0)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$out/gpu-mem.csv" &
  smi=$!
  trap 'kill $smi 2>/dev/null || true' EXIT
  BENCH_BACKEND=cuda BENCH_PRECISION="${PRECISION:-bf16}" BENCH_PRESET="${PRESET:-course}" \
  BENCH_BATCH="${BATCH:-8}" BENCH_WARMUP="${WARMUP:-5}" BENCH_STEPS="${STEPS:-200}" \
    "$bin" --ignored --nocapture --exact train_throughput | tee "$out/bench.txt"
  kill $smi 2>/dev/null || true
  peak=$(sort -n "$out/gpu-mem.csv" | tail -1)
  echo "peak GPU memory used: ${peak} MiB (device total, nvidia-smi every 200 ms; ${base} MiB before start)"
  ;;
*)
  echo "usage: scripts/gpu-smoke.sh build|run" >&2; exit 2 ;;
esac
