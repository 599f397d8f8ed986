#!/usr/bin/env bash
# GPU smoke run of the whole pipeline with configs/gpu-smoke.toml: tokenize, train the course
# model (12L/512, tgt/mem 512) for 200 steps in bf16-mixed on burn-cuda, generate both tasks x 3
# samplers x 20 pieces, evaluate and report. Prints each stage's time, the training tokens/s and
# the peak GPU memory that nvidia-smi saw; then `pipeline bench train` without and with gradient
# checkpointing (train.checkpointing = "balanced"), each with its peak memory, its wall time and
# its model FLOP utilisation against PEAK_TFLOPS (989, an H200's dense bf16); the first of them
# runs twice, so the second shows what Burn's autotune cache (kept between runs) saves of the
# kernel compilation of the first steps.
#
#   scripts/gpu-smoke.sh build   # here (no GPU or CUDA toolkit needed): builds `pipeline` with
#                                # --features cuda and packs it, stripped and gzipped, with the
#                                # corpus into bin-cuda/ (git-ignored, about 50 MB: under the
#                                # 64 MiB that the device tool carries)
#   scripts/gpu-smoke.sh run     # on the GPU machine (carry bin-cuda): unpacks and runs it;
#                                # the log, summary and memory trace go to $OUT when set
#
# Env for run: CONFIG (configs/gpu-smoke.toml), PEAK_TFLOPS (989).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-run}" in
build)
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/cadenza-target-cuda}"
  cargo build --release --features cuda --bin pipeline
  mkdir -p bin-cuda
  strip -o bin-cuda/pipeline "$CARGO_TARGET_DIR/release/pipeline"
  gzip -f bin-cuda/pipeline
  [ -e data/raw/pop1k7 ] || scripts/data.sh
  tar -czhf bin-cuda/pop1k7.tar.gz -C data/raw/pop1k7 .
  ls -lh bin-cuda
  ;;
run)
  config="${CONFIG:-configs/gpu-smoke.toml}"
  [ -f bin-cuda/pipeline.gz ] || { echo "gpu-smoke: bin-cuda/pipeline.gz missing; run 'scripts/gpu-smoke.sh build' here first and carry bin-cuda" >&2; exit 1; }
  bin=$(mktemp -d)/pipeline
  gunzip -c bin-cuda/pipeline.gz > "$bin" && chmod +x "$bin"
  if [ ! -e data/raw/pop1k7 ]; then
    mkdir -p data/raw/pop1k7 && tar -xzf bin-cuda/pop1k7.tar.gz -C data/raw/pop1k7
  fi
  log="${OUT:-$(mktemp -d)}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1 || echo 0)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$log/gpu-mem.csv" &
  smi=$!
  trap 'kill $smi 2>/dev/null || true' EXIT
  start=$(date +%s)
  "$bin" run all --config "$config" 2>&1 | tee "$log/pipeline.log"
  kill $smi 2>/dev/null || true
  echo "whole pipeline: $(( $(date +%s) - start )) s"
  echo "peak GPU memory used: $(sort -n "$log/gpu-mem.csv" | tail -1) MiB (device total, nvidia-smi every 200 ms; ${base} MiB before start)"
  "$bin" report --config "$config" | tee "$log/summary.txt"
  # Training throughput and peak memory without and with gradient checkpointing (Burn's
  # balanced strategy), the same model and batch.
  sed 's/^\[train\]$/[train]\ncheckpointing = "balanced"/' "$config" > "$log/checkpointing.toml"
  peak="${PEAK_TFLOPS:-989}"
  n=0
  for variant in "$config" "$config" "$log/checkpointing.toml"; do
    n=$((n + 1))
    name="$n-$(basename "$variant" .toml)"
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$log/mem-$name.csv" &
    smi=$!
    t0=$(date +%s)
    "$bin" bench train --config "$variant" 2>&1 | tee "$log/bench-$name.log"
    kill $smi 2>/dev/null || true
    tflops=$(grep -o '[0-9.]* model TFLOP/s' "$log/bench-$name.log" | cut -d' ' -f1)
    echo "$name: $(( $(date +%s) - t0 )) s wall, peak GPU memory used $(sort -n "$log/mem-$name.csv" | tail -1) MiB, MFU $(awk -v a="$tflops" -v p="$peak" 'BEGIN { printf "%.1f%%", 100 * a / p }') of $peak TFLOP/s"
  done
  ;;
*)
  echo "usage: scripts/gpu-smoke.sh build|run" >&2; exit 2 ;;
esac
