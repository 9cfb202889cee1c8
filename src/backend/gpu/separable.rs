//! Host side of `shaders/separable.wgsl`: the factorised contraction and its three gradients,
//! in batch chunks where an activation passes one binding (parameter gradients sum over them).

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

/// Parameters for a chunk of `n` sequences of `dims = [N, C, L, U]`.
fn params(dims: [usize; 4], n: usize, accumulate: bool) -> Result<Vec<u32>> {
    words(&[n, dims[1], dims[2], dims[3], accumulate as usize])
}

/// Bytes per sequence of the input and of the output.
fn row_bytes(dims: [usize; 4]) -> [u64; 2] {
    [(dims[1] * dims[2] * 4) as u64, (dims[3] * 4) as u64]
}

pub(super) fn forward(
    gpu: &Gpu,
    x: &GpuTensor,
    pos: &GpuTensor,
    chan: &GpuTensor,
) -> Result<GpuTensor> {
    let dims = shapes::separable_dims(x.shape(), pos.shape(), chan.shape())?;
    let y = gpu.alloc(&[dims[0], dims[3]])?;
    for rows in gpu.row_chunks(dims[0], &row_bytes(dims))? {
        gpu.launch_bound(
            kernel("forward"),
            &params(dims, rows.len(), false)?,
            &[x.rows(&rows), pos.whole(), chan.whole(), y.rows(&rows)],
            Grid::Threads(rows.len() * dims[3]),
        )?;
    }
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
    let dpos = gpu.alloc(pos.shape())?;
    let dchan = gpu.alloc(chan.shape())?;
    let dx = if need_dx {
        Some(gpu.alloc(x.shape())?)
    } else {
        None
    };
    for rows in gpu.row_chunks(dims[0], &row_bytes(dims))? {
        let p = params(dims, rows.len(), rows.start > 0)?;
        gpu.launch_bound(
            kernel("backward_pos"),
            &p,
            &[x.rows(&rows), chan.whole(), dy.rows(&rows), dpos.whole()],
            Grid::Threads(dpos.len()),
        )?;
        gpu.launch_bound(
            kernel("backward_chan"),
            &p,
            &[x.rows(&rows), pos.whole(), dy.rows(&rows), dchan.whole()],
            Grid::Threads(dchan.len()),
        )?;
        if let Some(dx) = &dx {
            gpu.launch_bound(
                kernel("backward_input"),
                &p,
                &[pos.whole(), chan.whole(), dy.rows(&rows), dx.rows(&rows)],
                Grid::Threads(rows.len() * dims[1] * dims[2]),
            )?;
        }
    }
    Ok(SeparableGrads { dx, dpos, dchan })
}
