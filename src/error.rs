//! The one error type of sepfc.

use std::fmt;

/// Everything that can go wrong in sepfc, each variant saying what happened and, where it helps,
/// what to try next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two tensors, or a tensor and an operation, disagree about shapes.
    #[error("shape mismatch in {op}: {detail}")]
    Shape {
        /// The operation that found the mismatch.
        op: &'static str,
        /// Which shapes were given and what was expected.
        detail: String,
    },
    /// An argument is outside what the operation accepts (a zero kernel, a rate of 1, ...).
    #[error("invalid argument to {op}: {detail}")]
    InvalidArgument {
        /// The operation that rejected the argument.
        op: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// No GPU adapter could be found or opened.
    #[error(
        "no GPU adapter available: {0}. Try `--device cpu`, or set WGPU_BACKEND (vulkan, metal, dx12) / WGPU_ADAPTER_NAME to pick one"
    )]
    NoAdapter(String),
    /// The GPU ran out of memory.
    #[error("GPU out of memory while {context}. Try a smaller batch size, or `--device cpu`")]
    GpuOutOfMemory {
        /// What sepfc was doing.
        context: String,
    },
    /// The GPU device was lost (driver reset, hang, unplugged).
    #[error("GPU device lost: {0}. Re-run the command; if it keeps happening, try `--device cpu`")]
    DeviceLost(String),
    /// wgpu rejected something sepfc asked of it: a shader that failed validation, a binding
    /// over the device's limits, or an internal driver failure.
    #[error(
        "GPU error while {context}: {detail}. This is a bug in sepfc or the driver; `--device cpu` avoids it"
    )]
    Gpu {
        /// What sepfc was doing.
        context: String,
        /// wgpu's description.
        detail: String,
    },
    /// A configuration that does not parse or describes an impossible model; the message names
    /// the key or the layer (`layer 2 (maxpool1d): ...`).
    #[error("invalid config: {0}")]
    Config(String),
    /// A weights file that cannot be read or does not fit its model.
    #[error("{path}: {detail}")]
    Weights {
        /// The file.
        path: String,
        /// What is wrong with it.
        detail: String,
    },
    /// An input file (FASTA, labels TSV, BED, genome index, ...) that cannot be used as it is:
    /// the message names the file, the line where the problem is (when there is one) and what is
    /// wrong, e.g. `train.fa:12: duplicate id 'seq3' (first seen at line 4)`.
    #[error("{path}{}: {detail}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        /// The file.
        path: String,
        /// The 1-based line number the problem is on, if it is on one line.
        line: Option<usize>,
        /// What is wrong.
        detail: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// An output sepfc draws or renders (a figure) could not be produced.
    #[error("{path}: {detail}")]
    Output {
        /// The file being written.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// A tensor does not fit the device's buffer limits even when split.
    #[error(
        "tensor of {bytes} bytes is too large for this GPU ({detail}). Try a smaller batch size"
    )]
    TooLarge {
        /// Size asked for.
        bytes: u64,
        /// Which limit it passes.
        detail: String,
    },
}

/// sepfc's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A shape error for `op`, with a formatted description.
    pub(crate) fn shape(op: &'static str, detail: impl fmt::Display) -> Self {
        Error::Shape {
            op,
            detail: detail.to_string(),
        }
    }

    /// The [`Error::Io`] of a failed read or write of `path`, for `map_err`:
    /// `std::fs::read(path).map_err(Error::io(path))?`.
    pub(crate) fn io(path: impl AsRef<std::path::Path>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.as_ref().display().to_string();
        move |source| Error::Io { path, source }
    }

    /// An invalid-argument error for `op`, with a formatted description.
    pub(crate) fn invalid(op: &'static str, detail: impl fmt::Display) -> Self {
        Error::InvalidArgument {
            op,
            detail: detail.to_string(),
        }
    }
}
