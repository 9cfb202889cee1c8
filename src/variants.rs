//! Variant effects: the REF and ALT windows a model scores for one allele of a variant.
//!
//! For a model of input length `W` the REF window starts `floor(W/2)` bases before the
//! variant's first REF base. The ALT window starts at the same place, holds the ALT bases
//! where the REF bases were, and is cut, or filled from the genome after the REF bases, on its
//! right end back to `W` bases. So for an SNV both windows put the variant at position
//! `floor(W/2)`; a deletion pulls bases from the right into the window, an insertion pushes
//! them out.
//!
//! ```
//! # fn main() -> sepfc::Result<()> {
//! use sepfc::data::genome::{Genome, write_fai};
//! use sepfc::variants::{Windows, allele_windows};
//! let dir = tempfile::tempdir().unwrap();
//! let fasta = dir.path().join("genome.fa");
//! std::fs::write(&fasta, ">chr1\nAACCGGTTAC\n").unwrap();
//! write_fai(&fasta)?;
//! let genome = Genome::open(&fasta)?;
//! // a deletion of the G at POS 6 (after the G at 5): CG>C, in windows of 4 bases
//! let Windows::Scored { reference, alternate } = allele_windows(&genome, "chr1", 5, "GG", "G", 4)?
//! else { panic!() };
//! assert_eq!((reference.as_slice(), alternate.as_slice()), (&b"CCGG"[..], &b"CCGT"[..]));
//! // an insertion cuts the ALT window on the right
//! let Windows::Scored { alternate, .. } = allele_windows(&genome, "chr1", 5, "G", "GAAA", 4)?
//! else { panic!() };
//! assert_eq!(alternate, b"CCGA");
//! // too near the chromosome's start for a centred window
//! assert_eq!(allele_windows(&genome, "chr1", 1, "A", "T", 4)?, Windows::NearChromosomeEnd);
//! # Ok(())
//! # }
//! ```

use crate::Result;
use crate::data::genome::Genome;

/// The windows of one allele, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Windows {
    /// Both windows, `W` bases each.
    Scored {
        /// The genome's window.
        reference: Vec<u8>,
        /// The window with the allele in place.
        alternate: Vec<u8>,
    },
    /// The genome's bases at the variant are not its REF.
    RefMismatch {
        /// The genome's bases where REF should be (fewer at a chromosome's end).
        genome: String,
    },
    /// A window would start before the chromosome or end after it.
    NearChromosomeEnd,
}

/// The REF and ALT windows of width `width` for the allele `alt` of the variant at 1-based
/// `pos` with bases `reference` on `chrom` (bases compared without regard to case).
///
/// Errors: an unknown chromosome, and a read error of the genome.
pub fn allele_windows(
    genome: &Genome,
    chrom: &str,
    pos: u64,
    reference: &str,
    alt: &str,
    width: usize,
) -> Result<Windows> {
    let Some(length) = genome.chrom_len(chrom) else {
        return Err(genome.unknown_chromosome(chrom));
    };
    let (w, half) = (width as u64, (width / 2) as u64);
    let (first, ref_len, alt_len) = (
        pos.saturating_sub(1),
        reference.len() as u64,
        alt.len() as u64,
    );
    // bases after REF that fill the ALT window back to `width`
    let fill = w.saturating_sub(half + alt_len);
    let span = first
        .checked_sub(half)
        .map(|start| (start, (start + w).max(first + ref_len + fill)))
        .filter(|&(_, end)| end <= length);
    let Some((start, end)) = span else {
        // no window: the REF is still checked, a mismatch being the graver news
        let found = genome.fetch(chrom, first.min(length), (first + ref_len).min(length))?;
        if !found.eq_ignore_ascii_case(reference.as_bytes()) {
            return Ok(Windows::RefMismatch {
                genome: String::from_utf8_lossy(&found).into_owned(),
            });
        }
        return Ok(Windows::NearChromosomeEnd);
    };
    // one read for the REF check and both windows (a bgzip genome inflates a block per read)
    let bases = genome.fetch(chrom, start, end)?;
    let at = (first - start) as usize;
    let found = &bases[at..at + ref_len as usize];
    if !found.eq_ignore_ascii_case(reference.as_bytes()) {
        return Ok(Windows::RefMismatch {
            genome: String::from_utf8_lossy(found).into_owned(),
        });
    }
    let reference_window = bases[..width].to_vec();
    let mut alternate = Vec::with_capacity(width);
    alternate.extend_from_slice(&bases[..half as usize]);
    alternate.extend_from_slice(alt.as_bytes());
    let after = at + ref_len as usize;
    alternate.extend_from_slice(&bases[after..after + fill as usize]);
    alternate.truncate(width);
    Ok(Windows::Scored {
        reference: reference_window,
        alternate,
    })
}
