//! (being written)

/// (being written)
pub struct Dataset;

/// (being written)
pub struct Batch;
