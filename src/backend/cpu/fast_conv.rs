//! The CPU backend's conv1d: each example is unrolled into a column matrix (im2col) and
//! multiplied with the weight by a blocked matrix product, examples in parallel.
//!
//! Work is split into fixed chunks of [`CHUNK`] examples whatever the thread count, and the
//! per-chunk weight gradients are summed in chunk order, so results are the same on every
//! machine and every run. [`kernels::conv1d`](super::kernels::conv1d) stays the reference
//! these functions are tested against.

use rayon::prelude::*;

use super::gemm::{CHUNK, Matrix, matmul};
use crate::backend::Conv1dSpec;
use crate::backend::shapes::ConvDims;

/// The output range `lo0..lo1` where tap `k` reads inside the input, and the input position
/// read at `lo0`; `(0, 0, 0)` when the tap only ever reads padding.
fn tap_range(k: usize, d: ConvDims, spec: Conv1dSpec) -> (usize, usize, usize) {
    let shift = k * spec.dilation;
    // Output lo reads input p = lo + shift - pad_left, which must satisfy 0 <= p < l.
    let lo0 = spec.pad_left.saturating_sub(shift);
    let lo1 = (d.l + spec.pad_left).saturating_sub(shift).min(d.l_out);
    if lo0 >= lo1 {
        return (0, 0, 0);
    }
    (lo0, lo1, lo0 + shift - spec.pad_left)
}

/// Unrolls one example `x (C, L)` into `cols (C*K, L_out)`, zero where the tap reads padding.
fn im2col(x: &[f32], d: ConvDims, spec: Conv1dSpec, cols: &mut [f32]) {
    for c in 0..d.c {
        let row = &x[c * d.l..(c + 1) * d.l];
        for k in 0..d.k {
            let out = &mut cols[(c * d.k + k) * d.l_out..(c * d.k + k + 1) * d.l_out];
            let (lo0, lo1, p0) = tap_range(k, d, spec);
            out[..lo0].fill(0.0);
            out[lo0..lo1].copy_from_slice(&row[p0..p0 + lo1 - lo0]);
            out[lo1..].fill(0.0);
        }
    }
}

/// Adds the column gradient `dcols (C*K, L_out)` back onto `dx (C, L)`.
fn col2im_add(dcols: &[f32], d: ConvDims, spec: Conv1dSpec, dx: &mut [f32]) {
    for c in 0..d.c {
        let row = &mut dx[c * d.l..(c + 1) * d.l];
        for k in 0..d.k {
            let g = &dcols[(c * d.k + k) * d.l_out..(c * d.k + k + 1) * d.l_out];
            let (lo0, lo1, p0) = tap_range(k, d, spec);
            for (dst, src) in row[p0..p0 + lo1 - lo0].iter_mut().zip(&g[lo0..lo1]) {
                *dst += src;
            }
        }
    }
}

/// `y[n,f,lo] = b[f] + sum_c sum_k w[f,c,k] x[n,c,lo + k*dil - pad_left]`, as
/// [`kernels::conv1d`](super::kernels::conv1d).
pub fn conv1d(x: &[f32], w: &[f32], b: &[f32], d: ConvDims, spec: Conv1dSpec) -> Vec<f32> {
    let mut y = vec![0.0f32; d.n * d.f * d.l_out];
    if y.is_empty() {
        return y;
    }
    let inner = d.c * d.k;
    let weight = Matrix::row_major(w, d.f, inner);
    y.par_chunks_mut(d.f * d.l_out)
        .zip(x.par_chunks(d.c * d.l))
        .for_each_init(
            || vec![0.0f32; inner * d.l_out],
            |cols, (y_n, x_n)| {
                for (f, row) in y_n.chunks_mut(d.l_out).enumerate() {
                    row.fill(b[f]);
                }
                im2col(x_n, d, spec, cols);
                matmul(weight, Matrix::row_major(cols, inner, d.l_out), y_n, 1.0);
            },
        );
    y
}

/// Gradients of [`conv1d`]: `(dx if need_dx, dw, db)`, as
/// [`kernels::conv1d_backward`](super::kernels::conv1d_backward).
pub fn conv1d_backward(
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    d: ConvDims,
    spec: Conv1dSpec,
    need_dx: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let inner = d.c * d.k;
    let weight_t = Matrix::row_major(w, d.f, inner).t();
    let chunks = d.n.div_ceil(CHUNK);
    let parts: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let examples = chunk * CHUNK..((chunk + 1) * CHUNK).min(d.n);
            let mut dw = vec![0.0f32; d.f * inner];
            let mut db = vec![0.0f32; d.f];
            let mut dx = vec![
                0.0f32;
                if need_dx {
                    examples.len() * d.c * d.l
                } else {
                    0
                }
            ];
            let mut cols = vec![0.0f32; inner * d.l_out];
            for (i, n) in examples.enumerate() {
                let x_n = &x[n * d.c * d.l..(n + 1) * d.c * d.l];
                let dy_n = &dy[n * d.f * d.l_out..(n + 1) * d.f * d.l_out];
                for (f, row) in dy_n.chunks(d.l_out).enumerate() {
                    db[f] += row.iter().sum::<f32>();
                }
                let grad = Matrix::row_major(dy_n, d.f, d.l_out);
                im2col(x_n, d, spec, &mut cols);
                matmul(
                    grad,
                    Matrix::row_major(&cols, inner, d.l_out).t(),
                    &mut dw,
                    1.0,
                );
                if need_dx {
                    matmul(weight_t, grad, &mut cols, 0.0);
                    col2im_add(&cols, d, spec, &mut dx[i * d.c * d.l..(i + 1) * d.c * d.l]);
                }
            }
            (dx, dw, db)
        })
        .collect();
    let mut dw = vec![0.0f32; d.f * inner];
    let mut db = vec![0.0f32; d.f];
    let mut dx = Vec::with_capacity(if need_dx { d.n * d.c * d.l } else { 0 });
    for (dx_part, dw_part, db_part) in parts {
        dw.iter_mut().zip(&dw_part).for_each(|(a, b)| *a += b);
        db.iter_mut().zip(&db_part).for_each(|(a, b)| *a += b);
        dx.extend_from_slice(&dx_part);
    }
    (need_dx.then_some(dx), dw, db)
}
