//! The CPU backend: f32 storage. Convolution and the separable contraction, the bulk of the
//! work, run as blocked matrix products on all cores, elementwise ops and max pooling as
//! float32 loops on all cores; the small ops (dense, loss, regularizers, optimizer steps) run
//! the plain loops of [`kernels`] with f64 accumulation. [`kernels`] is the reference: written to be obviously right, checked
//! against finite differences, and the yardstick for the fast convolution and the GPU.

mod chunks;
mod fast_conv;
mod fast_elementwise;
mod fast_one_hot;
mod fast_separable;
mod fast_winograd;
mod gemm;
pub mod kernels;
mod narrow;
mod scratch;
mod storage_pool;
mod transpose;

use std::sync::Arc;

use super::shapes::{self, Conv1dSpec, ConvDims, Nonlinearity, PoolSpec, Reduction};
use super::{AdamStep, Backend, Conv1dGrads, DenseGrads, Loss, SeparableGrads, Tensor};
use crate::Result;

/// A host tensor: a shape and shared f32 data (copy-on-write when updated in place).
#[derive(Debug, Clone, PartialEq)]
pub struct CpuTensor {
    shape: Vec<usize>,
    data: Arc<Vec<f32>>,
}

impl CpuTensor {
    /// Wraps `data` as a tensor of `shape`.
    ///
    /// ```
    /// use sepfc::backend::{cpu::CpuTensor, Tensor};
    /// let t = CpuTensor::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(t.shape(), &[2, 3]);
    /// ```
    pub fn new(data: Vec<f32>, shape: &[usize]) -> Result<Self> {
        shapes::expect_len("tensor", data.len(), shape)?;
        Ok(Self {
            shape: shape.to_vec(),
            data: Arc::new(data),
        })
    }

    /// The values, row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    fn data_mut(&mut self) -> &mut [f32] {
        Arc::make_mut(&mut self.data).as_mut_slice()
    }
}

impl Drop for CpuTensor {
    /// The last handle on the data keeps its storage for the next tensor of its size.
    fn drop(&mut self) {
        if let Some(data) = Arc::get_mut(&mut self.data) {
            storage_pool::keep(std::mem::take(data));
        }
    }
}

impl Tensor for CpuTensor {
    fn shape(&self) -> &[usize] {
        &self.shape
    }
}

/// The CPU backend (fast kernels; the reference loops of [`kernels`] check it).
///
/// ```
/// use sepfc::backend::{Backend, cpu::Cpu};
/// let cpu = Cpu;
/// let x = cpu.upload(&[-1.0, 2.0], &[1, 2]).unwrap();
/// let y = cpu.relu(&x).unwrap();
/// assert_eq!(cpu.download(&y).unwrap(), vec![0.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu;

impl Cpu {
    fn make(&self, data: Vec<f32>, shape: &[usize]) -> Result<CpuTensor> {
        CpuTensor::new(data, shape)
    }

    /// [`Backend::conv1d`], followed by relu when `relu` is set.
    fn convolve(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        b: &CpuTensor,
        spec: Conv1dSpec,
        relu: bool,
    ) -> Result<CpuTensor> {
        let d = shapes::conv1d_dims(&x.shape, &w.shape, &b.shape, spec)?;
        let y = fast_conv::conv1d(&x.data, &w.data, &b.data, d, spec, relu);
        self.make(y, &[d.n, d.f, d.l_out])
    }
}

impl Cpu {
    /// The dimensions of a convolution's gradient and the gradient arriving at its output,
    /// `dy (N, F, L_out)`, masked where the fused relu's output `relu_output` (of `dy`'s
    /// shape) is not positive; shapes checked, errors under `op`.
    fn output_grad<'a>(
        op: &'static str,
        x: &CpuTensor,
        w: &CpuTensor,
        dy: &'a CpuTensor,
        relu_output: Option<&'a CpuTensor>,
        spec: Conv1dSpec,
    ) -> Result<(ConvDims, fast_conv::OutputGrad<'a>)> {
        let bias_shape = [w.shape.first().copied().unwrap_or(0)];
        let d = shapes::conv1d_dims(&x.shape, &w.shape, &bias_shape, spec)?;
        shapes::expect_same(op, &dy.shape, &[d.n, d.f, d.l_out])?;
        if let Some(y) = relu_output {
            shapes::expect_same(op, &y.shape, &dy.shape)?;
        }
        let grad = fast_conv::OutputGrad {
            dy: &dy.data,
            relu_output: relu_output.map(|y| y.data.as_slice()),
        };
        Ok((d, grad))
    }

    /// [`Backend::conv1d_backward`], with `dy` first masked to where `relu_output > 0` when
    /// given ([`Backend::conv1d_relu_backward`]).
    fn convolve_backward(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        dy: &CpuTensor,
        relu_output: Option<&CpuTensor>,
        spec: Conv1dSpec,
        need_dx: bool,
    ) -> Result<Conv1dGrads<CpuTensor>> {
        let op = match relu_output {
            Some(_) => "conv1d_relu_backward",
            None => "conv1d_backward",
        };
        let (d, grad) = Self::output_grad(op, x, w, dy, relu_output, spec)?;
        let (dx, dw, db) = fast_conv::conv1d_backward(&x.data, &w.data, grad, d, spec, need_dx);
        Ok(Conv1dGrads {
            dx: dx.map(|v| self.make(v, &x.shape)).transpose()?,
            dw: self.make(dw, &w.shape)?,
            db: self.make(db, &[d.f])?,
        })
    }

    /// [`Backend::conv1d_input_grad`], masked by `relu_output` when the relu was fused.
    fn convolve_input_grad(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        dy: &CpuTensor,
        relu_output: Option<&CpuTensor>,
        spec: Conv1dSpec,
    ) -> Result<CpuTensor> {
        let op = match relu_output {
            Some(_) => "conv1d_relu_input_grad",
            None => "conv1d_input_grad",
        };
        let (d, grad) = Self::output_grad(op, x, w, dy, relu_output, spec)?;
        let dx = fast_conv::conv1d_input_grad(&w.data, grad, d, spec);
        self.make(dx, &x.shape)
    }
}

impl Backend for Cpu {
    type Tensor = CpuTensor;

    fn describe(&self) -> String {
        format!("cpu ({} threads)", rayon::current_num_threads())
    }

    fn upload(&self, data: &[f32], shape: &[usize]) -> Result<CpuTensor> {
        // into kept storage when there is some, as the tensor's storage is kept when dropped
        let mut storage = fast_elementwise::to_overwrite(data.len());
        storage.copy_from_slice(data);
        CpuTensor::new(storage, shape)
    }

    fn download(&self, t: &CpuTensor) -> Result<Vec<f32>> {
        Ok(t.data.to_vec())
    }

    fn full(&self, shape: &[usize], value: f32) -> Result<CpuTensor> {
        CpuTensor::new(vec![value; shape.iter().product()], shape)
    }

    fn reshape(&self, t: &CpuTensor, shape: &[usize]) -> Result<CpuTensor> {
        shapes::expect_len("reshape", t.len(), shape)?;
        Ok(CpuTensor {
            shape: shape.to_vec(),
            data: t.data.clone(),
        })
    }

    fn add(&self, a: &CpuTensor, b: &CpuTensor) -> Result<CpuTensor> {
        shapes::expect_same("add", &a.shape, &b.shape)?;
        self.make(fast_elementwise::add(&a.data, &b.data), &a.shape)
    }

    fn scale(&self, a: &CpuTensor, s: f32) -> Result<CpuTensor> {
        self.make(fast_elementwise::scale(&a.data, s), &a.shape)
    }

    fn conv1d(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        b: &CpuTensor,
        spec: Conv1dSpec,
    ) -> Result<CpuTensor> {
        self.convolve(x, w, b, spec, false)
    }

    fn conv1d_relu(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        b: &CpuTensor,
        spec: Conv1dSpec,
    ) -> Result<CpuTensor> {
        self.convolve(x, w, b, spec, true)
    }

    fn conv1d_relu_maxpool(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        b: &CpuTensor,
        spec: Conv1dSpec,
        pool: PoolSpec,
    ) -> Result<CpuTensor> {
        let d = shapes::conv1d_dims(&x.shape, &w.shape, &b.shape, spec)?;
        let [_, _, _, l_pool] = shapes::pool_dims(&[d.n, d.f, d.l_out], pool)?;
        let y = fast_conv::conv1d_relu_maxpool(&x.data, &w.data, &b.data, d, spec, pool, l_pool);
        self.make(y, &[d.n, d.f, l_pool])
    }

    fn conv1d_relu_backward(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        y: &CpuTensor,
        dy: &CpuTensor,
        spec: Conv1dSpec,
        need_dx: bool,
    ) -> Result<Conv1dGrads<CpuTensor>> {
        self.convolve_backward(x, w, dy, Some(y), spec, need_dx)
    }

    fn conv1d_backward(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        dy: &CpuTensor,
        spec: Conv1dSpec,
        need_dx: bool,
    ) -> Result<Conv1dGrads<CpuTensor>> {
        self.convolve_backward(x, w, dy, None, spec, need_dx)
    }

    fn conv1d_input_grad(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        dy: &CpuTensor,
        spec: Conv1dSpec,
    ) -> Result<CpuTensor> {
        self.convolve_input_grad(x, w, dy, None, spec)
    }

    fn conv1d_relu_input_grad(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        y: &CpuTensor,
        dy: &CpuTensor,
        spec: Conv1dSpec,
    ) -> Result<CpuTensor> {
        self.convolve_input_grad(x, w, dy, Some(y), spec)
    }

    fn rc_expand(&self, w: &CpuTensor) -> Result<CpuTensor> {
        let [rows, inner] = shapes::rc_dims("rc_expand", &w.shape, false)?;
        let mut shape = w.shape.clone();
        shape[0] = 2 * rows;
        self.make(kernels::rc_expand(&w.data, rows, inner), &shape)
    }

    fn rc_fold(&self, g: &CpuTensor) -> Result<CpuTensor> {
        let [rows2, inner] = shapes::rc_dims("rc_fold", &g.shape, true)?;
        let mut shape = g.shape.clone();
        shape[0] = rows2 / 2;
        self.make(kernels::rc_fold(&g.data, rows2, inner), &shape)
    }

    fn mirror_expand(&self, v: &CpuTensor, n: usize) -> Result<CpuTensor> {
        let [rows, _] = shapes::mirror_dims(&v.shape, n)?;
        self.make(kernels::mirror_expand(&v.data, rows, n), &[rows, n])
    }

    fn mirror_fold(&self, g: &CpuTensor) -> Result<CpuTensor> {
        let [rows, n] = shapes::rows_dims("mirror_fold", &g.shape)?;
        self.make(
            kernels::mirror_fold(&g.data, rows, n),
            &[rows, n.div_ceil(2)],
        )
    }

    fn maxpool1d(&self, x: &CpuTensor, spec: PoolSpec) -> Result<CpuTensor> {
        let [n, c, l, l_out] = shapes::pool_dims(&x.shape, spec)?;
        let y = fast_elementwise::maxpool1d(&x.data, n * c, l, l_out, spec);
        self.make(y, &[n, c, l_out])
    }

    fn maxpool1d_backward(
        &self,
        x: &CpuTensor,
        dy: &CpuTensor,
        spec: PoolSpec,
    ) -> Result<CpuTensor> {
        let [n, c, l, l_out] = shapes::pool_dims(&x.shape, spec)?;
        shapes::expect_same("maxpool1d_backward", &dy.shape, &[n, c, l_out])?;
        let dx = fast_elementwise::maxpool1d_backward(&x.data, &dy.data, n * c, l, l_out, spec);
        self.make(dx, &x.shape)
    }

    fn deeplift_rescale(
        &self,
        x: &CpuTensor,
        y: &CpuTensor,
        dy: &CpuTensor,
        nonlinearity: Nonlinearity,
        pairs: usize,
    ) -> Result<CpuTensor> {
        let half = shapes::deeplift_half("deeplift_rescale", &x.shape, pairs)?;
        shapes::expect_same("deeplift_rescale", &y.shape, &x.shape)?;
        shapes::expect_same("deeplift_rescale", &dy.shape, &x.shape)?;
        let dx = kernels::deeplift_rescale(&x.data, &y.data, &dy.data, nonlinearity, half);
        self.make(dx, &x.shape)
    }

    fn deeplift_maxpool1d(
        &self,
        x: &CpuTensor,
        y: &CpuTensor,
        dy: &CpuTensor,
        spec: PoolSpec,
        pairs: usize,
    ) -> Result<CpuTensor> {
        let [n, c, l, l_out] = shapes::pool_dims(&x.shape, spec)?;
        shapes::deeplift_half("deeplift_maxpool1d", &x.shape, pairs)?;
        shapes::expect_same("deeplift_maxpool1d", &y.shape, &[n, c, l_out])?;
        shapes::expect_same("deeplift_maxpool1d", &dy.shape, &[n, c, l_out])?;
        let rows = pairs * c;
        let dx = kernels::deeplift_maxpool1d(&x.data, &y.data, &dy.data, rows, l, l_out, spec);
        self.make(dx, &x.shape)
    }

    fn separable(&self, x: &CpuTensor, pos: &CpuTensor, chan: &CpuTensor) -> Result<CpuTensor> {
        let dims = shapes::separable_dims(&x.shape, &pos.shape, &chan.shape)?;
        let y = fast_separable::separable(&x.data, &pos.data, &chan.data, dims);
        self.make(y, &[dims[0], dims[3]])
    }

    fn separable_backward(
        &self,
        x: &CpuTensor,
        pos: &CpuTensor,
        chan: &CpuTensor,
        dy: &CpuTensor,
        need_dx: bool,
    ) -> Result<SeparableGrads<CpuTensor>> {
        let dims = shapes::separable_dims(&x.shape, &pos.shape, &chan.shape)?;
        shapes::expect_same("separable_backward", &dy.shape, &[dims[0], dims[3]])?;
        let (dx, dpos, dchan) = fast_separable::separable_backward(
            &x.data, &pos.data, &chan.data, &dy.data, dims, need_dx,
        );
        Ok(SeparableGrads {
            dx: dx.map(|v| self.make(v, &x.shape)).transpose()?,
            dpos: self.make(dpos, &pos.shape)?,
            dchan: self.make(dchan, &chan.shape)?,
        })
    }

    fn separable_input_grad(
        &self,
        x: &CpuTensor,
        pos: &CpuTensor,
        chan: &CpuTensor,
        dy: &CpuTensor,
    ) -> Result<CpuTensor> {
        let dims = shapes::separable_dims(&x.shape, &pos.shape, &chan.shape)?;
        shapes::expect_same("separable_input_grad", &dy.shape, &[dims[0], dims[3]])?;
        let dx = fast_separable::separable_input_grad(&pos.data, &chan.data, &dy.data, dims);
        self.make(dx, &x.shape)
    }

    fn dense(&self, x: &CpuTensor, w: &CpuTensor, b: &CpuTensor) -> Result<CpuTensor> {
        let dims = shapes::dense_dims(&x.shape, &w.shape, &b.shape)?;
        let y = kernels::dense(&x.data, &w.data, &b.data, dims);
        self.make(y, &[dims[0], dims[2]])
    }

    fn dense_backward(
        &self,
        x: &CpuTensor,
        w: &CpuTensor,
        dy: &CpuTensor,
        need_dx: bool,
    ) -> Result<DenseGrads<CpuTensor>> {
        let bias_shape = [w.shape.first().copied().unwrap_or(0)];
        let dims = shapes::dense_dims(&x.shape, &w.shape, &bias_shape)?;
        shapes::expect_same("dense_backward", &dy.shape, &[dims[0], dims[2]])?;
        let (dx, dw, db) = kernels::dense_backward(&x.data, &w.data, &dy.data, dims, need_dx);
        Ok(DenseGrads {
            dx: dx.map(|v| self.make(v, &x.shape)).transpose()?,
            dw: self.make(dw, &w.shape)?,
            db: self.make(db, &bias_shape)?,
        })
    }

    fn dense_input_grad(&self, x: &CpuTensor, w: &CpuTensor, dy: &CpuTensor) -> Result<CpuTensor> {
        let bias_shape = [w.shape.first().copied().unwrap_or(0)];
        let dims = shapes::dense_dims(&x.shape, &w.shape, &bias_shape)?;
        shapes::expect_same("dense_input_grad", &dy.shape, &[dims[0], dims[2]])?;
        self.make(kernels::dense_input_grad(&w.data, &dy.data, dims), &x.shape)
    }

    fn relu(&self, x: &CpuTensor) -> Result<CpuTensor> {
        self.make(fast_elementwise::relu(&x.data), &x.shape)
    }

    fn relu_backward(&self, x: &CpuTensor, dy: &CpuTensor) -> Result<CpuTensor> {
        shapes::expect_same("relu_backward", &x.shape, &dy.shape)?;
        self.make(fast_elementwise::relu_backward(&x.data, &dy.data), &x.shape)
    }

    fn sigmoid(&self, x: &CpuTensor) -> Result<CpuTensor> {
        self.make(kernels::sigmoid(&x.data), &x.shape)
    }

    fn sigmoid_backward(&self, y: &CpuTensor, dy: &CpuTensor) -> Result<CpuTensor> {
        shapes::expect_same("sigmoid_backward", &y.shape, &dy.shape)?;
        self.make(kernels::sigmoid_backward(&y.data, &dy.data), &y.shape)
    }

    fn dropout(&self, x: &CpuTensor, rate: f32, seed: u32) -> Result<CpuTensor> {
        shapes::check_dropout_rate(rate)?;
        self.make(kernels::dropout(&x.data, rate, seed), &x.shape)
    }

    fn dropout_backward(&self, dy: &CpuTensor, rate: f32, seed: u32) -> Result<CpuTensor> {
        self.dropout(dy, rate, seed)
    }

    fn loss(
        &self,
        kind: Loss,
        logits: &CpuTensor,
        targets: &CpuTensor,
        mask: &CpuTensor,
    ) -> Result<CpuTensor> {
        shapes::expect_same("loss", &logits.shape, &targets.shape)?;
        shapes::expect_same("loss", &logits.shape, &mask.shape)?;
        let loss = kernels::loss(kind, &logits.data, &targets.data, &mask.data);
        self.make(vec![loss], &[1])
    }

    fn loss_backward(
        &self,
        kind: Loss,
        logits: &CpuTensor,
        targets: &CpuTensor,
        mask: &CpuTensor,
        dloss: &CpuTensor,
    ) -> Result<CpuTensor> {
        shapes::expect_same("loss_backward", &logits.shape, &targets.shape)?;
        shapes::expect_same("loss_backward", &logits.shape, &mask.shape)?;
        shapes::expect_same("loss_backward", &dloss.shape, &[1])?;
        let g =
            kernels::loss_backward(kind, &logits.data, &targets.data, &mask.data, dloss.data[0]);
        self.make(g, &logits.shape)
    }

    fn diff(&self, x: &CpuTensor, order: usize) -> Result<CpuTensor> {
        let [rows, s] = shapes::rows_dims("diff", &x.shape)?;
        shapes::check_diff_order(order, s)?;
        self.make(kernels::diff(&x.data, rows, s, order), &[rows, s - order])
    }

    fn diff_backward(&self, dy: &CpuTensor, order: usize) -> Result<CpuTensor> {
        let [rows, m] = shapes::rows_dims("diff_backward", &dy.shape)?;
        shapes::check_diff_order(order, m + order)?;
        let dx = kernels::diff_backward(&dy.data, rows, m + order, order);
        self.make(dx, &[rows, m + order])
    }

    fn mean(&self, x: &CpuTensor, kind: Reduction) -> Result<CpuTensor> {
        self.make(vec![kernels::mean(&x.data, kind)], &[1])
    }

    fn mean_backward(&self, x: &CpuTensor, dy: &CpuTensor, kind: Reduction) -> Result<CpuTensor> {
        shapes::expect_same("mean_backward", &dy.shape, &[1])?;
        self.make(kernels::mean_backward(&x.data, dy.data[0], kind), &x.shape)
    }

    fn sgd_step(&self, param: &mut CpuTensor, grad: &CpuTensor, lr: f32) -> Result<()> {
        shapes::expect_same("sgd_step", &param.shape, &grad.shape)?;
        kernels::sgd_step(param.data_mut(), &grad.data, lr);
        Ok(())
    }

    fn adam_step(
        &self,
        param: &mut CpuTensor,
        grad: &CpuTensor,
        m: &mut CpuTensor,
        v: &mut CpuTensor,
        hyper: AdamStep,
    ) -> Result<()> {
        shapes::check_adam(&hyper)?;
        for other in [&grad.shape, &m.shape, &v.shape] {
            shapes::expect_same("adam_step", &param.shape, other)?;
        }
        kernels::adam_step(
            param.data_mut(),
            &grad.data,
            m.data_mut(),
            v.data_mut(),
            hyper,
        );
        Ok(())
    }

    fn curvature_constraint(&self, pos: &mut CpuTensor, max: f32) -> Result<()> {
        shapes::check_curvature_max(max)?;
        let [rows, s] = shapes::rows_dims("curvature_constraint", &pos.shape)?;
        kernels::curvature_constraint(pos.data_mut(), rows, s, max);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `len` finite values in `[-1, 1)`.
    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len as u32)
            .map(|i| {
                (shapes::hash_u32(i ^ seed.wrapping_mul(0x9e37_79b9)) >> 8) as f32 / 8388608.0 - 1.0
            })
            .collect()
    }

    fn tensor(shape: &[usize], seed: u32) -> CpuTensor {
        CpuTensor::new(values(shape.iter().product(), seed), shape).unwrap()
    }

    /// Keeps storage of `len` NaNs for the next tensor of that size; its address.
    fn poison(len: usize) -> *const f32 {
        let buffer = vec![f32::NAN; len];
        let address = buffer.as_ptr();
        storage_pool::keep(buffer);
        address
    }

    /// `make` builds its output on poisoned storage, and writes every value of it.
    fn writes_all_of_kept_storage(what: &str, len: usize, make: impl FnOnce() -> CpuTensor) {
        let address = poison(len);
        let out = make();
        assert_eq!(out.len(), len, "{what}");
        assert_eq!(
            out.data().as_ptr(),
            address,
            "{what}: the kept storage was not reused"
        );
        let stale = out.data().iter().filter(|v| !v.is_finite()).count();
        assert_eq!(
            stale, 0,
            "{what}: {stale} values left as the storage held them"
        );
    }

    #[test]
    fn outputs_on_the_storage_of_dropped_tensors_hold_none_of_its_values() {
        let cpu = Cpu;
        // sizes no other test of this binary uses, each above the pool's minimum
        let (n, c, l, f, k) = (13, 10, 301, 16, 9);
        let spec = Conv1dSpec {
            pad_left: 3,
            pad_right: 2,
            dilation: 2,
        };
        let l_out = l + 5 - 2 * (k - 1);
        let x = tensor(&[n, c, l], 1);
        let w = tensor(&[f, c, k], 2);
        let b = tensor(&[f], 3);
        let y_len = n * f * l_out;
        writes_all_of_kept_storage("conv1d", y_len, || cpu.conv1d(&x, &w, &b, spec).unwrap());
        let y = cpu.conv1d_relu(&x, &w, &b, spec).unwrap();
        let dy = tensor(&[n, f, l_out], 4);
        writes_all_of_kept_storage("conv1d_relu_backward dx", n * c * l, || {
            cpu.conv1d_relu_backward(&x, &w, &y, &dy, spec, true)
                .unwrap()
                .dx
                .unwrap()
        });
        writes_all_of_kept_storage("relu", y_len, || cpu.relu(&dy).unwrap());
        writes_all_of_kept_storage("add", y_len, || cpu.add(&dy, &y).unwrap());
        let pool = PoolSpec { size: 3, stride: 2 };
        let pooled = (l_out - 3) / 2 + 1;
        writes_all_of_kept_storage("maxpool1d", n * f * pooled, || {
            cpu.maxpool1d(&dy, pool).unwrap()
        });
        let (u, sep_l) = (5, 37);
        let xs = tensor(&[3 * n, 2 * c, sep_l], 5);
        let pos = tensor(&[u, sep_l], 6);
        let chan = tensor(&[u, 2 * c], 7);
        let dys = tensor(&[3 * n, u], 8);
        writes_all_of_kept_storage("separable_backward dx", 3 * n * 2 * c * sep_l, || {
            cpu.separable_backward(&xs, &pos, &chan, &dys, true)
                .unwrap()
                .dx
                .unwrap()
        });
    }
}
