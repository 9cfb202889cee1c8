//! The CPU backend's conv1d: a chunk of examples at a time is unrolled into one column matrix
//! (im2col) and multiplied with the weight by a blocked matrix product, chunks in parallel.
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

/// Unrolls the `m` examples of `x (m, C, L)` into `cols (C*K, m*L_out)`: example `i` fills
/// columns `i*L_out..(i+1)*L_out`, with zeros where a tap reads padding.
fn im2col(x: &[f32], m: usize, d: ConvDims, spec: Conv1dSpec, cols: &mut [f32]) {
    let width = m * d.l_out;
    for i in 0..m {
        for c in 0..d.c {
            let row = &x[(i * d.c + c) * d.l..(i * d.c + c + 1) * d.l];
            for k in 0..d.k {
                let start = (c * d.k + k) * width + i * d.l_out;
                let out = &mut cols[start..start + d.l_out];
                let (lo0, lo1, p0) = tap_range(k, d, spec);
                out[..lo0].fill(0.0);
                out[lo0..lo1].copy_from_slice(&row[p0..p0 + lo1 - lo0]);
                out[lo1..].fill(0.0);
            }
        }
    }
}

/// Adds the column gradient `dcols (C*K, m*L_out)` back onto `dx (m, C, L)`.
fn col2im_add(dcols: &[f32], m: usize, d: ConvDims, spec: Conv1dSpec, dx: &mut [f32]) {
    let width = m * d.l_out;
    for i in 0..m {
        for c in 0..d.c {
            let row = &mut dx[(i * d.c + c) * d.l..(i * d.c + c + 1) * d.l];
            for k in 0..d.k {
                let start = (c * d.k + k) * width + i * d.l_out;
                let g = &dcols[start..start + d.l_out];
                let (lo0, lo1, p0) = tap_range(k, d, spec);
                for (dst, src) in row[p0..p0 + lo1 - lo0].iter_mut().zip(&g[lo0..lo1]) {
                    *dst += src;
                }
            }
        }
    }
}

/// `y[n,f,lo] = b[f] + sum_c sum_k w[f,c,k] x[n,c,lo + k*dil - pad_left]`, as
/// [`kernels::conv1d`](super::kernels::conv1d), followed by relu when `relu` is set. One
/// matrix product per chunk of examples: `(F, C*K) x (C*K, m*L_out)`.
pub fn conv1d(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    d: ConvDims,
    spec: Conv1dSpec,
    relu: bool,
) -> Vec<f32> {
    let mut y = vec![0.0f32; d.n * d.f * d.l_out];
    if y.is_empty() {
        return y;
    }
    let inner = d.c * d.k;
    let weight = Matrix::row_major(w, d.f, inner);
    y.par_chunks_mut(CHUNK * d.f * d.l_out)
        .zip(x.par_chunks(CHUNK * d.c * d.l))
        .for_each(|(y_chunk, x_chunk)| {
            let m = x_chunk.len() / (d.c * d.l);
            let width = m * d.l_out;
            let mut cols = vec![0.0f32; inner * width];
            im2col(x_chunk, m, d, spec, &mut cols);
            let mut product = vec![0.0f32; d.f * width];
            matmul(
                weight,
                Matrix::row_major(&cols, inner, width),
                &mut product,
                0.0,
            );
            // (F, m*L_out) -> (m, F, L_out), adding the bias (and clamping at 0)
            let floor = if relu { 0.0 } else { f32::NEG_INFINITY };
            for i in 0..m {
                for f in 0..d.f {
                    let src = &product[f * width + i * d.l_out..f * width + (i + 1) * d.l_out];
                    let dst = &mut y_chunk[(i * d.f + f) * d.l_out..(i * d.f + f + 1) * d.l_out];
                    for (o, v) in dst.iter_mut().zip(src) {
                        *o = (v + b[f]).max(floor);
                    }
                }
            }
        });
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
            let first = chunk * CHUNK;
            let m = CHUNK.min(d.n - first);
            let width = m * d.l_out;
            let x_chunk = &x[first * d.c * d.l..(first + m) * d.c * d.l];
            let dy_chunk = &dy[first * d.f * d.l_out..(first + m) * d.f * d.l_out];
            // (m, F, L_out) -> (F, m*L_out), summing the bias gradient on the way
            let mut grad = vec![0.0f32; d.f * width];
            let mut db = vec![0.0f32; d.f];
            for i in 0..m {
                for f in 0..d.f {
                    let src = &dy_chunk[(i * d.f + f) * d.l_out..(i * d.f + f + 1) * d.l_out];
                    db[f] += src.iter().sum::<f32>();
                    grad[f * width + i * d.l_out..f * width + (i + 1) * d.l_out]
                        .copy_from_slice(src);
                }
            }
            let grad = Matrix::row_major(&grad, d.f, width);
            let mut cols = vec![0.0f32; inner * width];
            im2col(x_chunk, m, d, spec, &mut cols);
            let mut dw = vec![0.0f32; d.f * inner];
            matmul(
                grad,
                Matrix::row_major(&cols, inner, width).t(),
                &mut dw,
                0.0,
            );
            let mut dx = vec![0.0f32; if need_dx { m * d.c * d.l } else { 0 }];
            if need_dx {
                matmul(weight_t, grad, &mut cols, 0.0);
                col2im_add(&cols, m, d, spec, &mut dx);
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
