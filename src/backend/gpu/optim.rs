//! Host side of `shaders/optim.wgsl`: in-place optimizer steps and the curvature constraint.

use super::launch::{Grid, Kernel, OPTIM};
use super::params::{CurvParams, OptParams, word};
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
    for range in gpu.row_chunks(param.len(), &[4, 4])? {
        let p = OptParams {
            len: word(range.len())?,
            lr,
            ..OptParams::default()
        };
        gpu.launch_bound(
            kernel("sgd"),
            &p,
            &[param.elements(&range), grad.elements(&range)],
            Grid::Threads(range.len()),
        )?;
    }
    Ok(())
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
    shapes::check_adam(&h)?;
    for other in [grad.shape(), m.shape(), v.shape()] {
        shapes::expect_same("adam_step", param.shape(), other)?;
    }
    let correction1 = 1.0 - (h.beta1 as f64).powi(h.step as i32);
    let correction2 = 1.0 - (h.beta2 as f64).powi(h.step as i32);
    let step = OptParams {
        len: 0,
        lr: h.lr,
        beta1: h.beta1,
        beta2: h.beta2,
        eps: h.eps,
        weight_decay: h.weight_decay,
        correction1: correction1 as f32,
        correction2: correction2 as f32,
    };
    for range in gpu.row_chunks(param.len(), &[4; 4])? {
        let p = OptParams {
            len: word(range.len())?,
            ..step
        };
        let bindings = [param, grad, m, v].map(|t| t.elements(&range));
        gpu.launch_bound(kernel("adam"), &p, &bindings, Grid::Threads(range.len()))?;
    }
    Ok(())
}

/// The curvature constraint on each row of `pos (rows, s)`, into a new tensor.
pub(super) fn curvature(gpu: &Gpu, pos: &GpuTensor, max: f32) -> Result<GpuTensor> {
    shapes::check_curvature_max(max)?;
    let [rows, s] = shapes::rows_dims("curvature_constraint", pos.shape())?;
    let out = gpu.alloc(pos.shape())?;
    let p = CurvParams {
        rows: word(rows)?,
        s: word(s)?,
        max,
        _pad: 0,
    };
    gpu.launch(kernel("curvature"), &p, &[pos, &out], Grid::Threads(rows))?;
    Ok(out)
}
