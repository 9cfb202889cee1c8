//! Optimizers (SGD and Adam with PyTorch's semantics) and the constraints applied right after
//! each step. Both run on whatever backend holds the parameters.
//!
//! ```
//! use sepfc::backend::{Backend, cpu::Cpu};
//! use sepfc::optim::{Optimizer, Parameter, Sgd};
//!
//! let cpu = Cpu;
//! let mut params = vec![Parameter::new(cpu.upload(&[1.0, 2.0], &[2]).unwrap())];
//! let grad = cpu.upload(&[0.5, -0.5], &[2]).unwrap();
//! let mut sgd = Sgd { lr: 0.1 };
//! sgd.step(&cpu, &mut params, &[Some(&grad)]).unwrap();
//! assert_eq!(cpu.download(&params[0].value).unwrap(), vec![0.95, 2.05]);
//! ```

use crate::backend::{AdamStep, AdamTarget, Backend, Tensor};
use crate::{Error, Result};

/// A constraint applied to a parameter right after each optimizer step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Constraint {
    /// The curvature constraint of docs/layer.md on rows of positional weights `(units, S)`: second
    /// differences clipped to `[-max, max]`, means preserved.
    Curvature {
        /// Bound on the absolute second difference.
        max: f32,
    },
}

impl Constraint {
    /// Applies the constraint to `value` in place.
    pub fn apply<B: Backend>(&self, backend: &B, value: &mut B::Tensor) -> Result<()> {
        match *self {
            Constraint::Curvature { max } => backend.curvature_constraint(value, max),
        }
    }
}

/// A trainable tensor and the constraint (if any) that holds after every step.
#[derive(Debug, Clone)]
pub struct Parameter<B: Backend> {
    /// The current value.
    pub value: B::Tensor,
    /// Applied right after each optimizer step.
    pub constraint: Option<Constraint>,
}

impl<B: Backend> Parameter<B> {
    /// An unconstrained parameter.
    pub fn new(value: B::Tensor) -> Self {
        Self {
            value,
            constraint: None,
        }
    }
}

/// What an optimizer carries from step to step, for checkpoints: its step count and named
/// tensors (Adam's moments `m.{i}` and `v.{i}` of parameter `i`).
pub struct OptimizerState<B: Backend> {
    /// Steps taken.
    pub step: u32,
    /// Named state tensors.
    pub tensors: Vec<(String, B::Tensor)>,
}

/// Updates parameters from their gradients.
pub trait Optimizer<B: Backend> {
    /// One step: `grads[i]` is the gradient of `params[i]`, or `None` for a parameter the loss
    /// does not depend on (left unchanged). Constraints are applied after the update.
    fn step(
        &mut self,
        backend: &B,
        params: &mut [Parameter<B>],
        grads: &[Option<&B::Tensor>],
    ) -> Result<()>;

    /// The state to save in a checkpoint.
    fn state(&self) -> OptimizerState<B>;

    /// Continues from a state [`Optimizer::state`] returned.
    fn load_state(&mut self, state: OptimizerState<B>) -> Result<()>;
}

fn check_counts(params: usize, grads: usize) -> Result<()> {
    if params != grads {
        return Err(Error::invalid(
            "optimizer step",
            format!("{params} parameters but {grads} gradients"),
        ));
    }
    Ok(())
}

/// Plain stochastic gradient descent: `w -= lr * g`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
}

impl<B: Backend> Optimizer<B> for Sgd {
    fn step(
        &mut self,
        backend: &B,
        params: &mut [Parameter<B>],
        grads: &[Option<&B::Tensor>],
    ) -> Result<()> {
        check_counts(params.len(), grads.len())?;
        for (p, g) in params.iter_mut().zip(grads) {
            if let Some(g) = g {
                backend.sgd_step(&mut p.value, g, self.lr)?;
                if let Some(c) = p.constraint {
                    c.apply(backend, &mut p.value)?;
                }
            }
        }
        Ok(())
    }

    fn state(&self) -> OptimizerState<B> {
        OptimizerState {
            step: 0,
            tensors: Vec::new(),
        }
    }

    fn load_state(&mut self, state: OptimizerState<B>) -> Result<()> {
        match state.tensors.first() {
            None => Ok(()),
            Some((name, _)) => Err(Error::invalid(
                "sgd state",
                format!("SGD keeps no state, got tensor {name}"),
            )),
        }
    }
}

/// The two moments of one parameter as a state file lists them, either possibly missing.
type MomentPair<B> = (
    Option<<B as Backend>::Tensor>,
    Option<<B as Backend>::Tensor>,
);

/// Adam as PyTorch defines it (bias-corrected moments, `eps` outside the square root).
pub struct Adam<B: Backend> {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay (0.9).
    pub beta1: f32,
    /// Second-moment decay (0.999).
    pub beta2: f32,
    /// Denominator offset (1e-8).
    pub eps: f32,
    /// L2 penalty added to the gradient (0).
    pub weight_decay: f32,
    step: u32,
    moments: Vec<Option<(B::Tensor, B::Tensor)>>,
}

impl<B: Backend> Adam<B> {
    /// Adam with PyTorch's defaults and learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Self {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            step: 0,
            moments: Vec::new(),
        }
    }

    /// Steps taken so far.
    pub fn steps_taken(&self) -> u32 {
        self.step
    }
}

impl<B: Backend> Optimizer<B> for Adam<B> {
    fn step(
        &mut self,
        backend: &B,
        params: &mut [Parameter<B>],
        grads: &[Option<&B::Tensor>],
    ) -> Result<()> {
        check_counts(params.len(), grads.len())?;
        if self.moments.len() < params.len() {
            self.moments.resize_with(params.len(), || None);
        }
        self.step += 1;
        let hyper = AdamStep {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            step: self.step,
        };
        for ((p, g), slot) in params.iter().zip(grads).zip(&mut self.moments) {
            if g.is_some() && slot.is_none() {
                let shape = p.value.shape().to_vec();
                *slot = Some((backend.full(&shape, 0.0)?, backend.full(&shape, 0.0)?));
            }
        }
        let mut targets: Vec<AdamTarget<'_, B::Tensor>> = params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.moments)
            .filter_map(|((p, g), slot)| {
                let (m, v) = slot.as_mut()?;
                Some(AdamTarget {
                    param: &mut p.value,
                    grad: g.as_ref()?,
                    m,
                    v,
                })
            })
            .collect();
        backend.adam_step_all(&mut targets, hyper)?;
        drop(targets);
        for (p, g) in params.iter_mut().zip(grads) {
            if let (Some(_), Some(c)) = (g, p.constraint) {
                c.apply(backend, &mut p.value)?;
            }
        }
        Ok(())
    }

    fn state(&self) -> OptimizerState<B> {
        let mut tensors = Vec::new();
        for (i, slot) in self.moments.iter().enumerate() {
            if let Some((m, v)) = slot {
                tensors.push((format!("m.{i}"), m.clone()));
                tensors.push((format!("v.{i}"), v.clone()));
            }
        }
        OptimizerState {
            step: self.step,
            tensors,
        }
    }

    fn load_state(&mut self, state: OptimizerState<B>) -> Result<()> {
        let bad = |name: &str| Error::invalid("adam state", format!("unexpected tensor {name}"));
        let mut halves: Vec<MomentPair<B>> = Vec::new();
        for (name, t) in state.tensors {
            let (kind, index) = name.split_once('.').ok_or_else(|| bad(&name))?;
            let i: usize = index.parse().map_err(|_| bad(&name))?;
            if halves.len() <= i {
                halves.resize_with(i + 1, || (None, None));
            }
            match kind {
                "m" => halves[i].0 = Some(t),
                "v" => halves[i].1 = Some(t),
                _ => return Err(bad(&name)),
            }
        }
        self.moments = halves
            .into_iter()
            .enumerate()
            .map(|(i, pair)| match pair {
                (Some(m), Some(v)) => Ok(Some((m, v))),
                (None, None) => Ok(None),
                _ => Err(Error::invalid(
                    "adam state",
                    format!("parameter {i} has only one of its two moments"),
                )),
            })
            .collect::<Result<_>>()?;
        self.step = state.step;
        Ok(())
    }
}
