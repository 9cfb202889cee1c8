//! Host side of `shaders/conv1d.wgsl`. Activations larger than one binding are processed in
//! batch chunks; the weight and bias gradients sum over the chunks.

use super::launch::{CONV1D, Grid, Kernel, words};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::shapes::{self, ConvDims};
use crate::backend::{Conv1dGrads, Conv1dSpec, Tensor};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &CONV1D,
        entry,
    }
}

/// The kernel's parameters for a chunk of `n` sequences; `accumulate` adds to the gradients
/// of earlier chunks.
fn params(d: ConvDims, n: usize, spec: Conv1dSpec, accumulate: bool) -> Result<Vec<u32>> {
    words(&[
        n,
        d.c,
        d.l,
        d.f,
        d.k,
        d.l_out,
        spec.pad_left,
        spec.dilation,
        accumulate as usize,
    ])
}

/// Bytes per sequence of the input and of the output.
fn row_bytes(d: ConvDims) -> [u64; 2] {
    [(d.c * d.l * 4) as u64, (d.f * d.l_out * 4) as u64]
}

pub(super) fn forward(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    b: &GpuTensor,
    spec: Conv1dSpec,
) -> Result<GpuTensor> {
    let d = shapes::conv1d_dims(x.shape(), w.shape(), b.shape(), spec)?;
    let y = gpu.alloc(&[d.n, d.f, d.l_out])?;
    for rows in gpu.row_chunks(d.n, &row_bytes(d))? {
        gpu.launch_bound(
            kernel("forward"),
            &params(d, rows.len(), spec, false)?,
            &[x.rows(&rows), w.whole(), b.whole(), y.rows(&rows)],
            Grid::Threads(rows.len() * d.f * d.l_out),
        )?;
    }
    Ok(y)
}

pub(super) fn backward(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    dy: &GpuTensor,
    spec: Conv1dSpec,
    need_dx: bool,
) -> Result<Conv1dGrads<GpuTensor>> {
    let bias_shape = [w.shape().first().copied().unwrap_or(0)];
    let d = shapes::conv1d_dims(x.shape(), w.shape(), &bias_shape, spec)?;
    shapes::expect_same("conv1d_backward", dy.shape(), &[d.n, d.f, d.l_out])?;
    let chunks = gpu.row_chunks(d.n, &row_bytes(d))?;
    let dx = if need_dx {
        let dx = gpu.alloc(x.shape())?;
        for rows in &chunks {
            gpu.launch_bound(
                kernel("backward_input"),
                &params(d, rows.len(), spec, false)?,
                &[dy.rows(rows), w.whole(), dx.rows(rows)],
                Grid::Threads(rows.len() * d.c * d.l),
            )?;
        }
        Some(dx)
    } else {
        None
    };
    let dw = gpu.alloc(w.shape())?;
    let db = gpu.alloc(&bias_shape)?;
    for rows in &chunks {
        let p = params(d, rows.len(), spec, rows.start > 0)?;
        gpu.launch_bound(
            kernel("backward_weight"),
            &p,
            &[x.rows(rows), dy.rows(rows), dw.whole()],
            Grid::Threads(dw.len()),
        )?;
        gpu.launch_bound(
            kernel("backward_bias"),
            &p,
            &[dy.rows(rows), db.whole()],
            Grid::Threads(d.f),
        )?;
    }
    Ok(Conv1dGrads { dx, dw, db })
}
