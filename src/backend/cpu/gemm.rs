//! Matrix products for the CPU backend's fast kernels: a safe, bounds-checked front to
//! `matrixmultiply`'s blocked single-precision product.

/// Examples per parallel task wherever gradients are summed over the batch: fixed, so that
/// the summation order, and with it every result, is the same whatever the thread count.
pub const CHUNK: usize = 8;

/// A strided read-only matrix: element `(i, j)` is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// A row-major `rows x cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Matrix {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// A `rows x cols` matrix whose element `(i, j)` is `data[i * row_stride + j * col_stride]`:
    /// a column of a weight tensor, or an overlapping window of a longer row.
    pub fn strided(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        Matrix {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The transpose, without copying.
    pub fn t(self) -> Self {
        Matrix {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(row_stride, col_stride)`.
    pub fn strides(&self) -> (usize, usize) {
        (self.row_stride, self.col_stride)
    }

    /// The data the elements are read from.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    /// Whether every element lies inside `data`.
    pub fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// `c = a b + beta c` with `c` row-major `a.rows x b.cols`.
pub fn matmul(a: Matrix, b: Matrix, c: &mut [f32], beta: f32) {
    assert!(a.cols == b.rows && a.in_bounds() && b.in_bounds());
    assert_eq!(c.len(), a.rows * b.cols);
    if c.is_empty() {
        return;
    }
    if a.cols == 0 {
        // an empty sum: only the scaled old values remain
        c.iter_mut()
            .for_each(|v| *v = if beta == 0.0 { 0.0 } else { beta * *v });
        return;
    }
    // SAFETY: the asserts above keep every element that sgemm reads inside `a.data` and
    // `b.data`, and every element it writes inside `c`, which is borrowed mutably.
    unsafe {
        matrixmultiply::sgemm(
            a.rows,
            a.cols,
            b.cols,
            1.0,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            beta,
            c.as_mut_ptr(),
            b.cols as isize,
            1,
        );
    }
}
