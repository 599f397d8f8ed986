#!/usr/bin/env bash
# Peak memory of `pipeline run tokenize` on 1, 8 and 32 copies of the corpus (symlink trees, so
# every copy is a distinct song): flat when the songs stream into shards. One row per size,
# with the machine. Usage: scripts/bench-tokenize-memory.sh [COPIES...] (default 1 8 32);
# PIPELINE (default target/release/pipeline) and CORPUS (default data/raw/pop1k7) adjust it.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$(realpath "${CORPUS:-data/raw/pop1k7}")
bin=$(realpath "${PIPELINE:-target/release/pipeline}")
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d /tmp/cadenza-rss.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 8 32)
for n in "${sizes[@]}"; do
  raw=$work/raw-$n
  for c in $(seq "$n"); do
    mkdir -p "$raw/copy-$c"
    cp -rs "$corpus/." "$raw/copy-$c/"
  done
  cat >"$work/cfg-$n.toml" <<CFG
[run]
name = "rss"
raw_dir = "$raw"
tokens_dir = "$work/tokens-$n"
artifacts_dir = "$work/artifacts"
CFG
  files=$(find -L "$raw" -iname '*.mid' | wc -l)
  /usr/bin/time -f '%M %e' -o "$work/time-$n" "$bin" run tokenize --config "$work/cfg-$n.toml" >/dev/null 2>&1
  read -r kb secs <"$work/time-$n"
  printf '%3dx  %7d files  peak RSS %5d MB  %6.1f s\n' "$n" "$files" $((kb / 1024)) "$secs"
  rm -rf "$raw" "$work/tokens-$n"
done
