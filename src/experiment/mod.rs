//! Experiments that test the paper's claims: for each of several random hyperparameter draws
//! and seeds, a separable model and its conventional baselines trained on the same splits.
//!
//! This module holds the experiment file format and the plan: which models, with which
//! hyperparameters and seeds, an experiment trains. Every draw is reproducible from the
//! experiment's `draw_seed`.
//!
//! ```
//! use sepfc::experiment::{ExperimentConfig, plan};
//! let exp = ExperimentConfig::from_toml_str(r#"
//!     seeds = [0, 1]
//!     draws = 3
//!     [ranges]
//!     units = [4, 16]
//!     lr = [0.001, 0.01]
//! "#).unwrap();
//! let base = sepfc::config::Config::from_toml_str(sepfc::demo::MODEL).unwrap();
//! let runs = plan(&exp, &base, 100).unwrap();
//! assert_eq!(runs.len(), 3 * 2 * 3); // draws x seeds x (separable, twin, dense)
//! ```

mod analysis;
pub mod figures;
mod hyperparameters;
pub mod importance;
mod report;
mod run;
mod setup;

pub use analysis::{Analysis, Figure, RunImportance, analyse};
pub use hyperparameters::{Draw, ModelKind, Run, plan};
pub use report::{DEGENERATE_MARGIN, is_degenerate, report};
pub use run::{RunResult, Splits, run_dir, run_experiment, run_name};
pub use setup::{Experiment, read_experiment};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// An inclusive range of a hyperparameter to draw from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Range<T>(pub T, pub T);

/// The hyperparameters an experiment varies; an absent range keeps the base config's value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ranges {
    /// Filters of the first convolution (uniform integers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Range<usize>>,
    /// Kernel width of the first convolution (uniform integers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_size: Option<Range<usize>>,
    /// Window of the first pooling, which also becomes its stride (uniform integers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_size: Option<Range<usize>>,
    /// Units of the separable layer (uniform integers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<Range<usize>>,
    /// Learning rate (log-uniform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<Range<f32>>,
    /// Smoothness penalty of the separable layer (uniform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoothness: Option<Range<f32>>,
    /// Curvature bound of the separable layer (log-uniform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curvature_max: Option<Range<f32>>,
}

impl Ranges {
    /// Refuses a range that would draw a value no model can use, naming the key: a count
    /// below 1, a learning rate or curvature bound not above 0 (they are drawn on a log
    /// scale), a negative smoothness penalty, or a bound that is not a finite number.
    pub fn check(&self) -> std::result::Result<(), String> {
        let counts = [
            ("filters", self.filters),
            ("kernel_size", self.kernel_size),
            ("pool_size", self.pool_size),
            ("units", self.units),
        ];
        for (key, range) in counts {
            if let Some(Range(lo, hi)) = range
                && lo.min(hi) == 0
            {
                return Err(format!("[ranges] {key} = [{lo}, {hi}]: counts start at 1"));
            }
        }
        // (key, range, whether 0 itself is allowed)
        let rates = [
            ("lr", self.lr, false),
            ("curvature_max", self.curvature_max, false),
            ("smoothness", self.smoothness, true),
        ];
        for (key, range, zero_allowed) in rates {
            if let Some(Range(lo, hi)) = range {
                let low = lo.min(hi);
                if !(lo.is_finite() && hi.is_finite() && (low > 0.0 || zero_allowed && low == 0.0))
                {
                    let wanted = if zero_allowed {
                        "0 or more"
                    } else {
                        "above 0 (drawn log-uniformly)"
                    };
                    return Err(format!(
                        "[ranges] {key} = [{lo}, {hi}]: both bounds must be finite and {wanted}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// An experiment file: what to vary, how often, with which seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// The report's heading (default: `Experiment <path of the experiment file>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The training config the draws modify (path relative to the experiment file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<std::path::PathBuf>,
    /// Seeds of the weights and batch order; every draw is trained once per seed.
    pub seeds: Vec<u64>,
    /// Random hyperparameter draws.
    pub draws: usize,
    /// Seed of the draws.
    #[serde(default)]
    pub draw_seed: u64,
    /// What the draws vary.
    #[serde(default)]
    pub ranges: Ranges,
    /// Where the known sites come from, to score importance against (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importance: Option<importance::ImportanceConfig>,
}

impl ExperimentConfig {
    /// Parses an experiment file's text.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let exp: Self = toml::from_str(text)
            .map_err(|e| Error::Config(e.message().trim_end().replace('\n', " ")))?;
        if exp.seeds.is_empty() || exp.draws == 0 {
            return Err(Error::Config(
                "an experiment needs at least one seed and one draw".into(),
            ));
        }
        exp.ranges.check().map_err(Error::Config)?;
        Ok(exp)
    }
}
