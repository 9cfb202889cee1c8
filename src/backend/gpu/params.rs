//! The kernels' parameter blocks as typed structs, one per WGSL `...Params` struct, with the
//! same field names, order and types (`u32` or `f32`). `tests/shaders.rs` compares each with
//! naga's reflection of its shader, so a field added, moved or retyped on one side only fails
//! on every machine, not only on a GPU.

use crate::{Error, Result};

/// A parameter block a kernel reads at binding 0.
pub trait ShaderParams: bytemuck::Pod {
    /// The WGSL struct it mirrors.
    const WGSL_STRUCT: &'static str;
    /// The shader file (stem) that declares it.
    const SHADER: &'static str;
    /// Its fields in order: name, byte offset, WGSL scalar type.
    const FIELDS: &'static [Field];
}

/// One field of a parameter block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The field's name, the same on both sides.
    pub name: &'static str,
    /// Byte offset from the struct's start.
    pub offset: usize,
    /// `u32` or `f32`.
    pub scalar: &'static str,
}

/// The WGSL name of a field's Rust type.
pub trait Scalar {
    /// `u32` or `f32`.
    const WGSL: &'static str;
}

impl Scalar for u32 {
    const WGSL: &'static str = "u32";
}

impl Scalar for f32 {
    const WGSL: &'static str = "f32";
}

/// A size as the u32 the kernels index with, or an error if it does not fit.
pub(crate) fn word(v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::TooLarge {
        bytes: v as u64 * 4,
        detail: format!("size {v} does not fit the kernels' 32-bit indices"),
    })
}

macro_rules! params {
    ($(#[$doc:meta])* $name:ident in $shader:literal { $($(#[$fdoc:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty),*
        }

        impl ShaderParams for $name {
            const WGSL_STRUCT: &'static str = stringify!($name);
            const SHADER: &'static str = $shader;
            const FIELDS: &'static [Field] = &[$(Field {
                name: stringify!($field),
                offset: std::mem::offset_of!($name, $field),
                scalar: <$ty as Scalar>::WGSL,
            }),*];
        }
    };
}

params! {
    /// `conv1d.wgsl`: a convolution over a chunk of `n` sequences.
    ConvParams in "conv1d" {
        /// Sequences in the chunk.
        n: u32,
        /// Input channels.
        c: u32,
        /// Input length.
        l: u32,
        /// Filters.
        f: u32,
        /// Kernel width.
        k: u32,
        /// Output length.
        l_out: u32,
        /// Zeros before the input.
        pad_left: u32,
        /// Spacing of the taps.
        dilation: u32,
        /// 1: `reduce_weight` adds to the gradient already there (a later chunk).
        accumulate: u32,
        /// 1: `forward` applies relu after the bias.
        relu: u32,
        /// First output column of this dispatch.
        col0: u32,
        /// `backward_weight`: reduction entries per split.
        span: u32,
        /// `backward_weight`: number of splits.
        splits: u32,
    }
}

params! {
    /// `dense.wgsl`: a dense layer over a chunk of `n` rows.
    DenseParams in "dense" {
        /// Rows in the chunk.
        n: u32,
        /// Input features.
        i: u32,
        /// Output units.
        o: u32,
        /// 1: add to the gradient already there (a later chunk).
        accumulate: u32,
    }
}

params! {
    /// `elementwise.wgsl`: a map over a range of elements.
    EltParams in "elementwise" {
        /// Elements in the range.
        len: u32,
        /// Dropout seed.
        seed: u32,
        /// Fill value, scale factor or dropout rate.
        a: f32,
        /// Index of the range's first element in the whole tensor.
        base: u32,
    }
}

params! {
    /// `loss.wgsl`: masked binary cross-entropy.
    LossParams in "loss" {
        /// Entries.
        len: u32,
        /// The loss: 0 binary cross-entropy, 1 squared error, 2 Poisson.
        kind: u32,
        /// Padding.
        _pad1: u32,
        /// Padding.
        _pad2: u32,
    }
}

params! {
    /// `maxpool.wgsl`: max pooling of `rows` rows.
    PoolParams in "maxpool" {
        /// Rows (examples times channels).
        rows: u32,
        /// Input length.
        l: u32,
        /// Output length.
        l_out: u32,
        /// Window.
        size: u32,
        /// Step between windows.
        stride: u32,
    }
}

params! {
    /// `deeplift.wgsl`: DeepLIFT's multipliers through relu or sigmoid.
    DeepLiftParams in "deeplift" {
        /// Values in one half.
        half: u32,
        /// 0 relu, 1 sigmoid.
        kind: u32,
        /// Padding.
        _pad0: u32,
        /// Padding.
        _pad1: u32,
    }
}

params! {
    /// `optim.wgsl`: an SGD (`len`, `lr`) or Adam step over a range of elements.
    OptParams in "optim" {
        /// Elements in the range.
        len: u32,
        /// Learning rate.
        lr: f32,
        /// First-moment decay.
        beta1: f32,
        /// Second-moment decay.
        beta2: f32,
        /// Added to the denominator.
        eps: f32,
        /// L2 penalty added to the gradient.
        weight_decay: f32,
        /// `1 - beta1^t`.
        correction1: f32,
        /// `1 - beta2^t`.
        correction2: f32,
    }
}

params! {
    /// `optim.wgsl`: the curvature constraint on `rows` rows of `s` weights.
    CurvParams in "optim" {
        /// Rows.
        rows: u32,
        /// Stored weights per row.
        s: u32,
        /// Bound on the absolute second difference.
        max: f32,
        /// Padding to 16 bytes.
        _pad: u32,
    }
}

params! {
    /// `reduce.wgsl`: a mean, or differences along rows.
    ReduceParams in "reduce" {
        /// Mean: elements; diff: rows.
        len: u32,
        /// Mean: 0 plain, 1 abs, 2 square; diff: row length of the undifferenced input.
        kind: u32,
        /// Diff: 1 or 2.
        order: u32,
        /// Padding to 16 bytes.
        _pad: u32,
    }
}

params! {
    /// `separable.wgsl`: the separable contraction over a chunk of `n` sequences.
    SepParams in "separable" {
        /// Sequences in the chunk.
        n: u32,
        /// Channels.
        c: u32,
        /// Positions.
        l: u32,
        /// Units.
        u: u32,
        /// 1: `reduce_params` adds to the gradient already there (a later chunk).
        accumulate: u32,
        /// `backward_params`: sequences per split.
        span: u32,
        /// `backward_params`: number of splits.
        splits: u32,
    }
}

params! {
    /// `sharing.wgsl`: reverse-complement and mirror weight sharing.
    ShareParams in "sharing" {
        /// rc: stored rows F; mirror: rows R.
        rows: u32,
        /// rc: values per row (C * K); mirror: full length n.
        inner: u32,
        /// Padding to 16 bytes.
        _pad0: u32,
        /// Padding.
        _pad1: u32,
    }
}

/// The shader structs the `params!` declarations above mirror, for the reflection test:
/// `(shader, struct, fields, size in bytes)`.
pub fn all() -> Vec<(&'static str, &'static str, &'static [Field], usize)> {
    fn entry<P: ShaderParams>() -> (&'static str, &'static str, &'static [Field], usize) {
        (P::SHADER, P::WGSL_STRUCT, P::FIELDS, size_of::<P>())
    }
    vec![
        entry::<ConvParams>(),
        entry::<DeepLiftParams>(),
        entry::<DenseParams>(),
        entry::<EltParams>(),
        entry::<LossParams>(),
        entry::<PoolParams>(),
        entry::<OptParams>(),
        entry::<CurvParams>(),
        entry::<ReduceParams>(),
        entry::<SepParams>(),
        entry::<ShareParams>(),
    ]
}
