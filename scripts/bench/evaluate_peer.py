"""Plain-Python H1/H4/GS (docs/design.md, "Metrics") over a folder of MIDI, read with mido.

The peer baseline of `pipeline bench evaluate` (src/metrics/bench.rs), and an independent
cross-check of its values. Written for cadenza; only mido is third-party (installed into the
bench venv by scripts/bench/venv.sh, never committed). The reader mirrors crate::midi::read: ticks rescaled to 480 per beat
with floor, drum channel (9) dropped, velocity-0 note-on is a note-off, overlapping notes of one
pitch pair first-in first-out, notes open at the end close at the track's last tick, zero-length
notes dropped. GS uses per-position counts (the same algorithm as the Rust code), so the timing
compares implementations, not algorithms.

    python evaluate_peer.py DIR [--values OUT.jsonl]

Prints one JSON line last: files, errors, seconds (read + metrics), read_seconds. With
--values, writes one JSON object per file: piece, h1, h4, gs (null where undefined), n_notes,
error.
"""

import collections
import json
import math
import os
import sys
import time

TPB = 480


def read_notes(path):
    import mido

    mid = mido.MidiFile(path)
    if mid.type == 2:
        raise ValueError("type-2 MIDI")
    tpb = mid.ticks_per_beat
    notes = []  # (start, end, pitch, velocity)
    for track in mid.tracks:
        open_notes = collections.defaultdict(collections.deque)
        abs_tick = 0
        tick = 0
        for msg in track:
            abs_tick += msg.time
            tick = abs_tick * TPB // tpb
            if msg.type == "note_on" or msg.type == "note_off":
                if msg.channel == 9:
                    continue
                key = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    open_notes[key].append((tick, msg.velocity))
                elif open_notes[key]:
                    start, vel = open_notes[key].popleft()
                    if tick > start:
                        notes.append((start, tick, msg.note, vel))
        for (channel, pitch), queue in open_notes.items():
            for start, vel in queue:
                if tick > start:
                    notes.append((start, tick, pitch, vel))
    if not notes:
        raise ValueError("no notes")
    return notes


def entropy(hist):
    total = sum(hist)
    h = 0.0
    for c in hist:
        if c > 0:
            p = c / total
            h -= p * math.log2(p)
    return h


def metrics(notes):
    steps = [(start + 60) // 120 for (start, _, _, _) in notes]
    n_bars = max(steps) // 16 + 1
    hists = [[0] * 12 for _ in range(n_bars)]
    onsets = [[0] * 16 for _ in range(n_bars)]
    for (_, _, pitch, _), step in zip(notes, steps):
        hists[step // 16][pitch % 12] += 1
        onsets[step // 16][step % 16] = 1

    def h(w):
        if n_bars < w:
            total = [sum(hb[k] for hb in hists) for k in range(12)]
            return entropy(total)
        values = []
        for start in range(n_bars - w + 1):
            window = [sum(hists[b][k] for b in range(start, start + w)) for k in range(12)]
            if sum(window) > 0:
                values.append(entropy(window))
        return sum(values) / len(values)

    if n_bars < 2:
        gs = float("nan")
    else:
        differing = 0
        for p in range(16):
            k = sum(onsets[b][p] for b in range(n_bars))
            differing += k * (n_bars - k)
        pairs = n_bars * (n_bars - 1) // 2
        gs = 1.0 - differing / (16 * pairs)
    return h(1), h(4), gs, len(notes)


def midi_files(root):
    out = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.lower().endswith((".mid", ".midi")):
                out.append(os.path.join(dirpath, name))
    return sorted(out)


def piece_name(root, path):
    rel = os.path.relpath(path, root)
    return os.path.splitext(rel)[0].replace(os.sep, "/")


def finite(x):
    return None if isinstance(x, float) and math.isnan(x) else x


def run(root, values_path):
    files = midi_files(root)
    rows = []
    errors = 0
    read_s = 0.0
    t0 = time.perf_counter()
    for path in files:
        t = time.perf_counter()
        try:
            notes = read_notes(path)
        except Exception as e:  # noqa: BLE001 - any unreadable file is one error row
            errors += 1
            rows.append({"piece": piece_name(root, path), "error": str(e)})
            continue
        finally:
            read_s += time.perf_counter() - t
        h1, h4, gs, n = metrics(notes)
        rows.append({"piece": piece_name(root, path), "h1": finite(h1), "h4": finite(h4), "gs": finite(gs), "n_notes": n})
    seconds = time.perf_counter() - t0
    if values_path:
        with open(values_path, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    print(json.dumps({"files": len(files), "errors": errors, "seconds": seconds, "read_seconds": read_s}))


if __name__ == "__main__":
    args = sys.argv[1:]
    values = args[args.index("--values") + 1] if "--values" in args else None
    run(args[0], values)
