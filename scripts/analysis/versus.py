"""Every sampler's distance against one chosen sampler's, per task, with a paired bootstrap.

Distance to the reference is the summary's (Σ over H1, H4, GS of |mean − reference mean| /
reference std); each draw resamples every sampler's pieces jointly over the three metrics and
the reference once for all samplers (paired), 2000 draws, seed 1234; the verdict is "closer" or
"farther" when the 95% interval of the difference excludes 0, else "noise". `pipeline report`
prints each row's gap to the best row the same way (`=` marks the tied ones); this script
compares with any sampler, e.g. the earlier default's best (README "Samplers").

Usage: pipeline query --format csv "SELECT task, sampler, scope, h1, h4, gs FROM pieces" > p.csv
       python3 scripts/analysis/versus.py p.csv t1.0_k40
"""
import csv, sys, random, statistics as st
rows = list(csv.DictReader(open(sys.argv[1])))
anchor = sys.argv[2] if len(sys.argv) > 2 else 't1.0_k40'
M = ['h1', 'h4', 'gs']
def vals(task, sampler, scope):
    out = []
    for r in rows:
        if (r['task'], r['sampler'], r['scope']) == (task, sampler, scope):
            v = [float(r[m]) if r[m] not in ('', 'NaN', 'nan') else None for m in M]
            out.append(v)
    return out
def mean(xs, k):
    v = [x[k] for x in xs if x[k] is not None and x[k] == x[k]]
    return sum(v) / len(v)
def dist(s, ref, sd):
    return sum(abs(mean(s, k) - mean(ref, k)) / sd[k] for k in range(3))
rng = random.Random(1234)
for task, scope, ref_key in [('continuation', 'continuation', ('continuation', 'real')), ('unconditional', 'piece', ('reference', 'real'))]:
    ref = vals(ref_key[0], ref_key[1], scope)
    sd = [st.stdev([x[k] for x in ref if x[k] == x[k]]) for k in range(3)]
    samplers = sorted({r['sampler'] for r in rows if r['task'] == task and r['sampler'] != 'real'})
    data = {s: vals(task, s, scope) for s in samplers}
    if anchor not in data: continue
    boots = {s: [] for s in samplers}
    for _ in range(2000):
        rr = [rng.choice(ref) for _ in ref]
        for s in samplers:
            xs = data[s]; boots[s].append(dist([rng.choice(xs) for _ in xs], rr, sd))
    res = []
    for s in samplers:
        d = dist(data[s], ref, sd)
        b = sorted(boots[s]); diff = sorted(x - y for x, y in zip(boots[s], boots[anchor]))
        lo, hi = b[50], b[1949]; dlo, dhi = diff[50], diff[1949]
        verdict = 'closer' if dhi < 0 else ('farther' if dlo > 0 else 'noise')
        res.append((d, s, lo, hi, dlo, dhi, verdict))
    print(f'## {task} (vs {anchor})')
    for d, s, lo, hi, dlo, dhi, v in sorted(res):
        print(f'| {task}/{s} | {d:.2f} [{lo:.2f}, {hi:.2f}] | {d - dist(data[anchor], ref, sd):+.2f} [{dlo:+.2f}, {dhi:+.2f}] | {v} |')
