//! A [`Dataset`]: fixed-length sequences with per-task labels, read from any of the supported
//! inputs, split into training and validation sets, and turned into one-hot [`Batch`]es.
//!
//! ```
//! # fn main() -> sepfc::Result<()> {
//! use sepfc::data::Dataset;
//! let dir = tempfile::tempdir().unwrap();
//! let fasta = dir.path().join("train.fa");
//! let labels = dir.path().join("labels.tsv");
//! std::fs::write(&fasta, ">chr1:0-4\nACGT\n>chr2:10-14\nacgN\n>chr2:20-24\nGGGG\n").unwrap();
//! std::fs::write(&labels, "id\tbound\nchr2:10-14\tNA\nchr1:0-4\t1\nchr2:20-24\t0\n").unwrap();
//!
//! let data = Dataset::from_fasta_and_labels(&fasta, &labels)?;
//! assert_eq!((data.len(), data.length, data.tasks()), (3, 4, &["bound".to_string()][..]));
//! assert_eq!(data.chroms[1].as_deref(), Some("chr2"));
//!
//! let (train, valid) = data.split_by_chroms(&["chr1".to_string()])?;
//! assert_eq!((train.len(), valid.ids[0].as_str()), (2, "chr1:0-4"));
//!
//! let batch = data.batch(&[0, 1], true); // the two sequences, then their reverse complements
//! assert_eq!(batch.n, 4);
//! assert_eq!(batch.x.len(), 4 * 4 * 4); // (n, 4, L)
//! assert_eq!(batch.targets, [1.0, 0.0, 1.0, 0.0]); // (n, T), missing as 0 ...
//! assert_eq!(batch.mask, [1.0, 0.0, 1.0, 0.0]); //    ... and masked out
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::bed::{Genome, read_bed, windows};
use super::fasta::{Record, input_error, read_fasta};
use super::labels::{read_labels_tsv, read_target_columns_for};
use super::simdata::read_simdata;
use crate::dna::{one_hot_into, reverse_complement};
use crate::{Error, Result};

/// Fixed-length sequences with labels for `T` tasks.
///
/// `N` records; `sequences[i]` has `length` bases; `targets` is `(N, T)` row-major with NaN
/// for a missing label; `chroms[i]` is the record's chromosome when known (from the BED, or an
/// id such as `chr12:82386381-82386481`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// Record ids, `N` of them.
    pub ids: Vec<String>,
    /// Sequences as in the input files (case kept, `N` and IUPAC codes kept), `N` of them.
    pub sequences: Vec<Vec<u8>>,
    /// Task names, `T` of them.
    pub tasks: Vec<String>,
    /// Labels, `(N, T)` row-major; NaN = missing.
    pub targets: Vec<f32>,
    /// The length every sequence has.
    pub length: usize,
    /// Each record's chromosome, if known; `N` of them.
    pub chroms: Vec<Option<String>>,
}

/// One-hot inputs and labels of a batch of `n` sequences of length `L` with `T` tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Inputs `(n, 4, L)` channels-first, channels A, C, G, T; N and other characters are all
    /// zeros.
    pub x: Vec<f32>,
    /// Labels `(n, T)`, missing ones as 0.
    pub targets: Vec<f32>,
    /// `(n, T)`: 0 where the label is missing, else 1.
    pub mask: Vec<f32>,
    /// Sequences in the batch.
    pub n: usize,
}

/// The chromosome of an id of the form `chrom:start-end`, possibly followed by a suffix that
/// does not start with a digit (`_shuf`, `(+)`), and possibly preceded by `name::` (as
/// `bedtools getfasta -name` writes); `None` for other ids.
///
/// ```
/// use sepfc::data::dataset::chrom_from_id;
/// assert_eq!(chrom_from_id("chr12:82386381-82386481").as_deref(), Some("chr12"));
/// assert_eq!(chrom_from_id("chr10:113875682-113875782_shuf").as_deref(), Some("chr10"));
/// assert_eq!(chrom_from_id("peak7::chrX:5-10(+)").as_deref(), Some("chrX"));
/// assert_eq!(chrom_from_id("gata_only_1527"), None);
/// ```
pub fn chrom_from_id(id: &str) -> Option<String> {
    let locus = id.rsplit("::").next().unwrap_or(id);
    let (chrom, range) = locus.rsplit_once(':')?;
    if chrom.is_empty() || chrom.contains(char::is_whitespace) {
        return None;
    }
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(range);
    let rest = range[n..].strip_prefix('-')?;
    let m = digits(rest);
    if n == 0 || m == 0 || rest[m..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(chrom.to_string())
}

/// `'a', 'b', 'c' and 2 more`.
pub(crate) fn some_ids<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> String {
    const SHOWN: usize = 5;
    let total = ids.len();
    let mut text = ids
        .take(SHOWN)
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if total > SHOWN {
        text.push_str(&format!(" and {} more", total - SHOWN));
    }
    text
}

impl Dataset {
    /// A dataset from its parts, checked: as many ids, sequences and chromosomes as records,
    /// `targets` of `N * tasks.len()` values (NaN = missing, else in `[0, 1]`), and every
    /// sequence as long as the first. Chromosomes are parsed from the ids ([`chrom_from_id`]).
    pub fn new(
        ids: Vec<String>,
        sequences: Vec<Vec<u8>>,
        tasks: Vec<String>,
        targets: Vec<f32>,
    ) -> Result<Dataset> {
        let chroms = ids.iter().map(|id| chrom_from_id(id)).collect();
        let n = ids.len();
        if sequences.len() != n || targets.len() != n * tasks.len() {
            return Err(Error::shape(
                "Dataset::new",
                format!(
                    "{n} ids, {} sequences, {} tasks and {} targets (expected {n} sequences and {} targets)",
                    sequences.len(),
                    tasks.len(),
                    targets.len(),
                    n * tasks.len()
                ),
            ));
        }
        if let Some(i) = targets
            .iter()
            .position(|v| !v.is_nan() && !(0.0..=1.0).contains(v))
        {
            let t = tasks.len().max(1);
            return Err(Error::invalid(
                "Dataset::new",
                format!(
                    "target {} of record '{}' (task '{}') is outside [0, 1]",
                    targets[i],
                    ids[i / t],
                    tasks[i % t]
                ),
            ));
        }
        Self::build("Dataset::new", ids, sequences, tasks, targets, chroms)
    }

    /// Checks the one-length rule, naming `origin` and the record that breaks it.
    fn build(
        origin: &str,
        ids: Vec<String>,
        sequences: Vec<Vec<u8>>,
        tasks: Vec<String>,
        targets: Vec<f32>,
        chroms: Vec<Option<String>>,
    ) -> Result<Dataset> {
        let length = sequences.first().map_or(0, Vec::len);
        if let Some(i) = sequences.iter().position(|s| s.len() != length) {
            return Err(input_error(
                origin,
                None,
                format!(
                    "record '{}' (record {}) has length {}, expected {length} (the length of the first record, '{}'); models need sequences of one length",
                    ids[i],
                    i + 1,
                    sequences[i].len(),
                    ids[0]
                ),
            ));
        }
        Ok(Dataset {
            ids,
            sequences,
            tasks,
            targets,
            length,
            chroms,
        })
    }

    fn from_records(
        origin: &str,
        records: Vec<Record>,
        tasks: Vec<String>,
        targets: Vec<f32>,
    ) -> Result<Dataset> {
        let chroms = records.iter().map(|r| chrom_from_id(&r.id)).collect();
        let (ids, sequences) = records.into_iter().map(|r| (r.id, r.seq)).unzip();
        Self::build(origin, ids, sequences, tasks, targets, chroms)
    }

    /// Sequences from a FASTA (plain or gzip) with labels from a TSV (docs/contract.md), rows
    /// matched by id, in the FASTA's order.
    ///
    /// Errors: any error of [`read_fasta`] or
    /// [`read_labels_tsv`]; FASTA ids with no labels row, or
    /// labels rows with no FASTA record (the first few ids and both files named); sequences of
    /// differing lengths (the record, its length and the expected length).
    pub fn from_fasta_and_labels(fasta: &Path, labels: &Path) -> Result<Dataset> {
        let records = read_fasta(fasta)?;
        let table = read_labels_tsv(labels)?;
        let (fasta_name, labels_name) = (fasta.display().to_string(), labels.display().to_string());
        let rows: HashMap<&str, usize> = table
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let unlabelled: Vec<&str> = records
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| !rows.contains_key(id))
            .collect();
        let in_fasta: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
        let orphans: Vec<&str> = table
            .ids
            .iter()
            .map(String::as_str)
            .filter(|id| !in_fasta.contains(id))
            .collect();
        let mut problems = Vec::new();
        if !unlabelled.is_empty() {
            problems.push(format!(
                "{} of the {} records of {fasta_name} have no row in {labels_name}: {}",
                unlabelled.len(),
                records.len(),
                some_ids(unlabelled.iter().copied())
            ));
        }
        if !orphans.is_empty() {
            problems.push(format!(
                "{} of the {} rows of {labels_name} have no record in {fasta_name}: {}",
                orphans.len(),
                table.ids.len(),
                some_ids(orphans.iter().copied())
            ));
        }
        if !problems.is_empty() {
            return Err(input_error(&labels_name, None, problems.join("; and ")));
        }
        let targets = records
            .iter()
            .flat_map(|r| &table.values[rows[r.id.as_str()]])
            .map(|v| v.unwrap_or(f32::NAN))
            .collect();
        Self::from_records(&fasta_name, records, table.tasks, targets)
    }

    /// Sequences from a FASTA with a two-column `.target` file of the ctcf_101bp data (`1 0` =
    /// bound, `0 1` = not bound, one row per record in order): one task, `bound`.
    ///
    /// Errors: those of the two readers, a row count other than the record count, and
    /// sequences of differing lengths.
    pub fn from_fasta_and_targets(fasta: &Path, target: &Path) -> Result<Dataset> {
        let records = read_fasta(fasta)?;
        let fasta_name = fasta.display().to_string();
        let table = read_target_columns_for(target, records.len(), Some(&fasta_name))?;
        let targets = table
            .values
            .iter()
            .flatten()
            .map(|v| v.unwrap_or(f32::NAN))
            .collect();
        Self::from_records(&fasta_name, records, table.tasks, targets)
    }

    /// Windows of `length` bases centred on the intervals of a BED file
    /// (`chrom start end name label...`, see [`super::bed`]), read from a genome FASTA (plain
    /// or bgzip) through its index, which is written first when missing. Ids are the names, or `chrom:start-end` where the name
    /// is missing or `.`; chromosomes are the BED's.
    pub fn from_bed(bed: &Path, genome: &Path, length: usize) -> Result<Dataset> {
        Self::from_bed_with_labels_from(bed, genome, length, 4)
    }

    /// [`from_bed`](Self::from_bed) for a BED whose label columns start at the 0-based column
    /// `label_columns_from` (3 when there is no name column; 6 after BED6's score and strand).
    pub fn from_bed_with_labels_from(
        bed: &Path,
        genome: &Path,
        length: usize,
        label_columns_from: usize,
    ) -> Result<Dataset> {
        let bed = read_bed(bed, label_columns_from)?;
        let genome = Self::open_genome(genome)?;
        let chroms = bed
            .intervals
            .iter()
            .map(|iv| Some(iv.chrom.clone()))
            .collect();
        let windows = windows(&bed, &genome, length)?;
        let mut ids = Vec::with_capacity(windows.len());
        let mut sequences = Vec::with_capacity(windows.len());
        let mut targets = Vec::with_capacity(windows.len() * bed.tasks.len());
        for (id, seq, labels) in windows {
            ids.push(id);
            sequences.push(seq);
            targets.extend(labels.iter().map(|v| v.unwrap_or(f32::NAN)));
        }
        Self::build(&bed.path, ids, sequences, bed.tasks, targets, chroms)
    }

    /// Windows of `length` bases centred on the summits of peak files (one task per file),
    /// labelled by [`super::peaks::peak_windows`], with `negatives` when given; or, with
    /// `signal`, the same windows with the bigWigs' means as targets (tasks
    /// [`super::signal::Signal::tasks`]). The genome is plain or bgzip, indexed first when an
    /// index is missing. Says on stderr what it indexed and how many windows of each kind it
    /// made.
    pub fn from_peaks(
        peaks: &[(String, PathBuf)],
        genome: &Path,
        length: usize,
        negatives: Option<&super::peaks::Negatives>,
        signal: Option<&super::signal::Signal>,
    ) -> Result<Dataset> {
        let genome = Self::open_genome(genome)?;
        let windows = super::peaks::peak_windows(peaks, &genome, length, negatives)?;
        let negative = windows.ids.len() - windows.positives;
        eprintln!(
            "sepfc: {} peak windows and {negative} negatives of {length} bp{}",
            windows.positives,
            if windows.off_chromosome > 0 {
                format!(
                    "; {} peaks left out, their windows leaving the chromosome",
                    windows.off_chromosome
                )
            } else {
                String::new()
            }
        );
        if let Some(signal) = signal {
            let (targets, unlisted) =
                super::signal::window_targets(&windows.spans, length, signal)?;
            if unlisted > 0 {
                eprintln!(
                    "sepfc: {unlisted} window(s) lie on chromosomes a bigWig does not list; their targets from it are 0"
                );
            }
            return Self::with_signal(windows.ids, windows.sequences, signal.tasks(), targets);
        }
        let tasks = peaks.iter().map(|(t, _)| t.clone()).collect();
        Self::new(windows.ids, windows.sequences, tasks, windows.targets)
    }

    /// The genome of a window source, indexed first (saying so on stderr) when an index is
    /// missing.
    fn open_genome(genome: &Path) -> Result<Genome> {
        let (opened, written) = super::genome::open_indexing(genome)?;
        if let Some(message) = super::genome::indexing_message(genome, &written) {
            eprintln!("sepfc: {message}");
        }
        Ok(opened)
    }

    /// As [`Dataset::new`] for real-valued targets (signal for the regression losses): any
    /// finite value, NaN for missing.
    pub fn with_signal(
        ids: Vec<String>,
        sequences: Vec<Vec<u8>>,
        tasks: Vec<String>,
        targets: Vec<f32>,
    ) -> Result<Dataset> {
        if targets.len() != ids.len() * tasks.len() {
            return Err(Error::shape(
                "Dataset::with_signal",
                format!(
                    "{} targets for {} ids and {} tasks",
                    targets.len(),
                    ids.len(),
                    tasks.len()
                ),
            ));
        }
        if let Some(i) = targets.iter().position(|v| v.is_infinite()) {
            let t = tasks.len().max(1);
            return Err(Error::invalid(
                "Dataset::with_signal",
                format!(
                    "target of record '{}' (task '{}') is infinite",
                    ids[i / t],
                    tasks[i % t]
                ),
            ));
        }
        let chroms = ids.iter().map(|id| chrom_from_id(id)).collect();
        Self::build(
            "Dataset::with_signal",
            ids,
            sequences,
            tasks,
            targets,
            chroms,
        )
    }

    /// The simulated data of `data/tal_gata_sim/sequences.simdata.gz` (see
    /// [`super::simdata`]); tasks are named as in its header.
    pub fn from_simdata(path: &Path) -> Result<Dataset> {
        let data = read_simdata(path)?;
        let mut ids = Vec::with_capacity(data.records.len());
        let mut sequences = Vec::with_capacity(data.records.len());
        let mut targets = Vec::with_capacity(data.records.len() * data.tasks.len());
        for r in data.records {
            targets.extend(r.labels.iter().map(|v| v.unwrap_or(f32::NAN)));
            ids.push(r.id);
            sequences.push(r.seq);
        }
        let chroms = ids.iter().map(|id| chrom_from_id(id)).collect();
        Self::build(
            &path.display().to_string(),
            ids,
            sequences,
            data.tasks,
            targets,
            chroms,
        )
    }

    /// Number of records, `N`.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Task names, `T` of them.
    pub fn tasks(&self) -> &[String] {
        &self.tasks
    }

    /// The same records with their label columns matched to `tasks` by name and put in that
    /// order; columns of other tasks are dropped. This is how labels meet a model or a
    /// training set whose tasks are known, so that a file with its columns in another order
    /// scores each task on its own column.
    ///
    /// Errors: a task of `tasks` with no column, naming `origin` (the labels file) and the
    /// columns it has.
    ///
    /// ```
    /// # fn main() -> sepfc::Result<()> {
    /// use sepfc::data::Dataset;
    /// let data = Dataset::new(
    ///     vec!["a".into()],
    ///     vec![b"ACGT".to_vec()],
    ///     vec!["gata".into(), "tal1".into()],
    ///     vec![1.0, 0.0],
    /// )?;
    /// let swapped = data.clone().with_tasks(&["tal1".into(), "gata".into()], "labels.tsv")?;
    /// assert_eq!(swapped.targets, [0.0, 1.0]);
    /// assert!(data.with_tasks(&["ctcf".into()], "labels.tsv").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_tasks(self, tasks: &[String], origin: &str) -> Result<Dataset> {
        if self.tasks == tasks {
            return Ok(self);
        }
        let columns = tasks
            .iter()
            .map(|task| {
                self.tasks.iter().position(|t| t == task).ok_or_else(|| {
                    input_error(
                        origin,
                        None,
                        format!(
                            "no label column for task '{task}' (the tasks are {}; the file's columns are {})",
                            tasks.join(", "),
                            self.tasks.join(", ")
                        ),
                    )
                })
            })
            .collect::<Result<Vec<usize>>>()?;
        let t = self.tasks.len();
        let targets = (0..self.len())
            .flat_map(|i| columns.iter().map(move |&c| i * t + c))
            .map(|k| self.targets[k])
            .collect();
        Ok(Dataset {
            tasks: tasks.to_vec(),
            targets,
            ..self
        })
    }

    /// The label of record `i` for task `t`, `None` when missing.
    ///
    /// # Panics
    /// When `i >= len()` or `t >= tasks().len()`.
    pub fn target(&self, i: usize, t: usize) -> Option<f32> {
        assert!(t < self.tasks.len(), "task {t} of {}", self.tasks.len());
        let v = self.targets[i * self.tasks.len() + t];
        (!v.is_nan()).then_some(v)
    }

    /// The records at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    /// When an index is `>= len()`.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let t = self.tasks.len();
        Dataset {
            ids: indices.iter().map(|&i| self.ids[i].clone()).collect(),
            sequences: indices.iter().map(|&i| self.sequences[i].clone()).collect(),
            tasks: self.tasks.clone(),
            targets: indices
                .iter()
                .flat_map(|&i| &self.targets[i * t..(i + 1) * t])
                .copied()
                .collect(),
            length: self.length,
            chroms: indices.iter().map(|&i| self.chroms[i].clone()).collect(),
        }
    }

    /// Splits off `round(fraction * N)` records chosen by a shuffle seeded with `seed` (the same
    /// seed gives the same split): `(rest, held_out)`, each in the original order.
    ///
    /// Errors: `fraction` not in `[0, 1)`, or so close to 1 that no record is left.
    pub fn split_fraction(&self, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(Error::invalid(
                "split_fraction",
                format!("a held-out fraction must be in [0, 1), got {fraction}"),
            ));
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let n_held = (fraction * self.len() as f64).round() as usize;
        if n_held == self.len() && n_held > 0 {
            return Err(Error::invalid(
                "split_fraction",
                format!(
                    "a held-out fraction of {fraction} of {} records leaves none for training",
                    self.len()
                ),
            ));
        }
        let mut held = order[..n_held].to_vec();
        let mut rest = order[n_held..].to_vec();
        held.sort_unstable();
        rest.sort_unstable();
        Ok((self.subset(&rest), self.subset(&held)))
    }

    /// `(rest, selected)`: the records whose id is in `ids`, and the others, each in the
    /// original order. Ids of `ids` that no record has are ignored; compare
    /// `selected.len()` with `ids.len()` to catch them.
    pub fn split_by_ids(&self, ids: &HashSet<String>) -> (Dataset, Dataset) {
        let (selected, rest): (Vec<usize>, Vec<usize>) =
            (0..self.len()).partition(|&i| ids.contains(&self.ids[i]));
        (self.subset(&rest), self.subset(&selected))
    }

    /// `(rest, selected)`: the records on the chromosomes `chroms`, and the others, each in
    /// the original order.
    ///
    /// Errors: a record with no known chromosome (its id is not `chrom:start-end`), and a
    /// chromosome of `chroms` that no record is on (a typo, or `8` for `chr8`).
    pub fn split_by_chroms(&self, chroms: &[String]) -> Result<(Dataset, Dataset)> {
        let unknown: Vec<&str> = (0..self.len())
            .filter(|&i| self.chroms[i].is_none())
            .map(|i| self.ids[i].as_str())
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid(
                "split_by_chroms",
                format!(
                    "{} records have no chromosome (their ids are not of the form chrom:start-end): {}",
                    unknown.len(),
                    some_ids(unknown.into_iter())
                ),
            ));
        }
        let present: BTreeSet<&str> = self.chroms.iter().flatten().map(String::as_str).collect();
        if let Some(absent) = chroms.iter().find(|c| !present.contains(c.as_str())) {
            let listed = present
                .iter()
                .take(30)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::invalid(
                "split_by_chroms",
                format!(
                    "no record is on chromosome '{absent}' (the records are on: {listed}{})",
                    if present.len() > 30 { ", ..." } else { "" }
                ),
            ));
        }
        let wanted: HashSet<&str> = chroms.iter().map(String::as_str).collect();
        let (selected, rest): (Vec<usize>, Vec<usize>) = (0..self.len()).partition(|&i| {
            self.chroms[i]
                .as_deref()
                .is_some_and(|c| wanted.contains(c))
        });
        Ok((self.subset(&rest), self.subset(&selected)))
    }

    /// The batch of the records at `indices`: one-hot inputs `(n, 4, L)`, targets and mask
    /// `(n, T)`. With `rc_augment` the batch holds the sequences, then their reverse
    /// complements in the same order with the same labels: `n = 2 * indices.len()`.
    ///
    /// # Panics
    /// When an index is `>= len()`.
    pub fn batch(&self, indices: &[usize], rc_augment: bool) -> Batch {
        let t = self.tasks.len();
        let copies = if rc_augment { 2 } else { 1 };
        let n = copies * indices.len();
        let mut x = Vec::with_capacity(n * 4 * self.length);
        for &i in indices {
            one_hot_into(&self.sequences[i], &mut x);
        }
        if rc_augment {
            for &i in indices {
                one_hot_into(&reverse_complement(&self.sequences[i]), &mut x);
            }
        }
        let mut targets = Vec::with_capacity(n * t);
        let mut mask = Vec::with_capacity(n * t);
        for _ in 0..copies {
            for &i in indices {
                for &v in &self.targets[i * t..(i + 1) * t] {
                    let missing = v.is_nan();
                    targets.push(if missing { 0.0 } else { v });
                    mask.push(if missing { 0.0 } else { 1.0 });
                }
            }
        }
        Batch {
            x,
            targets,
            mask,
            n,
        }
    }
}
