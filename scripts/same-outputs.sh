#!/usr/bin/env bash
# Runs two builds of `pipeline` on the same short config over the real corpus and checks that
# their outputs are byte-identical: token shards, the checkpoints (weights, optimizer state, XL
# memory, progress), every generated MIDI and WAV with its table, both metrics tables and the
# listening page's figures.
#
# Burn gives every parameter a random id, stored in its record files: in model.bin the ids are
# masked; in optim.bin, whose entries are ordered by id, the entries are compared as a set. The
# partitions' fingerprint.txt hash the checkpoint's raw bytes (ids included), so they differ
# between any two training runs and are left out; manifests hold wall times.
#
#   scripts/same-outputs.sh BEFORE_DIR AFTER_DIR
#
# Each DIR is a checkout with its binary built; each binary runs from its own checkout. The
# binaries are DIR/target/release/pipeline, or BEFORE_BIN / AFTER_BIN (with one shared
# CARGO_TARGET_DIR, copy each build's binary aside). Both write into the same absolute paths,
# one after the other (the metrics tables record file paths); the first outputs are moved aside.
set -euo pipefail
before=$(cd "$1" && pwd); after=$(cd "$2" && pwd)
before_bin=${BEFORE_BIN:-$before/target/release/pipeline}
after_bin=${AFTER_BIN:-$after/target/release/pipeline}
work=${WORK:-/var/tmp/cadenza-same-outputs}
raw=$(cd "$(dirname "$0")/.." && pwd)/data/raw/pop1k7
[ -d "$raw" ] || { echo "no corpus at $raw: run make data" >&2; exit 2; }

run_side() { # checkout, binary, name
  rm -rf "$work/run"; mkdir -p "$work/run"
  cat > "$work/run/cfg.toml" <<CFG
[run]
name = "same"
seed = 1234
raw_dir = "$raw"
tokens_dir = "$work/run/tokens"
artifacts_dir = "$work/run/artifacts"
[model]
preset = "small"
tgt_len = 128
mem_len = 128
[train]
batch_size = 8
lr = 1e-3
min_lr = 5e-5
warmup_steps = 20
max_steps = 120
max_minutes = 0
eval_every = 60
valid_tokens = 8192
checkpoint_every = 50
log_every = 20
[generate]
pieces_per_sampler = 8
n_prompts = 8
[[generate.sampler]]
name = "t0.8_k20"
temperature = 0.8
top_k = 20
[[generate.sampler]]
name = "t1.0_p0.9"
top_p = 0.9
CFG
  (cd "$1" && "$2" run all --config "$work/run/cfg.toml") >"$work/$3.log" 2>&1 \
    || { tail -20 "$work/$3.log"; echo "$3 failed" >&2; exit 1; }
  rm -rf "$work/$3"; mv "$work/run" "$work/$3"
}

if [ -z "${COMPARE_ONLY:-}" ]; then  # COMPARE_ONLY=1: compare the outputs of the last runs
  run_side "$before" "$before_bin" before
  run_side "$after" "$after_bin" after
fi

python3 - "$work/before" "$work/after" <<'PY'
import json, pathlib, re, sys
a, b = map(pathlib.Path, sys.argv[1:])
ids = re.compile(rb"\x0d[0-9a-v]{13}")  # Burn's ParamId: 8 random bytes, base32 (13 chars)
renamed = {"samples.parquet": "pieces.parquet"}  # the generated store's table, renamed in #13
def files(root):
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            out[re.sub(r"[^/]+$", lambda m: renamed.get(m.group(0), m.group(0)), rel)] = p
    return out
def wanted(rel):
    name = rel.rsplit("/", 1)[-1]
    if name in ("manifest.json", "cfg.toml", "index.html", "fingerprint.txt"):
        return False  # wall times; raw checkpoint bytes (see above)
    if "/tensorboard/" in rel:
        return False  # wall times and host names
    return True
fa, fb = files(a), files(b)
bad, checked = [], 0
for rel in sorted(set(fa) | set(fb)):
    if not wanted(rel):
        continue
    if rel not in fa or rel not in fb:
        bad.append(f"only in {'before' if rel in fa else 'after'}: {rel}")
        continue
    x, y = fa[rel].read_bytes(), fb[rel].read_bytes()
    if rel.endswith("state.json"):
        x, y = (json.loads(v) for v in (x, y))
        for s in (x, y):
            s.pop("elapsed_secs")
    elif rel.endswith("/optim.bin"):
        x, y = sorted(ids.split(x)), sorted(ids.split(y))
    elif rel.endswith("/model.bin"):
        x, y = ids.sub(b"<id>", x), ids.sub(b"<id>", y)
    checked += 1
    if x != y:
        bad.append(f"differs: {rel}")
kinds = {}
for rel in fa:
    if wanted(rel):
        k = rel.rsplit(".", 1)[-1]
        kinds[k] = kinds.get(k, 0) + 1
print(f"compared {checked} files ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
for line in bad:
    print(line)
sys.exit(1 if bad else 0)
PY
echo "same outputs: yes"
