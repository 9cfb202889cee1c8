//! `dense`.

use super::{Init, ParamSpec, Shape, activate, glorot};
use crate::Result;
use crate::backend::Backend;
use crate::config::{Activation, DenseConfig};
use crate::graph::Graph;

/// A resolved dense layer over the flattened input (index `c * L + l`).
#[derive(Debug, Clone, PartialEq)]
pub struct DenseLayer {
    /// Input features per example.
    pub in_features: usize,
    /// Output units.
    pub units: usize,
    /// Activation after the layer.
    pub activation: Activation,
}

impl DenseLayer {
    /// Checks `config` against `input`.
    pub fn new(config: &DenseConfig, input: Shape) -> Result<Self, String> {
        if config.units == 0 {
            return Err("units must be positive".into());
        }
        Ok(Self {
            in_features: input.size(),
            units: config.units,
            activation: config.activation,
        })
    }

    pub(super) fn output(&self) -> Shape {
        Shape::Flat(self.units)
    }

    pub(super) fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec {
                name: "weight",
                shape: vec![self.units, self.in_features],
                init: glorot(self.in_features, self.units),
                constraint: None,
            },
            ParamSpec {
                name: "bias",
                shape: vec![self.units],
                init: Init::Zeros,
                constraint: None,
            },
        ]
    }

    pub(super) fn forward<B: Backend, G: Graph<B>>(
        &self,
        g: &mut G,
        x: G::Value,
        params: &[G::Value],
    ) -> Result<G::Value> {
        let batch = g.shape(&x)[0];
        let flat = g.reshape(x, &[batch, self.in_features])?;
        let y = g.dense(flat, params[0].clone(), params[1].clone())?;
        activate(g, y, self.activation)
    }
}
