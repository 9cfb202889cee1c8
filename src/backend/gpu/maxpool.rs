//! Host side of `shaders/maxpool.wgsl`.

use super::launch::{Grid, Kernel, MAXPOOL, words};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::Tensor;
use crate::backend::shapes::{self, PoolSpec};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &MAXPOOL,
        entry,
    }
}

pub(super) fn forward(gpu: &Gpu, x: &GpuTensor, spec: PoolSpec) -> Result<GpuTensor> {
    let [n, c, l, l_out] = shapes::pool_dims(x.shape(), spec)?;
    let y = gpu.alloc(&[n, c, l_out])?;
    let p = words(&[n * c, l, l_out, spec.size, spec.stride])?;
    gpu.launch(kernel("forward"), &p, &[x, &y], Grid::Threads(y.len()))?;
    Ok(y)
}

pub(super) fn backward(
    gpu: &Gpu,
    x: &GpuTensor,
    dy: &GpuTensor,
    spec: PoolSpec,
) -> Result<GpuTensor> {
    let [n, c, l, l_out] = shapes::pool_dims(x.shape(), spec)?;
    shapes::expect_same("maxpool1d_backward", dy.shape(), &[n, c, l_out])?;
    let dx = gpu.alloc(x.shape())?;
    let p = words(&[n * c, l, l_out, spec.size, spec.stride])?;
    gpu.launch(
        kernel("backward"),
        &p,
        &[x, dy, &dx],
        Grid::Threads(dx.len()),
    )?;
    Ok(dx)
}
