"""MidiTok's REMI tokenizer (with symusic) over a folder of MIDI files, one process: the peer
baseline for `pipeline bench tokenize`. Prints one JSON line: files, ok, seconds (wall), cpu_seconds.

Like our side of the bench, the files are read into memory first, so the timed part is parsing
(symusic) + tokenizing (MidiTok), after one warm-up file."""
import json
import pathlib
import sys
import time

from miditok import REMI, TokenizerConfig
from symusic import Score

root = pathlib.Path(sys.argv[1])
files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
data = [f.read_bytes() for f in files]
# Closest MidiTok settings to our REMI: 16 steps per bar, 32 velocity bins, tempos, pitch 21..108.
config = TokenizerConfig(
    pitch_range=(21, 109),
    beat_res={(0, 4): 4, (4, 8): 4},
    num_velocities=32,
    use_tempos=True,
    num_tempos=49,
    tempo_range=(32, 224),
    use_chords=False,
)
tokenizer = REMI(config)


def tokenize(midi: bytes) -> bool:
    try:
        tokenizer(Score.from_midi(midi))
        return True
    except Exception:
        return False


if data:
    tokenize(data[0])  # warm-up
t0, cpu0 = time.perf_counter(), time.process_time()
ok = sum(tokenize(d) for d in data)
secs, cpu = time.perf_counter() - t0, time.process_time() - cpu0
print(json.dumps({"files": len(files), "ok": ok, "seconds": secs, "cpu_seconds": cpu}))
