//! `separable_fc`: `y[u] = sum_l pos[u,l] sum_c chan[u,c] x[c,l]`, with symmetric positional
//! weights, channel weights tied across reverse-complement pairs, the smoothness regularizer
//! and the curvature constraint of docs/layer.md.

use super::{Init, ParamSpec, Shape, activate};
use crate::Result;
use crate::autodiff::{Tape, Var};
use crate::backend::{Backend, Reduction};
use crate::config::{Activation, SeparableConfig, Smoothness};
use crate::graph::Graph;
use crate::optim::Constraint;

/// A resolved separable fully connected layer.
#[derive(Debug, Clone, PartialEq)]
pub struct SeparableLayer {
    /// Output units.
    pub units: usize,
    /// Input channels `C`.
    pub channels: usize,
    /// Input positions `L`.
    pub length: usize,
    /// Positional weights mirrored from `ceil(L/2)` stored ones.
    pub symmetric: bool,
    /// Channel weights mirrored from `C/2` stored ones (`chan[c] = chan[C-1-c]`).
    pub tie_rc_channels: bool,
    /// Regularizer on the stored positional weights.
    pub smoothness: Option<Smoothness>,
    /// Curvature bound on the stored positional weights.
    pub curvature_max: Option<f32>,
    /// Activation after the layer.
    pub activation: Activation,
}

impl SeparableLayer {
    /// Checks `config` against `input`.
    pub fn new(config: &SeparableConfig, input: Shape) -> Result<Self, String> {
        let (channels, length) = input.seq("separable_fc")?;
        if config.units == 0 {
            return Err("units must be positive".into());
        }
        if config.tie_rc_channels && channels % 2 != 0 {
            return Err(format!(
                "tie_rc_channels needs an even number of input channels, got {channels}"
            ));
        }
        let layer = Self {
            units: config.units,
            channels,
            length,
            symmetric: config.symmetric,
            tie_rc_channels: config.tie_rc_channels,
            smoothness: config.smoothness,
            curvature_max: config.curvature_max,
            activation: config.activation,
        };
        if let Some(s) = config.smoothness {
            if !(s.penalty.is_finite() && s.penalty >= 0.0) {
                return Err(format!(
                    "smoothness penalty {} must be finite and >= 0",
                    s.penalty
                ));
            }
            let order = layer.smoothness_order().unwrap_or(0);
            if layer.stored_length() <= order {
                return Err(format!(
                    "smoothness on differences of order {order} needs more than {order} stored positional weights, there are {}",
                    layer.stored_length()
                ));
            }
        }
        if let Some(m) = config.curvature_max
            && !(m.is_finite() && m >= 0.0)
        {
            return Err(format!("curvature_max {m} must be finite and >= 0"));
        }
        Ok(layer)
    }

    /// Stored positional weights per unit: `ceil(L/2)` when symmetric, else `L`.
    pub fn stored_length(&self) -> usize {
        if self.symmetric {
            self.length.div_ceil(2)
        } else {
            self.length
        }
    }

    /// Stored channel weights per unit: `C/2` when tied, else `C`.
    pub fn stored_channels(&self) -> usize {
        if self.tie_rc_channels {
            self.channels / 2
        } else {
            self.channels
        }
    }

    fn smoothness_order(&self) -> Option<usize> {
        self.smoothness.map(|s| if s.second_diff { 2 } else { 1 })
    }

    pub(super) fn output(&self) -> Shape {
        Shape::Flat(self.units)
    }

    pub(super) fn params(&self) -> Vec<ParamSpec> {
        // reference initialisation: both factors in +-(2 / (L_stored * C + units))^(1/4)
        let bound = (2.0 / (self.stored_length() * self.channels + self.units) as f32).powf(0.25);
        vec![
            ParamSpec {
                name: "pos",
                shape: vec![self.units, self.stored_length()],
                init: Init::Uniform(bound),
                constraint: self.curvature_max.map(|max| Constraint::Curvature { max }),
            },
            ParamSpec {
                name: "chan",
                shape: vec![self.units, self.stored_channels()],
                init: Init::Uniform(bound),
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
        let (mut pos, mut chan) = (params[0].clone(), params[1].clone());
        if self.symmetric {
            pos = g.mirror_expand(pos, self.length)?;
        }
        if self.tie_rc_channels {
            chan = g.mirror_expand(chan, self.channels)?;
        }
        let y = g.separable(x, pos, chan)?;
        activate(g, y, self.activation)
    }

    /// `penalty * mean(|d|)` or `penalty * mean(d^2)` over the differences `d` of the stored
    /// positional weights.
    pub(super) fn penalty<B: Backend>(
        &self,
        tape: &mut Tape<'_, B>,
        params: &[Var],
    ) -> Result<Option<Var>> {
        let (Some(s), Some(order)) = (self.smoothness, self.smoothness_order()) else {
            return Ok(None);
        };
        let d = tape.diff(params[0], order)?;
        let kind = if s.l1 {
            Reduction::Abs
        } else {
            Reduction::Square
        };
        let m = tape.mean(d, kind)?;
        Ok(Some(tape.scale(m, s.penalty)?))
    }
}
