#!/usr/bin/env bash
# The pipeline on Slurm: tokenize as an array job of N parts, then train, generate, evaluate
# and report, each starting once the job before it has succeeded (--dependency=afterok; a
# failure cancels the rest). Train asks for a GPU when the binary was built with
# `--features cuda`. Each job's log goes to $LOG_DIR (default logs/slurm/):
# tokenize-<job>_<part>.out, train-<job>.out, ...
#
#   pipelines/slurm/submit.sh [--config FILE] [--parts N] [--wait]
#
# PIPELINE (default the checkout's target/release/pipeline, from `make build`) is the binary
# the jobs run, in the folder the script is started from;
# CPUS (default 2) the CPUs of each job after tokenize; extra sbatch options (a partition, an
# account) go in SBATCH_ARGS. With --wait the script stays until every job has ended, prints
# each job's state and exits non-zero unless all completed.
set -euo pipefail
# The jobs run in the folder this is started from (the config's relative paths start there).
here=$(cd "$(dirname "$0")" && pwd)

config=configs/default.toml
parts=4
wait=
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --parts) parts=$2; shift 2 ;;
    --wait) wait=1; shift ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
done
pipeline=${PIPELINE:-$here/../../target/release/pipeline}
if [ ! -x "$pipeline" ]; then
  echo "no $pipeline: build it first (make build), or set PIPELINE" >&2
  exit 1
fi
pipeline=$(realpath "$pipeline")
config=$(realpath "$config")
# Refuse a bad config here, not in a job an hour from now.
"$pipeline" status --config "$config" >/dev/null
logs=$(realpath -m "${LOG_DIR:-logs/slurm}")
mkdir -p "$logs"
script=$here/stage.sbatch
gpu=()
if "$pipeline" --version | grep -q 'backends:.*cuda'; then
  gpu=(--gres=gpu:1)
fi
read -r -a extra <<<"${SBATCH_ARGS:-}"

# sbatch with what every job shares; prints the job id.
submit() {
  sbatch --parsable --kill-on-invalid-dep=yes --export="ALL,PIPELINE=$pipeline,CONFIG=$config" \
    "${extra[@]}" "$@"
}
cpus=(--cpus-per-task="${CPUS:-2}")
tokenize=$(submit --job-name=cadenza-tokenize --array=0-$((parts - 1)) --cpus-per-task=1 \
  --output="$logs/tokenize-%A_%a.out" "$script" tokenize --shard "auto/$parts")
train=$(submit --job-name=cadenza-train --dependency=afterok:"$tokenize" "${cpus[@]}" "${gpu[@]}" \
  --output="$logs/train-%j.out" "$script" train)
generate=$(submit --job-name=cadenza-generate --dependency=afterok:"$train" "${cpus[@]}" \
  --output="$logs/generate-%j.out" "$script" generate)
evaluate=$(submit --job-name=cadenza-evaluate --dependency=afterok:"$generate" "${cpus[@]}" \
  --output="$logs/evaluate-%j.out" "$script" evaluate)
report=$(submit --job-name=cadenza-report --dependency=afterok:"$evaluate" --cpus-per-task=1 \
  --output="$logs/report-%j.out" "$script" report)
jobs="$tokenize $train $generate $evaluate $report"
echo "submitted: tokenize $tokenize (array 0-$((parts - 1))), train $train${gpu:+ (GPU)}, generate $generate, evaluate $evaluate, report $report"
echo "logs: $logs"
[ -n "$wait" ] || exit 0

while [ -n "$(squeue -h -j "${jobs// /,}" -o %i 2>/dev/null)" ]; do
  sleep 2
done
failed=0
for id in $jobs; do
  # An array job lists one line per task.
  while read -r line; do
    name=$(grep -o 'JobName=[^ ]*' <<<"$line" | cut -d= -f2)
    task=$(grep -o 'ArrayTaskId=[^ ]*' <<<"$line" | cut -d= -f2 || true)
    state=$(grep -o 'JobState=[^ ]*' <<<"$line" | cut -d= -f2)
    echo "job $id${task:+_$task} $name $state"
    [ "$state" = COMPLETED ] || failed=1
  done < <(scontrol -o show job "$id")
done
exit $failed
