//! Host side of `shaders/conv1d.wgsl`.

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

fn params(d: ConvDims, spec: Conv1dSpec) -> Result<Vec<u32>> {
    words(&[
        d.n,
        d.c,
        d.l,
        d.f,
        d.k,
        d.l_out,
        spec.pad_left,
        spec.dilation,
    ])
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
    gpu.launch(
        kernel("forward"),
        &params(d, spec)?,
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
    spec: Conv1dSpec,
    need_dx: bool,
) -> Result<Conv1dGrads<GpuTensor>> {
    let bias_shape = [w.shape().first().copied().unwrap_or(0)];
    let d = shapes::conv1d_dims(x.shape(), w.shape(), &bias_shape, spec)?;
    shapes::expect_same("conv1d_backward", dy.shape(), &[d.n, d.f, d.l_out])?;
    let p = params(d, spec)?;
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
    gpu.launch(kernel("backward_bias"), &p, &[dy, &db], Grid::Threads(d.f))?;
    Ok(Conv1dGrads { dx, dw, db })
}
