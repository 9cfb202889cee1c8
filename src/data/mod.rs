//! Reading sequences and labels: FASTA (plain or gzip) with a labels TSV, BED intervals and peak
//! calls (with negatives drawn from the genome) on an indexed genome (plain or bgzip), bigWig
//! signal as regression targets, VCF variants, and the datasets of the repository's `data/`; a
//! [`Dataset`] of fixed-length sequences with per-task targets, its splits, and one-hot batches;
//! and the tiling of a genome into the windows of a scan.

pub mod bed;
pub mod dataset;
pub mod fasta;
pub mod genome;
pub mod labels;
pub mod peaks;
pub mod signal;
pub mod simdata;
pub mod spec;
pub mod splits;
pub mod tiling;
pub mod vcf;

pub use dataset::{Batch, Dataset};
pub use splits::{Splits, load_splits};
