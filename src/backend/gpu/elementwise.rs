//! Host side of `shaders/elementwise.wgsl`, in element chunks where a tensor passes one
//! binding.

use super::launch::{ELEMENTWISE, Grid, Kernel};
use super::params::{EltParams, word};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::{Tensor, shapes};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &ELEMENTWISE,
        entry,
    }
}

/// Runs `entry` over all elements of `output`, binding the same element range of each of
/// `inputs` and of `output`; `a` and `seed` are the entry's scalar and dropout seed.
fn run(
    gpu: &Gpu,
    entry: &'static str,
    inputs: &[&GpuTensor],
    output: &GpuTensor,
    a: f32,
    seed: u32,
) -> Result<()> {
    let row_bytes = vec![4; inputs.len() + 1];
    for range in gpu.row_chunks(output.len(), &row_bytes)? {
        let p = EltParams {
            len: word(range.len())?,
            seed,
            a,
            base: word(range.start)?,
        };
        let mut bindings: Vec<_> = inputs.iter().map(|t| t.elements(&range)).collect();
        bindings.push(output.elements(&range));
        gpu.launch_bound(kernel(entry), &p, &bindings, Grid::Threads(range.len()))?;
    }
    Ok(())
}

/// A new tensor of `shape` filled with `value`.
pub(super) fn fill(gpu: &Gpu, shape: &[usize], value: f32) -> Result<GpuTensor> {
    let out = gpu.alloc(shape)?;
    run(gpu, "fill", &[], &out, value, 0)?;
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
    run(gpu, entry, &[x], &out, a, seed)?;
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
    run(gpu, entry, &[a, b], &out, 0.0, 0)?;
    Ok(out)
}
