//! The CPU backend's elementwise ops and max pooling: float32 throughout, split over all
//! cores in fixed blocks. Each output element depends on its own inputs alone, so results do
//! not depend on the split. [`kernels`](super::kernels) holds the reference versions, whose
//! window search the pooling's backward shares.

use rayon::prelude::*;

use super::kernels::window_argmax;

use crate::backend::PoolSpec;

/// Elements per parallel task: large enough that scheduling costs nothing next to the work.
const GRAIN: usize = 1 << 14;

/// `len` zeros, written by all cores: an output buffer that the caller's threads then fill,
/// without one thread zeroing (and first touching) all of it before they start. Its storage
/// is that of a dropped tensor when one fits (see `storage_pool.rs`).
pub(super) fn zeroed(len: usize) -> Vec<f32> {
    let mut out = super::storage_pool::take(len).unwrap_or_default();
    out.clear();
    out.reserve_exact(len);
    out.par_extend(rayon::iter::repeat_n(0.0f32, len).with_min_len(GRAIN));
    out
}

/// `len` floats for an output that the caller writes in full before reading any: the storage
/// of a dropped tensor with the values it held, when one fits, else [`zeroed`]. Reused storage
/// is neither zeroed nor touched here.
pub(super) fn to_overwrite(len: usize) -> Vec<f32> {
    match super::storage_pool::take(len) {
        Some(mut out) => {
            out.resize(len, 0.0);
            out
        }
        None => zeroed(len),
    }
}

/// `f(a[i], b[i])` for every `i`, in parallel.
fn zip_map(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32 + Sync) -> Vec<f32> {
    let mut out = to_overwrite(a.len());
    out.par_chunks_mut(GRAIN)
        .zip(a.par_chunks(GRAIN).zip(b.par_chunks(GRAIN)))
        .for_each(|(o, (a, b))| {
            for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
                *o = f(a, b);
            }
        });
    out
}

/// `f(a[i])` for every `i`, in parallel.
fn map(a: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
    let mut out = to_overwrite(a.len());
    out.par_chunks_mut(GRAIN)
        .zip(a.par_chunks(GRAIN))
        .for_each(|(o, a)| o.iter_mut().zip(a).for_each(|(o, &a)| *o = f(a)));
    out
}

/// `a + b`.
pub fn add(a: &[f32], b: &[f32]) -> Vec<f32> {
    zip_map(a, b, |a, b| a + b)
}

/// `s * a`.
pub fn scale(a: &[f32], s: f32) -> Vec<f32> {
    map(a, |a| a * s)
}

/// `max(x, 0)`.
pub fn relu(x: &[f32]) -> Vec<f32> {
    map(x, |v| v.max(0.0))
}

/// `dy` where `x > 0`, else 0.
pub fn relu_backward(x: &[f32], dy: &[f32]) -> Vec<f32> {
    zip_map(x, dy, |v, g| if v > 0.0 { g } else { 0.0 })
}

/// Rows of length `l` per parallel task for rows of `len` elements.
fn rows_per_task(len: usize) -> usize {
    GRAIN.div_ceil(len.max(1))
}

/// The first maximum of every window of `x_row` (the value at [`window_argmax`]) into `best`.
/// Windows advance together, one offset at a time: each window still sees its values in order,
/// but the windows' comparisons are independent of one another, which a window-at-a-time loop
/// (one dependent chain of selects) is not.
pub(super) fn window_maxima(x_row: &[f32], spec: PoolSpec, best: &mut [f32]) {
    let starts = (0..best.len()).map(|o| o * spec.stride);
    for (b, s) in best.iter_mut().zip(starts.clone()) {
        *b = x_row[s];
    }
    for i in 1..spec.size {
        for (b, s) in best.iter_mut().zip(starts.clone()) {
            let v = x_row[s + i];
            *b = if v > *b { v } else { *b };
        }
    }
}

/// Max pooling of `x (rows, l)` into `(rows, l_out)`.
pub fn maxpool1d(x: &[f32], rows: usize, l: usize, l_out: usize, spec: PoolSpec) -> Vec<f32> {
    let mut y = to_overwrite(rows * l_out);
    if y.is_empty() {
        return y;
    }
    let per_task = rows_per_task(l);
    y.par_chunks_mut(per_task * l_out)
        .zip(x.par_chunks(per_task * l))
        .for_each(|(y, x)| {
            for (y_row, x_row) in y.chunks_exact_mut(l_out).zip(x.chunks_exact(l)) {
                window_maxima(x_row, spec, y_row);
            }
        });
    y
}

/// Gradient of [`maxpool1d`]: each window's gradient added at its first maximum.
pub fn maxpool1d_backward(
    x: &[f32],
    dy: &[f32],
    rows: usize,
    l: usize,
    l_out: usize,
    spec: PoolSpec,
) -> Vec<f32> {
    let mut dx = zeroed(rows * l);
    if dy.is_empty() {
        return dx;
    }
    let per_task = rows_per_task(l);
    dx.par_chunks_mut(per_task * l)
        .zip(
            x.par_chunks(per_task * l)
                .zip(dy.par_chunks(per_task * l_out)),
        )
        .for_each(|(dx, (x, dy))| {
            let rows = dx.chunks_exact_mut(l).zip(x.chunks_exact(l));
            for ((dx_row, x_row), dy_row) in rows.zip(dy.chunks_exact(l_out)) {
                for (o, g) in dy_row.iter().enumerate() {
                    dx_row[window_argmax(x_row, o, spec)] += g;
                }
            }
        });
    dx
}
