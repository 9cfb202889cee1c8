//! Genome tracks out: a bedGraph as written by `sepfc scan` turned into a bigWig (bigtools'
//! writer), holding the same intervals and values, with the chromosome sizes of the genome.
//!
//! ```
//! # fn main() -> sepfc::Result<()> {
//! let dir = tempfile::tempdir().unwrap();
//! let bedgraph = dir.path().join("scan.bedgraph");
//! std::fs::write(&bedgraph, "track type=bedGraph name=\"t\"\nchr2\t0\t5\t0.25\nchr1\t5\t10\t0.5\n")
//!     .unwrap();
//! let sizes = [("chr2".to_string(), 100), ("chr1".to_string(), 50)];
//! sepfc::tracks::bedgraph_to_bigwig(&bedgraph, &sizes, &dir.path().join("scan.bw"))?;
//! assert!(dir.path().join("scan.bw").exists());
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use bigtools::bed::bedparser::BedValueError;
use bigtools::beddata::BedParserStreamingIterator;
use bigtools::{BBIProcessError, BigWigWrite, Value};

use crate::data::fasta::open_text;
use crate::{Error, Result};

/// Writes `out`, a bigWig of the bedGraph `bedgraph` (`track` and `#` lines skipped; rows
/// `chrom start end value`, chromosomes in any order but each in one run, intervals sorted and
/// not overlapping within it), for a genome of `chrom_sizes`. The bedGraph is streamed twice
/// (the values, then the zoom levels), so memory does not grow with it; the bigWig is written
/// beside `out` and renamed into place.
///
/// Errors: a row that is not `chrom start end value` (naming the line), a chromosome not in
/// `chrom_sizes`, a bedGraph with no rows, and a failed write.
pub fn bedgraph_to_bigwig(
    bedgraph: &Path,
    chrom_sizes: &[(String, u64)],
    out: &Path,
) -> Result<()> {
    let shown = bedgraph.display().to_string();
    let sizes: HashMap<String, u32> = chrom_sizes
        .iter()
        .map(|(name, length)| {
            u32::try_from(*length)
                .map(|l| (name.clone(), l))
                .map_err(|_| {
                    Error::Config(format!(
                        "{name} is {length} bp, longer than a bigWig can hold (4 Gb)"
                    ))
                })
        })
        .collect::<Result<_>>()?;
    // the bedGraph's rows, read afresh for each pass
    let values = || {
        let reader = open_text(bedgraph).map_err(|e| {
            BBIProcessError::SourceError(BedValueError::InvalidInput(e.to_string()))
        })?;
        let shown = shown.clone();
        let rows = reader.lines().enumerate().filter_map(move |(i, line)| {
            let line = match line {
                Ok(line) => line,
                Err(e) => return Some(Err(BedValueError::IoError(e))),
            };
            if line.starts_with("track") || line.starts_with('#') || line.trim().is_empty() {
                return None;
            }
            Some(parse_row(&line).ok_or_else(|| {
                BedValueError::InvalidInput(format!(
                    "{shown}:{}: expected `chrom start end value`, tab-separated",
                    i + 1
                ))
            }))
        });
        Ok(BedParserStreamingIterator::wrap_iter(rows, true))
    };
    let temp = crate::io::temp_path_beside(out);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(Error::io(out))?;
    let written = BigWigWrite::create_file(&temp, sizes)
        .map_err(Error::io(out))
        .and_then(|writer| {
            writer
                .write_multipass(values, runtime)
                .map_err(|e| match e {
                    BBIProcessError::SourceError(BedValueError::InvalidInput(detail)) => {
                        Error::Config(detail)
                    }
                    e => Error::Config(format!("{}: cannot write the bigWig: {e}", out.display())),
                })
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    std::fs::rename(&temp, out).map_err(Error::io(out))
}

/// `chrom start end value` of a bedGraph row.
fn parse_row(line: &str) -> Option<(String, Value)> {
    let mut fields = line.split('\t');
    let chrom = fields.next()?.to_string();
    let start = fields.next()?.parse().ok()?;
    let end = fields.next()?.parse().ok()?;
    let value = fields.next()?.parse().ok()?;
    fields
        .next()
        .is_none()
        .then_some((chrom, Value { start, end, value }))
}
