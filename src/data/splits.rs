//! The one place where a `[data]` section becomes its training, validation and test sets:
//! `sepfc train`, `sepfc evaluate --config`, `sepfc experiment` and its Snakemake plan all
//! split through [`load_splits`], so that they cannot disagree.
//!
//! The test set is taken first (from the training source unless it has files of its own), then
//! the validation set from what is left. Every set must hold at least one sequence, held-out
//! files must have the training sequences' length, and their label columns are matched to the
//! training tasks by name.

use std::collections::HashSet;
use std::path::Path;

use super::Dataset;
use super::dataset::some_ids;
use super::simdata::read_id_list;
use super::spec::{DataConfig, HeldOut, Source};
use crate::{Error, Result};

/// The sets a `[data]` section describes.
#[derive(Debug, Clone)]
pub struct Splits {
    /// Trained on.
    pub train: Dataset,
    /// Scored after every epoch, if the section names a validation set.
    pub valid: Option<Dataset>,
    /// Held out of training and validation, if the section names a test set.
    pub test: Option<Dataset>,
}

/// Reads and splits the `[data]` section `data` of the config file `config`: relative paths
/// are read against the config's folder, and errors about keys name the config. Fractions are
/// drawn with `data.split_seed`, else with `train_seed`.
pub fn load_splits(data: &DataConfig, config: &Path, train_seed: u64) -> Result<Splits> {
    let folder = config.parent().unwrap_or(Path::new("."));
    let data = data.map_paths(&|p| folder.join(p));
    let seed = data.split_seed.unwrap_or(train_seed);
    let key_error =
        |detail: String| Error::Config(format!("{}: [data] {detail}", config.display()));
    let all = match &data.source {
        Source::Fasta { fasta, labels } => read_labelled(fasta, labels)?,
        Source::Bed {
            bed,
            genome,
            length,
        } => Dataset::from_bed(bed, genome, *length)?,
        Source::Peaks {
            peaks,
            genome,
            length,
            negatives,
            signal,
        } => Dataset::from_peaks(peaks, genome, *length, negatives.as_ref(), signal.as_ref())?,
        Source::Simdata { simdata } => Dataset::from_simdata(simdata)?,
    };
    let mut rest = all;
    let mut take = |set: &str, held: &Option<HeldOut>| -> Result<Option<Dataset>> {
        let Some(held) = held else { return Ok(None) };
        let (remaining, taken) = hold_out(&rest, held, seed, set, &key_error)?;
        if let Some(remaining) = remaining {
            rest = remaining;
        }
        Ok(Some(taken))
    };
    let test = take("test", &data.test)?;
    let valid = take("valid", &data.valid)?;
    if let Some(valid) = &valid
        && data.is_signal()
        && !(0..valid.tasks.len()).any(|t| has_variation(valid, t))
    {
        return Err(key_error(format!(
            "the validation set ({} sequences) has no task whose signal varies, so its Pearson correlation cannot choose an epoch",
            valid.len()
        )));
    }
    if let Some(valid) = &valid
        && !data.is_signal()
        && !(0..valid.tasks.len()).any(|t| has_both_classes(valid, t))
    {
        return Err(key_error(format!(
            "the validation set ({} sequences) has no task with both a positive and a negative label, so its auPRC cannot choose an epoch",
            valid.len()
        )));
    }
    if rest.is_empty() {
        return Err(key_error(
            "the held-out sets leave no sequence for training".to_string(),
        ));
    }
    Ok(Splits {
        train: rest,
        valid,
        test,
    })
}

/// Whether task `t` of `set` has a positive and a negative label (positive: `>= 0.5`, as
/// the metrics count them).
fn has_both_classes(set: &Dataset, t: usize) -> bool {
    let labels = || (0..set.len()).filter_map(|i| set.target(i, t));
    labels().any(|y| y >= 0.5) && labels().any(|y| y < 0.5)
}

/// Whether task `t` of `set` has two different target values.
fn has_variation(set: &Dataset, t: usize) -> bool {
    let mut values = (0..set.len()).filter_map(|i| set.target(i, t));
    values
        .next()
        .is_some_and(|first| values.any(|v| v != first))
}

/// FASTA with a labels TSV, or with a two-column `.target` file (one row per record).
pub fn read_labelled(fasta: &Path, labels: &Path) -> Result<Dataset> {
    if labels.extension().is_some_and(|e| e == "target") {
        Dataset::from_fasta_and_targets(fasta, labels)
    } else {
        Dataset::from_fasta_and_labels(fasta, labels)
    }
}

/// The set named `set` (`valid` or `test`) held out of `all`: `(what is left of all, if
/// anything was taken from it, the set)`. Errors about the section's keys go through
/// `key_error`.
fn hold_out(
    all: &Dataset,
    held: &HeldOut,
    seed: u64,
    set: &str,
    key_error: &dyn Fn(String) -> Error,
) -> Result<(Option<Dataset>, Dataset)> {
    let (rest, taken) = match held {
        HeldOut::Files { fasta, labels } => {
            let files = read_labelled(fasta, labels)?;
            check_length(&files, all.length, fasta)?;
            let files = files.with_tasks(&all.tasks, &labels.display().to_string())?;
            return Ok((None, files));
        }
        HeldOut::Fraction(fraction) => {
            let (rest, taken) = all
                .split_fraction(*fraction, seed)
                .map_err(|e| key_error(format!("{set}_fraction: {}", detail(e))))?;
            if taken.is_empty() {
                return Err(key_error(format!(
                    "{set}_fraction = {fraction} holds out no sequence of the {n} (round({fraction} x {n}) = 0); use a larger fraction",
                    n = all.len()
                )));
            }
            (rest, taken)
        }
        HeldOut::Chroms(chroms) => all
            .split_by_chroms(chroms)
            .map_err(|e| key_error(format!("{set}_chroms: {}", detail(e))))?,
        HeldOut::Ids(path) => {
            let ids = read_id_list(path)?;
            let wanted: HashSet<String> = ids.iter().cloned().collect();
            let (rest, taken) = all.split_by_ids(&wanted);
            if taken.len() != ids.len() {
                let known: HashSet<&str> = all.ids.iter().map(String::as_str).collect();
                let missing: Vec<&str> = ids
                    .iter()
                    .map(String::as_str)
                    .filter(|id| !known.contains(id))
                    .collect();
                return Err(key_error(format!(
                    "{set}_ids: {} of the {} ids of {} match no sequence: {}",
                    missing.len(),
                    ids.len(),
                    path.display(),
                    some_ids(missing.into_iter())
                )));
            }
            (rest, taken)
        }
    };
    Ok((Some(rest), taken))
}

/// An error's own words, without the variant's prefix.
fn detail(e: Error) -> String {
    match e {
        Error::InvalidArgument { detail, .. } | Error::Config(detail) => detail,
        other => other.to_string(),
    }
}

fn check_length(set: &Dataset, length: usize, fasta: &Path) -> Result<()> {
    if set.length != length {
        return Err(Error::Input {
            path: fasta.display().to_string(),
            line: None,
            detail: format!(
                "sequences of {} bp, the training sequences are {length} bp",
                set.length
            ),
        });
    }
    Ok(())
}
