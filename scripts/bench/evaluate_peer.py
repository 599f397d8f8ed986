"""Plain-Python versions of every metric (docs/design.md, "Metrics") over a folder of MIDI, read
with mido.

The peer baseline of `pipeline bench evaluate` (src/bench/evaluate.rs), and an independent
cross-check of its values. Written for cadenza; only mido is third-party (installed into the
bench venv by scripts/bench/venv.sh, never committed). The reader mirrors crate::midi::read: ticks rescaled to 480 per beat
with floor, drum channel (9) dropped, velocity-0 note-on is a note-off, overlapping notes of one
pitch pair first-in first-out, notes open at the end close at the track's last tick, zero-length
notes dropped. GS uses per-position counts (the same algorithm as the Rust code), so the timing
compares implementations, not algorithms; the other metrics are written as the definitions read.

    python evaluate_peer.py DIR [--values OUT.jsonl]

Prints one JSON line last: files, errors, seconds (read + metrics), read_seconds. With
--values, writes one JSON object per file: piece, every metric by its column name (null where
undefined), or error.
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


def step_of(tick):
    # round(tick * 4 / 480), halves up
    return (tick + 60) // 120


def mean(values):
    return sum(values) / len(values) if values else float("nan")


MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


def metrics(notes):
    """Every metric of docs/design.md, by its column name."""
    steps = [step_of(start) for (start, _, _, _) in notes]
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
        groove = float("nan")
    else:
        differing = 0
        for p in range(16):
            k = sum(onsets[b][p] for b in range(n_bars))
            differing += k * (n_bars - k)
        pairs = n_bars * (n_bars - 1) // 2
        gs = 1.0 - differing / (16 * pairs)
        diffs = [sum(abs(onsets[i][p] - onsets[i + 1][p]) for p in range(16)) / 16 for i in range(n_bars - 1)]
        groove = 1.0 - mean(diffs)

    pitches = [n[2] for n in notes]
    class_hist = [0] * 12
    for p in pitches:
        class_hist[p % 12] += 1
    in_scale = 0
    for root in range(12):
        for scale in (MAJOR, MINOR):
            in_scale = max(in_scale, sum(class_hist[(root + d) % 12] for d in scale))

    # The distinct pitches sounding on each step: a note sounds on [s, max(s + 1, e)).
    sounding = [set() for _ in range(16 * n_bars)]
    for (start, end, pitch, _), s in zip(notes, steps):
        e = max(s + 1, step_of(end))
        for t in range(s, min(e, 16 * n_bars)):
            sounding[t].add(pitch)
    counts = [len(x) for x in sounding if x]
    beats = 4 * n_bars
    empty_beats = sum(1 for b in range(beats) if not any(sounding[4 * b + k] for k in range(4)))

    distinct_onsets = sorted(set(steps))
    iois = [(b - a) / 4 for a, b in zip(distinct_onsets, distinct_onsets[1:])]
    ordered = sorted(zip(steps, pitches))
    jumps = [abs(b[1] - a[1]) for a, b in zip(ordered, ordered[1:])]
    empty_bars = sum(1 for hb in hists if sum(hb) == 0)

    # Structure: each bar's set of (position, pitch); a bar repeats when an earlier one equals it.
    bar_sets = [set() for _ in range(n_bars)]
    for (_, _, pitch, _), s in zip(notes, steps):
        bar_sets[s // 16].add((s % 16, pitch))
    later = [i for i in range(1, n_bars) if bar_sets[i]]
    repeated = [i for i in later if any(bar_sets[j] == bar_sets[i] for j in range(i))]
    per_bar = [sum(hb) for hb in hists]
    if n_bars < 16 or sum(per_bar[:8]) == 0:
        drift = float("nan")
    else:
        drift = sum(per_bar[-8:]) / sum(per_bar[:8])
    longest, streak = 0, 0
    for k, (_, p) in enumerate(ordered):
        streak = streak + 1 if k > 0 and ordered[k - 1][1] == p else 1
        longest = max(longest, streak)

    return {
        "h1": h(1),
        "h4": h(4),
        "gs": gs,
        "n_bars": n_bars,
        "n_notes": len(notes),
        "notes_per_bar": len(notes) / n_bars,
        "pitch_range": max(pitches) - min(pitches),
        "mean_velocity": mean([n[3] for n in notes]),
        "mean_duration_beats": mean([(n[1] - n[0]) / TPB for n in notes]),
        "empty_bar_share": empty_bars / n_bars,
        "pc_entropy": entropy(class_hist),
        "n_pitch_classes": sum(1 for c in class_hist if c > 0),
        "scale_consistency": in_scale / len(pitches),
        "groove_consistency": groove,
        "polyphony": mean(counts),
        "empty_beat_rate": empty_beats / beats,
        "mean_ioi": mean(iois),
        "mean_pitch_jump": mean(jumps),
        "repeated_bar_share": len(repeated) / len(later) if later else float("nan"),
        "density_drift": drift,
        "longest_pitch_run": longest,
    }


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
        row = {"piece": piece_name(root, path)}
        row.update({k: finite(v) for k, v in metrics(notes).items()})
        rows.append(row)
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
