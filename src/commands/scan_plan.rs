//! `sepfc scan --plan DIR`: the same scan as a Snakemake workflow, one job per chromosome
//! (`sepfc scan --chrom`) and a final job that joins the shards, per task, in the genome's
//! order. Snakemake then runs it on a laptop (`--cores`) or a cluster (its executor flags).

use std::path::{Path, PathBuf};

use super::device::Device;
use super::scan::{ScanOptions, checked_window, scan_spans, task_paths};
use super::workflow::{absolute, python_list, python_string, shell_word, write_if_changed};
use crate::data::tiling::window_starts;
use crate::model::Model;
use crate::{Error, Result};

/// Writes `dir/Snakefile` for the scan `options` describes, run by the binary `sepfc`, and
/// returns its path. Only chromosomes with at least one window get a job.
pub fn write_plan(
    options: &ScanOptions,
    device: Device,
    dir: &Path,
    sepfc: &Path,
) -> Result<PathBuf> {
    if options.bigwig {
        return Err(Error::Config(
            "--bigwig with --plan: the planned scan writes bedGraphs only; run the scan without --plan for bigWigs, or convert the joined bedGraphs (e.g. with UCSC bedGraphToBigWig)".into(),
        ));
    }
    let spans = scan_spans(options)?.1;
    let model = Model::load(
        &crate::backend::cpu::Cpu,
        &crate::training::weights_path(&options.model),
    )?;
    let window = checked_window(options, model.input_length())? as u64;
    let mut chroms: Vec<&str> = Vec::new();
    for span in &spans {
        let has_window = window_starts(span, window, options.stride as u64)
            .next()
            .is_some();
        if has_window && chroms.last() != Some(&span.chrom.as_str()) {
            chroms.push(&span.chrom);
        }
    }
    let tasks = model.task_names().to_vec();
    let outs = task_paths(&options.out, &tasks);
    let out_name = options
        .out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "scan.bedgraph".into());
    if chroms.is_empty() {
        return Err(Error::Config(format!(
            "no chromosome or region of {} is as long as the model's {window} bp window",
            options.genome.display()
        )));
    }
    let outs = outs
        .iter()
        .map(|p| absolute(p))
        .collect::<Result<Vec<_>>>()?;
    // the shard of chromosome {chrom}, as a Snakemake pattern
    let shard_out = Path::new(&absolute(&dir.join("shards"))?)
        .join("{chrom}")
        .join(&out_name);
    let shard_outs: Vec<String> = task_paths(&shard_out, &tasks)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut command = format!(
        "{} scan --model {} --genome {} --stride {} --batch-size {} --max-n-fraction {} --device {}",
        shell_word(&absolute(sepfc)?),
        shell_word(&absolute(&options.model)?),
        shell_word(&absolute(&options.genome)?),
        options.stride,
        options.batch_size,
        options.max_n_fraction,
        device
    );
    if let Some(regions) = &options.regions {
        command += &format!(" --regions {}", shell_word(&absolute(regions)?));
    }
    let shard_flag = shard_out
        .display()
        .to_string()
        .replace("{chrom}", "{wildcards.chrom}");
    command += &format!(
        " --chrom {{wildcards.chrom}} --out {}",
        shell_word(&shard_flag)
    );
    let text = format!(
        r#"# Written by `sepfc scan --plan`: a genome-wide scan as one job per chromosome and a
# final job that joins the shards of each task in the genome's order.
#   snakemake --snakefile {snakefile} --cores 4
# or any of Snakemake's executor flags to run the jobs on a cluster.

CHROMS = {chroms}
OUTS = {outs}
SHARDS = {shards}

rule all:
    input: OUTS

rule shard:
    output: SHARDS
    shell: {command}

rule join:
    input: [expand(s, chrom=CHROMS) for s in SHARDS]
    output: OUTS
    run:
        for task, out in enumerate(output):
            with open(out, "w") as joined:
                for i, chrom in enumerate(CHROMS):
                    with open(SHARDS[task].format(chrom=chrom)) as shard:
                        lines = shard.readlines()
                    joined.writelines(lines if i == 0 else lines[1:])
"#,
        snakefile = absolute(&dir.join("Snakefile"))?,
        command = python_string(&command),
        chroms = python_list(&chroms),
        outs = python_list(&outs),
        shards = python_list(&shard_outs),
    );
    let path = dir.join("Snakefile");
    write_if_changed(&path, text.as_bytes())?;
    Ok(path)
}
