#!/usr/bin/env bash
# Generation throughput of the configured model (default: configs/default.toml): cached vs naive
# (1,000-token pieces) and batch 20 vs batch 1, measured in one run. Same as `pipeline bench generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet --bin pipeline -- bench generate --config "${CONFIG:-configs/default.toml}"
