//! Tiling a genome, or regions of it, into the fixed-length windows a model scores: the plan of
//! a genome-wide scan, worked out from the index alone (no sequence is read here).
//!
//! Regions are put in genome order (the index's chromosome order, then start), and overlapping
//! or touching regions are merged, so that every window is scored once and the output comes
//! out sorted whatever order the regions file had. A window starts every `stride` bases from a
//! region's start and must fit inside the region: a region (or chromosome) shorter than the
//! window has none.
//!
//! Each window's score is reported on the interval it stands for ([`reported_interval`]):
//! with `stride <= window`, its central `stride` bases, so that the intervals of consecutive
//! windows tile the region without overlapping (as bedGraph wants); with `stride > window`, the
//! window itself.
//!
//! ```
//! use sepfc::data::tiling::{Span, reported_interval, window_starts};
//! let span = Span { chrom: "chr1".into(), start: 100, end: 130 };
//! assert_eq!(window_starts(&span, 10, 5).collect::<Vec<_>>(), vec![100, 105, 110, 115, 120]);
//! assert_eq!(reported_interval(100, 10, 5), (102, 107));
//! ```

use std::collections::HashMap;

use super::bed::Interval;
use super::fasta::input_error;
use crate::Result;

/// A stretch `[start, end)` (0-based, half-open) of one chromosome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Chromosome (sequence name in the genome).
    pub chrom: String,
    /// First base.
    pub start: u64,
    /// One past the last base.
    pub end: u64,
}

/// Every chromosome of `chroms` (name and length, in index order), whole.
pub fn whole_genome<'a>(chroms: impl IntoIterator<Item = (&'a str, u64)>) -> Vec<Span> {
    chroms
        .into_iter()
        .map(|(chrom, len)| Span {
            chrom: chrom.to_string(),
            start: 0,
            end: len,
        })
        .collect()
}

/// The regions of a BED file (`origin` names it in errors) in genome order, overlapping and
/// touching ones merged. `chroms` is the genome's index (name and length, in index order).
///
/// Errors, naming the file and line: a chromosome the genome does not have, and a region that
/// ends past its chromosome's end.
pub fn sorted_regions<'a>(
    regions: &[Interval],
    chroms: impl IntoIterator<Item = (&'a str, u64)>,
    origin: &str,
) -> Result<Vec<Span>> {
    let index: HashMap<&str, (usize, u64)> = chroms
        .into_iter()
        .enumerate()
        .map(|(rank, (name, len))| (name, (rank, len)))
        .collect();
    let mut placed = Vec::with_capacity(regions.len());
    for r in regions {
        let line = (r.line > 0).then_some(r.line);
        let Some(&(rank, len)) = index.get(r.chrom.as_str()) else {
            return Err(input_error(
                origin,
                line,
                format!("chromosome '{}' is not in the genome", r.chrom),
            ));
        };
        if r.end > len {
            return Err(input_error(
                origin,
                line,
                format!(
                    "region {}:{}-{} ends past the chromosome's end ({len} bp)",
                    r.chrom, r.start, r.end
                ),
            ));
        }
        placed.push((rank, r.start, r.end, r.chrom.as_str()));
    }
    placed.sort_unstable();
    let mut merged: Vec<(usize, Span)> = Vec::new();
    for (rank, start, end, chrom) in placed {
        match merged.last_mut() {
            Some((last_rank, last)) if *last_rank == rank && start <= last.end => {
                last.end = last.end.max(end);
            }
            _ => merged.push((
                rank,
                Span {
                    chrom: chrom.to_string(),
                    start,
                    end,
                },
            )),
        }
    }
    Ok(merged.into_iter().map(|(_, span)| span).collect())
}

/// Starts of the windows of `window` bases in `span`, every `stride` bases from its start
/// (`stride` at least 1), each window inside the span.
pub fn window_starts(span: &Span, window: u64, stride: u64) -> impl Iterator<Item = u64> + '_ {
    let stride = stride.max(1);
    let last = span.end.checked_sub(window).filter(|&l| l >= span.start);
    let count = last.map_or(0, |l| (l - span.start) / stride + 1);
    (0..count).map(move |k| span.start + k * stride)
}

/// The interval `[start, end)` on which the score of the window starting at `start` is
/// reported: its central `stride` bases when `stride <= window`, the window itself otherwise.
pub fn reported_interval(start: u64, window: u64, stride: u64) -> (u64, u64) {
    if stride > window {
        return (start, start + window);
    }
    let first = start + (window - stride) / 2;
    (first, first + stride)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(chrom: &str, start: u64, end: u64, line: usize) -> Interval {
        Interval {
            chrom: chrom.into(),
            start,
            end,
            name: None,
            labels: Vec::new(),
            line,
        }
    }

    fn span(chrom: &str, start: u64, end: u64) -> Span {
        Span {
            chrom: chrom.into(),
            start,
            end,
        }
    }

    const CHROMS: [(&str, u64); 3] = [("chr2", 1000), ("chr1", 500), ("chrM", 16)];

    #[test]
    fn regions_come_out_in_index_order_with_overlaps_and_neighbours_merged() {
        let regions = [
            interval("chr1", 300, 400, 1),
            interval("chr2", 50, 60, 2),
            interval("chr1", 100, 200, 3),
            interval("chr1", 150, 250, 4),
            interval("chr1", 250, 260, 5),
            interval("chr2", 10, 20, 6),
        ];
        let sorted = sorted_regions(&regions, CHROMS, "r.bed").unwrap();
        assert_eq!(
            sorted,
            vec![
                span("chr2", 10, 20),
                span("chr2", 50, 60),
                span("chr1", 100, 260),
                span("chr1", 300, 400),
            ]
        );
    }

    #[test]
    fn an_unknown_chromosome_or_a_region_past_the_end_names_file_and_line() {
        let unknown = sorted_regions(&[interval("chrX", 0, 10, 7)], CHROMS, "r.bed");
        let message = unknown.unwrap_err().to_string();
        assert!(
            message.contains("r.bed") && message.contains('7'),
            "{message}"
        );
        assert!(message.contains("chrX"), "{message}");
        let past = sorted_regions(&[interval("chrM", 0, 17, 3)], CHROMS, "r.bed");
        let message = past.unwrap_err().to_string();
        assert!(
            message.contains("16 bp") && message.contains('3'),
            "{message}"
        );
    }

    #[test]
    fn windows_fit_inside_their_span_and_a_short_span_has_none() {
        let starts = |s: &Span, w, st| window_starts(s, w, st).collect::<Vec<_>>();
        assert_eq!(starts(&span("c", 0, 25), 10, 5), vec![0, 5, 10, 15]);
        assert_eq!(starts(&span("c", 3, 13), 10, 4), vec![3]);
        assert_eq!(starts(&span("c", 0, 9), 10, 1), Vec::<u64>::new());
        assert_eq!(starts(&span("c", 0, 40), 10, 20), vec![0, 20]);
        let genome = whole_genome(CHROMS);
        assert_eq!(
            starts(&genome[2], 20, 1),
            Vec::<u64>::new(),
            "chrM is 16 bp"
        );
    }

    #[test]
    fn reported_intervals_of_consecutive_windows_tile_without_overlap() {
        for (window, stride) in [(10, 5), (10, 1), (11, 4), (10, 10)] {
            let s = span("c", 0, 200);
            let intervals: Vec<_> = window_starts(&s, window, stride)
                .map(|start| reported_interval(start, window, stride))
                .collect();
            for pair in intervals.windows(2) {
                assert_eq!(pair[0].1, pair[1].0, "w={window} s={stride}: {pair:?}");
            }
            for (&start, &(a, b)) in window_starts(&s, window, stride)
                .collect::<Vec<_>>()
                .iter()
                .zip(&intervals)
            {
                assert!(start <= a && b <= start + window, "inside its window");
            }
        }
        assert_eq!(reported_interval(40, 10, 25), (40, 50));
    }
}
