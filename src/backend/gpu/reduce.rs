//! Host side of `shaders/reduce.wgsl`: means and differences for the regularizers.

use super::launch::{Grid, Kernel, REDUCE, words};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::Tensor;
use crate::backend::shapes::{self, Reduction};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &REDUCE,
        entry,
    }
}

pub(super) fn mean(gpu: &Gpu, x: &GpuTensor, kind: Reduction) -> Result<GpuTensor> {
    let out = gpu.alloc(&[1])?;
    let mut p = words(&[x.len()])?;
    p.push(kind.code());
    gpu.launch(kernel("mean"), &p, &[x, &out], Grid::OneGroup)?;
    Ok(out)
}

pub(super) fn mean_backward(
    gpu: &Gpu,
    x: &GpuTensor,
    dy: &GpuTensor,
    kind: Reduction,
) -> Result<GpuTensor> {
    shapes::expect_same("mean_backward", dy.shape(), &[1])?;
    let dx = gpu.alloc(x.shape())?;
    let mut p = words(&[x.len()])?;
    p.push(kind.code());
    gpu.launch(
        kernel("mean_backward"),
        &p,
        &[x, dy, &dx],
        Grid::Threads(x.len()),
    )?;
    Ok(dx)
}

pub(super) fn diff(gpu: &Gpu, x: &GpuTensor, order: usize) -> Result<GpuTensor> {
    let [rows, s] = shapes::rows_dims("diff", x.shape())?;
    shapes::check_diff_order(order, s)?;
    let y = gpu.alloc(&[rows, s - order])?;
    gpu.launch(
        kernel("diff"),
        &words(&[rows, s, order])?,
        &[x, &y],
        Grid::Threads(y.len()),
    )?;
    Ok(y)
}

pub(super) fn diff_backward(gpu: &Gpu, dy: &GpuTensor, order: usize) -> Result<GpuTensor> {
    let [rows, m] = shapes::rows_dims("diff_backward", dy.shape())?;
    shapes::check_diff_order(order, m + order)?;
    let dx = gpu.alloc(&[rows, m + order])?;
    gpu.launch(
        kernel("diff_backward"),
        &words(&[rows, m + order, order])?,
        &[dy, &dx],
        Grid::Threads(dx.len()),
    )?;
    Ok(dx)
}
