#!/usr/bin/env bash
# Creates (once) the Python venv under /tmp that holds the peer baselines for `pipeline bench`.
# Usage: venv.sh PACKAGE...   Prints the venv's python path. Nothing here is committed code of peers.
set -euo pipefail
venv=${CADENZA_BENCH_VENV:-/tmp/cadenza-bench-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
missing=()
for pkg in "$@"; do
  "$venv/bin/python" -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('${pkg%%[=<>]*}'.replace('-','_')) is None)" 2>/dev/null || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  "$venv/bin/pip" install -q "${missing[@]}" >&2
fi
echo "$venv/bin/python"
