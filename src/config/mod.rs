//! The TOML configuration of docs/contract.md: `[data]`, `[train]` and the `[[layers]]` list.
//! Unknown keys are errors, so a misspelt option cannot be silently ignored.
//!
//! ```
//! use sepfc::config::{Config, LayerConfig};
//! let config = Config::from_toml_str(r#"
//!     [[layers]]
//!     type = "revcomp_conv1d"
//!     filters = 8
//!     kernel_size = 9
//!     activation = "relu"
//!
//!     [[layers]]
//!     type = "maxpool1d"
//!     pool_size = 4
//!
//!     [[layers]]
//!     type = "separable_fc"
//!     units = 4
//!     symmetric = true
//!
//!     [[layers]]
//!     type = "dense"
//!     units = 1
//! "#).unwrap();
//! assert!(matches!(config.layers[2], LayerConfig::SeparableFc(_)));
//! assert_eq!(config.train.batch_size, 128);
//! ```

mod builder;

use serde::{Deserialize, Serialize};

pub use builder::ModelBuilder;

use crate::backend::Loss;
pub use crate::data::spec::DataConfig;
use crate::{Error, Result};

/// A whole configuration file (its default: no data, the default schedule, no layers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the sequences and labels come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataConfig>,
    /// How to train.
    #[serde(default)]
    pub train: TrainConfig,
    /// The model, first layer first.
    pub layers: Vec<LayerConfig>,
}

impl Config {
    /// Parses TOML text; errors are one line naming the line, the column and the problem.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            let place = e.span().map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {column}: ")
            });
            Error::Config(format!(
                "{}{}",
                place.unwrap_or_default(),
                e.message().trim_end().replace('\n', " ")
            ))
        })
    }

    /// Reads and parses the config file at `path`, naming it in errors.
    pub fn read(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        Config::from_toml_str(&text).map_err(|e| match e {
            Error::Config(message) => Error::Config(format!("{}: {message}", path.display())),
            other => other,
        })
    }

    /// The `[data]` section of the config read from `path` (named in the error when there is
    /// none).
    pub fn data_section(&self, path: &std::path::Path) -> Result<&DataConfig> {
        self.data
            .as_ref()
            .ok_or_else(|| Error::Config(format!("{}: no [data] section", path.display())))
    }

    /// The configuration as TOML text.
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::Config(format!("cannot write the config: {e}")))
    }
}

/// Optimizer choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Adam with PyTorch's defaults.
    #[default]
    Adam,
    /// Plain stochastic gradient descent.
    Sgd,
}

/// The training schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// `adam` (default) or `sgd`.
    pub optimizer: OptimizerKind,
    /// Learning rate.
    pub lr: f32,
    /// Passes over the training set.
    pub epochs: usize,
    /// Sequences per step.
    pub batch_size: usize,
    /// Seed of the initial weights, the batch order and dropout.
    pub seed: u64,
    /// Shuffle the training set every epoch.
    pub shuffle: bool,
    /// Add each batch's reverse complements.
    pub rc_augment: bool,
    /// Stop after this many epochs without a better validation score (mean auPRC, or mean
    /// Pearson correlation for the regression losses; none: run all epochs). The weights of the
    /// best epoch are kept either way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patience: Option<usize>,
    /// The training loss: `bce` (default; labels), `mse` or `poisson` (signal).
    #[serde(skip_serializing_if = "is_bce")]
    pub loss: Loss,
}

fn is_bce(loss: &Loss) -> bool {
    *loss == Loss::Bce
}

impl TrainConfig {
    /// Refuses a schedule that cannot train, naming the key: `lr` not a finite number above 0
    /// (a negative rate would climb the loss), `epochs`, `batch_size` or `patience` of 0.
    pub fn check(&self) -> std::result::Result<(), String> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(format!(
                "[train] lr = {}: the learning rate must be a finite number above 0",
                self.lr
            ));
        }
        for (key, value) in [
            ("epochs", Some(self.epochs)),
            ("batch_size", Some(self.batch_size)),
            ("patience", self.patience),
        ] {
            if value == Some(0) {
                return Err(format!("[train] {key} = 0: must be at least 1"));
            }
        }
        Ok(())
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            optimizer: OptimizerKind::Adam,
            lr: 0.001,
            epochs: 10,
            batch_size: 128,
            seed: 0,
            shuffle: true,
            rc_augment: false,
            patience: None,
            loss: Loss::Bce,
        }
    }
}

/// An activation applied after a layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
}

/// Padding of a convolution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding.
    #[default]
    Valid,
    /// Output as long as the input; the smaller half of the padding on the left.
    Same,
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// `conv1d` and `revcomp_conv1d`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvConfig {
    /// Filters (for `revcomp_conv1d`, stored filters: the layer outputs twice as many channels).
    pub filters: usize,
    /// Kernel width.
    pub kernel_size: usize,
    /// `valid` (default) or `same`.
    #[serde(default)]
    pub padding: Padding,
    /// Spacing of the kernel taps.
    #[serde(default = "one")]
    pub dilation: usize,
    /// Activation after the convolution.
    #[serde(default)]
    pub activation: Activation,
}

/// `maxpool1d`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Window length.
    pub pool_size: usize,
    /// Step between windows (default `pool_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride: Option<usize>,
}

/// The smoothness regularizer of the positional weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smoothness {
    /// Weight of the penalty in the loss.
    pub penalty: f32,
    /// Mean absolute differences instead of mean squared ones.
    #[serde(default)]
    pub l1: bool,
    /// Second differences (default) instead of first differences.
    #[serde(default = "yes")]
    pub second_diff: bool,
}

/// `separable_fc`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeparableConfig {
    /// Output units.
    pub units: usize,
    /// Store `ceil(L/2)` positional weights and mirror them.
    #[serde(default)]
    pub symmetric: bool,
    /// Tie channel weights across reverse-complement pairs (`C/2` stored).
    #[serde(default)]
    pub tie_rc_channels: bool,
    /// Smoothness regularizer on the stored positional weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoothness: Option<Smoothness>,
    /// Curvature constraint bound on the stored positional weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curvature_max: Option<f32>,
    /// Activation after the layer.
    #[serde(default)]
    pub activation: Activation,
}

/// `dense`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseConfig {
    /// Output units.
    pub units: usize,
    /// Activation after the layer.
    #[serde(default)]
    pub activation: Activation,
}

/// `dropout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropoutConfig {
    /// Probability of zeroing an element during training.
    pub rate: f32,
}

/// One `[[layers]]` entry, chosen by its `type` key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LayerConfig {
    /// 1-D convolution.
    Conv1d(ConvConfig),
    /// Convolution whose filters come in reverse-complement pairs.
    RevcompConv1d(ConvConfig),
    /// Max pooling along length.
    Maxpool1d(PoolConfig),
    /// The separable fully connected layer.
    SeparableFc(SeparableConfig),
    /// Fully connected layer on the flattened input.
    Dense(DenseConfig),
    /// Dropout during training.
    Dropout(DropoutConfig),
}

impl LayerConfig {
    /// The `type` name, as written in the config.
    pub fn type_name(&self) -> &'static str {
        match self {
            LayerConfig::Conv1d(_) => "conv1d",
            LayerConfig::RevcompConv1d(_) => "revcomp_conv1d",
            LayerConfig::Maxpool1d(_) => "maxpool1d",
            LayerConfig::SeparableFc(_) => "separable_fc",
            LayerConfig::Dense(_) => "dense",
            LayerConfig::Dropout(_) => "dropout",
        }
    }
}
