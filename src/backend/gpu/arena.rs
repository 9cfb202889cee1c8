//! Arenas: several tensors as non-overlapping views of one buffer, so that one kernel can treat
//! them as a single flat array (Adam over every parameter in one dispatch).
//!
//! Views start at multiples of the device's storage offset alignment, so each can still be bound
//! on its own. The gaps between them hold unspecified values that no tensor reads.

use std::sync::Arc;

use super::buffers::BufferKind;
use super::{Gpu, GpuTensor};
use crate::backend::Tensor;
use crate::{Error, Result};

/// Where each tensor of a list starts in its arena, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ArenaLayout {
    offsets: Vec<u64>,
    /// Bytes from the first tensor's start to the last one's end.
    bytes: u64,
}

impl ArenaLayout {
    /// Tensors with element counts `lens`, one after another, each start a multiple of `align`
    /// bytes.
    pub fn new(lens: impl IntoIterator<Item = usize>, align: u64) -> Self {
        let mut offsets = Vec::new();
        let mut end = 0u64;
        for len in lens {
            let start = end.div_ceil(align) * align;
            offsets.push(start);
            end = start + len as u64 * 4;
        }
        Self {
            offsets,
            bytes: end,
        }
    }

    /// 32-bit words the arena spans, gaps included.
    pub fn words(&self) -> usize {
        (self.bytes / 4) as usize
    }

    /// Whether `tensors` are this layout's views of one buffer, in order, and no other handle
    /// shares any of them (so they may be updated in place).
    fn holds(&self, tensors: &[&GpuTensor]) -> bool {
        let Some(first) = tensors.first() else {
            return true;
        };
        tensors.len() == self.offsets.len()
            && tensors.iter().zip(&self.offsets).all(|(t, &offset)| {
                Arc::ptr_eq(&t.storage.buffer, &first.storage.buffer)
                    && t.offset() == offset
                    && Arc::strong_count(&t.storage) == 1
            })
    }
}

impl Gpu {
    /// The storage offset alignment arenas use.
    pub(super) fn arena_alignment(&self) -> u64 {
        (self.ctx.limits.min_storage_buffer_offset_alignment as u64).max(4)
    }

    /// Copies `sources` into a new arena laid out by `layout` and returns the arena as one
    /// flat tensor of [`ArenaLayout::words`] words, together with a view per source.
    pub(super) fn arena_copy(
        &self,
        sources: &[&GpuTensor],
        layout: &ArenaLayout,
    ) -> Result<(GpuTensor, Vec<GpuTensor>)> {
        if layout.bytes > self.ctx.limits.max_buffer_size {
            return Err(Error::TooLarge {
                bytes: layout.bytes,
                detail: format!(
                    "an arena of {} tensors exceeds this device's buffer limit of {} bytes",
                    sources.len(),
                    self.ctx.limits.max_buffer_size
                ),
            });
        }
        let buffer = Arc::new(self.pool.take(BufferKind::Storage, layout.bytes));
        let views: Vec<GpuTensor> = sources
            .iter()
            .zip(&layout.offsets)
            .map(|(src, &offset)| {
                let view = GpuTensor::view(src.shape(), buffer.clone(), offset);
                self.record_copy(src, &view);
                view
            })
            .collect();
        let whole = GpuTensor::view(&[layout.words()], buffer, 0);
        Ok((whole, views))
    }

    /// Makes `tensors` the views of one arena laid out by `layout` (copying them into a new one
    /// unless they already are, unshared), and returns that arena as one flat tensor.
    pub(super) fn arena_of(
        &self,
        tensors: &mut [&mut GpuTensor],
        layout: &ArenaLayout,
    ) -> Result<GpuTensor> {
        let current: Vec<&GpuTensor> = tensors.iter().map(|t| &**t).collect();
        if let Some(first) = current.first().filter(|_| layout.holds(&current)) {
            let buffer = first.storage.buffer.clone();
            return Ok(GpuTensor::view(&[layout.words()], buffer, 0));
        }
        let (whole, views) = self.arena_copy(&current, layout)?;
        for (t, view) in tensors.iter_mut().zip(views) {
            **t = view;
        }
        Ok(whole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_aligns_every_start_and_ends_at_the_last_tensor() {
        let layout = ArenaLayout::new([3, 0, 64, 1], 256);
        assert_eq!(layout.offsets, vec![0, 256, 256, 512]);
        assert_eq!(layout.bytes, 516);
        assert_eq!(layout.words(), 129);
        assert_eq!(ArenaLayout::new([], 256).words(), 0);
    }
}
