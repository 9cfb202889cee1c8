//! Host side of `shaders/maxpool.wgsl`, in batch chunks where a tensor passes one binding.

use super::launch::{Grid, Kernel, MAXPOOL};
use super::params::{PoolParams, word};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::Tensor;
use crate::backend::shapes::{self, PoolSpec};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &MAXPOOL,
        entry,
    }
}

/// Runs `entry` over batch chunks; `inputs` and `output` are bound by rows.
fn run(
    gpu: &Gpu,
    entry: &'static str,
    x_shape: &[usize],
    spec: PoolSpec,
    inputs: &[&GpuTensor],
    output: &GpuTensor,
) -> Result<()> {
    let [n, c, l, l_out] = shapes::pool_dims(x_shape, spec)?;
    let row_bytes = [(c * l * 4) as u64, (c * l_out * 4) as u64];
    let per_row = output.len() / n.max(1);
    for rows in gpu.row_chunks(n, &row_bytes)? {
        let mut bindings: Vec<_> = inputs.iter().map(|t| t.rows(&rows)).collect();
        bindings.push(output.rows(&rows));
        gpu.launch_bound(
            kernel(entry),
            &PoolParams {
                rows: word(rows.len() * c)?,
                l: word(l)?,
                l_out: word(l_out)?,
                size: word(spec.size)?,
                stride: word(spec.stride)?,
            },
            &bindings,
            Grid::Threads(rows.len() * per_row),
        )?;
    }
    Ok(())
}

pub(super) fn forward(gpu: &Gpu, x: &GpuTensor, spec: PoolSpec) -> Result<GpuTensor> {
    let [n, c, _, l_out] = shapes::pool_dims(x.shape(), spec)?;
    let y = gpu.alloc(&[n, c, l_out])?;
    run(gpu, "forward", x.shape(), spec, &[x], &y)?;
    Ok(y)
}

pub(super) fn backward(
    gpu: &Gpu,
    x: &GpuTensor,
    dy: &GpuTensor,
    spec: PoolSpec,
) -> Result<GpuTensor> {
    let [n, c, _, l_out] = shapes::pool_dims(x.shape(), spec)?;
    shapes::expect_same("maxpool1d_backward", dy.shape(), &[n, c, l_out])?;
    let dx = gpu.alloc(x.shape())?;
    run(gpu, "backward", x.shape(), spec, &[x, dy], &dx)?;
    Ok(dx)
}
