#!/usr/bin/env python3
"""A numpy reference of cadenza's Transformer-XL, reading `pipeline export`'s safetensors.

    pip install numpy safetensors
    python scripts/reference/transformer_xl.py model.safetensors --tokens 1 3 4 202
    python scripts/reference/transformer_xl.py model.safetensors --check case.json

It follows src/model/transformer_xl.rs line by line (Dai et al. 2019, section 3 and appendix B):
scaled embedding, sinusoids of the distances klen-1..0, relative attention with the biases u
(r_w_bias) and v (r_r_bias) and the relative shift, a causal mask over memory + segment, the
memory of each layer's inputs, post- or pre-norm, and the tied output projection. Dropout is
off (inference). `--check` reads a JSON case that cadenza's test writes ({"segments": [[[ids
per row]] per segment], "logits": [...]}) and fails when a logit differs by more than the
tolerance.
"""

import argparse
import json
import sys

import numpy as np
from safetensors import safe_open


def load(path):
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        params = {k: f.get_tensor(k) for k in f.keys()}
    if meta.get("format") != "cadenza.transformer_xl":
        sys.exit(f"{path}: not a cadenza.transformer_xl file")
    return params, json.loads(meta["model_config"]), float(meta["layer_norm_eps"])


def sinusoids(klen, d):
    """[klen, d]: sin half then cos half of the distances klen-1 .. 0 (computed in f64)."""
    half = d // 2
    inv_freq = 1.0 / 10000.0 ** (2.0 * np.arange(half, dtype=np.float64) / d)
    p = np.arange(klen - 1, -1, -1, dtype=np.float64)[:, None] * inv_freq[None, :]
    return np.concatenate([np.sin(p), np.cos(p)], axis=1).astype(np.float32)


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def rel_shift(x):
    """[B, H, T, K]: pad a zero column in front, view [K+1, T], drop the first row, view back."""
    b, h, t, k = x.shape
    padded = np.concatenate([np.zeros((b, h, t, 1), x.dtype), x], axis=3)
    return padded.reshape(b, h, k + 1, t)[:, :, 1:].reshape(b, h, t, k)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attention(p, pre, h, mem, pos, cfg, eps):
    """Relative multi-head attention of one layer, `h` [B, T, d], `mem` [B, M, d] or None."""
    b, t, _ = h.shape
    nh, dh = cfg["n_head"], cfg["d_head"]
    cat = h if mem is None else np.concatenate([mem, h], axis=1)
    klen = cat.shape[1]
    if cfg["pre_norm"]:
        cat = layer_norm(cat, p[pre + "attn.layer_norm.weight"], p[pre + "attn.layer_norm.bias"], eps)
        seg = cat[:, klen - t:]
    else:
        seg = h
    w_kv = p[pre + "attn.kv_net.weight"]  # [2 H Dh, d]: keys, then values
    k = (cat @ w_kv[: nh * dh].T).reshape(b, klen, nh, dh)
    v = (cat @ w_kv[nh * dh:].T).reshape(b, klen, nh, dh)
    q = (seg @ p[pre + "attn.q_net.weight"].T).reshape(b, t, nh, dh)
    r = (pos @ p[pre + "attn.r_net.weight"].T).reshape(klen, nh, dh)
    scale = np.float32(1.0 / np.sqrt(dh))
    ac = np.einsum("bthd,bkhd->bhtk", (q + p[pre + "attn.r_w_bias"]) * scale, k)
    bd = np.einsum("bthd,khd->bhtk", (q + p[pre + "attn.r_r_bias"]) * scale, r)
    score = ac + rel_shift(bd)
    # Query i (absolute position klen - t + i) sees keys 0 ..= klen - t + i.
    mask = np.arange(klen)[None, :] > (klen - t + np.arange(t))[:, None]
    prob = softmax(np.where(mask, np.float32(-1e9), score))
    out = np.einsum("bhtk,bkhd->bthd", prob, v).reshape(b, t, nh * dh)
    return out @ p[pre + "attn.o_net.weight"].T


def forward(p, cfg, eps, tokens, mems):
    """tokens [B, T] -> logits [B, T, vocab] and the new memory (each layer's last mem_len inputs)."""
    d = cfg["d_model"]
    h = p["word_emb.weight"][tokens] * np.float32(np.sqrt(d))
    klen = (0 if mems is None else mems[0].shape[1]) + tokens.shape[1]
    pos = sinusoids(klen, d)
    new_mems = []
    for n in range(cfg["n_layer"]):
        pre = f"layers.{n}."
        mem = None if mems is None else mems[n]
        cat = h if mem is None else np.concatenate([mem, h], axis=1)
        new_mems.append(cat[:, -cfg["mem_len"]:])
        attn = attention(p, pre, h, mem, pos, cfg, eps)
        ln = lambda x, which: layer_norm(x, p[pre + which + ".weight"], p[pre + which + ".bias"], eps)
        h = h + attn if cfg["pre_norm"] else ln(h + attn, "attn.layer_norm")
        ff_in = ln(h, "ff.layer_norm") if cfg["pre_norm"] else h
        inner = np.maximum(ff_in @ p[pre + "ff.0.weight"].T + p[pre + "ff.0.bias"], 0)
        ff = inner @ p[pre + "ff.1.weight"].T + p[pre + "ff.1.bias"]
        h = h + ff if cfg["pre_norm"] else ln(h + ff, "ff.layer_norm")
    if cfg["pre_norm"]:
        h = layer_norm(h, p["final_norm.weight"], p["final_norm.bias"], eps)
    return h @ p["word_emb.weight"].T + p["out_bias"], new_mems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="a file `pipeline export` wrote")
    ap.add_argument("--tokens", type=int, nargs="*", help="token ids: print the next-token logits' argmax")
    ap.add_argument("--check", help="a JSON case: segments run with memory, logits compared")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args()
    p, cfg, eps = load(a.model)
    if a.check:
        case = json.load(open(a.check))
        mems, got = None, []
        for seg in case["segments"]:
            logits, mems = forward(p, cfg, eps, np.array(seg, dtype=np.int64), mems)
            got.append(logits)
        got = np.concatenate(got, axis=1)
        want = np.array(case["logits"], dtype=np.float32).reshape(got.shape)
        diff = float(np.abs(got - want).max())
        print(f"max |logit difference| {diff:.3g} over {got.size} logits (tolerance {a.tolerance:g})")
        sys.exit(0 if diff <= a.tolerance else 1)
    tokens = np.array([a.tokens or [1]], dtype=np.int64)
    logits, _ = forward(p, cfg, eps, tokens, None)
    print("next token:", int(logits[0, -1].argmax()))


if __name__ == "__main__":
    main()
