"""PyTorch CPU reference for the cadenza training benchmark.

A plain Transformer-XL with the same shapes and the same step as cadenza's Burn model
(src/model/transformer_xl.rs, src/train/bench.rs): scaled embedding, sinusoidal relative
positions, relative attention with r_w_bias / r_r_bias and the rel-shift, post-norm layers,
memory of mem_len states per layer without gradient, dropout at the same places (embedding,
positions, attention output, feed-forward inner and output, final hidden), tied output
projection + bias, mean cross-entropy, backward, global-norm clipping to 1.0, AdamW. Uniform
random tokens. Run by `pipeline bench train` (src/bench/mod.rs) in the bench venv.
Prints one JSON line with tokens/s.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, d_model, n_head, d_head, d_inner, dropout):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.n_head, self.d_head = n_head, d_head
        self.q_net = nn.Linear(d_model, n_head * d_head, bias=False)
        self.kv_net = nn.Linear(d_model, 2 * n_head * d_head, bias=False)
        self.r_net = nn.Linear(d_model, n_head * d_head, bias=False)
        self.o_net = nn.Linear(n_head * d_head, d_model, bias=False)
        self.r_w_bias = nn.Parameter(torch.zeros(n_head, d_head))
        self.r_r_bias = nn.Parameter(torch.zeros(n_head, d_head))
        self.norm_attn = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, d_inner)
        self.ff2 = nn.Linear(d_inner, d_model)
        self.norm_ff = nn.LayerNorm(d_model)

    @staticmethod
    def rel_shift(x):
        b, h, t, k = x.shape
        x = torch.cat([x.new_zeros(b, h, t, 1), x], dim=3).view(b, h, k + 1, t)
        return x[:, :, 1:].reshape(b, h, t, k)

    def forward(self, h, mem, pos, mask):
        b, t, _ = h.shape
        cat = h if mem is None else torch.cat([mem, h], 1)
        klen = cat.shape[1]
        nh, dh = self.n_head, self.d_head
        q = self.q_net(h).view(b, t, nh, dh).transpose(1, 2)
        k, v = self.kv_net(cat).split(nh * dh, dim=2)
        k = k.view(b, klen, nh, dh).transpose(1, 2)
        v = v.view(b, klen, nh, dh).transpose(1, 2)
        r = self.r_net(pos).view(1, klen, nh, dh).transpose(1, 2)
        scale = 1 / math.sqrt(dh)
        ac = ((q + self.r_w_bias[None, :, None]) * scale) @ k.transpose(2, 3)
        bd = self.rel_shift(((q + self.r_r_bias[None, :, None]) * scale) @ r.transpose(2, 3))
        score = (ac + bd).masked_fill(mask, -1e9)
        out = (score.softmax(3) @ v).transpose(1, 2).reshape(b, t, nh * dh)
        h = self.norm_attn(h + self.drop(self.o_net(out)))
        return self.norm_ff(h + self.drop(self.ff2(self.drop(F.relu(self.ff1(h))))))


class TransformerXl(nn.Module):
    def __init__(self, vocab, n_layer, d_model, n_head, d_inner, mem_len, dropout):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.d_model, self.mem_len = d_model, mem_len
        self.embed = nn.Embedding(vocab, d_model)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.out_bias = nn.Parameter(torch.zeros(vocab))
        self.layers = nn.ModuleList(Layer(d_model, n_head, d_model // n_head, d_inner, dropout) for _ in range(n_layer))

    def sinusoids(self, klen):
        pos = torch.arange(klen - 1, -1, -1.0)
        inv = 1 / (10000 ** (torch.arange(0, self.d_model, 2.0) / self.d_model))
        x = pos[:, None] * inv[None]
        return torch.cat([x.sin(), x.cos()], 1)

    def forward(self, tokens, mems):
        t = tokens.shape[1]
        mlen = 0 if mems is None else mems[0].shape[1]
        klen = mlen + t
        h = self.drop(self.embed(tokens) * math.sqrt(self.d_model))
        pos = self.drop(self.sinusoids(klen))
        mask = torch.triu(torch.ones(t, klen, dtype=torch.bool), diagonal=1 + mlen)[None, None]
        new = []
        for n, layer in enumerate(self.layers):
            mem = None if mems is None else mems[n]
            cat = h if mem is None else torch.cat([mem, h], 1)
            new.append(cat[:, -self.mem_len:].detach())
            h = layer(h, mem, pos, mask)
        return self.drop(h) @ self.embed.weight.t() + self.out_bias, new


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vocab", type=int, default=400)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--d-inner", type=int, default=1024)
    p.add_argument("--tgt-len", type=int, default=256)
    p.add_argument("--mem-len", type=int, default=256)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=0)
    # PyTorch's fastest CPU mode: bf16 compute (oneDNN uses AVX-512 BF16 / AMX where the CPU
    # has them), f32 master weights and optimizer state, the loss in f32.
    p.add_argument("--autocast", choices=["none", "bf16"], default="none")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = TransformerXl(a.vocab, a.n_layer, a.d_model, a.n_head, a.d_inner, a.mem_len, a.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    mems = None
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            start = time.perf_counter()
        data = torch.randint(0, a.vocab, (a.batch, a.tgt_len + 1))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast == "bf16"):
            logits, mems = model(data[:, :-1], mems)
        loss = F.cross_entropy(logits.float().reshape(-1, a.vocab), data[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    secs = time.perf_counter() - start
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "autocast": a.autocast, "threads": torch.get_num_threads(),
        "steps": a.steps, "batch_size": a.batch, "tgt_len": a.tgt_len,
        "ms_per_step": secs * 1e3 / a.steps, "tokens_per_sec": a.steps * a.batch * a.tgt_len / secs,
        "last_loss": loss.item(),
    }))


if __name__ == "__main__":
    main()
