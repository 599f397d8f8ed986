#!/usr/bin/env bash
# How a row's intervals narrow with its number of pieces: the finished run of CONFIG cut to the
# first n pieces of every partition (the real continuations too, so prompts stay paired), each
# cut evaluated as a run of its own (artifacts/<run>-n<n>/), and the widths of distance and
# oa_mean printed side by side. The pieces' seeds do not depend on how many there are, so the
# first n pieces are the pieces a run of n would generate.
#
# Usage: scripts/analysis/pieces.sh CONFIG N...   (each N at most the run's pieces_per_sampler)
set -euo pipefail
cd "$(dirname "$0")/../.."
config=$1
shift
pipeline=${PIPELINE:-cargo run --release --quiet --bin pipeline --}
run=$(sed -n 's/^name *= *"\([^"]*\)".*/\1/p' "$config" | head -1)
artifacts=$(sed -n 's/^artifacts_dir *= *"\([^"]*\)".*/\1/p' "$config" | head -1)
artifacts=${artifacts:-artifacts}
src="$artifacts/$run"
[ -d "$src/generated" ] || { echo "no $src/generated: run \`pipeline run generate --config $config\` first" >&2; exit 1; }
for n in "$@"; do
  name="$run-n$n"
  dir="$artifacts/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -r "$src/generated" "$dir/generated"
  # NNN.mid and its audio beyond the first n go.
  find "$dir/generated" -name '[0-9][0-9][0-9].*' | while read -r f; do
    stem=$(basename "$f")
    stem=${stem%%.*}
    if [ $((10#$stem)) -ge "$n" ]; then rm "$f"; fi
  done
  sed -e "s/^name *= *\"$run\"/name = \"$name\"/" \
      -e "s/^pieces_per_sampler *= *[0-9]*/pieces_per_sampler = $n/" "$config" > "$dir.toml"
  $pipeline run evaluate --config "$dir.toml" --force > /dev/null
  echo "== $n pieces a row"
  $pipeline query --config "$dir.toml" \
    "SELECT task, sampler, scope, n_pieces, round(distance, 3) AS distance, \
            round(distance_hi - distance_lo, 3) AS distance_width, round(oa_mean, 3) AS oa_mean, \
            round(oa_mean_hi - oa_mean_lo, 3) AS oa_mean_width, tied_with_best \
     FROM summary WHERE metric = 'h1' AND sampler <> 'real' ORDER BY scope, task, distance"
done
