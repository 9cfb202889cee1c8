//! Host side of `shaders/dense.wgsl`, in batch chunks where an activation passes one binding
//! (weight and bias gradients sum over them).

use super::launch::{DENSE, Grid, Kernel};
use super::params::{DenseParams, word};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::shapes;
use crate::backend::{DenseGrads, Tensor};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &DENSE,
        entry,
    }
}

/// Parameters for a chunk of `n` rows of `dims = [N, I, O]`.
fn params(dims: [usize; 3], n: usize, accumulate: bool) -> Result<DenseParams> {
    Ok(DenseParams {
        n: word(n)?,
        i: word(dims[1])?,
        o: word(dims[2])?,
        accumulate: accumulate.into(),
    })
}

/// Bytes per row of the input and of the output.
fn row_bytes(dims: [usize; 3]) -> [u64; 2] {
    [(dims[1] * 4) as u64, (dims[2] * 4) as u64]
}

pub(super) fn forward(gpu: &Gpu, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
    let dims = shapes::dense_dims(x.shape(), w.shape(), b.shape())?;
    let y = gpu.alloc(&[dims[0], dims[2]])?;
    for rows in gpu.row_chunks(dims[0], &row_bytes(dims))? {
        gpu.launch_bound(
            kernel("forward"),
            &params(dims, rows.len(), false)?,
            &[x.rows(&rows), w.whole(), b.whole(), y.rows(&rows)],
            Grid::Threads(rows.len() * dims[2]),
        )?;
    }
    Ok(y)
}

pub(super) fn backward(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    dy: &GpuTensor,
    need_dx: bool,
) -> Result<DenseGrads<GpuTensor>> {
    let bias_shape = [w.shape().first().copied().unwrap_or(0)];
    let dims = shapes::dense_dims(x.shape(), w.shape(), &bias_shape)?;
    shapes::expect_same("dense_backward", dy.shape(), &[dims[0], dims[2]])?;
    let dx = if need_dx {
        Some(gpu.alloc(x.shape())?)
    } else {
        None
    };
    let dw = gpu.alloc(w.shape())?;
    let db = gpu.alloc(&bias_shape)?;
    for rows in gpu.row_chunks(dims[0], &row_bytes(dims))? {
        let p = params(dims, rows.len(), rows.start > 0)?;
        if let Some(dx) = &dx {
            gpu.launch_bound(
                kernel("backward_input"),
                &p,
                &[dy.rows(&rows), w.whole(), dx.rows(&rows)],
                Grid::Threads(rows.len() * dims[1]),
            )?;
        }
        gpu.launch_bound(
            kernel("backward_weight"),
            &p,
            &[x.rows(&rows), dy.rows(&rows), dw.whole()],
            Grid::Threads(dw.len()),
        )?;
        gpu.launch_bound(
            kernel("backward_bias"),
            &p,
            &[dy.rows(&rows), db.whole()],
            Grid::Threads(db.len()),
        )?;
    }
    Ok(DenseGrads { dx, dw, db })
}
