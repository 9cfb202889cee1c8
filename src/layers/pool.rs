//! `maxpool1d`.

use super::Shape;
use crate::Result;
use crate::backend::PoolSpec;
use crate::config::PoolConfig;

/// A resolved max pooling.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolLayer {
    /// Window and stride.
    pub spec: PoolSpec,
    /// Channels (unchanged).
    pub channels: usize,
    /// Output positions.
    pub out_length: usize,
    /// Input positions after the last window, which no output sees.
    pub leftover: usize,
}

impl PoolLayer {
    /// Checks `config` against `input`.
    pub fn new(config: &PoolConfig, input: Shape) -> Result<Self, String> {
        let (channels, length) = input.seq("maxpool1d")?;
        let spec = PoolSpec {
            size: config.pool_size,
            stride: config.stride.unwrap_or(config.pool_size),
        };
        if spec.size == 0 || spec.stride == 0 {
            return Err("pool_size and stride must be positive".into());
        }
        if length < spec.size {
            return Err(format!(
                "its input has {length} positions, fewer than pool_size {}",
                spec.size
            ));
        }
        Ok(Self {
            spec,
            channels,
            out_length: (length - spec.size) / spec.stride + 1,
            leftover: (length - spec.size) % spec.stride,
        })
    }

    pub(super) fn output(&self) -> Shape {
        Shape::Seq {
            channels: self.channels,
            length: self.out_length,
        }
    }
}
