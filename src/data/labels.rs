//! Labels: the TSV of docs/contract.md (header `id` then one column per task, rows matched to FASTA
//! records by id) and the two-column `.target` files of the ctcf_101bp data (`1 0` = bound,
//! `0 1` = not bound, one row per FASTA record, in order).
//!
//! Label values are `0` or `1`, or any number in `[0, 1]` (`0.0`, `1.0`, `0.75`); an empty
//! field, `NA` or `nan` (any case) is a missing label, which training leaves out of the loss.
//! Plain or gzip files are read alike.
//!
//! ```
//! # fn main() -> sepfc::Result<()> {
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("labels.tsv");
//! std::fs::write(&path, "id\tgata\ttal1\nseq1\t1\t0\nseq2\tNA\t0.5\n").unwrap();
//! let labels = sepfc::data::labels::read_labels_tsv(&path)?;
//! assert_eq!(labels.tasks, ["gata", "tal1"]);
//! assert_eq!(labels.ids, ["seq1", "seq2"]);
//! assert_eq!(labels.values[1], [None, Some(0.5)]);
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::path::Path;

use super::fasta::{LineReader, input_error, open_text};
use crate::Result;

/// Per-task labels of a set of sequences.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// Task names, in column order (`T` of them).
    pub tasks: Vec<String>,
    /// Row ids, in file order (`N` of them). Empty for positional labels
    /// ([`read_target_columns`]), whose row `i` belongs to the `i`-th FASTA record.
    pub ids: Vec<String>,
    /// `N` rows of `T` values each; `None` = missing.
    pub values: Vec<Vec<Option<f32>>>,
}

/// Reads a labels TSV: a header whose first column is `id`, then one column per task; one row
/// per sequence.
///
/// Blank lines are skipped. Errors (each naming the file and the line): no header, a header
/// whose first column is not `id`, an empty or repeated task name, a row with the wrong number
/// of columns (expected and found), an empty id, a value that is not a number or is outside
/// `[0, 1]` (with the column's name and the text), and a repeated id (both lines named).
pub fn read_labels_tsv(path: &Path) -> Result<Labels> {
    let origin = path.display().to_string();
    let mut lines = LineReader::new(open_text(path)?, &origin);
    let mut tasks: Option<Vec<String>> = None;
    let mut ids = Vec::new();
    let mut values = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    while let Some((line_no, line)) = lines.next_text_line()? {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let Some(tasks) = &tasks else {
            tasks = Some(parse_header(&fields, line_no, &origin)?);
            continue;
        };
        if fields.len() != tasks.len() + 1 {
            return Err(input_error(
                &origin,
                Some(line_no),
                format!(
                    "expected {} tab-separated columns (id + {} task{}), got {}",
                    tasks.len() + 1,
                    tasks.len(),
                    if tasks.len() == 1 { "" } else { "s" },
                    fields.len()
                ),
            ));
        }
        let id = fields[0].trim();
        if id.is_empty() {
            return Err(input_error(&origin, Some(line_no), "empty id"));
        }
        if let Some(first) = seen.insert(id.to_string(), line_no) {
            return Err(input_error(
                &origin,
                Some(line_no),
                format!("duplicate id '{id}' (first seen at line {first})"),
            ));
        }
        let row = fields[1..]
            .iter()
            .zip(tasks)
            .map(|(text, task)| {
                parse_label(text).map_err(|detail| {
                    input_error(&origin, Some(line_no), format!("column '{task}': {detail}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        ids.push(id.to_string());
        values.push(row);
    }
    let Some(tasks) = tasks else {
        return Err(input_error(
            &origin,
            None,
            "no header line (expected `id<TAB>task1<TAB>...`; the file is empty)",
        ));
    };
    Ok(Labels { tasks, ids, values })
}

fn parse_header(fields: &[&str], line_no: usize, origin: &str) -> Result<Vec<String>> {
    let first = fields[0].trim();
    if first != "id" {
        let hint = if fields.len() == 1 && first.contains(char::is_whitespace) {
            " (is the file tab-separated?)"
        } else {
            ""
        };
        return Err(input_error(
            origin,
            Some(line_no),
            format!("the header's first column must be 'id', found '{first}'{hint}"),
        ));
    }
    if fields.len() < 2 {
        return Err(input_error(
            origin,
            Some(line_no),
            "the header has no task columns after 'id'",
        ));
    }
    let mut tasks: Vec<String> = Vec::new();
    for (i, name) in fields[1..].iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            return Err(input_error(
                origin,
                Some(line_no),
                format!("empty task name in header column {}", i + 2),
            ));
        }
        if tasks.iter().any(|t| t == name) {
            return Err(input_error(
                origin,
                Some(line_no),
                format!("task '{name}' appears twice in the header"),
            ));
        }
        tasks.push(name.to_string());
    }
    Ok(tasks)
}

/// Parses one label: `None` for an empty field, `NA` or `nan` (any case), else a number in
/// `[0, 1]`; the error says what is wrong with the text.
pub(crate) fn parse_label(text: &str) -> std::result::Result<Option<f32>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("na") || text.eq_ignore_ascii_case("nan") {
        return Ok(None);
    }
    match text.parse::<f32>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(Some(v)),
        Ok(_) => Err(format!(
            "label '{text}' is outside [0, 1] (labels are 0/1 or probabilities; empty or NA = missing)"
        )),
        Err(_) => Err(format!(
            "label '{text}' is not a number (expected 0, 1, a value in [0, 1], or empty/NA for missing)"
        )),
    }
}

/// Reads a `.target` file of the ctcf_101bp data: one row per FASTA record, in order, of two
/// tab-separated columns, `1 0` = bound and `0 1` = not bound. Returns one task, `bound`, taken
/// from the first column, with `ids` empty (rows are positional).
///
/// Errors: a row count other than `n_records`, and a malformed row (not two columns, not
/// numbers, or not one of `1 0` / `0 1`), each naming the file and the line. Blank lines are
/// accepted only at the end.
pub fn read_target_columns(path: &Path, n_records: usize) -> Result<Labels> {
    read_target_columns_for(path, n_records, None)
}

/// [`read_target_columns`], with the FASTA named in the row-count error.
pub(crate) fn read_target_columns_for(
    path: &Path,
    n_records: usize,
    fasta: Option<&str>,
) -> Result<Labels> {
    let origin = path.display().to_string();
    let mut lines = LineReader::new(open_text(path)?, &origin);
    let mut values = Vec::new();
    let mut blank: Option<usize> = None;
    while let Some((line_no, line)) = lines.next_text_line()? {
        if line.trim().is_empty() {
            blank.get_or_insert(line_no);
            continue;
        }
        if let Some(blank) = blank {
            return Err(input_error(
                &origin,
                Some(blank),
                "empty row in the middle of the file (rows are matched to FASTA records by position)",
            ));
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let malformed = |why: &str| {
            input_error(
                &origin,
                Some(line_no),
                format!(
                    "expected `1<TAB>0` (bound) or `0<TAB>1` (not bound), got '{}': {why}",
                    line.replace('\t', " ")
                ),
            )
        };
        if fields.len() != 2 {
            return Err(malformed(&format!("{} columns", fields.len())));
        }
        let parse = |s: &str| s.parse::<f32>().ok().filter(|v| *v == 0.0 || *v == 1.0);
        match (parse(fields[0]), parse(fields[1])) {
            (Some(a), Some(b)) if a + b == 1.0 => values.push(vec![Some(a)]),
            (Some(_), Some(_)) => return Err(malformed("the columns must be 1 0 or 0 1")),
            _ => return Err(malformed("values must be 0 or 1")),
        }
    }
    if values.len() != n_records {
        let detail = match fasta {
            Some(fasta) => format!(
                "{} rows, but {fasta} has {n_records} records (one row per record, in order)",
                values.len()
            ),
            None => format!(
                "{} rows, but {n_records} are expected (one per FASTA record, in order)",
                values.len()
            ),
        };
        return Err(input_error(&origin, None, detail));
    }
    Ok(Labels {
        tasks: vec!["bound".to_string()],
        ids: Vec::new(),
        values,
    })
}
