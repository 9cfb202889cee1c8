//! Host side of DeepLIFT's rules: relu and sigmoid in `shaders/deeplift.wgsl`, max pooling in
//! `shaders/maxpool.wgsl` (entry `deeplift`, beside the pooling's argmax). An input and its
//! reference sit half a batch apart, so each tensor is bound whole (callers keep a pass within
//! one binding; past it the op is refused, not chunked).

use super::launch::{DEEPLIFT, Grid, Kernel, MAXPOOL};
use super::params::{DeepLiftParams, PoolParams, word};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::Tensor;
use crate::backend::shapes::{self, Nonlinearity, PoolSpec};

pub(super) fn rescale(
    gpu: &Gpu,
    x: &GpuTensor,
    y: &GpuTensor,
    dy: &GpuTensor,
    nonlinearity: Nonlinearity,
    pairs: usize,
) -> Result<GpuTensor> {
    let half = shapes::deeplift_half("deeplift_rescale", x.shape(), pairs)?;
    shapes::expect_same("deeplift_rescale", y.shape(), x.shape())?;
    shapes::expect_same("deeplift_rescale", dy.shape(), x.shape())?;
    let dx = gpu.alloc(x.shape())?;
    let p = DeepLiftParams {
        half: word(half)?,
        kind: nonlinearity.code(),
        ..DeepLiftParams::default()
    };
    let rescale = Kernel {
        shader: &DEEPLIFT,
        entry: "rescale",
    };
    gpu.launch(rescale, &p, &[x, y, dy, &dx], Grid::Threads(half))?;
    Ok(dx)
}

pub(super) fn maxpool1d(
    gpu: &Gpu,
    x: &GpuTensor,
    y: &GpuTensor,
    dy: &GpuTensor,
    spec: PoolSpec,
    pairs: usize,
) -> Result<GpuTensor> {
    let [n, c, l, l_out] = shapes::pool_dims(x.shape(), spec)?;
    shapes::deeplift_half("deeplift_maxpool1d", x.shape(), pairs)?;
    shapes::expect_same("deeplift_maxpool1d", y.shape(), &[n, c, l_out])?;
    shapes::expect_same("deeplift_maxpool1d", dy.shape(), &[n, c, l_out])?;
    let dx = gpu.alloc(x.shape())?;
    let rows = pairs * c;
    let p = PoolParams {
        rows: word(rows)?,
        l: word(l)?,
        l_out: word(l_out)?,
        size: word(spec.size)?,
        stride: word(spec.stride)?,
    };
    let rule = Kernel {
        shader: &MAXPOOL,
        entry: "deeplift",
    };
    gpu.launch(rule, &p, &[x, y, dy, &dx], Grid::Threads(rows * l))?;
    Ok(dx)
}
