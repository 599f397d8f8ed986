#!/usr/bin/env bash
# Puts the Pop1K7 corpus at data/raw/pop1k7: a link to ../shared when present, else a clone of
# the public dataset repository when the network allows, else the built-in demo corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=data/raw/pop1k7
shared=../shared/data/pop1k7/midi_analyzed
# Overridable for tests: where to clone from, and how to run the pipeline binary.
url=${CADENZA_DATA_URL:-https://github.com/tanchihpin0517/dataset-pop1k7}
pipeline=${PIPELINE:-cargo run --release --quiet --bin pipeline --}
mkdir -p data/raw
if [ -e "$dest" ] && [ ! -f "$dest/DEMO_CORPUS.txt" ]; then
  echo "data: $dest is present"
  exit 0
fi
if [ -d "$shared" ]; then
  rm -rf "$dest"
  ln -sfn "$(cd "$shared" && pwd)" "$dest"
  echo "data: linked $dest -> $shared"
  exit 0
fi
if [ -e "$dest" ]; then
  echo "data: $dest holds the DEMO corpus (no real corpus found)" >&2
  exit 0
fi
tmp=$(mktemp -d)
if timeout 300 git clone --depth 1 --quiet "$url" "$tmp/repo" 2>/dev/null \
   && [ -d "$tmp/repo/midi_analyzed" ]; then
  mv "$tmp/repo/midi_analyzed" "$dest"
  rm -rf "$tmp"
  echo "data: downloaded Pop1K7 into $dest"
  exit 0
fi
rm -rf "$tmp"
echo "!!! data: no Pop1K7 corpus (no ../shared copy, no network): writing the small built-in DEMO corpus !!!" >&2
$pipeline demo-data --out "$dest"
