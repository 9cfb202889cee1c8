//! Shape rules and small pieces of op semantics that both backends share, so that the CPU
//! reference and the GPU kernels cannot disagree about them.

use crate::backend::AdamStep;
use crate::{Error, Result};

/// Padding and dilation of a 1-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv1dSpec {
    /// Zeros added before the first position.
    pub pad_left: usize,
    /// Zeros added after the last position.
    pub pad_right: usize,
    /// Spacing between kernel taps (1 = contiguous).
    pub dilation: usize,
}

impl Conv1dSpec {
    /// No padding: the output is `(K - 1) * dilation` shorter than the input.
    pub fn valid(dilation: usize) -> Self {
        Self {
            pad_left: 0,
            pad_right: 0,
            dilation,
        }
    }

    /// Output as long as the input: `(K - 1) * dilation` zeros, the smaller half on the left
    /// (PyTorch's `padding="same"`).
    pub fn same(kernel_size: usize, dilation: usize) -> Self {
        let total = kernel_size.saturating_sub(1) * dilation;
        Self {
            pad_left: total / 2,
            pad_right: total - total / 2,
            dilation,
        }
    }
}

/// Window and stride of a max pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSpec {
    /// Window length.
    pub size: usize,
    /// Step between windows.
    pub stride: usize,
}

/// What [`Backend::mean`](super::Backend::mean) averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// `mean(x)`.
    Plain,
    /// `mean(|x|)`; the gradient at 0 is taken as 0.
    Abs,
    /// `mean(x^2)`.
    Square,
}

impl Reduction {
    /// The code the GPU kernel switches on.
    pub(crate) fn code(self) -> u32 {
        match self {
            Reduction::Plain => 0,
            Reduction::Abs => 1,
            Reduction::Square => 2,
        }
    }
}

/// An elementwise nonlinearity, for [`Backend::deeplift_rescale`](super::Backend::deeplift_rescale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nonlinearity {
    /// `max(x, 0)`; its derivative is taken as 0 at 0.
    Relu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
}

impl Nonlinearity {
    /// The code the GPU kernel switches on.
    pub(crate) fn code(self) -> u32 {
        match self {
            Nonlinearity::Relu => 0,
            Nonlinearity::Sigmoid => 1,
        }
    }
}

/// Below this difference between an input and its reference, DeepLIFT's multipliers fall back
/// to the gradient (captum's DeepLift uses the same).
pub const DEEPLIFT_EPS: f64 = 1e-10;

/// Checks that `shape` holds `pairs` inputs followed by their `pairs` references; returns the
/// elements of one half.
pub fn deeplift_half(op: &'static str, shape: &[usize], pairs: usize) -> Result<usize> {
    if shape.first() != Some(&(2 * pairs)) {
        return Err(Error::shape(
            op,
            format!(
                "expected {pairs} inputs and their {pairs} references along the first dimension, got {shape:?}"
            ),
        ));
    }
    Ok(shape.iter().product::<usize>() / 2)
}

/// Sizes of a convolution, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvDims {
    /// Batch.
    pub n: usize,
    /// Input channels.
    pub c: usize,
    /// Input length.
    pub l: usize,
    /// Output channels (filters).
    pub f: usize,
    /// Kernel width.
    pub k: usize,
    /// Output length.
    pub l_out: usize,
}

fn expect_rank(op: &'static str, what: &str, shape: &[usize], rank: usize) -> Result<()> {
    if shape.len() != rank {
        return Err(Error::shape(
            op,
            format!("{what} must have {rank} dimensions, got {shape:?}"),
        ));
    }
    Ok(())
}

/// Checks that two shapes are equal.
pub fn expect_same(op: &'static str, a: &[usize], b: &[usize]) -> Result<()> {
    if a != b {
        return Err(Error::shape(op, format!("shapes {a:?} and {b:?} differ")));
    }
    Ok(())
}

/// Checks `x (N, C, L)`, `w (F, C, K)`, `b (F)` and the spec; returns the sizes.
pub fn conv1d_dims(x: &[usize], w: &[usize], b: &[usize], spec: Conv1dSpec) -> Result<ConvDims> {
    const OP: &str = "conv1d";
    expect_rank(OP, "input", x, 3)?;
    expect_rank(OP, "weight", w, 3)?;
    expect_rank(OP, "bias", b, 1)?;
    let (n, c, l) = (x[0], x[1], x[2]);
    let (f, wc, k) = (w[0], w[1], w[2]);
    if wc != c {
        return Err(Error::shape(
            OP,
            format!("input has {c} channels but weight {w:?} expects {wc}"),
        ));
    }
    if b[0] != f {
        return Err(Error::shape(
            OP,
            format!("bias {b:?} does not match {f} filters"),
        ));
    }
    if k == 0 || spec.dilation == 0 || f == 0 {
        return Err(Error::invalid(
            OP,
            format!(
                "kernel size {k}, dilation {} and filters {f} must be positive",
                spec.dilation
            ),
        ));
    }
    let span = (k - 1) * spec.dilation + 1;
    let padded = l + spec.pad_left + spec.pad_right;
    if padded < span {
        return Err(Error::shape(
            OP,
            format!("input length {l} (padded {padded}) is shorter than the kernel span {span}"),
        ));
    }
    Ok(ConvDims {
        n,
        c,
        l,
        f,
        k,
        l_out: padded - span + 1,
    })
}

/// Sizes of a pooling, checked: `(N, C, L, L_out)`.
pub fn pool_dims(x: &[usize], spec: PoolSpec) -> Result<[usize; 4]> {
    const OP: &str = "maxpool1d";
    expect_rank(OP, "input", x, 3)?;
    if spec.size == 0 || spec.stride == 0 {
        return Err(Error::invalid(OP, "pool size and stride must be positive"));
    }
    if x[2] < spec.size {
        return Err(Error::shape(
            OP,
            format!(
                "input length {} is shorter than the pool {}",
                x[2], spec.size
            ),
        ));
    }
    Ok([x[0], x[1], x[2], (x[2] - spec.size) / spec.stride + 1])
}

/// Checks `x (N, C, L)`, `pos (U, L)`, `chan (U, C)`; returns `(N, C, L, U)`.
pub fn separable_dims(x: &[usize], pos: &[usize], chan: &[usize]) -> Result<[usize; 4]> {
    const OP: &str = "separable_fc";
    expect_rank(OP, "input", x, 3)?;
    expect_rank(OP, "positional weights", pos, 2)?;
    expect_rank(OP, "channel weights", chan, 2)?;
    let (n, c, l) = (x[0], x[1], x[2]);
    let u = pos[0];
    if pos[1] != l || chan[0] != u || chan[1] != c {
        return Err(Error::shape(
            OP,
            format!(
                "input {x:?} needs pos (units, {l}) and chan (units, {c}) with equal units, got pos {pos:?} and chan {chan:?}"
            ),
        ));
    }
    Ok([n, c, l, u])
}

/// Checks `x (N, I)`, `w (O, I)`, `b (O)`; returns `(N, I, O)`.
pub fn dense_dims(x: &[usize], w: &[usize], b: &[usize]) -> Result<[usize; 3]> {
    const OP: &str = "dense";
    expect_rank(OP, "input", x, 2)?;
    expect_rank(OP, "weight", w, 2)?;
    expect_rank(OP, "bias", b, 1)?;
    if w[1] != x[1] || b[0] != w[0] {
        return Err(Error::shape(
            OP,
            format!("input {x:?}, weight {w:?} and bias {b:?} do not fit x w^T + b"),
        ));
    }
    Ok([x[0], x[1], w[0]])
}

/// Checks `a (M, K)` and `b (K, N)` of a matrix product; returns `(M, K, N)`.
pub fn matmul_dims(a: &[usize], b: &[usize]) -> Result<[usize; 3]> {
    const OP: &str = "matmul";
    expect_rank(OP, "left operand", a, 2)?;
    expect_rank(OP, "right operand", b, 2)?;
    if a[1] != b[0] {
        return Err(Error::shape(
            OP,
            format!("{a:?} times {b:?}: the inner dimensions differ"),
        ));
    }
    Ok([a[0], a[1], b[1]])
}

/// Checks a rank-3 `(2F, C, K)` shape (or `(2F)`) for [`rc_fold`](super::Backend::rc_fold) and
/// [`rc_expand`](super::Backend::rc_expand); returns `(F_in, C * K)` where `F_in` is the number
/// of rows of the given tensor.
pub fn rc_dims(op: &'static str, shape: &[usize], folding: bool) -> Result<[usize; 2]> {
    if shape.is_empty() || shape.len() > 3 || shape[0] == 0 {
        return Err(Error::shape(
            op,
            format!("expected (filters, channels, width) or (filters), got {shape:?}"),
        ));
    }
    if folding && !shape[0].is_multiple_of(2) {
        return Err(Error::shape(
            op,
            format!(
                "an odd number of rows ({}) cannot be folded in pairs",
                shape[0]
            ),
        ));
    }
    Ok([shape[0], shape[1..].iter().product()])
}

/// Checks a rank-2 `(R, S)` shape; returns `(R, S)`.
pub fn rows_dims(op: &'static str, shape: &[usize]) -> Result<[usize; 2]> {
    expect_rank(op, "input", shape, 2)?;
    Ok([shape[0], shape[1]])
}

/// Checks the rate of a dropout.
pub fn check_dropout_rate(rate: f32) -> Result<()> {
    if !(0.0..1.0).contains(&rate) {
        return Err(Error::invalid(
            "dropout",
            format!("rate {rate} must be in [0, 1)"),
        ));
    }
    Ok(())
}

/// Checks the bound of the curvature constraint: finite and not negative.
pub fn check_curvature_max(max: f32) -> Result<()> {
    if !(max.is_finite() && max >= 0.0) {
        return Err(Error::invalid(
            "curvature_constraint",
            format!("the bound on second differences must be finite and >= 0, got {max}"),
        ));
    }
    Ok(())
}

/// Checks Adam's hyperparameters: a 1-based step, decays in `[0, 1)`, a positive `eps`.
pub fn check_adam(h: &AdamStep) -> Result<()> {
    let decays_ok = (0.0..1.0).contains(&h.beta1) && (0.0..1.0).contains(&h.beta2);
    let eps_ok = h.eps.is_finite() && h.eps > 0.0;
    if h.step == 0 || !decays_ok || !eps_ok || !h.lr.is_finite() {
        return Err(Error::invalid(
            "adam_step",
            format!(
                "needs step >= 1, betas in [0, 1), eps > 0 and a finite learning rate, got {h:?}"
            ),
        ));
    }
    Ok(())
}

/// Checks mirrored weights `(R, S)` against the full length `n`; returns `(R, S)`.
pub fn mirror_dims(shape: &[usize], n: usize) -> Result<[usize; 2]> {
    let [rows, s] = rows_dims("mirror_expand", shape)?;
    if n == 0 || s != n.div_ceil(2) {
        return Err(Error::shape(
            "mirror_expand",
            format!("{s} stored values cannot mirror to length {n} (needs ceil(n/2))"),
        ));
    }
    Ok([rows, s])
}

/// Checks the order of a difference against the row length `s`.
pub fn check_diff_order(order: usize, s: usize) -> Result<()> {
    if !(1..=2).contains(&order) {
        return Err(Error::invalid(
            "diff",
            format!("order {order} must be 1 or 2"),
        ));
    }
    if s <= order {
        return Err(Error::shape(
            "diff",
            format!("rows of length {s} have no differences of order {order}"),
        ));
    }
    Ok(())
}

/// A 32-bit integer hash (PCG output permutation), the same on CPU and GPU.
pub fn hash_u32(x: u32) -> u32 {
    let state = x.wrapping_mul(747_796_405).wrapping_add(2_891_136_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// Whether dropout keeps element `index` for `seed` at `rate`: a uniform draw in `[0, 1)`
/// with 24 bits of resolution, compared with `rate`. The seed enters twice so that the masks
/// of two seeds are not permutations of each other. `shaders/elementwise.wgsl` computes the
/// same function.
pub fn dropout_keep(seed: u32, index: u32, rate: f32) -> bool {
    let draw = hash_u32(hash_u32(index ^ hash_u32(seed)) ^ seed) >> 8;
    (draw as f32) * (1.0 / 16_777_216.0) >= rate
}

/// Checks that `len` values fill `shape` exactly.
pub fn expect_len(op: &'static str, len: usize, shape: &[usize]) -> Result<()> {
    if shape.iter().product::<usize>() != len {
        return Err(Error::shape(
            op,
            format!("{len} values cannot fill shape {shape:?}"),
        ));
    }
    Ok(())
}
