//! Device time per kernel family, from timestamp queries at the start and end of a compute
//! pass around each dispatch. Only a backend opened with
//! [`GpuOptions::timestamps`](super::GpuOptions::timestamps) times its kernels: each dispatch
//! then has a pass of its own and every submit waits for its timestamps, so the figures are
//! for profiling, not for throughput.

use std::sync::Mutex;

use super::launch::Kernel;
use crate::backend::KernelTimes;
use crate::{Error, Result};

/// Bytes of one timestamp.
const TIMESTAMP_BYTES: u64 = 8;

/// The kernel family a kernel's time is counted under.
pub(crate) fn family(kernel: Kernel) -> &'static str {
    match (kernel.shader.name, kernel.entry) {
        ("conv1d", "forward") => "conv forward",
        ("conv1d", "matmul") => "matmul",
        ("conv1d", _) => "conv backward",
        ("separable", _) => "separable",
        ("deeplift", _) | ("maxpool", "deeplift") => "attribution",
        ("maxpool", _) => "pooling",
        ("dense", _) => "dense",
        ("loss" | "reduce", _) => "loss and reductions",
        ("optim", _) => "optimizer",
        _ => "elementwise",
    }
}

/// The query set that one submit's timestamps go to, and where they are read back from.
pub(crate) struct Timer {
    queries: wgpu::QuerySet,
    /// Timestamps resolved on the device...
    resolved: wgpu::Buffer,
    /// ...and copied where the host can map them.
    readback: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
    totals: Mutex<KernelTimes>,
}

impl Timer {
    /// Room for `dispatches` timed dispatches per submit.
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue, dispatches: usize) -> Self {
        let count = 2 * dispatches as u32;
        let bytes = u64::from(count) * TIMESTAMP_BYTES;
        let buffer = |usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamps"),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        Self {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("kernel timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count,
            }),
            resolved: buffer(wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC),
            readback: buffer(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST),
            period_ns: f64::from(queue.get_timestamp_period()),
            totals: Mutex::new(KernelTimes::default()),
        }
    }

    /// Where the `index`-th timed dispatch of a submit writes its two timestamps.
    pub fn writes(&self, index: usize) -> wgpu::ComputePassTimestampWrites<'_> {
        let first = 2 * index as u32;
        wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(first),
            end_of_pass_write_index: Some(first + 1),
        }
    }

    /// Records, at the end of `encoder`, the copy of the first `timed` dispatches'
    /// timestamps to the host-visible buffer.
    pub fn resolve(&self, encoder: &mut wgpu::CommandEncoder, timed: usize) {
        if timed == 0 {
            return;
        }
        let count = 2 * timed as u32;
        encoder.resolve_query_set(&self.queries, 0..count, &self.resolved, 0);
        let bytes = u64::from(count) * TIMESTAMP_BYTES;
        encoder.copy_buffer_to_buffer(&self.resolved, 0, &self.readback, 0, bytes);
    }

    /// Waits for the submit whose timed dispatches had `families`, and adds their times.
    pub fn collect(&self, device: &wgpu::Device, families: &[&'static str]) -> Result<()> {
        if families.is_empty() {
            return Ok(());
        }
        let failed = |detail: String| Error::Gpu {
            context: "reading kernel timestamps".into(),
            detail,
        };
        let bytes = 2 * families.len() as u64 * TIMESTAMP_BYTES;
        let slice = self.readback.slice(0..bytes);
        let (sender, receiver) = futures::channel::oneshot::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            // The receiver waits below; a failed send only means it gave up.
            let _ = sender.send(r);
        });
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| failed(e.to_string()))?;
        pollster::block_on(receiver)
            .map_err(|_| Error::DeviceLost("the timestamp readback was dropped".into()))?
            .map_err(|e| failed(e.to_string()))?;
        let ticks: Vec<u64> = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| failed(e.to_string()))?;
            bytemuck::cast_slice::<u8, u64>(&view).to_vec()
        };
        self.readback.unmap();
        let mut totals = self.totals.lock().unwrap_or_else(|p| p.into_inner());
        for (family, ends) in families.iter().zip(ticks.chunks_exact(2)) {
            let entry = totals.families.entry(family).or_default();
            entry.dispatches += 1;
            entry.seconds += ends[1].saturating_sub(ends[0]) as f64 * self.period_ns * 1e-9;
        }
        Ok(())
    }

    /// The times collected so far.
    pub fn totals(&self) -> KernelTimes {
        self.totals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
