//! The CPU backend's separable contraction, `y[n,u] = sum_l pos[u,l] sum_c chan[u,c]
//! x[n,c,l]`, as per-example matrix products, examples in parallel.
//!
//! As in [`fast_conv`](super::fast_conv), gradients summed over the batch are summed per fixed
//! chunk of examples and then in chunk order, so results do not depend on the thread count.
//! [`kernels::separable`](super::kernels::separable) is the reference.

use rayon::prelude::*;

use super::chunks::per_chunk;
use super::gemm::{CHUNK, Matrix, matmul};
use super::narrow::matmul_narrow;
use super::scratch::Scratch;
use super::transpose::{Epilogue, Layout, transpose};

/// `(N, C, L)` x `(U, L)` x `(U, C)` -> `(N, U)`; `dims` is `[N, C, L, U]`.
pub fn separable(x: &[f32], pos: &[f32], chan: &[f32], dims: [usize; 4]) -> Vec<f32> {
    let [n, c, l, u] = dims;
    let mut y = vec![0.0f32; n * u];
    if y.is_empty() {
        return y;
    }
    // per chunk of m examples, xs (m*C, L): t (m*C, U) = xs pos^T, then
    // y[i,u] = sum_c chan[u,c] t[(i,c), u], a sum of rows of chan^T scaled elementwise
    let pos_t = transposed(pos, u, l);
    let chan_t = transposed(chan, u, c);
    y.par_chunks_mut(CHUNK * u)
        .zip(x.par_chunks((CHUNK * c * l).max(1)))
        .for_each(|(y_chunk, x_chunk)| {
            let rows = y_chunk.len() / u * c;
            let mut t = Scratch::take(rows * u);
            matmul_narrow(Matrix::row_major(x_chunk, rows, l), &pos_t, u, &mut t);
            for (y_example, t_example) in y_chunk
                .chunks_exact_mut(u)
                .zip(t.chunks_exact((c * u).max(1)))
            {
                y_example.fill(0.0);
                for (t_row, chan_row) in t_example.chunks_exact(u).zip(chan_t.chunks_exact(u)) {
                    for ((out, a), b) in y_example.iter_mut().zip(t_row).zip(chan_row) {
                        *out += a * b;
                    }
                }
            }
        });
    y
}

/// `a (rows, cols)` row-major, transposed: `(cols, rows)` row-major.
fn transposed(a: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; a.len()];
    let row_major = |rows, cols| Layout {
        rows,
        cols,
        row_stride: cols,
        col_stride: 1,
    };
    transpose(
        a,
        row_major(rows, cols),
        &mut out,
        row_major(cols, rows),
        Epilogue::default(),
    );
    out
}

/// `a (U, m*C)`, `a[u, (i,c)] = dy[i,u] chan[u,c]`, for a chunk of `m` examples of `dy`;
/// `dims` is `[m, C, U]`.
fn scaled_channels(chan: &[f32], dy: &[f32], [m, c, u]: [usize; 3]) -> Scratch {
    let mut a = Scratch::take(u * m * c);
    for (unit, a_unit) in a.chunks_exact_mut((m * c).max(1)).enumerate() {
        let weights = &chan[unit * c..(unit + 1) * c];
        for (i, a_example) in a_unit.chunks_exact_mut(c.max(1)).enumerate() {
            let gu = dy[i * u + unit];
            for (out, w) in a_example.iter_mut().zip(weights) {
                *out = gu * w;
            }
        }
    }
    a
}

/// The input gradient of [`separable`] alone, `dx (N, C, L) = a^T pos` per chunk with `a`
/// as in [`separable_backward`]: no weight gradient is computed.
pub fn separable_input_grad(pos: &[f32], chan: &[f32], dy: &[f32], dims: [usize; 4]) -> Vec<f32> {
    let [n, c, l, u] = dims;
    let positional = Matrix::row_major(pos, u, l);
    let (dx, _) = per_chunk(n, c * l, true, |chunk, dx| {
        let first = chunk * CHUNK;
        let m = CHUNK.min(n - first);
        let a = scaled_channels(chan, &dy[first * u..(first + m) * u], [m, c, u]);
        let dx = dx.expect("per_chunk hands out dx with need_dx");
        matmul(Matrix::row_major(&a, u, m * c).t(), positional, dx, 0.0);
    });
    dx.expect("need_dx was set")
}

/// Gradients of [`separable`]: `(dx if need_dx, dpos, dchan)`, as
/// [`kernels::separable_backward`](super::kernels::separable_backward).
pub fn separable_backward(
    x: &[f32],
    pos: &[f32],
    chan: &[f32],
    dy: &[f32],
    dims: [usize; 4],
    need_dx: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let [n, c, l, u] = dims;
    let positional = Matrix::row_major(pos, u, l);
    // One chunk of examples: its (dpos, dchan), and its input gradient written into `dx`.
    // With the chunk's input as `xs (m*C, L)` (rows are (example, channel)) and
    // `a[u, (i,c)] = dy[i,u] chan[u,c]`, each gradient is one product over the whole chunk:
    //   dpos (U, L)    = a xs
    //   s (U, m*C)     = pos xs^T, then dchan[u,c] = sum_i dy[i,u] s[u, (i,c)]
    //   dx (m*C, L)    = a^T pos
    let chunk_grads = |chunk: usize, dx: Option<&mut [f32]>| {
        let first = chunk * CHUNK;
        let m = CHUNK.min(n - first);
        let rows = m * c;
        let xs = Matrix::row_major(&x[first * c * l..(first + m) * c * l], rows, l);
        let g = &dy[first * u..(first + m) * u];
        let a = scaled_channels(chan, g, [m, c, u]);
        let a = Matrix::row_major(&a, u, rows);
        let mut dpos = vec![0.0f32; u * l];
        matmul(a, xs, &mut dpos, 0.0);
        let mut s = Scratch::take(u * rows);
        matmul(positional, xs.t(), &mut s, 0.0);
        let mut dchan = vec![0.0f32; u * c];
        for (unit, (d, s_unit)) in dchan
            .chunks_exact_mut(c.max(1))
            .zip(s.chunks_exact(rows.max(1)))
            .enumerate()
        {
            for (i, s_example) in s_unit.chunks_exact(c.max(1)).enumerate() {
                let gu = g[i * u + unit];
                for (d, s) in d.iter_mut().zip(s_example) {
                    *d += gu * s;
                }
            }
        }
        if let Some(dx) = dx {
            matmul(a.t(), positional, dx, 0.0);
        }
        (dpos, dchan)
    };
    let (dx, parts) = per_chunk(n, c * l, need_dx, chunk_grads);
    let mut dpos = vec![0.0f32; u * l];
    let mut dchan = vec![0.0f32; u * c];
    for (dpos_part, dchan_part) in parts {
        dpos.iter_mut().zip(&dpos_part).for_each(|(a, b)| *a += b);
        dchan.iter_mut().zip(&dchan_part).for_each(|(a, b)| *a += b);
    }
    (dx, dpos, dchan)
}
