//! Host side of `shaders/loss.wgsl`: the masked training losses on logits.

use super::launch::{Grid, Kernel, LOSS};
use super::params::{LossParams, word};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::{Loss, Tensor, shapes};

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

/// The shader's number for `kind`.
fn kind_word(kind: Loss) -> u32 {
    match kind {
        Loss::Bce => 0,
        Loss::Mse => 1,
        Loss::Poisson => 2,
    }
}

pub(super) fn forward(
    gpu: &Gpu,
    kind: Loss,
    logits: &GpuTensor,
    targets: &GpuTensor,
    mask: &GpuTensor,
) -> Result<GpuTensor> {
    check("loss", logits, targets, mask)?;
    let loss = gpu.alloc(&[1])?;
    gpu.launch(
        kernel("forward"),
        &LossParams {
            len: word(logits.len())?,
            kind: kind_word(kind),
            ..LossParams::default()
        },
        &[logits, targets, mask, &loss],
        Grid::OneGroup,
    )?;
    Ok(loss)
}

pub(super) fn backward(
    gpu: &Gpu,
    kind: Loss,
    logits: &GpuTensor,
    targets: &GpuTensor,
    mask: &GpuTensor,
    dloss: &GpuTensor,
) -> Result<GpuTensor> {
    check("loss_backward", logits, targets, mask)?;
    shapes::expect_same("loss_backward", dloss.shape(), &[1])?;
    let dz = gpu.alloc(logits.shape())?;
    gpu.launch(
        kernel("backward"),
        &LossParams {
            len: word(logits.len())?,
            kind: kind_word(kind),
            ..LossParams::default()
        },
        &[logits, targets, mask, dloss, &dz],
        Grid::OneGroup,
    )?;
    Ok(dz)
}
