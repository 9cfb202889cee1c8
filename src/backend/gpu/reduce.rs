//! Host side of `shaders/reduce.wgsl`: means and differences for the regularizers.

use super::launch::{Grid, Kernel, REDUCE};
use super::params::{ReduceParams, word};
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
    let p = ReduceParams {
        len: word(x.len())?,
        kind: kind.code(),
        ..ReduceParams::default()
    };
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
    let p = ReduceParams {
        len: word(x.len())?,
        kind: kind.code(),
        ..ReduceParams::default()
    };
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
        &ReduceParams {
            len: word(rows)?,
            kind: word(s)?,
            order: word(order)?,
            _pad: 0,
        },
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
        &ReduceParams {
            len: word(rows)?,
            kind: word(m + order)?,
            order: word(order)?,
            _pad: 0,
        },
        &[dy, &dx],
        Grid::Threads(dx.len()),
    )?;
    Ok(dx)
}
