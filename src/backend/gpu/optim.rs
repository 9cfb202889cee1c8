//! Host side of `shaders/optim.wgsl`: in-place optimizer steps and the curvature constraint.

use super::launch::{Grid, Kernel, OPTIM, words};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::{AdamStep, Tensor, shapes};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &OPTIM,
        entry,
    }
}

/// `param -= lr * grad`; `param` must own its buffer.
pub(super) fn sgd(gpu: &Gpu, param: &GpuTensor, grad: &GpuTensor, lr: f32) -> Result<()> {
    shapes::expect_same("sgd_step", param.shape(), grad.shape())?;
    let mut p = words(&[param.len()])?;
    p.push(lr.to_bits());
    // The kernel binds m and v too; SGD leaves them unused, so they are not bound.
    gpu.launch(
        kernel("sgd"),
        &p,
        &[param, grad],
        Grid::Threads(param.len()),
    )
}

/// One Adam step; `param`, `m` and `v` must own their buffers.
pub(super) fn adam(
    gpu: &Gpu,
    param: &GpuTensor,
    grad: &GpuTensor,
    m: &GpuTensor,
    v: &GpuTensor,
    h: AdamStep,
) -> Result<()> {
    for other in [grad.shape(), m.shape(), v.shape()] {
        shapes::expect_same("adam_step", param.shape(), other)?;
    }
    let correction1 = 1.0 - (h.beta1 as f64).powi(h.step as i32);
    let correction2 = 1.0 - (h.beta2 as f64).powi(h.step as i32);
    let mut p = words(&[param.len()])?;
    p.extend(
        [
            h.lr,
            h.beta1,
            h.beta2,
            h.eps,
            h.weight_decay,
            correction1 as f32,
            correction2 as f32,
        ]
        .map(f32::to_bits),
    );
    gpu.launch(
        kernel("adam"),
        &p,
        &[param, grad, m, v],
        Grid::Threads(param.len()),
    )
}

/// The curvature constraint on each row of `pos (rows, s)`, into a new tensor.
pub(super) fn curvature(gpu: &Gpu, pos: &GpuTensor, max: f32) -> Result<GpuTensor> {
    let [rows, s] = shapes::rows_dims("curvature_constraint", pos.shape())?;
    let out = gpu.alloc(pos.shape())?;
    let mut p = words(&[rows, s])?;
    p.push(max.to_bits());
    gpu.launch(kernel("curvature"), &p, &[pos, &out], Grid::Threads(rows))?;
    Ok(out)
}
