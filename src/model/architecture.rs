//! Resolving a `[[layers]]` list against an input length: each layer's shapes, and the checks
//! that make an impossible or silently wrong model an error naming the layer.

use crate::config::{LayerConfig, SeparableConfig};
use crate::layers::{ConvLayer, DenseLayer, DropoutLayer, Layer, PoolLayer, SeparableLayer, Shape};
use crate::{Error, Result};

/// Channels of one-hot DNA (A, C, G, T).
pub const INPUT_CHANNELS: usize = 4;

/// What strand invariance needs of the layers so far: channels in reverse-complement pairs
/// (`c` with `C-1-c`) and positions that mirror (`l` with `L-1-l`). Each holds, or says which
/// layer broke it.
struct Strands {
    paired: Result<(), String>,
    mirrored: Result<(), String>,
}

fn describe(index: usize, config: &LayerConfig) -> String {
    format!("layer {index} ({})", config.type_name())
}

/// Resolves every layer of `configs` for inputs of `(4, input_length)`.
pub fn resolve(configs: &[LayerConfig], input_length: usize) -> Result<Vec<Layer>> {
    if configs.is_empty() {
        return Err(Error::Config("the model has no layers".into()));
    }
    if input_length == 0 {
        return Err(Error::Config("the input length must be positive".into()));
    }
    let mut shape = Shape::Seq {
        channels: INPUT_CHANNELS,
        length: input_length,
    };
    let mut strands = Strands {
        paired: Ok(()),
        mirrored: Ok(()),
    };
    let mut layers = Vec::with_capacity(configs.len());
    for (index, config) in configs.iter().enumerate() {
        let name = describe(index, config);
        let layer = resolve_one(config, index, shape, &mut strands)
            .map_err(|problem| Error::Config(format!("{name}: {problem}")))?;
        shape = layer.output();
        layers.push(layer);
    }
    let (last, config) = (
        layers.last().expect("checked non-empty"),
        configs.last().expect("checked non-empty"),
    );
    let emits_logits = matches!(last, Layer::Dense(_) | Layer::Separable(_))
        && last.activation() == crate::config::Activation::None;
    if !emits_logits {
        return Err(Error::Config(format!(
            "{}: the last layer must emit logits, one per task: a dense or separable_fc layer without activation",
            describe(configs.len() - 1, config)
        )));
    }
    Ok(layers)
}

fn resolve_one(
    config: &LayerConfig,
    index: usize,
    input: Shape,
    strands: &mut Strands,
) -> Result<Layer, String> {
    let here = describe(index, config);
    Ok(match config {
        LayerConfig::Conv1d(c) => {
            let layer = ConvLayer::new(c, false, input)?;
            let broken = format!("{here} is a plain convolution, whose filters are not paired");
            strands.paired = Err(broken.clone());
            strands.mirrored = Err(broken);
            Layer::Conv(layer)
        }
        LayerConfig::RevcompConv1d(c) => {
            if let Err(why) = &strands.paired {
                return Err(format!(
                    "its input channels are not reverse-complement pairs ({why}); revcomp_conv1d must read the one-hot input or another revcomp_conv1d"
                ));
            }
            let layer = ConvLayer::new(c, true, input)?;
            if layer.spec.pad_left != layer.spec.pad_right && strands.mirrored.is_ok() {
                strands.mirrored = Err(format!(
                    "{here} pads 'same' unevenly ({} left, {} right)",
                    layer.spec.pad_left, layer.spec.pad_right
                ));
            }
            Layer::Conv(layer)
        }
        LayerConfig::Maxpool1d(c) => {
            let layer = PoolLayer::new(c, input)?;
            if layer.leftover > 0 && strands.mirrored.is_ok() {
                strands.mirrored = Err(format!(
                    "{here} leaves {} position(s) over at the end",
                    layer.leftover
                ));
            }
            Layer::Pool(layer)
        }
        LayerConfig::SeparableFc(c) => {
            check_strand_invariance(c, strands)?;
            let broken = format!("{here} outputs a vector");
            strands.paired = Err(broken.clone());
            strands.mirrored = Err(broken);
            Layer::Separable(SeparableLayer::new(c, input)?)
        }
        LayerConfig::Dense(c) => {
            let broken = format!("{here} outputs a vector");
            strands.paired = Err(broken.clone());
            strands.mirrored = Err(broken);
            Layer::Dense(DenseLayer::new(c, input)?)
        }
        LayerConfig::Dropout(c) => Layer::Dropout(DropoutLayer::new(c, index, input)?),
    })
}

/// `tie_rc_channels` needs input channels in reverse-complement pairs; together with
/// `symmetric` it asks for a strand-invariant model, which also needs positions that mirror.
fn check_strand_invariance(c: &SeparableConfig, strands: &Strands) -> Result<(), String> {
    if !c.tie_rc_channels {
        return Ok(());
    }
    if let Err(why) = &strands.paired {
        return Err(format!(
            "tie_rc_channels needs input channels in reverse-complement pairs, but {why}"
        ));
    }
    if let (true, Err(why)) = (c.symmetric, &strands.mirrored) {
        return Err(format!(
            "symmetric with tie_rc_channels asks for strand invariance, which needs positions that mirror, but {why}"
        ));
    }
    Ok(())
}
