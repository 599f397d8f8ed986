"""MusPy's own versions of the metrics cadenza shares with it, over a folder of MIDI: speed only.

Part of `pipeline bench evaluate` (src/bench/evaluate.rs); MusPy is installed into the bench venv
by scripts/bench/venv.sh, never committed. Its definitions differ from docs/design.md in places,
so only the time is compared: polyphony, groove_consistency and empty_measure_rate work on the
file's own ticks, not on 16 steps a bar (an onset one tick off the grid is another position);
empty_beat_rate marks every beat from a note's start to its end inclusive and stops at the last
note-off instead of the last bar's end; pitch_range, n_pitch_classes_used, pitch_class_entropy
and scale_consistency match cadenza's pitch_range, n_pitch_classes, pc_entropy and
scale_consistency.

    python muspy_metrics.py DIR

Prints one JSON line: files, errors, seconds (read + metrics), read_seconds, metrics (names).
"""

import json
import sys
import time

from evaluate_peer import midi_files  # the same file list, in the same order

METRICS = [
    "pitch_range",
    "n_pitch_classes_used",
    "pitch_class_entropy",
    "scale_consistency",
    "polyphony",
    "empty_beat_rate",
    "groove_consistency",
    "empty_measure_rate",
]


def score(muspy, music):
    # A 4/4 bar at the file's resolution, as cadenza assumes.
    bar = 4 * music.resolution
    return [
        muspy.pitch_range(music),
        muspy.n_pitch_classes_used(music),
        muspy.pitch_class_entropy(music),
        muspy.scale_consistency(music),
        muspy.polyphony(music),
        muspy.empty_beat_rate(music),
        muspy.groove_consistency(music, bar),
        muspy.empty_measure_rate(music, bar),
    ]


def run(root):
    import muspy

    files = midi_files(root)
    errors = 0
    read_s = 0.0
    t0 = time.perf_counter()
    for path in files:
        t = time.perf_counter()
        try:
            music = muspy.read_midi(path)
        except Exception:  # noqa: BLE001 - an unreadable file is counted, not fatal
            errors += 1
            continue
        finally:
            read_s += time.perf_counter() - t
        score(muspy, music)
    seconds = time.perf_counter() - t0
    print(json.dumps({"files": len(files), "errors": errors, "seconds": seconds, "read_seconds": read_s, "metrics": METRICS}))


if __name__ == "__main__":
    run(sys.argv[1])
