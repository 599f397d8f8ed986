//! A matrix product with bf16 inputs and f32 accumulation on AVX-512 BF16 (`vdpbf16ps`: per
//! 32-bit lane, two bf16 products added to an f32 sum, so twice the multiply-adds of an f32 FMA
//! per instruction). The inputs are f32 views; they are rounded to bf16 (to nearest, ties to
//! even) while they are packed; the sums and the output stay f32.
//!
//! Layout, as in GotoBLAS: the right operand is packed per `KC`-deep block into panels of `NR`
//! columns, each column's k pair one 32-bit word (`vdpbf16ps` multiplies pairs); the left
//! operand into strips of `MR` rows, each row's k pair one word to broadcast. A tile of
//! `MR x NR` sums stays in 24 registers over the block's depth.

use std::mem::MaybeUninit;

/// Rows of a tile (one broadcast each per k pair).
const MR: usize = 12;
/// Registers of 16 columns per tile row.
const NV: usize = 2;
/// Columns of a tile.
const NR: usize = 16 * NV;
/// Depth of a packed block: a strip (MR x KC bf16, 6 KiB) and a panel (KC x NR, 16 KiB) stay in
/// the core's 32 KiB L1 while a tile is summed.
const KC: usize = 256;
/// Most rows per task: a task's strips of one block (MC x KC bf16, 192 KiB) stay in L2 while
/// every panel passes over them.
const MC: usize = 32 * MR;

/// Whether this CPU runs the kernel (AVX-512 F, BW, VL and BF16).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        has!("avx512f") && has!("avx512bw") && has!("avx512vl") && has!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// A matrix inside a slice: element (i, j) at `data[offset + i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: isize,
    pub col_stride: isize,
}

impl View<'_> {
    /// Pointer to element (i, j).
    ///
    /// # Safety
    /// (i, j) is inside the matrix, which lies in `data` ([`View::check`]).
    #[inline(always)]
    unsafe fn ptr(&self, i: usize, j: usize) -> *const f32 {
        let o = self.offset as isize + i as isize * self.row_stride + j as isize * self.col_stride;
        // SAFETY: the caller's promise.
        unsafe { self.data.as_ptr().offset(o) }
    }

    /// Checks that every element lies in `data`, which the packing relies on.
    fn check(&self) {
        let last = |n: usize, s: isize| (n as isize - 1) * s;
        let (lo, hi) = [
            last(self.rows, self.row_stride),
            last(self.cols, self.col_stride),
        ]
        .iter()
        .fold((0, 0), |(lo, hi), &d| (lo + d.min(0), hi + d.max(0)));
        let o = self.offset as isize;
        assert!(
            o + lo >= 0 && ((o + hi) as usize) < self.data.len(),
            "bf16 product: view outside its data"
        );
    }
}

/// `x`'s bits rounded so that the top half is its bf16 (to nearest, ties to even); a NaN gets
/// its quiet bit, so it stays one.
#[inline(always)]
fn rounded(x: f32) -> u32 {
    let b = x.to_bits();
    if x.is_nan() {
        b | 0x0040_0000
    } else {
        b.wrapping_add(0x7FFF + ((b >> 16) & 1))
    }
}

/// Two f32 as one word of bf16, `lo` in the low half: a k pair as `vdpbf16ps` reads it.
#[inline(always)]
fn word(lo: f32, hi: f32) -> u32 {
    (rounded(lo) >> 16) | (rounded(hi) & 0xFFFF_0000)
}

/// `x` rounded to bf16 and back: what the product multiplies.
pub fn round_bf16(x: f32) -> f32 {
    f32::from_bits(word(x, 0.0) << 16)
}

/// `dst = a b` (`dst` row-major, `a.rows x b.cols`), every element written. `parallel` splits
/// the rows over rayon's threads. Panics unless [`available`].
pub fn product(a: View, b: View, dst: &mut [MaybeUninit<f32>], parallel: bool) {
    assert!(available(), "bf16 product: the CPU lacks AVX-512 BF16");
    assert_eq!(a.cols, b.rows, "bf16 product: inner dims differ");
    assert_eq!(dst.len(), a.rows * b.cols, "bf16 product: output size");
    if dst.is_empty() {
        return;
    }
    if a.cols == 0 {
        dst.iter_mut().for_each(|d| {
            d.write(0.0);
        });
        return;
    }
    a.check();
    b.check();
    #[cfg(target_arch = "x86_64")]
    kernel::product(a, b, dst, parallel);
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::x86_64::*;
    use std::cell::RefCell;
    use std::mem::MaybeUninit;

    use rayon::prelude::*;

    use super::{KC, MC, MR, NR, NV, View, word};

    thread_local! {
        /// Each thread's packing buffers, kept between products: a fresh one of this size
        /// comes from the OS and page-faults in on every product.
        static PACKED_A: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
        static PACKED_B: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    }

    /// [`super::product`] for non-empty, checked views on a CPU that has the kernel.
    ///
    /// The right operand is packed once, every block at once; then each task sums its
    /// rectangle of the output over all blocks in order (so a task's rows of `a` are packed
    /// once per block and the tasks meet only at the end). The rectangles split the rows
    /// evenly over the threads (and the columns too when there are too few rows), so no
    /// thread waits on a last, larger share.
    pub fn product(a: View, b: View, dst: &mut [MaybeUninit<f32>], parallel: bool) {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let threads = if parallel {
            rayon::current_num_threads()
        } else {
            1
        };
        let grid = Grid::new(m, n.div_ceil(NR), threads);
        // Taken out while in use: a nested product on this thread (rayon may run another task
        // while this one waits) gets a fresh buffer instead of a borrow error.
        let mut packed_b = PACKED_B.take();
        pack_b(&b, &mut packed_b, parallel);
        let out = Out(dst.as_mut_ptr().cast());
        let task = |t: usize| {
            let (rows, panels) = grid.task(t);
            let mut packed_a = PACKED_A.take();
            for (kb, k0) in (0..k).step_by(KC).enumerate() {
                let kc = KC.min(k - k0);
                let kp = kc.div_ceil(2);
                // SAFETY: the caller checked available().
                let layout = unsafe { pack_a(&a, rows.start, rows.len(), k0, kc, &mut packed_a) };
                let block = &packed_b[kb * grid.panels * PANEL..];
                for p in panels.clone() {
                    let panel = &block[p * PANEL..][..kp * NR];
                    let cols = NR.min(n - p * NR);
                    for (s, i) in rows.clone().step_by(MR).enumerate() {
                        let strip = &packed_a[s * kp * MR..][..kp * MR];
                        let r = MR.min(rows.end - i);
                        // SAFETY: available(); the strip and panel hold kp pairs of MR rows and
                        // NR columns; rows i .. i + r and columns p NR .. p NR + cols are
                        // inside the m x n output, in this task's rectangle alone, and the
                        // first block writes them before later blocks read them.
                        unsafe {
                            let c = out.at(i * n + p * NR);
                            tile(kp, strip, layout, panel, c, n, r, cols, k0 > 0)
                        };
                    }
                }
            }
            PACKED_A.set(packed_a);
        };
        if parallel {
            (0..grid.tasks()).into_par_iter().for_each(task);
        } else {
            (0..grid.tasks()).for_each(task);
        }
        PACKED_B.set(packed_b);
    }

    /// The output, written by the tasks in disjoint rectangles.
    #[derive(Clone, Copy)]
    struct Out(*mut f32);
    // SAFETY: every task writes only its own rectangle (`Grid`), and `product` returns only
    // after all of them.
    unsafe impl Send for Out {}
    unsafe impl Sync for Out {}

    impl Out {
        /// # Safety
        /// `offset` is inside the output.
        unsafe fn at(self, offset: usize) -> *mut f32 {
            // SAFETY: the caller's promise.
            unsafe { self.0.add(offset) }
        }
    }

    /// Words of one packed panel: a whole block's k pairs of NR columns (a shorter last block
    /// leaves the rest unused).
    const PANEL: usize = KC / 2 * NR;

    /// The tasks of a product: `row_tasks` even runs of whole strips by `col_tasks` even runs
    /// of panels.
    struct Grid {
        m: usize,
        panels: usize,
        rows_per_task: usize,
        row_tasks: usize,
        col_tasks: usize,
    }

    impl Grid {
        fn new(m: usize, panels: usize, threads: usize) -> Self {
            // Each thread's rows in runs of at most MC (their packed blocks stay in L2).
            let row_tasks = threads * m.div_ceil(threads).div_ceil(MC);
            let rows_per_task = m.div_ceil(row_tasks).next_multiple_of(MR);
            let row_tasks = m.div_ceil(rows_per_task);
            let col_tasks = threads.div_ceil(row_tasks).min(panels);
            Grid {
                m,
                panels,
                rows_per_task,
                row_tasks,
                col_tasks,
            }
        }

        fn tasks(&self) -> usize {
            self.row_tasks * self.col_tasks
        }

        /// Task t's rows and panels.
        fn task(&self, t: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
            let (r, c) = (t / self.col_tasks, t % self.col_tasks);
            let i = r * self.rows_per_task;
            let span = |c: usize| c * self.panels / self.col_tasks;
            (
                i..(i + self.rows_per_task).min(self.m),
                span(c)..span(c + 1),
            )
        }
    }

    /// 16 lanes of [`super::rounded`].
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn rounded16(x: __m512) -> __m512i {
        let b = _mm512_castps_si512(x);
        let odd = _mm512_and_si512(_mm512_srli_epi32::<16>(b), _mm512_set1_epi32(1));
        let r = _mm512_add_epi32(b, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
        let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
        _mm512_mask_or_epi32(r, nan, b, _mm512_set1_epi32(0x0040_0000))
    }

    fn lanes(n: usize) -> __mmask16 {
        if n >= 16 { 0xFFFF } else { (1u16 << n) - 1 }
    }

    /// `out[c] = word(x[c], y[c])` for `c < n` (`y` absent: zeros), all contiguous.
    ///
    /// # Safety
    /// AVX-512 F; `n` floats readable at `x` (and `y`), `n` words writable at `out`.
    #[target_feature(enable = "avx512f")]
    unsafe fn pair_words(x: *const f32, y: Option<*const f32>, n: usize, out: *mut u32) {
        for c in (0..n).step_by(16) {
            let m = lanes(n - c);
            // SAFETY: lanes c .. c + 16 under the mask lie within the n elements.
            unsafe {
                let lo = _mm512_srli_epi32::<16>(rounded16(_mm512_maskz_loadu_ps(m, x.add(c))));
                let hi = match y {
                    Some(y) => _mm512_and_si512(
                        rounded16(_mm512_maskz_loadu_ps(m, y.add(c))),
                        _mm512_set1_epi32(0xFFFF_0000u32 as i32),
                    ),
                    None => _mm512_setzero_si512(),
                };
                _mm512_mask_storeu_epi32(out.add(c).cast(), m, _mm512_or_si512(lo, hi));
            }
        }
    }

    /// `out[c]` = the bf16 of `x[c]` for `c < n`, all contiguous: consecutive pairs of a row
    /// become its words in order.
    ///
    /// # Safety
    /// AVX-512 F, BW, VL; `n` floats readable at `x`, `n` halves writable at `out`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn in_order(x: *const f32, n: usize, out: *mut u16) {
        for c in (0..n).step_by(16) {
            let m = lanes(n - c);
            // SAFETY: lanes c .. c + 16 under the mask lie within the n elements.
            unsafe {
                let r = rounded16(_mm512_maskz_loadu_ps(m, x.add(c)));
                let h = _mm512_cvtepi32_epi16(_mm512_srli_epi32::<16>(r));
                _mm256_mask_storeu_epi16(out.add(c).cast(), m, h);
            }
        }
    }

    /// `b` as panels of NR columns, block after block of KC rows: for each k pair of a block,
    /// NR words (each a column's pair), zero past the matrix. Panel p of block kb starts at
    /// word `(kb * panels + p) * PANEL`.
    fn pack_b(b: &View, out: &mut Vec<u32>, parallel: bool) {
        let panels = b.cols.div_ceil(NR);
        out.clear();
        out.resize(b.rows.div_ceil(KC) * panels * PANEL, 0);
        let panel = |(t, panel): (usize, &mut [u32])| {
            let (k0, p) = (t / panels * KC, t % panels);
            let kc = KC.min(b.rows - k0);
            // SAFETY: the caller checked available().
            unsafe { pack_panel(b, k0, kc, p, &mut panel[..kc.div_ceil(2) * NR]) }
        };
        if parallel {
            out.par_chunks_exact_mut(PANEL).enumerate().for_each(panel);
        } else {
            out.chunks_exact_mut(PANEL).enumerate().for_each(panel);
        }
    }

    /// Panel p of [`pack_b`], `panel` zeroed.
    ///
    /// # Safety
    /// AVX-512 F, BW, VL; b checked.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn pack_panel(b: &View, k0: usize, kc: usize, p: usize, panel: &mut [u32]) {
        let (j, cols) = (p * NR, NR.min(b.cols - p * NR));
        let kp = kc.div_ceil(2);
        // SAFETY (all three ways): rows k0 .. k0 + kc, columns j .. j + cols are inside b
        // (checked); the panel holds kp x NR words.
        if b.col_stride == 1 {
            // Rows contiguous: each pair of rows gives a pair row of the panel.
            for (q, row) in panel.chunks_exact_mut(NR).enumerate() {
                let k = k0 + 2 * q;
                unsafe {
                    let y = (2 * q + 1 < kc).then(|| b.ptr(k + 1, j));
                    pair_words(b.ptr(k, j), y, cols, row.as_mut_ptr());
                }
            }
        } else if b.row_stride == 1 {
            // Columns contiguous (a transposed operand): a column's pairs are its words in
            // order, written NR apart.
            let mut column = vec![0u32; kp];
            for c in 0..cols {
                unsafe { in_order(b.ptr(k0, j + c), kc, column.as_mut_ptr().cast()) };
                for (q, &w) in column.iter().enumerate() {
                    panel[q * NR + c] = w;
                }
            }
        } else {
            for (q, row) in panel.chunks_exact_mut(NR).enumerate() {
                let k = k0 + 2 * q;
                for (c, w) in row.iter_mut().take(cols).enumerate() {
                    unsafe {
                        let hi = if 2 * q + 1 < kc {
                            *b.ptr(k + 1, j + c)
                        } else {
                            0.0
                        };
                        *w = word(*b.ptr(k, j + c), hi);
                    }
                }
            }
        }
    }

    /// How a packed strip is laid out: word (row r, pair q) at `r * row + q * pair`.
    #[derive(Clone, Copy)]
    struct Strides {
        row: usize,
        pair: usize,
    }

    /// Rows `i0 .. i0 + mc`, columns `k0 .. k0 + kc` of `a` as strips of MR rows (zero past
    /// the matrix), each kp x MR words. A strip follows `a`'s memory: row-major where a row is
    /// contiguous (each row's pairs are its words in order), pair-major otherwise, so packing
    /// reads and writes in order; the tile reads either from L1 alike.
    ///
    /// # Safety
    /// AVX-512 F, BW, VL; a checked.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn pack_a(
        a: &View,
        i0: usize,
        mc: usize,
        k0: usize,
        kc: usize,
        out: &mut Vec<u32>,
    ) -> Strides {
        let kp = kc.div_ceil(2);
        out.clear();
        out.resize(mc.div_ceil(MR) * kp * MR, 0);
        let by_row = a.col_stride == 1;
        for (s, strip) in out.chunks_exact_mut(kp * MR).enumerate() {
            let (i, rows) = (i0 + s * MR, MR.min(mc - s * MR));
            // SAFETY (all three ways): rows i .. i + rows, columns k0 .. k0 + kc are inside a
            // (checked); the strip holds kp x MR words.
            if by_row {
                for (r, row) in strip.chunks_exact_mut(kp).take(rows).enumerate() {
                    unsafe { in_order(a.ptr(i + r, k0), kc, row.as_mut_ptr().cast()) };
                }
            } else if a.row_stride == 1 {
                for (q, pair) in strip.chunks_exact_mut(MR).enumerate() {
                    let k = k0 + 2 * q;
                    unsafe {
                        let y = (2 * q + 1 < kc).then(|| a.ptr(i, k + 1));
                        pair_words(a.ptr(i, k), y, rows, pair.as_mut_ptr());
                    }
                }
            } else {
                for (q, pair) in strip.chunks_exact_mut(MR).enumerate() {
                    let k = k0 + 2 * q;
                    for (r, w) in pair.iter_mut().take(rows).enumerate() {
                        unsafe {
                            let hi = if 2 * q + 1 < kc {
                                *a.ptr(i + r, k + 1)
                            } else {
                                0.0
                            };
                            *w = word(*a.ptr(i + r, k), hi);
                        }
                    }
                }
            }
        }
        if by_row {
            Strides { row: kp, pair: 1 }
        } else {
            Strides { row: 1, pair: MR }
        }
    }

    /// One MR x NR tile over kp k pairs: `c = sum` (or `c += sum` when `accumulate`) for the
    /// first `rows` rows and `cols` columns at `c` (row stride `ldc`).
    ///
    /// # Safety
    /// AVX-512 F and BF16; `strip` holds kp x MR words as `layout` says, `panel` kp x NR words;
    /// those rows and columns at `c` are writable, no other thread touches them, and they hold
    /// written values when accumulating.
    #[target_feature(enable = "avx512f,avx512bf16")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(
        kp: usize,
        strip: &[u32],
        layout: Strides,
        panel: &[u32],
        c: *mut f32,
        ldc: usize,
        rows: usize,
        cols: usize,
        accumulate: bool,
    ) {
        debug_assert!(strip.len() >= kp * MR && panel.len() >= kp * NR);
        let mut acc = [[_mm512_setzero_ps(); NV]; MR];
        let (a, b) = (strip.as_ptr(), panel.as_ptr());
        let (rs, qs) = (layout.row, layout.pair);
        for q in 0..kp {
            // SAFETY: q < kp and r < MR, within the sizes asserted above; unaligned loads.
            let bv: [__m512bh; NV] = std::array::from_fn(|v| unsafe {
                std::mem::transmute(_mm512_loadu_si512(b.add((q * NV + v) * 16).cast()))
            });
            for (r, acc) in acc.iter_mut().enumerate() {
                let av: __m512bh = unsafe {
                    std::mem::transmute(_mm512_set1_epi32(*a.add(r * rs + q * qs) as i32))
                };
                for v in 0..NV {
                    acc[v] = _mm512_dpbf16_ps(acc[v], av, bv[v]);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate().take(rows) {
            for (v, &sum) in acc.iter().enumerate() {
                let col = v * 16;
                if col >= cols {
                    break;
                }
                let mask = lanes(cols - col);
                // SAFETY: row r < rows and the mask's columns < cols (the caller's promise).
                unsafe {
                    let p = c.add(r * ldc + col);
                    let sum = if accumulate {
                        _mm512_add_ps(_mm512_maskz_loadu_ps(mask, p), sum)
                    } else {
                        sum
                    };
                    _mm512_mask_storeu_ps(p, mask, sum);
                }
            }
        }
    }
}
