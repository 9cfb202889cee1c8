//! `sepfc variants`: the effect of each ALT allele of a VCF on a model's predictions, scored on
//! REF and ALT windows built from the genome (see [`crate::variants`]). The VCF is read record
//! by record and scored batch by batch, and the genome read through its index, so memory stays
//! the same whatever the sizes of the two.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use super::device::{BackendTask, Device, run_on};
use crate::Result;
use crate::backend::Backend;
use crate::data::fasta::input_error;
use crate::data::genome::Genome;
use crate::data::vcf::{Allele, Variant, VcfReader};
use crate::dna::reverse_complement;
use crate::io::AtomicFile;
use crate::model::Model;
use crate::progress::CountBar;
use crate::training::weights_path;
use crate::variants::{Windows, allele_windows};

/// What `sepfc variants` does.
#[derive(Debug, Clone, clap::Args)]
pub struct VariantsOptions {
    /// A training output folder or a weights file.
    #[arg(long)]
    pub model: PathBuf,
    /// The genome FASTA, plain or compressed with bgzip; its indexes are created beside it
    /// when missing.
    #[arg(long)]
    pub genome: PathBuf,
    /// The variants: a VCF, plain, gzip or bgzip.
    #[arg(long)]
    pub vcf: PathBuf,
    /// The TSV to write: `chrom pos id ref alt`, then `{task}_ref {task}_alt
    /// {task}_logit_diff` for each task, one row per ALT allele.
    #[arg(long)]
    pub out: PathBuf,
    /// Alleles per batch (each is two windows, four with --rc-average).
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Average each window's probability with its reverse complement's, and the logit
    /// difference with the reverse complements' difference.
    #[arg(long)]
    pub rc_average: bool,
    /// Leave out, and count, alleles whose REF disagrees with the genome instead of stopping.
    #[arg(long)]
    pub skip_ref_mismatch: bool,
}

/// What a run of `sepfc variants` did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VariantsSummary {
    /// VCF records read.
    pub records: u64,
    /// ALT alleles scored and written.
    pub scored: u64,
    /// Symbolic, breakend, `*` and `.` ALT alleles left out.
    pub not_sequence: u64,
    /// Alleles whose windows would run off a chromosome end.
    pub near_chromosome_end: u64,
    /// Alleles left out for a REF that disagrees with the genome (`--skip-ref-mismatch`).
    pub ref_mismatches: u64,
    /// Scored alleles per second, reading and writing included.
    pub alleles_per_second: f64,
}

/// One allele waiting in a batch: its row's first columns and its two windows.
struct Pending {
    columns: String,
    reference: Vec<u8>,
    alternate: Vec<u8>,
}

struct VariantsJob {
    options: VariantsOptions,
    genome: Genome,
}

impl BackendTask for VariantsJob {
    type Output = VariantsSummary;

    fn run<B: Backend + 'static>(self, backend: &B) -> Result<VariantsSummary> {
        let o = &self.options;
        let model = Model::load(backend, &weights_path(&o.model))?;
        let width = model.input_length();
        let mut reader = VcfReader::open(&o.vcf)?;
        let mut out = AtomicFile::create(&o.out)?;
        let mut header = String::from("chrom\tpos\tid\tref\talt");
        for task in model.task_names() {
            header += &format!("\t{task}_ref\t{task}_alt\t{task}_logit_diff");
        }
        writeln!(out, "{header}").map_err(|e| out.error(e))?;
        let started = Instant::now();
        let bar = CountBar::new("alleles scored");
        let mut summary = VariantsSummary::default();
        let batch = o.batch_size.max(1);
        let mut pending: Vec<Pending> = Vec::with_capacity(batch);
        while let Some(variant) = reader.next_variant()? {
            summary.records += 1;
            for allele in &variant.alts {
                let Allele::Bases(alt) = allele else {
                    summary.not_sequence += 1;
                    continue;
                };
                match self.windows_of(&variant, alt, width)? {
                    Windows::Scored {
                        reference,
                        alternate,
                    } => pending.push(Pending {
                        columns: format!(
                            "{}\t{}\t{}\t{}\t{alt}",
                            variant.chrom, variant.pos, variant.id, variant.reference
                        ),
                        reference,
                        alternate,
                    }),
                    Windows::NearChromosomeEnd => summary.near_chromosome_end += 1,
                    Windows::RefMismatch { .. } => summary.ref_mismatches += 1,
                }
                if pending.len() == batch {
                    score(backend, &model, &pending, o.rc_average, &mut out)?;
                    summary.scored += pending.len() as u64;
                    bar.inc(pending.len() as u64);
                    pending.clear();
                }
            }
        }
        if !pending.is_empty() {
            score(backend, &model, &pending, o.rc_average, &mut out)?;
            summary.scored += pending.len() as u64;
        }
        bar.finish();
        out.commit()?;
        summary.alleles_per_second = summary.scored as f64 / started.elapsed().as_secs_f64();
        Ok(summary)
    }
}

impl VariantsJob {
    /// The allele's windows; a REF mismatch is an error naming the VCF line unless
    /// `--skip-ref-mismatch`.
    fn windows_of(&self, variant: &Variant, alt: &str, width: usize) -> Result<Windows> {
        let at = |e: crate::Error| {
            let vcf = self.options.vcf.display().to_string();
            input_error(&vcf, Some(variant.line), e.to_string())
        };
        let windows = allele_windows(
            &self.genome,
            &variant.chrom,
            variant.pos,
            &variant.reference,
            alt,
            width,
        )
        .map_err(at)?;
        if let Windows::RefMismatch { genome } = &windows
            && !self.options.skip_ref_mismatch
        {
            return Err(input_error(
                &self.options.vcf.display().to_string(),
                Some(variant.line),
                format!(
                    "REF '{}' disagrees with the genome, which has '{genome}' at {}:{} (is the VCF on another assembly? --skip-ref-mismatch leaves such alleles out)",
                    variant.reference, variant.chrom, variant.pos
                ),
            ));
        }
        Ok(windows)
    }
}

/// Scores a batch and writes its rows: per task the REF and ALT predictions (probabilities, or
/// for regression models values or rates, [`crate::backend::Loss::predict`]) and the ALT
/// logit minus the REF logit (each averaged with the reverse complements' with `rc_average`).
fn score<B: Backend>(
    backend: &B,
    model: &Model<B>,
    batch: &[Pending],
    rc_average: bool,
    out: &mut AtomicFile,
) -> Result<()> {
    let n = batch.len();
    let mut windows: Vec<Vec<u8>> = batch.iter().map(|p| p.reference.clone()).collect();
    windows.extend(batch.iter().map(|p| p.alternate.clone()));
    if rc_average {
        let reverse: Vec<Vec<u8>> = windows.iter().map(|w| reverse_complement(w)).collect();
        windows.extend(reverse);
    }
    let logits = crate::inference::logits(backend, model, &windows, windows.len())?;
    let kind = model.loss();
    let predictions: Vec<f32> = logits.iter().map(|&z| kind.predict(z)).collect();
    let tasks = model.tasks();
    // value of window `k` of strand `strand` (0 forward, 1 reverse) for task `t`
    let at = |values: &[f32], strand: usize, k: usize, t: usize| {
        values[(strand * 2 * n + k) * tasks + t]
    };
    let strands = if rc_average { 2 } else { 1 };
    for (i, pending) in batch.iter().enumerate() {
        let mut row = pending.columns.clone();
        for t in 0..tasks {
            let mean = |f: &dyn Fn(usize) -> f32| (0..strands).map(f).sum::<f32>() / strands as f32;
            let p_ref = mean(&|s| at(&predictions, s, i, t));
            let p_alt = mean(&|s| at(&predictions, s, n + i, t));
            let diff = mean(&|s| at(&logits, s, n + i, t) - at(&logits, s, i, t));
            row += &format!("\t{p_ref:.6}\t{p_alt:.6}\t{diff:.6}");
        }
        writeln!(out, "{row}").map_err(|e| out.error(e))?;
    }
    Ok(())
}

/// Runs `sepfc variants`, saying on stderr what was left out.
pub fn run(options: VariantsOptions, device: Device) -> Result<VariantsSummary> {
    let weights = weights_path(&options.model);
    super::outputs::refuse_overwriting_inputs(
        ("--out", &options.out),
        &[
            ("--vcf", &options.vcf),
            ("--genome", &options.genome),
            ("--model", &weights),
        ],
    )?;
    // the VCF's first record is read before any work: a wrong file fails at once
    VcfReader::open(&options.vcf)?.next_variant()?;
    let genome = super::scan::open_genome_indexing(&options.genome)?;
    let out = options.out.clone();
    let summary = run_on(device, VariantsJob { options, genome })?;
    crate::say!(
        "wrote {} allele scores from {} VCF records to {} ({:.0} alleles/s)",
        summary.scored,
        summary.records,
        out.display(),
        summary.alleles_per_second
    );
    let left_out = [
        (
            summary.not_sequence,
            "symbolic, breakend, '*' or '.' ALT alleles",
        ),
        (
            summary.near_chromosome_end,
            "alleles too near a chromosome end for a window",
        ),
        (
            summary.ref_mismatches,
            "alleles whose REF disagrees with the genome",
        ),
    ];
    for (count, what) in left_out {
        if count > 0 {
            eprintln!("sepfc: left out {count} {what}");
        }
    }
    Ok(summary)
}
