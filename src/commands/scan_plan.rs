//! `sepfc scan --plan DIR`: the same scan as a Snakemake workflow, one job per chromosome
//! (`sepfc scan --chrom`) and a final job that joins the shards, per task, in the genome's
//! order. Snakemake then runs it on a laptop (`--cores`) or a cluster (its executor flags).

use std::path::{Path, PathBuf};

use super::device::Device;
use super::scan::{ScanOptions, checked_window, scan_spans, task_paths};
use crate::data::tiling::window_starts;
use crate::model::{Model, write_atomically};
use crate::{Error, Result};

/// `path` made absolute, as text, so that the workflow runs from any directory.
fn absolute(path: &Path) -> Result<String> {
    let absolute = std::path::absolute(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(absolute.display().to_string())
}

/// `text` as one shell word.
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Writes `dir/Snakefile` for the scan `options` describes, run by the binary `sepfc`, and
/// returns its path. Only chromosomes with at least one window get a job.
pub fn write_plan(
    options: &ScanOptions,
    device: Device,
    dir: &Path,
    sepfc: &Path,
) -> Result<PathBuf> {
    let spans = scan_spans(options)?.1;
    let model = Model::load(
        &crate::backend::cpu::Cpu,
        &super::predict::weights_path(&options.model),
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
    let shard_out = dir.join("shards").join("{chrom}").join(&out_name);
    let shard_outs = task_paths(&shard_out, &tasks);
    if chroms.is_empty() {
        return Err(Error::Config(format!(
            "no chromosome or region of {} is as long as the model's {window} bp window",
            options.genome.display()
        )));
    }
    let list = |items: Vec<String>| format!("[{}]", items.join(", "));
    let python = |paths: &[PathBuf]| -> Result<Vec<String>> {
        paths
            .iter()
            .map(|p| Ok(format!("{:?}", absolute(p)?)))
            .collect()
    };
    let mut command = format!(
        "{} scan --model {} --genome {} --stride {} --batch-size {} --max-n-fraction {} --device {}",
        shell_quoted(&absolute(sepfc)?),
        shell_quoted(&absolute(&options.model)?),
        shell_quoted(&absolute(&options.genome)?),
        options.stride,
        options.batch_size,
        options.max_n_fraction,
        device
    );
    if let Some(regions) = &options.regions {
        command += &format!(" --regions {}", shell_quoted(&absolute(regions)?));
    }
    let shard_flag = absolute(&shard_out)?.replace("{chrom}", "{wildcards.chrom}");
    command += &format!(
        " --chrom {{wildcards.chrom}} --out {}",
        shell_quoted(&shard_flag)
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
    shell: {command:?}

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
        chroms = list(chroms.iter().map(|c| format!("{c:?}")).collect()),
        outs = list(python(&outs)?),
        shards = list(python(&shard_outs)?),
    );
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let path = dir.join("Snakefile");
    write_atomically(&path, text.as_bytes())?;
    Ok(path)
}
