//! Regression targets from signal tracks: for every window, the mean of a bigWig's values over
//! the window, or over each of `bins` equal bins of it (bigtools' reader). Bases the bigWig has
//! no value for count as 0 (no signal), as do windows on chromosomes it does not list; a bigWig
//! that lists none of the windows' chromosomes is refused (a naming mismatch such as `1` for
//! `chr1` would otherwise read as no signal anywhere).
//!
//! ```
//! use sepfc::data::signal::bin_means;
//! let values = [1.0, f32::NAN, 3.0, 5.0];
//! assert_eq!(bin_means(&values, 1), [2.25]);     // (1 + 0 + 3 + 5) / 4
//! assert_eq!(bin_means(&values, 2), [0.5, 4.0]);
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use bigtools::BigWigRead;

use crate::{Error, Result};

/// The `bigwig` table of `[data]` and its `bigwig_bins`.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// Task name and bigWig file, in the config's order.
    pub bigwig: Vec<(String, PathBuf)>,
    /// Bins per window (1: the window's mean).
    pub bins: usize,
}

impl Signal {
    /// The task names: one per bigWig, or with bins `{task}_{b}` for `b` in `0..bins`.
    pub fn tasks(&self) -> Vec<String> {
        self.bigwig
            .iter()
            .flat_map(|(task, _)| {
                (0..self.bins).map(move |b| {
                    if self.bins == 1 {
                        task.clone()
                    } else {
                        format!("{task}_{b}")
                    }
                })
            })
            .collect()
    }
}

/// The means of `values` over `bins` equal bins (`values.len()` a multiple of `bins`), NaN
/// taken as 0.
pub fn bin_means(values: &[f32], bins: usize) -> Vec<f32> {
    let width = values.len() / bins;
    values
        .chunks(width)
        .map(|bin| {
            let sum: f64 = bin
                .iter()
                .filter(|v| !v.is_nan())
                .map(|&v| f64::from(v))
                .sum();
            (sum / width as f64) as f32
        })
        .collect()
}

/// Targets `(N, tasks)` of the windows `(chrom, start)` of `length` bases, tasks as
/// [`Signal::tasks`] orders them, and how many (window, bigWig) pairs were on a chromosome the
/// bigWig does not list (their targets 0), for the caller to report.
///
/// Errors: a bigWig that cannot be read, or lists none of the windows' chromosomes; `length`
/// not a multiple of `bins`.
pub fn window_targets(
    windows: &[(String, u64)],
    length: usize,
    signal: &Signal,
) -> Result<(Vec<f32>, usize)> {
    let bins = signal.bins;
    if bins == 0 || !length.is_multiple_of(bins) {
        return Err(Error::Config(format!(
            "[data] bigwig_bins = {bins}: must divide the window length {length}"
        )));
    }
    let per_task = bins;
    let tasks = signal.bigwig.len() * per_task;
    let mut targets = vec![0.0f32; windows.len() * tasks];
    let mut unlisted = 0;
    for (k, (_, path)) in signal.bigwig.iter().enumerate() {
        let mut reader = open(path)?;
        let listed: HashSet<String> = reader.chroms().iter().map(|c| c.name.clone()).collect();
        let wanted: HashSet<&str> = windows.iter().map(|(c, _)| c.as_str()).collect();
        if !wanted.iter().any(|c| listed.contains(*c)) {
            let mut theirs: Vec<&String> = listed.iter().collect();
            theirs.sort();
            theirs.truncate(5);
            return Err(Error::Config(format!(
                "{}: lists none of the windows' chromosomes (it has {theirs:?}); do the genome and the bigWig name chromosomes alike?",
                path.display()
            )));
        }
        for (i, (chrom, start)) in windows.iter().enumerate() {
            if !listed.contains(chrom) {
                unlisted += 1;
                continue;
            }
            let (from, to) = (*start as u32, (*start as usize + length) as u32);
            let values = reader.values(chrom, from, to).map_err(|e| {
                Error::Config(format!(
                    "{}: cannot read {chrom}:{from}-{to}: {e}",
                    path.display()
                ))
            })?;
            let means = bin_means(&values, bins);
            targets[i * tasks + k * per_task..i * tasks + (k + 1) * per_task]
                .copy_from_slice(&means);
        }
    }
    Ok((targets, unlisted))
}

fn open(path: &Path) -> Result<BigWigRead<bigtools::utils::file::reopen::ReopenableFile>> {
    BigWigRead::open_file(path)
        .map_err(|e| Error::Config(format!("{}: not a readable bigWig ({e})", path.display())))
}
