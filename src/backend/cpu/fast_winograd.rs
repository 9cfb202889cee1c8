//! The CPU backend's convolution forward with fewer products: Winograd's minimal filtering
//! F(3, 3) nested over the kernel. The kernel's taps are split into segments of 3 (zero taps
//! added to make up the last) and the outputs into tiles of 3. Segment `s` of tile `t` reads
//! the 5 inputs from position `3 (t + s)`, and F(3, 3) computes its 3 outputs from 5 products
//! of transformed inputs and transformed taps instead of 9:
//!
//! ```text
//! y[3t + j, f] = b[f] + sum_p AT[j, p] M_p[t, f]
//! M_p (T, F)   = V_p windows (T, S*C)  U_p (S*C, F)        for each of the 5 points p
//! V_p[q, c]    = sum_i BT[p, i] x[c, 3q + i]               (input transform)
//! U_p[s*C + c, f] = sum_i G[p, i] w[f, c, 3s + i]          (weight transform)
//! ```
//!
//! Row `t` of the windows of `V_p` is its rows `t .. t + S`, `S*C` consecutive values, so each
//! point is one matrix product over a strided view, as in [`fast_conv`](super::fast_conv).
//! Per output and filter that is `5 S C / 3` products instead of `K C`: 1.8x fewer for
//! `K = 15`. The transforms use the points 0, 1, -1, 2 and infinity, whose matrices have small
//! entries, so the result stays within float32 rounding of the plain sum.

use super::fast_conv::Frames;
use super::gemm::Matrix;
use super::narrow::matmul_narrow;
use super::scratch::Scratch;
use super::transpose::{Epilogue, Layout, transpose};
use crate::backend::Conv1dSpec;
use crate::backend::shapes::ConvDims;

/// Outputs per tile, and taps per segment.
const TILE: usize = 3;
/// Products per tile and segment: `2 * TILE - 1` interpolation points.
const POINTS: usize = 5;

/// Weight transform: `U_p = sum_i G[p, i] w[3s + i]`, with the inverse of the scales that
/// make [`input_transform`]'s matrix integer.
const G: [[f32; TILE]; POINTS] = [
    [0.5, 0.0, 0.0],
    [0.5, 0.5, 0.5],
    [1.0 / 6.0, -1.0 / 6.0, 1.0 / 6.0],
    [1.0 / 6.0, 2.0 / 6.0, 4.0 / 6.0],
    [0.0, 0.0, 1.0],
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
                        let value = g[0] * tap(0) + g[1] * tap(1) + g[2] * tap(2);
                        u[(p * rows + s * d.c + c) * d.f + f] = value;
                    }
                }
            }
        }
        Self { u, segments }
    }
}

/// Zero rows after each example's padded input in its frame: the last tile's windows reach
/// up to 4 positions past it (the tiles and segments rounded up to 3).
const OVERHANG: usize = 4;

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
        // the five points' matrices, each (rows, C)
        let (v0, rest) = v.split_at_mut(rows * c);
        let (v1, rest) = rest.split_at_mut(rows * c);
        let (v2, rest) = rest.split_at_mut(rows * c);
        let (v3, v4) = rest.split_at_mut(rows * c);
        for e in 0..m {
            let example = &frames[e * g.example_rows() * c..(e + 1) * g.example_rows() * c];
            for q in 0..per_example {
                let row = (e * per_example + q) * c..(e * per_example + q + 1) * c;
                let input = |i: usize| &example[(TILE * q + i) * c..(TILE * q + i + 1) * c];
                input_transform(
                    [input(0), input(1), input(2), input(3), input(4)],
                    [
                        &mut v0[row.clone()],
                        &mut v1[row.clone()],
                        &mut v2[row.clone()],
                        &mut v3[row.clone()],
                        &mut v4[row],
                    ],
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
    // output rows, position-major, 3 per tile; then (positions, F) -> (F, L_out) per example
    let mut positions = Scratch::take(tiles * TILE * f);
    for e in 0..m {
        for ti in 0..tiles {
            let row = e * per_example + ti;
            let product =
                |p: usize| &products[(p * out_rows + row) * f..(p * out_rows + row + 1) * f];
            let (y0, rest) = positions[TILE * ti * f..(TILE * ti + TILE) * f].split_at_mut(f);
            let (y1, y2) = rest.split_at_mut(f);
            output_transform(
                [product(0), product(1), product(2), product(3), product(4)],
                [y0, y1, y2],
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
    let [x0, x1, x2, x3, x4] = x;
    let [v0, v1, v2, v3, v4] = v;
    let c = v0.len();
    let (x0, x1, x2, x3, x4) = (&x0[..c], &x1[..c], &x2[..c], &x3[..c], &x4[..c]);
    let (v1, v2, v3, v4) = (&mut v1[..c], &mut v2[..c], &mut v3[..c], &mut v4[..c]);
    for i in 0..c {
        let (a, b, d, e, g) = (x0[i], x1[i], x2[i], x3[i], x4[i]);
        v0[i] = 2.0 * a - b - 2.0 * d + e;
        v1[i] = 2.0 * b + d - e;
        v2[i] = -2.0 * b + 3.0 * d - e;
        v3[i] = e - b;
        v4[i] = 2.0 * b - d - 2.0 * e + g;
    }
}

/// `y[j] = sum_p AT[j, p] m[p]` for every filter, the output transform written out (`AT` is in
/// the tests).
fn output_transform(m: [&[f32]; POINTS], y: [&mut [f32]; TILE]) {
    let [m0, m1, m2, m3, m4] = m;
    let [y0, y1, y2] = y;
    let f = y0.len();
    let (m0, m1, m2, m3, m4) = (&m0[..f], &m1[..f], &m2[..f], &m3[..f], &m4[..f]);
    let (y1, y2) = (&mut y1[..f], &mut y2[..f]);
    for i in 0..f {
        let (a, b, c, d, e) = (m0[i], m1[i], m2[i], m3[i], m4[i]);
        y0[i] = a + b + c + d;
        y1[i] = b - c + 2.0 * d;
        y2[i] = b + c + 4.0 * d + e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input transform, rows scaled to integers (`G` carries the inverse scales).
    const BT: [[f32; POINTS]; POINTS] = [
        [2.0, -1.0, -2.0, 1.0, 0.0],
        [0.0, 2.0, 1.0, -1.0, 0.0],
        [0.0, -2.0, 3.0, -1.0, 0.0],
        [0.0, -1.0, 0.0, 1.0, 0.0],
        [0.0, 2.0, -1.0, -2.0, 1.0],
    ];

    /// Output transform.
    const AT: [[f32; POINTS]; TILE] = [
        [1.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, -1.0, 2.0, 0.0],
        [0.0, 1.0, 1.0, 4.0, 1.0],
    ];

    /// The written-out transforms are the matrices' products.
    #[test]
    fn the_written_out_transforms_are_the_matrices() {
        let x: Vec<Vec<f32>> = (0..POINTS)
            .map(|i| (0..7).map(|c| (i * 7 + c) as f32 * 0.37 - 3.0).collect())
            .collect();
        let mut v = vec![vec![0.0f32; 7]; POINTS];
        {
            let [v0, v1, v2, v3, v4] = &mut v[..] else {
                unreachable!()
            };
            input_transform([&x[0], &x[1], &x[2], &x[3], &x[4]], [v0, v1, v2, v3, v4]);
        }
        let mut y = vec![vec![0.0f32; 7]; TILE];
        {
            let [y0, y1, y2] = &mut y[..] else {
                unreachable!()
            };
            output_transform([&x[0], &x[1], &x[2], &x[3], &x[4]], [y0, y1, y2]);
        }
        for c in 0..7 {
            for (p, b) in BT.iter().enumerate() {
                let expected: f32 = (0..POINTS).map(|i| b[i] * x[i][c]).sum();
                assert!((v[p][c] - expected).abs() < 1e-5, "BT row {p}, channel {c}");
            }
            for (j, a) in AT.iter().enumerate() {
                let expected: f32 = (0..POINTS).map(|p| a[p] * x[p][c]).sum();
                assert!((y[j][c] - expected).abs() < 1e-5, "AT row {j}, filter {c}");
            }
        }
    }

    /// The three transforms compute a 3-tap correlation of 5 inputs exactly, for every
    /// input and tap that is a unit vector (and so, by linearity, for all).
    #[test]
    fn the_transforms_compute_three_outputs_of_a_three_tap_correlation() {
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
