//! The CPU backend's convolution forward for input with at most one nonzero channel at each
//! position, as one-hot DNA is (N encodes as all zeros, an IUPAC code as one channel is still
//! one). Each output is then a sum of `K` weights picked by the channels under the taps,
//! scaled by their values, instead of a sum of `K*C` products:
//!
//! ```text
//! y[f, i] = b[f] + sum_k v[i + k*dil] w[f, c[i + k*dil], k]
//! ```
//!
//! where padded input position `p` holds the value `v[p]` in channel `c[p]` (`v[p] = 0` where
//! all channels are 0, padding included). With AVX-512 a vector of 16 consecutive outputs of
//! one filter takes one permute per tap (picking 16 weights at once from a register that holds
//! the tap's weights over the channels) and one multiply-add, and is written channels-first
//! straight away: no frames, no transposes. An example with a position of two or more nonzero
//! channels is left to the caller ([`conv1d_example`] says so), and so is every example when a
//! weight is not finite (a zero input must still meet it, as in the full sum).

use super::transpose::Epilogue;
use crate::backend::Conv1dSpec;
use crate::backend::shapes::ConvDims;

/// Channels a pick can choose from: one 16-lane vector.
const LANES: usize = 16;

/// Whether picking pays and is exact for `d` and `w (F, C, K)`: fewer than 16 channels (from
/// 16 on, [`fast_winograd`](super::fast_winograd) is the faster path for dense input) and every
/// weight finite.
pub fn applies(d: ConvDims, w: &[f32]) -> bool {
    d.c < LANES && w.iter().all(|v| v.is_finite())
}

/// The weights `(F, C, K)` as one 16-lane row per tap and filter, `(K, F, 16)`: lane `c` holds
/// `w[f, c, k]`, lanes from `C` on are zero.
pub struct Picks {
    rows: Vec<f32>,
}

impl Picks {
    /// Lays out `w (F, C, K)`.
    pub fn new(w: &[f32], d: ConvDims) -> Self {
        let mut rows = vec![0.0f32; d.f * d.k * LANES];
        for f in 0..d.f {
            for c in 0..d.c {
                for k in 0..d.k {
                    rows[(k * d.f + f) * LANES + c] = w[(f * d.c + c) * d.k + k];
                }
            }
        }
        Self { rows }
    }
}

/// One example's padded input as a channel and a value per position, with [`LANES`] zero
/// positions of slack at the end (a vector of outputs reads up to 15 positions past the last
/// output's window); `false` where a position has two or more nonzero channels.
fn encode(
    x: &[f32],
    d: ConvDims,
    spec: Conv1dSpec,
    channel: &mut Vec<u32>,
    value: &mut Vec<f32>,
) -> bool {
    let padded = spec.pad_left + d.l + spec.pad_right + LANES;
    channel.clear();
    channel.resize(padded, 0);
    value.clear();
    value.resize(padded, 0.0);
    let mut shared = false;
    let (channel, value) = (&mut channel[spec.pad_left..], &mut value[spec.pad_left..]);
    for c in 0..d.c {
        let row = &x[c * d.l..(c + 1) * d.l];
        // without branches, so that it vectorises
        for ((&v, value), channel) in row.iter().zip(value.iter_mut()).zip(channel.iter_mut()) {
            let nonzero = v != 0.0;
            shared |= nonzero & (*value != 0.0);
            *value = if nonzero { v } else { *value };
            *channel = if nonzero { c as u32 } else { *channel };
        }
    }
    !shared
}

/// The convolution of the `m` examples of `x_chunk (m, C, L)` into `out (m, F, L_out)`, each
/// value passed through `epilogue`, for every example whose positions each have at most one
/// nonzero channel; returns the others, in order, their outputs untouched. Every weight of
/// `picks` must be finite ([`applies`]).
pub fn conv1d_chunk(
    x_chunk: &[f32],
    m: usize,
    picks: &Picks,
    d: ConvDims,
    spec: Conv1dSpec,
    out: &mut [f32],
    epilogue: Epilogue,
) -> Vec<usize> {
    let (mut channel, mut value) = (Vec::new(), Vec::new());
    let mut refused = Vec::new();
    let examples = x_chunk
        .chunks_exact(d.c * d.l)
        .zip(out.chunks_exact_mut(d.f * d.l_out));
    for (e, (x, out)) in examples.enumerate().take(m) {
        if !encode(x, d, spec, &mut channel, &mut value) {
            refused.push(e);
            continue;
        }
        let encoded = Encoded {
            channel: &channel,
            value: &value,
            dilation: spec.dilation,
        };
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above); `convolve` checks its bounds.
            unsafe { avx512::convolve(encoded, picks, d, out, epilogue) };
            continue;
        }
        portable(encoded, picks, d, out, epilogue);
    }
    refused
}

/// An example's padded input as [`encode`] writes it.
#[derive(Clone, Copy)]
struct Encoded<'a> {
    channel: &'a [u32],
    value: &'a [f32],
    dilation: usize,
}

/// [`conv1d_chunk`]'s sums one output at a time, on any CPU.
fn portable(x: Encoded, picks: &Picks, d: ConvDims, out: &mut [f32], epilogue: Epilogue) {
    for (f, y) in out.chunks_exact_mut(d.l_out.max(1)).enumerate().take(d.f) {
        for (i, y) in y.iter_mut().enumerate() {
            let mut sum = 0.0f32;
            for k in 0..d.k {
                let p = i + k * x.dilation;
                let weights = &picks.rows[(k * d.f + f) * LANES..];
                sum += x.value[p] * weights[x.channel[p] as usize];
            }
            *y = epilogue.apply(f, sum);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{ConvDims, Encoded, Epilogue, LANES, Picks};

    /// [`super::portable`] 16 outputs at a time.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn convolve(
        x: Encoded,
        picks: &Picks,
        d: ConvDims,
        out: &mut [f32],
        epilogue: Epilogue,
    ) {
        let reach = (d.k - 1) * x.dilation;
        assert!(out.len() == d.f * d.l_out && picks.rows.len() == d.f * d.k * LANES);
        assert!(x.value.len() >= d.l_out.div_ceil(LANES) * LANES + reach);
        assert!(x.channel.len() == x.value.len());
        let whole = d.f / FILTERS * FILTERS;
        for i in (0..d.l_out).step_by(LANES) {
            for f in (0..whole).step_by(FILTERS) {
                // SAFETY: as this function's.
                unsafe { outputs::<FILTERS>(x, picks, d, f, i, out, epilogue) };
            }
            for f in whole..d.f {
                // SAFETY: as this function's.
                unsafe { outputs::<1>(x, picks, d, f, i, out, epilogue) };
            }
        }
    }

    /// Filters whose sums run side by side: independent chains of multiply-adds hide each
    /// one's latency.
    const FILTERS: usize = 8;

    /// Outputs `i .. i + 16` (those below `L_out`) of filters `f .. f + B`.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; the bounds are [`convolve`]'s.
    #[target_feature(enable = "avx512f")]
    unsafe fn outputs<const B: usize>(
        x: Encoded,
        picks: &Picks,
        d: ConvDims,
        f: usize,
        i: usize,
        out: &mut [f32],
        epilogue: Epilogue,
    ) {
        let mut sums = [_mm512_setzero_ps(); B];
        for k in 0..d.k {
            let p = i + k * x.dilation;
            // SAFETY: `p + 16 <= i + 16 + reach`, inside `value` and `channel` by
            // `convolve`'s asserts; rows `k * F + f + j` of `picks` hold 16 floats each.
            unsafe {
                let channels = _mm512_loadu_si512(x.channel.as_ptr().add(p).cast());
                let values = _mm512_loadu_ps(x.value.as_ptr().add(p));
                let rows = picks.rows.as_ptr().add((k * d.f + f) * LANES);
                for (j, sum) in sums.iter_mut().enumerate() {
                    let row = rows.add(j * LANES);
                    let picked = _mm512_permutexvar_ps(channels, _mm512_loadu_ps(row));
                    *sum = _mm512_fmadd_ps(picked, values, *sum);
                }
            }
        }
        let floor = _mm512_set1_ps(epilogue.floor.unwrap_or(f32::NEG_INFINITY));
        let width = (d.l_out - i).min(LANES);
        let mask: __mmask16 = if width == LANES {
            0xFFFF
        } else {
            (1 << width) - 1
        };
        for (j, sum) in sums.into_iter().enumerate() {
            let bias = _mm512_set1_ps(epilogue.bias.map_or(0.0, |b| b[f + j]));
            let v = _mm512_max_ps(_mm512_add_ps(sum, bias), floor);
            // SAFETY: the mask keeps the store inside row `f + j` of `out`.
            unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr().add((f + j) * d.l_out + i), mask, v) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::kernels;

    /// The portable sums (the path of CPUs without AVX-512, taken here whatever this one has)
    /// against the reference convolution, on one-hot input with N positions and an IUPAC
    /// value, padded and dilated, with bias and relu.
    #[test]
    fn portable_sums_match_the_reference() {
        let (c, l, f, k) = (4, 23, 3, 5);
        let spec = Conv1dSpec {
            pad_left: 2,
            pad_right: 3,
            dilation: 2,
        };
        let l_out = spec.pad_left + l + spec.pad_right - (k - 1) * spec.dilation;
        let d = ConvDims {
            n: 1,
            c,
            l,
            f,
            k,
            l_out,
        };
        let mut x = vec![0.0f32; c * l];
        for p in 0..l {
            match p % 7 {
                3 => {}                  // N
                5 => x[2 * l + p] = 0.5, // one channel of an IUPAC code
                _ => x[((p * 5) % c) * l + p] = 1.0,
            }
        }
        let w: Vec<f32> = (0..f * c * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b = [0.1, -0.2, 0.3];
        let mut expected = kernels::conv1d(&x, &w, &b, d, spec);
        expected.iter_mut().for_each(|v| *v = v.max(0.0));
        let (mut channel, mut value) = (Vec::new(), Vec::new());
        assert!(encode(&x, d, spec, &mut channel, &mut value));
        let encoded = Encoded {
            channel: &channel,
            value: &value,
            dilation: spec.dilation,
        };
        let mut got = vec![f32::NAN; f * l_out];
        let epilogue = Epilogue {
            bias: Some(&b),
            floor: Some(0.0),
        };
        portable(encoded, &Picks::new(&w, d), d, &mut got, epilogue);
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!(
                (g - e).abs() <= 1e-6 * e.abs().max(1.0),
                "output {i}: {g} vs {e}"
            );
        }
    }

    /// A position with two nonzero channels is refused, whatever their order.
    #[test]
    fn two_nonzero_channels_at_a_position_are_refused() {
        let d = ConvDims {
            n: 1,
            c: 4,
            l: 3,
            f: 1,
            k: 1,
            l_out: 3,
        };
        let mut x = vec![0.0f32; 12];
        x[1] = 1.0; // channel 0, position 1
        x[3 * 3 + 1] = -0.5; // channel 3, position 1
        let (mut channel, mut value) = (Vec::new(), Vec::new());
        assert!(!encode(
            &x,
            d,
            Conv1dSpec::valid(1),
            &mut channel,
            &mut value
        ));
        x[3 * 3 + 1] = 0.0;
        assert!(encode(
            &x,
            d,
            Conv1dSpec::valid(1),
            &mut channel,
            &mut value
        ));
    }
}
