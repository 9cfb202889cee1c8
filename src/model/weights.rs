//! The weights file: safetensors, float32, tensors named `layers.{i}.{name}` with their stored
//! shapes, and the model's config (TOML) and input length in the metadata. PyTorch and NumPy
//! read it with the `safetensors` package alone.

use crate::io::write_atomically;
use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::{Model, param_layout, resolve};
use crate::backend::{Backend, Tensor};
use crate::config::Config;
use crate::optim::Parameter;
use crate::{Error, Result};

/// Metadata key of the model config (TOML), as docs/contract.md fixes it.
pub const CONFIG_KEY: &str = "config";
/// Metadata key of the input length.
pub const INPUT_LENGTH_KEY: &str = "input_length";
/// Metadata key of the task names (a JSON list), one per logit.
pub const TASKS_KEY: &str = "tasks";

fn weights_error(path: &str, detail: impl std::fmt::Display) -> Error {
    Error::Weights {
        path: path.to_string(),
        detail: detail.to_string(),
    }
}

impl<B: Backend> Model<B> {
    /// The weights file's bytes (reads the parameters back from the backend).
    pub fn to_safetensors(&self, backend: &B) -> Result<Vec<u8>> {
        self.to_safetensors_with(backend, Vec::new(), HashMap::new())
    }

    /// As [`Model::to_safetensors`], with `extra` tensors (name, tensor) and metadata entries
    /// beside the model's, for checkpoints.
    pub(crate) fn to_safetensors_with(
        &self,
        backend: &B,
        extra: Vec<(String, B::Tensor)>,
        extra_metadata: HashMap<String, String>,
    ) -> Result<Vec<u8>> {
        let own = self
            .names
            .iter()
            .cloned()
            .zip(self.params.iter().map(|p| p.value.clone()));
        let mut tensors = Vec::with_capacity(self.params.len() + extra.len());
        for (name, value) in own.chain(extra) {
            let values = backend.download(&value)?;
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            tensors.push((name, value.shape().to_vec(), bytes));
        }
        let views = tensors
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (name.as_str(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| weights_error("(in memory)", e))?;
        let mut metadata = extra_metadata;
        metadata.insert(CONFIG_KEY.to_string(), self.config.to_toml_string()?);
        metadata.insert(INPUT_LENGTH_KEY.to_string(), self.input_length.to_string());
        let tasks =
            serde_json::to_string(&self.task_names).map_err(|e| weights_error("(in memory)", e))?;
        metadata.insert(TASKS_KEY.to_string(), tasks);
        safetensors::serialize(views, Some(metadata)).map_err(|e| weights_error("(in memory)", e))
    }

    /// Writes the weights file to `path` atomically: a temporary file beside it, then a rename,
    /// so an interrupted save never leaves a half-written file.
    pub fn save(&self, backend: &B, path: &Path) -> Result<()> {
        write_atomically(path, &self.to_safetensors(backend)?)
    }

    /// Reads a weights file written by [`Model::save`] or by any safetensors writer that
    /// follows docs/contract.md.
    pub fn load(backend: &B, path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(Error::io(&path))?;
        Self::from_safetensors(backend, &bytes, &path.display().to_string())
    }

    /// As [`Model::load`], for inputs of `length` bases: a weights file without an
    /// `input_length` entry whose layer shapes fit several lengths is read for this one.
    pub fn load_for_length(backend: &B, path: &Path, length: usize) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(Error::io(&path))?;
        Self::from_safetensors_with(
            backend,
            &bytes,
            &path.display().to_string(),
            None,
            Some(length),
        )
    }

    /// Builds a model from a weights file's bytes; `origin` names the file in errors.
    pub fn from_safetensors(backend: &B, bytes: &[u8], origin: &str) -> Result<Self> {
        Self::from_safetensors_with(backend, bytes, origin, None, None)
    }

    /// As [`Model::from_safetensors`], passing over tensors whose names start with
    /// `skip_prefix` (a checkpoint's optimizer state). Without an `input_length` entry, the
    /// length is the one the layer shapes fit, or `length_hint` where they fit several.
    pub(crate) fn from_safetensors_with(
        backend: &B,
        bytes: &[u8],
        origin: &str,
        skip_prefix: Option<&str>,
        length_hint: Option<usize>,
    ) -> Result<Self> {
        let (_, metadata) = SafeTensors::read_metadata(bytes)
            .map_err(|e| weights_error(origin, format!("not a safetensors file: {e}")))?;
        let info = metadata.metadata().clone().unwrap_or_default();
        let config_text = info.get(CONFIG_KEY).ok_or_else(|| {
            weights_error(
                origin,
                format!("the metadata has no `{CONFIG_KEY}` entry with the model's TOML config"),
            )
        })?;
        let config = Config::from_toml_str(config_text)
            .map_err(|e| weights_error(origin, format!("the metadata's config: {e}")))?;
        let file = SafeTensors::deserialize(bytes).map_err(|e| weights_error(origin, e))?;
        let input_length = match info.get(INPUT_LENGTH_KEY) {
            Some(text) => text.parse().map_err(|e| {
                weights_error(
                    origin,
                    format!("`{INPUT_LENGTH_KEY}` is not a whole number: {e}"),
                )
            })?,
            None => length_from_shapes(&config, &file, length_hint)
                .map_err(|e| weights_error(origin, e))?,
        };
        let layers = resolve(&config.layers, input_length).map_err(|e| weights_error(origin, e))?;
        let (specs, names, owned) = param_layout(&layers);
        let skipped = |n: &str| skip_prefix.is_some_and(|p| n.starts_with(p));
        if let Some(extra) = file
            .names()
            .into_iter()
            .find(|n| !skipped(n) && !names.iter().any(|m| m == n))
        {
            return Err(weights_error(
                origin,
                format!("tensor `{extra}` belongs to no parameter of the config's model"),
            ));
        }
        let mut params = Vec::with_capacity(specs.len());
        for (spec, name) in specs.iter().zip(&names) {
            let view = file
                .tensor(name)
                .map_err(|_| weights_error(origin, format!("tensor `{name}` is missing")))?;
            if view.dtype() != Dtype::F32 {
                return Err(weights_error(
                    origin,
                    format!("tensor `{name}` is {:?}, sepfc reads float32", view.dtype()),
                ));
            }
            if view.shape() != spec.shape.as_slice() {
                return Err(weights_error(
                    origin,
                    format!(
                        "tensor `{name}` has shape {:?}, the config's model needs {:?}",
                        view.shape(),
                        spec.shape
                    ),
                ));
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            params.push(Parameter {
                value: backend.upload(&values, &spec.shape)?,
                constraint: spec.constraint,
            });
        }
        let mut task_names = super::default_task_names(&layers);
        if let Some(text) = info.get(TASKS_KEY) {
            let named: Vec<String> = serde_json::from_str(text).map_err(|e| {
                weights_error(
                    origin,
                    format!("`{TASKS_KEY}` is not a JSON list of names: {e}"),
                )
            })?;
            if named.len() != task_names.len() {
                return Err(weights_error(
                    origin,
                    format!(
                        "`{TASKS_KEY}` names {} tasks, the model has {}",
                        named.len(),
                        task_names.len()
                    ),
                ));
            }
            task_names = named;
        }
        Ok(Self {
            config,
            input_length,
            layers,
            params,
            names,
            task_names,
            owned,
        })
    }
}

/// The input length of a weights file that does not say it (docs/contract.md: `config` alone
/// must be enough): every length whose model has exactly the file's tensor shapes. One such
/// length is the answer; of several, `hint` (the data's length) must be one; a model whose
/// shapes do not depend on the length (no dense or separable layer) takes `hint` alone.
fn length_from_shapes(
    config: &Config,
    file: &SafeTensors<'_>,
    hint: Option<usize>,
) -> std::result::Result<usize, String> {
    let fits = |length: usize| {
        resolve(&config.layers, length).is_ok_and(|layers| {
            let (specs, names, _) = param_layout(&layers);
            specs.iter().zip(&names).all(|(spec, name)| {
                file.tensor(name)
                    .is_ok_and(|view| view.shape() == spec.shape.as_slice())
            })
        })
    };
    // no length fits beyond the one at which a flattened or positional layer's stored size
    // is reached by every layer's reach and stride: a generous bound, checked exhaustively
    let largest_tensor = file
        .tensors()
        .iter()
        .flat_map(|(_, view)| view.shape().to_vec())
        .max()
        .unwrap_or(0);
    let (mut stride, mut reach) = (1usize, 0usize);
    for layer in &config.layers {
        match layer {
            crate::config::LayerConfig::Conv1d(c)
            | crate::config::LayerConfig::RevcompConv1d(c) => {
                reach += c.kernel_size.saturating_sub(1) * c.dilation;
            }
            crate::config::LayerConfig::Maxpool1d(p) => {
                let step = p.stride.unwrap_or(p.pool_size);
                stride = stride.saturating_mul(step.max(1));
                reach += p.pool_size;
            }
            _ => {}
        }
    }
    let bound = (2 * largest_tensor + 2)
        .saturating_mul(stride)
        .saturating_add(reach)
        .min(1 << 24);
    let lengths: Vec<usize> = (1..=bound).filter(|&l| fits(l)).collect();
    let no_entry = format!("the metadata has no `{INPUT_LENGTH_KEY}` entry and");
    match (lengths.as_slice(), hint) {
        ([], Some(hint)) if fits(hint) => Ok(hint),
        ([], _) => Err(format!(
            "{no_entry} no input length gives the model these tensor shapes"
        )),
        ([only], _) => Ok(*only),
        (several, Some(hint)) if several.contains(&hint) => Ok(hint),
        (several, _) => Err(format!(
            "{no_entry} the tensor shapes fit input lengths {} to {}{}; add `{INPUT_LENGTH_KEY}` to the metadata",
            several[0],
            several[several.len() - 1],
            hint.map_or(String::new(), |h| format!(", not the data's {h} bp"))
        )),
    }
}
