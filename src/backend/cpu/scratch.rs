//! Per-thread scratch buffers for the fast kernels, kept from call to call.
//!
//! A convolution of a chunk of examples needs frames and products of a few hundred kilobytes.
//! Taking them fresh from the allocator on every call costs zeroing and page faults on first
//! touch; a scratch buffer comes back with whatever values it last held (initialised, but
//! stale), so a kernel that writes every element before reading it pays for neither.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

thread_local! {
    /// Buffers given back on this thread, ready for the next [`Scratch::take`].
    static FREE: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of `len` floats with unspecified (stale) values, returned to its thread's free
/// list when dropped.
pub(super) struct Scratch {
    buffer: Vec<f32>,
    len: usize,
}

impl Scratch {
    /// A buffer of `len` floats: the largest free one of this thread, grown if needed.
    pub fn take(len: usize) -> Self {
        let mut buffer = FREE
            .with(|free| {
                let mut free = free.borrow_mut();
                let largest = (0..free.len()).max_by_key(|&i| free[i].len())?;
                Some(free.swap_remove(largest))
            })
            .unwrap_or_default();
        if buffer.len() < len {
            buffer.resize(len, 0.0);
        }
        Self { buffer, len }
    }
}

impl Deref for Scratch {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        &self.buffer[..self.len]
    }
}

impl DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.buffer[..self.len]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        // a thread being torn down has no list to return to; the buffer is simply freed
        let _ = FREE.try_with(|free| free.borrow_mut().push(buffer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_on_its_thread_with_its_values_and_at_least_the_length_asked() {
        let first_ptr = {
            let mut a = Scratch::take(100);
            a[99] = 7.0;
            a.as_ptr()
        };
        let b = Scratch::take(50);
        assert_eq!(b.len(), 50);
        assert_eq!(b.as_ptr(), first_ptr, "the freed buffer was not reused");
        // two buffers alive at once are distinct
        let c = Scratch::take(100);
        assert_ne!(c.as_ptr(), b.as_ptr());
        assert_eq!(c.len(), 100);
        drop(b);
        let d = Scratch::take(100);
        assert_eq!(d[99], 7.0, "stale values are kept, not zeroed");
    }
}
