//! `dropout`.

use super::{Mode, Shape};
use crate::Result;
use crate::backend::Backend;
use crate::backend::shapes::hash_u32;
use crate::config::DropoutConfig;
use crate::graph::Graph;

/// A resolved dropout; identity outside training.
#[derive(Debug, Clone, PartialEq)]
pub struct DropoutLayer {
    /// Probability of zeroing an element.
    pub rate: f32,
    /// Its index in the model, so that two dropout layers draw different masks.
    pub index: usize,
    /// Input and output shape.
    pub shape: Shape,
}

impl DropoutLayer {
    /// Checks `config`.
    pub fn new(config: &DropoutConfig, index: usize, input: Shape) -> Result<Self, String> {
        if !(0.0..1.0).contains(&config.rate) {
            return Err(format!("rate {} must be in [0, 1)", config.rate));
        }
        Ok(Self {
            rate: config.rate,
            index,
            shape: input,
        })
    }

    pub(super) fn output(&self) -> Shape {
        self.shape
    }

    pub(super) fn forward<B: Backend, G: Graph<B>>(
        &self,
        g: &mut G,
        x: G::Value,
        mode: Mode,
    ) -> Result<G::Value> {
        if !mode.training || self.rate == 0.0 {
            return Ok(x);
        }
        g.dropout(
            x,
            self.rate,
            hash_u32(mode.seed ^ hash_u32(self.index as u32)),
        )
    }
}
