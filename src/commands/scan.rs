//! `sepfc scan`: a model's predictions along a whole genome (or regions of it), one bedGraph
//! per task. The genome is read window batch by window batch through its index, so memory
//! stays the same whatever the genome's size; see [`crate::data::tiling`] for which windows
//! are scored and where each score is reported.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::device::{BackendTask, Device, run_on};
use crate::backend::Backend;
use crate::data::bed::read_regions;
use crate::data::genome::{Genome, indexing_message, open_indexing};
use crate::data::tiling::{Span, reported_interval, sorted_regions, whole_genome, window_starts};
use crate::io::AtomicFile;
use crate::model::Model;
use crate::training::weights_path;
use crate::{Error, Result, dna};

/// What `sepfc scan` does.
#[derive(Debug, Clone, clap::Args)]
pub struct ScanOptions {
    /// A training output folder or a weights file.
    #[arg(long)]
    pub model: PathBuf,
    /// The genome FASTA, plain or compressed with bgzip; its indexes are created beside it
    /// when missing.
    #[arg(long)]
    pub genome: PathBuf,
    /// Scan these regions instead of the whole genome: BED (chrom, start, end; further
    /// columns ignored), in any order; overlapping regions are merged.
    #[arg(long)]
    pub regions: Option<PathBuf>,
    /// Scan only this chromosome (repeat for several), e.g. one shard of a genome.
    #[arg(long = "chrom")]
    pub chroms: Vec<String>,
    /// Window length in bp; must be the model's input length (the default).
    #[arg(long)]
    pub window: Option<usize>,
    /// Bases from one window's start to the next. Each window's score is reported on its
    /// central STRIDE bases (on the whole window when STRIDE is larger), so intervals never
    /// overlap.
    #[arg(long)]
    pub stride: usize,
    /// The bedGraph to write; with several tasks, one file per task named OUT with `.<task>`
    /// before the extension.
    #[arg(long)]
    pub out: PathBuf,
    /// Windows per batch.
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    /// Leave out windows in which more than this fraction of bases is not A, C, G or T.
    #[arg(long, default_value_t = 0.5)]
    pub max_n_fraction: f64,
    /// Also write each task's bedGraph as a bigWig, `{OUT stem}.{task}.bw`, with the same
    /// intervals and values.
    #[arg(long)]
    pub bigwig: bool,
}

/// What a scan did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScanSummary {
    /// Windows scored and written.
    pub windows: u64,
    /// Windows left out for their Ns.
    pub skipped_for_n: u64,
    /// Regions or chromosomes shorter than the window (no window at all).
    pub too_short: u64,
    /// Scored windows per second, reading and writing included.
    pub windows_per_second: f64,
}

/// The bigWig of each task (`--bigwig`): `out` without its extension, then `.<task>.bw`
/// (`scan.bedgraph` -> `scan.ctcf.bw`), whatever the number of tasks.
pub fn bigwig_paths(out: &Path, tasks: &[String]) -> Vec<PathBuf> {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    tasks
        .iter()
        .map(|task| out.with_file_name(format!("{stem}.{task}.bw")))
        .collect()
}

/// The bedGraph of each task: `out` itself for one task, else `out` with `.<task>` inserted
/// before its extension (`scan.bedgraph` -> `scan.ctcf.bedgraph`).
pub fn task_paths(out: &Path, tasks: &[String]) -> Vec<PathBuf> {
    if tasks.len() == 1 {
        return vec![out.to_path_buf()];
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let ext = out
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    tasks
        .iter()
        .map(|task| out.with_file_name(format!("{stem}.{task}{ext}")))
        .collect()
}

struct ScanJob {
    options: ScanOptions,
    genome: Genome,
    spans: Vec<Span>,
}

impl BackendTask for ScanJob {
    type Output = ScanSummary;

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<ScanSummary> {
        let o = &self.options;
        let model = Model::load(backend, &weights_path(&o.model))?;
        let window = checked_window(o, model.input_length())?;
        let tasks = model.task_names().to_vec();
        let mut files = task_paths(&o.out, &tasks)
            .iter()
            .map(|p| AtomicFile::create(p))
            .collect::<Result<Vec<_>>>()?;
        for (file, task) in files.iter_mut().zip(&tasks) {
            writeln!(file, "track type=bedGraph name=\"{task}\"").map_err(|e| file.error(e))?;
        }
        let started = Instant::now();
        let mut summary = ScanSummary::default();
        let (w, stride) = (window as u64, o.stride as u64);
        let max_n = (o.max_n_fraction * window as f64).floor() as usize;
        let batch = o.batch_size.max(1);
        for span in &self.spans {
            let starts: Vec<u64> = window_starts(span, w, stride).collect();
            if starts.is_empty() {
                summary.too_short += 1;
                continue;
            }
            for group in starts.chunks(batch) {
                let first = group[0];
                let last = group[group.len() - 1];
                let bases = self.genome.fetch(&span.chrom, first, last + w)?;
                let mut kept = Vec::with_capacity(group.len());
                let mut seqs = Vec::with_capacity(group.len());
                for &start in group {
                    let at = (start - first) as usize;
                    let seq = &bases[at..at + window];
                    let ns = seq.iter().filter(|&&b| dna::channel(b).is_none()).count();
                    if ns > max_n {
                        summary.skipped_for_n += 1;
                        continue;
                    }
                    kept.push(start);
                    seqs.push(seq.to_vec());
                }
                if seqs.is_empty() {
                    continue;
                }
                let probabilities = crate::inference::predict(backend, &model, &seqs, batch)?;
                for (&start, row) in kept.iter().zip(probabilities.chunks(tasks.len())) {
                    let (a, b) = reported_interval(start, w, stride);
                    for (file, &p) in files.iter_mut().zip(row) {
                        writeln!(file, "{}\t{a}\t{b}\t{p:.6}", span.chrom)
                            .map_err(|e| file.error(e))?;
                    }
                }
                summary.windows += kept.len() as u64;
            }
        }
        for file in files {
            file.commit()?;
        }
        if o.bigwig {
            let sizes: Vec<(String, u64)> = self
                .genome
                .chroms()
                .map(|(name, length)| (name.to_string(), length))
                .collect();
            let bedgraphs = task_paths(&o.out, &tasks);
            for (bedgraph, bigwig) in bedgraphs.iter().zip(bigwig_paths(&o.out, &tasks)) {
                crate::tracks::bedgraph_to_bigwig(bedgraph, &sizes, &bigwig)?;
            }
        }
        summary.windows_per_second = summary.windows as f64 / started.elapsed().as_secs_f64();
        Ok(summary)
    }
}

/// The window length: the model's input length, which `options.window` must equal when given.
pub fn checked_window(options: &ScanOptions, model_length: usize) -> Result<usize> {
    match options.window {
        Some(w) if w != model_length => Err(Error::Config(format!(
            "--window {w}: the model reads windows of {model_length} bp"
        ))),
        _ => Ok(model_length),
    }
}

/// The genome (indexed first when it has no index) and the spans `options` scans, in genome
/// order, after checking the stride and the N fraction.
pub fn scan_spans(options: &ScanOptions) -> Result<(Genome, Vec<Span>)> {
    if options.stride == 0 {
        return Err(Error::Config("--stride must be at least 1".into()));
    }
    if !(0.0..=1.0).contains(&options.max_n_fraction) {
        return Err(Error::Config(format!(
            "--max-n-fraction {} is not a fraction in [0, 1]",
            options.max_n_fraction
        )));
    }
    let genome = open_genome_indexing(&options.genome)?;
    let spans = match &options.regions {
        Some(path) => {
            let bed = read_regions(path)?;
            sorted_regions(&bed.intervals, genome.chroms(), &bed.path)?
        }
        None => whole_genome(genome.chroms()),
    };
    let spans = only_chroms(spans, &options.chroms, &genome)?;
    Ok((genome, spans))
}

/// The spans on `chroms` (all of them when `chroms` is empty); a name the genome lacks is an
/// error naming the genome.
fn only_chroms(spans: Vec<Span>, chroms: &[String], genome: &Genome) -> Result<Vec<Span>> {
    if chroms.is_empty() {
        return Ok(spans);
    }
    if let Some(missing) = chroms.iter().find(|c| genome.chrom_len(c).is_none()) {
        return Err(Error::Config(format!(
            "--chrom {missing}: {} has no such sequence",
            genome.path().display()
        )));
    }
    Ok(spans
        .into_iter()
        .filter(|s| chroms.contains(&s.chrom))
        .collect())
}

/// Runs `sepfc scan`, printing what it scored and where it wrote.
pub fn run(options: ScanOptions, device: Device) -> Result<ScanSummary> {
    let weights = weights_path(&options.model);
    let mut inputs = vec![
        ("--genome", options.genome.as_path()),
        ("--model", &weights),
    ];
    if let Some(regions) = &options.regions {
        inputs.push(("--regions", regions));
    }
    super::outputs::refuse_overwriting_inputs(("--out", &options.out), &inputs)?;
    let (genome, spans) = scan_spans(&options)?;
    if options.bigwig {
        let tasks = crate::model::Model::load(&crate::backend::cpu::Cpu, &weights)?
            .task_names()
            .to_vec();
        let bedgraphs = task_paths(&options.out, &tasks);
        let bigwigs = bigwig_paths(&options.out, &tasks);
        let mut outputs: Vec<(&str, &Path)> =
            bedgraphs.iter().map(|p| ("--out", p.as_path())).collect();
        outputs.extend(bigwigs.iter().map(|p| ("--bigwig", p.as_path())));
        super::outputs::refuse_shared_outputs(&outputs)?;
        for (flag, path) in &outputs {
            super::outputs::refuse_overwriting_inputs((flag, path), &inputs)?;
        }
    }
    let out = options.out.clone();
    let summary = run_on(
        device,
        ScanJob {
            options,
            genome,
            spans,
        },
    )?;
    crate::say!(
        "scored {} windows ({:.0} windows/s); {} left out for Ns, {} regions shorter than the window; wrote {}",
        summary.windows,
        summary.windows_per_second,
        summary.skipped_for_n,
        summary.too_short,
        out.display()
    );
    Ok(summary)
}

/// Opens a genome, first writing its indexes (`.fai`, and `.gzi` for bgzip) when one is missing,
/// saying so on stderr.
pub(crate) fn open_genome_indexing(genome: &Path) -> Result<Genome> {
    let (opened, written) = open_indexing(genome)?;
    if let Some(message) = indexing_message(genome, &written) {
        eprintln!("sepfc: {message}");
    }
    Ok(opened)
}
