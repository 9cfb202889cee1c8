//! A sequential model built from a [`Config`]: its layers, their parameters on a backend,
//! the forward pass on a tape, one training step, predictions, and the weights file.
//!
//! ```
//! use sepfc::backend::{Backend, cpu::Cpu};
//! use sepfc::config::Config;
//! use sepfc::model::Model;
//!
//! let config = Config::from_toml_str(r#"
//!     [[layers]]
//!     type = "revcomp_conv1d"
//!     filters = 4
//!     kernel_size = 5
//!     activation = "relu"
//!     [[layers]]
//!     type = "maxpool1d"
//!     pool_size = 2
//!     [[layers]]
//!     type = "separable_fc"
//!     units = 3
//!     symmetric = true
//!     tie_rc_channels = true
//!     activation = "relu"
//!     [[layers]]
//!     type = "dense"
//!     units = 2
//! "#).unwrap();
//! let cpu = Cpu;
//! let model = Model::new(&cpu, config, 22, 0).unwrap();   // inputs (N, 4, 22)
//! let x = cpu.full(&[5, 4, 22], 0.25).unwrap();
//! let p = cpu.download(&model.predict(&cpu, &x).unwrap()).unwrap();
//! assert_eq!(p.len(), 5 * 2);                              // (N, tasks) probabilities
//! ```

mod architecture;
pub mod memory;
mod twin;
mod weights;

use std::ops::Range;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::autodiff::{Tape, Var};
use crate::backend::{Backend, Loss, Tensor};
use crate::config::Config;
use crate::graph::{Eval, Graph};
use crate::layers::{Init, Layer, Mode, ParamSpec};
use crate::optim::{Optimizer, Parameter};
use crate::{Error, Result};

pub use architecture::{INPUT_CHANNELS, resolve};
pub use twin::{TwinReport, dense_twin};
pub use weights::{CONFIG_KEY, INPUT_LENGTH_KEY, TASKS_KEY};

/// A model's forward pass recorded on a tape.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `(N, tasks)` logits.
    pub logits: Var,
    /// The parameters as recorded, in [`Model::parameters`] order.
    pub params: Vec<Var>,
    /// The sum of the layers' regularization terms, if any.
    pub penalty: Option<Var>,
}

/// A sequential model with its parameters on backend `B`.
pub struct Model<B: Backend> {
    config: Config,
    input_length: usize,
    layers: Vec<Layer>,
    /// Parameters of all layers, layer by layer.
    params: Vec<Parameter<B>>,
    /// `layers.{i}.{name}` of each parameter.
    names: Vec<String>,
    /// Names of the tasks, one per logit.
    task_names: Vec<String>,
    /// The range of `params` each layer owns.
    owned: Vec<Range<usize>>,
}

/// `task0`, `task1`, ... for the last layer's outputs.
fn default_task_names(layers: &[Layer]) -> Vec<String> {
    let tasks = layers.last().map_or(0, |l| l.output().size());
    (0..tasks).map(|i| format!("task{i}")).collect()
}

/// The specs of every parameter of `layers`, with names and per-layer ranges.
fn param_layout(layers: &[Layer]) -> (Vec<ParamSpec>, Vec<String>, Vec<Range<usize>>) {
    let (mut specs, mut names, mut owned) = (Vec::new(), Vec::new(), Vec::new());
    for (i, layer) in layers.iter().enumerate() {
        let start = specs.len();
        for spec in layer.params() {
            names.push(format!("layers.{i}.{}", spec.name));
            specs.push(spec);
        }
        owned.push(start..specs.len());
    }
    (specs, names, owned)
}

impl<B: Backend> Model<B> {
    /// Builds the model of `config` for inputs of length `input_length` and initialises its
    /// parameters from `seed`.
    pub fn new(backend: &B, config: Config, input_length: usize, seed: u64) -> Result<Self> {
        let layers = resolve(&config.layers, input_length)?;
        memory::check_fits(&config, &layers, 0)?;
        let (specs, names, owned) = param_layout(&layers);
        let mut rng = StdRng::seed_from_u64(seed);
        let params = specs
            .iter()
            .map(|spec| {
                let n = spec.shape.iter().product();
                let values: Vec<f32> = match spec.init {
                    Init::Zeros => vec![0.0; n],
                    Init::Uniform(b) => (0..n).map(|_| rng.random_range(-b..b)).collect(),
                };
                Ok(Parameter {
                    value: backend.upload(&values, &spec.shape)?,
                    constraint: spec.constraint,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let task_names = default_task_names(&layers);
        Ok(Self {
            config,
            input_length,
            layers,
            params,
            names,
            task_names,
            owned,
        })
    }

    /// The names of the tasks (`task0`, `task1`, ... unless set), one per logit.
    pub fn task_names(&self) -> &[String] {
        &self.task_names
    }

    /// Whether the tasks have names of their own (from the labels it was trained on, or its
    /// weights file's `tasks` entry), rather than the default `task0`, `task1`, ...
    pub fn has_task_names(&self) -> bool {
        self.task_names != default_task_names(&self.layers)
    }

    /// Names the tasks, e.g. after the columns of the labels the model was trained on.
    pub fn set_task_names(&mut self, names: Vec<String>) -> Result<()> {
        if names.len() != self.tasks() {
            return Err(Error::invalid(
                "set_task_names",
                format!("{} names for {} tasks", names.len(), self.tasks()),
            ));
        }
        self.task_names = names;
        Ok(())
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The loss it is trained with (`[train] loss`), which also says what its outputs predict:
    /// probabilities (`bce`), values (`mse`) or rates (`poisson`), see [`Loss::predict`].
    pub fn loss(&self) -> Loss {
        self.config.train.loss
    }

    /// The sequence length the model reads.
    pub fn input_length(&self) -> usize {
        self.input_length
    }

    /// The resolved layers.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Number of tasks (logits per sequence).
    pub fn tasks(&self) -> usize {
        self.layers.last().map_or(0, |l| l.output().size())
    }

    /// The parameters, layer by layer, with their names in the weights file.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, &Parameter<B>)> {
        self.names.iter().map(String::as_str).zip(&self.params)
    }

    /// Number of trainable values.
    pub fn parameter_count(&self) -> usize {
        self.params.iter().map(|p| p.value.len()).sum()
    }

    /// Replaces parameter `name` (e.g. `layers.2.pos`) with `value` of the same shape.
    pub fn set_parameter(&mut self, name: &str, value: B::Tensor) -> Result<()> {
        let i = self
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::invalid("set_parameter", format!("no parameter {name}")))?;
        crate::backend::shapes::expect_same(
            "set_parameter",
            self.params[i].value.shape(),
            value.shape(),
        )?;
        self.params[i].value = value;
        Ok(())
    }

    /// The current parameter values (cheap handles; later steps copy before writing).
    pub fn snapshot(&self) -> Vec<B::Tensor> {
        self.params.iter().map(|p| p.value.clone()).collect()
    }

    /// Puts back values taken by [`Model::snapshot`].
    pub fn restore(&mut self, values: Vec<B::Tensor>) -> Result<()> {
        if values.len() != self.params.len() {
            return Err(Error::invalid(
                "restore",
                format!(
                    "{} values for {} parameters",
                    values.len(),
                    self.params.len()
                ),
            ));
        }
        for (p, v) in self.params.iter_mut().zip(values) {
            crate::backend::shapes::expect_same("restore", p.value.shape(), v.shape())?;
            p.value = v;
        }
        Ok(())
    }

    /// The forward pass of the batch `x` on `g` with the parameter values `params` (in
    /// [`Model::parameters`] order): `(N, tasks)` logits. A convolution with relu followed
    /// by max pooling is one [`Graph::conv1d_relu_maxpool`] op.
    pub fn forward<G: Graph<B>>(
        &self,
        g: &mut G,
        x: G::Value,
        params: &[G::Value],
        mode: Mode,
    ) -> Result<G::Value> {
        let shape = g.shape(&x);
        if shape.len() != 3 || shape[1] != INPUT_CHANNELS || shape[2] != self.input_length {
            return Err(Error::shape(
                "model input",
                format!(
                    "expected (batch, {INPUT_CHANNELS}, {}), got {shape:?}",
                    self.input_length
                ),
            ));
        }
        let mut h = x;
        let mut i = 0;
        while i < self.layers.len() {
            let own = &params[self.owned[i].clone()];
            match (&self.layers[i], self.layers.get(i + 1)) {
                (Layer::Conv(conv), Some(Layer::Pool(pool))) => {
                    h = conv.forward(g, h, own, Some(pool.spec))?;
                    i += 2;
                }
                (layer, _) => {
                    h = layer.forward(g, h, own, mode)?;
                    i += 1;
                }
            }
        }
        Ok(h)
    }

    /// Records the forward pass of the batch `x` (`(N, 4, input_length)`) on `tape`, with
    /// the parameters as leaves whose gradients [`Tape::backward`] returns, and the layers'
    /// regularization terms.
    pub fn record(&self, tape: &mut Tape<'_, B>, x: Var, mode: Mode) -> Result<Recorded> {
        let params: Vec<Var> = self
            .params
            .iter()
            .map(|p| tape.param(p.value.clone()))
            .collect();
        let logits = self.forward(tape, x, &params, mode)?;
        let mut penalty: Option<Var> = None;
        for (layer, range) in self.layers.iter().zip(&self.owned) {
            if let Some(p) = layer.penalty(tape, &params[range.clone()])? {
                penalty = Some(match penalty {
                    Some(sum) => tape.add(sum, p)?,
                    None => p,
                });
            }
        }
        Ok(Recorded {
            logits,
            params,
            penalty,
        })
    }

    /// Records the forward pass of `x` without dropout, with the parameters as constants: a
    /// backward pass then computes the gradients of the inputs recorded with
    /// [`Tape::param`] only (no parameter gradient). Returns the `(N, tasks)` logits.
    pub fn record_frozen(&self, tape: &mut Tape<'_, B>, x: Var) -> Result<Var> {
        let params = self.frozen_parameters(tape);
        self.forward(tape, x, &params, Mode::INFERENCE)
    }

    /// The parameters recorded on `tape` as constants (no gradient), in the order
    /// [`Model::forward`] takes them: for forward passes on other graphs over the same tape.
    pub fn frozen_parameters(&self, tape: &mut Tape<'_, B>) -> Vec<Var> {
        self.params
            .iter()
            .map(|p| tape.input(p.value.clone()))
            .collect()
    }

    /// One training step on a batch: forward with dropout seeded by `seed`, masked binary
    /// cross-entropy plus the regularizers, backward, `optimizer` step and constraints.
    /// Returns the loss as a `(1)` tensor, left on the device.
    pub fn train_step(
        &mut self,
        backend: &B,
        optimizer: &mut dyn Optimizer<B>,
        x: &B::Tensor,
        targets: &B::Tensor,
        mask: &B::Tensor,
        seed: u32,
    ) -> Result<B::Tensor> {
        let mut tape = Tape::new(backend);
        let x = tape.input(x.clone());
        let recorded = self.record(
            &mut tape,
            x,
            Mode {
                training: true,
                seed,
            },
        )?;
        let data_loss = tape.loss(self.loss(), recorded.logits, targets, mask)?;
        let loss = match recorded.penalty {
            Some(p) => tape.add(data_loss, p)?,
            None => data_loss,
        };
        let value = tape.value(loss).clone();
        let grads = tape.backward(loss)?;
        let grads: Vec<_> = recorded.params.iter().map(|v| grads.get(*v)).collect();
        optimizer.step(backend, &mut self.params, &grads)?;
        Ok(value)
    }

    /// `(N, tasks)` logits of the batch `x`, without dropout, evaluated without a tape: no
    /// backward closure is recorded and each activation is freed once the next layer has
    /// read it.
    pub fn logits(&self, backend: &B, x: &B::Tensor) -> Result<B::Tensor> {
        let params: Vec<B::Tensor> = self.params.iter().map(|p| p.value.clone()).collect();
        self.forward(&mut Eval::new(backend), x.clone(), &params, Mode::INFERENCE)
    }

    /// `(N, tasks)` probabilities: the sigmoid of [`Model::logits`].
    pub fn predict(&self, backend: &B, x: &B::Tensor) -> Result<B::Tensor> {
        backend.sigmoid(&self.logits(backend, x)?)
    }
}
