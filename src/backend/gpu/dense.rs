//! Host side of `shaders/dense.wgsl`.

use super::launch::{DENSE, Grid, Kernel, words};
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

pub(super) fn forward(gpu: &Gpu, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
    let dims = shapes::dense_dims(x.shape(), w.shape(), b.shape())?;
    let y = gpu.alloc(&[dims[0], dims[2]])?;
    gpu.launch(
        kernel("forward"),
        &words(&dims)?,
        &[x, w, b, &y],
        Grid::Threads(y.len()),
    )?;
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
    let p = words(&dims)?;
    let dx = if need_dx {
        let dx = gpu.alloc(x.shape())?;
        gpu.launch(
            kernel("backward_input"),
            &p,
            &[dy, w, &dx],
            Grid::Threads(dx.len()),
        )?;
        Some(dx)
    } else {
        None
    };
    let dw = gpu.alloc(w.shape())?;
    gpu.launch(
        kernel("backward_weight"),
        &p,
        &[x, dy, &dw],
        Grid::Threads(dw.len()),
    )?;
    let db = gpu.alloc(&bias_shape)?;
    gpu.launch(
        kernel("backward_bias"),
        &p,
        &[dy, &db],
        Grid::Threads(db.len()),
    )?;
    Ok(DenseGrads { dx, dw, db })
}
