//! `conv1d` and `revcomp_conv1d`.

use super::{Init, ParamSpec, Shape, activate, glorot};
use crate::Result;
use crate::backend::{Backend, Conv1dSpec, PoolSpec};
use crate::config::{Activation, ConvConfig, Padding};
use crate::graph::Graph;

/// A resolved convolution. With `reverse_complement`, filter `F + j` is filter `F - 1 - j`
/// flipped along channels and width, and the layer outputs `2F` channels.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvLayer {
    /// Whether filters come in reverse-complement pairs.
    pub reverse_complement: bool,
    /// Input channels.
    pub in_channels: usize,
    /// Stored filters.
    pub filters: usize,
    /// Kernel width.
    pub kernel_size: usize,
    /// Padding and dilation.
    pub spec: Conv1dSpec,
    /// Output positions.
    pub out_length: usize,
    /// Activation after the convolution.
    pub activation: Activation,
}

impl ConvLayer {
    /// Checks `config` against `input`.
    pub fn new(
        config: &ConvConfig,
        reverse_complement: bool,
        input: Shape,
    ) -> Result<Self, String> {
        let (in_channels, length) = input.seq("a convolution")?;
        if config.filters == 0 || config.kernel_size == 0 || config.dilation == 0 {
            return Err("filters, kernel_size and dilation must be positive".into());
        }
        let spec = match config.padding {
            Padding::Valid => Conv1dSpec::valid(config.dilation),
            Padding::Same => Conv1dSpec::same(config.kernel_size, config.dilation),
        };
        let span = (config.kernel_size - 1) * config.dilation + 1;
        let padded = length + spec.pad_left + spec.pad_right;
        if padded < span {
            return Err(format!(
                "its input has {length} positions, shorter than the kernel's span of {span}"
            ));
        }
        Ok(Self {
            reverse_complement,
            in_channels,
            filters: config.filters,
            kernel_size: config.kernel_size,
            spec,
            out_length: padded - span + 1,
            activation: config.activation,
        })
    }

    /// Output channels: `2F` for a reverse-complement convolution.
    pub fn out_channels(&self) -> usize {
        if self.reverse_complement {
            2 * self.filters
        } else {
            self.filters
        }
    }

    pub(super) fn output(&self) -> Shape {
        Shape::Seq {
            channels: self.out_channels(),
            length: self.out_length,
        }
    }

    pub(super) fn params(&self) -> Vec<ParamSpec> {
        let (c, k, f) = (self.in_channels, self.kernel_size, self.filters);
        vec![
            ParamSpec {
                name: "weight",
                shape: vec![f, c, k],
                // fans of the stored kernel (F, C, K), as Keras and PyTorch count them: a
                // reverse-complement layer's 2F output channels share its F filters
                init: glorot(c * k, f * k),
                constraint: None,
            },
            ParamSpec {
                name: "bias",
                shape: vec![f],
                init: Init::Zeros,
                constraint: None,
            },
        ]
    }

    /// The convolution and its activation on `x`, followed by the max pooling `pool` when
    /// given (as one op after a relu: [`Graph::conv1d_relu_maxpool`]). `params` are the
    /// layer's weight and bias.
    pub fn forward<B: Backend, G: Graph<B>>(
        &self,
        g: &mut G,
        x: G::Value,
        params: &[G::Value],
        pool: Option<PoolSpec>,
    ) -> Result<G::Value> {
        let (mut w, mut b) = (params[0].clone(), params[1].clone());
        if self.reverse_complement {
            w = g.rc_expand(w)?;
            b = g.rc_expand(b)?;
        }
        let y = match (self.activation, pool) {
            (Activation::Relu, Some(pool)) => {
                return g.conv1d_relu_maxpool(x, w, b, self.spec, pool);
            }
            (Activation::Relu, None) => g.conv1d_relu(x, w, b, self.spec)?,
            (other, _) => {
                let y = g.conv1d(x, w, b, self.spec)?;
                activate(g, y, other)?
            }
        };
        match pool {
            Some(pool) => g.maxpool1d(y, pool),
            None => Ok(y),
        }
    }
}
