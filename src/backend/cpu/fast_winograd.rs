//! The CPU backend's convolution forward with fewer products: Winograd's minimal filtering
//! F(4, 4) nested over the kernel. The kernel's taps are split into segments of 4 (zero taps
//! added to make up the last) and the outputs into tiles of 4. Segment `s` of tile `t` reads
//! the 7 inputs from position `4 (t + s)`, and F(4, 4) computes its 4 outputs from 7 products
//! of transformed inputs and transformed taps instead of 16:
//!
//! ```text
//! y[4t + j, f] = b[f] + sum_p AT[j, p] M_p[t, f]
//! M_p (T, F)   = V_p windows (T, S*C)  U_p (S*C, F)        for each of the 7 points p
//! V_p[q, c]    = sum_i BT[p, i] x[c, 4q + i]               (input transform)
//! U_p[s*C + c, f] = sum_i G[p, i] w[f, c, 4s + i]          (weight transform)
//! ```
//!
//! Row `t` of the windows of `V_p` is its rows `t .. t + S`, `S*C` consecutive values, so each
//! point is one matrix product over a strided view, as in [`fast_conv`](super::fast_conv).
//! Per output and filter that is `7 S C / 4` products instead of `K C`: 2.1x fewer for
//! `K = 15` (`S = 4`). The points are 0, 1, -1, 2, -2, 1/2 and infinity; the input transform's
//! rows are scaled to small integers and the weight transform carries the inverse scales.

use super::fast_conv::Frames;
use super::gemm::Matrix;
use super::narrow::matmul_narrow;
use super::scratch::Scratch;
use super::transpose::{Epilogue, Layout, transpose};
use crate::backend::Conv1dSpec;
use crate::backend::shapes::ConvDims;

/// Outputs per tile, and taps per segment.
const TILE: usize = 4;
/// Products per tile and segment: `2 * TILE - 1` interpolation points.
const POINTS: usize = 7;

/// Weight transform: `U_p = sum_i G[p, i] w[4s + i]`, with the inverse of the scales that
/// make [`input_transform`]'s matrix integer.
const G: [[f32; TILE]; POINTS] = [
    [1.0 / 4.0, 0.0, 0.0, 0.0],
    [1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0, 1.0 / 6.0],
    [1.0 / 18.0, -1.0 / 18.0, 1.0 / 18.0, -1.0 / 18.0],
    [1.0 / 72.0, 1.0 / 36.0, 1.0 / 18.0, 1.0 / 9.0],
    [1.0 / 120.0, -1.0 / 60.0, 1.0 / 30.0, -1.0 / 15.0],
    [32.0 / 45.0, 16.0 / 45.0, 8.0 / 45.0, 4.0 / 45.0],
    [0.0, 0.0, 0.0, 1.0 / 2.0],
];

/// Whether the transformed convolution pays for `d` and `spec`: no dilation, at least 5
/// taps (two segments) and 16 input channels (a sum long enough for the products to run at
/// full rate).
pub fn applies(d: ConvDims, spec: Conv1dSpec) -> bool {
    spec.dilation == 1 && d.k >= 5 && d.c >= 16
}

/// The weights `(F, C, K)` transformed: for each point, a `(S*C, F)` row-major matrix.
pub struct Transformed {
    u: Vec<f32>,
    segments: usize,
}

impl Transformed {
    /// Transforms `w (F, C, K)`.
    pub fn new(w: &[f32], d: ConvDims) -> Self {
        let segments = d.k.div_ceil(TILE);
        let rows = segments * d.c;
        let mut u = vec![0.0f32; POINTS * rows * d.f];
        for f in 0..d.f {
            for c in 0..d.c {
                let taps = &w[(f * d.c + c) * d.k..(f * d.c + c + 1) * d.k];
                for s in 0..segments {
                    let tap = |i: usize| taps.get(TILE * s + i).copied().unwrap_or(0.0);
                    for (p, g) in G.iter().enumerate() {
                        let value = (0..TILE).map(|i| g[i] * tap(i)).sum::<f32>();
                        u[(p * rows + s * d.c + c) * d.f + f] = value;
                    }
                }
            }
        }
        Self { u, segments }
    }
}

/// Zero rows after each example's padded input in its frame: the last tile's windows reach
/// up to `2 (TILE - 1)` positions past it (the tiles and segments rounded up to `TILE`).
const OVERHANG: usize = 2 * (TILE - 1);

/// The convolution of `m` examples `x_chunk (m, C, L)` into `out (m, F, L_out)`, each value
/// passed through `epilogue` (bias per filter, then the floor). Both transforms run over
/// position-major rows, channels (filters) contiguous, so that they vectorise.
pub fn conv1d_chunk(
    x_chunk: &[f32],
    m: usize,
    t: &Transformed,
    d: ConvDims,
    spec: Conv1dSpec,
    out: &mut [f32],
    epilogue: Epilogue,
) {
    let (s, c, f) = (t.segments, d.c, d.f);
    let tiles = d.l_out.div_ceil(TILE);
    // tile inputs per example: the windows of the last tile reach `s - 1` further
    let per_example = tiles + s - 1;
    let rows = m * per_example;
    let g = Frames::new(m, d, spec, OVERHANG);
    let frames = g.fill(x_chunk, c, d.l, spec.pad_left, 0);
    let mut v = Scratch::take(POINTS * rows * c);
    {
        // the points' matrices, each (rows, C)
        let mut planes: Vec<&mut [f32]> = v.chunks_exact_mut((rows * c).max(1)).collect();
        for e in 0..m {
            let example = &frames[e * g.example_rows() * c..(e + 1) * g.example_rows() * c];
            for q in 0..per_example {
                let row = (e * per_example + q) * c..(e * per_example + q + 1) * c;
                let input = |i: usize| &example[(TILE * q + i) * c..(TILE * q + i + 1) * c];
                let mut outputs = planes.iter_mut().map(|plane| &mut plane[row.clone()]);
                input_transform(
                    std::array::from_fn(input),
                    std::array::from_fn(|_| outputs.next().expect("POINTS planes")),
                );
            }
        }
    }
    // rows that straddle two examples are computed and dropped
    let out_rows = rows + 1 - s;
    let sc = s * c;
    let mut products = Scratch::take(POINTS * out_rows * f);
    for p in 0..POINTS {
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
    // output rows, position-major, TILE per tile; then (positions, F) -> (F, L_out) per example
    let mut positions = Scratch::take(tiles * TILE * f);
    for e in 0..m {
        for ti in 0..tiles {
            let row = e * per_example + ti;
            let product =
                |p: usize| &products[(p * out_rows + row) * f..(p * out_rows + row + 1) * f];
            let mut rows = positions[TILE * ti * f..(TILE * ti + TILE) * f].chunks_exact_mut(f);
            output_transform(
                std::array::from_fn(product),
                std::array::from_fn(|_| rows.next().expect("TILE rows")),
            );
        }
        transpose(
            &positions,
            Layout {
                rows: d.l_out,
                cols: f,
                row_stride: f,
                col_stride: 1,
            },
            &mut out[e * f * d.l_out..(e + 1) * f * d.l_out],
            Layout {
                rows: f,
                cols: d.l_out,
                row_stride: d.l_out,
                col_stride: 1,
            },
            epilogue,
        );
    }
}

/// `v[p] = sum_i BT[p, i] x[i]` for every channel, the input transform written out (`BT`, rows
/// scaled to integers, is in the tests).
fn input_transform(x: [&[f32]; POINTS], v: [&mut [f32]; POINTS]) {
    let [x0, x1, x2, x3, x4, x5, x6] = x;
    let [v0, v1, v2, v3, v4, v5, v6] = v;
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

/// `y[j] = sum_p AT[j, p] m[p]` for every filter, the output transform written out (`AT` is in
/// the tests).
fn output_transform(m: [&[f32]; POINTS], y: [&mut [f32]; TILE]) {
    let [m0, m1, m2, m3, m4, m5, m6] = m;
    let [y0, y1, y2, y3] = y;
    let f = y0.len();
    let (m0, m1, m2, m3) = (&m0[..f], &m1[..f], &m2[..f], &m3[..f]);
    let (m4, m5, m6) = (&m4[..f], &m5[..f], &m6[..f]);
    let (y1, y2, y3) = (&mut y1[..f], &mut y2[..f], &mut y3[..f]);
    for i in 0..f {
        let (a, b, c, d, e, g, h) = (m0[i], m1[i], m2[i], m3[i], m4[i], m5[i], m6[i]);
        let (sum, diff) = (b + c, b - c);
        let (sum2, diff2) = (d + e, d - e);
        y0[i] = a + sum + sum2 + g;
        y1[i] = diff + 2.0 * diff2 + 0.5 * g;
        y2[i] = sum + 4.0 * sum2 + 0.25 * g;
        y3[i] = diff + 8.0 * diff2 + 0.125 * g + h;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input transform, rows scaled to integers (`G` carries the inverse scales).
    const BT: [[f32; POINTS]; POINTS] = [
        [4.0, -8.0, -5.0, 10.0, 1.0, -2.0, 0.0],
        [0.0, -4.0, 4.0, 9.0, -1.0, -2.0, 0.0],
        [0.0, -4.0, 12.0, -7.0, -3.0, 2.0, 0.0],
        [0.0, 2.0, -3.0, -4.0, 3.0, 2.0, 0.0],
        [0.0, 2.0, -5.0, 0.0, 5.0, -2.0, 0.0],
        [0.0, 4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
        [0.0, -4.0, 8.0, 5.0, -10.0, -1.0, 2.0],
    ];

    /// Output transform.
    const AT: [[f32; POINTS]; TILE] = [
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 0.0],
        [0.0, 1.0, 1.0, 4.0, 4.0, 0.25, 0.0],
        [0.0, 1.0, -1.0, 8.0, -8.0, 0.125, 1.0],
    ];

    /// The written-out transforms are the matrices' products.
    #[test]
    fn the_written_out_transforms_are_the_matrices() {
        let x: Vec<Vec<f32>> = (0..POINTS)
            .map(|i| (0..7).map(|c| (i * 7 + c) as f32 * 0.37 - 3.0).collect())
            .collect();
        let inputs: [&[f32]; POINTS] = std::array::from_fn(|i| x[i].as_slice());
        let mut v = vec![vec![0.0f32; 7]; POINTS];
        {
            let mut planes = v.iter_mut();
            input_transform(
                inputs,
                std::array::from_fn(|_| planes.next().unwrap().as_mut_slice()),
            );
        }
        let mut y = vec![vec![0.0f32; 7]; TILE];
        {
            let mut rows = y.iter_mut();
            output_transform(
                inputs,
                std::array::from_fn(|_| rows.next().unwrap().as_mut_slice()),
            );
        }
        for c in 0..7 {
            for (p, b) in BT.iter().enumerate() {
                let expected: f32 = (0..POINTS).map(|i| b[i] * x[i][c]).sum();
                assert!((v[p][c] - expected).abs() < 1e-4, "BT row {p}, channel {c}");
            }
            for (j, a) in AT.iter().enumerate() {
                let expected: f32 = (0..POINTS).map(|p| a[p] * x[p][c]).sum();
                assert!((y[j][c] - expected).abs() < 1e-4, "AT row {j}, filter {c}");
            }
        }
    }

    /// The three transforms compute a 3-tap correlation of 5 inputs exactly, for every
    /// input and tap that is a unit vector (and so, by linearity, for all).
    #[test]
    fn the_transforms_compute_the_outputs_of_a_short_correlation() {
        for i in 0..TILE {
            for k in 0..POINTS {
                let w: [f32; TILE] = std::array::from_fn(|a| f32::from(u8::from(a == i)));
                let x: [f32; POINTS] = std::array::from_fn(|a| f32::from(u8::from(a == k)));
                let u: Vec<f32> = G
                    .iter()
                    .map(|g| g.iter().zip(&w).map(|(a, b)| a * b).sum())
                    .collect();
                let v: Vec<f32> = BT
                    .iter()
                    .map(|b| b.iter().zip(&x).map(|(a, b)| a * b).sum())
                    .collect();
                for (j, a) in AT.iter().enumerate() {
                    let y: f32 = (0..POINTS).map(|p| a[p] * u[p] * v[p]).sum();
                    // y[j] = sum_i w[i] x[j + i] = 1 where j + i == k
                    let expected = f32::from(u8::from(j + i == k));
                    assert!((y - expected).abs() < 1e-6, "w=e{i} x=e{k} y[{j}]={y}");
                }
            }
        }
    }
}
