//! The GPU backend: WGSL compute shaders (in `shaders/`) run through wgpu on Vulkan, Metal or
//! DX12, or on lavapipe where no GPU is present.
//!
//! Work is recorded into one command encoder and submitted only when a result is read back,
//! when [`Gpu::synchronize`] is called, or every few hundred dispatches. Buffers come from a
//! pool and go back to it when their tensors drop.

mod arena;
mod buffers;
mod context;
mod conv1d;
mod deeplift;
mod dense;
mod elementwise;
mod launch;
mod loss;
mod maxpool;
mod optim;
pub mod params;
mod reduce;
mod separable;
mod sharing;
mod timing;
mod tuning;

use std::sync::Arc;

use super::shapes::{Conv1dSpec, Nonlinearity, PoolSpec, Reduction};
use super::{
    AdamStep, AdamTarget, Backend, Conv1dGrads, DenseGrads, KernelTimes, Loss, SeparableGrads,
    Tensor,
};
use crate::Result;
use arena::ArenaLayout;
use buffers::{Pool, PooledBuffer};
use context::Context;
use launch::Recorder;
use timing::Timer;

pub use crate::backend::CommandCounts;
pub use buffers::PoolStats;
pub use launch::{Shader, shaders};
pub use tuning::Tuning;

/// A tensor in GPU memory: a shape and its storage, shared by clones and reshapes.
#[derive(Debug, Clone)]
pub struct GpuTensor {
    shape: Vec<usize>,
    storage: Arc<Storage>,
}

/// Where a tensor's data lives: a byte offset into a pooled buffer. Most tensors own a buffer
/// from offset 0; the tensors of an [`arena`] are views into one shared buffer. Handles that
/// share a `Storage` (clones, reshapes) see the same data; distinct views of one arena never
/// overlap.
#[derive(Debug)]
struct Storage {
    buffer: Arc<PooledBuffer>,
    /// Bytes from the buffer's start, a multiple of the device's storage offset alignment.
    offset: u64,
}

impl GpuTensor {
    fn new(shape: &[usize], buffer: PooledBuffer) -> Self {
        Self::view(shape, Arc::new(buffer), 0)
    }

    /// A tensor of `shape` at byte `offset` of `buffer`.
    fn view(shape: &[usize], buffer: Arc<PooledBuffer>, offset: u64) -> Self {
        Self {
            shape: shape.to_vec(),
            storage: Arc::new(Storage { buffer, offset }),
        }
    }

    fn buffer(&self) -> &wgpu::Buffer {
        self.storage.buffer.buffer()
    }

    /// Byte offset of the tensor's first element in [`GpuTensor::buffer`].
    fn offset(&self) -> u64 {
        self.storage.offset
    }

    fn byte_len(&self) -> u64 {
        self.len() as u64 * 4
    }
}

impl Tensor for GpuTensor {
    fn shape(&self) -> &[usize] {
        &self.shape
    }
}

/// The wgpu backend.
///
/// ```no_run
/// use sepfc::backend::{Backend, gpu::Gpu};
/// let gpu = Gpu::new()?;
/// println!("running on {}", gpu.describe());
/// let x = gpu.upload(&[-1.0, 2.0], &[1, 2])?;
/// assert_eq!(gpu.download(&gpu.relu(&x)?)?, vec![0.0, 2.0]);
/// # Ok::<(), sepfc::Error>(())
/// ```
pub struct Gpu {
    ctx: Context,
    pool: Arc<Pool>,
    recorder: Recorder,
    /// Most bytes one kernel binding may span; larger tensors are processed in chunks.
    max_binding_bytes: u64,
    /// Workgroup shapes and variants for this device.
    tuning: Tuning,
    /// Timestamps around each dispatch, when asked for and supported.
    timer: Option<Timer>,
}

/// Settings of the GPU backend beyond what the environment chooses. The limits here only
/// lower the device's own: the device is opened with them, so wgpu refuses any kernel that
/// would exceed them, as a device with those limits would.
///
/// ```no_run
/// use sepfc::backend::gpu::{Gpu, GpuOptions};
/// // as a device with 64 invocations and 4 KiB of workgroup memory, without subgroups
/// let gpu = Gpu::with_options(GpuOptions {
///     max_workgroup_invocations: Some(64),
///     max_workgroup_storage_bytes: Some(4096),
///     portable: true,
///     ..GpuOptions::default()
/// })?;
/// assert_eq!(gpu.tuning().tile_side, 8);
/// # Ok::<(), sepfc::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GpuOptions {
    /// Bind at most this many bytes of a tensor at once (never more than the device allows):
    /// ops split larger tensors into chunks. Lowering it exercises the chunked paths on
    /// small tensors.
    pub max_binding_bytes: Option<u64>,
    /// At most this many invocations per workgroup (and along a workgroup's side).
    pub max_workgroup_invocations: Option<u32>,
    /// At most this many bytes of workgroup memory per workgroup.
    pub max_workgroup_storage_bytes: Option<u32>,
    /// At most this many workgroups along one dispatch dimension.
    pub max_groups_per_dim: Option<u32>,
    /// Workgroup reductions through workgroup memory alone, even where the adapter offers
    /// subgroup operations.
    pub portable: bool,
    /// Time every kernel with timestamp queries, where the adapter supports them
    /// ([`Backend::kernel_times`]). Each dispatch gets a compute pass of its own and every
    /// submit waits for the device: for profiling, not for throughput.
    pub timestamps: bool,
}

/// Environment variable that, set to `1`, makes [`GpuOptions::from_env`] choose the portable
/// reductions (`0` or unset: subgroups where the adapter has them).
pub const PORTABLE_VAR: &str = "SEPFC_GPU_PORTABLE";

impl GpuOptions {
    /// The defaults, with [`GpuOptions::portable`] set when [`PORTABLE_VAR`] is `1` (a way
    /// around a driver whose subgroup operations misbehave, and how the tests compare
    /// backends kernel for kernel). Any other value than `0` or `1` is an error.
    pub fn from_env() -> Result<Self> {
        let portable = match std::env::var(PORTABLE_VAR) {
            Err(_) => false,
            Ok(v) if v == "0" => false,
            Ok(v) if v == "1" => true,
            Ok(v) => {
                return Err(crate::Error::InvalidArgument {
                    op: "opening the GPU",
                    detail: format!("{PORTABLE_VAR}={v:?}: expected 0 or 1"),
                });
            }
        };
        Ok(Self {
            portable,
            ..Self::default()
        })
    }
}

impl Gpu {
    /// Opens the GPU that `WGPU_BACKEND` / `WGPU_ADAPTER_NAME` select, or the most capable
    /// one found, with the options of [`GpuOptions::from_env`]. Fails with
    /// [`Error::NoAdapter`](crate::Error::NoAdapter) when there is none.
    pub fn new() -> Result<Self> {
        Self::with_options(GpuOptions::from_env()?)
    }

    /// As [`Gpu::new`], with `options`.
    pub fn with_options(options: GpuOptions) -> Result<Self> {
        let ctx = Context::open(&options)?;
        let device_limit = ctx.limits.max_storage_buffer_binding_size;
        let max_binding_bytes = options
            .max_binding_bytes
            .map_or(device_limit, |b| b.min(device_limit));
        let tuning = Tuning::choose(&ctx.limits, ctx.features.contains(wgpu::Features::SUBGROUP))?;
        let timer = ctx
            .features
            .contains(wgpu::Features::TIMESTAMP_QUERY)
            .then(|| Timer::new(&ctx.device, &ctx.queue, launch::SUBMIT_EVERY));
        let pool = Pool::new(ctx.device.clone());
        Ok(Self {
            ctx,
            pool,
            recorder: Recorder::default(),
            max_binding_bytes,
            tuning,
            timer,
        })
    }

    /// The workgroup shapes and variants the kernels use on this device.
    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// `a (M, K) b (K, N) -> (M, N)`: a plain tiled matrix product with the convolution
    /// kernels' tiles but without their gathers, so that the kernel bench can set their rate
    /// beside the device's matrix-product rate. Not an op of the models.
    ///
    /// ```no_run
    /// use sepfc::backend::{Backend, gpu::Gpu};
    /// let gpu = Gpu::new()?;
    /// let a = gpu.upload(&[1.0, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let b = gpu.upload(&[1.0, 0.0, 0.0, 1.0], &[2, 2])?;
    /// assert_eq!(gpu.download(&gpu.matmul(&a, &b)?)?, vec![1.0, 2.0, 3.0, 4.0]);
    /// # Ok::<(), sepfc::Error>(())
    /// ```
    pub fn matmul(&self, a: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
        conv1d::matmul(self, a, b)
    }

    /// The optional features the device was opened with (subgroups and timestamp queries,
    /// where the adapter offers them and the options allow them).
    pub fn features(&self) -> wgpu::Features {
        self.ctx.features
    }

    /// The device's limits, as opened (the adapter's, lowered by [`GpuOptions`]).
    pub fn limits(&self) -> &wgpu::Limits {
        &self.ctx.limits
    }

    /// Whether the adapter is a software implementation (e.g. lavapipe) rather than a GPU.
    pub fn is_software(&self) -> bool {
        context::is_software(&self.ctx.info)
    }

    /// Commands, readbacks and buffer creations since the backend was opened.
    pub fn commands(&self) -> CommandCounts {
        CommandCounts {
            buffers_created: self.pool.stats().buffers_created,
            ..self.recorder.counts()
        }
    }

    /// Bytes held in the buffer pool now and at its peak.
    pub fn memory(&self) -> PoolStats {
        self.pool.stats()
    }

    /// Makes `t` the only handle on its data (copying it if shared), so that an in-place
    /// update cannot change values that other handles, e.g. a tape, still hold. An arena view
    /// stays in its arena when no other handle shares it.
    fn make_unique(&self, t: &mut GpuTensor) -> Result<()> {
        if Arc::strong_count(&t.storage) > 1 {
            let copy = self.alloc(&t.shape)?;
            self.record_copy(t, &copy);
            *t = copy;
        }
        Ok(())
    }
}

impl Backend for Gpu {
    type Tensor = GpuTensor;

    fn describe(&self) -> String {
        let i = &self.ctx.info;
        format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type)
    }

    fn peak_memory_bytes(&self) -> Option<u64> {
        Some(self.memory().peak_held_bytes)
    }

    fn commands(&self) -> Option<CommandCounts> {
        Some(Gpu::commands(self))
    }

    fn flush(&self) -> Result<()> {
        self.submit()
    }

    fn kernel_times(&self) -> Option<KernelTimes> {
        self.timer.as_ref().map(Timer::totals)
    }

    fn upload(&self, data: &[f32], shape: &[usize]) -> Result<GpuTensor> {
        super::shapes::expect_len("upload", data.len(), shape)?;
        self.write_new(data, shape)
    }

    fn download(&self, t: &GpuTensor) -> Result<Vec<f32>> {
        self.read(t)
    }

    fn full(&self, shape: &[usize], value: f32) -> Result<GpuTensor> {
        elementwise::fill(self, shape, value)
    }

    fn reshape(&self, t: &GpuTensor, shape: &[usize]) -> Result<GpuTensor> {
        super::shapes::expect_len("reshape", t.len(), shape)?;
        Ok(GpuTensor {
            shape: shape.to_vec(),
            storage: t.storage.clone(),
        })
    }

    fn add(&self, a: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
        elementwise::binary(self, "add", a, b)
    }

    fn scale(&self, a: &GpuTensor, s: f32) -> Result<GpuTensor> {
        elementwise::unary(self, "scale", a, s, 0)
    }

    fn conv1d(
        &self,
        x: &GpuTensor,
        w: &GpuTensor,
        b: &GpuTensor,
        spec: Conv1dSpec,
    ) -> Result<GpuTensor> {
        conv1d::forward(self, x, w, b, spec, false)
    }

    fn conv1d_relu(
        &self,
        x: &GpuTensor,
        w: &GpuTensor,
        b: &GpuTensor,
        spec: Conv1dSpec,
    ) -> Result<GpuTensor> {
        conv1d::forward(self, x, w, b, spec, true)
    }

    fn conv1d_backward(
        &self,
        x: &GpuTensor,
        w: &GpuTensor,
        dy: &GpuTensor,
        spec: Conv1dSpec,
        need_dx: bool,
    ) -> Result<Conv1dGrads<GpuTensor>> {
        conv1d::backward(self, x, w, dy, spec, need_dx)
    }

    fn conv1d_input_grad(
        &self,
        x: &GpuTensor,
        w: &GpuTensor,
        dy: &GpuTensor,
        spec: Conv1dSpec,
    ) -> Result<GpuTensor> {
        conv1d::input_grad(self, x, w, dy, spec)
    }

    fn conv1d_relu_input_grad(
        &self,
        x: &GpuTensor,
        w: &GpuTensor,
        y: &GpuTensor,
        dy: &GpuTensor,
        spec: Conv1dSpec,
    ) -> Result<GpuTensor> {
        super::shapes::expect_same("conv1d_relu_input_grad", y.shape(), dy.shape())?;
        conv1d::input_grad(self, x, w, &self.relu_backward(y, dy)?, spec)
    }

    fn rc_expand(&self, w: &GpuTensor) -> Result<GpuTensor> {
        sharing::rc_expand(self, w)
    }

    fn rc_fold(&self, g: &GpuTensor) -> Result<GpuTensor> {
        sharing::rc_fold(self, g)
    }

    fn mirror_expand(&self, v: &GpuTensor, n: usize) -> Result<GpuTensor> {
        sharing::mirror_expand(self, v, n)
    }

    fn mirror_fold(&self, g: &GpuTensor) -> Result<GpuTensor> {
        sharing::mirror_fold(self, g)
    }

    fn maxpool1d(&self, x: &GpuTensor, spec: PoolSpec) -> Result<GpuTensor> {
        maxpool::forward(self, x, spec)
    }

    fn maxpool1d_backward(
        &self,
        x: &GpuTensor,
        dy: &GpuTensor,
        spec: PoolSpec,
    ) -> Result<GpuTensor> {
        maxpool::backward(self, x, dy, spec)
    }

    fn deeplift_rescale(
        &self,
        x: &GpuTensor,
        y: &GpuTensor,
        dy: &GpuTensor,
        nonlinearity: Nonlinearity,
        pairs: usize,
    ) -> Result<GpuTensor> {
        deeplift::rescale(self, x, y, dy, nonlinearity, pairs)
    }

    fn deeplift_maxpool1d(
        &self,
        x: &GpuTensor,
        y: &GpuTensor,
        dy: &GpuTensor,
        spec: PoolSpec,
        pairs: usize,
    ) -> Result<GpuTensor> {
        deeplift::maxpool1d(self, x, y, dy, spec, pairs)
    }

    fn separable(&self, x: &GpuTensor, pos: &GpuTensor, chan: &GpuTensor) -> Result<GpuTensor> {
        separable::forward(self, x, pos, chan)
    }

    fn separable_backward(
        &self,
        x: &GpuTensor,
        pos: &GpuTensor,
        chan: &GpuTensor,
        dy: &GpuTensor,
        need_dx: bool,
    ) -> Result<SeparableGrads<GpuTensor>> {
        separable::backward(self, x, pos, chan, dy, need_dx)
    }

    fn dense(&self, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
        dense::forward(self, x, w, b)
    }

    fn dense_backward(
        &self,
        x: &GpuTensor,
        w: &GpuTensor,
        dy: &GpuTensor,
        need_dx: bool,
    ) -> Result<DenseGrads<GpuTensor>> {
        dense::backward(self, x, w, dy, need_dx)
    }

    fn relu(&self, x: &GpuTensor) -> Result<GpuTensor> {
        elementwise::unary(self, "relu", x, 0.0, 0)
    }

    fn relu_backward(&self, x: &GpuTensor, dy: &GpuTensor) -> Result<GpuTensor> {
        elementwise::binary(self, "relu_backward", x, dy)
    }

    fn sigmoid(&self, x: &GpuTensor) -> Result<GpuTensor> {
        elementwise::unary(self, "sigmoid", x, 0.0, 0)
    }

    fn sigmoid_backward(&self, y: &GpuTensor, dy: &GpuTensor) -> Result<GpuTensor> {
        elementwise::binary(self, "sigmoid_backward", y, dy)
    }

    fn dropout(&self, x: &GpuTensor, rate: f32, seed: u32) -> Result<GpuTensor> {
        super::shapes::check_dropout_rate(rate)?;
        elementwise::unary(self, "dropout", x, rate, seed)
    }

    fn dropout_backward(&self, dy: &GpuTensor, rate: f32, seed: u32) -> Result<GpuTensor> {
        self.dropout(dy, rate, seed)
    }

    fn loss(
        &self,
        kind: Loss,
        logits: &GpuTensor,
        targets: &GpuTensor,
        mask: &GpuTensor,
    ) -> Result<GpuTensor> {
        loss::forward(self, kind, logits, targets, mask)
    }

    fn loss_backward(
        &self,
        kind: Loss,
        logits: &GpuTensor,
        targets: &GpuTensor,
        mask: &GpuTensor,
        dloss: &GpuTensor,
    ) -> Result<GpuTensor> {
        loss::backward(self, kind, logits, targets, mask, dloss)
    }

    fn diff(&self, x: &GpuTensor, order: usize) -> Result<GpuTensor> {
        reduce::diff(self, x, order)
    }

    fn diff_backward(&self, dy: &GpuTensor, order: usize) -> Result<GpuTensor> {
        reduce::diff_backward(self, dy, order)
    }

    fn mean(&self, x: &GpuTensor, kind: Reduction) -> Result<GpuTensor> {
        reduce::mean(self, x, kind)
    }

    fn mean_backward(&self, x: &GpuTensor, dy: &GpuTensor, kind: Reduction) -> Result<GpuTensor> {
        reduce::mean_backward(self, x, dy, kind)
    }

    fn sgd_step(&self, param: &mut GpuTensor, grad: &GpuTensor, lr: f32) -> Result<()> {
        self.make_unique(param)?;
        optim::sgd(self, param, grad, lr)
    }

    fn adam_step(
        &self,
        param: &mut GpuTensor,
        grad: &GpuTensor,
        m: &mut GpuTensor,
        v: &mut GpuTensor,
        hyper: AdamStep,
    ) -> Result<()> {
        for t in [&mut *param, &mut *m, &mut *v] {
            self.make_unique(t)?;
        }
        optim::adam(self, param, grad, m, v, hyper)
    }

    fn adam_step_all(
        &self,
        targets: &mut [AdamTarget<'_, GpuTensor>],
        hyper: AdamStep,
    ) -> Result<()> {
        if targets.is_empty() {
            return Ok(());
        }
        for t in targets.iter() {
            for other in [t.grad.shape(), t.m.shape(), t.v.shape()] {
                super::shapes::expect_same("adam_step_all", t.param.shape(), other)?;
            }
        }
        let layout = ArenaLayout::new(
            targets.iter().map(|t| t.param.len()),
            self.arena_alignment(),
        );
        let param = self.arena_of(
            &mut targets
                .iter_mut()
                .map(|t| &mut *t.param)
                .collect::<Vec<_>>(),
            &layout,
        )?;
        let m = self.arena_of(
            &mut targets.iter_mut().map(|t| &mut *t.m).collect::<Vec<_>>(),
            &layout,
        )?;
        let v = self.arena_of(
            &mut targets.iter_mut().map(|t| &mut *t.v).collect::<Vec<_>>(),
            &layout,
        )?;
        let grads: Vec<&GpuTensor> = targets.iter().map(|t| t.grad).collect();
        let (grad, _views) = self.arena_copy(&grads, &layout)?;
        optim::adam(self, &param, &grad, &m, &v, hyper)
    }

    /// Writes the constrained rows back into `pos`'s own storage when no other handle shares
    /// it, so that a parameter stays in its arena.
    fn curvature_constraint(&self, pos: &mut GpuTensor, max: f32) -> Result<()> {
        let constrained = optim::curvature(self, pos, max)?;
        if Arc::strong_count(&pos.storage) == 1 {
            self.record_copy(&constrained, pos);
        } else {
            *pos = constrained;
        }
        Ok(())
    }
}
