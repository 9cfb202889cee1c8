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
//! straight away: no frames, no transposes. Where every value is 0 or 1 and there are at most
//! 4 channels (DNA), one permute from a 32-lane row of the sums `w[f, a, k] + w[f, b, k + 1]`
//! picks two taps at once, and an add replaces the multiply-add. An example with a position of two or more nonzero
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

/// The weights `(F, C, K)` laid out for picking.
pub struct Picks {
    /// One 16-lane row per tap and filter, `(K, F, 16)`: lane `c` holds `w[f, c, k]`, lanes
    /// from `C` on are zero.
    rows: Vec<f32>,
    /// With at most [`PAIR_CHANNELS`] channels, one 32-lane row per pair of taps `(2j, 2j + 1)`
    /// and filter, `(K / 2, F, 32)`: lane `a (C + 1) + b` holds `w[f, a, 2j] + w[f, b, 2j + 1]`,
    /// channel `C` standing for a position of zeros (weight 0).
    pairs: Option<Vec<f32>>,
}

/// The most channels for which pairs of taps fit a 32-lane row: `(C + 1)^2 <= 32`.
const PAIR_CHANNELS: usize = 4;

impl Picks {
    /// Lays out `w (F, C, K)`.
    pub fn new(w: &[f32], d: ConvDims) -> Self {
        let weight = |f: usize, c: usize, k: usize| match c < d.c {
            true => w[(f * d.c + c) * d.k + k],
            false => 0.0,
        };
        let mut rows = vec![0.0f32; d.f * d.k * LANES];
        for f in 0..d.f {
            for c in 0..d.c {
                for k in 0..d.k {
                    rows[(k * d.f + f) * LANES + c] = weight(f, c, k);
                }
            }
        }
        let symbols = d.c + 1;
        let pairs = (d.c <= PAIR_CHANNELS).then(|| {
            let mut pairs = vec![0.0f32; d.k / 2 * d.f * 2 * LANES];
            for j in 0..d.k / 2 {
                for f in 0..d.f {
                    let row = &mut pairs[(j * d.f + f) * 2 * LANES..][..2 * LANES];
                    for a in 0..symbols {
                        for b in 0..symbols {
                            row[a * symbols + b] = weight(f, a, 2 * j) + weight(f, b, 2 * j + 1);
                        }
                    }
                }
            }
            pairs
        });
        Self { rows, pairs }
    }
}

/// One example's padded input as a channel and a value per position, with [`LANES`] zero
/// positions of slack at the end (a vector of outputs reads up to 15 positions past the last
/// output's window), channel `C` where all are zero; `None` where a position has two or more
/// nonzero channels, else whether every value is 0 or 1.
fn encode(
    x: &[f32],
    d: ConvDims,
    spec: Conv1dSpec,
    channel: &mut Vec<u32>,
    value: &mut Vec<f32>,
) -> Option<bool> {
    let padded = spec.pad_left + d.l + spec.pad_right + LANES;
    channel.clear();
    channel.resize(padded, d.c as u32);
    value.clear();
    value.resize(padded, 0.0);
    let (mut shared, mut binary) = (false, true);
    let (channel, value) = (&mut channel[spec.pad_left..], &mut value[spec.pad_left..]);
    for c in 0..d.c {
        let row = &x[c * d.l..(c + 1) * d.l];
        // without branches, so that it vectorises
        for ((&v, value), channel) in row.iter().zip(value.iter_mut()).zip(channel.iter_mut()) {
            let nonzero = v != 0.0;
            shared |= nonzero & (*value != 0.0);
            binary &= !nonzero | (v == 1.0);
            *value = if nonzero { v } else { *value };
            *channel = if nonzero { c as u32 } else { *channel };
        }
    }
    (!shared).then_some(binary)
}

/// `pair[p] = channel[p] (C + 1) + channel[p + dilation]`, the lane of [`Picks`]'s pair rows
/// for a pair of taps at `p` (both channels `C`, zeros, past the end).
fn pair_lanes(channel: &[u32], d: ConvDims, dilation: usize, pair: &mut Vec<u32>) {
    let symbols = d.c as u32 + 1;
    pair.clear();
    pair.extend(channel.iter().enumerate().map(|(p, &a)| {
        let b = channel.get(p + dilation).copied().unwrap_or(d.c as u32);
        a * symbols + b
    }));
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
    let (mut channel, mut value, mut pair) = (Vec::new(), Vec::new(), Vec::new());
    let mut refused = Vec::new();
    let examples = x_chunk
        .chunks_exact(d.c * d.l)
        .zip(out.chunks_exact_mut(d.f * d.l_out));
    for (e, (x, out)) in examples.enumerate().take(m) {
        let Some(binary) = encode(x, d, spec, &mut channel, &mut value) else {
            refused.push(e);
            continue;
        };
        let encoded = Encoded {
            channel: &channel,
            value: &value,
            dilation: spec.dilation,
        };
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            match (binary, &picks.pairs) {
                (true, Some(pairs)) => {
                    pair_lanes(&channel, d, spec.dilation, &mut pair);
                    // SAFETY: the CPU has AVX-512F (checked above); `convolve_pairs` checks
                    // its bounds.
                    unsafe {
                        avx512::convolve_pairs(encoded, &pair, pairs, picks, d, out, epilogue)
                    };
                }
                // SAFETY: as above; `convolve` checks its bounds.
                _ => unsafe { avx512::convolve(encoded, picks, d, out, epilogue) },
            }
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
        // a block of filters' rows stays in the first-level cache while the outputs pass
        let whole = d.f / FILTERS * FILTERS;
        for f in (0..whole).step_by(FILTERS) {
            for i in (0..d.l_out).step_by(LANES) {
                // SAFETY: as this function's.
                unsafe { outputs::<FILTERS>(x, picks, d, f, i, out, epilogue) };
            }
        }
        for f in whole..d.f {
            for i in (0..d.l_out).step_by(LANES) {
                // SAFETY: as this function's.
                unsafe { outputs::<1>(x, picks, d, f, i, out, epilogue) };
            }
        }
    }

    /// Filters whose sums run side by side: independent chains of multiply-adds hide each
    /// one's latency.
    const FILTERS: usize = 8;

    /// [`convolve`] for input whose values are all 0 or 1: one pick per pair of taps from the
    /// 32-lane pair rows (`pairs`, [`Picks`]'s, and the lanes `pair` of [`super::pair_lanes`]),
    /// and the last tap of an odd `K` from the 16-lane rows, each added without a multiply.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn convolve_pairs(
        x: Encoded,
        pair: &[u32],
        pairs: &[f32],
        picks: &Picks,
        d: ConvDims,
        out: &mut [f32],
        epilogue: Epilogue,
    ) {
        let reach = (d.k - 1) * x.dilation;
        assert!(out.len() == d.f * d.l_out && picks.rows.len() == d.f * d.k * LANES);
        assert!(pairs.len() == d.k / 2 * d.f * 2 * LANES);
        assert!(x.channel.len() >= d.l_out.div_ceil(LANES) * LANES + reach);
        assert!(pair.len() == x.channel.len());
        // blocks of 4 filters x 64 outputs: each row loaded serves 4 vectors of outputs
        let (whole_f, whole_i) = (d.f / 4 * 4, d.l_out / (4 * LANES) * 4 * LANES);
        let block = Block {
            x,
            pair,
            pairs,
            picks,
            d,
            epilogue,
        };
        for f in (0..d.f).step_by(4) {
            for i in (0..d.l_out).step_by(4 * LANES) {
                // SAFETY: as this function's; every block starts below `L_out`.
                unsafe {
                    if f < whole_f && i < whole_i {
                        block.run::<4, 4>(f, i, out);
                    } else if f < whole_f {
                        for i in (i..d.l_out).step_by(LANES) {
                            block.run::<4, 1>(f, i, out);
                        }
                    } else {
                        for f in f..d.f {
                            for i in (i..(i + 4 * LANES).min(d.l_out)).step_by(LANES) {
                                block.run::<1, 1>(f, i, out);
                            }
                        }
                    }
                }
            }
        }
    }

    /// What every block of [`convolve_pairs`] reads.
    struct Block<'a> {
        x: Encoded<'a>,
        pair: &'a [u32],
        pairs: &'a [f32],
        picks: &'a Picks,
        d: ConvDims,
        epilogue: Epilogue<'a>,
    }

    impl Block<'_> {
        /// Outputs `i .. i + 16 I` (those below `L_out`) of filters `f .. f + B`.
        ///
        /// # Safety
        /// The CPU must have AVX-512F; the bounds are [`convolve_pairs`]'s, `i + 16 (I - 1)`
        /// below `L_out`.
        #[target_feature(enable = "avx512f")]
        unsafe fn run<const B: usize, const I: usize>(&self, f: usize, i: usize, out: &mut [f32]) {
            let (x, d) = (self.x, self.d);
            let mut sums = [[_mm512_setzero_ps(); I]; B];
            for j in 0..d.k / 2 {
                let p = i + 2 * j * x.dilation;
                // SAFETY: `p + 16 I <= i + 16 I + reach`, inside `pair` by `convolve_pairs`'s
                // asserts; rows `j * F + f + b` of `pairs` hold 32 floats each.
                unsafe {
                    let lanes: [__m512i; I] = std::array::from_fn(|v| {
                        _mm512_loadu_si512(self.pair.as_ptr().add(p + v * LANES).cast())
                    });
                    let rows = self.pairs.as_ptr().add((j * d.f + f) * 2 * LANES);
                    for (b, sums) in sums.iter_mut().enumerate() {
                        let row = rows.add(b * 2 * LANES);
                        let (low, high) = (_mm512_loadu_ps(row), _mm512_loadu_ps(row.add(LANES)));
                        for (sum, &lanes) in sums.iter_mut().zip(&lanes) {
                            *sum = _mm512_add_ps(*sum, _mm512_permutex2var_ps(low, lanes, high));
                        }
                    }
                }
            }
            if d.k % 2 == 1 {
                let p = i + (d.k - 1) * x.dilation;
                // SAFETY: as above, for `channel` and the 16-lane rows `(K - 1) * F + f + b`.
                unsafe {
                    let channels: [__m512i; I] = std::array::from_fn(|v| {
                        _mm512_loadu_si512(x.channel.as_ptr().add(p + v * LANES).cast())
                    });
                    let rows = self.picks.rows.as_ptr().add(((d.k - 1) * d.f + f) * LANES);
                    for (b, sums) in sums.iter_mut().enumerate() {
                        let row = _mm512_loadu_ps(rows.add(b * LANES));
                        for (sum, &channels) in sums.iter_mut().zip(&channels) {
                            *sum = _mm512_add_ps(*sum, _mm512_permutexvar_ps(channels, row));
                        }
                    }
                }
            }
            for (v, i) in (i..).step_by(LANES).take(I).enumerate() {
                let column: [__m512; B] = std::array::from_fn(|b| sums[b][v]);
                // SAFETY: as this function's.
                unsafe { store(column, d, f, i, out, self.epilogue) };
            }
        }
    }

    /// Outputs `i .. i + 16` (those below `L_out`) of filters `f .. f + B` from their sums,
    /// through `epilogue`.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; `out` holds `(F, L_out)`.
    #[target_feature(enable = "avx512f")]
    unsafe fn store<const B: usize>(
        sums: [__m512; B],
        d: ConvDims,
        f: usize,
        i: usize,
        out: &mut [f32],
        epilogue: Epilogue,
    ) {
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
        // SAFETY: as this function's.
        unsafe { store(sums, d, f, i, out, epilogue) };
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
        let encoding = encode(&x, d, spec, &mut channel, &mut value);
        assert_eq!(encoding, Some(false), "one-hot with a value of 0.5");
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

    /// A position with two nonzero channels is refused, whatever their order; input of 0s and
    /// 1s only is told apart from other values.
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
        let spec = Conv1dSpec::valid(1);
        assert_eq!(encode(&x, d, spec, &mut channel, &mut value), None);
        x[3 * 3 + 1] = 0.0;
        assert_eq!(encode(&x, d, spec, &mut channel, &mut value), Some(true));
        // channel C marks the positions of zeros
        assert_eq!(channel[..3], [4, 0, 4]);
        x[3 * 3 + 2] = 2.0;
        assert_eq!(encode(&x, d, spec, &mut channel, &mut value), Some(false));
    }
}
