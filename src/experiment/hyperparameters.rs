//! Drawing hyperparameters and laying out the runs of an experiment.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::{ExperimentConfig, Range, Ranges};
use crate::config::{Config, DenseConfig, LayerConfig, Smoothness};
use crate::model::{dense_twin, resolve};
use crate::{Error, Result};

/// The hyperparameters of one draw (`None`: the base config's value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draw {
    /// 0-based index of the draw.
    pub index: usize,
    /// Filters of the first convolution.
    pub filters: Option<usize>,
    /// Kernel width of the first convolution.
    pub kernel_size: Option<usize>,
    /// Window and stride of the first pooling.
    pub pool_size: Option<usize>,
    /// Units of the separable layer.
    pub units: Option<usize>,
    /// Learning rate.
    pub lr: Option<f32>,
    /// Smoothness penalty.
    pub smoothness: Option<f32>,
    /// Curvature bound.
    pub curvature_max: Option<f32>,
}

/// Which model of a draw a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// The draw's separable model.
    Separable,
    /// `dense` in place of `separable_fc`, units chosen to match the parameter count.
    DenseTwin,
    /// `dense` in place of `separable_fc` with as many units: the baseline that the
    /// parameter-matched twin cannot make degenerate.
    DenseSameUnits,
}

/// One training run of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The draw it belongs to.
    pub draw: Draw,
    /// Its seed.
    pub seed: u64,
    /// Its model kind.
    pub kind: ModelKind,
    /// The full config to train (the draw applied, the seed set).
    pub config: Config,
    /// Units of the layer in the place of the base's first `separable_fc`.
    pub units: usize,
}

fn uniform_int(rng: &mut StdRng, r: Range<usize>) -> usize {
    rng.random_range(r.0.min(r.1)..=r.0.max(r.1))
}

fn log_uniform(rng: &mut StdRng, r: Range<f32>) -> f32 {
    let (lo, hi) = ((r.0.min(r.1) as f64).ln(), (r.0.max(r.1) as f64).ln());
    if lo == hi {
        return r.0;
    }
    rng.random_range(lo..=hi).exp() as f32
}

fn uniform(rng: &mut StdRng, r: Range<f32>) -> f32 {
    if r.0 == r.1 {
        return r.0;
    }
    rng.random_range(r.0.min(r.1)..=r.0.max(r.1))
}

fn draw_one(rng: &mut StdRng, index: usize, ranges: &Ranges) -> Draw {
    Draw {
        index,
        filters: ranges.filters.map(|r| uniform_int(rng, r)),
        kernel_size: ranges.kernel_size.map(|r| uniform_int(rng, r)),
        pool_size: ranges.pool_size.map(|r| uniform_int(rng, r)),
        units: ranges.units.map(|r| uniform_int(rng, r)),
        lr: ranges.lr.map(|r| log_uniform(rng, r)),
        smoothness: ranges.smoothness.map(|r| uniform(rng, r)),
        curvature_max: ranges.curvature_max.map(|r| log_uniform(rng, r)),
    }
}

/// `base` with `draw` applied to its first convolution, first pooling and first separable
/// layer.
fn apply(base: &Config, draw: &Draw) -> Config {
    let mut config = base.clone();
    if let Some(lr) = draw.lr {
        config.train.lr = lr;
    }
    let conv = config.layers.iter_mut().find_map(|l| match l {
        LayerConfig::Conv1d(c) | LayerConfig::RevcompConv1d(c) => Some(c),
        _ => None,
    });
    if let Some(c) = conv {
        c.filters = draw.filters.unwrap_or(c.filters);
        c.kernel_size = draw.kernel_size.unwrap_or(c.kernel_size);
    }
    let pool = config.layers.iter_mut().find_map(|l| match l {
        LayerConfig::Maxpool1d(p) => Some(p),
        _ => None,
    });
    if let (Some(p), Some(size)) = (pool, draw.pool_size) {
        p.pool_size = size;
        p.stride = None;
    }
    let sep = config.layers.iter_mut().find_map(|l| match l {
        LayerConfig::SeparableFc(s) => Some(s),
        _ => None,
    });
    if let Some(s) = sep {
        s.units = draw.units.unwrap_or(s.units);
        if let Some(penalty) = draw.smoothness {
            let old = s.smoothness.unwrap_or(Smoothness {
                penalty,
                l1: false,
                second_diff: true,
            });
            s.smoothness = (penalty > 0.0).then_some(Smoothness { penalty, ..old });
        }
        if draw.curvature_max.is_some() {
            s.curvature_max = draw.curvature_max;
        }
    }
    config
}

/// `config` with its first separable layer replaced by a dense layer of as many units.
fn same_units_dense(config: &Config) -> Config {
    let mut out = config.clone();
    for layer in out.layers.iter_mut() {
        if let LayerConfig::SeparableFc(s) = layer {
            *layer = LayerConfig::Dense(DenseConfig {
                units: s.units,
                activation: s.activation,
            });
            break;
        }
    }
    out
}

/// Draws the hyperparameters of `exp` and lays out every run: per draw and seed, the separable
/// model, its parameter-matched dense twin and the dense model with as many units. A draw that
/// gives an impossible model for `input_length` (e.g. a pooling wider than its input) is drawn
/// again, up to 100 times.
pub fn plan(exp: &ExperimentConfig, base: &Config, input_length: usize) -> Result<Vec<Run>> {
    let separable_at = base
        .layers
        .iter()
        .position(|l| matches!(l, LayerConfig::SeparableFc(_)))
        .ok_or_else(|| {
            Error::Config(
                "the experiment's base config has no separable_fc layer to compare".into(),
            )
        })?;
    let mut rng = StdRng::seed_from_u64(exp.draw_seed);
    let mut runs = Vec::new();
    for index in 0..exp.draws {
        let mut attempt = 0;
        let (draw, separable, twin) = loop {
            let draw = draw_one(&mut rng, index, &exp.ranges);
            let config = apply(base, &draw);
            let resolved = resolve(&config.layers, input_length)
                .and_then(|_| dense_twin(&config, input_length));
            match resolved {
                Ok((twin, _)) => break (draw, config, twin),
                Err(e) if attempt >= 100 => {
                    return Err(Error::Config(format!(
                        "draw {index}: no valid model in 100 attempts; the last: {e}"
                    )));
                }
                Err(_) => attempt += 1,
            }
        };
        let same = same_units_dense(&separable);
        let units = |config: &Config| match &config.layers[separable_at] {
            LayerConfig::SeparableFc(s) => s.units,
            LayerConfig::Dense(d) => d.units,
            _ => 0,
        };
        for &seed in &exp.seeds {
            for (kind, config) in [
                (ModelKind::Separable, &separable),
                (ModelKind::DenseTwin, &twin),
                (ModelKind::DenseSameUnits, &same),
            ] {
                let mut config = config.clone();
                config.train.seed = seed;
                runs.push(Run {
                    draw: draw.clone(),
                    seed,
                    kind,
                    units: units(&config),
                    config,
                });
            }
        }
    }
    Ok(runs)
}
