//! Host side of `shaders/loss.wgsl`: masked binary cross-entropy on logits.

use super::launch::{Grid, Kernel, LOSS};
use super::params::{LossParams, word};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::{Tensor, shapes};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &LOSS,
        entry,
    }
}

fn check(op: &'static str, z: &GpuTensor, t: &GpuTensor, m: &GpuTensor) -> Result<()> {
    shapes::expect_same(op, z.shape(), t.shape())?;
    shapes::expect_same(op, z.shape(), m.shape())
}

pub(super) fn forward(
    gpu: &Gpu,
    logits: &GpuTensor,
    targets: &GpuTensor,
    mask: &GpuTensor,
) -> Result<GpuTensor> {
    check("bce_with_logits", logits, targets, mask)?;
    let loss = gpu.alloc(&[1])?;
    gpu.launch(
        kernel("forward"),
        &LossParams {
            len: word(logits.len())?,
            ..LossParams::default()
        },
        &[logits, targets, mask, &loss],
        Grid::OneGroup,
    )?;
    Ok(loss)
}

pub(super) fn backward(
    gpu: &Gpu,
    logits: &GpuTensor,
    targets: &GpuTensor,
    mask: &GpuTensor,
    dloss: &GpuTensor,
) -> Result<GpuTensor> {
    check("bce_with_logits_backward", logits, targets, mask)?;
    shapes::expect_same("bce_with_logits_backward", dloss.shape(), &[1])?;
    let dz = gpu.alloc(logits.shape())?;
    gpu.launch(
        kernel("backward"),
        &LossParams {
            len: word(logits.len())?,
            ..LossParams::default()
        },
        &[logits, targets, mask, dloss, &dz],
        Grid::OneGroup,
    )?;
    Ok(dz)
}
