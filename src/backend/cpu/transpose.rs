//! Strided float32 transposes between a convolution's example layout `(channels, positions)`
//! and its position-major frames, in 8 x 8 tiles, whole tiles with AVX shuffles where the CPU
//! has them.

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
const TILE: usize = 8;

/// A strided view of `rows x cols` values: element `(r, c)` at `r * row_stride + c * col_stride`.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between rows.
    pub row_stride: usize,
    /// Distance between columns.
    pub col_stride: usize,
}

impl Layout {
    fn at(&self, r: usize, c: usize) -> usize {
        r * self.row_stride + c * self.col_stride
    }
}

/// `dst(r, c) = epilogue(r, src(c, r))` for every `(r, c)` of `dst_layout`; `src` is read
/// with `src_layout`, the transposed shape.
pub fn transpose(
    src: &[f32],
    src_layout: Layout,
    dst: &mut [f32],
    dst_layout: Layout,
    epilogue: Epilogue,
) {
    assert!(src_layout.rows == dst_layout.cols && src_layout.cols == dst_layout.rows);
    let unit = src_layout.col_stride == 1 && dst_layout.col_stride == 1;
    for r0 in (0..dst_layout.rows).step_by(TILE) {
        for c0 in (0..dst_layout.cols).step_by(TILE) {
            let (rows, cols) = (
                (dst_layout.rows - r0).min(TILE),
                (dst_layout.cols - c0).min(TILE),
            );
            let (from, to) = (src_layout.at(c0, r0), dst_layout.at(r0, c0));
            if unit && rows == TILE && cols == TILE {
                let (ss, ds) = (src_layout.row_stride, dst_layout.row_stride);
                tile(&src[from..], ss, &mut dst[to..], ds, epilogue, r0);
                continue;
            }
            for r in 0..rows {
                for c in 0..cols {
                    let v = src[from + src_layout.at(c, r)];
                    dst[to + dst_layout.at(r, c)] = epilogue.apply(r0 + r, v);
                }
            }
        }
    }
}

/// `dst[i * ds + j] = epilogue(row0 + i, src[j * ss + i])` for `i, j < 8`.
fn tile(src: &[f32], ss: usize, dst: &mut [f32], ds: usize, epilogue: Epilogue, row0: usize) {
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

    #[test]
    fn strided_regions_transpose_whole_and_ragged_tiles() {
        // 19 x 11 output: whole tiles, ragged edges, and a source with a column stride of 2
        let src: Vec<f32> = (0..11 * 40).map(|i| i as f32).collect();
        for col_stride in [1, 2] {
            let src_layout = Layout {
                rows: 11,
                cols: 19,
                row_stride: 40,
                col_stride,
            };
            let dst_layout = Layout {
                rows: 19,
                cols: 11,
                row_stride: 12,
                col_stride: 1,
            };
            let mut dst = vec![f32::NAN; 19 * 12];
            transpose(&src, src_layout, &mut dst, dst_layout, Epilogue::default());
            for r in 0..19 {
                for c in 0..11 {
                    assert_eq!(dst[r * 12 + c], src[c * 40 + r * col_stride], "({r}, {c})");
                }
                assert!(dst[r * 12 + 11].is_nan());
            }
        }
    }
}
