//! The `[data]` section of a config as types that cannot hold a conflict: one training
//! [`Source`], and for each of the validation and test sets at most one [`HeldOut`] choice.
//!
//! The TOML form is the flat table of docs/contract.md (`fasta`, `labels`, `valid_fraction`,
//! ...). It is read key by key and then checked as a whole, so that two sources of one set
//! (`fasta` and `bed`, `test_ids` and `test_fraction`), half of a pair (`valid_fasta` without
//! `valid_labels`) or a key that belongs to no source (`genome` without `bed`) is an error
//! naming the keys, never a silent precedence.
//!
//! ```
//! use sepfc::config::Config;
//! use sepfc::data::spec::{HeldOut, Source};
//! let config = Config::from_toml_str(r#"
//!     [data]
//!     fasta = "train.fa"
//!     labels = "labels.tsv"
//!     valid_fraction = 0.1
//!
//!     [[layers]]
//!     type = "dense"
//!     units = 1
//! "#).unwrap();
//! let data = config.data.unwrap();
//! assert!(matches!(data.source, Source::Fasta { .. }));
//! assert_eq!(data.valid, Some(HeldOut::Fraction(0.1)));
//! assert_eq!(data.test, None);
//!
//! let both = Config::from_toml_str(
//!     "[data]\nfasta = \"a.fa\"\nlabels = \"a.tsv\"\nbed = \"a.bed\"\n[[layers]]\ntype = \"dense\"\nunits = 1\n",
//! );
//! assert!(both.unwrap_err().to_string().contains("`fasta` and `bed`"));
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use super::peaks::Negatives;
pub use super::signal::Signal;

/// Where the training sequences and their labels come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A FASTA (plain or gzip) with a labels TSV, or with a two-column `.target` file.
    Fasta {
        /// `fasta`.
        fasta: PathBuf,
        /// `labels`.
        labels: PathBuf,
    },
    /// Windows of `length` bases centred on BED intervals (with label columns) of an indexed
    /// genome.
    Bed {
        /// `bed`.
        bed: PathBuf,
        /// `genome`, with its `.fai` beside it.
        genome: PathBuf,
        /// `length`.
        length: usize,
    },
    /// Windows of `length` bases centred on the summits of peak files (one task per file, in
    /// the config's order), with negatives drawn from the genome when asked for
    /// (see [`super::peaks`]).
    Peaks {
        /// `peaks`: task name and peak file (narrowPeak or BED, plain or gzip).
        peaks: Vec<(String, PathBuf)>,
        /// `genome`, indexed (plain or bgzip).
        genome: PathBuf,
        /// `length`.
        length: usize,
        /// `negatives`.
        negatives: Option<Negatives>,
        /// `bigwig` and `bigwig_bins`: regression targets from signal tracks instead of the
        /// peak labels.
        signal: Option<Signal>,
    },
    /// A simulated-data TSV (`seqName sequence embeddings task...`).
    Simdata {
        /// `simdata`.
        simdata: PathBuf,
    },
}

/// How a held-out set (validation or test) is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum HeldOut {
    /// Sequences of their own: `{set}_fasta` with `{set}_labels`.
    Files {
        /// The sequences.
        fasta: PathBuf,
        /// Their labels (TSV or `.target`).
        labels: PathBuf,
    },
    /// `{set}_fraction`: a seeded random share of the sequences, in `(0, 1)`.
    Fraction(f64),
    /// `{set}_chroms`: the sequences on these chromosomes.
    Chroms(Vec<String>),
    /// `{set}_ids`: the sequences whose ids a file lists (one per line, plain or gzip).
    Ids(PathBuf),
}

/// The `[data]` section: a training source, an optional validation set, an optional test set
/// (held out of both training and validation) and the seed of fraction splits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DataTable", into = "DataTable")]
pub struct DataConfig {
    /// Training sequences (the held-out sets that are not files of their own come out of them).
    pub source: Source,
    /// Scored after every epoch; picks the kept epoch and stops early.
    pub valid: Option<HeldOut>,
    /// Never trained or validated on; scored at the end and by `sepfc evaluate --config`.
    pub test: Option<HeldOut>,
    /// Seed of fraction splits (default: `[train] seed`), so that runs with different training
    /// seeds can share one split.
    pub split_seed: Option<u64>,
}

impl DataConfig {
    /// The same section with every relative path read against `base` (a config file's folder)
    /// and made absolute.
    pub fn absolutized(&self, base: &Path) -> DataConfig {
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        let base = std::fs::canonicalize(base)
            .or_else(|_| std::path::absolute(base))
            .unwrap_or_else(|_| base.to_path_buf());
        self.map_paths(&|p| base.join(p))
    }

    /// The same section with `f` applied to every path.
    pub fn map_paths(&self, f: &dyn Fn(&Path) -> PathBuf) -> DataConfig {
        let source = match &self.source {
            Source::Fasta { fasta, labels } => Source::Fasta {
                fasta: f(fasta),
                labels: f(labels),
            },
            Source::Bed {
                bed,
                genome,
                length,
            } => Source::Bed {
                bed: f(bed),
                genome: f(genome),
                length: *length,
            },
            Source::Peaks {
                peaks,
                genome,
                length,
                negatives,
                signal,
            } => Source::Peaks {
                peaks: peaks.iter().map(|(t, p)| (t.clone(), f(p))).collect(),
                genome: f(genome),
                length: *length,
                negatives: negatives.as_ref().map(|n| Negatives {
                    blacklist: n.blacklist.as_deref().map(f),
                    ..n.clone()
                }),
                signal: signal.as_ref().map(|s| Signal {
                    bigwig: s.bigwig.iter().map(|(t, p)| (t.clone(), f(p))).collect(),
                    bins: s.bins,
                }),
            },
            Source::Simdata { simdata } => Source::Simdata {
                simdata: f(simdata),
            },
        };
        let held = |h: &Option<HeldOut>| {
            h.as_ref().map(|h| match h {
                HeldOut::Files { fasta, labels } => HeldOut::Files {
                    fasta: f(fasta),
                    labels: f(labels),
                },
                HeldOut::Ids(ids) => HeldOut::Ids(f(ids)),
                other => other.clone(),
            })
        };
        DataConfig {
            source,
            valid: held(&self.valid),
            test: held(&self.test),
            split_seed: self.split_seed,
        }
    }

    /// Whether the targets are signal (bigWig means, trained with a regression loss) rather
    /// than labels.
    pub fn is_signal(&self) -> bool {
        matches!(
            &self.source,
            Source::Peaks {
                signal: Some(_),
                ..
            }
        )
    }

    /// Every file the section reads, in a fixed order.
    pub fn files(&self) -> Vec<&Path> {
        let mut files: Vec<&Path> = match &self.source {
            Source::Fasta { fasta, labels } => vec![fasta, labels],
            Source::Bed { bed, genome, .. } => vec![bed, genome],
            Source::Peaks {
                peaks,
                genome,
                negatives,
                signal,
                ..
            } => {
                let mut files: Vec<&Path> = peaks.iter().map(|(_, p)| p.as_path()).collect();
                files.push(genome);
                files.extend(negatives.iter().filter_map(|n| n.blacklist.as_deref()));
                files.extend(
                    signal
                        .iter()
                        .flat_map(|s| s.bigwig.iter().map(|(_, p)| p.as_path())),
                );
                files
            }
            Source::Simdata { simdata } => vec![simdata],
        };
        for held in [&self.valid, &self.test].into_iter().flatten() {
            match held {
                HeldOut::Files { fasta, labels } => files.extend([fasta.as_path(), labels]),
                HeldOut::Ids(ids) => files.push(ids),
                HeldOut::Fraction(_) | HeldOut::Chroms(_) => {}
            }
        }
        files
    }
}

/// The flat TOML table of `[data]`, key by key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataTable {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fasta: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labels: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bed: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    genome: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    peaks: Option<toml::Table>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    negatives: Option<NegativesTable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bigwig: Option<toml::Table>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bigwig_bins: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    simdata: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_fasta: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_labels: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_fraction: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_chroms: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_ids: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    test_fasta: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    test_labels: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    test_fraction: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    test_chroms: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    test_ids: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    split_seed: Option<u64>,
}

/// The `negatives` table, key by key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NegativesTable {
    #[serde(default = "one")]
    per_positive: f64,
    #[serde(default = "yes")]
    gc_matched: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blacklist: Option<PathBuf>,
    #[serde(default)]
    seed: u64,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// A `key = { task = "file", ... }` table as (task, file) pairs in the config's order.
fn task_files(
    key: &str,
    table: &toml::Table,
    example: &str,
) -> Result<Vec<(String, PathBuf)>, String> {
    if table.is_empty() {
        return Err(format!(
            "[data] {key} is empty: give one `task = \"{example}\"` per task"
        ));
    }
    table
        .iter()
        .map(|(task, file)| match file.as_str() {
            Some(path) => Ok((task.clone(), PathBuf::from(path))),
            None => Err(format!(
                "[data] {key}.{task} must be a file path (a string)"
            )),
        })
        .collect()
}

/// (task, file) pairs as a `{ task = "file", ... }` table, in their order: [`task_files`]'s
/// inverse.
fn task_table(pairs: Vec<(String, PathBuf)>) -> toml::Table {
    pairs
        .into_iter()
        .map(|(task, p)| (task, toml::Value::String(p.display().to_string())))
        .collect()
}

/// The keys given, by name, of `(name, is_set)` pairs.
fn given<'a>(keys: &[(&'a str, bool)]) -> Vec<&'a str> {
    keys.iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| *k)
        .collect()
}

/// "`a` and `b`", "`a`, `b` and `c`".
fn listed(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The `genome` and `length` a window source (`bed`, `peaks`) needs.
fn genome_and_length(t: &DataTable, source: &str) -> Result<(PathBuf, usize), String> {
    let (Some(genome), Some(length)) = (t.genome.clone(), t.length) else {
        return Err(format!(
            "[data]: `{source}` needs `genome` (an indexed FASTA) and `length` (the window, in bases)"
        ));
    };
    if length == 0 {
        return Err("[data]: `length` must be at least 1".into());
    }
    Ok((genome, length))
}

fn source_of(t: &DataTable) -> Result<Source, String> {
    let chosen = given(&[
        ("fasta", t.fasta.is_some()),
        ("bed", t.bed.is_some()),
        ("peaks", t.peaks.is_some()),
        ("simdata", t.simdata.is_some()),
    ]);
    if chosen.len() > 1 {
        return Err(format!(
            "[data]: {} are both training sources; give one of fasta + labels, bed + genome + length, peaks + genome + length, or simdata",
            listed(&chosen)
        ));
    }
    for (key, set) in [
        ("negatives", t.negatives.is_some()),
        ("bigwig", t.bigwig.is_some()),
        ("bigwig_bins", t.bigwig_bins.is_some()),
    ] {
        if set && t.peaks.is_none() {
            return Err(format!(
                "[data]: `{key}` belong(s) with `peaks`, which is not given"
            ));
        }
    }
    if t.bigwig_bins.is_some() && t.bigwig.is_none() {
        return Err("[data]: `bigwig_bins` belong(s) with `bigwig`, which is not given".into());
    }
    let stray = |keys: &[(&str, bool)], owner: &str| -> Result<(), String> {
        let stray = given(keys);
        if stray.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "[data]: {} belong(s) with `{owner}`, which is not given",
                listed(&stray)
            ))
        }
    };
    match chosen.first().copied() {
        Some("fasta") => {
            stray(&[("genome", t.genome.is_some()), ("length", t.length.is_some())], "bed")?;
            let labels = t
                .labels
                .clone()
                .ok_or("[data]: `fasta` needs `labels` (a labels TSV or a .target file)")?;
            Ok(Source::Fasta {
                fasta: t.fasta.clone().expect("chosen"),
                labels,
            })
        }
        Some("bed") => {
            stray(&[("labels", t.labels.is_some())], "fasta")?;
            let (genome, length) = genome_and_length(t, "bed")?;
            Ok(Source::Bed {
                bed: t.bed.clone().expect("chosen"),
                genome,
                length,
            })
        }
        Some("peaks") => {
            stray(&[("labels", t.labels.is_some())], "fasta")?;
            let (genome, length) = genome_and_length(t, "peaks")?;
            let negatives = match &t.negatives {
                Some(n) => {
                    if !(n.per_positive >= 0.0 && n.per_positive.is_finite()) {
                        return Err(format!(
                            "[data] negatives.per_positive = {}: must be a non-negative number",
                            n.per_positive
                        ));
                    }
                    Some(Negatives {
                        per_positive: n.per_positive,
                        gc_matched: n.gc_matched,
                        blacklist: n.blacklist.clone(),
                        seed: n.seed,
                    })
                }
                None => None,
            };
            let signal = match &t.bigwig {
                Some(table) => {
                    let bins = t.bigwig_bins.unwrap_or(1);
                    if bins == 0 || !length.is_multiple_of(bins) {
                        return Err(format!(
                            "[data] bigwig_bins = {bins}: must divide the window length {length}"
                        ));
                    }
                    Some(Signal {
                        bigwig: task_files("bigwig", table, "signal.bw")?,
                        bins,
                    })
                }
                None => None,
            };
            Ok(Source::Peaks {
                peaks: task_files("peaks", t.peaks.as_ref().expect("chosen"), "file.narrowPeak")?,
                genome,
                length,
                negatives,
                signal,
            })
        }
        Some(_) => {
            stray(&[("labels", t.labels.is_some())], "fasta")?;
            stray(&[("genome", t.genome.is_some()), ("length", t.length.is_some())], "bed")?;
            Ok(Source::Simdata {
                simdata: t.simdata.clone().expect("chosen"),
            })
        }
        None => Err(
            "[data] needs a training source: `fasta` + `labels`, `bed` + `genome` + `length`, `peaks` + `genome` + `length`, or `simdata`"
                .into(),
        ),
    }
}

/// The keys of one held-out set, `set` being `valid` or `test`.
struct HeldOutKeys<'t> {
    set: &'static str,
    fasta: &'t Option<PathBuf>,
    labels: &'t Option<PathBuf>,
    fraction: Option<f64>,
    chroms: &'t Option<Vec<String>>,
    ids: &'t Option<PathBuf>,
}

fn held_out_of(k: HeldOutKeys<'_>) -> Result<Option<HeldOut>, String> {
    let set = k.set;
    let names = [
        format!("{set}_fasta"),
        format!("{set}_fraction"),
        format!("{set}_chroms"),
        format!("{set}_ids"),
    ];
    let chosen = given(&[
        (&names[0], k.fasta.is_some() || k.labels.is_some()),
        (&names[1], k.fraction.is_some()),
        (&names[2], k.chroms.is_some()),
        (&names[3], k.ids.is_some()),
    ]);
    if chosen.len() > 1 {
        return Err(format!(
            "[data]: {} both choose the {set} set; give one of them",
            listed(&chosen)
        ));
    }
    if let Some(fraction) = k.fraction {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(format!(
                "[data] {set}_fraction = {fraction}: must be between 0 and 1 (leave the key out for no {set} set)"
            ));
        }
        return Ok(Some(HeldOut::Fraction(fraction)));
    }
    if let Some(chroms) = k.chroms {
        if chroms.is_empty() {
            return Err(format!(
                "[data] {set}_chroms is empty (leave the key out for no {set} set)"
            ));
        }
        return Ok(Some(HeldOut::Chroms(chroms.clone())));
    }
    if let Some(ids) = k.ids {
        return Ok(Some(HeldOut::Ids(ids.clone())));
    }
    match (k.fasta, k.labels) {
        (Some(fasta), Some(labels)) => Ok(Some(HeldOut::Files {
            fasta: fasta.clone(),
            labels: labels.clone(),
        })),
        (Some(_), None) => Err(format!("[data]: `{set}_fasta` needs `{set}_labels`")),
        (None, Some(_)) => Err(format!("[data]: `{set}_labels` needs `{set}_fasta`")),
        (None, None) => Ok(None),
    }
}

impl TryFrom<DataTable> for DataConfig {
    type Error = String;

    fn try_from(t: DataTable) -> Result<Self, String> {
        let source = source_of(&t)?;
        let valid = held_out_of(HeldOutKeys {
            set: "valid",
            fasta: &t.valid_fasta,
            labels: &t.valid_labels,
            fraction: t.valid_fraction,
            chroms: &t.valid_chroms,
            ids: &t.valid_ids,
        })?;
        let test = held_out_of(HeldOutKeys {
            set: "test",
            fasta: &t.test_fasta,
            labels: &t.test_labels,
            fraction: t.test_fraction,
            chroms: &t.test_chroms,
            ids: &t.test_ids,
        })?;
        if let (Some(HeldOut::Fraction(v)), Some(HeldOut::Fraction(t))) = (&valid, &test)
            && v + t >= 1.0
        {
            return Err(format!(
                "[data]: valid_fraction {v} and test_fraction {t} leave nothing for training"
            ));
        }
        Ok(DataConfig {
            source,
            valid,
            test,
            split_seed: t.split_seed,
        })
    }
}

impl From<DataConfig> for DataTable {
    fn from(d: DataConfig) -> Self {
        let mut t = DataTable {
            split_seed: d.split_seed,
            ..DataTable::default()
        };
        match d.source {
            Source::Fasta { fasta, labels } => {
                t.fasta = Some(fasta);
                t.labels = Some(labels);
            }
            Source::Bed {
                bed,
                genome,
                length,
            } => {
                t.bed = Some(bed);
                t.genome = Some(genome);
                t.length = Some(length);
            }
            Source::Peaks {
                peaks,
                genome,
                length,
                negatives,
                signal,
            } => {
                t.peaks = Some(task_table(peaks));
                t.genome = Some(genome);
                t.length = Some(length);
                t.negatives = negatives.map(|n| NegativesTable {
                    per_positive: n.per_positive,
                    gc_matched: n.gc_matched,
                    blacklist: n.blacklist,
                    seed: n.seed,
                });
                if let Some(signal) = signal {
                    t.bigwig = Some(task_table(signal.bigwig));
                    t.bigwig_bins = (signal.bins != 1).then_some(signal.bins);
                }
            }
            Source::Simdata { simdata } => t.simdata = Some(simdata),
        }
        put(
            d.valid,
            Slots {
                fasta: &mut t.valid_fasta,
                labels: &mut t.valid_labels,
                fraction: &mut t.valid_fraction,
                chroms: &mut t.valid_chroms,
                ids: &mut t.valid_ids,
            },
        );
        put(
            d.test,
            Slots {
                fasta: &mut t.test_fasta,
                labels: &mut t.test_labels,
                fraction: &mut t.test_fraction,
                chroms: &mut t.test_chroms,
                ids: &mut t.test_ids,
            },
        );
        t
    }
}

/// The keys of one held-out set in a [`DataTable`] being written.
struct Slots<'t> {
    fasta: &'t mut Option<PathBuf>,
    labels: &'t mut Option<PathBuf>,
    fraction: &'t mut Option<f64>,
    chroms: &'t mut Option<Vec<String>>,
    ids: &'t mut Option<PathBuf>,
}

fn put(held: Option<HeldOut>, slots: Slots<'_>) {
    match held {
        Some(HeldOut::Files { fasta, labels }) => {
            *slots.fasta = Some(fasta);
            *slots.labels = Some(labels);
        }
        Some(HeldOut::Fraction(x)) => *slots.fraction = Some(x),
        Some(HeldOut::Chroms(c)) => *slots.chroms = Some(c),
        Some(HeldOut::Ids(p)) => *slots.ids = Some(p),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(text: &str) -> Result<DataConfig, String> {
        let table: DataTable = toml::from_str(text).map_err(|e| e.to_string())?;
        DataConfig::try_from(table)
    }

    #[test]
    fn peaks_keep_the_config_order_and_negatives_their_defaults() {
        let text = "genome = \"g.fa\"\nlength = 500\nvalid_chroms = [\"chr8\"]\n\
                    peaks = { tal1 = \"t.narrowPeak\", gata = \"g.bed.gz\" }\n\
                    negatives = { blacklist = \"bl.bed\" }\n";
        let config = data(text).unwrap();
        let Source::Peaks {
            peaks,
            negatives,
            length,
            signal,
            ..
        } = &config.source
        else {
            panic!("{config:?}")
        };
        let tasks: Vec<&str> = peaks.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(tasks, ["tal1", "gata"]);
        assert_eq!(*length, 500);
        assert_eq!(signal, &None);
        assert_eq!(
            negatives.as_ref().unwrap(),
            &Negatives {
                per_positive: 1.0,
                gc_matched: true,
                blacklist: Some("bl.bed".into()),
                seed: 0,
            }
        );
        // written back and read again, the same section (order included)
        let written = toml::to_string(&config).unwrap();
        assert_eq!(data(&written).unwrap(), config);
    }

    #[test]
    fn bigwig_targets_go_with_peaks_and_bins_divide_the_window() {
        let text = "genome = \"g.fa\"\nlength = 500\npeaks = { a = \"a.bed\" }\n\
                    bigwig = { h3k27ac = \"k27.bw\", atac = \"atac.bw\" }\nbigwig_bins = 5\n";
        let config = data(text).unwrap();
        let Source::Peaks {
            signal: Some(signal),
            ..
        } = &config.source
        else {
            panic!("{config:?}")
        };
        assert_eq!(signal.tasks()[..2], ["h3k27ac_0", "h3k27ac_1"]);
        assert_eq!(signal.tasks().len(), 10);
        assert_eq!(data(&toml::to_string(&config).unwrap()).unwrap(), config);
        let err = |text: &str| data(text).unwrap_err();
        assert!(
            err("bigwig = { a = \"a.bw\" }\nfasta = \"a.fa\"\nlabels = \"l\"")
                .contains("`bigwig` belong(s) with `peaks`")
        );
        assert!(
            err(&text.replace("bigwig_bins = 5", "bigwig_bins = 3"))
                .contains("bigwig_bins = 3: must divide the window length 500")
        );
        let no_bigwig =
            "genome = \"g.fa\"\nlength = 500\npeaks = { a = \"a.bed\" }\nbigwig_bins = 5\n";
        assert!(err(no_bigwig).contains("`bigwig_bins` belong(s) with `bigwig`"));
    }

    #[test]
    fn peaks_key_errors_name_the_keys() {
        let err = |text: &str| data(text).unwrap_err();
        assert!(
            err("negatives = {}\nfasta = \"a.fa\"\nlabels = \"l.tsv\"")
                .contains("`negatives` belong(s) with `peaks`")
        );
        assert!(err("peaks = { a = \"a.bed\" }\nlength = 5").contains("`peaks` needs `genome`"));
        assert!(
            err("peaks = { a = 3 }\ngenome = \"g.fa\"\nlength = 5")
                .contains("peaks.a must be a file path")
        );
        assert!(err("peaks = {}\ngenome = \"g.fa\"\nlength = 5").contains("peaks is empty"));
        assert!(
            err("peaks = { a = \"a.bed\" }\nbed = \"b.bed\"\ngenome = \"g.fa\"\nlength = 5")
                .contains("`bed` and `peaks` are both training sources")
        );
        assert!(err("peaks = { a = \"a.bed\" }\ngenome = \"g.fa\"\nlength = 5\nnegatives = { per_positive = -1.0 }")
            .contains("per_positive = -1"));
        assert!(err("peaks = { a = \"a.bed\" }\ngenome = \"g.fa\"\nlength = 5\nnegatives = { gc = true }")
            .contains("unknown field `gc`"));
    }
}
