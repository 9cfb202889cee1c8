//! BED intervals with label columns, and fixed-length windows around them read from an indexed
//! genome.
//!
//! BED coordinates are 0-based and half-open: `chr1  100  200` is the 100 bases at 0-based
//! positions 100..=199 (1-based 101..=200). Columns are tab-separated: `chrom`, `start`, `end`,
//! then (when label columns start after column 4) a `name`, then label columns (0/1, a number
//! in `[0, 1]`, or empty/`NA`/`nan` for missing). `track` and `browser` lines, blank lines and
//! `#` comments are skipped; a `#` line before the first interval with at least three
//! tab-separated names (`#chrom  start  end  name  gata  tal1`) is a header, and its names for
//! the label columns become the task names (otherwise `task0`, `task1`, ...).
//!
//! The genome is an indexed FASTA, plain or compressed with bgzip (see [`super::genome`]; its
//! [`Genome`] and [`write_fai`] are also here, where they were first).
//!
//! ```
//! # fn main() -> sepfc::Result<()> {
//! use sepfc::data::bed::{Genome, read_bed, windows, write_fai};
//! let dir = tempfile::tempdir().unwrap();
//! let fasta = dir.path().join("genome.fa");
//! std::fs::write(&fasta, ">chr1\nAAAACCCC\nGGGGTTTT\n>chr2\nACGTACGT\n").unwrap();
//! write_fai(&fasta)?; // writes genome.fa.fai, as `samtools faidx` would
//! let bed = dir.path().join("peaks.bed");
//! std::fs::write(&bed, "#chrom\tstart\tend\tname\tbound\nchr1\t6\t10\tpeak1\t1\nchr2\t2\t4\t.\tNA\n")
//!     .unwrap();
//! let bed = read_bed(&bed, 4)?;
//! assert_eq!(bed.tasks, ["bound"]);
//! let genome = Genome::open(&fasta)?;
//! assert_eq!(genome.fetch("chr1", 6, 10)?, b"CCGG");
//! let windows = windows(&bed, &genome, 4)?;
//! assert_eq!(windows[0], ("peak1".to_string(), b"CCGG".to_vec(), vec![Some(1.0)]));
//! assert_eq!(windows[1], ("chr2:2-4".to_string(), b"CGTA".to_vec(), vec![None]));
//! # Ok(())
//! # }
//! ```

use std::path::Path;

use super::fasta::{LineReader, input_error, open_text};
pub use super::genome::{Genome, fai_path, write_fai};
use super::labels::parse_label;
use crate::{Error, Result};

/// One BED interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Chromosome (sequence name in the genome).
    pub chrom: String,
    /// 0-based start, inclusive.
    pub start: u64,
    /// 0-based end, exclusive (`end >= start`).
    pub end: u64,
    /// The name column, if there is one and it is not `.` or empty.
    pub name: Option<String>,
    /// One label per task (`None` = missing).
    pub labels: Vec<Option<f32>>,
    /// 1-based line of the interval in its BED file (0 when it came from elsewhere), for error
    /// messages.
    pub line: usize,
}

/// A BED file's intervals and task names.
#[derive(Debug, Clone, PartialEq)]
pub struct Bed {
    /// The file, as errors name it.
    pub path: String,
    /// Task names: the header's names for the label columns, or `task0`, `task1`, ...
    pub tasks: Vec<String>,
    /// The intervals, in file order.
    pub intervals: Vec<Interval>,
}

/// A fixed-length window: id (the interval's name, or `chrom:start-end` of the interval),
/// sequence (`length` bases as in the genome file) and labels (one per task).
pub type Window = (String, Vec<u8>, Vec<Option<f32>>);

/// Reads a BED file whose label columns start at the 0-based column `label_columns_from`
/// (`3`: `chrom start end label...`; `4`: `chrom start end name label...`; larger values skip
/// the columns between the name and the labels, such as BED6's score and strand).
///
/// Every interval line must have the same number of columns (the header's, when there is one).
/// Errors (each naming the file and line): fewer columns than `chrom start end` or than the
/// label columns need, a column count differing from the rest of the file, an empty chromosome,
/// a coordinate that is not a non-negative integer, `end < start`, a label that is not a number
/// in `[0, 1]` or missing, and a file with no intervals.
pub fn read_bed(path: &Path, label_columns_from: usize) -> Result<Bed> {
    read_bed_columns(path, Some(label_columns_from))
}

/// Reads a BED file of regions: `chrom start end`, any further columns (name, score, strand,
/// ...) ignored. Errors as [`read_bed`]'s, less those about labels.
pub fn read_regions(path: &Path) -> Result<Bed> {
    read_bed_columns(path, None)
}

/// [`read_bed`] with labels from the 0-based column `label_columns_from`, or with no labels.
fn read_bed_columns(path: &Path, label_columns_from: Option<usize>) -> Result<Bed> {
    read_bed_columns_with(path, label_columns_from, &mut |_, _| Ok(()))
}

/// [`read_regions`], also handing every interval line's columns and line number to `each`
/// (which may refuse the line with an error), for formats with more columns (narrowPeak).
pub(crate) fn read_regions_with(
    path: &Path,
    each: &mut dyn FnMut(&[&str], usize) -> Result<()>,
) -> Result<Bed> {
    read_bed_columns_with(path, None, each)
}

fn read_bed_columns_with(
    path: &Path,
    label_columns_from: Option<usize>,
    each: &mut dyn FnMut(&[&str], usize) -> Result<()>,
) -> Result<Bed> {
    if let Some(label_columns_from) = label_columns_from.filter(|&from| from < 3) {
        return Err(Error::invalid(
            "read_bed",
            format!(
                "label columns start at 0-based column {label_columns_from}, but columns 0..=2 are chrom, start and end"
            ),
        ));
    }
    let origin = path.display().to_string();
    let mut lines = LineReader::new(open_text(path)?, &origin);
    // (line, column names) of the header.
    let mut header: Option<(usize, Vec<String>)> = None;
    // (line, column count) of what fixed the column count.
    let mut shape: Option<(usize, usize)> = None;
    let mut tasks: Vec<String> = Vec::new();
    let mut intervals = Vec::new();
    while let Some((line_no, line)) = lines.next_text_line()? {
        let trimmed = line.trim();
        if trimmed.is_empty() || is_track_line(trimmed) {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            let names: Vec<String> = comment
                .trim_start_matches('#')
                .split('\t')
                .map(|s| s.trim().to_string())
                .collect();
            if header.is_none() && intervals.is_empty() && names.len() >= 3 {
                let label_columns_from = label_columns_from.unwrap_or(names.len());
                if names.len() < label_columns_from {
                    return Err(input_error(
                        &origin,
                        Some(line_no),
                        format!(
                            "the header has {} columns, but label columns start at column {}",
                            names.len(),
                            label_columns_from + 1
                        ),
                    ));
                }
                shape = Some((line_no, names.len()));
                header = Some((line_no, names));
            }
            continue;
        }
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        let label_columns_from = label_columns_from.unwrap_or(fields.len());
        if fields.len() < 3 {
            let hint = if line.contains(' ') {
                " (is the file tab-separated?)"
            } else {
                ""
            };
            return Err(input_error(
                &origin,
                Some(line_no),
                format!(
                    "expected at least 3 tab-separated columns (chrom, start, end), got {}{hint}",
                    fields.len()
                ),
            ));
        }
        match shape {
            Some((from, n)) if n != fields.len() => {
                let what = if header.as_ref().is_some_and(|h| h.0 == from) {
                    "the header"
                } else {
                    "the first interval"
                };
                return Err(input_error(
                    &origin,
                    Some(line_no),
                    format!(
                        "expected {n} columns as in {what} (line {from}), got {}",
                        fields.len()
                    ),
                ));
            }
            Some(_) => {}
            None => {
                if fields.len() < label_columns_from {
                    return Err(input_error(
                        &origin,
                        Some(line_no),
                        format!(
                            "label columns start at column {}, but the line has {} columns",
                            label_columns_from + 1,
                            fields.len()
                        ),
                    ));
                }
                shape = Some((line_no, fields.len()));
            }
        }
        if intervals.is_empty() {
            tasks = match &header {
                Some((_, names)) => names[label_columns_from..].to_vec(),
                None => (0..fields.len() - label_columns_from)
                    .map(|i| format!("task{i}"))
                    .collect(),
            };
        }
        let chrom = fields[0];
        if chrom.is_empty() {
            return Err(input_error(&origin, Some(line_no), "empty chromosome name"));
        }
        let coordinate = |what: &str, text: &str| {
            text.parse::<u64>().map_err(|_| {
                input_error(
                    &origin,
                    Some(line_no),
                    format!(
                        "{what} '{text}' is not a non-negative integer (BED coordinates are 0-based integers)"
                    ),
                )
            })
        };
        let start = coordinate("start", fields[1])?;
        let end = coordinate("end", fields[2])?;
        if end < start {
            return Err(input_error(
                &origin,
                Some(line_no),
                format!("end {end} is before start {start}"),
            ));
        }
        let name = if label_columns_from >= 4 && !matches!(fields[3], "" | ".") {
            Some(fields[3].to_string())
        } else {
            None
        };
        let labels = fields[label_columns_from..]
            .iter()
            .zip(&tasks)
            .map(|(text, task)| {
                parse_label(text).map_err(|detail| {
                    input_error(&origin, Some(line_no), format!("column '{task}': {detail}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        each(&fields, line_no)?;
        intervals.push(Interval {
            chrom: chrom.to_string(),
            start,
            end,
            name,
            labels,
            line: line_no,
        });
    }
    if intervals.is_empty() {
        return Err(input_error(&origin, None, "no intervals"));
    }
    Ok(Bed {
        path: origin,
        tasks,
        intervals,
    })
}

fn is_track_line(line: &str) -> bool {
    ["track", "browser"].iter().any(|word| {
        line.strip_prefix(word)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
    })
}

/// Windows of `length` bases centred on each interval: centre `(start + end) / 2` (rounded
/// down), window `[centre - length / 2, centre - length / 2 + length)`.
///
/// Errors name the BED file and the interval's line: a chromosome the genome does not have, an
/// interval that ends past its chromosome (a different genome build?), and a window that would
/// start before 0 or end past the chromosome's end.
pub fn windows(bed: &Bed, genome: &Genome, length: usize) -> Result<Vec<Window>> {
    if length == 0 {
        return Err(Error::invalid(
            "windows",
            "the window length must be at least 1",
        ));
    }
    let len = length as u64;
    bed.intervals
        .iter()
        .map(|iv| {
            let err = |detail: String| input_error(&bed.path, Some(iv.line), detail);
            let region = format!("{}:{}-{}", iv.chrom, iv.start, iv.end);
            let Some(chrom_len) = genome.chrom_len(&iv.chrom) else {
                return Err(err(format!(
                    "unknown chromosome '{}': not in the index of {}",
                    iv.chrom,
                    genome.path().display()
                )));
            };
            if iv.end > chrom_len {
                return Err(err(format!(
                    "interval {region} ends past the end of {} (length {chrom_len}) in {} (a different genome build?)",
                    iv.chrom,
                    genome.path().display()
                )));
            }
            let centre = (iv.start + iv.end) / 2;
            let Some(start) = centre.checked_sub(len / 2) else {
                return Err(err(format!(
                    "the {length} bp window centred on {region} would start at {}, before the start of {}",
                    centre as i128 - (len / 2) as i128,
                    iv.chrom
                )));
            };
            let end = start + len;
            if end > chrom_len {
                return Err(err(format!(
                    "the {length} bp window centred on {region}, {}:{start}-{end}, runs past the end of {} (length {chrom_len})",
                    iv.chrom, iv.chrom
                )));
            }
            let seq = genome.fetch(&iv.chrom, start, end)?;
            let id = iv.name.clone().unwrap_or(region);
            Ok((id, seq, iv.labels.clone()))
        })
        .collect()
}
