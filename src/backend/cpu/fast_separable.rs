//! The CPU backend's separable contraction, `y[n,u] = sum_l pos[u,l] sum_c chan[u,c]
//! x[n,c,l]`, as per-example matrix products, examples in parallel.
//!
//! As in [`fast_conv`](super::fast_conv), gradients summed over the batch are summed per fixed
//! chunk of examples and then in chunk order, so results do not depend on the thread count.
//! [`kernels::separable`](super::kernels::separable) is the reference.

use rayon::prelude::*;

use super::fast_elementwise::zeroed;
use super::gemm::{CHUNK, Matrix, matmul};

/// `(N, C, L)` x `(U, L)` x `(U, C)` -> `(N, U)`; `dims` is `[N, C, L, U]`.
pub fn separable(x: &[f32], pos: &[f32], chan: &[f32], dims: [usize; 4]) -> Vec<f32> {
    let [n, c, l, u] = dims;
    let mut y = vec![0.0f32; n * u];
    if y.is_empty() {
        return y;
    }
    let channel = Matrix::row_major(chan, u, c);
    y.par_chunks_mut(u).zip(x.par_chunks(c * l)).for_each_init(
        || vec![0.0f32; u * l],
        |z, (y_n, x_n)| {
            // z[u,l] = sum_c chan[u,c] x[c,l]
            matmul(channel, Matrix::row_major(x_n, c, l), z, 0.0);
            for (unit, out) in y_n.iter_mut().enumerate() {
                let row = &z[unit * l..(unit + 1) * l];
                let weights = &pos[unit * l..(unit + 1) * l];
                *out = row.iter().zip(weights).map(|(a, b)| a * b).sum();
            }
        },
    );
    y
}

/// Gradients of [`separable`]: `(dx if need_dx, dpos, dchan)`, as
/// [`kernels::separable_backward`](super::kernels::separable_backward).
pub fn separable_backward(
    x: &[f32],
    pos: &[f32],
    chan: &[f32],
    dy: &[f32],
    dims: [usize; 4],
    need_dx: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let [n, c, l, u] = dims;
    let channel = Matrix::row_major(chan, u, c);
    let positional = Matrix::row_major(pos, u, l);
    // One chunk of examples: its (dpos, dchan), and its input gradient written into `dx`.
    let chunk_grads = |chunk: usize, mut dx: Option<&mut [f32]>| {
        let examples = chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
        let mut dpos = vec![0.0f32; u * l];
        let mut dchan = vec![0.0f32; u * c];
        let (mut z, mut s, mut a) = (
            vec![0.0f32; u * l],
            vec![0.0f32; u * c],
            vec![0.0f32; u * l],
        );
        for (i, example) in examples.enumerate() {
            let x_n = Matrix::row_major(&x[example * c * l..(example + 1) * c * l], c, l);
            let g = &dy[example * u..(example + 1) * u];
            // dpos[u,l] += g[u] * sum_c chan[u,c] x[c,l]
            matmul(channel, x_n, &mut z, 0.0);
            // dchan[u,c] += g[u] * sum_l pos[u,l] x[c,l]
            matmul(positional, x_n.t(), &mut s, 0.0);
            for unit in 0..u {
                let gu = g[unit];
                let rows = unit * l..(unit + 1) * l;
                for (d, z) in dpos[rows.clone()].iter_mut().zip(&z[rows.clone()]) {
                    *d += gu * z;
                }
                for (d, s) in dchan[unit * c..(unit + 1) * c]
                    .iter_mut()
                    .zip(&s[unit * c..(unit + 1) * c])
                {
                    *d += gu * s;
                }
                for (a, p) in a[rows.clone()].iter_mut().zip(&pos[rows]) {
                    *a = gu * p;
                }
            }
            if let Some(dx) = dx.as_deref_mut() {
                // dx[c,l] = sum_u chan[u,c] g[u] pos[u,l]
                let out = &mut dx[i * c * l..(i + 1) * c * l];
                matmul(channel.t(), Matrix::row_major(&a, u, l), out, 0.0);
            }
        }
        (dpos, dchan)
    };
    let mut dx = if need_dx {
        zeroed(n * c * l)
    } else {
        Vec::new()
    };
    let parts: Vec<(Vec<f32>, Vec<f32>)> = if need_dx {
        dx.par_chunks_mut((CHUNK * c * l).max(1))
            .enumerate()
            .map(|(chunk, dx_chunk)| chunk_grads(chunk, Some(dx_chunk)))
            .collect()
    } else {
        (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| chunk_grads(chunk, None))
            .collect()
    };
    let mut dpos = vec![0.0f32; u * l];
    let mut dchan = vec![0.0f32; u * c];
    for (dpos_part, dchan_part) in parts {
        dpos.iter_mut().zip(&dpos_part).for_each(|(a, b)| *a += b);
        dchan.iter_mut().zip(&dchan_part).for_each(|(a, b)| *a += b);
    }
    (need_dx.then_some(dx), dpos, dchan)
}
