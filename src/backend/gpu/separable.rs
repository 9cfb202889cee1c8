//! Host side of `shaders/separable.wgsl`: the factorised contraction and its three gradients.

use super::launch::{Grid, Kernel, SEPARABLE, words};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::shapes;
use crate::backend::{SeparableGrads, Tensor};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &SEPARABLE,
        entry,
    }
}

pub(super) fn forward(
    gpu: &Gpu,
    x: &GpuTensor,
    pos: &GpuTensor,
    chan: &GpuTensor,
) -> Result<GpuTensor> {
    let dims = shapes::separable_dims(x.shape(), pos.shape(), chan.shape())?;
    let y = gpu.alloc(&[dims[0], dims[3]])?;
    gpu.launch(
        kernel("forward"),
        &words(&dims)?,
        &[x, pos, chan, &y],
        Grid::Threads(y.len()),
    )?;
    Ok(y)
}

pub(super) fn backward(
    gpu: &Gpu,
    x: &GpuTensor,
    pos: &GpuTensor,
    chan: &GpuTensor,
    dy: &GpuTensor,
    need_dx: bool,
) -> Result<SeparableGrads<GpuTensor>> {
    let dims = shapes::separable_dims(x.shape(), pos.shape(), chan.shape())?;
    shapes::expect_same("separable_backward", dy.shape(), &[dims[0], dims[3]])?;
    let p = words(&dims)?;
    let dpos = gpu.alloc(pos.shape())?;
    gpu.launch(
        kernel("backward_pos"),
        &p,
        &[x, chan, dy, &dpos],
        Grid::Threads(dpos.len()),
    )?;
    let dchan = gpu.alloc(chan.shape())?;
    gpu.launch(
        kernel("backward_chan"),
        &p,
        &[x, pos, dy, &dchan],
        Grid::Threads(dchan.len()),
    )?;
    let dx = if need_dx {
        let dx = gpu.alloc(x.shape())?;
        gpu.launch(
            kernel("backward_input"),
            &p,
            &[pos, chan, dy, &dx],
            Grid::Threads(dx.len()),
        )?;
        Some(dx)
    } else {
        None
    };
    Ok(SeparableGrads { dx, dpos, dchan })
}
