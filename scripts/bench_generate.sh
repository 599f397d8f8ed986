#!/usr/bin/env bash
# Generation throughput of the default small model: cached vs naive (1,000-token pieces) and
# batch 20 vs batch 1, measured in one run. Same figures as `pipeline bench generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --release --test generate_bench -- --ignored --nocapture bench_generate_full
