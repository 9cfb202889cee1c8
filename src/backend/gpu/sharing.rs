//! Host side of `shaders/sharing.wgsl`: reverse-complement and mirror weight sharing.

use super::launch::{Grid, Kernel, SHARING};
use super::params::{ShareParams, word};
use super::{Gpu, GpuTensor};
use crate::Result;
use crate::backend::{Tensor, shapes};

fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        shader: &SHARING,
        entry,
    }
}

pub(super) fn rc_expand(gpu: &Gpu, w: &GpuTensor) -> Result<GpuTensor> {
    let [rows, inner] = shapes::rc_dims("rc_expand", w.shape(), false)?;
    let mut shape = w.shape().to_vec();
    shape[0] = 2 * rows;
    let out = gpu.alloc(&shape)?;
    gpu.launch(
        kernel("rc_expand"),
        &share(rows, inner)?,
        &[w, &out],
        Grid::Threads(out.len()),
    )?;
    Ok(out)
}

pub(super) fn rc_fold(gpu: &Gpu, g: &GpuTensor) -> Result<GpuTensor> {
    let [rows2, inner] = shapes::rc_dims("rc_fold", g.shape(), true)?;
    let mut shape = g.shape().to_vec();
    shape[0] = rows2 / 2;
    let out = gpu.alloc(&shape)?;
    gpu.launch(
        kernel("rc_fold"),
        &share(rows2 / 2, inner)?,
        &[g, &out],
        Grid::Threads(out.len()),
    )?;
    Ok(out)
}

pub(super) fn mirror_expand(gpu: &Gpu, v: &GpuTensor, n: usize) -> Result<GpuTensor> {
    let [rows, _] = shapes::mirror_dims(v.shape(), n)?;
    let out = gpu.alloc(&[rows, n])?;
    gpu.launch(
        kernel("mirror_expand"),
        &share(rows, n)?,
        &[v, &out],
        Grid::Threads(out.len()),
    )?;
    Ok(out)
}

pub(super) fn mirror_fold(gpu: &Gpu, g: &GpuTensor) -> Result<GpuTensor> {
    let [rows, n] = shapes::rows_dims("mirror_fold", g.shape())?;
    let out = gpu.alloc(&[rows, n.div_ceil(2)])?;
    gpu.launch(
        kernel("mirror_fold"),
        &share(rows, n)?,
        &[g, &out],
        Grid::Threads(out.len()),
    )?;
    Ok(out)
}

/// The parameter block of `rows` rows of `inner` values.
fn share(rows: usize, inner: usize) -> crate::Result<ShareParams> {
    Ok(ShareParams {
        rows: word(rows)?,
        inner: word(inner)?,
        ..ShareParams::default()
    })
}
