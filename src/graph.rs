//! The ops a layer's forward pass is written in, over two kinds of value: [`Var`]s recorded on
//! a [`Tape`] (for training and gradients), or tensors computed at once on the backend by
//! [`Eval`] (for inference: nothing is recorded, and each activation is dropped as soon as the
//! next layer has read it). Layers are written once, against [`Graph`].
//!
//! ```
//! use sepfc::backend::{Backend, PoolSpec, cpu::Cpu};
//! use sepfc::graph::{Eval, Graph};
//!
//! let cpu = Cpu;
//! let mut eval = Eval::new(&cpu);
//! let x = cpu.upload(&[1.0, -3.0, 2.0, 0.5], &[1, 1, 4]).unwrap();   // (N, C, L)
//! let y = eval.maxpool1d(x, PoolSpec { size: 2, stride: 2 }).unwrap();
//! assert_eq!(cpu.download(&y).unwrap(), vec![1.0, 2.0]);
//! ```

use crate::Result;
use crate::autodiff::{Tape, Var};
use crate::backend::{Backend, Conv1dSpec, PoolSpec, Tensor};

/// The forward ops of the layers, on values of type [`Graph::Value`]. Inputs are taken by
/// value (handles: a [`Var`] is an index, a tensor a shared buffer), so that an evaluation can
/// drop an activation once its consumer has run.
pub trait Graph<B: Backend> {
    /// What the ops take and return.
    type Value: Clone;

    /// The shape of `v`.
    fn shape(&self, v: &Self::Value) -> Vec<usize>;

    /// [`Backend::conv1d`].
    fn conv1d(
        &mut self,
        x: Self::Value,
        w: Self::Value,
        b: Self::Value,
        spec: Conv1dSpec,
    ) -> Result<Self::Value>;

    /// [`Backend::conv1d_relu`].
    fn conv1d_relu(
        &mut self,
        x: Self::Value,
        w: Self::Value,
        b: Self::Value,
        spec: Conv1dSpec,
    ) -> Result<Self::Value>;

    /// [`Backend::conv1d_relu_maxpool`]: a convolution, its relu and a max pooling; recorded
    /// as the two ops on a tape, fused on the backend when evaluated.
    fn conv1d_relu_maxpool(
        &mut self,
        x: Self::Value,
        w: Self::Value,
        b: Self::Value,
        spec: Conv1dSpec,
        pool: PoolSpec,
    ) -> Result<Self::Value> {
        let y = self.conv1d_relu(x, w, b, spec)?;
        self.maxpool1d(y, pool)
    }

    /// [`Backend::rc_expand`].
    fn rc_expand(&mut self, w: Self::Value) -> Result<Self::Value>;

    /// [`Backend::mirror_expand`].
    fn mirror_expand(&mut self, v: Self::Value, n: usize) -> Result<Self::Value>;

    /// [`Backend::maxpool1d`].
    fn maxpool1d(&mut self, x: Self::Value, spec: PoolSpec) -> Result<Self::Value>;

    /// [`Backend::separable`].
    fn separable(
        &mut self,
        x: Self::Value,
        pos: Self::Value,
        chan: Self::Value,
    ) -> Result<Self::Value>;

    /// [`Backend::dense`].
    fn dense(&mut self, x: Self::Value, w: Self::Value, b: Self::Value) -> Result<Self::Value>;

    /// [`Backend::reshape`].
    fn reshape(&mut self, x: Self::Value, shape: &[usize]) -> Result<Self::Value>;

    /// [`Backend::relu`].
    fn relu(&mut self, x: Self::Value) -> Result<Self::Value>;

    /// [`Backend::sigmoid`].
    fn sigmoid(&mut self, x: Self::Value) -> Result<Self::Value>;

    /// [`Backend::dropout`].
    fn dropout(&mut self, x: Self::Value, rate: f32, seed: u32) -> Result<Self::Value>;
}

impl<B: Backend> Graph<B> for Tape<'_, B> {
    type Value = Var;

    fn shape(&self, v: &Var) -> Vec<usize> {
        self.value(*v).shape().to_vec()
    }

    fn conv1d(&mut self, x: Var, w: Var, b: Var, spec: Conv1dSpec) -> Result<Var> {
        Tape::conv1d(self, x, w, b, spec)
    }

    fn conv1d_relu(&mut self, x: Var, w: Var, b: Var, spec: Conv1dSpec) -> Result<Var> {
        Tape::conv1d_relu(self, x, w, b, spec)
    }

    fn rc_expand(&mut self, w: Var) -> Result<Var> {
        Tape::rc_expand(self, w)
    }

    fn mirror_expand(&mut self, v: Var, n: usize) -> Result<Var> {
        Tape::mirror_expand(self, v, n)
    }

    fn maxpool1d(&mut self, x: Var, spec: PoolSpec) -> Result<Var> {
        Tape::maxpool1d(self, x, spec)
    }

    fn separable(&mut self, x: Var, pos: Var, chan: Var) -> Result<Var> {
        Tape::separable(self, x, pos, chan)
    }

    fn dense(&mut self, x: Var, w: Var, b: Var) -> Result<Var> {
        Tape::dense(self, x, w, b)
    }

    fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        Tape::reshape(self, x, shape)
    }

    fn relu(&mut self, x: Var) -> Result<Var> {
        Tape::relu(self, x)
    }

    fn sigmoid(&mut self, x: Var) -> Result<Var> {
        Tape::sigmoid(self, x)
    }

    fn dropout(&mut self, x: Var, rate: f32, seed: u32) -> Result<Var> {
        Tape::dropout(self, x, rate, seed)
    }
}

/// Runs ops straight on the backend: values are tensors, nothing is recorded.
pub struct Eval<'b, B: Backend> {
    backend: &'b B,
}

impl<'b, B: Backend> Eval<'b, B> {
    /// An evaluation on `backend`.
    pub fn new(backend: &'b B) -> Self {
        Self { backend }
    }
}

impl<B: Backend> Graph<B> for Eval<'_, B> {
    type Value = B::Tensor;

    fn shape(&self, v: &B::Tensor) -> Vec<usize> {
        v.shape().to_vec()
    }

    fn conv1d(
        &mut self,
        x: B::Tensor,
        w: B::Tensor,
        b: B::Tensor,
        spec: Conv1dSpec,
    ) -> Result<B::Tensor> {
        self.backend.conv1d(&x, &w, &b, spec)
    }

    fn conv1d_relu(
        &mut self,
        x: B::Tensor,
        w: B::Tensor,
        b: B::Tensor,
        spec: Conv1dSpec,
    ) -> Result<B::Tensor> {
        self.backend.conv1d_relu(&x, &w, &b, spec)
    }

    fn conv1d_relu_maxpool(
        &mut self,
        x: B::Tensor,
        w: B::Tensor,
        b: B::Tensor,
        spec: Conv1dSpec,
        pool: PoolSpec,
    ) -> Result<B::Tensor> {
        self.backend.conv1d_relu_maxpool(&x, &w, &b, spec, pool)
    }

    fn rc_expand(&mut self, w: B::Tensor) -> Result<B::Tensor> {
        self.backend.rc_expand(&w)
    }

    fn mirror_expand(&mut self, v: B::Tensor, n: usize) -> Result<B::Tensor> {
        self.backend.mirror_expand(&v, n)
    }

    fn maxpool1d(&mut self, x: B::Tensor, spec: PoolSpec) -> Result<B::Tensor> {
        self.backend.maxpool1d(&x, spec)
    }

    fn separable(&mut self, x: B::Tensor, pos: B::Tensor, chan: B::Tensor) -> Result<B::Tensor> {
        self.backend.separable(&x, &pos, &chan)
    }

    fn dense(&mut self, x: B::Tensor, w: B::Tensor, b: B::Tensor) -> Result<B::Tensor> {
        self.backend.dense(&x, &w, &b)
    }

    fn reshape(&mut self, x: B::Tensor, shape: &[usize]) -> Result<B::Tensor> {
        self.backend.reshape(&x, shape)
    }

    fn relu(&mut self, x: B::Tensor) -> Result<B::Tensor> {
        self.backend.relu(&x)
    }

    fn sigmoid(&mut self, x: B::Tensor) -> Result<B::Tensor> {
        self.backend.sigmoid(&x)
    }

    fn dropout(&mut self, x: B::Tensor, rate: f32, seed: u32) -> Result<B::Tensor> {
        self.backend.dropout(&x, rate, seed)
    }
}
