//! Models from Rust without TOML: a [`ModelBuilder`] that lists layers, and `new` plus
//! setter methods on each layer's config with the TOML defaults. What they build is the same
//! [`Config`] a TOML file parses into, so it writes back as that TOML
//! ([`Config::to_toml_string`]).
//!
//! ```
//! use sepfc::backend::cpu::Cpu;
//! use sepfc::config::{Config, ConvConfig, DenseConfig, ModelBuilder, SeparableConfig};
//!
//! let built = ModelBuilder::new()
//!     .revcomp_conv1d(ConvConfig::new(8, 9).relu())
//!     .maxpool1d(4)
//!     .separable_fc(SeparableConfig::new(4).symmetric().relu())
//!     .dense(DenseConfig::new(1))
//!     .config();
//! let parsed = Config::from_toml_str(r#"
//!     [[layers]]
//!     type = "revcomp_conv1d"
//!     filters = 8
//!     kernel_size = 9
//!     activation = "relu"
//!     [[layers]]
//!     type = "maxpool1d"
//!     pool_size = 4
//!     [[layers]]
//!     type = "separable_fc"
//!     units = 4
//!     symmetric = true
//!     activation = "relu"
//!     [[layers]]
//!     type = "dense"
//!     units = 1
//! "#).unwrap();
//! assert_eq!(built, parsed);
//! let model = ModelBuilder::from(built).build(&Cpu, 100, 0).unwrap();   // inputs (N, 4, 100)
//! assert_eq!(model.tasks(), 1);
//! ```

use super::{
    Activation, Config, ConvConfig, DenseConfig, DropoutConfig, LayerConfig, Padding, PoolConfig,
    SeparableConfig, Smoothness, TrainConfig,
};
use crate::Result;
use crate::backend::Backend;
use crate::model::Model;

/// `activation` and `relu` setters on the configs of layers that end in an activation.
macro_rules! activation_setters {
    ($($config:ty),*) => {$(
        impl $config {
            /// The activation at the layer's output.
            pub fn activation(mut self, activation: Activation) -> Self {
                self.activation = activation;
                self
            }

            /// Relu at the layer's output.
            pub fn relu(self) -> Self {
                self.activation(Activation::Relu)
            }
        }
    )*};
}

activation_setters!(ConvConfig, SeparableConfig, DenseConfig);

impl ConvConfig {
    /// `filters` filters of `kernel_size` taps: valid padding, no dilation, no activation.
    pub fn new(filters: usize, kernel_size: usize) -> Self {
        Self {
            filters,
            kernel_size,
            padding: Padding::Valid,
            dilation: 1,
            activation: Activation::None,
        }
    }

    /// Padding (`valid` or `same`).
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Spacing of the kernel taps.
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = dilation;
        self
    }
}

impl PoolConfig {
    /// Windows of `pool_size`, one every `pool_size` positions.
    pub fn new(pool_size: usize) -> Self {
        Self {
            pool_size,
            stride: None,
        }
    }

    /// Another step between windows.
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = Some(stride);
        self
    }
}

impl Smoothness {
    /// Mean squared second differences, weighted by `penalty`.
    pub fn new(penalty: f32) -> Self {
        Self {
            penalty,
            l1: false,
            second_diff: true,
        }
    }

    /// Mean absolute differences instead of squared ones.
    pub fn l1(mut self) -> Self {
        self.l1 = true;
        self
    }

    /// First differences instead of second ones.
    pub fn first_diff(mut self) -> Self {
        self.second_diff = false;
        self
    }
}

impl SeparableConfig {
    /// `units` units with full positional and channel weights, no regularizer, no
    /// activation.
    pub fn new(units: usize) -> Self {
        Self {
            units,
            symmetric: false,
            tie_rc_channels: false,
            smoothness: None,
            curvature_max: None,
            activation: Activation::None,
        }
    }

    /// Positional weights mirrored about the centre (`ceil(L/2)` stored).
    pub fn symmetric(mut self) -> Self {
        self.symmetric = true;
        self
    }

    /// Channel weights tied across reverse-complement pairs (`C/2` stored).
    pub fn tie_rc_channels(mut self) -> Self {
        self.tie_rc_channels = true;
        self
    }

    /// The smoothness regularizer on the stored positional weights.
    pub fn smoothness(mut self, smoothness: Smoothness) -> Self {
        self.smoothness = Some(smoothness);
        self
    }

    /// The curvature constraint on the stored positional weights.
    pub fn curvature_max(mut self, max: f32) -> Self {
        self.curvature_max = Some(max);
        self
    }
}

impl DenseConfig {
    /// `units` units, no activation (logits).
    pub fn new(units: usize) -> Self {
        Self {
            units,
            activation: Activation::None,
        }
    }
}

/// A model's layers, first to last, and its `[train]` schedule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelBuilder {
    config: Config,
}

impl From<Config> for ModelBuilder {
    /// Goes on from a config (read from TOML, say): more layers, another schedule.
    fn from(config: Config) -> Self {
        Self { config }
    }
}

impl ModelBuilder {
    /// No layers yet, the default schedule.
    pub fn new() -> Self {
        Self::default()
    }

    fn layer(mut self, layer: LayerConfig) -> Self {
        self.config.layers.push(layer);
        self
    }

    /// A `conv1d` layer.
    pub fn conv1d(self, conv: ConvConfig) -> Self {
        self.layer(LayerConfig::Conv1d(conv))
    }

    /// A `revcomp_conv1d` layer: filters in reverse-complement pairs, `2 * filters` channels.
    pub fn revcomp_conv1d(self, conv: ConvConfig) -> Self {
        self.layer(LayerConfig::RevcompConv1d(conv))
    }

    /// A `maxpool1d` layer of `pool_size`, stride `pool_size`.
    pub fn maxpool1d(self, pool_size: usize) -> Self {
        self.pool(PoolConfig::new(pool_size))
    }

    /// A `maxpool1d` layer with another stride ([`PoolConfig::stride`]).
    pub fn pool(self, pool: PoolConfig) -> Self {
        self.layer(LayerConfig::Maxpool1d(pool))
    }

    /// A `separable_fc` layer.
    pub fn separable_fc(self, separable: SeparableConfig) -> Self {
        self.layer(LayerConfig::SeparableFc(separable))
    }

    /// A `dense` layer.
    pub fn dense(self, dense: DenseConfig) -> Self {
        self.layer(LayerConfig::Dense(dense))
    }

    /// A `dropout` layer zeroing each element with probability `rate` in training.
    pub fn dropout(self, rate: f32) -> Self {
        self.layer(LayerConfig::Dropout(DropoutConfig { rate }))
    }

    /// The `[train]` schedule stored with the model's config.
    pub fn train(mut self, schedule: TrainConfig) -> Self {
        self.config.train = schedule;
        self
    }

    /// The config, as a TOML file would give it.
    pub fn config(self) -> Config {
        self.config
    }

    /// The model for inputs of `input_length` bp, its weights initialised from `seed`;
    /// errors as [`Model::new`] (a layer that does not fit its input names the layer).
    pub fn build<B: Backend>(
        self,
        backend: &B,
        input_length: usize,
        seed: u64,
    ) -> Result<Model<B>> {
        Model::new(backend, self.config, input_length, seed)
    }
}
