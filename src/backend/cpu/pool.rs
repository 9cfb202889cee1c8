//! Storage of dropped tensors, kept for the next tensors of the same size.
//!
//! A training step makes the same large tensors every step (activations, gradients). Taken
//! fresh from the allocator, each one is new memory from the operating system, which zeroes
//! it and maps it one page fault at a time on first touch; on a 2-core machine that was about
//! a tenth of a small model's step. Kept here instead, the storage of the last step's tensors
//! serves the next one. Only buffers of at least [`MIN_FLOATS`] are kept (the allocator
//! recycles smaller ones itself), and at most [`KEEP_BYTES`] in all, oldest dropped first.

use std::sync::Mutex;

/// Buffers smaller than this (in floats: 128 KiB) go back to the allocator.
const MIN_FLOATS: usize = 32 * 1024;

/// The most memory kept for reuse.
const KEEP_BYTES: usize = 256 << 20;

/// Kept buffers, oldest first, and their total capacity in bytes.
static KEPT: Mutex<(Vec<Vec<f32>>, usize)> = Mutex::new((Vec::new(), 0));

fn bytes(buffer: &Vec<f32>) -> usize {
    buffer.capacity() * size_of::<f32>()
}

/// An empty vector with room for `len` floats: a kept buffer of a capacity from `len` to
/// `2 * len` (the smallest such), or a new one.
pub(super) fn take(len: usize) -> Vec<f32> {
    if len >= MIN_FLOATS {
        let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (buffers, total) = &mut *kept;
        let fitting = (0..buffers.len())
            .filter(|&i| (len..=2 * len).contains(&buffers[i].capacity()))
            .min_by_key(|&i| buffers[i].capacity());
        if let Some(i) = fitting {
            let mut buffer = buffers.remove(i);
            *total -= bytes(&buffer);
            buffer.clear();
            return buffer;
        }
    }
    Vec::with_capacity(len)
}

/// Keeps `buffer` for a later [`take`], if it is large enough to be worth it.
pub(super) fn keep(buffer: Vec<f32>) {
    if buffer.capacity() < MIN_FLOATS {
        return;
    }
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (buffers, total) = &mut *kept;
    *total += bytes(&buffer);
    buffers.push(buffer);
    while *total > KEEP_BYTES {
        let oldest = buffers.remove(0);
        *total -= bytes(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_buffer_serves_the_next_request_of_a_size_it_fits() {
        // a size no other test of this binary uses, so that the shared pool is ours
        let len = MIN_FLOATS + 12_345;
        let mut buffer = take(len);
        buffer.resize(len, 7.0);
        let address = buffer.as_ptr();
        keep(buffer);
        // too large for it: a new buffer
        let larger = take(2 * len + 1);
        assert_ne!(larger.as_ptr(), address);
        let again = take(len - 10);
        assert_eq!(again.as_ptr(), address, "the kept buffer was not reused");
        assert!(again.is_empty() && again.capacity() >= len);
    }
}
