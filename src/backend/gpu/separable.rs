//! Host side of `shaders/separable.wgsl`: the factorised contraction and its three gradients,
//! in batch chunks where an activation passes one binding (parameter gradients sum over them).
//! Both parameter gradients come from one kernel whose batch sum is split over workgroups and
//! added up in order by a second.

use super::launch::{Grid, Kernel, SEPARABLE};
use super::params::{SepParams, word};
use super::{Gpu, GpuTensor};
use crate::backend::shapes;
use crate::backend::{SeparableGrads, Tensor};
use crate::{Error, Result};

/// Workgroups the parameter gradients aim for, splitting the batch sum to get there.
const PARAM_GRADIENT_GROUPS: usize = 512;

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &SEPARABLE,
        entry,
    }
}

/// How the batch sum of a chunk of `n` sequences is split.
#[derive(Debug, Clone, Copy, Default)]
struct Split {
    /// Sequences per split.
    span: usize,
    splits: usize,
}

impl Split {
    /// About [`PARAM_GRADIENT_GROUPS`] workgroups over `units`, with the partial sums
    /// `(splits, U, L + C)` inside one binding.
    fn of(gpu: &Gpu, [_, c, l, u]: [usize; 4], n: usize) -> Self {
        let part_bytes = (u * (l + c) * 4).max(1) as u64;
        let fit = (gpu.max_binding_bytes / part_bytes).max(1) as usize;
        let wanted = PARAM_GRADIENT_GROUPS
            .div_ceil(u.max(1))
            .min(n.max(1))
            .min(fit)
            .min(gpu.tuning.max_groups_per_dim as usize);
        let span = n.max(1).div_ceil(wanted);
        Self {
            span,
            splits: n.div_ceil(span),
        }
    }
}

/// Parameters for a chunk of `n` sequences of `dims = [N, C, L, U]`.
fn params(dims: [usize; 4], n: usize, accumulate: bool, split: Split) -> Result<SepParams> {
    Ok(SepParams {
        n: word(n)?,
        c: word(dims[1])?,
        l: word(dims[2])?,
        u: word(dims[3])?,
        accumulate: accumulate.into(),
        span: word(split.span)?,
        splits: word(split.splits)?,
    })
}

/// Bytes per sequence of the input and of the output.
fn row_bytes(dims: [usize; 4]) -> [u64; 2] {
    [(dims[1] * dims[2] * 4) as u64, (dims[3] * 4) as u64]
}

/// Units are one workgroup dimension of the forward and of the parameter gradients.
fn check_units(gpu: &Gpu, dims: [usize; 4]) -> Result<()> {
    if dims[3] > gpu.tuning.max_groups_per_dim as usize {
        return Err(Error::TooLarge {
            bytes: (dims[3] * (dims[1] + dims[2]) * 4) as u64,
            detail: format!(
                "separable_fc: {} units exceed one dispatch ({} workgroups)",
                dims[3], gpu.tuning.max_groups_per_dim
            ),
        });
    }
    Ok(())
}

pub(super) fn forward(
    gpu: &Gpu,
    x: &GpuTensor,
    pos: &GpuTensor,
    chan: &GpuTensor,
) -> Result<GpuTensor> {
    let dims = shapes::separable_dims(x.shape(), pos.shape(), chan.shape())?;
    check_units(gpu, dims)?;
    let y = gpu.alloc(&[dims[0], dims[3]])?;
    // a workgroup per output, sequences along y
    let most = gpu.tuning.max_groups_per_dim as usize;
    for rows in gpu.row_chunks_of_at_most(dims[0], &row_bytes(dims), most)? {
        gpu.launch_bound(
            kernel("forward"),
            &params(dims, rows.len(), false, Split::default())?,
            &[x.rows(&rows), pos.whole(), chan.whole(), y.rows(&rows)],
            Grid::Groups([dims[3] as u32, rows.len() as u32, 1]),
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
    check_units(gpu, dims)?;
    let chunks = gpu.row_chunks(dims[0], &row_bytes(dims))?;
    let most = Split::of(gpu, dims, chunks.first().map_or(0, |r| r.len()));
    let parts = gpu.alloc(&[most.splits, dims[3], dims[2] + dims[1]])?;
    for rows in &chunks {
        let split = Split::of(gpu, dims, rows.len());
        let p = params(dims, rows.len(), rows.start > 0, split)?;
        gpu.launch_bound(
            kernel("backward_params"),
            &p,
            &[
                x.rows(rows),
                pos.whole(),
                chan.whole(),
                dy.rows(rows),
                parts.whole(),
            ],
            Grid::Groups([dims[3] as u32, split.splits as u32, 1]),
        )?;
        gpu.launch_bound(
            kernel("reduce_params"),
            &p,
            &[parts.whole(), dpos.whole(), dchan.whole()],
            Grid::Threads(dpos.len() + dchan.len()),
        )?;
        if let Some(dx) = &dx {
            gpu.launch_bound(
                kernel("backward_input"),
                &p,
                &[pos.whole(), chan.whole(), dy.rows(rows), dx.rows(rows)],
                Grid::Threads(rows.len() * dims[1] * dims[2]),
            )?;
        }
    }
    Ok(SeparableGrads { dx, dpos, dchan })
}
