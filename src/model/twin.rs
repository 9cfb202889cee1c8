//! The conventional "twin" of a separable model: `dense` in place of each `separable_fc`, with
//! units chosen so that the whole model's parameter count matches as closely as possible.

use crate::Result;
use crate::config::{Config, DenseConfig, LayerConfig};
use crate::layers::Layer;

use super::resolve;

/// How the twin compares with the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinReport {
    /// Parameters of the original model.
    pub original_params: usize,
    /// Parameters of the twin.
    pub twin_params: usize,
    /// Units of each replacing dense layer, by layer index.
    pub units: Vec<(usize, usize)>,
}

fn parameter_count(layers: &[Layer]) -> usize {
    layers
        .iter()
        .flat_map(|l| l.params())
        .map(|p| p.shape.iter().product::<usize>())
        .sum()
}

/// The twin of `config` for inputs of `input_length`: each `separable_fc`, from the first on,
/// becomes a `dense` with the same activation and the unit count (from 1 up) that brings the
/// whole model's parameter count closest to the original's (fewer units on a tie).
pub fn dense_twin(config: &Config, input_length: usize) -> Result<(Config, TwinReport)> {
    let original_params = parameter_count(&resolve(&config.layers, input_length)?);
    let mut twin = config.clone();
    let mut units = Vec::new();
    for index in 0..twin.layers.len() {
        let LayerConfig::SeparableFc(sep) = &twin.layers[index] else {
            continue;
        };
        let activation = sep.activation;
        let mut best: Option<(usize, usize)> = None; // (distance, units)
        for candidate in 1.. {
            twin.layers[index] = LayerConfig::Dense(DenseConfig {
                units: candidate,
                activation,
            });
            let count = parameter_count(&resolve(&twin.layers, input_length)?);
            let distance = count.abs_diff(original_params);
            if best.is_none_or(|(d, _)| distance < d) {
                best = Some((distance, candidate));
            }
            if count >= original_params {
                break;
            }
        }
        let (_, chosen) = best.expect("at least one candidate was tried");
        twin.layers[index] = LayerConfig::Dense(DenseConfig {
            units: chosen,
            activation,
        });
        units.push((index, chosen));
    }
    let twin_params = parameter_count(&resolve(&twin.layers, input_length)?);
    Ok((
        twin,
        TwinReport {
            original_params,
            twin_params,
            units,
        },
    ))
}
