"""PyTorch CPU reference for the cadenza generation benchmark.

Transformer-XL decoding with a key/value cache, as a PyTorch user would write it: the same
shapes as cadenza's model (scaled embedding, relative attention with r_w_bias / r_r_bias over
sinusoidal distances, post-norm layers, tied output projection + bias), one token per row per
step, each layer's keys and values of the last `keys` positions cached (the new position's
appended, the oldest dropped), the relative-position keys r_net(sinusoids) computed once.
Sampling is top-k then a multinomial draw (no grammar: less work than cadenza's decoder does).
Random weights (speed does not depend on them), inference mode. Run by `pipeline bench
generate` (src/bench/generate.rs) in the bench venv. Prints one JSON line with tokens/s.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, d_model, n_head, d_inner):
        super().__init__()
        self.n_head, self.d_head = n_head, d_model // n_head
        self.q_net = nn.Linear(d_model, d_model, bias=False)
        self.kv_net = nn.Linear(d_model, 2 * d_model, bias=False)
        self.r_net = nn.Linear(d_model, d_model, bias=False)
        self.o_net = nn.Linear(d_model, d_model, bias=False)
        self.r_w_bias = nn.Parameter(torch.randn(n_head, 1, self.d_head) * 0.02)
        self.r_r_bias = nn.Parameter(torch.randn(n_head, 1, self.d_head) * 0.02)
        self.norm_attn = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, d_inner)
        self.ff2 = nn.Linear(d_inner, d_model)
        self.norm_ff = nn.LayerNorm(d_model)

    def step(self, h, cache, r):
        """h [B, d]; cache (k, v) [B, H, n, Dh] or None; r [H, K, Dh] (row i: distance K-1-i)."""
        b = h.shape[0]
        nh, dh = self.n_head, self.d_head
        q = self.q_net(h).view(b, nh, 1, dh)
        k, v = self.kv_net(h).view(b, 2, nh, 1, dh).unbind(1)
        if cache is not None:
            k = torch.cat([cache[0], k], 2)[:, :, -r.shape[1]:]
            v = torch.cat([cache[1], v], 2)[:, :, -r.shape[1]:]
        klen = k.shape[2]
        scale = 1 / math.sqrt(dh)
        ac = ((q + self.r_w_bias) * scale) @ k.transpose(2, 3)
        bd = ((q + self.r_r_bias) * scale) @ r[:, r.shape[1] - klen:].transpose(1, 2)
        out = ((ac + bd).softmax(3) @ v).reshape(b, nh * dh)
        h = self.norm_attn(h + self.o_net(out))
        return self.norm_ff(h + self.ff2(F.relu(self.ff1(h)))), (k, v)


class Model(nn.Module):
    def __init__(self, vocab, n_layer, d_model, n_head, d_inner, keys):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab, d_model)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.out_bias = nn.Parameter(torch.zeros(vocab))
        self.layers = nn.ModuleList(Layer(d_model, n_head, d_inner) for _ in range(n_layer))
        pos = torch.arange(keys - 1, -1, -1.0)
        inv = 1 / (10000 ** (torch.arange(0, d_model, 2.0) / d_model))
        x = pos[:, None] * inv[None]
        self.sin = torch.cat([x.sin(), x.cos()], 1)

    def position_keys(self):
        return [l.r_net(self.sin).view(-1, l.n_head, l.d_head).transpose(0, 1).contiguous() for l in self.layers]

    def step(self, tokens, caches, rs):
        h = self.embed(tokens) * math.sqrt(self.d_model)
        out = []
        for layer, cache, r in zip(self.layers, caches, rs):
            h, c = layer.step(h, cache, r)
            out.append(c)
        return h @ self.embed.weight.t() + self.out_bias, out


def run(model, batch, steps, top_k, sample):
    rs = model.position_keys()
    caches = [None] * len(model.layers)
    tokens = torch.ones(batch, dtype=torch.long)
    for _ in range(steps):
        logits, caches = model.step(tokens, caches, rs)
        if sample:
            vals, idx = logits.topk(top_k, dim=1)
            pick = torch.multinomial(vals.softmax(1), 1)
            tokens = idx.gather(1, pick).squeeze(1)
        else:
            tokens = torch.randint(0, logits.shape[1], (batch,))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vocab", type=int, default=386)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--d-inner", type=int, default=1024)
    p.add_argument("--keys", type=int, default=256, help="cached keys per step, its own included")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batches", default="1,20")
    p.add_argument("--top-k", type=int, default=40)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Model(a.vocab, a.n_layer, a.d_model, a.n_head, a.d_inner, a.keys).eval()
    result = {"impl": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads()}
    with torch.inference_mode():
        run(model, 1, 16, a.top_k, True)  # warm-up
        for batch in [int(b) for b in a.batches.split(",")]:
            for sample in (False, True):
                t0 = time.perf_counter()
                run(model, batch, a.steps, a.top_k, sample)
                secs = time.perf_counter() - t0
                key = f"batch{batch}_{'sampled' if sample else 'steps'}_tokens_per_sec"
                result[key] = batch * a.steps / secs
    print(json.dumps(result))


if __name__ == "__main__":
    main()
