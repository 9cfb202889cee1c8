//! Recording kernels: the shader sources, the pipeline cache (each pipeline built once), the
//! command encoder that collects dispatches until a submit, and transfers to and from the host.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::buffers::BufferKind;
use super::params::ShaderParams;
use super::timing::{Timer, family};
use super::{Gpu, GpuTensor};
use crate::backend::CommandCounts;
use crate::backend::Tensor;
use crate::{Error, Result};

/// A WGSL file of `shaders/`.
#[derive(Debug)]
pub struct Shader {
    /// File stem, e.g. `conv1d`.
    pub name: &'static str,
    /// The file's own WGSL, without the preludes.
    body: &'static str,
    /// Whether its kernels call `group_sum`.
    reduces: bool,
}

static COMMON: &str = include_str!("../../../shaders/common.wgsl");
static GROUP_SUM_PORTABLE: &str = include_str!("../../../shaders/group_sum_portable.wgsl");
static GROUP_SUM_SUBGROUP: &str = include_str!("../../../shaders/group_sum_subgroup.wgsl");

impl Shader {
    /// The full WGSL source: `common.wgsl`, then for the kernels that reduce across a
    /// workgroup the `group_sum` of subgroup operations (`subgroups`, which needs
    /// `Features::SUBGROUP`) or of workgroup memory alone, then the file.
    pub fn source(&self, subgroups: bool) -> String {
        let group_sum = match (self.reduces, subgroups) {
            (false, _) => "",
            (true, false) => GROUP_SUM_PORTABLE,
            (true, true) => GROUP_SUM_SUBGROUP,
        };
        [COMMON, group_sum, self.body].concat()
    }

    /// Whether the source differs with and without subgroups.
    pub fn reduces(&self) -> bool {
        self.reduces
    }
}

macro_rules! shader {
    ($name:literal, reduces: $reduces:literal) => {
        Shader {
            name: $name,
            body: include_str!(concat!("../../../shaders/", $name, ".wgsl")),
            reduces: $reduces,
        }
    };
}

pub(crate) static CONV1D: Shader = shader!("conv1d", reduces: false);
pub(crate) static DEEPLIFT: Shader = shader!("deeplift", reduces: false);
pub(crate) static MAXPOOL: Shader = shader!("maxpool", reduces: false);
pub(crate) static SEPARABLE: Shader = shader!("separable", reduces: true);
pub(crate) static DENSE: Shader = shader!("dense", reduces: false);
pub(crate) static ELEMENTWISE: Shader = shader!("elementwise", reduces: false);
pub(crate) static LOSS: Shader = shader!("loss", reduces: true);
pub(crate) static REDUCE: Shader = shader!("reduce", reduces: true);
pub(crate) static OPTIM: Shader = shader!("optim", reduces: false);
pub(crate) static SHARING: Shader = shader!("sharing", reduces: false);

/// Every kernel file, for validation in tests.
pub fn shaders() -> [&'static Shader; 10] {
    [
        &CONV1D,
        &DEEPLIFT,
        &MAXPOOL,
        &SEPARABLE,
        &DENSE,
        &ELEMENTWISE,
        &LOSS,
        &REDUCE,
        &OPTIM,
        &SHARING,
    ]
}

/// Size of every kernel's parameter block in 32-bit words: each shader's parameter struct
/// fits, and unused words are zero.
const PARAM_WORDS: usize = 16;
/// Dispatches recorded before the encoder is submitted on its own, so that retired buffers
/// come back to the pool during long chains of work.
pub(crate) const SUBMIT_EVERY: usize = 256;

/// One entry point of one shader file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kernel {
    pub shader: &'static Shader,
    pub entry: &'static str,
}

/// A byte range of a tensor bound to one kernel binding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binding<'a> {
    tensor: &'a GpuTensor,
    offset: u64,
    size: u64,
}

impl GpuTensor {
    /// The whole tensor.
    pub(crate) fn whole(&self) -> Binding<'_> {
        Binding {
            tensor: self,
            offset: 0,
            size: self.byte_len(),
        }
    }

    /// Entries `range` of the outermost dimension (the batch, for activations).
    pub(crate) fn rows(&self, range: &Range<usize>) -> Binding<'_> {
        let row_bytes = self.byte_len() / self.shape().first().copied().unwrap_or(1).max(1) as u64;
        Binding {
            tensor: self,
            offset: range.start as u64 * row_bytes,
            size: range.len() as u64 * row_bytes,
        }
    }

    /// Elements `range` of the flattened tensor.
    pub(crate) fn elements(&self, range: &Range<usize>) -> Binding<'_> {
        Binding {
            tensor: self,
            offset: range.start as u64 * 4,
            size: range.len() as u64 * 4,
        }
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// How many invocations a launch needs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Grid {
    /// One invocation per index `0..n` (workgroups of the tuning's `linear` invocations).
    Threads(usize),
    /// A single workgroup (the reductions).
    OneGroup,
    /// These workgroup counts along x, y and z (the tiled kernels).
    Groups([u32; 3]),
}

struct CachedPipeline {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

/// Pipelines, shader modules and the open encoder.
#[derive(Default)]
pub(crate) struct Recorder {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<(&'static str, &'static str), Arc<CachedPipeline>>>,
    pending: Mutex<Pending>,
    dispatches: AtomicU64,
    copies: AtomicU64,
    submits: AtomicU64,
    bytes_read: AtomicU64,
}

impl Recorder {
    /// Commands recorded so far (`buffers_created` is the pool's to fill in).
    pub fn counts(&self) -> CommandCounts {
        CommandCounts {
            dispatches: self.dispatches.load(Ordering::Relaxed),
            copies: self.copies.load(Ordering::Relaxed),
            submits: self.submits.load(Ordering::Relaxed),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            buffers_created: 0,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Workgroup counts for `threads` invocations in workgroups of `size`, split over x and y
/// past `max` groups.
fn workgroups(threads: usize, size: u32, max: u32) -> Result<[u32; 3]> {
    let groups = threads.div_ceil(size as usize);
    let x = groups.min(max as usize);
    let y = groups.div_ceil(x.max(1));
    if y > max as usize {
        return Err(Error::TooLarge {
            bytes: threads as u64 * 4,
            detail: format!("{threads} invocations exceed one dispatch"),
        });
    }
    Ok([x as u32, y as u32, 1])
}

/// The open encoder, the compute pass open in it (if any) and how many dispatches it holds.
///
/// Consecutive dispatches share one compute pass; a copy ends it, and the next dispatch opens
/// another. wgpu still orders the dispatches inside a pass by the buffers they use. When
/// kernels are timed, each dispatch has a pass of its own, with timestamps at its ends.
struct Open {
    /// Declared first so that it ends before the encoder drops.
    pass: Option<wgpu::ComputePass<'static>>,
    encoder: wgpu::CommandEncoder,
    dispatches: usize,
    /// The kernel family of each timed dispatch, in order (timestamps `2 i` and `2 i + 1`).
    timed: Vec<&'static str>,
}

impl Open {
    /// The encoder for a copy, with any compute pass ended.
    fn for_copy(&mut self) -> &mut wgpu::CommandEncoder {
        self.pass = None;
        &mut self.encoder
    }

    /// The compute pass, begun if none is open.
    fn pass(&mut self) -> &mut wgpu::ComputePass<'static> {
        let encoder = &mut self.encoder;
        self.pass.get_or_insert_with(|| {
            encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: None,
                    timestamp_writes: None,
                })
                .forget_lifetime()
        })
    }

    /// Records `pipeline` with `bind_group` over `groups`, in its own pass between two
    /// timestamps of `timer` when kernels are timed.
    fn dispatch(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        groups: [u32; 3],
        timed: Option<(&Timer, &'static str)>,
    ) {
        let record = |pass: &mut wgpu::ComputePass<'_>| {
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, bind_group, &[]);
            pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        };
        match timed {
            None => record(self.pass()),
            Some((timer, family)) => {
                self.pass = None;
                let writes = timer.writes(self.timed.len());
                record(
                    &mut self
                        .encoder
                        .begin_compute_pass(&wgpu::ComputePassDescriptor {
                            label: None,
                            timestamp_writes: Some(writes),
                        }),
                );
                self.timed.push(family);
            }
        }
        self.dispatches += 1;
    }

    /// The recorded commands, any compute pass ended, with the timestamps resolved for
    /// `timer` to read.
    fn finish(mut self, timer: Option<&Timer>) -> (wgpu::CommandBuffer, Vec<&'static str>) {
        self.pass = None;
        if let Some(timer) = timer {
            timer.resolve(&mut self.encoder, self.timed.len());
        }
        (self.encoder.finish(), self.timed)
    }
}

type Pending = Option<Open>;

impl Gpu {
    /// The open encoder, created if none is open.
    fn open_encoder<'p>(&self, pending: &'p mut Pending) -> &'p mut Open {
        pending.get_or_insert_with(|| Open {
            pass: None,
            encoder: self
                .ctx
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None }),
            dispatches: 0,
            timed: Vec::new(),
        })
    }

    fn pipeline(&self, kernel: Kernel) -> Result<Arc<CachedPipeline>> {
        let key = (kernel.shader.name, kernel.entry);
        if let Some(p) = lock(&self.recorder.pipelines).get(&key) {
            return Ok(p.clone());
        }
        let device = &self.ctx.device;
        let mut modules = lock(&self.recorder.modules);
        let module = modules.entry(kernel.shader.name).or_insert_with(|| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(kernel.shader.name),
                source: wgpu::ShaderSource::Wgsl(
                    kernel.shader.source(self.tuning.subgroups).into(),
                ),
            })
        });
        let constants = self.tuning.constants();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.entry),
            layout: None,
            module,
            entry_point: Some(kernel.entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                ..Default::default()
            },
            cache: None,
        });
        drop(modules);
        self.ctx.check(&format!(
            "compiling kernel {}::{}",
            kernel.shader.name, kernel.entry
        ))?;
        let layout = pipeline.get_bind_group_layout(0);
        let cached = Arc::new(CachedPipeline { pipeline, layout });
        lock(&self.recorder.pipelines).insert(key, cached.clone());
        Ok(cached)
    }

    /// Records one dispatch of `kernel` with `params` at binding 0 and whole `tensors` at
    /// bindings 1, 2, ... in order.
    pub(crate) fn launch<P: ShaderParams>(
        &self,
        kernel: Kernel,
        params: &P,
        tensors: &[&GpuTensor],
        grid: Grid,
    ) -> Result<()> {
        let bindings: Vec<Binding<'_>> = tensors.iter().map(|t| t.whole()).collect();
        self.launch_bound(kernel, params, &bindings, grid)
    }

    /// Records one dispatch of `kernel` with `params` at binding 0 and the tensor ranges
    /// `bindings` at bindings 1, 2, ... in order.
    pub(crate) fn launch_bound<P: ShaderParams>(
        &self,
        kernel: Kernel,
        params: &P,
        bindings: &[Binding<'_>],
        grid: Grid,
    ) -> Result<()> {
        let groups = match grid {
            Grid::Threads(0) => return Ok(()),
            Grid::Threads(n) => workgroups(n, self.tuning.linear, self.tuning.max_groups_per_dim)?,
            Grid::OneGroup => [1, 1, 1],
            Grid::Groups(groups) if groups.contains(&0) => return Ok(()),
            Grid::Groups(groups) => groups,
        };
        let cached = self.pipeline(kernel)?;
        let params: &[u32] = bytemuck::cast_slice(bytemuck::bytes_of(params));
        assert!(
            params.len() <= PARAM_WORDS,
            "kernel {} takes at most {PARAM_WORDS} parameter words",
            kernel.entry
        );
        let mut words = params.to_vec();
        words.resize(PARAM_WORDS, 0);
        let uniform = self.pool.take(BufferKind::Uniform, words.len() as u64 * 4);
        self.ctx
            .queue
            .write_buffer(uniform.buffer(), 0, bytemuck::cast_slice(&words));
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: uniform.buffer(),
                offset: 0,
                size: NonZeroU64::new(words.len() as u64 * 4),
            }),
        }];
        for (i, b) in bindings.iter().enumerate() {
            // an empty tensor still needs a non-empty binding; its kernel reads nothing
            let size = b.size.max(4);
            if size > self.max_binding_bytes {
                return Err(Error::TooLarge {
                    bytes: size,
                    detail: format!(
                        "kernel {} binds {size} bytes at once, over this device's limit of {}",
                        kernel.entry, self.max_binding_bytes
                    ),
                });
            }
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: b.tensor.buffer(),
                    offset: b.tensor.offset() + b.offset,
                    size: NonZeroU64::new(size),
                }),
            });
        }
        let bind_group = self
            .ctx
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &cached.layout,
                entries: &entries,
            });
        let due = {
            let mut pending = lock(&self.recorder.pending);
            let open = self.open_encoder(&mut pending);
            let timed = self.timer.as_ref().map(|t| (t, family(kernel)));
            open.dispatch(&cached.pipeline, &bind_group, groups, timed);
            self.recorder.dispatches.fetch_add(1, Ordering::Relaxed);
            open.dispatches >= SUBMIT_EVERY
        };
        if due {
            self.submit()?;
        }
        Ok(())
    }

    /// Records a copy of `src` into `dst` (equal sizes) in the open encoder.
    pub(crate) fn record_copy(&self, src: &GpuTensor, dst: &GpuTensor) {
        let mut pending = lock(&self.recorder.pending);
        let encoder = self.open_encoder(&mut pending).for_copy();
        self.recorder.copies.fetch_add(1, Ordering::Relaxed);
        encoder.copy_buffer_to_buffer(
            src.buffer(),
            src.offset(),
            dst.buffer(),
            dst.offset(),
            src.byte_len(),
        );
    }

    /// Submits everything recorded so far (without waiting for it) and returns the buffers
    /// retired meanwhile to the pool.
    ///
    /// The encoder stays locked until the retired buffers are recycled: a buffer retired by
    /// another thread's newer, unsubmitted commands must not be recycled by this submit.
    pub(crate) fn submit(&self) -> Result<()> {
        {
            let mut pending = lock(&self.recorder.pending);
            if let Some(open) = pending.take() {
                let (commands, timed) = open.finish(self.timer.as_ref());
                self.ctx.queue.submit([commands]);
                self.recorder.submits.fetch_add(1, Ordering::Relaxed);
                if let Some(timer) = &self.timer {
                    timer.collect(&self.ctx.device, &timed)?;
                }
            }
            self.pool.recycle_retired();
        }
        self.ctx.check("running GPU kernels")
    }

    /// Submits pending work and waits for the device to finish it.
    pub fn synchronize(&self) -> Result<()> {
        self.submit()?;
        self.ctx
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu {
                context: "waiting for the GPU".into(),
                detail: e.to_string(),
            })?;
        self.ctx.check("waiting for the GPU")
    }

    /// Splits `rows` rows into ranges whose bindings stay within the device's binding limit.
    /// `row_bytes` gives the bytes per row of each tensor bound by rows. Chunk starts are
    /// aligned so that every row-bound tensor's offset meets the device's offset alignment.
    pub(crate) fn row_chunks(&self, rows: usize, row_bytes: &[u64]) -> Result<Vec<Range<usize>>> {
        self.row_chunks_of_at_most(rows, row_bytes, usize::MAX)
    }

    /// As [`Gpu::row_chunks`], with at most `most` rows a chunk (a kernel that puts rows on
    /// a workgroup dimension).
    pub(crate) fn row_chunks_of_at_most(
        &self,
        rows: usize,
        row_bytes: &[u64],
        most: usize,
    ) -> Result<Vec<Range<usize>>> {
        let limit = self.max_binding_bytes;
        let widest = row_bytes.iter().copied().max().unwrap_or(0);
        if widest * rows as u64 <= limit && rows <= most {
            return Ok(std::iter::once(0..rows).collect());
        }
        let align = self.ctx.limits.min_storage_buffer_offset_alignment.max(4) as u64;
        let step = row_bytes
            .iter()
            .filter(|&&b| b > 0)
            .map(|&b| align / gcd(b, align))
            .fold(1, |acc, m| acc / gcd(acc, m) * m);
        let fit = (limit / widest.max(1)).min(most as u64);
        let chunk = fit / step * step;
        if chunk == 0 {
            return Err(Error::TooLarge {
                bytes: widest * step,
                detail: format!(
                    "{step} aligned rows of {widest} bytes do not fit one binding of {limit} bytes and {most} rows"
                ),
            });
        }
        let chunk = chunk as usize;
        Ok((0..rows)
            .step_by(chunk)
            .map(|start| start..(start + chunk).min(rows))
            .collect())
    }

    /// A new tensor of `shape` with unspecified contents.
    pub(crate) fn alloc(&self, shape: &[usize]) -> Result<GpuTensor> {
        let bytes = shape.iter().product::<usize>() as u64 * 4;
        if bytes > self.ctx.limits.max_buffer_size {
            return Err(Error::TooLarge {
                bytes,
                detail: format!(
                    "a buffer is limited to {} bytes on this device",
                    self.ctx.limits.max_buffer_size
                ),
            });
        }
        let buffer = self.pool.take(BufferKind::Storage, bytes);
        Ok(GpuTensor::new(shape, buffer))
    }

    /// Uploads host data into a new tensor.
    pub(crate) fn write_new(&self, data: &[f32], shape: &[usize]) -> Result<GpuTensor> {
        let t = self.alloc(shape)?;
        if !data.is_empty() {
            self.ctx
                .queue
                .write_buffer(t.buffer(), t.offset(), bytemuck::cast_slice(data));
        }
        self.ctx.check("uploading a tensor")?;
        Ok(t)
    }

    /// Copies a tensor to the host, submitting and waiting for pending work first.
    pub(crate) fn read(&self, t: &GpuTensor) -> Result<Vec<f32>> {
        let bytes = t.byte_len();
        if bytes == 0 {
            return Ok(Vec::new());
        }
        self.recorder.bytes_read.fetch_add(bytes, Ordering::Relaxed);
        let staging = self.pool.take(BufferKind::Readback, bytes);
        {
            let mut pending = lock(&self.recorder.pending);
            let encoder = self.open_encoder(&mut pending).for_copy();
            encoder.copy_buffer_to_buffer(t.buffer(), t.offset(), staging.buffer(), 0, bytes);
        }
        self.submit()?;
        let slice = staging.buffer().slice(0..bytes);
        let (sender, receiver) = futures::channel::oneshot::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            // The receiver waits below; a failed send only means it gave up.
            let _ = sender.send(r);
        });
        self.synchronize()?;
        pollster::block_on(receiver)
            .map_err(|_| Error::DeviceLost("the readback was dropped".into()))?
            .map_err(|e| Error::Gpu {
                context: "reading a tensor back".into(),
                detail: e.to_string(),
            })?;
        let data = {
            let view = slice.get_mapped_range().map_err(|e| Error::Gpu {
                context: "reading a tensor back".into(),
                detail: e.to_string(),
            })?;
            bytemuck::cast_slice::<u8, f32>(&view).to_vec()
        };
        staging.buffer().unmap();
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GPU for these tests: required when `CI` is set, else skipped with a message.
    fn gpu() -> Option<Gpu> {
        match Gpu::new() {
            Ok(gpu) => Some(gpu),
            Err(e) if std::env::var_os("CI").is_some() => panic!("CI is set but: {e}"),
            Err(e) => {
                eprintln!("skipped, no GPU: {e}");
                None
            }
        }
    }

    static BROKEN: Shader = Shader {
        name: "broken",
        body: "@compute @workgroup_size(1) fn main() { let x: u32 = undefined_thing; }",
        reduces: false,
    };

    #[test]
    fn a_shader_that_fails_validation_is_an_error_not_a_panic() {
        let Some(gpu) = gpu() else { return };
        let out = gpu.alloc(&[4]).unwrap();
        let kernel = Kernel {
            shader: &BROKEN,
            entry: "main",
        };
        match gpu.launch(
            kernel,
            &crate::backend::gpu::params::LossParams::default(),
            &[&out],
            Grid::Threads(4),
        ) {
            Err(Error::Gpu { context, detail }) => {
                assert!(context.contains("broken::main"), "{context}");
                assert!(detail.contains("undefined_thing"), "{detail}");
            }
            other => panic!("expected a GPU error, got {other:?}"),
        }
        // the device stays usable afterwards
        let t = gpu.write_new(&[1.0, 2.0], &[2]).unwrap();
        assert_eq!(gpu.read(&t).unwrap(), vec![1.0, 2.0]);
    }

    #[test]
    fn a_tensor_larger_than_any_buffer_is_an_error() {
        let Some(gpu) = gpu() else { return };
        match gpu.alloc(&[1 << 20, 1 << 20]) {
            Err(Error::TooLarge { bytes, .. }) => assert_eq!(bytes, 4 << 40),
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn workgroups_split_over_two_dimensions_past_65535() {
        let max = 65_535;
        assert_eq!(workgroups(64, 64, max).unwrap(), [1, 1, 1]);
        assert_eq!(workgroups(65, 64, max).unwrap(), [2, 1, 1]);
        assert_eq!(workgroups(64 * 65_535, 64, max).unwrap(), [65_535, 1, 1]);
        assert_eq!(
            workgroups(64 * 65_535 + 1, 64, max).unwrap(),
            [65_535, 2, 1]
        );
        assert!(workgroups(64 * 65_535 * 65_536, 64, max).is_err());
        assert_eq!(workgroups(33, 16, 2).unwrap(), [2, 2, 1]);
        assert!(workgroups(65, 16, 2).is_err());
    }
}
