//! The autodiff tape: every op computes its forward value at once and, when one of its inputs
//! needs a gradient, records a closure that maps the output's gradient to its inputs'
//! gradients. [`Tape::backward`] runs those closures in reverse and sums gradients per value.
//!
//! ```
//! use sepfc::autodiff::Tape;
//! use sepfc::backend::{Backend, Reduction, cpu::Cpu};
//!
//! let cpu = Cpu;
//! let mut tape = Tape::new(&cpu);
//! let w = tape.param(cpu.upload(&[1.0, -2.0, 3.0], &[1, 3]).unwrap());
//! let loss = tape.mean(w, Reduction::Square).unwrap(); // (1 + 4 + 9) / 3
//! let grads = tape.backward(loss).unwrap();
//! let dw = cpu.download(grads.get(w).unwrap()).unwrap(); // 2 w / 3
//! assert!((dw[1] + 4.0 / 3.0).abs() < 1e-6);
//! ```

use crate::Result;
use crate::backend::{Backend, Conv1dSpec, Loss, Nonlinearity, PoolSpec, Reduction, Tensor};

/// A value recorded on a [`Tape`]: an index, valid only for the tape that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Var(usize);

/// Maps the output's gradient to one optional gradient per input (`None` where the input needs
/// none, as told by the flags).
type BackwardFn<B> = Box<
    dyn FnOnce(&B, &<B as Backend>::Tensor, &[bool]) -> Result<Vec<Option<<B as Backend>::Tensor>>>,
>;

struct Step<B: Backend> {
    output: usize,
    inputs: Vec<usize>,
    backward: BackwardFn<B>,
}

/// A record of one forward pass on backend `B`.
pub struct Tape<'b, B: Backend> {
    backend: &'b B,
    values: Vec<B::Tensor>,
    needs_grad: Vec<bool>,
    is_leaf: Vec<bool>,
    steps: Vec<Step<B>>,
}

/// The gradients [`Tape::backward`] found, by [`Var`].
pub struct Gradients<B: Backend> {
    grads: Vec<Option<B::Tensor>>,
}

impl<B: Backend> Gradients<B> {
    /// The gradient of the loss with respect to `var`, if `var` needed one and the loss
    /// depends on it.
    pub fn get(&self, var: Var) -> Option<&B::Tensor> {
        self.grads.get(var.0).and_then(Option::as_ref)
    }
}

impl<'b, B: Backend> Tape<'b, B> {
    /// An empty tape on `backend`.
    pub fn new(backend: &'b B) -> Self {
        Self {
            backend,
            values: Vec::new(),
            needs_grad: Vec::new(),
            is_leaf: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// The backend the tape computes on.
    pub fn backend(&self) -> &'b B {
        self.backend
    }

    /// Records data that needs no gradient.
    pub fn input(&mut self, t: B::Tensor) -> Var {
        self.push(t, false, true)
    }

    /// Records a leaf whose gradient [`Tape::backward`] returns: a parameter, or an input whose
    /// gradient is wanted (for importance scores).
    pub fn param(&mut self, t: B::Tensor) -> Var {
        self.push(t, true, true)
    }

    /// The forward value of `var`.
    pub fn value(&self, var: Var) -> &B::Tensor {
        &self.values[var.0]
    }

    fn push(&mut self, t: B::Tensor, needs_grad: bool, is_leaf: bool) -> Var {
        self.values.push(t);
        self.needs_grad.push(needs_grad);
        self.is_leaf.push(is_leaf);
        Var(self.values.len() - 1)
    }

    /// Records `value` computed from `inputs`, with its backward closure if any input needs a
    /// gradient.
    fn record(
        &mut self,
        value: B::Tensor,
        inputs: &[Var],
        backward: impl FnOnce(&B, &B::Tensor, &[bool]) -> Result<Vec<Option<B::Tensor>>> + 'static,
    ) -> Var {
        let needs = inputs.iter().any(|v| self.needs_grad[v.0]);
        let out = self.push(value, needs, false);
        if needs {
            self.steps.push(Step {
                output: out.0,
                inputs: inputs.iter().map(|v| v.0).collect(),
                backward: Box::new(backward),
            });
        }
        out
    }

    fn val(&self, v: Var) -> B::Tensor {
        self.values[v.0].clone()
    }

    /// [`Backend::conv1d`].
    pub fn conv1d(&mut self, x: Var, w: Var, b: Var, spec: Conv1dSpec) -> Result<Var> {
        let (xt, wt) = (self.val(x), self.val(w));
        let y = self.backend.conv1d(&xt, &wt, self.value(b), spec)?;
        Ok(self.record(y, &[x, w, b], move |be, dy, want| {
            if !(want[1] || want[2]) {
                return Ok(vec![
                    Some(be.conv1d_input_grad(&xt, &wt, dy, spec)?),
                    None,
                    None,
                ]);
            }
            let g = be.conv1d_backward(&xt, &wt, dy, spec, want[0])?;
            Ok(vec![g.dx, Some(g.dw), Some(g.db)])
        }))
    }

    /// [`Backend::conv1d_relu`]: a convolution and its relu in one op.
    pub fn conv1d_relu(&mut self, x: Var, w: Var, b: Var, spec: Conv1dSpec) -> Result<Var> {
        let (xt, wt) = (self.val(x), self.val(w));
        let y = self.backend.conv1d_relu(&xt, &wt, self.value(b), spec)?;
        let yt = y.clone();
        Ok(self.record(y, &[x, w, b], move |be, dy, want| {
            if !(want[1] || want[2]) {
                let dx = be.conv1d_relu_input_grad(&xt, &wt, &yt, dy, spec)?;
                return Ok(vec![Some(dx), None, None]);
            }
            let g = be.conv1d_relu_backward(&xt, &wt, &yt, dy, spec, want[0])?;
            Ok(vec![g.dx, Some(g.dw), Some(g.db)])
        }))
    }

    /// [`Backend::rc_expand`]: the `(2F, ..)` weights of a reverse-complement convolution.
    pub fn rc_expand(&mut self, w: Var) -> Result<Var> {
        let y = self.backend.rc_expand(self.value(w))?;
        Ok(self.record(y, &[w], |be, dy, _| Ok(vec![Some(be.rc_fold(dy)?)])))
    }

    /// [`Backend::mirror_expand`]: symmetric positional or tied channel weights.
    pub fn mirror_expand(&mut self, v: Var, n: usize) -> Result<Var> {
        let y = self.backend.mirror_expand(self.value(v), n)?;
        Ok(self.record(y, &[v], |be, dy, _| Ok(vec![Some(be.mirror_fold(dy)?)])))
    }

    /// [`Backend::maxpool1d`].
    pub fn maxpool1d(&mut self, x: Var, spec: PoolSpec) -> Result<Var> {
        let xt = self.val(x);
        let y = self.backend.maxpool1d(&xt, spec)?;
        Ok(self.record(y, &[x], move |be, dy, _| {
            Ok(vec![Some(be.maxpool1d_backward(&xt, dy, spec)?)])
        }))
    }

    /// [`Backend::separable`].
    pub fn separable(&mut self, x: Var, pos: Var, chan: Var) -> Result<Var> {
        let (xt, pt, ct) = (self.val(x), self.val(pos), self.val(chan));
        let y = self.backend.separable(&xt, &pt, &ct)?;
        Ok(self.record(y, &[x, pos, chan], move |be, dy, want| {
            if !(want[1] || want[2]) {
                let dx = be.separable_input_grad(&xt, &pt, &ct, dy)?;
                return Ok(vec![Some(dx), None, None]);
            }
            let g = be.separable_backward(&xt, &pt, &ct, dy, want[0])?;
            Ok(vec![g.dx, Some(g.dpos), Some(g.dchan)])
        }))
    }

    /// [`Backend::dense`].
    pub fn dense(&mut self, x: Var, w: Var, b: Var) -> Result<Var> {
        let (xt, wt) = (self.val(x), self.val(w));
        let y = self.backend.dense(&xt, &wt, self.value(b))?;
        Ok(self.record(y, &[x, w, b], move |be, dy, want| {
            if !(want[1] || want[2]) {
                return Ok(vec![Some(be.dense_input_grad(&xt, &wt, dy)?), None, None]);
            }
            let g = be.dense_backward(&xt, &wt, dy, want[0])?;
            Ok(vec![g.dx, Some(g.dw), Some(g.db)])
        }))
    }

    /// The same values under another shape (e.g. `(N, C, L)` flattened to `(N, C*L)`).
    pub fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        let old = self.value(x).shape().to_vec();
        let y = self.backend.reshape(self.value(x), shape)?;
        Ok(self.record(y, &[x], move |be, dy, _| {
            Ok(vec![Some(be.reshape(dy, &old)?)])
        }))
    }

    /// [`Backend::relu`].
    pub fn relu(&mut self, x: Var) -> Result<Var> {
        let xt = self.val(x);
        let y = self.backend.relu(&xt)?;
        Ok(self.record(y, &[x], move |be, dy, _| {
            Ok(vec![Some(be.relu_backward(&xt, dy)?)])
        }))
    }

    /// [`Backend::sigmoid`].
    pub fn sigmoid(&mut self, x: Var) -> Result<Var> {
        let y = self.backend.sigmoid(self.value(x))?;
        let yt = y.clone();
        Ok(self.record(y, &[x], move |be, dy, _| {
            Ok(vec![Some(be.sigmoid_backward(&yt, dy)?)])
        }))
    }

    /// `nonlinearity` of `x`, differentiated by DeepLIFT's rescale rule: `x` holds `2 pairs`
    /// rows, inputs then their references, and the backward pass gives multipliers
    /// ([`Backend::deeplift_rescale`]) instead of gradients.
    pub fn deeplift_nonlinearity(
        &mut self,
        x: Var,
        nonlinearity: Nonlinearity,
        pairs: usize,
    ) -> Result<Var> {
        let xt = self.val(x);
        let y = match nonlinearity {
            Nonlinearity::Relu => self.backend.relu(&xt)?,
            Nonlinearity::Sigmoid => self.backend.sigmoid(&xt)?,
        };
        let yt = y.clone();
        Ok(self.record(y, &[x], move |be, dy, _| {
            let dx = be.deeplift_rescale(&xt, &yt, dy, nonlinearity, pairs)?;
            Ok(vec![Some(dx)])
        }))
    }

    /// [`Backend::maxpool1d`] of `x`, differentiated by DeepLIFT's rule for max pooling
    /// ([`Backend::deeplift_maxpool1d`]) on `2 pairs` rows as in
    /// [`Tape::deeplift_nonlinearity`].
    pub fn deeplift_maxpool1d(&mut self, x: Var, spec: PoolSpec, pairs: usize) -> Result<Var> {
        let xt = self.val(x);
        let y = self.backend.maxpool1d(&xt, spec)?;
        let yt = y.clone();
        Ok(self.record(y, &[x], move |be, dy, _| {
            Ok(vec![Some(
                be.deeplift_maxpool1d(&xt, &yt, dy, spec, pairs)?,
            )])
        }))
    }

    /// [`Backend::dropout`]; `seed` must differ between steps for fresh masks.
    pub fn dropout(&mut self, x: Var, rate: f32, seed: u32) -> Result<Var> {
        let y = self.backend.dropout(self.value(x), rate, seed)?;
        Ok(self.record(y, &[x], move |be, dy, _| {
            Ok(vec![Some(be.dropout_backward(dy, rate, seed)?)])
        }))
    }

    /// [`Backend::loss`] `kind` against fixed `targets` and `mask`.
    pub fn loss(
        &mut self,
        kind: Loss,
        logits: Var,
        targets: &B::Tensor,
        mask: &B::Tensor,
    ) -> Result<Var> {
        let zt = self.val(logits);
        let loss = self.backend.loss(kind, &zt, targets, mask)?;
        let (t, m) = (targets.clone(), mask.clone());
        Ok(self.record(loss, &[logits], move |be, dl, _| {
            Ok(vec![Some(be.loss_backward(kind, &zt, &t, &m, dl)?)])
        }))
    }

    /// [`Backend::bce_with_logits`] against fixed `targets` and `mask`.
    pub fn bce_with_logits(
        &mut self,
        logits: Var,
        targets: &B::Tensor,
        mask: &B::Tensor,
    ) -> Result<Var> {
        self.loss(Loss::Bce, logits, targets, mask)
    }

    /// [`Backend::diff`].
    pub fn diff(&mut self, x: Var, order: usize) -> Result<Var> {
        let y = self.backend.diff(self.value(x), order)?;
        Ok(self.record(y, &[x], move |be, dy, _| {
            Ok(vec![Some(be.diff_backward(dy, order)?)])
        }))
    }

    /// [`Backend::mean`].
    pub fn mean(&mut self, x: Var, kind: Reduction) -> Result<Var> {
        let xt = self.val(x);
        let y = self.backend.mean(&xt, kind)?;
        Ok(self.record(y, &[x], move |be, dy, _| {
            Ok(vec![Some(be.mean_backward(&xt, dy, kind)?)])
        }))
    }

    /// `s * x`.
    pub fn scale(&mut self, x: Var, s: f32) -> Result<Var> {
        let y = self.backend.scale(self.value(x), s)?;
        Ok(self.record(y, &[x], move |be, dy, _| Ok(vec![Some(be.scale(dy, s)?)])))
    }

    /// `a + b` (equal shapes), e.g. a loss plus a regularizer.
    pub fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        let y = self.backend.add(self.value(a), self.value(b))?;
        Ok(self.record(y, &[a, b], |_, dy, _| {
            Ok(vec![Some(dy.clone()), Some(dy.clone())])
        }))
    }

    /// Runs the tape backwards from `loss` (seeded with a gradient of ones) and returns the
    /// gradients of the leaves recorded with [`Tape::param`]. Intermediate gradients are
    /// dropped as soon as they have been passed on.
    pub fn backward(self, loss: Var) -> Result<Gradients<B>> {
        let backend = self.backend;
        let mut grads: Vec<Option<B::Tensor>> = vec![None; self.values.len()];
        grads[loss.0] = Some(backend.full(self.values[loss.0].shape(), 1.0)?);
        for step in self.steps.into_iter().rev() {
            let Some(dy) = grads[step.output].take() else {
                continue;
            };
            let want: Vec<bool> = step.inputs.iter().map(|&i| self.needs_grad[i]).collect();
            let input_grads = (step.backward)(backend, &dy, &want)?;
            for ((&input, g), wanted) in step.inputs.iter().zip(input_grads).zip(want) {
                let (Some(g), true) = (g, wanted) else {
                    continue;
                };
                grads[input] = Some(match grads[input].take() {
                    Some(prev) => backend.add(&prev, &g)?,
                    None => g,
                });
            }
        }
        for ((g, needs), leaf) in grads.iter_mut().zip(&self.needs_grad).zip(&self.is_leaf) {
            if !(needs & leaf) {
                *g = None;
            }
        }
        Ok(Gradients { grads })
    }
}
