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
//! The genome is a FASTA file with a samtools `.fai` index beside it (`genome.fa.fai`), read by
//! seeking: it is never loaded into memory. [`write_fai`] creates the index when samtools is not
//! at hand.
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

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::fasta::{LineReader, input_error, is_gzip, open_text};
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

/// One line of a `.fai` index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FaiEntry {
    name: String,
    length: u64,
    offset: u64,
    line_bases: u64,
    line_width: u64,
}

impl FaiEntry {
    /// Byte offset in the FASTA of 0-based position `pos` (`pos <= length`).
    fn byte(&self, pos: u64) -> u64 {
        if self.line_bases == 0 {
            return self.offset;
        }
        // saturating: an index with absurd numbers points past the file, and is refused there
        self.offset
            .saturating_add((pos / self.line_bases).saturating_mul(self.line_width))
            .saturating_add(pos % self.line_bases)
    }
}

/// An indexed FASTA genome: sequences are read by seeking, never loaded whole.
///
/// Safe to share between threads (reads are serialized).
#[derive(Debug)]
pub struct Genome {
    path: PathBuf,
    fai: PathBuf,
    entries: Vec<FaiEntry>,
    by_name: HashMap<String, usize>,
    file: Mutex<File>,
}

/// Checks an index against its FASTA without reading the sequences: every sequence starts
/// right after a header line `>name`, and nothing but line ends follows the last indexed
/// sequence. This catches a FASTA edited after indexing (lines added or removed shift every
/// later offset; an appended sequence would go unscanned). The error says what does not fit.
fn check_index_fits(file: &File, entries: &[FaiEntry]) -> std::result::Result<(), String> {
    const WINDOW: u64 = 4096;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let mut reader = file;
    let mut read_at = |from: u64, len: u64| -> std::result::Result<Vec<u8>, String> {
        let mut buffer = vec![0u8; len as usize];
        reader
            .seek(SeekFrom::Start(from))
            .and_then(|_| reader.read_exact(&mut buffer))
            .map_err(|_| format!("it points past the end of the FASTA ({size} bytes)"))?;
        Ok(buffer)
    };
    for entry in entries {
        // a line holds its bases and a line end of one or two bytes
        let line_end = entry.line_width.saturating_sub(entry.line_bases);
        if entry.length > 0 && !(1..=2).contains(&line_end) {
            return Err(format!(
                "sequence '{}' has lines of {} bases in {} bytes, which no line end explains",
                entry.name, entry.line_bases, entry.line_width
            ));
        }
        if entry.length > 0 && entry.byte(entry.length - 1) >= size {
            return Err(format!(
                "sequence '{}' runs past the end of the FASTA ({size} bytes)",
                entry.name
            ));
        }
        let start = entry.offset.saturating_sub(WINDOW);
        let before = read_at(start, entry.offset - start)?;
        let Some(body) = before.strip_suffix(b"\n") else {
            return Err(format!(
                "sequence '{}' does not start at a line start (byte {})",
                entry.name, entry.offset
            ));
        };
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let line_start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let header = &body[line_start..];
        // a header longer than the window is taken on trust
        if line_start > 0 || start == 0 {
            let name = header
                .strip_prefix(b">")
                .and_then(|h| h.split(|b| b.is_ascii_whitespace()).next());
            if name != Some(entry.name.as_bytes()) {
                return Err(format!(
                    "the line before sequence '{}' (byte {}) is not its header '>{}'",
                    entry.name, entry.offset, entry.name
                ));
            }
        }
    }
    let last = entries
        .iter()
        .max_by_key(|e| e.offset)
        .expect("an index has entries");
    let end = if last.length == 0 {
        last.offset
    } else {
        last.byte(last.length - 1) + 1
    };
    let tail = size.saturating_sub(end);
    if end > size {
        return Err(format!(
            "sequence '{}' runs past the end of the FASTA ({size} bytes)",
            last.name
        ));
    }
    if tail > WINDOW || read_at(end, tail)?.iter().any(|b| !b.is_ascii_whitespace()) {
        return Err(format!(
            "the FASTA goes on after its last indexed sequence '{}' (byte {end} of {size})",
            last.name
        ));
    }
    Ok(())
}

/// `path` with `.fai` appended (`genome.fa` -> `genome.fa.fai`).
pub fn fai_path(fasta: &Path) -> PathBuf {
    let mut s = OsString::from(fasta.as_os_str());
    s.push(".fai");
    PathBuf::from(s)
}

impl Genome {
    /// Opens an uncompressed FASTA and its index `fasta.fai` (samtools' format: name, length,
    /// offset, line bases, line width, tab-separated).
    ///
    /// Errors: a missing FASTA or index, a gzip-compressed FASTA (seeking needs an uncompressed
    /// file), and an index line that is malformed or repeats a name (naming the line).
    pub fn open(fasta: &Path) -> Result<Genome> {
        let shown = fasta.display().to_string();
        let file = File::open(fasta).map_err(Error::io(fasta))?;
        let mut head = BufReader::new(&file);
        if is_gzip(&mut head).map_err(Error::io(fasta))? {
            return Err(input_error(
                &shown,
                None,
                "the genome is gzip-compressed; reading intervals by seeking needs an uncompressed FASTA (gunzip it, then index it with `samtools faidx`)",
            ));
        }
        drop(head);
        let fai = fai_path(fasta);
        if !fai.exists() {
            return Err(input_error(
                &shown,
                None,
                format!(
                    "no index: {} does not exist; create it with `samtools faidx {shown}` (or sepfc::data::bed::write_fai)",
                    fai.display()
                ),
            ));
        }
        let fai_shown = fai.display().to_string();
        let mut lines = LineReader::new(open_text(&fai)?, &fai_shown);
        let mut entries: Vec<FaiEntry> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut lines_of: Vec<usize> = Vec::new();
        while let Some((line_no, line)) = lines.next_text_line()? {
            if line.trim().is_empty() {
                continue;
            }
            let err = |detail: String| input_error(&fai_shown, Some(line_no), detail);
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != 5 && fields.len() != 6 {
                return Err(err(format!(
                    "expected 5 tab-separated columns (name, length, offset, line bases, line width), got {}",
                    fields.len()
                )));
            }
            let number = |i: usize, what: &str| {
                fields[i].trim().parse::<u64>().map_err(|_| {
                    err(format!(
                        "{what} '{}' is not a non-negative integer",
                        fields[i]
                    ))
                })
            };
            let entry = FaiEntry {
                name: fields[0].to_string(),
                length: number(1, "length")?,
                offset: number(2, "offset")?,
                line_bases: number(3, "line bases")?,
                line_width: number(4, "line width")?,
            };
            if entry.length > 0 && (entry.line_bases == 0 || entry.line_width < entry.line_bases) {
                return Err(err(format!(
                    "line bases {} and line width {} are impossible for a sequence of length {}",
                    entry.line_bases, entry.line_width, entry.length
                )));
            }
            if let Some(&first) = by_name.get(&entry.name) {
                return Err(err(format!(
                    "sequence '{}' is indexed twice (first at line {})",
                    entry.name, lines_of[first]
                )));
            }
            by_name.insert(entry.name.clone(), entries.len());
            entries.push(entry);
            lines_of.push(line_no);
        }
        if entries.is_empty() {
            return Err(input_error(&fai_shown, None, "the index is empty"));
        }
        check_index_fits(&file, &entries).map_err(|detail| {
            input_error(
                &fai_shown,
                None,
                format!(
                    "the index does not fit {shown}: {detail}; was the FASTA changed after indexing? re-create the index with `samtools faidx {shown}`"
                ),
            )
        })?;
        Ok(Genome {
            path: fasta.to_path_buf(),
            fai,
            entries,
            by_name,
            file: Mutex::new(file),
        })
    }

    /// The FASTA file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The length of a chromosome, or `None` when the genome has no such sequence.
    pub fn chrom_len(&self, chrom: &str) -> Option<u64> {
        self.by_name.get(chrom).map(|&i| self.entries[i].length)
    }

    /// Every sequence's name and length, in index order.
    pub fn chroms(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().map(|e| (e.name.as_str(), e.length))
    }

    /// The bases `[start, end)` (0-based, half-open) of `chrom`, as in the file (case kept).
    ///
    /// Errors (naming the genome file): an unknown chromosome, `end < start` or `end` past the
    /// chromosome's end, and an index that does not match the FASTA (re-create it).
    pub fn fetch(&self, chrom: &str, start: u64, end: u64) -> Result<Vec<u8>> {
        let shown = self.path.display().to_string();
        let Some(&i) = self.by_name.get(chrom) else {
            let mut names: Vec<&str> = self
                .entries
                .iter()
                .take(5)
                .map(|e| e.name.as_str())
                .collect();
            if self.entries.len() > 5 {
                names.push("...");
            }
            return Err(input_error(
                &shown,
                None,
                format!(
                    "unknown chromosome '{chrom}' (the genome has {} sequences: {})",
                    self.entries.len(),
                    names.join(", ")
                ),
            ));
        };
        let entry = &self.entries[i];
        if end < start || end > entry.length {
            return Err(input_error(
                &shown,
                None,
                format!(
                    "{chrom}:{start}-{end} is not within {chrom} (length {})",
                    entry.length
                ),
            ));
        }
        if start == end {
            return Ok(Vec::new());
        }
        let from = entry.byte(start);
        let to = entry.byte(end);
        let mismatch = || {
            input_error(
                &shown,
                None,
                format!(
                    "the index {} does not match the FASTA at {chrom}:{start}-{end} (was the FASTA changed after indexing? re-create the index with `samtools faidx`)",
                    self.fai.display()
                ),
            )
        };
        let mut raw = vec![0u8; (to - from) as usize];
        {
            let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
            file.seek(SeekFrom::Start(from))
                .map_err(|source| Error::Io {
                    path: shown.clone(),
                    source,
                })?;
            file.read_exact(&mut raw).map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    mismatch()
                } else {
                    Error::Io {
                        path: shown.clone(),
                        source: e,
                    }
                }
            })?;
        }
        raw.retain(|&b| b != b'\n' && b != b'\r');
        if raw.len() as u64 != end - start
            || raw
                .iter()
                .any(|&b| !b.is_ascii_alphabetic() && b != b'-' && b != b'*' && b != b'.')
        {
            return Err(mismatch());
        }
        Ok(raw)
    }
}

/// Writes `fasta.fai`, the samtools index of an uncompressed FASTA (what `samtools faidx` would
/// write), replacing any existing one.
///
/// Errors (naming the FASTA and the line): a gzip-compressed file, sequence before the first
/// header, an empty or repeated name, a record whose lines (all but the last) differ in length
/// or are followed by more sequence after a blank line, and whitespace inside a sequence line.
pub fn write_fai(fasta: &Path) -> Result<()> {
    let shown = fasta.display().to_string();
    let file = File::open(fasta).map_err(Error::io(fasta))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    if is_gzip(&mut reader).map_err(Error::io(fasta))? {
        return Err(input_error(
            &shown,
            None,
            "is gzip-compressed; only an uncompressed FASTA can be indexed (gunzip it first)",
        ));
    }
    struct Open {
        entry: FaiEntry,
        line: usize,
        // Line number of the line that ended the record's full-width lines.
        ended_at: Option<usize>,
    }
    let mut entries: Vec<FaiEntry> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut current: Option<Open> = None;
    let mut offset: u64 = 0;
    let mut line_no = 0;
    let mut raw = Vec::new();
    loop {
        raw.clear();
        let n = reader
            .read_until(b'\n', &mut raw)
            .map_err(|e| input_error(&shown, Some(line_no + 1), format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line_start = offset;
        offset += n as u64;
        let has_newline = raw.last() == Some(&b'\n');
        let mut content: &[u8] = &raw;
        if line_no == 1 {
            content = content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content);
        }
        if let Some(rest) = content.strip_suffix(b"\n") {
            content = rest;
        }
        if let Some(rest) = content.strip_suffix(b"\r") {
            content = rest;
        }
        let err = |detail: String| input_error(&shown, Some(line_no), detail);
        if let Some(header) = content.strip_prefix(b">") {
            if let Some(open) = current.take() {
                entries.push(open.entry);
            }
            let header = String::from_utf8_lossy(header);
            let name = header.split(char::is_whitespace).next().unwrap_or("");
            if name.is_empty() {
                return Err(err(
                    "header with no name (the name must follow '>' directly)".to_string(),
                ));
            }
            if let Some(first) = seen.insert(name.to_string(), line_no) {
                return Err(err(format!(
                    "duplicate name '{name}' (first seen at line {first})"
                )));
            }
            current = Some(Open {
                entry: FaiEntry {
                    name: name.to_string(),
                    length: 0,
                    offset: line_start + n as u64,
                    line_bases: 0,
                    line_width: 0,
                },
                line: line_no,
                ended_at: None,
            });
            continue;
        }
        let Some(open) = current.as_mut() else {
            if content.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return Err(err(
                "sequence data before the first '>' header (is this a FASTA file?)".to_string(),
            ));
        };
        let bases = content.len() as u64;
        if bases == 0 {
            open.ended_at.get_or_insert(line_no);
            continue;
        }
        if let Some(pos) = content.iter().position(|b| b.is_ascii_whitespace()) {
            return Err(err(format!(
                "whitespace at column {} inside a sequence line; an indexed FASTA needs lines of bases only",
                pos + 1
            )));
        }
        if let Some(ended) = open.ended_at {
            return Err(err(format!(
                "sequence '{}' goes on after a shorter or blank line (line {ended}); indexed access needs every line of a record but the last to have the same length (reformat it, e.g. with `seqkit seq -w 60`)",
                open.entry.name
            )));
        }
        let entry = &mut open.entry;
        if entry.line_bases == 0 {
            entry.line_bases = bases;
            entry.line_width = n as u64;
        } else if bases > entry.line_bases
            || (bases == entry.line_bases && n as u64 != entry.line_width && has_newline)
        {
            return Err(err(format!(
                "sequence '{}' (header at line {}) has lines of different lengths ({} bases then {bases}); indexed access needs every line of a record but the last to have the same length",
                entry.name, open.line, entry.line_bases
            )));
        }
        if bases < entry.line_bases {
            open.ended_at = Some(line_no);
        }
        entry.length += bases;
    }
    if let Some(open) = current.take() {
        entries.push(open.entry);
    }
    if entries.is_empty() {
        return Err(input_error(
            &shown,
            None,
            "no records (no line starting with '>')",
        ));
    }
    // through a temporary file and a rename: a full disk leaves no empty or partial index
    let mut out = crate::io::AtomicFile::create(&fai_path(fasta))?;
    for e in &entries {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            e.name, e.length, e.offset, e.line_bases, e.line_width
        )
        .map_err(|err| out.error(err))?;
    }
    out.commit()
}
