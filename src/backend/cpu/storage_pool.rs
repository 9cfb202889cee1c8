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

/// A kept buffer with room for `len` floats, of a capacity from `len` to `2 * len` (the
/// smallest such; of equals, the last kept, the likeliest to be in cache), holding what its
/// tensor held; `None` when there is none.
pub(super) fn take(len: usize) -> Option<Vec<f32>> {
    if len < MIN_FLOATS {
        return None;
    }
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (buffers, total) = &mut *kept;
    let fitting = (0..buffers.len())
        .filter(|&i| (len..=2 * len).contains(&buffers[i].capacity()))
        .min_by_key(|&i| (buffers[i].capacity(), std::cmp::Reverse(i)))?;
    let buffer = buffers.remove(fitting);
    *total -= bytes(&buffer);
    Some(buffer)
}

/// Keeps `buffer` for a later [`take`], if it is large enough to be worth it and small enough
/// to fit in [`KEEP_BYTES`] (a larger one would push every other buffer out).
pub(super) fn keep(buffer: Vec<f32>) {
    if buffer.capacity() < MIN_FLOATS || bytes(&buffer) > KEEP_BYTES {
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
        let buffer = vec![7.0f32; len];
        let address = buffer.as_ptr();
        keep(buffer);
        assert!(take(2 * len + 1).is_none(), "too small for that");
        let again = take(len - 10).expect("the kept buffer fits");
        assert_eq!(again.as_ptr(), address);
        assert_eq!(again.len(), len, "a kept buffer keeps its values");
        assert!(take(len - 10).is_none(), "it was taken");
        assert!(take(100).is_none(), "small requests are not served");
        // a buffer larger than the whole pool is not kept (nor pushes the others out)
        let mut other = vec![1.0f32; len + 1];
        other.shrink_to_fit();
        keep(other);
        let huge = KEEP_BYTES / size_of::<f32>() + 1;
        keep(Vec::with_capacity(huge));
        assert!(take(huge).is_none());
        assert_eq!(take(len + 1).map(|b| b.len()), Some(len + 1), "pushed out");
    }
}
