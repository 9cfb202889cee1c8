//! sepfc: convolutional networks for DNA sequence with separable fully connected layers, on
//! any GPU through wgpu or on a fast CPU backend, with plain-loop reference kernels that every
//! result of both is tested against.
//!
//! - [`backend`]: the op set, on the CPU and on the GPU (and the reference kernels);
//! - [`autodiff`]: the tape that differentiates a forward pass;
//! - [`graph`]: the forward ops layers are written in, on the tape or evaluated without one;
//! - [`optim`]: SGD, Adam and parameter constraints;
//! - [`config`], [`layers`], [`model`]: models from a TOML config, trained and saved as
//!   safetensors;
//! - [`dna`]: one-hot encoding and reverse complements;
//! - [`io`]: atomic writes and JSON files;
//! - [`data`]: the readers (FASTA, BED, peaks, bigWig, VCF, plain or bgzip genomes), the
//!   `[data]` section and its splits;
//! - [`variants`], [`tracks`]: the REF and ALT windows of a variant, and bigWig tracks out;
//! - [`training`]: the [`Trainer`](training::Trainer), batch sources and observers;
//! - [`inference`]: logits, predictions and scores of whole sets of sequences;
//! - [`run_folder`]: a training run's output folder (lock, fingerprint, resume);
//! - [`metrics`], [`demo`]: auROC and the embedded demo.

#![warn(missing_docs)]

pub mod autodiff;
pub mod backend;
pub mod bench;
pub mod commands;
pub mod config;
pub mod data;
pub mod demo;
pub mod dna;
mod error;
pub mod experiment;
pub mod explain;
mod figure;
pub mod graph;
pub mod inference;
pub mod io;
pub mod layers;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod progress;
pub mod recovery;
pub mod run_folder;
pub mod simulate;
pub mod stats;
pub mod tracks;
pub mod training;
pub mod variants;

pub use error::{Error, Result};
