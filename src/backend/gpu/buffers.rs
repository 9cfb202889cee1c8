//! A pool of wgpu buffers reused across ops and training steps.
//!
//! Buffers are bucketed by kind and by a size class (sizes rounded up to 1/8 of their power of
//! two, so at most 12.5% is wasted). A dropped buffer is *retired*, not freed: commands
//! recorded but not yet submitted may still use it, and a queued write into it would land
//! before them. [`Pool::recycle_retired`] makes retired buffers reusable once their commands
//! have been submitted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a pooled buffer is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BufferKind {
    /// Tensor data: read and written by kernels, copied to and from.
    Storage,
    /// Kernel parameters.
    Uniform,
    /// Host-readable copies for downloads.
    Readback,
}

impl BufferKind {
    fn usage(self) -> wgpu::BufferUsages {
        use wgpu::BufferUsages as U;
        match self {
            BufferKind::Storage => U::STORAGE | U::COPY_SRC | U::COPY_DST,
            BufferKind::Uniform => U::UNIFORM | U::COPY_DST,
            BufferKind::Readback => U::MAP_READ | U::COPY_DST,
        }
    }
}

/// Rounds `bytes` up to its size class: a multiple of 1/8 of its power of two, at least 16.
pub(crate) fn size_class(bytes: u64) -> u64 {
    let bytes = bytes.max(16);
    let step = (bytes.next_power_of_two() / 8).max(16);
    bytes.div_ceil(step) * step
}

type Key = (BufferKind, u64);

#[derive(Default)]
struct State {
    free: HashMap<Key, Vec<wgpu::Buffer>>,
    retired: Vec<(Key, wgpu::Buffer)>,
    /// Bytes in buffers handed out and not yet dropped.
    live_bytes: u64,
    /// Bytes in all buffers the pool owns or has handed out.
    held_bytes: u64,
    peak_held_bytes: u64,
    /// Buffers created from the device.
    created: u64,
}

/// The pool; shared by every [`PooledBuffer`] it hands out.
pub(crate) struct Pool {
    device: wgpu::Device,
    state: Mutex<State>,
}

/// A buffer on loan from the pool, retired on drop.
pub(crate) struct PooledBuffer {
    buffer: Option<wgpu::Buffer>,
    key: Key,
    pool: Arc<Pool>,
}

impl PooledBuffer {
    /// The wgpu buffer (its size is the size class, at least what was asked).
    pub fn buffer(&self) -> &wgpu::Buffer {
        self.buffer
            .as_ref()
            .expect("a pooled buffer holds its buffer until dropped")
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            let mut state = self.pool.lock();
            state.live_bytes -= self.key.1;
            state.retired.push((self.key, buffer));
        }
    }
}

impl std::fmt::Debug for PooledBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PooledBuffer({:?}, {} bytes)", self.key.0, self.key.1)
    }
}

/// Bytes held by the pool, for memory reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Bytes in buffers currently lent out.
    pub live_bytes: u64,
    /// Bytes in all buffers allocated and not released to the driver.
    pub held_bytes: u64,
    /// The most `held_bytes` has been.
    pub peak_held_bytes: u64,
    /// Buffers created from the device so far (the others were reused).
    pub buffers_created: u64,
}

impl Pool {
    pub fn new(device: wgpu::Device) -> Arc<Self> {
        Arc::new(Self {
            device,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A buffer of at least `bytes` bytes: a free one of the same class, or a new one.
    pub fn take(self: &Arc<Self>, kind: BufferKind, bytes: u64) -> PooledBuffer {
        let key = (kind, size_class(bytes));
        let mut state = self.lock();
        state.live_bytes += key.1;
        let reused = state.free.get_mut(&key).and_then(Vec::pop);
        let buffer = reused.unwrap_or_else(|| {
            state.held_bytes += key.1;
            state.peak_held_bytes = state.peak_held_bytes.max(state.held_bytes);
            state.created += 1;
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size: key.1,
                usage: kind.usage(),
                mapped_at_creation: false,
            })
        });
        PooledBuffer {
            buffer: Some(buffer),
            key,
            pool: self.clone(),
        }
    }

    /// Makes the buffers retired so far reusable: call after submitting the commands that
    /// were recorded while they were alive.
    pub fn recycle_retired(&self) {
        let mut state = self.lock();
        let retired = std::mem::take(&mut state.retired);
        for (key, buffer) in retired {
            state.free.entry(key).or_default().push(buffer);
        }
    }

    /// Current and peak byte counts.
    pub fn stats(&self) -> PoolStats {
        let state = self.lock();
        PoolStats {
            live_bytes: state.live_bytes,
            held_bytes: state.held_bytes,
            peak_held_bytes: state.peak_held_bytes,
            buffers_created: state.created,
        }
    }
}
