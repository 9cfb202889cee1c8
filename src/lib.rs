//! sepfc: convolutional networks for DNA sequence with separable fully connected layers, on
//! any GPU through wgpu, with a CPU reference that every GPU result is tested against.

pub mod autodiff;
pub mod backend;
mod error;
pub mod optim;

pub use error::{Error, Result};
pub mod demo;
pub mod metrics;
