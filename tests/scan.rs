//! `sepfc scan` on a small genome built here: every bedGraph value equals the model's
//! prediction on the same window, windows tile as documented, and a chromosome shorter than
//! the window, N runs and an unsorted, overlapping regions BED behave as documented.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::rng;
use rand::Rng;
use sepfc::backend::cpu::Cpu;
use sepfc::commands::Device;
use sepfc::commands::scan::{ScanOptions, run, task_paths};
use sepfc::config::Config;
use sepfc::data::tiling::reported_interval;
use sepfc::model::Model;

const LENGTH: usize = 24;
const STRIDE: usize = 7;

const MODEL: &str = r#"
    [[layers]]
    type = "revcomp_conv1d"
    filters = 3
    kernel_size = 5
    activation = "relu"
    [[layers]]
    type = "maxpool1d"
    pool_size = 2
    [[layers]]
    type = "separable_fc"
    units = 4
    activation = "relu"
    [[layers]]
    type = "dense"
    units = 2
"#;

/// Chromosome names and sequences, in file order.
type Genome = Vec<(String, Vec<u8>)>;

/// The genome: `chrA` 300 bp, `chrShort` 20 bp (shorter than a window), `chrN` 200 bp with
/// Ns at 60..90.
fn genome(seed: u64) -> Genome {
    let mut r = rng(seed);
    let mut random =
        |n: usize| -> Vec<u8> { (0..n).map(|_| b"ACGT"[r.random_range(0..4)]).collect() };
    let mut with_ns = random(200);
    with_ns[60..90].fill(b'N');
    vec![
        ("chrA".into(), random(300)),
        ("chrShort".into(), random(20)),
        ("chrN".into(), with_ns),
    ]
}

fn write_fasta(path: &Path, chroms: &[(String, Vec<u8>)]) {
    let mut text = String::new();
    for (name, seq) in chroms {
        text += &format!(">{name}\n");
        for line in seq.chunks(60) {
            text += std::str::from_utf8(line).unwrap();
            text.push('\n');
        }
    }
    std::fs::write(path, text).unwrap();
}

/// `(chrom, start, end) -> value` of a bedGraph, checking it is sorted within chromosomes.
fn read_bedgraph(path: &Path) -> Vec<(String, u64, u64, f32)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("track type=bedGraph"));
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 4, "{line}");
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

/// The probabilities `model` gives each window, keyed by the interval scan reports it on.
fn expected(
    model: &Model<Cpu>,
    chroms: &[(String, Vec<u8>)],
    windows: &[(&str, u64)],
) -> BTreeMap<(String, u64), Vec<f32>> {
    let seqs: Vec<Vec<u8>> = windows
        .iter()
        .map(|&(chrom, start)| {
            let seq = &chroms.iter().find(|c| c.0 == chrom).unwrap().1;
            seq[start as usize..start as usize + LENGTH].to_vec()
        })
        .collect();
    let logits = sepfc::inference::logits(&Cpu, model, &seqs, 5).unwrap();
    windows
        .iter()
        .zip(logits.chunks(2))
        .map(|(&(chrom, start), z)| {
            let (a, _) = reported_interval(start, LENGTH as u64, STRIDE as u64);
            let p = z.iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect();
            ((chrom.to_string(), a), p)
        })
        .collect()
}

/// A folder with the genome of `seed` (`genome.fa`, not indexed) and a model of random
/// weights saved as `model.safetensors`.
fn setup(seed: u64) -> (tempfile::TempDir, Genome, Model<Cpu>, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let chroms = genome(seed);
    write_fasta(&dir.path().join("genome.fa"), &chroms);
    let config = Config::from_toml_str(MODEL).unwrap();
    let model = Model::new(&Cpu, config, LENGTH, seed + 2).unwrap();
    let model_path = dir.path().join("model.safetensors");
    model.save(&Cpu, &model_path).unwrap();
    (dir, chroms, model, model_path)
}

fn options(dir: &Path, model: &Path, regions: Option<&Path>) -> ScanOptions {
    ScanOptions {
        model: model.to_path_buf(),
        genome: dir.join("genome.fa"),
        regions: regions.map(Path::to_path_buf),
        chroms: Vec::new(),
        window: None,
        stride: STRIDE,
        out: dir.join("scan.bedgraph"),
        batch_size: 4,
        max_n_fraction: 0.5,
        bigwig: false,
    }
}

/// Checks the two task bedGraphs of a scan against `expected` (to `atol`), in order.
fn check_outputs(
    out: &Path,
    expected: &BTreeMap<(String, u64), Vec<f32>>,
    order: &[&str],
    atol: f32,
) {
    let paths = task_paths(out, &["task0".into(), "task1".into()]);
    for (task, path) in paths.iter().enumerate() {
        let rows = read_bedgraph(path);
        assert_eq!(rows.len(), expected.len(), "{}", path.display());
        let chroms: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let mut seen: Vec<&str> = chroms.clone();
        seen.dedup();
        assert_eq!(
            seen,
            order,
            "chromosomes out of order in {}",
            path.display()
        );
        for pair in rows.windows(2) {
            if pair[0].0 == pair[1].0 {
                assert!(pair[0].2 <= pair[1].1, "overlap or unsorted: {pair:?}");
            }
        }
        for (chrom, a, b, value) in &rows {
            assert_eq!(b - a, STRIDE as u64);
            let want = expected[&(chrom.clone(), *a)][task];
            assert!(
                (value - want).abs() <= atol,
                "{chrom}:{a} task {task}: {value} vs {want}"
            );
        }
    }
}

#[test]
fn a_whole_genome_scan_equals_predictions_on_the_same_windows() {
    let (dir, chroms, model, model_path) = setup(1);

    let summary = run(options(dir.path(), &model_path, None), Device::Cpu).unwrap();
    // chrA: starts 0, 7, ..., 273 (40 windows); chrN: 26 windows, of which those with more
    // than 12 of their 24 bases in the N run 60..90 are left out
    let mut windows: Vec<(&str, u64)> = (0..=276 / 7).map(|k| ("chrA", 7 * k)).collect();
    let n_windows: Vec<u64> = (0..=176 / 7).map(|k| 7 * k).collect();
    let mut skipped = 0;
    for &start in &n_windows {
        let ns = (start.max(60)..(start + 24).min(90)).count();
        if ns > 12 {
            skipped += 1;
        } else {
            windows.push(("chrN", start));
        }
    }
    assert!(skipped > 0 && skipped < n_windows.len());
    assert_eq!(summary.windows, windows.len() as u64);
    assert_eq!(summary.skipped_for_n, skipped as u64);
    assert_eq!(summary.too_short, 1, "chrShort has no window");
    assert!(
        dir.path().join("genome.fa.fai").exists(),
        "the index was created"
    );
    check_outputs(
        &dir.path().join("scan.bedgraph"),
        &expected(&model, &chroms, &windows),
        &["chrA", "chrN"],
        1e-6,
    );

    // the genome compressed with bgzip (in blocks of 100 bytes, so that windows cross them;
    // its indexes written by the scan) gives the same files
    let compressed = dir.path().join("genome.fa.gz");
    let text = std::fs::read(dir.path().join("genome.fa")).unwrap();
    let mut writer = noodles_bgzf::io::Writer::new(std::fs::File::create(&compressed).unwrap());
    for block in text.chunks(100) {
        std::io::Write::write_all(&mut writer, block).unwrap();
        std::io::Write::flush(&mut writer).unwrap();
    }
    writer.finish().unwrap();
    let mut from_bgzip = options(dir.path(), &model_path, None);
    from_bgzip.genome = compressed.clone();
    from_bgzip.out = dir.path().join("bgzip.bedgraph");
    run(from_bgzip, Device::Cpu).unwrap();
    assert!(sepfc::data::genome::gzi_path(&compressed).exists());
    // a planned scan writes bedGraphs only: --bigwig is refused, not dropped
    let mut planned = options(dir.path(), &model_path, None);
    planned.bigwig = true;
    let refused = sepfc::commands::scan_plan::write_plan(
        &planned,
        Device::Cpu,
        &dir.path().join("plan"),
        Path::new("sepfc"),
    )
    .unwrap_err()
    .to_string();
    assert!(refused.contains("--bigwig with --plan"), "{refused}");
    assert!(!dir.path().join("plan").exists());
    let tasks = ["task0".to_string(), "task1".to_string()];
    let plain = task_paths(&dir.path().join("scan.bedgraph"), &tasks);
    let bgzip = task_paths(&dir.path().join("bgzip.bedgraph"), &tasks);
    for (a, b) in plain.iter().zip(&bgzip) {
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }
}

#[test]
fn unsorted_overlapping_regions_are_scanned_once_in_genome_order() {
    let (dir, chroms, model, model_path) = setup(2);
    let regions = dir.path().join("regions.bed");
    // BED6 (name, score and strand ignored); chrN before chrA, and two overlapping chrA
    // regions that merge into 10..150
    std::fs::write(
        &regions,
        "chrN\t100\t200\tp1\t0\t+\nchrA\t80\t150\tp2\t5\t-\nchrA\t10\t100\t.\t0\t.\nchrShort\t0\t20\tp4\t1\t+\n",
    )
    .unwrap();
    let summary = run(
        options(dir.path(), &model_path, Some(&regions)),
        Device::Cpu,
    )
    .unwrap();
    let mut windows: Vec<(&str, u64)> =
        (0..=(126 - 10) / 7).map(|k| ("chrA", 10 + 7 * k)).collect();
    windows.extend((0..=(176 - 100) / 7).map(|k| ("chrN", 100 + 7 * k)));
    assert_eq!(summary.windows, windows.len() as u64);
    assert_eq!(summary.too_short, 1);
    check_outputs(
        &dir.path().join("scan.bedgraph"),
        &expected(&model, &chroms, &windows),
        &["chrA", "chrN"],
        1e-6,
    );

    // a region on a chromosome the genome lacks names the file and line
    std::fs::write(&regions, "chrA\t0\t50\nchrZ\t0\t50\n").unwrap();
    let err = run(
        options(dir.path(), &model_path, Some(&regions)),
        Device::Cpu,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("regions.bed:2:") && err.contains("chrZ"),
        "{err}"
    );
    // one chromosome of the regions only, as a shard of a scan would
    std::fs::write(&regions, "chrN\t100\t200\nchrA\t10\t150\n").unwrap();
    let mut shard = options(dir.path(), &model_path, Some(&regions));
    shard.chroms = vec!["chrN".into()];
    let summary = run(shard, Device::Cpu).unwrap();
    let n_windows: Vec<(&str, u64)> = (0..=(176 - 100) / 7)
        .map(|k| ("chrN", 100 + 7 * k))
        .collect();
    assert_eq!(summary.windows, n_windows.len() as u64);
    check_outputs(
        &dir.path().join("scan.bedgraph"),
        &expected(&model, &chroms, &n_windows),
        &["chrN"],
        1e-6,
    );
    let mut unknown = options(dir.path(), &model_path, None);
    unknown.chroms = vec!["chrQ".into()];
    let err = run(unknown, Device::Cpu).unwrap_err().to_string();
    assert!(
        err.contains("--chrom chrQ") && err.contains("genome.fa"),
        "{err}"
    );
    // and a window other than the model's length is refused
    let mut wrong = options(dir.path(), &model_path, None);
    wrong.window = Some(LENGTH + 1);
    let err = run(wrong, Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("--window") && err.contains("24 bp"), "{err}");
}

#[test]
fn a_scan_on_the_gpu_matches_the_cpu_predictions() {
    if common::gpu().is_none() {
        return;
    }
    let (dir, chroms, model, model_path) = setup(5);
    let summary = run(options(dir.path(), &model_path, None), Device::Gpu).unwrap();
    let mut windows: Vec<(&str, u64)> = (0..=276 / 7).map(|k| ("chrA", 7 * k)).collect();
    for start in (0..=176 / 7).map(|k| 7 * k) {
        if (start.max(60)..(start + 24).min(90)).count() <= 12 {
            windows.push(("chrN", start));
        }
    }
    assert_eq!(summary.windows, windows.len() as u64);
    // f32 sums in another order, then the 6-decimal rounding
    check_outputs(
        &dir.path().join("scan.bedgraph"),
        &expected(&model, &chroms, &windows),
        &["chrA", "chrN"],
        1e-5,
    );
}

fn sepfc(args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_sepfc"))
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "sepfc {args:?} failed");
}

#[test]
fn a_planned_scan_run_by_snakemake_equals_the_direct_scan_and_reruns_only_what_is_missing() {
    let Some(snakemake) = common::snakemake() else {
        return;
    };
    let (dir, _, _, model_path) = setup(6);
    let d = dir.path();
    let (model, genome) = (model_path.to_str().unwrap(), d.join("genome.fa"));
    let genome = genome.to_str().unwrap();
    let common = [
        "--model", model, "--genome", genome, "--stride", "7", "--device", "cpu",
    ];
    let planned = d.join("planned.bedgraph");
    let plan = d.join("plan");
    let mut args = vec!["scan"];
    args.extend(common);
    args.extend([
        "--out",
        planned.to_str().unwrap(),
        "--plan",
        plan.to_str().unwrap(),
    ]);
    sepfc(&args);
    let run_workflow = || {
        assert!(
            common::run_workflow(&snakemake, &plan.join("Snakefile"), d),
            "snakemake failed"
        );
    };
    run_workflow();
    let direct = d.join("direct.bedgraph");
    let mut args = vec!["scan"];
    args.extend(common);
    args.extend(["--out", direct.to_str().unwrap()]);
    sepfc(&args);
    let tasks = ["task0".to_string(), "task1".to_string()];
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    for (p, q) in task_paths(&planned, &tasks)
        .iter()
        .zip(task_paths(&direct, &tasks))
    {
        assert_eq!(
            read(p),
            read(&q),
            "{} differs from the direct scan",
            p.display()
        );
    }
    // only chrA and chrN have windows; delete chrN's shard and the joined files (Snakemake
    // leaves a finished result alone when only an intermediate is gone) and run again: chrA's
    // shard is kept as it was, chrN's is made again, and the joined result is the same
    let shard = |chrom: &str| {
        task_paths(
            &plan.join("shards").join(chrom).join("planned.bedgraph"),
            &tasks,
        )
    };
    assert!(
        !plan.join("shards").join("chrShort").exists(),
        "a chromosome without windows got a job"
    );
    let kept_time = std::fs::metadata(&shard("chrA")[0])
        .unwrap()
        .modified()
        .unwrap();
    for p in shard("chrN")
        .into_iter()
        .chain(task_paths(&planned, &tasks))
    {
        std::fs::remove_file(p).unwrap();
    }
    run_workflow();
    assert!(shard("chrN").iter().all(|p| p.exists()));
    let after = std::fs::metadata(&shard("chrA")[0])
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(kept_time, after, "chrA's shard was recomputed");
    for (p, q) in task_paths(&planned, &tasks)
        .iter()
        .zip(task_paths(&direct, &tasks))
    {
        assert_eq!(read(p), read(&q), "{} differs after the rerun", p.display());
    }
}
