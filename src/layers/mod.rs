//! Model layers: each resolves its shapes from its input's, lists its parameters, and records
//! its forward pass on a [`Tape`] with backend ops.

mod conv;
mod dense;
mod dropout;
mod pool;
mod separable;

use crate::Result;
use crate::autodiff::{Tape, Var};
use crate::backend::Backend;
use crate::config::Activation;
use crate::graph::Graph;
use crate::optim::Constraint;

pub use conv::ConvLayer;
pub use dense::DenseLayer;
pub use dropout::DropoutLayer;
pub use pool::PoolLayer;
pub use separable::SeparableLayer;

/// The shape of one example's activations between layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `(channels, length)`, as convolutions and pooling produce.
    Seq {
        /// Channels.
        channels: usize,
        /// Positions.
        length: usize,
    },
    /// A vector of features, as dense and separable layers produce.
    Flat(usize),
}

impl Shape {
    /// Number of values per example.
    pub fn size(self) -> usize {
        match self {
            Shape::Seq { channels, length } => channels * length,
            Shape::Flat(n) => n,
        }
    }

    /// `(channels, length)`, or an error for flat input.
    pub(crate) fn seq(self, layer: &str) -> Result<(usize, usize), String> {
        match self {
            Shape::Seq { channels, length } => Ok((channels, length)),
            Shape::Flat(n) => Err(format!(
                "{layer} needs (channels, length) input, but its input is a vector of {n} features"
            )),
        }
    }
}

/// How a parameter starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// Uniform in `[-bound, bound)`.
    Uniform(f32),
}

/// A parameter a layer owns: its name in the weights file, shape, start and constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// `weight`, `bias`, `pos` or `chan`.
    pub name: &'static str,
    /// Stored shape.
    pub shape: Vec<usize>,
    /// Initialisation.
    pub init: Init,
    /// Applied after every optimizer step.
    pub constraint: Option<Constraint>,
}

/// Glorot (Xavier) uniform bound for the given fans, as Keras initialises.
pub(crate) fn glorot(fan_in: usize, fan_out: usize) -> Init {
    Init::Uniform((6.0 / (fan_in + fan_out).max(1) as f32).sqrt())
}

/// Training or inference, and the seed of this step's dropout masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// Dropout is active only in training.
    pub training: bool,
    /// Seed of the dropout masks of this step.
    pub seed: u32,
}

impl Mode {
    /// Inference: no dropout.
    pub const INFERENCE: Mode = Mode {
        training: false,
        seed: 0,
    };
}

/// Applies `activation` to `x`.
pub(crate) fn activate<B: Backend, G: Graph<B>>(
    g: &mut G,
    x: G::Value,
    a: Activation,
) -> Result<G::Value> {
    match a {
        Activation::None => Ok(x),
        Activation::Relu => g.relu(x),
        Activation::Sigmoid => g.sigmoid(x),
    }
}

/// A resolved layer: its configuration checked against its input shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// `conv1d` or `revcomp_conv1d`.
    Conv(ConvLayer),
    /// `maxpool1d`.
    Pool(PoolLayer),
    /// `separable_fc`.
    Separable(SeparableLayer),
    /// `dense`.
    Dense(DenseLayer),
    /// `dropout`.
    Dropout(DropoutLayer),
}

impl Layer {
    /// The shape of one example's output.
    pub fn output(&self) -> Shape {
        match self {
            Layer::Conv(l) => l.output(),
            Layer::Pool(l) => l.output(),
            Layer::Separable(l) => l.output(),
            Layer::Dense(l) => l.output(),
            Layer::Dropout(l) => l.output(),
        }
    }

    /// The parameters the layer owns, in the order [`Layer::forward`] takes them.
    pub fn params(&self) -> Vec<ParamSpec> {
        match self {
            Layer::Conv(l) => l.params(),
            Layer::Separable(l) => l.params(),
            Layer::Dense(l) => l.params(),
            Layer::Pool(_) | Layer::Dropout(_) => Vec::new(),
        }
    }

    /// The layer on a batch `x`, with its parameters `params`, on `g` (recorded on a tape, or
    /// evaluated).
    pub fn forward<B: Backend, G: Graph<B>>(
        &self,
        g: &mut G,
        x: G::Value,
        params: &[G::Value],
        mode: Mode,
    ) -> Result<G::Value> {
        match self {
            Layer::Conv(l) => l.forward(g, x, params, None),
            Layer::Pool(l) => g.maxpool1d(x, l.spec),
            Layer::Separable(l) => l.forward(g, x, params),
            Layer::Dense(l) => l.forward(g, x, params),
            Layer::Dropout(l) => l.forward(g, x, mode),
        }
    }

    /// The layer's regularization term, if it has one.
    pub fn penalty<B: Backend>(
        &self,
        tape: &mut Tape<'_, B>,
        params: &[Var],
    ) -> Result<Option<Var>> {
        match self {
            Layer::Separable(l) => l.penalty(tape, params),
            _ => Ok(None),
        }
    }

    /// The activation applied at the layer's output.
    pub fn activation(&self) -> Activation {
        match self {
            Layer::Conv(l) => l.activation,
            Layer::Separable(l) => l.activation,
            Layer::Dense(l) => l.activation,
            Layer::Pool(_) | Layer::Dropout(_) => Activation::None,
        }
    }
}
