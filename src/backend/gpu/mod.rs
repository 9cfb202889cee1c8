//! GPU backend (placeholder while it is written).
