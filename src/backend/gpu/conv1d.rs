//! Host side of `shaders/conv1d.wgsl`: the convolution and its gradients as tiled matrix
//! products. Activations larger than one binding are processed in batch chunks; the weight and
//! bias gradients sum over the chunks.

use super::launch::{CONV1D, Grid, Kernel};
use super::params::{ConvParams, word};
use super::tuning::TILE_DEPTH;
use super::{Gpu, GpuTensor};
use crate::backend::shapes::{self, ConvDims};
use crate::backend::{Conv1dGrads, Conv1dSpec, Tensor};
use crate::{Error, Result};

/// Workgroups the weight gradient aims for, splitting its reduction to get there: enough to
/// occupy every compute unit of a large GPU a few times over.
const WEIGHT_GRADIENT_GROUPS: usize = 512;
/// Fewest reduction entries one split of the weight gradient takes on.
const MIN_SPLIT: usize = 512;

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &CONV1D,
        entry,
    }
}

/// What one launch of a conv1d kernel does beyond the shapes.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    accumulate: bool,
    relu: bool,
    span: usize,
    splits: usize,
}

/// The kernel's parameters for a chunk of `n` sequences, column offset 0.
fn params(d: ConvDims, n: usize, spec: Conv1dSpec, flags: Flags) -> Result<ConvParams> {
    Ok(ConvParams {
        n: word(n)?,
        c: word(d.c)?,
        l: word(d.l)?,
        f: word(d.f)?,
        k: word(d.k)?,
        l_out: word(d.l_out)?,
        pad_left: word(spec.pad_left)?,
        dilation: word(spec.dilation)?,
        accumulate: flags.accumulate.into(),
        relu: flags.relu.into(),
        col0: 0,
        span: word(flags.span)?,
        splits: word(flags.splits)?,
    })
}

/// Bytes per sequence of the input and of the output.
fn row_bytes(d: ConvDims) -> [u64; 2] {
    [(d.c * d.l * 4) as u64, (d.f * d.l_out * 4) as u64]
}

/// Records a tiled product of `rows x cols` outputs with `splits` reduction splits, in as many
/// dispatches as the 65,535-workgroup limit of a dispatch dimension asks for.
fn launch_tiled(
    gpu: &Gpu,
    entry: &'static str,
    mut params: ConvParams,
    bindings: &[super::launch::Binding<'_>],
    rows: usize,
    cols: usize,
    splits: usize,
) -> Result<()> {
    let tile = gpu.tuning.tile() as usize;
    let row_tiles = rows.div_ceil(tile);
    let col_tiles = cols.div_ceil(tile);
    let max = gpu.tuning.max_groups_per_dim as usize;
    if row_tiles > max || splits > max {
        return Err(Error::TooLarge {
            bytes: (rows * cols * 4) as u64,
            detail: format!("conv1d {entry}: {rows} output rows exceed one dispatch"),
        });
    }
    let mut first = 0;
    while first < col_tiles {
        let count = (col_tiles - first).min(max);
        params.col0 = word(first * tile)?;
        gpu.launch_bound(
            kernel(entry),
            &params,
            bindings,
            Grid::Groups([count as u32, row_tiles as u32, splits.max(1) as u32]),
        )?;
        first += count;
    }
    Ok(())
}

/// `conv1d(x, w, b)`, followed by relu when `relu` is set, in one pass.
pub(super) fn forward(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    b: &GpuTensor,
    spec: Conv1dSpec,
    relu: bool,
) -> Result<GpuTensor> {
    let d = shapes::conv1d_dims(x.shape(), w.shape(), b.shape(), spec)?;
    let y = gpu.alloc(&[d.n, d.f, d.l_out])?;
    let flags = Flags {
        relu,
        ..Flags::default()
    };
    for rows in gpu.row_chunks(d.n, &row_bytes(d))? {
        launch_tiled(
            gpu,
            "forward",
            params(d, rows.len(), spec, flags)?,
            &[x.rows(&rows), w.whole(), b.whole(), y.rows(&rows)],
            d.f,
            rows.len() * d.l_out,
            1,
        )?;
    }
    Ok(y)
}

/// How the weight gradient of `n` sequences splits its reduction over `n * L_out` entries:
/// `(span, splits)`, with the partial sums `(splits, F, C*K + 1)` inside one binding.
fn weight_splits(gpu: &Gpu, d: ConvDims, n: usize) -> (usize, usize) {
    let depth = (n * d.l_out).max(1);
    let cols = d.c * d.k + 1;
    let tile = gpu.tuning.tile() as usize;
    let out_tiles = d.f.div_ceil(tile) * cols.div_ceil(tile);
    let fit = (gpu.max_binding_bytes / (d.f * cols * 4).max(1) as u64).max(1) as usize;
    let wanted = WEIGHT_GRADIENT_GROUPS
        .div_ceil(out_tiles)
        .min(depth.div_ceil(MIN_SPLIT))
        .min(fit)
        .min(gpu.tuning.max_groups_per_dim as usize)
        .max(1);
    let step = TILE_DEPTH as usize;
    let span = depth.div_ceil(wanted).div_ceil(step) * step;
    (span, depth.div_ceil(span))
}

/// The input gradient `(N, C, L)` alone: the `backward_input` kernel over `chunks` of the
/// batch.
fn input_grad_of(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    dy: &GpuTensor,
    spec: Conv1dSpec,
    d: ConvDims,
    chunks: &[std::ops::Range<usize>],
) -> Result<GpuTensor> {
    let dx = gpu.alloc(x.shape())?;
    for rows in chunks {
        launch_tiled(
            gpu,
            "backward_input",
            params(d, rows.len(), spec, Flags::default())?,
            &[dy.rows(rows), w.whole(), dx.rows(rows)],
            d.c,
            rows.len() * d.l,
            1,
        )?;
    }
    Ok(dx)
}

/// [`Backend::conv1d_input_grad`](crate::backend::Backend::conv1d_input_grad): no weight or
/// bias gradient is computed.
pub(super) fn input_grad(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    dy: &GpuTensor,
    spec: Conv1dSpec,
) -> Result<GpuTensor> {
    let bias_shape = [w.shape().first().copied().unwrap_or(0)];
    let d = shapes::conv1d_dims(x.shape(), w.shape(), &bias_shape, spec)?;
    shapes::expect_same("conv1d_input_grad", dy.shape(), &[d.n, d.f, d.l_out])?;
    let chunks = gpu.row_chunks(d.n, &row_bytes(d))?;
    input_grad_of(gpu, x, w, dy, spec, d, &chunks)
}

pub(super) fn backward(
    gpu: &Gpu,
    x: &GpuTensor,
    w: &GpuTensor,
    dy: &GpuTensor,
    spec: Conv1dSpec,
    need_dx: bool,
) -> Result<Conv1dGrads<GpuTensor>> {
    let bias_shape = [w.shape().first().copied().unwrap_or(0)];
    let d = shapes::conv1d_dims(x.shape(), w.shape(), &bias_shape, spec)?;
    shapes::expect_same("conv1d_backward", dy.shape(), &[d.n, d.f, d.l_out])?;
    let chunks = gpu.row_chunks(d.n, &row_bytes(d))?;
    let dx = need_dx
        .then(|| input_grad_of(gpu, x, w, dy, spec, d, &chunks))
        .transpose()?;
    let dw = gpu.alloc(w.shape())?;
    let db = gpu.alloc(&bias_shape)?;
    let cols = d.c * d.k + 1;
    let (_, most_splits) = weight_splits(gpu, d, chunks.first().map_or(0, |r| r.len()));
    let parts = gpu.alloc(&[most_splits, d.f, cols])?;
    for rows in &chunks {
        let (span, splits) = weight_splits(gpu, d, rows.len());
        let flags = Flags {
            accumulate: rows.start > 0,
            span,
            splits,
            ..Flags::default()
        };
        let p = params(d, rows.len(), spec, flags)?;
        launch_tiled(
            gpu,
            "backward_weight",
            p,
            &[x.rows(rows), dy.rows(rows), parts.whole()],
            d.f,
            cols,
            splits,
        )?;
        gpu.launch(
            kernel("reduce_weight"),
            &p,
            &[&parts, &dw, &db],
            Grid::Threads(d.f * cols),
        )?;
    }
    Ok(Conv1dGrads { dx, dw, db })
}

/// `a (M, K) b (K, N) -> (M, N)` by the tiled product alone (the `matmul` kernel).
pub(super) fn matmul(gpu: &Gpu, a: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
    let [m, k, n] = shapes::matmul_dims(a.shape(), b.shape())?;
    let c = gpu.alloc(&[m, n])?;
    let p = ConvParams {
        f: word(m)?,
        c: word(k)?,
        l: word(n)?,
        ..ConvParams::default()
    };
    launch_tiled(
        gpu,
        "matmul",
        p,
        &[a.whole(), b.whole(), c.whole()],
        m,
        n,
        1,
    )?;
    Ok(c)
}
