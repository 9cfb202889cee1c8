//! The batch split of the fast backward passes: fixed chunks of [`CHUNK`] examples in
//! parallel, each returning its share of the parameter gradients and writing its slice of the
//! input gradient.

use rayon::prelude::*;

use super::fast_elementwise::to_overwrite;
use super::gemm::CHUNK;

/// Runs `grads(chunk, dx_chunk)` for every chunk of [`CHUNK`] of the `n` examples, in parallel.
/// With `need_dx`, `dx_chunk` is the chunk's `(examples, per_example)` slice of a new input
/// gradient `(n, per_example)`, which `grads` must fill in full (it may start with stale
/// values); it is returned with the per-chunk results in chunk order, so that summing them
/// gives the same result whatever the thread count.
pub fn per_chunk<R: Send>(
    n: usize,
    per_example: usize,
    need_dx: bool,
    grads: impl Fn(usize, Option<&mut [f32]>) -> R + Sync,
) -> (Option<Vec<f32>>, Vec<R>) {
    if !need_dx {
        let parts = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| grads(chunk, None))
            .collect();
        return (None, parts);
    }
    let mut dx = to_overwrite(n * per_example);
    let parts = dx
        .par_chunks_mut((CHUNK * per_example).max(1))
        .enumerate()
        .map(|(chunk, dx_chunk)| grads(chunk, Some(dx_chunk)))
        .collect();
    (Some(dx), parts)
}
