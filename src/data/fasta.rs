//! FASTA files, plain or gzip-compressed (told apart by the magic bytes `1f 8b`, not by the
//! file name; multi-member gzip such as bgzip's is read whole).
//!
//! A record's id is its header text up to the first whitespace; its sequence may span any number
//! of lines, with spaces, tabs and carriage returns removed and the characters otherwise kept as
//! they are (the one-hot encoder of [`crate::dna`] maps `N` and other IUPAC codes to zeros and
//! reads lower case as upper case). Lines starting with `;` are old-style comments and skipped.
//!
//! ```
//! use sepfc::data::fasta::read_fasta_from;
//! let text = ">seq1 some description\nACGT\nacgN\n>seq2\nTTTT\n";
//! let records = read_fasta_from(text.as_bytes(), "example.fa").unwrap();
//! assert_eq!(records[0].id, "seq1");
//! assert_eq!(records[0].seq, b"ACGTacgN");
//! assert_eq!(records[1].seq, b"TTTT");
//!
//! let err = read_fasta_from(">a\nACGT\n>a\nAC\n".as_bytes(), "dup.fa").unwrap_err();
//! assert_eq!(err.to_string(), "dup.fa:3: duplicate id 'a' (first seen at line 1)");
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::{Error, Result};

/// One FASTA record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The header text up to the first whitespace, without the `>`.
    pub id: String,
    /// The sequence, all lines joined, whitespace removed, characters as in the file.
    pub seq: Vec<u8>,
}

/// Reads every record of a FASTA file, plain or gzip-compressed.
///
/// Errors (each naming the file and the line): a file with no records, sequence data before
/// the first header, a header with no id, a record with no sequence, a duplicate id (both lines
/// named), a character that cannot be sequence (a digit, punctuation other than `-`, `.`, `*`,
/// non-ASCII bytes), and a file that cannot be opened or decompressed.
pub fn read_fasta(path: &Path) -> Result<Vec<Record>> {
    let reader = open_text(path)?;
    read_fasta_from(reader, &path.display().to_string())
}

/// Reads FASTA records from `reader`; `origin` names the source in error messages (a path, or
/// anything else that tells the user where the text came from). See [`read_fasta`].
pub fn read_fasta_from(reader: impl BufRead, origin: &str) -> Result<Vec<Record>> {
    let mut records: Vec<Record> = Vec::new();
    // Line of the current record's header.
    let mut header_line = 0;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut lines = LineReader::new(reader, origin);
    while let Some((line_no, line)) = lines.next_line()? {
        if let Some(header) = line.strip_prefix(b">") {
            if let Some(last) = records.last() {
                check_not_empty(last, header_line, origin)?;
            }
            let header = std::str::from_utf8(header).map_err(|_| {
                input_error(origin, Some(line_no), "the header is not valid UTF-8 text")
            })?;
            let id = header
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("");
            if id.is_empty() {
                let detail = if header.trim().is_empty() {
                    "header with no id (nothing after '>')"
                } else {
                    "header with no id (the id must follow '>' directly, with no space)"
                };
                return Err(input_error(origin, Some(line_no), detail));
            }
            if let Some(first) = seen.insert(id.to_string(), line_no) {
                return Err(input_error(
                    origin,
                    Some(line_no),
                    format!("duplicate id '{id}' (first seen at line {first})"),
                ));
            }
            header_line = line_no;
            records.push(Record {
                id: id.to_string(),
                seq: Vec::new(),
            });
        } else if line.starts_with(b";") {
            continue;
        } else {
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let Some(record) = records.last_mut() else {
                return Err(input_error(
                    origin,
                    Some(line_no),
                    "sequence data before the first '>' header (is this a FASTA file?)",
                ));
            };
            if let Some((column, &b)) = line
                .iter()
                .enumerate()
                .find(|&(_, &b)| !b.is_ascii_whitespace() && !is_sequence_char(b))
            {
                return Err(input_error(
                    origin,
                    Some(line_no),
                    format!(
                        "record '{}': {} at column {} is not a sequence character",
                        record.id,
                        describe_byte(b),
                        column + 1
                    ),
                ));
            }
            record
                .seq
                .extend(line.iter().copied().filter(|b| !b.is_ascii_whitespace()));
        }
    }
    match records.last() {
        None => Err(input_error(
            origin,
            None,
            "no records (an empty file, or no line starting with '>')",
        )),
        Some(last) => {
            check_not_empty(last, header_line, origin)?;
            Ok(records)
        }
    }
}

fn check_not_empty(record: &Record, header_line: usize, origin: &str) -> Result<()> {
    if record.seq.is_empty() {
        return Err(input_error(
            origin,
            Some(header_line),
            format!("record '{}' has no sequence", record.id),
        ));
    }
    Ok(())
}

/// Letters (bases, IUPAC codes), and the gap and stop characters some files carry.
fn is_sequence_char(b: u8) -> bool {
    b.is_ascii_alphabetic() || matches!(b, b'-' | b'.' | b'*')
}

/// `'x'` for a printable ASCII byte, `byte 0x..` otherwise.
pub(crate) fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// An [`Error::Input`].
pub(crate) fn input_error(path: &str, line: Option<usize>, detail: impl Into<String>) -> Error {
    Error::Input {
        path: path.to_string(),
        line,
        detail: detail.into(),
    }
}

/// Opens a file for reading, decompressing it when it starts with the gzip magic bytes.
pub(crate) fn open_text(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(Error::io(path))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(input_error(
            &path.display().to_string(),
            None,
            "is a directory, not a file",
        ));
    }
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let gzip = is_gzip(&mut reader).map_err(Error::io(path))?;
    if gzip {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// Whether the stream starts with the gzip magic bytes, without consuming anything.
pub(crate) fn is_gzip(reader: &mut impl BufRead) -> std::io::Result<bool> {
    let buf = reader.fill_buf()?;
    if buf.len() >= 2 {
        return Ok(buf[..2] == [0x1f, 0x8b]);
    }
    // A buffer shorter than two bytes means the whole file is shorter (or a reader that hands
    // out one byte at a time, which `File` in a `BufReader` never does).
    Ok(false)
}

/// The longest line any reader accepts: 256 MiB, longer than any chromosome written on one line
/// (human chr1 is 249 Mb).
pub const MAX_LINE_BYTES: usize = 256 << 20;

/// Lines of a byte stream, numbered from 1, without their `\n` or `\r\n` (nor a UTF-8
/// byte-order mark at the start of the file); read errors (a
/// corrupt gzip stream, a disk error) name the origin and the last line read.
pub(crate) struct LineReader<R> {
    reader: R,
    origin: String,
    line_no: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(reader: R, origin: &str) -> Self {
        Self {
            reader,
            origin: origin.to_string(),
            line_no: 0,
            buf: Vec::new(),
        }
    }

    /// The next line and its number, or `None` at the end. A line longer than
    /// [`MAX_LINE_BYTES`] is an error (a file with no line ends, such as a device or a binary
    /// file, is never read whole into memory).
    pub(crate) fn next_line(&mut self) -> Result<Option<(usize, &[u8])>> {
        self.buf.clear();
        let n = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| {
                input_error(
                    &self.origin,
                    Some(self.line_no + 1),
                    format!("cannot read: {e} (a truncated or corrupt file?)"),
                )
            })?;
        if n == 0 {
            return Ok(None);
        }
        if n > MAX_LINE_BYTES {
            return Err(input_error(
                &self.origin,
                Some(self.line_no + 1),
                format!(
                    "a line longer than {} MiB (is this a text file? sequences longer than that must be wrapped over lines)",
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
        self.line_no += 1;
        if self.line_no == 1 && self.buf.starts_with(b"\xef\xbb\xbf") {
            // A UTF-8 byte-order mark, as spreadsheet programs write.
            self.buf.drain(..3);
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some((self.line_no, &self.buf)))
    }

    /// The next line as text; a line that is not UTF-8 is an error naming it.
    pub(crate) fn next_text_line(&mut self) -> Result<Option<(usize, &str)>> {
        let Some((line_no, _)) = self.next_line()? else {
            return Ok(None);
        };
        match std::str::from_utf8(&self.buf) {
            Ok(text) => Ok(Some((line_no, text))),
            Err(_) => Err(input_error(
                &self.origin,
                Some(line_no),
                "not valid UTF-8 text (is this a binary file?)",
            )),
        }
    }
}

/// Checks that every record of `fasta` is `length` bp long, naming the first that is not.
pub fn check_lengths(records: &[Record], length: usize, fasta: &Path) -> Result<()> {
    if let Some(r) = records.iter().find(|r| r.seq.len() != length) {
        return Err(Error::Config(format!(
            "{}: record {} is {} bp, the model reads {length} bp",
            fasta.display(),
            r.id,
            r.seq.len()
        )));
    }
    Ok(())
}
