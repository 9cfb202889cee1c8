//! The simulated TAL1/GATA benchmark of `data/tal_gata_sim` (from tfmodisco's
//! examples): a gzip TSV with header `seqName  sequence  embeddings  task1 ...`, one row per
//! sequence, where `embeddings` lists the motif strings planted in the sequence, and a list of
//! the held-out test ids.
//!
//! An embedding reads `pos-120_GATA_disc1-GCAGATAAGA`: the string `GCAGATAAGA`, an instance of
//! motif `GATA_disc1`, planted starting at 0-based position 120. A row's list is
//! comma-separated and may be empty.
//!
//! ```
//! use sepfc::data::simdata::Embedding;
//! let e: Embedding = "pos-120_GATA_disc1-GCAGATAAGA".parse().unwrap();
//! assert_eq!((e.start, e.motif.as_str(), e.planted.as_str()), (120, "GATA_disc1", "GCAGATAAGA"));
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use super::fasta::{LineReader, describe_byte, input_error, open_text};
use super::labels::parse_label;
use crate::Result;

/// A motif instance planted in a simulated sequence: the ground truth that importance scores
/// should find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedding {
    /// The motif's name (`GATA_disc1`, `TAL1_known1`).
    pub motif: String,
    /// 0-based position of the planted string's first base.
    pub start: usize,
    /// The planted string, as it reads in the sequence.
    pub planted: String,
}

impl Embedding {
    /// The 0-based end (exclusive) of the planted string.
    pub fn end(&self) -> usize {
        self.start + self.planted.len()
    }
}

impl FromStr for Embedding {
    type Err = String;

    /// Parses `pos-<start>_<motif>-<planted>`; the error says what is wrong.
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let bad = |why: &str| {
            format!("embedding '{text}' is not of the form pos-<start>_<motif>-<planted>: {why}")
        };
        let rest = text
            .strip_prefix("pos-")
            .ok_or_else(|| bad("no 'pos-' prefix"))?;
        let (start, rest) = rest
            .split_once('_')
            .ok_or_else(|| bad("no '_' after the position"))?;
        let start = start
            .parse::<usize>()
            .map_err(|_| bad(&format!("position '{start}' is not a non-negative integer")))?;
        let (motif, planted) = rest
            .rsplit_once('-')
            .ok_or_else(|| bad("no '-' before the planted string"))?;
        if motif.is_empty() {
            return Err(bad("empty motif name"));
        }
        if planted.is_empty() || !planted.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad(&format!(
                "planted string '{planted}' is not a DNA string"
            )));
        }
        Ok(Embedding {
            motif: motif.to_string(),
            start,
            planted: planted.to_string(),
        })
    }
}

/// One simulated sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRecord {
    /// The `seqName` column.
    pub id: String,
    /// The sequence, as in the file.
    pub seq: Vec<u8>,
    /// One label per task (`None` = missing).
    pub labels: Vec<Option<f32>>,
    /// What was planted where, in the file's order.
    pub embeddings: Vec<Embedding>,
}

/// A simdata file: task names (the header's columns after `embeddings`) and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SimData {
    /// Task names (`task1`, `task2`, `task3`).
    pub tasks: Vec<String>,
    /// The rows, in file order.
    pub records: Vec<SimRecord>,
}

/// Reads a simdata TSV, plain or gzip.
///
/// Errors (each naming the file and the line): a header that does not start
/// `seqName  sequence  embeddings` or has no task columns, a row with the wrong number of
/// columns, an empty id or sequence, a character that cannot be sequence, a repeated id (both
/// lines named), a malformed embedding or one that does not fit in its sequence, a label that
/// is not 0/1, a number in `[0, 1]` or missing, and a file with no rows.
pub fn read_simdata(path: &Path) -> Result<SimData> {
    let origin = path.display().to_string();
    let mut lines = LineReader::new(open_text(path)?, &origin);
    let mut tasks: Option<Vec<String>> = None;
    let mut records = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    while let Some((line_no, line)) = lines.next_text_line()? {
        if line.trim().is_empty() {
            continue;
        }
        let err = |detail: String| input_error(&origin, Some(line_no), detail);
        let fields: Vec<&str> = line.split('\t').collect();
        let Some(tasks) = &tasks else {
            let names: Vec<&str> = fields.iter().map(|s| s.trim()).collect();
            if names.len() < 3 || names[..3] != ["seqName", "sequence", "embeddings"] {
                return Err(err(format!(
                    "expected a header starting seqName<TAB>sequence<TAB>embeddings, got '{line}'"
                )));
            }
            if names.len() == 3 {
                return Err(err("the header has no task columns".to_string()));
            }
            tasks = Some(names[3..].iter().map(|s| s.to_string()).collect());
            continue;
        };
        if fields.len() != tasks.len() + 3 {
            return Err(err(format!(
                "expected {} tab-separated columns (seqName, sequence, embeddings, {} task{}), got {}",
                tasks.len() + 3,
                tasks.len(),
                if tasks.len() == 1 { "" } else { "s" },
                fields.len()
            )));
        }
        let id = fields[0].trim();
        if id.is_empty() {
            return Err(err("empty seqName".to_string()));
        }
        if let Some(first) = seen.insert(id.to_string(), line_no) {
            return Err(err(format!(
                "duplicate seqName '{id}' (first seen at line {first})"
            )));
        }
        let seq = fields[1].trim().as_bytes().to_vec();
        if seq.is_empty() {
            return Err(err(format!("'{id}' has an empty sequence")));
        }
        if let Some(pos) = seq.iter().position(|b| !b.is_ascii_alphabetic()) {
            return Err(err(format!(
                "'{id}': {} at sequence position {} is not a sequence character",
                describe_byte(seq[pos]),
                pos + 1
            )));
        }
        let embeddings = fields[2]
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                let embedding: Embedding = e.parse().map_err(|d| err(format!("'{id}': {d}")))?;
                if embedding.end() > seq.len() {
                    return Err(err(format!(
                        "'{id}': embedding '{e}' ends at {}, past the end of the {} bp sequence",
                        embedding.end(),
                        seq.len()
                    )));
                }
                Ok(embedding)
            })
            .collect::<Result<Vec<_>>>()?;
        let labels = fields[3..]
            .iter()
            .zip(tasks)
            .map(|(text, task)| parse_label(text).map_err(|d| err(format!("column '{task}': {d}"))))
            .collect::<Result<Vec<_>>>()?;
        records.push(SimRecord {
            id: id.to_string(),
            seq,
            labels,
            embeddings,
        });
    }
    let Some(tasks) = tasks else {
        return Err(input_error(
            &origin,
            None,
            "empty file (expected a header seqName<TAB>sequence<TAB>embeddings<TAB>task...)",
        ));
    };
    if records.is_empty() {
        return Err(input_error(&origin, None, "no rows after the header"));
    }
    Ok(SimData { tasks, records })
}

/// Reads a list of ids, one per line (plain or gzip), such as `test_ids.txt.gz`; surrounding
/// whitespace and blank lines are ignored.
///
/// Errors (naming the file and line): an id that appears twice, a line with more than one
/// word, and a list with no ids.
pub fn read_id_list(path: &Path) -> Result<Vec<String>> {
    let origin = path.display().to_string();
    let mut lines = LineReader::new(open_text(path)?, &origin);
    let mut ids = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    while let Some((line_no, line)) = lines.next_text_line()? {
        let id = line.trim();
        if id.is_empty() {
            continue;
        }
        if id.contains(char::is_whitespace) {
            return Err(input_error(
                &origin,
                Some(line_no),
                format!("expected one id per line, got '{id}'"),
            ));
        }
        if let Some(first) = seen.insert(id.to_string(), line_no) {
            return Err(input_error(
                &origin,
                Some(line_no),
                format!("duplicate id '{id}' (first seen at line {first})"),
            ));
        }
        ids.push(id.to_string());
    }
    if ids.is_empty() {
        return Err(input_error(&origin, None, "no ids (the file is empty)"));
    }
    Ok(ids)
}
