#!/usr/bin/env python3
"""Pitch spread of a generated store, from each partition's samples.parquet: over the first 32
bars of every piece, the full pitch range, the range of the central 95 % of notes, the pitch
classes used and the share of notes outside the piece's seven most used pitch classes.

    python scripts/analysis/pitch_spread.py artifacts/study/generated   # needs pyarrow, numpy

docs/study.md "Decoder window and pitch" quotes it: it tells stray notes from a drifting register.
"""
import pyarrow.parquet as pq, numpy as np, glob, sys, json
vocab = json.load(open('data/tokens/remi/vocab.json'))
P0 = [int(k) for k,v in vocab.items() if v.startswith('Pitch_')]; P0=min(P0)
def pitches_by_bar(toks, bars=32):
    out=[]; bar=-1
    for t in toks:
        if t==3: bar+=1
        if bar>=bars: break
        if P0 <= t < P0+88: out.append((bar, t-P0+21))
    return out
def stats(rows, label):
    rng=[];r90=[];pcs=[];outl=[]
    for toks in rows:
        pb=pitches_by_bar(toks)
        p=np.array([x for _,x in pb])
        if len(p)<10: continue
        rng.append(p.max()-p.min()); r90.append(np.percentile(p,97.5)-np.percentile(p,2.5))
        pc=np.bincount(p%12,minlength=12)/len(p); pcs.append((pc>0).sum())
        # share of notes outside the 7 most used pitch classes
        top7=np.sort(pc)[::-1][:7].sum(); outl.append(1-top7)
    print(f"{label:40s} n={len(rng):3d} range {np.mean(rng):5.1f}  2.5-97.5% range {np.mean(r90):5.1f}  pcs {np.mean(pcs):5.2f}  notes outside top-7 pcs {100*np.mean(outl):4.1f}%")
root=sys.argv[1]
for part in sorted(glob.glob(root+'/task=*/sampler=*/samples.parquet')):
    t=pq.read_table(part).to_pydict()
    stats(t['tokens'], part.split(root)[1].rsplit('/',1)[0])
