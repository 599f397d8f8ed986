"""What the summary's metrics miss, per partition of a generated store: loops (generated bars
whose (position, pitch) notes repeat an earlier generated bar's exactly), empty bars, the
longest run of one repeated pitch, and the drift of density (notes a bar in the first and the
last 8 generated bars; pieces whose density more than doubles). Reads each partition's
samples.parquet (its tokens); used for README "Samplers".

Usage: scripts/bench/venv.sh pyarrow  (prints the venv's python), then
       <python> scripts/analysis/structure.py artifacts/<run>/generated
"""
import glob
import statistics as st
import sys

BAR, EOS = 3, 2
POSITION = range(4, 20)
PITCH = range(202, 290)


def generated_bars(tokens, start_bar):
    """Each bar as the sorted (position, pitch) of its notes, from bar `start_bar` on."""
    bars, cur, pos = [], None, None
    for t in tokens:
        if t == BAR:
            if cur is not None:
                bars.append(tuple(sorted(cur)))
            cur = []
        elif t == EOS:
            break
        elif cur is not None:
            if t in POSITION:
                pos = t
            elif t in PITCH:
                cur.append((pos, t))
    if cur is not None:
        bars.append(tuple(sorted(cur)))
    return bars[start_bar:]


def longest_pitch_run(bars):
    best = run = 0
    last = None
    for b in bars:
        for _, p in b:
            run = run + 1 if p == last else 1
            last = p
            best = max(best, run)
    return best


def main(root):
    import pyarrow.parquet as pq
    print("| partition | repeated bars (mean, max) | empty bars | longest same-pitch run (median, max) | notes/bar first 8 -> last 8 | density doubled |")
    print("|---|---|---|---|---|---|")
    for f in sorted(glob.glob(f"{root}/task=*/sampler=*/samples.parquet")):
        d = pq.read_table(f).to_pydict()
        loops, empty, runs, first, last, doubled = [], [], [], [], [], 0
        for tokens, start in zip(d["tokens"], d["start_bar"]):
            bars = generated_bars(tokens, start)
            seen, repeated = set(), 0
            for b in bars:
                repeated += bool(b) and b in seen
                seen.add(b)
            loops.append(repeated / len(bars))
            empty.append(sum(not b for b in bars) / len(bars))
            runs.append(longest_pitch_run(bars))
            a, z = sum(map(len, bars[:8])) / 8, sum(map(len, bars[-8:])) / 8
            first.append(a)
            last.append(z)
            doubled += z > 2 * a
        name = f[len(root) + 1:].rsplit("/samples", 1)[0].replace("task=", "").replace("sampler=", "")
        print(f"| {name} | {100 * st.mean(loops):.1f} %, {100 * max(loops):.1f} % | {100 * st.mean(empty):.1f} % "
              f"| {st.median(runs):.0f}, {max(runs)} | {st.mean(first):.1f} -> {st.mean(last):.1f} | {doubled}/{len(runs)} |")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
