//! How much memory a model needs, estimated from its shapes before anything is allocated, so
//! that a config asking for more than the machine has (`filters = 1000000000`) is refused with
//! the figure instead of aborting on an allocation failure.

use crate::config::Config;
use crate::layers::Layer;
use crate::{Error, Result};

/// Copies of every parameter while training: the value, its gradient and Adam's two moments.
const PARAMETER_COPIES: u128 = 4;
/// Copies of every activation while training: the output and its gradient (scratch and
/// pooling indices are smaller).
const ACTIVATION_COPIES: u128 = 2;

/// Bytes to train `layers` on batches of `batch` examples (`batch = 0`: the parameters alone):
/// float32 parameters with their gradients and optimizer state, and each layer's output for
/// the batch with its gradient.
pub fn training_bytes(layers: &[Layer], batch: usize) -> u128 {
    let parameters: u128 = layers
        .iter()
        .flat_map(Layer::params)
        .map(|p| p.shape.iter().map(|&d| d as u128).product::<u128>())
        .sum();
    let activations: u128 = layers.iter().map(|l| l.output().size() as u128).sum();
    4 * (PARAMETER_COPIES * parameters + ACTIVATION_COPIES * activations * batch as u128)
}

/// The memory of this machine in bytes (`MemTotal` of /proc/meminfo), if it can be read.
fn machine_bytes() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Refuses `layers` of `config` when training them on batches of `batch` would take more
/// memory than the machine has (or, where that cannot be read, more than 1 TiB), naming the
/// figure and the largest layer.
pub fn check_fits(config: &Config, layers: &[Layer], batch: usize) -> Result<()> {
    let available = machine_bytes().unwrap_or(1 << 40);
    let needed = training_bytes(layers, batch);
    if needed <= available {
        return Ok(());
    }
    let gib = |b: u128| b as f64 / (1u64 << 30) as f64;
    let (largest, bytes) = layers
        .iter()
        .enumerate()
        .map(|(i, l)| (i, training_bytes(std::slice::from_ref(l), batch)))
        .max_by_key(|&(_, b)| b)
        .unwrap_or((0, 0));
    let kind = config.layers.get(largest).map_or("?", |l| l.type_name());
    Err(Error::Config(format!(
        "the model needs about {:.1} GiB to train{}, more than this machine's {:.1} GiB; layer {largest} ({kind}) alone takes {:.1} GiB: use fewer filters or units{}",
        gib(needed),
        if batch > 0 {
            format!(" at batch_size {batch}")
        } else {
            String::new()
        },
        gib(available),
        gib(bytes),
        if batch > 0 {
            ", or a smaller batch_size"
        } else {
            ""
        }
    )))
}
