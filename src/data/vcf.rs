//! Variants from a VCF file (plain, gzip or bgzip), read record by record so that memory stays
//! the same whatever the file's size.
//!
//! Each record line is parsed by noodles (`noodles-vcf`); lines are read here so that every
//! error names the file and the line. Meta lines (`##`) are skipped; the column header
//! (`#CHROM ...`) must come before the first record. Only the first five columns are used:
//! `CHROM`, `POS` (1-based), `ID`, `REF` and `ALT` (comma-separated alleles).
//!
//! ```
//! # fn main() -> sepfc::Result<()> {
//! use sepfc::data::vcf::{Allele, VcfReader};
//! let text = "##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n\
//!             chr1\t5\trs1\tA\tG,AT,<DEL>\t.\tPASS\t.\nchr1\t9\t.\tC\t.\t.\t.\t.\n";
//! let mut reader = VcfReader::new(text.as_bytes(), "example.vcf");
//! let variant = reader.next_variant()?.unwrap();
//! assert_eq!((variant.line, variant.chrom.as_str(), variant.pos), (3, "chr1", 5));
//! assert_eq!(variant.reference, "A");
//! assert_eq!(
//!     variant.alts,
//!     [Allele::Bases("G".into()), Allele::Bases("AT".into()), Allele::Other("<DEL>".into())]
//! );
//! let missing = reader.next_variant()?.unwrap();
//! assert_eq!((missing.id.as_str(), &missing.alts[..]), (".", &[Allele::Other(".".into())][..]));
//! assert!(reader.next_variant()?.is_none());
//! # Ok(())
//! # }
//! ```

use std::io::BufRead;
use std::path::Path;

use noodles_vcf as vcf;
use noodles_vcf::variant::record::AlternateBases;

use super::fasta::{LineReader, input_error, open_text};
use crate::Result;

/// One ALT allele.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allele {
    /// Bases (`A`, `C`, `G`, `T`, `N`, any case): an SNV, insertion, deletion or substitution.
    Bases(String),
    /// Anything that is not a sequence: symbolic (`<DEL>`), a breakend (`G]chr2:5]`), the
    /// overlapping deletion `*`, or missing `.`.
    Other(String),
}

/// One VCF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Its line in the file (1-based).
    pub line: usize,
    /// `CHROM`.
    pub chrom: String,
    /// `POS`, 1-based: the first REF base.
    pub pos: u64,
    /// `ID` as written (`.` when none).
    pub id: String,
    /// `REF`, as written.
    pub reference: String,
    /// `ALT`, one entry per allele (an `ALT` of `.` gives one [`Allele::Other`]).
    pub alts: Vec<Allele>,
}

/// Reads [`Variant`]s one at a time.
pub struct VcfReader<R> {
    lines: LineReader<R>,
    origin: String,
    seen_header: bool,
}

/// Whether every byte is a base VCF allows in `REF` and sequence `ALT`s.
fn is_bases(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b"ACGTNacgtn".contains(&b))
}

impl VcfReader<Box<dyn BufRead>> {
    /// Opens a VCF file, plain or compressed (gzip or bgzip, told apart from plain text by its
    /// first bytes).
    pub fn open(path: &Path) -> Result<Self> {
        Ok(VcfReader::new(
            open_text(path)?,
            &path.display().to_string(),
        ))
    }
}

impl<R: BufRead> VcfReader<R> {
    /// Reads VCF text from `reader`; `origin` names it in errors.
    pub fn new(reader: R, origin: &str) -> Self {
        VcfReader {
            lines: LineReader::new(reader, origin),
            origin: origin.to_string(),
            seen_header: false,
        }
    }

    /// The next record, or `None` at the end of the file.
    ///
    /// Errors (naming the file and line): a record before the `#CHROM` header line, a record
    /// noodles cannot parse (fewer than 8 columns, ...), a `POS` that is missing or not a
    /// positive integer, a `REF` that is not bases, and an `ALT` allele that is neither bases
    /// nor one of the non-sequence forms.
    pub fn next_variant(&mut self) -> Result<Option<Variant>> {
        loop {
            let Some((line_no, line)) = self.lines.next_text_line()? else {
                if !self.seen_header {
                    return Err(input_error(
                        &self.origin,
                        None,
                        "no #CHROM header line (is this a VCF file?)",
                    ));
                }
                return Ok(None);
            };
            let err = |detail: String| input_error(&self.origin, Some(line_no), detail);
            if line.starts_with("##") {
                continue;
            }
            if line.starts_with("#CHROM") {
                self.seen_header = true;
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            if !self.seen_header {
                return Err(err(
                    "a record before the #CHROM header line (is this a VCF file?)".into(),
                ));
            }
            let mut text = line.as_bytes().to_vec();
            text.push(b'\n');
            let record = vcf::Record::try_from(&text[..])
                .map_err(|e| err(format!("not a VCF record: {e}")))?;
            let pos = match record.variant_start() {
                Some(Ok(pos)) => usize::from(pos) as u64,
                Some(Err(e)) => return Err(err(format!("POS is not a positive integer ({e})"))),
                None => {
                    return Err(err(
                        "POS is missing or 0 (a telomere); variants are scored at bases 1 and after"
                            .into(),
                    ));
                }
            };
            let reference = record.reference_bases().to_string();
            if !is_bases(&reference) {
                return Err(err(format!(
                    "REF '{reference}' is not bases (A, C, G, T, N)"
                )));
            }
            let mut alts = Vec::new();
            for allele in record.alternate_bases().iter() {
                let allele = allele.map_err(|e| err(format!("ALT cannot be read ({e})")))?;
                alts.push(classify(allele).ok_or_else(|| {
                    err(format!(
                        "ALT allele '{allele}' is neither bases (A, C, G, T, N) nor symbolic, a breakend, '*' or '.'"
                    ))
                })?);
            }
            if alts.is_empty() {
                // noodles reads an ALT of `.` as no alleles
                alts.push(Allele::Other(".".into()));
            }
            // noodles reads an ID of `.` as no ids
            let id = match record.ids().as_ref() {
                "" => ".".to_string(),
                ids => ids.to_string(),
            };
            return Ok(Some(Variant {
                line: line_no,
                chrom: record.reference_sequence_name().to_string(),
                pos,
                id,
                reference,
                alts,
            }));
        }
    }
}

/// The kind of an ALT allele, or `None` for text that is no allele.
fn classify(allele: &str) -> Option<Allele> {
    if is_bases(allele) {
        return Some(Allele::Bases(allele.to_string()));
    }
    let symbolic = allele.starts_with('<') && allele.ends_with('>');
    let breakend = allele.contains('[')
        || allele.contains(']')
        || allele.starts_with('.')
        || allele.ends_with('.');
    (symbolic || breakend || allele == "*").then(|| Allele::Other(allele.to_string()))
}
