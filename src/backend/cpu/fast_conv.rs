//! The CPU backend's conv1d as one matrix product per chunk of examples, chunks in parallel.
//!
//! A chunk of `m` examples is laid out position-major (`(positions, channels)`, one row per
//! position) in frames: each example's padded input (`Lp = pad_left + L + pad_right`
//! positions, padding as zero rows) gets a frame of its own. A dilation `d` splits each
//! example into `d` phases (positions `r, r + d, r + 2d, ...`), each in a frame of its own:
//! a dilated convolution reads one phase at a time, so in every frame it is a plain one.
//! Tap `k` of an output row `j` then reads frame row `j + k`, and the `K` rows
//! `j .. j + K` are `K*C` consecutive values: the unrolled input (im2col) of a whole chunk is
//! a strided view of the frames with overlapping rows, multiplied without ever being written:
//!
//! ```text
//! y_frames  (W, F)   = x_windows (W, K*C)   w^T (K*C, F)          forward
//! dw^T      (K*C, F) = x_windows^T (K*C, W)  dy_frames (W, F)       weight gradient
//! dx_frames (W', C)  = dy_windows (W', K*F) w_flipped (K*F, C)    input gradient
//! ```
//!
//! Output rows that straddle two frames are computed and dropped. The input gradient reads
//! the output gradient in frames that start with `K - 1` zero rows, with the taps reversed.
//!
//! Work is split into fixed chunks of [`CHUNK`] examples whatever the thread count, and the
//! per-chunk weight gradients are summed in chunk order, so results are the same on every
//! machine and every run. [`kernels::conv1d`](super::kernels::conv1d) stays the reference
//! these functions are tested against.

use rayon::prelude::*;

use super::chunks::per_chunk;
use super::fast_elementwise::{to_overwrite, window_maxima};
use super::fast_one_hot::{self, Picks};
use super::fast_winograd::{self, Destination, Pooling, Transformed};
use super::gemm::{CHUNK, Matrix};
use super::narrow::matmul_narrow;
use super::scratch::Scratch;
use super::transpose::{Epilogue, Layout, transpose};
use crate::backend::shapes::ConvDims;
use crate::backend::{Conv1dSpec, PoolSpec};

/// Where the frames of a chunk of examples put their rows.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frames {
    /// Frames: examples times phases.
    count: usize,
    /// Dilation: phases per example.
    phases: usize,
    /// Rows per frame.
    len: usize,
}

impl Frames {
    /// Frames of `m` examples whose padded inputs need `extra` more rows each.
    pub(super) fn new(m: usize, d: ConvDims, spec: Conv1dSpec, extra: usize) -> Self {
        let padded = spec.pad_left + d.l + spec.pad_right;
        Frames {
            count: m * spec.dilation,
            phases: spec.dilation,
            len: padded.div_ceil(spec.dilation) + extra,
        }
    }

    pub(super) fn rows(&self) -> usize {
        self.count * self.len
    }

    /// Rows per example (all its phases).
    pub(super) fn example_rows(&self) -> usize {
        self.phases * self.len
    }

    /// Where positions `offset .. offset + len` of the first example go, `lead` rows into
    /// their frames, as runs of consecutive rows, one per phase: `(first position, first row,
    /// positions)`, the positions `dilation` apart. Example `i`'s rows are
    /// [`Frames::example_rows`]` * i` further on.
    fn runs(&self, offset: usize, len: usize, lead: usize) -> Vec<(usize, usize, usize)> {
        let d = self.phases;
        (0..d.min(len))
            .map(|j| {
                let s = offset + j;
                let count = (len - j).div_ceil(d);
                (j, (s % d) * self.len + lead + s / d, count)
            })
            .collect()
    }

    /// `src (m, channels, len)` in frames: `(rows, channels)`, position `p` of example `i`
    /// at the row [`Frames::runs`] gives it, zeros elsewhere.
    pub(super) fn fill(
        &self,
        src: &[f32],
        channels: usize,
        len: usize,
        offset: usize,
        lead: usize,
    ) -> Scratch {
        let mut out = Scratch::take(self.rows() * channels);
        let runs = self.runs(offset, len, lead);
        // the rows no position lands in (padding, lead rows, phase ends), in row order
        let mut by_row: Vec<(usize, usize)> = runs.iter().map(|&(_, r, n)| (r, n)).collect();
        by_row.sort_unstable();
        for (i, example) in out
            .chunks_exact_mut((self.example_rows() * channels).max(1))
            .enumerate()
        {
            let mut filled = 0;
            for &(row0, count) in &by_row {
                example[filled * channels..row0 * channels].fill(0.0);
                filled = row0 + count;
            }
            example[filled * channels..].fill(0.0);
            let example_src = &src[i * channels * len..(i + 1) * channels * len];
            for &(p0, row0, count) in &runs {
                let (positions, rows) = self.run_layouts(channels, len, count);
                let dst = &mut example[row0 * channels..];
                transpose(
                    &example_src[p0..],
                    positions,
                    dst,
                    rows,
                    Epilogue::default(),
                );
            }
        }
        out
    }

    /// The inverse of [`Frames::fill`] for the rows it fills: `(m, channels, len)` read from
    /// `frames (rows, channels)`, each value passed through `epilogue` (its rows are channels).
    fn extract(
        &self,
        frames: &[f32],
        channels: usize,
        len: usize,
        offset: usize,
        dst: &mut [f32],
        epilogue: Epilogue,
    ) {
        let runs = self.runs(offset, len, 0);
        for (i, example) in dst.chunks_exact_mut(channels * len).enumerate() {
            let src = &frames[i * self.example_rows() * channels..];
            for &(p0, row0, count) in &runs {
                let (positions, rows) = self.run_layouts(channels, len, count);
                transpose(
                    &src[row0 * channels..],
                    rows,
                    &mut example[p0..],
                    positions,
                    epilogue,
                );
            }
        }
    }

    /// A run of `count` positions, `dilation` apart, of a `(channels, len)` example, and the
    /// `count` frame rows of `channels` values it goes to.
    fn run_layouts(&self, channels: usize, len: usize, count: usize) -> (Layout, Layout) {
        let positions = Layout {
            rows: channels,
            cols: count,
            row_stride: len,
            col_stride: self.phases,
        };
        let rows = Layout {
            rows: count,
            cols: channels,
            row_stride: channels,
            col_stride: 1,
        };
        (positions, rows)
    }
}

/// The `K` consecutive rows of `frames (rows, channels)` starting at each of the first
/// `rows - (K - 1)` rows: a `(rows - K + 1, K * channels)` view with overlapping rows.
fn windows(frames: &[f32], rows: usize, channels: usize, k: usize) -> Matrix<'_> {
    Matrix::strided(frames, rows + 1 - k, k * channels, channels, 1)
}

/// `w (F, C, K)` reordered as `(K*C, F)`: entry `(k*C + c, f)` is `w[f, c, k]`; with `flip`,
/// as `(K*F, C)`: entry `(k*F + f, c)` is `w[f, c, K - 1 - k]`.
fn reorder(w: &[f32], d: ConvDims, flip: bool) -> Vec<f32> {
    let mut out = vec![0.0f32; w.len()];
    for f in 0..d.f {
        for c in 0..d.c {
            for k in 0..d.k {
                let v = w[(f * d.c + c) * d.k + k];
                if flip {
                    out[((d.k - 1 - k) * d.f + f) * d.c + c] = v;
                } else {
                    out[(k * d.c + c) * d.f + f] = v;
                }
            }
        }
    }
    out
}

/// How a forward pass multiplies: the plain product over overlapping windows, Winograd's
/// transformed products ([`fast_winograd`](super::fast_winograd)) or weights picked by one-hot
/// input ([`fast_one_hot`](super::fast_one_hot)) where they pay.
enum Forward {
    /// `w` reordered as `(K*C, F)`.
    Plain(Vec<f32>),
    /// `w` transformed for Winograd's products.
    Transformed(Transformed),
    /// `w` laid out for picking, and reordered as for `Plain` for the examples that are not
    /// one-hot.
    Picked(Picks, Vec<f32>),
}

impl Forward {
    fn new(w: &[f32], d: ConvDims, spec: Conv1dSpec) -> Self {
        if fast_winograd::applies(d, spec) {
            Forward::Transformed(Transformed::new(w, d))
        } else if fast_one_hot::applies(d, w) {
            Forward::Picked(Picks::new(w, d), reorder(w, d, false))
        } else {
            Forward::Plain(reorder(w, d, false))
        }
    }

    /// The convolution of the `m` examples of `x_chunk (m, C, L)` into `out`: `(m, F, L_out)`,
    /// or `(m, F, L_pool)` pooled, each value passed through the epilogue.
    fn chunk(&self, x_chunk: &[f32], m: usize, d: ConvDims, spec: Conv1dSpec, out: Destination) {
        let (pool, epilogue) = match (self, out.pool) {
            (_, None) => return self.unpooled(x_chunk, m, d, spec, out.values, out.epilogue),
            // the transformed products pool position-major rows on their own
            (Forward::Transformed(t), Some(_)) => {
                return fast_winograd::conv1d_chunk(x_chunk, m, t, d, spec, out);
            }
            (_, Some(pool)) => (pool, out.epilogue),
        };
        // the chunk's unpooled activation stays in a per-thread scratch buffer
        let mut unpooled = Scratch::take(m * d.f * d.l_out);
        self.unpooled(x_chunk, m, d, spec, &mut unpooled, epilogue);
        for (pooled, row) in out
            .values
            .chunks_exact_mut(pool.len)
            .zip(unpooled.chunks_exact(d.l_out))
        {
            window_maxima(row, pool.spec, pooled);
        }
    }

    /// [`Forward::chunk`] without pooling: `out (m, F, L_out)`.
    fn unpooled(
        &self,
        x_chunk: &[f32],
        m: usize,
        d: ConvDims,
        spec: Conv1dSpec,
        out: &mut [f32],
        epilogue: Epilogue,
    ) {
        match self {
            Forward::Transformed(t) => {
                let out = Destination {
                    values: out,
                    epilogue,
                    pool: None,
                };
                fast_winograd::conv1d_chunk(x_chunk, m, t, d, spec, out);
            }
            Forward::Plain(weight) => plain_chunk(weight, x_chunk, m, d, spec, out, epilogue),
            Forward::Picked(picks, weight) => {
                let refused = fast_one_hot::conv1d_chunk(x_chunk, m, picks, d, spec, out, epilogue);
                let (x_size, y_size) = (d.c * d.l, d.f * d.l_out);
                for e in refused {
                    let x = &x_chunk[e * x_size..(e + 1) * x_size];
                    let y = &mut out[e * y_size..(e + 1) * y_size];
                    plain_chunk(weight, x, 1, d, spec, y, epilogue);
                }
            }
        }
    }
}

/// [`Forward::chunk`] as one product over overlapping windows of the chunk's frames, with `w`
/// reordered as `(K*C, F)`.
fn plain_chunk(
    weight: &[f32],
    x_chunk: &[f32],
    m: usize,
    d: ConvDims,
    spec: Conv1dSpec,
    out: &mut [f32],
    epilogue: Epilogue,
) {
    let g = Frames::new(m, d, spec, 0);
    let frames = g.fill(x_chunk, d.c, d.l, spec.pad_left, 0);
    let input = windows(&frames, g.rows(), d.c, d.k);
    let mut product = Scratch::take(input.rows() * d.f);
    matmul_narrow(input, weight, d.f, &mut product);
    // (frame rows, F) -> (m, F, L_out), adding the bias (and clamping at 0)
    g.extract(&product, d.f, d.l_out, 0, out, epilogue);
}

/// `y[n,f,lo] = b[f] + sum_c sum_k w[f,c,k] x[n,c,lo + k*dil - pad_left]`, as
/// [`kernels::conv1d`](super::kernels::conv1d), followed by relu when `relu` is set.
pub fn conv1d(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    d: ConvDims,
    spec: Conv1dSpec,
    relu: bool,
) -> Vec<f32> {
    let mut y = to_overwrite(d.n * d.f * d.l_out);
    if y.is_empty() {
        return y;
    }
    let epilogue = Epilogue {
        bias: Some(b),
        floor: relu.then_some(0.0),
    };
    let forward = Forward::new(w, d, spec);
    y.par_chunks_mut(CHUNK * d.f * d.l_out)
        .zip(x.par_chunks(CHUNK * d.c * d.l))
        .for_each(|(y_chunk, x_chunk)| {
            let m = y_chunk.len() / (d.f * d.l_out);
            let out = Destination {
                values: y_chunk,
                epilogue,
                pool: None,
            };
            forward.chunk(x_chunk, m, d, spec, out);
        });
    y
}

/// [`conv1d`] with relu, then max pooling `pool` to `l_pool` positions: `(N, F, l_pool)`.
/// Each chunk is pooled as it is computed ([`Forward::chunk`]); the whole `(N, F, L_out)`
/// activation is never written.
pub fn conv1d_relu_maxpool(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    d: ConvDims,
    spec: Conv1dSpec,
    pool: PoolSpec,
    l_pool: usize,
) -> Vec<f32> {
    let mut y = to_overwrite(d.n * d.f * l_pool);
    if y.is_empty() {
        return y;
    }
    let epilogue = Epilogue {
        bias: Some(b),
        floor: Some(0.0),
    };
    let forward = Forward::new(w, d, spec);
    y.par_chunks_mut(CHUNK * d.f * l_pool)
        .zip(x.par_chunks(CHUNK * d.c * d.l))
        .for_each(|(y_chunk, x_chunk)| {
            let m = y_chunk.len() / (d.f * l_pool);
            let out = Destination {
                values: y_chunk,
                epilogue,
                pool: Some(Pooling {
                    spec: pool,
                    len: l_pool,
                }),
            };
            forward.chunk(x_chunk, m, d, spec, out);
        });
    y
}

/// The gradient arriving at a convolution's output, `(N, F, L_out)`.
#[derive(Debug, Clone, Copy)]
pub struct OutputGrad<'a> {
    /// The upstream gradient.
    pub dy: &'a [f32],
    /// The output of a convolution fused with relu: `dy` counts only where it is positive.
    pub relu_output: Option<&'a [f32]>,
}

/// The output gradient of examples `first .. first + m` in frames that start with `K - 1`
/// zero rows (masked where the fused relu's output is not positive), and those frames.
fn grad_frames(
    grad: OutputGrad,
    d: ConvDims,
    spec: Conv1dSpec,
    first: usize,
    m: usize,
) -> (Frames, Scratch) {
    let lead = d.k - 1;
    let outputs = first * d.f * d.l_out..(first + m) * d.f * d.l_out;
    let dy_chunk = &grad.dy[outputs.clone()];
    let g = Frames::new(m, d, spec, lead);
    let frames = match grad.relu_output {
        None => g.fill(dy_chunk, d.f, d.l_out, 0, lead),
        Some(y) => {
            // the chunk's masked gradient stays in cache on its way into the frames
            let mut masked = Scratch::take(dy_chunk.len());
            let pairs = dy_chunk.iter().zip(&y[outputs]);
            for (out, (&g, &v)) in masked.iter_mut().zip(pairs) {
                *out = if v > 0.0 { g } else { 0.0 };
            }
            g.fill(&masked, d.f, d.l_out, 0, lead)
        }
    };
    (g, frames)
}

/// A chunk's input gradient `(m, C, L)` into `dx_chunk`, from its output gradient in frames
/// ([`grad_frames`]) and the flipped weights (`reorder(w, d, true)`).
fn input_grad_of_chunk(
    g: &Frames,
    grad_frames: &[f32],
    flipped: &[f32],
    d: ConvDims,
    spec: Conv1dSpec,
    dx_chunk: &mut [f32],
) {
    let grad_windows = windows(grad_frames, g.rows(), d.f, d.k);
    let mut product = Scratch::take(grad_windows.rows() * d.c);
    matmul_narrow(grad_windows, flipped, d.c, &mut product);
    g.extract(
        &product,
        d.c,
        d.l,
        spec.pad_left,
        dx_chunk,
        Epilogue::default(),
    );
}

/// Gradients of [`conv1d`] (or of [`conv1d`] with relu, masked by [`OutputGrad`]):
/// `(dx if need_dx, dw, db)`, as
/// [`kernels::conv1d_backward`](super::kernels::conv1d_backward).
pub fn conv1d_backward(
    x: &[f32],
    w: &[f32],
    grad: OutputGrad,
    d: ConvDims,
    spec: Conv1dSpec,
    need_dx: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let flipped = reorder(w, d, true);
    let lead = d.k - 1;
    // One chunk of examples: its (dw, db), and its input gradient written into `dx_chunk`.
    let chunk_grads = |chunk: usize, dx_chunk: Option<&mut [f32]>| {
        let first = chunk * CHUNK;
        let m = CHUNK.min(d.n - first);
        let x_chunk = &x[first * d.c * d.l..(first + m) * d.c * d.l];
        let (g, grad_frames) = grad_frames(grad, d, spec, first, m);
        // db: column sums of the frames (their zero rows add nothing), all F at once
        let mut db = vec![0.0f32; d.f];
        for row in grad_frames.chunks_exact(d.f.max(1)) {
            db.iter_mut().zip(row).for_each(|(a, v)| *a += v);
        }
        // dw: the output gradient read from row `lead` on lines up with the input windows
        let frames = g.fill(x_chunk, d.c, d.l, spec.pad_left, 0);
        let input = windows(&frames, g.rows(), d.c, d.k);
        let mut dw_t = Scratch::take(d.k * d.c * d.f);
        matmul_narrow(input.t(), &grad_frames[lead * d.f..], d.f, &mut dw_t);
        let mut dw = vec![0.0f32; d.f * d.c * d.k];
        for (kc, row) in dw_t.chunks(d.f).enumerate() {
            let (k, c) = (kc / d.c, kc % d.c);
            for (f, v) in row.iter().enumerate() {
                dw[(f * d.c + c) * d.k + k] = *v;
            }
        }
        if let Some(dx_chunk) = dx_chunk {
            input_grad_of_chunk(&g, &grad_frames, &flipped, d, spec, dx_chunk);
        }
        (dw, db)
    };
    let (dx, parts) = per_chunk(d.n, d.c * d.l, need_dx, chunk_grads);
    let mut dw = vec![0.0f32; d.f * d.c * d.k];
    let mut db = vec![0.0f32; d.f];
    for (dw_part, db_part) in parts {
        dw.iter_mut().zip(&dw_part).for_each(|(a, b)| *a += b);
        db.iter_mut().zip(&db_part).for_each(|(a, b)| *a += b);
    }
    (dx, dw, db)
}

/// The input gradient of [`conv1d`] alone, `(N, C, L)`: the `dx` of [`conv1d_backward`],
/// without the weight and bias gradients.
pub fn conv1d_input_grad(w: &[f32], grad: OutputGrad, d: ConvDims, spec: Conv1dSpec) -> Vec<f32> {
    let flipped = reorder(w, d, true);
    let (dx, _) = per_chunk(d.n, d.c * d.l, true, |chunk, dx_chunk| {
        let first = chunk * CHUNK;
        let m = CHUNK.min(d.n - first);
        let (g, grad_frames) = grad_frames(grad, d, spec, first, m);
        let dx_chunk = dx_chunk.expect("per_chunk hands out dx with need_dx");
        input_grad_of_chunk(&g, &grad_frames, &flipped, d, spec, dx_chunk);
    });
    dx.expect("need_dx was set")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames built in scratch that last held NaNs: every row no position lands in is zero,
    /// every other row holds its input position.
    #[test]
    fn frames_zero_the_rows_no_position_lands_in_whatever_the_scratch_held() {
        let (m, c, l) = (3, 2, 7);
        let spec = Conv1dSpec {
            pad_left: 3,
            pad_right: 2,
            dilation: 2,
        };
        let d = ConvDims {
            n: m,
            c,
            l,
            f: 1,
            k: 2,
            l_out: 0,
        };
        let lead = 1;
        let g = Frames::new(m, d, spec, lead);
        Scratch::take(4 * g.rows() * c).fill(f32::NAN);
        let x: Vec<f32> = (0..m * c * l).map(|i| i as f32 + 1.0).collect();
        let frames = g.fill(&x, c, l, spec.pad_left, lead);
        let mut expected = vec![0.0f32; g.rows() * c];
        for (i, example) in x.chunks_exact(c * l).enumerate() {
            for p in 0..l {
                let s = spec.pad_left + p;
                let row = i * g.example_rows() + (s % 2) * g.len + lead + s / 2;
                for ch in 0..c {
                    expected[row * c + ch] = example[ch * l + p];
                }
            }
        }
        assert_eq!(&frames[..], &expected[..]);
    }
}
