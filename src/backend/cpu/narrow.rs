//! Matrix products with a narrow, row-major right-hand side, `c (m, n) = a (m, k) b (k, n)`
//! for `n` of a few dozen (the channel counts of a convolution), without packing either
//! operand: where the CPU has AVX-512, a kernel keeps a block of `ROWS x 32` of `c` in
//! registers and streams `a` (any strides) and `b` through it; elsewhere `matrixmultiply`
//! does the product.
//!
//! A general matrix product copies blocks of both operands into packed buffers first, which
//! pays off when every packed value is used many times; with `n` this small each value of `a`
//! is used `n` times only, and in a convolution `a` is a view with overlapping rows whose
//! packed copy is `K` times the size of the data behind it.

use super::gemm::{Matrix, matmul};

/// `c = a b` with `b` row-major `(a.cols(), n)` and `c` row-major `(a.rows(), n)`.
pub fn matmul_narrow(a: Matrix, b: &[f32], n: usize, c: &mut [f32]) {
    let k = a.cols();
    assert!(a.in_bounds() && b.len() >= k * n && c.len() == a.rows() * n);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F (checked just above), and the asserts keep every
        // element the kernel reads inside `a`'s data and `b`, and every element it writes
        // inside `c`.
        unsafe { avx512::matmul(a, b, n, c) };
        return;
    }
    matmul(a, Matrix::row_major(b, k, n), c, 0.0);
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::Matrix;

    /// Rows of `c` per register block: with two vectors of 16 columns each, 28 of the 32
    /// vector registers hold the block, three more one row of `b` and one value of `a`.
    const ROWS: usize = 14;
    /// Columns of `c` per register block.
    const COLS: usize = 32;

    /// The lanes `0..width` of a 16-lane vector (`width` at most 16).
    fn lanes(width: usize) -> __mmask16 {
        if width >= 16 {
            0xFFFF
        } else {
            (1u16 << width) - 1
        }
    }

    /// Steps of the sum per pass over a panel: a `DEPTH x 32` block of `b` (32 KiB) stays in
    /// the first-level cache while the panel's row blocks stream past it.
    const DEPTH: usize = 256;
    /// Row blocks per panel: the panel's `ROWS * PANEL x 32` block of `c` and its rows of `a`
    /// for one block of the sum stay in the second-level cache.
    const PANEL: usize = 16;

    /// `c = a b`, as [`super::matmul_narrow`].
    ///
    /// # Safety
    /// The CPU must have AVX-512F; `a` must lie inside its data, `b` must hold `a.cols() * n`
    /// values and `c` exactly `a.rows() * n`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn matmul(a: Matrix, b: &[f32], n: usize, c: &mut [f32]) {
        let (m, k) = (a.rows(), a.cols());
        let (rs, cs) = a.strides();
        for j0 in (0..n).step_by(COLS) {
            let width = (n - j0).min(COLS);
            let masks = [lanes(width), lanes(width.saturating_sub(16))];
            for panel in (0..m).step_by(ROWS * PANEL) {
                let panel_end = (panel + ROWS * PANEL).min(m);
                // the first block of the sum starts from zero, later ones add to `c`
                for k0 in (0..k.max(1)).step_by(DEPTH) {
                    let depth = (k - k0.min(k)).min(DEPTH);
                    for i0 in (panel..panel_end).step_by(ROWS) {
                        // SAFETY: rows `i0 .. i0 + ROWS` (at most `m`), columns
                        // `j0 .. j0 + width` and sum steps `k0 .. k0 + depth` lie inside the
                        // matrices (the caller's contract), and the masks keep loads and
                        // stores to the columns below `n`.
                        unsafe {
                            let block = Block {
                                a: a.data().as_ptr().add(i0 * rs + k0 * cs),
                                rs,
                                cs,
                                k: depth,
                                b: b.as_ptr().add(k0 * n + j0),
                                n,
                                c: c.as_mut_ptr().add(i0 * n + j0),
                                masks,
                                accumulate: k0 > 0,
                            };
                            match (m - i0).min(ROWS) {
                                14 => block.run::<14>(),
                                13 => block.run::<13>(),
                                12 => block.run::<12>(),
                                11 => block.run::<11>(),
                                10 => block.run::<10>(),
                                9 => block.run::<9>(),
                                8 => block.run::<8>(),
                                7 => block.run::<7>(),
                                6 => block.run::<6>(),
                                5 => block.run::<5>(),
                                4 => block.run::<4>(),
                                3 => block.run::<3>(),
                                2 => block.run::<2>(),
                                _ => block.run::<1>(),
                            }
                        }
                    }
                }
            }
        }
    }

    /// One register block: `R` rows of `c` from `c`, the same rows of `a` from `a`.
    struct Block {
        a: *const f32,
        rs: usize,
        cs: usize,
        k: usize,
        b: *const f32,
        n: usize,
        c: *mut f32,
        masks: [__mmask16; 2],
        /// Add to the values in `c` instead of overwriting them.
        accumulate: bool,
    }

    impl Block {
        /// # Safety
        /// AVX-512F; `R` rows of `a` (strides `rs`, `cs`, `k` columns), `k` rows of `b`
        /// (stride `n`) and `R` rows of `c` (stride `n`) readable, writable for `c`, in the
        /// columns the masks select.
        #[target_feature(enable = "avx512f")]
        unsafe fn run<const R: usize>(&self) {
            let mut acc = [[_mm512_setzero_ps(); 2]; R];
            if self.accumulate {
                for (r, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: as the function's contract.
                    unsafe {
                        let row = self.c.add(r * self.n);
                        acc[0] = _mm512_maskz_loadu_ps(self.masks[0], row);
                        acc[1] = _mm512_maskz_loadu_ps(self.masks[1], row.wrapping_add(16));
                    }
                }
            }
            let (mut a, mut b) = (self.a, self.b);
            for _ in 0..self.k {
                // SAFETY: as the function's contract; a zero mask reads nothing.
                unsafe {
                    let b0 = _mm512_maskz_loadu_ps(self.masks[0], b);
                    let b1 = _mm512_maskz_loadu_ps(self.masks[1], b.wrapping_add(16));
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let v = _mm512_set1_ps(*a.add(r * self.rs));
                        acc[0] = _mm512_fmadd_ps(v, b0, acc[0]);
                        acc[1] = _mm512_fmadd_ps(v, b1, acc[1]);
                    }
                    a = a.wrapping_add(self.cs);
                    b = b.wrapping_add(self.n);
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                // SAFETY: as the function's contract.
                unsafe {
                    let row = self.c.add(r * self.n);
                    _mm512_mask_storeu_ps(row, self.masks[0], acc[0]);
                    _mm512_mask_storeu_ps(row.wrapping_add(16), self.masks[1], acc[1]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7919 + seed * 104_729) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    }

    /// `matmul_narrow` against `matrixmultiply` on `a (m, k)` with strides `(rs, cs)`.
    fn check(m: usize, k: usize, n: usize, rs: usize, cs: usize) {
        let data = values((m.max(1) - 1) * rs + (k.max(1) - 1) * cs + 1, m + k);
        let a = Matrix::strided(&data, m, k, rs, cs);
        let b = values(k * n, n);
        let mut got = vec![f32::NAN; m * n];
        matmul_narrow(a, &b, n, &mut got);
        let mut expected = vec![0.0; m * n];
        matmul(a, Matrix::row_major(&b, k, n), &mut expected, 0.0);
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            let tolerance = 1e-5f32.max(1e-5 * g.abs().max(e.abs()));
            assert!(
                (g - e).abs() <= tolerance,
                "m={m} k={k} n={n} rs={rs} cs={cs}: entry {i}: {g} vs {e}"
            );
        }
    }

    #[test]
    fn matches_the_general_product_on_every_block_shape() {
        // full blocks of 14 rows x 32 columns, ragged row and column blocks, a column
        // block of one vector, one of one and a half, several column blocks
        for (m, n) in [
            (28, 32),
            (29, 32),
            (13, 16),
            (15, 24),
            (3, 1),
            (40, 48),
            (17, 80),
        ] {
            check(m, 37, n, 37, 1);
        }
        // overlapping rows (a convolution's windows) and transposed strides
        check(50, 60, 32, 4, 1);
        check(60, 50, 32, 1, 4);
        check(1, 1, 1, 1, 1);
        // an empty sum gives zeros
        check(5, 0, 20, 1, 1);
    }
}
