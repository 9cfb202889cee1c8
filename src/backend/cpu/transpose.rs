//! 8 x 8 tiles of float32 transposed between a convolution's example layout
//! `(channels, positions)` and its position-major frames, with AVX shuffles where the CPU has
//! them.

/// What happens to each value as it is written: `max(v + bias[row], floor)`, each part
/// optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct Epilogue<'a> {
    /// Added per output row (indexed from the tile's first row).
    pub bias: Option<&'a [f32]>,
    /// Lower bound (a relu's 0).
    pub floor: Option<f32>,
}

impl Epilogue<'_> {
    /// The value written for `v` in output row `row`.
    pub fn apply(&self, row: usize, v: f32) -> f32 {
        let v = self.bias.map_or(v, |b| v + b[row]);
        self.floor.map_or(v, |f| v.max(f))
    }
}

/// Side of a tile.
pub const TILE: usize = 8;

/// `dst[i * ds + j] = epilogue(row0 + i, src[j * ss + i])` for `i, j < 8`.
pub fn tile(src: &[f32], ss: usize, dst: &mut [f32], ds: usize, epilogue: Epilogue, row0: usize) {
    assert!(src.len() > 7 * ss + 7 && dst.len() > 7 * ds + 7);
    if let Some(bias) = epilogue.bias {
        assert!(bias.len() >= row0 + TILE);
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: AVX is present (checked above), and the asserts keep the eight rows of
        // eight values read from `src`, written to `dst` and read from the bias in bounds.
        unsafe { avx::tile(src, ss, dst, ds, epilogue, row0) };
        return;
    }
    for i in 0..TILE {
        for j in 0..TILE {
            dst[i * ds + j] = epilogue.apply(row0 + i, src[j * ss + i]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use super::{Epilogue, TILE};

    /// As [`super::tile`].
    ///
    /// # Safety
    /// The CPU must have AVX; `src` must hold 8 rows of 8 values `ss` apart, `dst` 8 rows
    /// `ds` apart, and a bias `row0 + 8` values.
    #[target_feature(enable = "avx")]
    pub unsafe fn tile(
        src: &[f32],
        ss: usize,
        dst: &mut [f32],
        ds: usize,
        epilogue: Epilogue,
        row0: usize,
    ) {
        // SAFETY: the caller's contract keeps every access in bounds.
        unsafe {
            let s = src.as_ptr();
            let r: [__m256; TILE] = std::array::from_fn(|j| _mm256_loadu_ps(s.add(j * ss)));
            // pairs of rows interleaved, then quarters, then the 128-bit halves swapped
            let t0 = _mm256_unpacklo_ps(r[0], r[1]);
            let t1 = _mm256_unpackhi_ps(r[0], r[1]);
            let t2 = _mm256_unpacklo_ps(r[2], r[3]);
            let t3 = _mm256_unpackhi_ps(r[2], r[3]);
            let t4 = _mm256_unpacklo_ps(r[4], r[5]);
            let t5 = _mm256_unpackhi_ps(r[4], r[5]);
            let t6 = _mm256_unpacklo_ps(r[6], r[7]);
            let t7 = _mm256_unpackhi_ps(r[6], r[7]);
            let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let columns = [
                _mm256_permute2f128_ps::<0x20>(u0, u4),
                _mm256_permute2f128_ps::<0x20>(u1, u5),
                _mm256_permute2f128_ps::<0x20>(u2, u6),
                _mm256_permute2f128_ps::<0x20>(u3, u7),
                _mm256_permute2f128_ps::<0x31>(u0, u4),
                _mm256_permute2f128_ps::<0x31>(u1, u5),
                _mm256_permute2f128_ps::<0x31>(u2, u6),
                _mm256_permute2f128_ps::<0x31>(u3, u7),
            ];
            let d = dst.as_mut_ptr();
            for (i, mut v) in columns.into_iter().enumerate() {
                if let Some(bias) = epilogue.bias {
                    v = _mm256_add_ps(v, _mm256_set1_ps(bias[row0 + i]));
                }
                if let Some(floor) = epilogue.floor {
                    v = _mm256_max_ps(v, _mm256_set1_ps(floor));
                }
                _mm256_storeu_ps(d.add(i * ds), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_transpose_with_and_without_an_epilogue() {
        let src: Vec<f32> = (0..8 * 11).map(|i| i as f32 - 40.0).collect();
        let bias: Vec<f32> = (0..10).map(|i| 0.5 * i as f32).collect();
        for epilogue in [
            Epilogue::default(),
            Epilogue {
                bias: Some(&bias),
                floor: Some(0.0),
            },
        ] {
            let mut dst = vec![f32::NAN; 8 * 9];
            tile(&src, 11, &mut dst, 9, epilogue, 2);
            for i in 0..8 {
                for j in 0..8 {
                    let expected = epilogue.apply(2 + i, src[j * 11 + i]);
                    assert_eq!(dst[i * 9 + j], expected, "row {i} column {j}");
                }
                // the ninth value of each output row is left alone
                assert!(dst[i * 9 + 8].is_nan());
            }
        }
    }
}
