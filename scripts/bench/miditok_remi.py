"""MidiTok's REMI tokenizer (with symusic) over a folder of MIDI files, one process: the peer
baseline for `pipeline bench tokenize`. Prints one JSON line: files, ok, seconds."""
import json
import pathlib
import sys
import time

from miditok import REMI, TokenizerConfig
from symusic import Score

root = pathlib.Path(sys.argv[1])
files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
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
ok = 0
t0 = time.perf_counter()
for f in files:
    try:
        tokens = tokenizer(Score(str(f)))
        ok += 1
    except Exception:
        pass
secs = time.perf_counter() - t0
print(json.dumps({"files": len(files), "ok": ok, "seconds": secs}))
