//! The command line's verbs as library functions: each takes typed options, runs on the
//! device asked for, prints what it did and writes its outputs atomically. `src/main.rs` only
//! parses arguments into these options.

pub mod bench;
pub mod cli;
pub mod device;
pub mod evaluate;
pub mod experiment;
pub mod experiment_plan;
pub mod explain;
pub mod logos;
pub mod outputs;
pub mod predict;
pub mod scan;
pub mod scan_plan;
pub mod simulate;
pub mod train;
pub mod variants;
pub mod workflow;

pub use device::{BackendTask, Device, run_on};
