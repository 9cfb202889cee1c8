//! Training windows from peak calls: one window of `length` bases centred on every peak's
//! summit (narrowPeak column 10; the interval's centre for any other BED), labelled positive for
//! every task with a peak covering the window's centre, and negatives drawn from the genome,
//! matched to the positives' GC content, off the blacklist, free of Ns and of peaks.
//!
//! A window of length `L` centred on base `c` starts at `c - floor(L/2)`, as
//! [`crate::variants`] places a variant. Windows are ided `chrom:start-end` (0-based,
//! half-open), so that chromosome splits apply to them as to any BED window.
//!
//! ```
//! use sepfc::data::peaks::{Peak, summit_window};
//! let peak = Peak { chrom: "chr1".into(), start: 100, end: 300, summit: 150, line: 1 };
//! assert_eq!(summit_window(&peak, 10, 1000), Some(145)); // [145, 155) holds base 150 at index 5
//! assert_eq!(summit_window(&peak, 400, 1000), None);      // would start before the chromosome
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::bed::{read_regions, read_regions_with};
use super::fasta::input_error;
use super::genome::Genome;
use crate::{Error, Result, dna};

/// One peak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peak {
    /// Chromosome.
    pub chrom: String,
    /// 0-based start, inclusive.
    pub start: u64,
    /// 0-based end, exclusive.
    pub end: u64,
    /// The summit, 0-based, within `[start, end)` (the centre `(start + end) / 2` when the file
    /// gives none).
    pub summit: u64,
    /// Its line in the file.
    pub line: usize,
}

/// The `negatives` table of `[data]`: background windows drawn from the genome.
#[derive(Debug, Clone, PartialEq)]
pub struct Negatives {
    /// Negatives per positive window (`per_positive`, default 1.0).
    pub per_positive: f64,
    /// Whether each negative's GC fraction is matched to a positive's (`gc_matched`, default
    /// true).
    pub gc_matched: bool,
    /// Regions no negative may overlap (`blacklist`, a BED).
    pub blacklist: Option<PathBuf>,
    /// Seed of the draw (`seed`, default 0).
    pub seed: u64,
}

/// Candidate windows drawn per negative wanted, for GC matching: each negative is the
/// candidate of closest GC not yet taken.
const POOL_PER_NEGATIVE: usize = 10;

/// Draws that may fail the filters (Ns, blacklist, peaks) per window wanted before giving up.
const ATTEMPTS_PER_WINDOW: usize = 200;

/// Reads a peak file: narrowPeak (10 columns; column 10 the summit's offset from the start,
/// `-1` for none) or any other BED (the summit is the interval's centre). Plain or gzip.
///
/// Errors (naming the file and line): those of [`read_regions`], a narrowPeak summit that is not
/// an integer or lies outside its peak, and a file named `.narrowPeak` without 10 columns.
pub fn read_peaks(path: &Path) -> Result<Vec<Peak>> {
    let shown = path.display().to_string();
    let named_narrow = shown.to_ascii_lowercase().contains(".narrowpeak");
    let mut offsets: Vec<Option<i64>> = Vec::new();
    let bed = read_regions_with(path, &mut |fields, line| {
        if fields.len() != 10 {
            if named_narrow {
                return Err(input_error(
                    &shown,
                    Some(line),
                    format!(
                        "a narrowPeak line has 10 columns, this one {}",
                        fields.len()
                    ),
                ));
            }
            offsets.push(None);
            return Ok(());
        }
        let offset = fields[9].parse::<i64>().map_err(|_| {
            input_error(
                &shown,
                Some(line),
                format!(
                    "summit offset (column 10) '{}' is not an integer",
                    fields[9]
                ),
            )
        })?;
        offsets.push(Some(offset));
        Ok(())
    })?;
    bed.intervals
        .into_iter()
        .zip(offsets)
        .map(|(iv, offset)| {
            let centre = (iv.start + iv.end) / 2;
            let summit = match offset {
                None | Some(-1) => centre,
                Some(o) if o >= 0 && iv.start + (o as u64) < iv.end.max(iv.start + 1) => {
                    iv.start + o as u64
                }
                Some(o) => {
                    return Err(input_error(
                        &shown,
                        Some(iv.line),
                        format!(
                            "summit offset {o} is outside the peak {}:{}-{} (0 to {})",
                            iv.chrom,
                            iv.start,
                            iv.end,
                            iv.end.saturating_sub(iv.start + 1)
                        ),
                    ));
                }
            };
            Ok(Peak {
                chrom: iv.chrom,
                start: iv.start,
                end: iv.end,
                summit,
                line: iv.line,
            })
        })
        .collect()
}

/// The start of the window of `length` bases centred on `peak`'s summit, or `None` when it would
/// leave its chromosome of `chrom_len` bases.
pub fn summit_window(peak: &Peak, length: u64, chrom_len: u64) -> Option<u64> {
    let start = peak.summit.checked_sub(length / 2)?;
    (start + length <= chrom_len).then_some(start)
}

/// Intervals of one chromosome, sorted, answering "does any cover this base / meet this
/// range" in `O(log n)`.
#[derive(Debug, Default)]
struct Intervals {
    starts: Vec<u64>,
    /// The largest end among the intervals up to each (in start order).
    max_end: Vec<u64>,
}

impl Intervals {
    fn new(mut spans: Vec<(u64, u64)>) -> Self {
        spans.sort();
        let mut max_end = Vec::with_capacity(spans.len());
        let mut running = 0;
        for &(_, end) in &spans {
            running = running.max(end);
            max_end.push(running);
        }
        Intervals {
            starts: spans.iter().map(|s| s.0).collect(),
            max_end,
        }
    }

    /// Whether an interval meets `[from, to)`.
    fn meets(&self, from: u64, to: u64) -> bool {
        let k = self.starts.partition_point(|&s| s < to);
        k > 0 && self.max_end[k - 1] > from
    }
}

/// Intervals by chromosome.
type ByChrom = HashMap<String, Intervals>;

fn by_chrom<'a>(spans: impl IntoIterator<Item = (&'a str, u64, u64)>) -> ByChrom {
    let mut grouped: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    for (chrom, start, end) in spans {
        grouped
            .entry(chrom.to_string())
            .or_default()
            .push((start, end));
    }
    grouped
        .into_iter()
        .map(|(chrom, spans)| (chrom, Intervals::new(spans)))
        .collect()
}

fn meets(map: &ByChrom, chrom: &str, from: u64, to: u64) -> bool {
    map.get(chrom).is_some_and(|i| i.meets(from, to))
}

/// The GC fraction of a window's A, C, G and T bases (0 for none).
pub fn gc_fraction(seq: &[u8]) -> f64 {
    let (mut gc, mut acgt) = (0usize, 0usize);
    for &b in seq {
        match b.to_ascii_uppercase() {
            b'G' | b'C' => {
                gc += 1;
                acgt += 1;
            }
            b'A' | b'T' => acgt += 1,
            _ => {}
        }
    }
    if acgt == 0 {
        0.0
    } else {
        gc as f64 / acgt as f64
    }
}

/// Windows with labels: ids, sequences, and `(N, tasks)` targets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelledWindows {
    /// `chrom:start-end`.
    pub ids: Vec<String>,
    /// Chromosome and start of each window.
    pub spans: Vec<(String, u64)>,
    /// The windows' bases as in the genome.
    pub sequences: Vec<Vec<u8>>,
    /// 1 where a task's peak covers the window's centre, else 0; negatives all 0.
    pub targets: Vec<f32>,
    /// Positive windows (the first ones), then negatives.
    pub positives: usize,
    /// Peaks whose windows would leave their chromosome, left out.
    pub off_chromosome: usize,
}

/// The windows of `peaks` (one file per task, in task order) on `genome`, with `negatives`
/// when given. Positives come in genome order (the index's chromosome order, then start), one
/// per distinct window; negatives follow.
///
/// Errors: a peak file's errors, a peak on a chromosome the genome lacks (naming its line), no
/// positive window at all, and a genome too small (or too full of Ns, blacklisted regions and
/// peaks) to draw the negatives from.
pub fn peak_windows(
    peaks: &[(String, PathBuf)],
    genome: &Genome,
    length: usize,
    negatives: Option<&Negatives>,
) -> Result<LabelledWindows> {
    let w = length as u64;
    let mut all_peaks: Vec<Vec<Peak>> = Vec::with_capacity(peaks.len());
    for (_, path) in peaks {
        let read = read_peaks(path)?;
        if let Some(p) = read.iter().find(|p| genome.chrom_len(&p.chrom).is_none()) {
            return Err(input_error(
                &path.display().to_string(),
                Some(p.line),
                genome.unknown_chromosome(&p.chrom).to_string(),
            ));
        }
        all_peaks.push(read);
    }
    let covering: Vec<ByChrom> = all_peaks
        .iter()
        .map(|ps| by_chrom(ps.iter().map(|p| (p.chrom.as_str(), p.start, p.end))))
        .collect();
    let order: HashMap<&str, usize> = genome
        .chroms()
        .enumerate()
        .map(|(i, (c, _))| (c, i))
        .collect();
    let mut starts: BTreeMap<(usize, u64), &str> = BTreeMap::new();
    let mut out = LabelledWindows::default();
    for peak in all_peaks.iter().flatten() {
        let chrom_len = genome.chrom_len(&peak.chrom).expect("checked above");
        match summit_window(peak, w, chrom_len) {
            Some(start) => {
                starts.insert((order[peak.chrom.as_str()], start), &peak.chrom);
            }
            None => out.off_chromosome += 1,
        }
    }
    if starts.is_empty() {
        return Err(Error::Config(format!(
            "[data] peaks: no peak has a {length} bp window inside its chromosome"
        )));
    }
    for (&(_, start), chrom) in &starts {
        let centre = start + w / 2;
        out.ids.push(format!("{chrom}:{start}-{}", start + w));
        out.spans.push((chrom.to_string(), start));
        out.sequences.push(genome.fetch(chrom, start, start + w)?);
        out.targets.extend(covering.iter().map(|c| {
            if meets(c, chrom, centre, centre + 1) {
                1.0
            } else {
                0.0
            }
        }));
    }
    out.positives = out.ids.len();
    if let Some(negatives) = negatives {
        let any_peak = by_chrom(
            all_peaks
                .iter()
                .flatten()
                .map(|p| (p.chrom.as_str(), p.start, p.end)),
        );
        let blacklist = match &negatives.blacklist {
            Some(path) => {
                let bed = read_regions(path)?;
                by_chrom(
                    bed.intervals
                        .iter()
                        .map(|i| (i.chrom.as_str(), i.start, i.end)),
                )
            }
            None => ByChrom::new(),
        };
        let drawn = draw_negatives(genome, w, negatives, &out.sequences, &any_peak, &blacklist)?;
        for (chrom, start, seq) in drawn {
            out.ids.push(format!("{chrom}:{start}-{}", start + w));
            out.spans.push((chrom.clone(), start));
            out.sequences.push(seq);
            out.targets.extend(std::iter::repeat_n(0.0, peaks.len()));
        }
    }
    Ok(out)
}

/// Negative windows `(chrom, start, bases)`: `round(per_positive * positives)` of them, each
/// free of non-ACGT bases, off the blacklist, and with its centre in no peak; with `gc_matched`,
/// for each positive in turn (in a seeded order) the unused candidate of closest GC fraction
/// from a pool of random windows [`POOL_PER_NEGATIVE`] times larger.
fn draw_negatives(
    genome: &Genome,
    w: u64,
    negatives: &Negatives,
    positives: &[Vec<u8>],
    peaks: &ByChrom,
    blacklist: &ByChrom,
) -> Result<Vec<(String, u64, Vec<u8>)>> {
    let wanted = (negatives.per_positive * positives.len() as f64).round() as usize;
    if !(negatives.per_positive >= 0.0 && negatives.per_positive.is_finite()) {
        return Err(Error::Config(format!(
            "[data] negatives.per_positive = {}: must be a non-negative number",
            negatives.per_positive
        )));
    }
    if wanted == 0 {
        return Ok(Vec::new());
    }
    let mut rng = StdRng::seed_from_u64(negatives.seed);
    let chroms: Vec<(&str, u64)> = genome.chroms().filter(|&(_, len)| len >= w).collect();
    let total: u64 = chroms.iter().map(|&(_, len)| len - w + 1).sum();
    if total == 0 {
        return Err(Error::Config(format!(
            "[data] negatives: no chromosome of {} is as long as the {w} bp window",
            genome.path().display()
        )));
    }
    let pool_size = if negatives.gc_matched {
        wanted * POOL_PER_NEGATIVE
    } else {
        wanted
    };
    let mut pool: Vec<(String, u64, Vec<u8>)> = Vec::with_capacity(pool_size);
    let mut taken: std::collections::HashSet<(usize, u64)> = Default::default();
    let mut attempts = 0usize;
    while pool.len() < pool_size {
        attempts += 1;
        if attempts > pool_size * ATTEMPTS_PER_WINDOW {
            return Err(Error::Config(format!(
                "[data] negatives: found only {} of {pool_size} windows of {} free of Ns, blacklisted regions and peaks in {} draws; lower per_positive",
                pool.len(),
                genome.path().display(),
                attempts - 1
            )));
        }
        // a start uniform over all windows of all chromosomes
        let mut at = rng.random_range(0..total);
        let (k, &(chrom, len)) = chroms
            .iter()
            .enumerate()
            .find(|&(_, &(_, len))| {
                let windows = len - w + 1;
                if at < windows {
                    true
                } else {
                    at -= windows;
                    false
                }
            })
            .expect("at < total");
        let start = at;
        debug_assert!(start + w <= len);
        let centre = start + w / 2;
        if taken.contains(&(k, start))
            || meets(peaks, chrom, centre, centre + 1)
            || meets(blacklist, chrom, start, start + w)
        {
            continue;
        }
        let seq = genome.fetch(chrom, start, start + w)?;
        if seq.iter().any(|&b| dna::channel(b).is_none()) {
            continue;
        }
        taken.insert((k, start));
        pool.push((chrom.to_string(), start, seq));
    }
    if !negatives.gc_matched {
        return Ok(pool);
    }
    // the pool by GC (in 1/100,000ths, then pool index: a total order), each taken at most once
    let key = |seq: &[u8]| (gc_fraction(seq) * 100_000.0).round() as i64;
    let mut by_gc: BTreeMap<(i64, usize), ()> = pool
        .iter()
        .enumerate()
        .map(|(i, (_, _, seq))| ((key(seq), i), ()))
        .collect();
    let mut order: Vec<usize> = (0..positives.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let mut chosen: Vec<usize> = Vec::with_capacity(wanted);
    for k in 0..wanted {
        let target = key(&positives[order[k % order.len()]]);
        let above = by_gc.range((target, 0)..).next().map(|(&k, _)| k);
        let below = by_gc.range(..(target, 0)).next_back().map(|(&k, _)| k);
        let nearest = match (below, above) {
            (Some(b), Some(a)) => {
                if target - b.0 <= a.0 - target {
                    b
                } else {
                    a
                }
            }
            (b, a) => b
                .or(a)
                .expect("the pool is larger than the negatives wanted"),
        };
        by_gc.remove(&nearest);
        chosen.push(nearest.1);
    }
    chosen.sort_unstable();
    let mut pool: Vec<Option<(String, u64, Vec<u8>)>> = pool.into_iter().map(Some).collect();
    Ok(chosen.into_iter().filter_map(|i| pool[i].take()).collect())
}
