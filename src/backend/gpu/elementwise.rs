//! Host side of `shaders/elementwise.wgsl`.

use super::launch::{ELEMENTWISE, Grid, Kernel, words};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::{Tensor, shapes};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &ELEMENTWISE,
        entry,
    }
}

/// `len, seed, a` as the kernel's parameter words.
fn params(len: usize, seed: u32, a: f32) -> Result<Vec<u32>> {
    let mut p = words(&[len])?;
    p.extend([seed, a.to_bits()]);
    Ok(p)
}

/// A new tensor of `shape` filled with `value`.
pub(super) fn fill(gpu: &Gpu, shape: &[usize], value: f32) -> Result<GpuTensor> {
    let out = gpu.alloc(shape)?;
    gpu.launch(
        kernel("fill"),
        &params(out.len(), 0, value)?,
        &[&out],
        Grid::Threads(out.len()),
    )?;
    Ok(out)
}

/// `entry` applied to each element of `x`, with scalar `a` and `seed` where the entry uses them.
pub(super) fn unary(
    gpu: &Gpu,
    entry: &'static str,
    x: &GpuTensor,
    a: f32,
    seed: u32,
) -> Result<GpuTensor> {
    let out = gpu.alloc(x.shape())?;
    gpu.launch(
        kernel(entry),
        &params(x.len(), seed, a)?,
        &[x, &out],
        Grid::Threads(x.len()),
    )?;
    Ok(out)
}

/// `entry` applied to pairs of elements of two tensors of equal shape.
pub(super) fn binary(
    gpu: &Gpu,
    entry: &'static str,
    a: &GpuTensor,
    b: &GpuTensor,
) -> Result<GpuTensor> {
    shapes::expect_same(entry, a.shape(), b.shape())?;
    let out = gpu.alloc(a.shape())?;
    gpu.launch(
        kernel(entry),
        &params(a.len(), 0, 0.0)?,
        &[a, b, &out],
        Grid::Threads(a.len()),
    )?;
    Ok(out)
}
