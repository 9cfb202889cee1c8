//! An indexed genome: a FASTA file, plain or compressed with bgzip, read by seeking through its
//! samtools `.fai` index (and, when compressed, its `.gzi` block index), never loaded whole.
//!
//! Reading sequence through the index is noodles' (`noodles-fasta`), and so are inflating the
//! bgzip blocks and finding them through the `.gzi` (`noodles-bgzf`); the rest of the block last
//! inflated is kept, so that nearby reads (a sorted VCF, a scan) inflate each block once. The
//! `.fai` is read and checked here, line by line, so that an error names the index line, and an
//! index that no longer fits its FASTA (edited after indexing) is refused when the genome is
//! opened instead of giving windows read off by a line. [`write_fai`] writes both indexes when
//! samtools is not at hand.
//!
//! ```
//! # fn main() -> sepfc::Result<()> {
//! use sepfc::data::genome::{Genome, write_fai};
//! let dir = tempfile::tempdir().unwrap();
//! let fasta = dir.path().join("genome.fa");
//! std::fs::write(&fasta, ">chr1\nAAAACCCC\nGGGGTTTT\n>chr2\nACGTACGT\n").unwrap();
//! write_fai(&fasta)?; // genome.fa.fai, as `samtools faidx` would write it
//! let genome = Genome::open(&fasta)?;
//! assert_eq!(genome.fetch("chr1", 6, 10)?, b"CCGG");
//! assert_eq!(genome.chroms().collect::<Vec<_>>(), [("chr1", 16), ("chr2", 8)]);
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use noodles_bgzf as bgzf;
use noodles_core::{Position, Region};
use noodles_fasta as fasta;

use super::fasta::{LineReader, input_error, is_gzip, open_text};
use crate::{Error, Result};

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

/// How a FASTA file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    Plain,
    /// Compressed with bgzip: gzip members of at most 64 KiB, each found through the `.gzi`.
    Bgzf,
}

impl Storage {
    /// Tells the storage from the first bytes (not the file name). A gzip file that is not
    /// BGZF (plain `gzip`) cannot be read by seeking and is refused, saying how to recompress it.
    fn of(reader: &mut impl BufRead, path: &Path) -> Result<Storage> {
        if !is_gzip(reader).map_err(Error::io(path))? {
            return Ok(Storage::Plain);
        }
        let head = reader.fill_buf().map_err(Error::io(path))?;
        // gzip header with FEXTRA (flag 4), whose first subfield is BGZF's 'B' 'C'
        let bgzf = head.len() >= 14 && head[3] & 4 != 0 && head[12..14] == *b"BC";
        if bgzf {
            Ok(Storage::Bgzf)
        } else {
            let shown = path.display();
            Err(input_error(
                &shown.to_string(),
                None,
                format!(
                    "is compressed with gzip, not bgzip; reading a genome by seeking needs bgzip's blocks (recompress it: `gunzip -c {shown} | bgzip > genome.fa.gz`, then `samtools faidx genome.fa.gz`)"
                ),
            ))
        }
    }
}

/// The FASTA's bytes: plain, or the uncompressed bytes of a BGZF file.
enum Source {
    Plain(BufReader<File>),
    Bgzf(BlockReader),
}

/// A BGZF file read at uncompressed positions through its `.gzi`, keeping what it inflated of
/// the block it last read (from where reading in it began): a seek back into that stretch (the
/// next window of a sorted VCF, overlapping the last) is served from memory instead of
/// inflating the block again, as noodles' own indexed reader does on every seek.
struct BlockReader {
    inner: bgzf::io::Reader<File>,
    blocks: bgzf::gzi::Index,
    /// Uncompressed bytes from offset `start`.
    cached: Vec<u8>,
    start: u64,
    /// The read position in `cached`.
    at: usize,
}

impl BlockReader {
    fn new(file: File, blocks: bgzf::gzi::Index) -> Self {
        BlockReader {
            inner: bgzf::io::Reader::new(file),
            blocks,
            cached: Vec::new(),
            start: 0,
            at: 0,
        }
    }

    fn fill(&mut self) -> std::io::Result<&[u8]> {
        if self.at == self.cached.len() {
            // the rest of the next block, which follows what is cached
            let next = self.inner.fill_buf()?;
            self.start += self.cached.len() as u64;
            self.cached.clear();
            self.cached.extend_from_slice(next);
            let n = next.len();
            self.inner.consume(n);
            self.at = 0;
        }
        Ok(&self.cached[self.at..])
    }

    /// Seeks to an uncompressed position (only `SeekFrom::Start`).
    fn seek_to(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let SeekFrom::Start(pos) = pos else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "a BGZF genome is read from uncompressed offsets only",
            ));
        };
        if (self.start..self.start + self.cached.len() as u64).contains(&pos) {
            self.at = (pos - self.start) as usize;
            return Ok(pos);
        }
        self.inner.seek(self.blocks.query(pos)?)?;
        self.cached.clear();
        self.start = pos;
        self.at = 0;
        Ok(pos)
    }
}

impl Read for BlockReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.at += n;
        Ok(n)
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Plain(r) => r.read(buf),
            Source::Bgzf(r) => r.read(buf),
        }
    }
}

impl BufRead for Source {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            Source::Plain(r) => r.fill_buf(),
            Source::Bgzf(r) => r.fill(),
        }
    }

    fn consume(&mut self, amount: usize) {
        match self {
            Source::Plain(r) => r.consume(amount),
            Source::Bgzf(r) => r.at = (r.at + amount).min(r.cached.len()),
        }
    }
}

impl Seek for Source {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match self {
            Source::Plain(r) => r.seek(pos),
            Source::Bgzf(r) => r.seek_to(pos),
        }
    }
}

/// The FASTA as noodles reads it.
type FastaReader = fasta::io::IndexedReader<Source>;

/// An indexed FASTA genome, plain or compressed with bgzip: sequences are read by seeking,
/// never loaded whole.
///
/// Safe to share between threads (reads are serialized).
pub struct Genome {
    path: PathBuf,
    fai: PathBuf,
    entries: Vec<FaiEntry>,
    by_name: HashMap<String, usize>,
    reader: Mutex<FastaReader>,
}

impl std::fmt::Debug for Genome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Genome")
            .field("path", &self.path)
            .field("sequences", &self.entries.len())
            .finish()
    }
}

/// Up to `len` bytes of the (uncompressed) FASTA from byte `from`: fewer at its end, none past
/// it.
fn read_upto(reader: &mut (impl Read + Seek), from: u64, len: u64) -> Vec<u8> {
    let mut buffer = Vec::new();
    if reader.seek(SeekFrom::Start(from)).is_ok() {
        // a position past the last block is an error of the block index: nothing there
        let _ = reader.take(len).read_to_end(&mut buffer);
    }
    buffer
}

/// Checks an index against its FASTA without reading the sequences: every sequence starts
/// right after a header line `>name`, its last base is in the file, and nothing but line ends
/// follows the last indexed sequence. This catches a FASTA edited after indexing (lines added
/// or removed shift every later offset; an appended sequence would go unscanned). The error
/// says what does not fit.
fn check_index_fits(
    reader: &mut (impl Read + Seek),
    entries: &[FaiEntry],
) -> std::result::Result<(), String> {
    const WINDOW: u64 = 4096;
    let past_the_end = |name: &str| format!("sequence '{name}' runs past the end of the FASTA");
    for entry in entries {
        // a line holds its bases and a line end of one or two bytes
        let line_end = entry.line_width.saturating_sub(entry.line_bases);
        if entry.length > 0 && !(1..=2).contains(&line_end) {
            return Err(format!(
                "sequence '{}' has lines of {} bases in {} bytes, which no line end explains",
                entry.name, entry.line_bases, entry.line_width
            ));
        }
        if entry.length > 0 && read_upto(reader, entry.byte(entry.length - 1), 1).is_empty() {
            return Err(past_the_end(&entry.name));
        }
        let start = entry.offset.saturating_sub(WINDOW);
        let before = read_upto(reader, start, entry.offset - start);
        if before.len() as u64 != entry.offset - start {
            return Err(format!(
                "sequence '{}' starts past the end of the FASTA (byte {})",
                entry.name, entry.offset
            ));
        }
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
    let tail = read_upto(reader, end, WINDOW + 1);
    if tail.len() as u64 > WINDOW || tail.iter().any(|b| !b.is_ascii_whitespace()) {
        return Err(format!(
            "the FASTA goes on after its last indexed sequence '{}' (byte {end})",
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

/// `path` with `.gzi` appended (`genome.fa.gz` -> `genome.fa.gz.gzi`): the block index of a
/// bgzip-compressed file, as `bgzip -i` and `samtools faidx` write it.
pub fn gzi_path(fasta: &Path) -> PathBuf {
    let mut s = OsString::from(fasta.as_os_str());
    s.push(".gzi");
    PathBuf::from(s)
}

/// The index files `fasta` needs beside it: its `.fai`, and its `.gzi` when it is compressed
/// with bgzip. Errors: a file that cannot be opened, or is compressed with plain gzip.
pub fn index_files(fasta: &Path) -> Result<Vec<PathBuf>> {
    let file = File::open(fasta).map_err(Error::io(fasta))?;
    let mut reader = BufReader::new(file);
    Ok(match Storage::of(&mut reader, fasta)? {
        Storage::Plain => vec![fai_path(fasta)],
        Storage::Bgzf => vec![fai_path(fasta), gzi_path(fasta)],
    })
}

/// Opens a genome as [`Genome::open`], first writing its indexes ([`write_fai`]) when one of
/// [`index_files`] is missing; also returns the index files it wrote (none when all were there).
pub fn open_indexing(fasta: &Path) -> Result<(Genome, Vec<PathBuf>)> {
    let missing: Vec<PathBuf> = index_files(fasta)?
        .into_iter()
        .filter(|index| !index.exists())
        .collect();
    if !missing.is_empty() {
        write_fai(fasta)?;
    }
    Ok((Genome::open(fasta)?, missing))
}

/// What [`open_indexing`] did, for the user: `indexed G (wrote G.fai and G.gzi)`, or `None`
/// when it wrote nothing.
pub fn indexing_message(fasta: &Path, written: &[PathBuf]) -> Option<String> {
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    (!names.is_empty()).then(|| {
        format!(
            "indexed {} (wrote {})",
            fasta.display(),
            names.join(" and ")
        )
    })
}

/// Reads a `.fai` index (samtools' format: name, length, offset, line bases, line width,
/// tab-separated; a sixth column, as for FASTQ, is allowed), naming the line of any error.
fn read_fai(fai: &Path) -> Result<Vec<FaiEntry>> {
    let fai_shown = fai.display().to_string();
    let mut lines = LineReader::new(open_text(fai)?, &fai_shown);
    let mut entries: Vec<FaiEntry> = Vec::new();
    let mut lines_of: HashMap<String, usize> = HashMap::new();
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
        if let Some(first) = lines_of.insert(entry.name.clone(), line_no) {
            return Err(err(format!(
                "sequence '{}' is indexed twice (first at line {first})",
                entry.name
            )));
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err(input_error(&fai_shown, None, "the index is empty"));
    }
    Ok(entries)
}

/// The index as noodles takes it (an empty sequence gets lines of 1 base, never read).
fn noodles_index(entries: &[FaiEntry]) -> fasta::fai::Index {
    let one = NonZero::<u64>::MIN;
    entries
        .iter()
        .map(|e| {
            fasta::fai::Record::new(
                e.name.as_str(),
                e.length,
                e.offset,
                NonZero::new(e.line_bases).unwrap_or(one),
                NonZero::new(e.line_width).unwrap_or(one),
            )
        })
        .collect::<Vec<_>>()
        .into()
}

/// An error when a needed index file is missing, saying how to create it.
fn missing_index(fasta: &Path, index: &Path) -> Option<Error> {
    if index.exists() {
        return None;
    }
    let shown = fasta.display().to_string();
    Some(input_error(
        &shown,
        None,
        format!(
            "no index: {} does not exist; create it with `samtools faidx {shown}` (or sepfc::data::genome::write_fai)",
            index.display()
        ),
    ))
}

impl Genome {
    /// Opens a FASTA, plain or compressed with bgzip (told apart by its first bytes), with its
    /// index `fasta.fai` and, when compressed, its block index `fasta.gzi`.
    ///
    /// Errors: a missing FASTA or index, a FASTA compressed with plain gzip (seeking needs
    /// bgzip's blocks), an index line that is malformed or repeats a name (naming the line), and
    /// an index that does not fit the FASTA.
    pub fn open(fasta: &Path) -> Result<Genome> {
        let shown = fasta.display().to_string();
        let file = File::open(fasta).map_err(Error::io(fasta))?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(input_error(&shown, None, "is a directory, not a file"));
        }
        let mut buffered = BufReader::with_capacity(1 << 16, file);
        let storage = Storage::of(&mut buffered, fasta)?;
        let fai = fai_path(fasta);
        if let Some(missing) = missing_index(fasta, &fai) {
            return Err(missing);
        }
        let entries = read_fai(&fai)?;
        let inner = match storage {
            Storage::Plain => Source::Plain(buffered),
            Storage::Bgzf => {
                let gzi = gzi_path(fasta);
                if let Some(missing) = missing_index(fasta, &gzi) {
                    return Err(missing);
                }
                let blocks = bgzf::gzi::fs::read(&gzi).map_err(|e| {
                    input_error(
                        &gzi.display().to_string(),
                        None,
                        format!("not a bgzip block index ({e})"),
                    )
                })?;
                let file = buffered.into_inner();
                Source::Bgzf(BlockReader::new(file, blocks))
            }
        };
        let mut reader = fasta::io::IndexedReader::new(inner, noodles_index(&entries));
        check_index_fits(reader.get_mut(), &entries).map_err(|detail| {
            input_error(
                &fai.display().to_string(),
                None,
                format!(
                    "the index does not fit {shown}: {detail}; was the FASTA changed after indexing? re-create the index with `samtools faidx {shown}`"
                ),
            )
        })?;
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Ok(Genome {
            path: fasta.to_path_buf(),
            fai,
            entries,
            by_name,
            reader: Mutex::new(reader),
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

    /// The error for a chromosome the genome does not have, naming the genome file and the
    /// first few sequences it has.
    pub fn unknown_chromosome(&self, chrom: &str) -> Error {
        let mut names: Vec<&str> = self
            .entries
            .iter()
            .take(5)
            .map(|e| e.name.as_str())
            .collect();
        if self.entries.len() > 5 {
            names.push("...");
        }
        input_error(
            &self.path.display().to_string(),
            None,
            format!(
                "unknown chromosome '{chrom}' (the genome has {} sequences: {})",
                self.entries.len(),
                names.join(", ")
            ),
        )
    }

    /// The bases `[start, end)` (0-based, half-open) of `chrom`, as in the file (case kept).
    ///
    /// Errors (naming the genome file): an unknown chromosome, `end < start` or `end` past the
    /// chromosome's end, and an index that does not match the FASTA (re-create it).
    pub fn fetch(&self, chrom: &str, start: u64, end: u64) -> Result<Vec<u8>> {
        let shown = self.path.display().to_string();
        let Some(&i) = self.by_name.get(chrom) else {
            return Err(self.unknown_chromosome(chrom));
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
        // noodles' regions are 1-based and closed
        let first = Position::try_from(start as usize + 1).map_err(|_| mismatch())?;
        let last = Position::try_from(end as usize).map_err(|_| mismatch())?;
        let region = Region::new(chrom, first..=last);
        let record = {
            let mut reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
            reader.query(&region).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData => mismatch(),
                _ => Error::Io {
                    path: shown.clone(),
                    source: e,
                },
            })?
        };
        let bases: &[u8] = record.sequence().as_ref();
        if bases.len() as u64 != end - start
            || bases
                .iter()
                .any(|&b| !b.is_ascii_alphabetic() && b != b'-' && b != b'*' && b != b'.')
        {
            return Err(mismatch());
        }
        Ok(bases.to_vec())
    }
}

/// Writes `fasta.fai`, the samtools index of a FASTA (what `samtools faidx` would write), and
/// for a bgzip-compressed FASTA also `fasta.gzi`, its block index; existing ones are replaced.
///
/// Errors (naming the FASTA and the line): a FASTA compressed with plain gzip, sequence before
/// the first header, an empty or repeated name, a record whose lines (all but the last) differ
/// in length or are followed by more sequence after a blank line, and whitespace inside a
/// sequence line.
pub fn write_fai(fasta: &Path) -> Result<()> {
    let shown = fasta.display().to_string();
    let file = File::open(fasta).map_err(Error::io(fasta))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let entries = match Storage::of(&mut reader, fasta)? {
        Storage::Plain => index_records(reader, &shown)?,
        Storage::Bgzf => {
            let entries = index_records(bgzf::io::Reader::new(reader), &shown)?;
            write_gzi(fasta)?;
            entries
        }
    };
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

/// Writes `fasta.gzi`: for every BGZF block after the first, its offset in the compressed file
/// and the uncompressed offset of its first byte, as `bgzip -i` does.
fn write_gzi(fasta: &Path) -> Result<()> {
    let shown = fasta.display().to_string();
    let file = File::open(fasta).map_err(Error::io(fasta))?;
    let mut reader = bgzf::io::Reader::new(file);
    let mut blocks: Vec<(u64, u64)> = Vec::new();
    let mut uncompressed: u64 = 0;
    loop {
        let n = reader
            .fill_buf()
            .map_err(|e| input_error(&shown, None, format!("cannot read its bgzip blocks: {e}")))?
            .len();
        if n == 0 {
            break;
        }
        // every fill starts a block: each is handed out whole and consumed whole
        if uncompressed > 0 {
            blocks.push((reader.virtual_position().compressed(), uncompressed));
        }
        uncompressed += n as u64;
        reader.consume(n);
    }
    let index = bgzf::gzi::Index::from(blocks);
    let mut out = crate::io::AtomicFile::create(&gzi_path(fasta))?;
    bgzf::gzi::io::Writer::new(&mut out)
        .write_index(&index)
        .map_err(|err| out.error(err))?;
    out.commit()
}

/// The `.fai` entries of the FASTA text `reader` yields (offsets into that text).
fn index_records(mut reader: impl BufRead, shown: &str) -> Result<Vec<FaiEntry>> {
    let shown = shown.to_string();
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
    Ok(entries)
}
