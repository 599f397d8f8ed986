//! One decoding step of Transformer-XL relative attention over a key/value ring buffer, on plain
//! f32 slices.
//!
//! At generation's shapes (one query per row, a few hundred keys, d_head 64) this is a few
//! thousand tiny dot products per layer. Burn runs each (row, head) pair as its own small matmul,
//! and those calls cost far more than their arithmetic; here they are loops the compiler
//! vectorises. The projections around it stay in Burn, where the matmuls are large enough.
//!
//! Per row b and head h, with the current position's query q (Dh = d_head):
//!   score[s] = ((q + u) · k[s] + (q + v) · r[dist(s)]) / sqrt(Dh),
//!   out = Σ_s softmax(score)[s] · v[s],
//! over the slots s that hold the last `slots` positions (the decoder's window, the current one
//! included). Each row keeps its own position, so rows whose prompts differ in length decode
//! side by side.

/// Shapes of one group of rows.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    pub rows: usize,
    pub heads: usize,
    pub d_head: usize,
    /// Ring size: the keys of the decoder's window.
    pub slots: usize,
}

impl Dims {
    fn width(&self) -> usize {
        self.heads * self.d_head
    }
}

/// One layer's cache: keys and values, each `[rows, H, slots, Dh]`.
///
/// Position t lives in slot `t % slots`, written in place, so a step costs the same at any
/// length (appending would copy the whole cache every step).
pub struct RingCache {
    k: Vec<f32>,
    v: Vec<f32>,
}

impl RingCache {
    pub fn new(d: Dims) -> Self {
        let n = d.rows * d.width() * d.slots;
        RingCache {
            k: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    /// Stores the keys and values `kv` (`[2 H Dh]`: keys, then values) of `row`'s position
    /// `pos` in its slot.
    pub fn write(&mut self, d: Dims, row: usize, pos: usize, kv: &[f32]) {
        let (dh, w) = (d.d_head, d.width());
        let (k, v) = kv.split_at(w);
        for h in 0..d.heads {
            let at = ((row * d.heads + h) * d.slots + pos % d.slots) * dh;
            self.k[at..at + dh].copy_from_slice(&k[h * dh..(h + 1) * dh]);
            self.v[at..at + dh].copy_from_slice(&v[h * dh..(h + 1) * dh]);
        }
    }

    /// A copy of `row`'s keys and values in its first `used` slots (the ones written so far),
    /// for [`RingCache::set_row`].
    pub fn row(&self, d: Dims, row: usize, used: usize) -> RowSlots {
        let used = used.min(d.slots);
        let (mut k, mut v) = (Vec::new(), Vec::new());
        for at in head_runs(d, row, used) {
            k.extend_from_slice(&self.k[at.clone()]);
            v.extend_from_slice(&self.v[at]);
        }
        RowSlots { k, v, used }
    }

    pub fn set_row(&mut self, d: Dims, row: usize, copy: &RowSlots) {
        let len = copy.used * d.d_head;
        for (h, at) in head_runs(d, row, copy.used).enumerate() {
            self.k[at.clone()].copy_from_slice(&copy.k[h * len..(h + 1) * len]);
            self.v[at].copy_from_slice(&copy.v[h * len..(h + 1) * len]);
        }
    }
}

/// The written slots of one cache row, as [`RingCache::row`] copies them.
pub struct RowSlots {
    k: Vec<f32>,
    v: Vec<f32>,
    used: usize,
}

/// Per head, the index range of `row`'s first `used` (<= slots) slots.
fn head_runs(d: Dims, row: usize, used: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..d.heads).map(move |h| {
        let at = (row * d.heads + h) * d.slots * d.d_head;
        at..at + used * d.d_head
    })
}

/// One layer's relative-position keys `r_net(sinusoids(slots))`, as `[H, 2 slots, Dh]`.
///
/// Row i of `sinusoids(K)` encodes distance K-1-i. Stored twice over, so the keys of every
/// rotation of the ring are one contiguous run of rows.
pub struct PosKeys {
    r: Vec<f32>,
    slots: usize,
}

impl PosKeys {
    /// `r` is `r_net(sinusoids(slots))`, row-major `[slots, H Dh]`.
    pub fn new(r: &[f32], heads: usize, d_head: usize) -> Self {
        let width = heads * d_head;
        let slots = r.len() / width;
        let mut out = Vec::with_capacity(2 * r.len());
        for h in 0..heads {
            for _ in 0..2 {
                for row in r.chunks_exact(width) {
                    out.extend_from_slice(&row[h * d_head..(h + 1) * d_head]);
                }
            }
        }
        PosKeys { r: out, slots }
    }

    /// The first row (of the doubled rows) for slot 0 after `seen` earlier positions.
    /// (`slots` here is the ring size.)
    /// Before the ring wraps slot s holds position s, at distance `seen - s`: row K-1-seen+s.
    /// After it wraps (current slot c), slot s is at distance (c - s) mod K: row
    /// (s + K-1-c) mod K, that is, row K-1-c+s of the doubled rows.
    fn start(&self, seen: usize) -> usize {
        let k = self.slots;
        if seen < k {
            k - 1 - seen
        } else {
            k - 1 - seen % k
        }
    }
}

/// One layer's inputs for one step.
#[derive(Clone, Copy)]
pub struct Step<'a> {
    /// `[rows, H Dh]`
    pub q: &'a [f32],
    /// `[rows, 2 H Dh]`: keys, then values.
    pub kv: &'a [f32],
    /// The learned biases r_w_bias and r_r_bias, `[H Dh]`.
    pub u: &'a [f32],
    pub vb: &'a [f32],
    pub pos: &'a PosKeys,
    /// Per row: positions fed before this one.
    pub seen: &'a [usize],
}

/// Writes this position's keys and values into the cache and returns the attention output,
/// row-major `[rows, H Dh]` (heads concatenated, ready for `o_net`).
pub fn attend(d: Dims, cache: &mut RingCache, x: &Step) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { attend_avx2(d, cache, x) };
    }
    attend_body(d, cache, x)
}

/// The same loops compiled for AVX2 (the default target is baseline x86-64, 4-wide SSE2).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn attend_avx2(d: Dims, cache: &mut RingCache, x: &Step) -> Vec<f32> {
    attend_body(d, cache, x)
}

#[inline(always)]
fn attend_body(d: Dims, cache: &mut RingCache, x: &Step) -> Vec<f32> {
    let Step {
        q,
        kv,
        u,
        vb,
        pos,
        seen,
    } = *x;
    let (dh, w, slots) = (d.d_head, d.width(), d.slots);
    let scale = 1.0 / (dh as f32).sqrt();
    let mut out = vec![0.0; d.rows * w];
    let (mut qu, mut qv) = (vec![0.0; dh], vec![0.0; dh]);
    let mut scores = vec![0.0; slots];
    for (b, out_row) in out.chunks_exact_mut(w).enumerate() {
        cache.write(d, b, seen[b], &kv[b * 2 * w..(b + 1) * 2 * w]);
        let klen = (seen[b] + 1).min(slots);
        let start = pos.start(seen[b]);
        let score = &mut scores[..klen];
        let q_row = &q[b * w..(b + 1) * w];
        for h in 0..d.heads {
            let head = h * dh..(h + 1) * dh;
            let base = (b * d.heads + h) * slots * dh;
            let (qh, uh, vh) = (&q_row[head.clone()], &u[head.clone()], &vb[head.clone()]);
            for i in 0..dh {
                qu[i] = (qh[i] + uh[i]) * scale;
                qv[i] = (qh[i] + vh[i]) * scale;
            }
            let keys = &cache.k[base..base + klen * dh];
            let rel = &pos.r[(h * 2 * slots + start) * dh..(h * 2 * slots + start + klen) * dh];
            for ((s, k), r) in score
                .iter_mut()
                .zip(keys.chunks_exact(dh))
                .zip(rel.chunks_exact(dh))
            {
                *s = dot(&qu, k) + dot(&qv, r);
            }
            softmax(score);
            let o = &mut out_row[head];
            let values = &cache.v[base..base + klen * dh];
            for (&p, v) in score.iter().zip(values.chunks_exact(dh)) {
                for (o, &v) in o.iter_mut().zip(v) {
                    *o += p * v;
                }
            }
        }
    }
    out
}

/// Eight partial sums, so the compiler can keep them in vector registers.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn softmax(x: &mut [f32]) {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in x.iter_mut() {
        *v /= sum;
    }
}
