//! The CPU backend's convolution forward with fewer products: Winograd's minimal filtering
//! F(m, m) nested over the kernel, for a tile `m` of 4 or 5. The kernel's taps are split into
//! segments of `m` (zero taps added to make up the last) and the outputs into tiles of `m`.
//! Segment `s` of tile `t` reads the `2m - 1` inputs from position `m (t + s)`, and F(m, m)
//! computes its `m` outputs from `2m - 1` products of transformed inputs and transformed taps
//! instead of `m^2`:
//!
//! ```text
//! y[m t + j, f] = b[f] + sum_p AT[j, p] M_p[t, f]
//! M_p (T, F)    = V_p windows (T, S*C)  U_p (S*C, F)        for each point p
//! V_p[q, c]     = sum_i BT[p, i] x[c, m q + i]              (input transform)
//! U_p[s*C + c, f] = sum_i G[p, i] w[f, c, m s + i]          (weight transform)
//! ```
//!
//! Row `t` of the windows of `V_p` is its rows `t .. t + S`, `S*C` consecutive values, so each
//! point is one matrix product over a strided view, as in [`fast_conv`](super::fast_conv).
//! Per output and filter that is `(2m - 1) S C / m` products instead of `K C`: for `K = 15`,
//! 7 * 4 / 4 = 7 with F(4, 4) and 9 * 3 / 5 = 5.4 with F(5, 5), 2.1x and 2.8x fewer. F(4, 4)
//! interpolates at 0, 1, -1, 2, -2, 1/2 and infinity, F(5, 5) adds -1/2 and 3; its float32
//! rounding is about four times F(4, 4)'s, so F(5, 5) is taken only where it saves a tenth of
//! the products or more ([`Scheme::for_taps`]). The input transforms' rows are scaled to
//! integers and the weight transforms carry the inverse scales.

use super::fast_conv::Frames;
use super::gemm::Matrix;
use super::narrow::matmul_narrow;
use super::scratch::Scratch;
use super::transpose::{Epilogue, Layout, transpose};
use crate::backend::shapes::ConvDims;
use crate::backend::{Conv1dSpec, PoolSpec};

/// The most points of any scheme: F(5, 5)'s 9.
const MAX_POINTS: usize = 9;

/// A nested F(m, m): its tile, points and transforms.
trait Scheme {
    /// Outputs per tile, and taps per segment.
    const TILE: usize;
    /// Products per tile and segment: `2 * TILE - 1` interpolation points.
    const POINTS: usize;
    /// Weight transform `(POINTS, TILE)`, carrying the inverse of the scales that make the
    /// input transform integer.
    const G: &'static [&'static [f32]];
    /// `v[p] = sum_i BT[p, i] x[i]` for every channel, for the first `POINTS` of each.
    fn input_transform(x: &[&[f32]; MAX_POINTS], v: &mut [&mut [f32]; MAX_POINTS]);
    /// `y[j] = sum_p AT[j, p] m[p]` for every filter, for the first `POINTS` and `TILE`.
    fn output_transform(m: &[&[f32]; MAX_POINTS], y: &mut [&mut [f32]; MAX_POINTS]);
}

/// F(4, 4): points 0, 1, -1, 2, -2, 1/2, infinity.
struct F44;
/// F(5, 5): points 0, 1, -1, 2, -2, 1/2, -1/2, 3, infinity.
struct F55;

/// Which scheme a convolution's weights were transformed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tiling {
    F44,
    F55,
}

impl Tiling {
    /// F(5, 5) where it needs at most 0.9 of F(4, 4)'s products for `k` taps (5, 9, 10,
    /// 13-15 and 17-20 taps among those up to 20), else F(4, 4).
    fn for_taps(k: usize) -> Self {
        let products = |tile: usize| (2 * tile - 1) * k.div_ceil(tile) * 20 / tile;
        if products(5) * 10 <= products(4) * 9 {
            Tiling::F55
        } else {
            Tiling::F44
        }
    }

    fn tile(self) -> usize {
        match self {
            Tiling::F44 => F44::TILE,
            Tiling::F55 => F55::TILE,
        }
    }

    fn weight_transform(self) -> &'static [&'static [f32]] {
        match self {
            Tiling::F44 => F44::G,
            Tiling::F55 => F55::G,
        }
    }
}

/// Whether the transformed convolution pays for `d` and `spec`: no dilation, at least 5
/// taps and 16 input channels (a sum long enough for the products to run at full rate).
pub fn applies(d: ConvDims, spec: Conv1dSpec) -> bool {
    spec.dilation == 1 && d.k >= 5 && d.c >= 16
}

/// The weights `(F, C, K)` transformed: for each point, a `(S*C, F)` row-major matrix.
pub struct Transformed {
    u: Vec<f32>,
    segments: usize,
    tiling: Tiling,
}

impl Transformed {
    /// Transforms `w (F, C, K)` for the scheme [`Tiling::for_taps`] picks.
    pub fn new(w: &[f32], d: ConvDims) -> Self {
        let tiling = Tiling::for_taps(d.k);
        let (tile, g) = (tiling.tile(), tiling.weight_transform());
        let segments = d.k.div_ceil(tile);
        let rows = segments * d.c;
        let mut u = vec![0.0f32; g.len() * rows * d.f];
        for f in 0..d.f {
            for c in 0..d.c {
                let taps = &w[(f * d.c + c) * d.k..(f * d.c + c + 1) * d.k];
                for s in 0..segments {
                    let tap = |i: usize| taps.get(tile * s + i).copied().unwrap_or(0.0);
                    for (p, g) in g.iter().enumerate() {
                        let value = (0..tile).map(|i| g[i] * tap(i)).sum::<f32>();
                        u[(p * rows + s * d.c + c) * d.f + f] = value;
                    }
                }
            }
        }
        Self {
            u,
            segments,
            tiling,
        }
    }
}

/// Where [`conv1d_chunk`] writes: `values (m, F, L)` with `L` the output length, or the pooled
/// length with `pool`, each value passed through `epilogue` (bias per filter, then the floor).
pub struct Destination<'a> {
    /// The chunk's outputs.
    pub values: &'a mut [f32],
    /// What each value passes through as it is written.
    pub epilogue: Epilogue<'a>,
    /// Max pooling of the outputs, applied before the epilogue.
    pub pool: Option<Pooling>,
}

/// Max pooling applied by [`conv1d_chunk`] before its epilogue: a bias and a floor are
/// monotone, so pooling the raw sums and then adding the bias and clamping writes the same
/// values as pooling the activation, on a quarter of the rows or fewer.
#[derive(Debug, Clone, Copy)]
pub struct Pooling {
    /// Windows.
    pub spec: PoolSpec,
    /// Pooled positions.
    pub len: usize,
}

/// The convolution of `m` examples `x_chunk (m, C, L)` into `out`. Both transforms run over
/// position-major rows, channels (filters) contiguous, so that they vectorise.
pub fn conv1d_chunk(
    x_chunk: &[f32],
    m: usize,
    t: &Transformed,
    d: ConvDims,
    spec: Conv1dSpec,
    out: Destination,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above).
        unsafe { avx512::conv1d_chunk(x_chunk, m, t, d, spec, out) };
        return;
    }
    by_tiling(x_chunk, m, t, d, spec, out);
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;

    /// [`super::pool_rows`] 16 filters at a time, the maximum kept in a register
    /// (`max_ps(v, best)` is `v > best ? v : best`).
    ///
    /// # Safety
    /// The CPU must have AVX-512F; `rows` and `pooled` as [`super::pool_rows`] checks.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn pool_rows(rows: &[f32], f: usize, pool: Pooling, pooled: &mut [f32]) {
        use std::arch::x86_64::*;
        for o in 0..pool.len {
            let first = o * pool.spec.stride;
            for j in (0..f).step_by(16) {
                let width = (f - j).min(16);
                let mask: __mmask16 = if width == 16 {
                    0xFFFF
                } else {
                    (1 << width) - 1
                };
                // SAFETY: the mask keeps loads and stores to the `f` values of a row; the rows
                // lie inside `rows` and `pooled` (the caller's contract).
                unsafe {
                    let at = |i: usize| rows.as_ptr().add((first + i) * f + j);
                    let mut best = _mm512_maskz_loadu_ps(mask, at(0));
                    for i in 1..pool.spec.size {
                        best = _mm512_max_ps(_mm512_maskz_loadu_ps(mask, at(i)), best);
                    }
                    _mm512_mask_storeu_ps(pooled.as_mut_ptr().add(o * f + j), mask, best);
                }
            }
        }
    }

    /// [`super::conv1d_chunk`] with the transforms, pooling and loops around the products
    /// compiled for AVX-512 (inlined here): 16 lanes and fused multiply-adds instead of the
    /// baseline's 4 lanes.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn conv1d_chunk(
        x_chunk: &[f32],
        m: usize,
        t: &Transformed,
        d: ConvDims,
        spec: Conv1dSpec,
        out: Destination,
    ) {
        by_tiling(x_chunk, m, t, d, spec, out);
    }
}

/// [`conv1d_chunk`] with the scheme its weights were transformed for.
#[inline(always)]
fn by_tiling(
    x_chunk: &[f32],
    m: usize,
    t: &Transformed,
    d: ConvDims,
    spec: Conv1dSpec,
    out: Destination,
) {
    match t.tiling {
        Tiling::F44 => chunk::<F44>(x_chunk, m, t, d, spec, out),
        Tiling::F55 => chunk::<F55>(x_chunk, m, t, d, spec, out),
    }
}

/// [`conv1d_chunk`] with the scheme `S`.
#[inline(always)]
fn chunk<S: Scheme>(
    x_chunk: &[f32],
    m: usize,
    t: &Transformed,
    d: ConvDims,
    spec: Conv1dSpec,
    out: Destination,
) {
    let (tile, points) = (S::TILE, S::POINTS);
    let (s, c, f) = (t.segments, d.c, d.f);
    let tiles = d.l_out.div_ceil(tile);
    // tile inputs per example: the windows of the last tile reach `s - 1` further
    let per_example = tiles + s - 1;
    let rows = m * per_example;
    // zero rows after each example's padded input (`L_out + K - 1` positions): the last
    // input row reads up to `tile (tiles + s) - 2`, the tiles and segments rounded up
    let overhang = tile * (tiles + s) - d.l_out - d.k;
    let g = Frames::new(m, d, spec, overhang);
    let frames = g.fill(x_chunk, c, d.l, spec.pad_left, 0);
    let mut v = Scratch::take(points * rows * c);
    {
        // the points' matrices, each (rows, C)
        let mut planes: Vec<&mut [f32]> = v.chunks_exact_mut((rows * c).max(1)).collect();
        for e in 0..m {
            let example = &frames[e * g.example_rows() * c..(e + 1) * g.example_rows() * c];
            for q in 0..per_example {
                let row = (e * per_example + q) * c..(e * per_example + q + 1) * c;
                let input = |i: usize| match i < points {
                    true => &example[(tile * q + i) * c..(tile * q + i + 1) * c],
                    false => &[][..],
                };
                let mut outputs = planes.iter_mut().map(|plane| &mut plane[row.clone()]);
                S::input_transform(
                    &std::array::from_fn(input),
                    &mut std::array::from_fn(|_| outputs.next().unwrap_or(&mut [])),
                );
            }
        }
    }
    // rows that straddle two examples are computed and dropped
    let out_rows = rows + 1 - s;
    let sc = s * c;
    let mut products = Scratch::take(points * out_rows * f);
    for p in 0..points {
        let frames = &v[p * rows * c..(p + 1) * rows * c];
        let windows = Matrix::strided(frames, out_rows, sc, c, 1);
        let weights = &t.u[p * sc * f..(p + 1) * sc * f];
        matmul_narrow(
            windows,
            weights,
            f,
            &mut products[p * out_rows * f..(p + 1) * out_rows * f],
        );
    }
    // output rows, position-major, `tile` per tile; then (positions, F) -> (F, L_out) per
    // example, or pooled first: (positions, F) -> (pooled positions, F) -> (F, L_pool)
    let mut positions = Scratch::take(tiles * tile * f);
    let mut pooled = Scratch::take(out.pool.map_or(0, |p| p.len * f));
    let l_written = out.pool.map_or(d.l_out, |p| p.len);
    for e in 0..m {
        for ti in 0..tiles {
            let row = e * per_example + ti;
            let product = |p: usize| match p < points {
                true => &products[(p * out_rows + row) * f..(p * out_rows + row + 1) * f],
                false => &[][..],
            };
            let mut rows = positions[tile * ti * f..(tile * ti + tile) * f].chunks_exact_mut(f);
            S::output_transform(
                &std::array::from_fn(product),
                &mut std::array::from_fn(|_| rows.next().unwrap_or(&mut [])),
            );
        }
        let rows = match out.pool {
            Some(pool) => {
                pool_rows(&positions, f, pool, &mut pooled);
                &pooled[..]
            }
            None => &positions[..],
        };
        transpose(
            rows,
            Layout {
                rows: l_written,
                cols: f,
                row_stride: f,
                col_stride: 1,
            },
            &mut out.values[e * f * l_written..(e + 1) * f * l_written],
            Layout {
                rows: f,
                cols: l_written,
                row_stride: l_written,
                col_stride: 1,
            },
            out.epilogue,
        );
    }
}

/// `pooled (len, F)` from `rows (positions, F)`: row `o` the elementwise maximum of rows
/// `o * stride .. o * stride + size`, a value taken over the best so far only where it is
/// greater (as [`window_maxima`](super::fast_elementwise) does).
fn pool_rows(rows: &[f32], f: usize, pool: Pooling, pooled: &mut [f32]) {
    assert!(
        pool.len == 0 || rows.len() >= ((pool.len - 1) * pool.spec.stride + pool.spec.size) * f
    );
    assert!(pooled.len() >= pool.len * f);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above); the asserts keep every window's
        // rows inside `rows` and every pooled row inside `pooled`.
        unsafe { avx512::pool_rows(rows, f, pool, pooled) };
        return;
    }
    pool_rows_portable(rows, f, pool, pooled);
}

/// [`pool_rows`] on any CPU.
fn pool_rows_portable(rows: &[f32], f: usize, pool: Pooling, pooled: &mut [f32]) {
    for (o, out) in pooled.chunks_exact_mut(f).enumerate().take(pool.len) {
        let first = o * pool.spec.stride;
        out.copy_from_slice(&rows[first * f..(first + 1) * f]);
        for i in 1..pool.spec.size {
            let row = &rows[(first + i) * f..(first + i + 1) * f];
            for (best, &v) in out.iter_mut().zip(row) {
                *best = if v > *best { v } else { *best };
            }
        }
    }
}

impl Scheme for F44 {
    const TILE: usize = 4;
    const POINTS: usize = 7;
    const G: &'static [&'static [f32]] = &[
        &[1.0 / 4.0, 0.0, 0.0, 0.0],
        &[1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0],
        &[1.0 / 18.0, -1.0 / 18.0, 1.0 / 18.0, -1.0 / 18.0],
        &[1.0 / 72.0, 1.0 / 36.0, 1.0 / 18.0, 1.0 / 9.0],
        &[1.0 / 120.0, -1.0 / 60.0, 1.0 / 30.0, -1.0 / 15.0],
        &[32.0 / 45.0, 16.0 / 45.0, 8.0 / 45.0, 4.0 / 45.0],
        &[0.0, 0.0, 0.0, 1.0 / 2.0],
    ];

    #[inline(always)]
    fn input_transform(x: &[&[f32]; MAX_POINTS], v: &mut [&mut [f32]; MAX_POINTS]) {
        let [x0, x1, x2, x3, x4, x5, x6, ..] = *x;
        let [v0, v1, v2, v3, v4, v5, v6, ..] = v;
        let c = v0.len();
        let (x0, x1, x2, x3) = (&x0[..c], &x1[..c], &x2[..c], &x3[..c]);
        let (x4, x5, x6) = (&x4[..c], &x5[..c], &x6[..c]);
        let (v1, v2, v3) = (&mut v1[..c], &mut v2[..c], &mut v3[..c]);
        let (v4, v5, v6) = (&mut v4[..c], &mut v5[..c], &mut v6[..c]);
        for i in 0..c {
            let (a0, a1, a2, a3, a4, a5, a6) = (x0[i], x1[i], x2[i], x3[i], x4[i], x5[i], x6[i]);
            v0[i] = 4.0 * a0 - 8.0 * a1 - 5.0 * a2 + 10.0 * a3 + a4 - 2.0 * a5;
            v1[i] = -4.0 * a1 + 4.0 * a2 + 9.0 * a3 - a4 - 2.0 * a5;
            v2[i] = -4.0 * a1 + 12.0 * a2 - 7.0 * a3 - 3.0 * a4 + 2.0 * a5;
            v3[i] = 2.0 * a1 - 3.0 * a2 - 4.0 * a3 + 3.0 * a4 + 2.0 * a5;
            v4[i] = 2.0 * a1 - 5.0 * a2 + 5.0 * a4 - 2.0 * a5;
            v5[i] = 4.0 * a1 - 5.0 * a3 + a5;
            v6[i] = -4.0 * a1 + 8.0 * a2 + 5.0 * a3 - 10.0 * a4 - a5 + 2.0 * a6;
        }
    }

    #[inline(always)]
    fn output_transform(m: &[&[f32]; MAX_POINTS], y: &mut [&mut [f32]; MAX_POINTS]) {
        let [m0, m1, m2, m3, m4, m5, m6, ..] = *m;
        let [y0, y1, y2, y3, ..] = y;
        let f = y0.len();
        let (m0, m1, m2, m3) = (&m0[..f], &m1[..f], &m2[..f], &m3[..f]);
        let (m4, m5, m6) = (&m4[..f], &m5[..f], &m6[..f]);
        let (y1, y2, y3) = (&mut y1[..f], &mut y2[..f], &mut y3[..f]);
        for i in 0..f {
            let (a, g, h) = (m0[i], m5[i], m6[i]);
            let (sum, diff) = (m1[i] + m2[i], m1[i] - m2[i]);
            let (sum2, diff2) = (m3[i] + m4[i], m3[i] - m4[i]);
            y0[i] = a + sum + sum2 + g;
            y1[i] = diff + 2.0 * diff2 + 0.5 * g;
            y2[i] = sum + 4.0 * sum2 + 0.25 * g;
            y3[i] = diff + 8.0 * diff2 + 0.125 * g + h;
        }
    }
}

impl Scheme for F55 {
    const TILE: usize = 5;
    const POINTS: usize = 9;
    const G: &'static [&'static [f32]] = &[
        &[1.0 / 12.0, 0.0, 0.0, 0.0, 0.0],
        &[1.0 / 36.0, 1.0 / 36.0, 1.0 / 36.0, 1.0 / 36.0, 1.0 / 36.0],
        &[1.0 / 72.0, -1.0 / 72.0, 1.0 / 72.0, -1.0 / 72.0, 1.0 / 72.0],
        &[1.0 / 360.0, 1.0 / 180.0, 1.0 / 90.0, 1.0 / 45.0, 2.0 / 45.0],
        &[
            1.0 / 1800.0,
            -1.0 / 900.0,
            1.0 / 450.0,
            -1.0 / 225.0,
            2.0 / 225.0,
        ],
        &[
            32.0 / 225.0,
            16.0 / 225.0,
            8.0 / 225.0,
            4.0 / 225.0,
            2.0 / 225.0,
        ],
        &[
            32.0 / 315.0,
            -16.0 / 315.0,
            8.0 / 315.0,
            -4.0 / 315.0,
            2.0 / 315.0,
        ],
        &[
            1.0 / 4200.0,
            1.0 / 1400.0,
            3.0 / 1400.0,
            9.0 / 1400.0,
            27.0 / 1400.0,
        ],
        &[0.0, 0.0, 0.0, 0.0, 1.0 / 4.0],
    ];

    #[inline(always)]
    fn input_transform(x: &[&[f32]; MAX_POINTS], v: &mut [&mut [f32]; MAX_POINTS]) {
        let [x0, x1, x2, x3, x4, x5, x6, x7, x8] = *x;
        let [v0, v1, v2, v3, v4, v5, v6, v7, v8] = v;
        let c = v0.len();
        let (x0, x1, x2, x3, x4) = (&x0[..c], &x1[..c], &x2[..c], &x3[..c], &x4[..c]);
        let (x5, x6, x7, x8) = (&x5[..c], &x6[..c], &x7[..c], &x8[..c]);
        let (v1, v2, v3, v4) = (&mut v1[..c], &mut v2[..c], &mut v3[..c], &mut v4[..c]);
        let (v5, v6, v7, v8) = (&mut v5[..c], &mut v6[..c], &mut v7[..c], &mut v8[..c]);
        for i in 0..c {
            let (a0, a1, a2, a3, a4) = (x0[i], x1[i], x2[i], x3[i], x4[i]);
            let (a5, a6, a7, a8) = (x5[i], x6[i], x7[i], x8[i]);
            v0[i] =
                12.0 * a0 - 4.0 * a1 - 63.0 * a2 + 21.0 * a3 + 63.0 * a4 - 21.0 * a5 - 12.0 * a6
                    + 4.0 * a7;
            v1[i] = -12.0 * a1 - 8.0 * a2 + 55.0 * a3 + 34.0 * a4 - 29.0 * a5 - 8.0 * a6 + 4.0 * a7;
            v2[i] = 12.0 * a1 - 16.0 * a2 - 47.0 * a3 + 68.0 * a4 - 5.0 * a5 - 16.0 * a6 + 4.0 * a7;
            v3[i] = 6.0 * a1 + a2 - 31.0 * a3 - 5.0 * a4 + 29.0 * a5 + 4.0 * a6 - 4.0 * a7;
            v4[i] = -6.0 * a1 + 5.0 * a2 + 29.0 * a3 - 25.0 * a4 - 19.0 * a5 + 20.0 * a6 - 4.0 * a7;
            v5[i] = 12.0 * a1 + 20.0 * a2 - 23.0 * a3 - 25.0 * a4 + 13.0 * a5 + 5.0 * a6 - 2.0 * a7;
            v6[i] = -12.0 * a1 + 28.0 * a2 + 7.0 * a3 - 35.0 * a4 + 7.0 * a5 + 7.0 * a6 - 2.0 * a7;
            v7[i] = -4.0 * a1 + 21.0 * a3 - 21.0 * a5 + 4.0 * a7;
            v8[i] =
                12.0 * a1 - 4.0 * a2 - 63.0 * a3 + 21.0 * a4 + 63.0 * a5 - 21.0 * a6 - 12.0 * a7
                    + 4.0 * a8;
        }
    }

    #[inline(always)]
    fn output_transform(m: &[&[f32]; MAX_POINTS], y: &mut [&mut [f32]; MAX_POINTS]) {
        let [m0, m1, m2, m3, m4, m5, m6, m7, m8] = *m;
        let [y0, y1, y2, y3, y4, ..] = y;
        let f = y0.len();
        let (m0, m1, m2, m3, m4) = (&m0[..f], &m1[..f], &m2[..f], &m3[..f], &m4[..f]);
        let (m5, m6, m7, m8) = (&m5[..f], &m6[..f], &m7[..f], &m8[..f]);
        let (y1, y2, y3, y4) = (&mut y1[..f], &mut y2[..f], &mut y3[..f], &mut y4[..f]);
        for i in 0..f {
            let (a, g, h) = (m0[i], m7[i], m8[i]);
            let (sum1, diff1) = (m1[i] + m2[i], m1[i] - m2[i]);
            let (sum2, diff2) = (m3[i] + m4[i], m3[i] - m4[i]);
            let (sum3, diff3) = (m5[i] + m6[i], m5[i] - m6[i]);
            y0[i] = a + sum1 + sum2 + sum3 + g;
            y1[i] = diff1 + 2.0 * diff2 + 0.5 * diff3 + 3.0 * g;
            y2[i] = sum1 + 4.0 * sum2 + 0.25 * sum3 + 9.0 * g;
            y3[i] = diff1 + 8.0 * diff2 + 0.125 * diff3 + 27.0 * g;
            y4[i] = sum1 + 16.0 * sum2 + 0.0625 * sum3 + 81.0 * g + h;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// F(4, 4)'s input transform, rows scaled to integers (`G` carries the inverse scales).
    const BT44: &[&[f32]] = &[
        &[4.0, -8.0, -5.0, 10.0, 1.0, -2.0, 0.0],
        &[0.0, -4.0, 4.0, 9.0, -1.0, -2.0, 0.0],
        &[0.0, -4.0, 12.0, -7.0, -3.0, 2.0, 0.0],
        &[0.0, 2.0, -3.0, -4.0, 3.0, 2.0, 0.0],
        &[0.0, 2.0, -5.0, 0.0, 5.0, -2.0, 0.0],
        &[0.0, 4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
        &[0.0, -4.0, 8.0, 5.0, -10.0, -1.0, 2.0],
    ];

    /// F(4, 4)'s output transform: row `j` holds the points' `j`-th powers.
    const AT44: &[&[f32]] = &[
        &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        &[0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 0.0],
        &[0.0, 1.0, 1.0, 4.0, 4.0, 0.25, 0.0],
        &[0.0, 1.0, -1.0, 8.0, -8.0, 0.125, 1.0],
    ];

    /// F(5, 5)'s input transform.
    const BT55: &[&[f32]] = &[
        &[12.0, -4.0, -63.0, 21.0, 63.0, -21.0, -12.0, 4.0, 0.0],
        &[0.0, -12.0, -8.0, 55.0, 34.0, -29.0, -8.0, 4.0, 0.0],
        &[0.0, 12.0, -16.0, -47.0, 68.0, -5.0, -16.0, 4.0, 0.0],
        &[0.0, 6.0, 1.0, -31.0, -5.0, 29.0, 4.0, -4.0, 0.0],
        &[0.0, -6.0, 5.0, 29.0, -25.0, -19.0, 20.0, -4.0, 0.0],
        &[0.0, 12.0, 20.0, -23.0, -25.0, 13.0, 5.0, -2.0, 0.0],
        &[0.0, -12.0, 28.0, 7.0, -35.0, 7.0, 7.0, -2.0, 0.0],
        &[0.0, -4.0, 0.0, 21.0, 0.0, -21.0, 0.0, 4.0, 0.0],
        &[0.0, 12.0, -4.0, -63.0, 21.0, 63.0, -21.0, -12.0, 4.0],
    ];

    /// F(5, 5)'s output transform.
    const AT55: &[&[f32]] = &[
        &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        &[0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, 0.0],
        &[0.0, 1.0, 1.0, 4.0, 4.0, 0.25, 0.25, 9.0, 0.0],
        &[0.0, 1.0, -1.0, 8.0, -8.0, 0.125, -0.125, 27.0, 0.0],
        &[0.0, 1.0, 1.0, 16.0, 16.0, 0.0625, 0.0625, 81.0, 1.0],
    ];

    /// `S`'s transforms applied to `x` (`POINTS` rows of 7 values): `(BT x, AT x)`.
    fn transforms<S: Scheme>(x: &[Vec<f32>]) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        let inputs: [&[f32]; MAX_POINTS] = std::array::from_fn(|i| match i < S::POINTS {
            true => x[i].as_slice(),
            false => &[][..],
        });
        let mut v = vec![vec![0.0f32; 7]; S::POINTS];
        let mut y = vec![vec![0.0f32; 7]; S::TILE];
        {
            let mut planes = v.iter_mut();
            let mut rows = y.iter_mut();
            S::input_transform(
                &inputs,
                &mut std::array::from_fn(|_| planes.next().map_or(&mut [][..], |p| p)),
            );
            S::output_transform(
                &inputs,
                &mut std::array::from_fn(|_| rows.next().map_or(&mut [][..], |r| r)),
            );
        }
        (v, y)
    }

    /// The written-out transforms are the matrices' products.
    fn check_written_out<S: Scheme>(bt: &[&[f32]], at: &[&[f32]]) {
        let x: Vec<Vec<f32>> = (0..S::POINTS)
            .map(|i| (0..7).map(|c| (i * 7 + c) as f32 * 0.37 - 3.0).collect())
            .collect();
        let (v, y) = transforms::<S>(&x);
        for c in 0..7 {
            for (p, b) in bt.iter().enumerate() {
                let expected: f32 = (0..S::POINTS).map(|i| b[i] * x[i][c]).sum();
                assert!((v[p][c] - expected).abs() < 1e-3, "BT row {p}, channel {c}");
            }
            for (j, a) in at.iter().enumerate() {
                let expected: f32 = (0..S::POINTS).map(|p| a[p] * x[p][c]).sum();
                assert!((y[j][c] - expected).abs() < 1e-3, "AT row {j}, filter {c}");
            }
        }
    }

    #[test]
    fn the_written_out_transforms_are_the_matrices() {
        check_written_out::<F44>(BT44, AT44);
        check_written_out::<F55>(BT55, AT55);
    }

    /// The three transforms compute a `TILE`-tap correlation of `POINTS` inputs exactly, for
    /// every input and tap that is a unit vector (and so, by linearity, for all).
    fn check_correlation<S: Scheme>(bt: &[&[f32]], at: &[&[f32]]) {
        for i in 0..S::TILE {
            for k in 0..S::POINTS {
                let w: Vec<f32> = (0..S::TILE).map(|a| f32::from(u8::from(a == i))).collect();
                let x: Vec<f32> = (0..S::POINTS)
                    .map(|a| f32::from(u8::from(a == k)))
                    .collect();
                let u: Vec<f32> = S::G
                    .iter()
                    .map(|g| g.iter().zip(&w).map(|(a, b)| a * b).sum())
                    .collect();
                let v: Vec<f32> = bt
                    .iter()
                    .map(|b| b.iter().zip(&x).map(|(a, b)| a * b).sum())
                    .collect();
                for (j, a) in at.iter().enumerate() {
                    let y: f32 = (0..S::POINTS).map(|p| a[p] * u[p] * v[p]).sum();
                    // y[j] = sum_i w[i] x[j + i] = 1 where j + i == k
                    let expected = f32::from(u8::from(j + i == k));
                    assert!((y - expected).abs() < 1e-5, "w=e{i} x=e{k} y[{j}]={y}");
                }
            }
        }
    }

    #[test]
    fn the_transforms_compute_the_outputs_of_a_short_correlation() {
        check_correlation::<F44>(BT44, AT44);
        check_correlation::<F55>(BT55, AT55);
    }

    /// Both poolings of position-major rows (AVX-512 where this CPU has it, and the portable
    /// loop) against the channels-first pooling of `fast_elementwise`, transposed: the same
    /// maxima, NaN where the window starts with one and ignored after, as `v > best` keeps.
    #[test]
    fn pooled_rows_are_the_channels_first_pooling() {
        use crate::backend::cpu::fast_elementwise::window_maxima;
        let (positions, f) = (11, 20);
        let spec = PoolSpec { size: 3, stride: 2 };
        let pool = Pooling { spec, len: 5 };
        let mut rows: Vec<f32> = (0..positions * f)
            .map(|i| ((i * 37) % 23) as f32 - 11.0)
            .collect();
        rows[4 * f + 3] = f32::NAN; // starts window 2 of filter 3
        rows[5 * f + 7] = f32::NAN; // inside window 2 of filter 7
        let mut expected = vec![0.0f32; pool.len * f];
        for j in 0..f {
            let column: Vec<f32> = (0..positions).map(|p| rows[p * f + j]).collect();
            let mut best = vec![0.0f32; pool.len];
            window_maxima(&column, spec, &mut best);
            for (o, b) in best.into_iter().enumerate() {
                expected[o * f + j] = b;
            }
        }
        let same = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .all(|(x, y)| x == y || x.is_nan() && y.is_nan())
        };
        for portable in [false, true] {
            let mut got = vec![f32::INFINITY; pool.len * f];
            if portable {
                pool_rows_portable(&rows, f, pool, &mut got);
            } else {
                pool_rows(&rows, f, pool, &mut got);
            }
            assert!(
                same(&got, &expected),
                "portable {portable}: {got:?} vs {expected:?}"
            );
            assert!(got[2 * f + 3].is_nan() && !got[2 * f + 7].is_nan());
        }
    }

    /// F(5, 5) where it saves a tenth of the products or more, F(4, 4) elsewhere.
    #[test]
    fn the_scheme_follows_the_products_it_saves() {
        let f55: Vec<usize> = (5..=20)
            .filter(|&k| Tiling::for_taps(k) == Tiling::F55)
            .collect();
        assert_eq!(f55, [5, 9, 10, 13, 14, 15, 17, 18, 19, 20]);
    }
}
