//! sepfc's assay-data readers and writers against independent tools from PyPI (pysam, pyfaidx,
//! NumPy; installed on first use into a virtual environment under the target folder): genome
//! windows fetched from a plain and a bgzip-compressed genome, the `.fai` and `.gzi` indexes
//! sepfc writes, and `sepfc variants` against `tests/python/reference_variants.py` (the VCF read
//! by pysam, the windows built by the contract's rule, the logits by the NumPy model), and the
//! bigWigs of `sepfc scan --bigwig` read by pyBigWig, and regression on a bigWig written by
//! pyBigWig (targets, losses, Pearson and Spearman) against `tests/python/reference_signal.py`.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::data::genome::{Genome, fai_path, gzi_path, write_fai};

/// The pinned PyPI packages of `assay_check.py`.
const REQUIREMENTS: [&str; 7] = [
    "pysam==0.24.1",
    "pyfaidx==0.9.2.2",
    "biopython==1.88",
    "pyBigWig==0.3.29",
    "numpy==2.4.6",
    "scipy==1.17.1",
    "safetensors==0.8.0",
];

/// The virtual environment's Python, or `None` (test skipped) off CI when it cannot be made.
fn python() -> Option<PathBuf> {
    common::python_tool("assay-venv", &REQUIREMENTS, "python")
}

/// Runs the script `tests/python/{script}` with `args`; its standard output.
fn run_script(python: &Path, script: &str, args: &[&Path]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let output = Command::new(python).arg(path).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{script} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `assay_check.py` with `args`; its standard output.
fn assay_check(python: &Path, args: &[&Path]) -> String {
    run_script(python, "assay_check.py", args)
}

/// A random genome: sequences of the given lengths in 60-base lines, with lower-case and N runs.
fn random_genome(rng: &mut StdRng, chroms: &[(&str, usize)]) -> String {
    let mut text = String::new();
    for (name, length) in chroms {
        text.push_str(&format!(">{name} random\n"));
        let mut seq: Vec<u8> = (0..*length)
            .map(|_| b"ACGT"[rng.random_range(0..4)])
            .collect();
        for _ in 0..length / 5000 + 1 {
            let from = rng.random_range(0..*length);
            let to = (from + rng.random_range(1..400)).min(*length);
            let n = rng.random_bool(0.5);
            for b in &mut seq[from..to] {
                *b = if n { b'N' } else { b.to_ascii_lowercase() };
            }
        }
        for line in seq.chunks(60) {
            text.push_str(std::str::from_utf8(line).unwrap());
            text.push('\n');
        }
    }
    text
}

fn bgzip(text: &str, path: &Path) {
    let mut writer = noodles_bgzf::io::Writer::new(std::fs::File::create(path).unwrap());
    writer.write_all(text.as_bytes()).unwrap();
    writer.finish().unwrap();
}

#[test]
fn genome_windows_and_indexes_agree_with_pysam_and_pyfaidx() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = StdRng::seed_from_u64(7);
    let chroms = [("chr1", 150_000), ("chr2", 70_001), ("chrM", 500)];
    let text = random_genome(&mut rng, &chroms);
    let plain = d.join("genome.fa");
    std::fs::write(&plain, &text).unwrap();
    let compressed = d.join("genome.fa.gz");
    bgzip(&text, &compressed);
    for genome in [&plain, &compressed] {
        assay_check(&python, &[Path::new("index"), genome]);
    }

    // sepfc's indexes are samtools' byte for byte (the .gzi of 64 KiB blocks: 3 after the first)
    for (genome, name) in [(&plain, "ours.fa"), (&compressed, "ours.fa.gz")] {
        let ours = d.join(name);
        std::fs::copy(genome, &ours).unwrap();
        write_fai(&ours).unwrap();
        let read = |p: PathBuf| std::fs::read(p).unwrap();
        assert_eq!(read(fai_path(&ours)), read(fai_path(genome)), "{name}.fai");
        if genome == &compressed {
            let gzi = read(gzi_path(&ours));
            assert_eq!(gzi, read(gzi_path(genome)), "{name}.gzi");
            assert_eq!(u64::from_le_bytes(gzi[..8].try_into().unwrap()), 3);
        }
    }

    // windows anywhere, at the ends, and across the compressed blocks' boundaries
    let mut regions: Vec<(&str, u64, u64)> = Vec::new();
    for &(chrom, length) in &chroms {
        let length = length as u64;
        regions.extend([
            (chrom, 0, 1),
            (chrom, length - 1, length),
            (chrom, 0, length.min(3000)),
        ]);
        for _ in 0..100 {
            let start = rng.random_range(0..length);
            let end = (start + rng.random_range(1..2500)).min(length);
            regions.push((chrom, start, end));
        }
    }
    for boundary in [65_280u64, 130_560] {
        // near the uncompressed ends of the first blocks (inside chr1)
        regions.push(("chr1", boundary - 700, boundary + 700));
    }
    let listed: String = regions
        .iter()
        .map(|(c, s, e)| format!("{c}\t{s}\t{e}\n"))
        .collect();
    let regions_file = d.join("regions.tsv");
    std::fs::write(&regions_file, listed).unwrap();
    for genome in [&plain, &compressed] {
        let sepfc = Genome::open(genome).unwrap();
        let theirs = assay_check(&python, &[Path::new("windows"), genome, &regions_file]);
        let lines: Vec<&str> = theirs.lines().collect();
        assert_eq!(lines.len(), regions.len());
        for (&(chrom, start, end), line) in regions.iter().zip(lines) {
            let ours = String::from_utf8(sepfc.fetch(chrom, start, end).unwrap()).unwrap();
            let (by_pysam, by_pyfaidx) = line.split_once('\t').unwrap();
            assert_eq!(ours, by_pysam, "{} {chrom}:{start}-{end}", genome.display());
            assert_eq!(
                ours,
                by_pyfaidx,
                "{} {chrom}:{start}-{end}",
                genome.display()
            );
        }
    }
}

/// A variant line: CHROM POS ID REF ALT, then empty QUAL FILTER INFO.
fn vcf_line(chrom: &str, pos: u64, id: &str, reference: &str, alt: &str) -> String {
    format!("{chrom}\t{pos}\t{id}\t{reference}\t{alt}\t.\tPASS\t.\n")
}

fn random_bases(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| "ACGT".as_bytes()[rng.random_range(0..4)] as char)
        .collect()
}

/// A VCF on `genome` of every kind of allele: SNVs, insertions, deletions and substitutions of
/// several lengths, multi-allelic lines (with symbolic, `*` and `.` alleles among them), and
/// variants too near either chromosome end for a window of `width`. Also the number of alleles
/// that are not bases.
fn variants_vcf(rng: &mut StdRng, genome: &[(String, String)], width: u64) -> (String, usize) {
    let mut text = String::from("##fileformat=VCFv4.2\n");
    for (name, seq) in genome {
        text += &format!("##contig=<ID={name},length={}>\n", seq.len());
    }
    text += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    let mut not_bases = 0;
    for (name, seq) in genome {
        let len = seq.len() as u64;
        let bases =
            |pos: u64, n: u64| seq[(pos - 1) as usize..(pos - 1 + n) as usize].to_uppercase();
        let mut positions: Vec<u64> = (0..60).map(|_| rng.random_range(1..=len - 90)).collect();
        // at, just inside and just outside the ends' limits
        positions.extend([
            1,
            width / 2,
            width / 2 + 1,
            len - width / 2,
            len - width / 2 + 1,
            len,
        ]);
        positions.sort();
        for (k, pos) in positions.into_iter().enumerate() {
            let id = if k % 3 == 0 {
                ".".to_string()
            } else {
                format!("rs{k}")
            };
            let reference = bases(pos, 1);
            let other = |rng: &mut StdRng| loop {
                let b = random_bases(rng, 1);
                if b != reference {
                    break b;
                }
            };
            let inserted = rng.random_range(1..=2 * width as usize);
            let alt = match k % 6 {
                0 => other(rng),
                1 => format!("{reference}{}", random_bases(rng, inserted)),
                2 if pos + 80 <= len => {
                    let n = rng.random_range(2..=80);
                    text += &vcf_line(name, pos, &id, &bases(pos, n), &reference);
                    continue;
                }
                3 if pos + 3 <= len => {
                    let reference = bases(pos, 3);
                    text += &vcf_line(name, pos, &id, &reference, &random_bases(rng, 2));
                    continue;
                }
                4 => {
                    not_bases += 2;
                    format!("{},<DEL>,*,{}", other(rng), other(rng))
                }
                _ => other(rng),
            };
            text += &vcf_line(name, pos, &id, &reference, &alt);
        }
    }
    text += &vcf_line(
        &genome[0].0,
        500,
        "missing",
        &genome[0].1[499..500].to_uppercase(),
        ".",
    );
    (text, not_bases + 1)
}

/// Rows of a variants TSV: the five key columns, then the numbers.
fn variant_rows(text: &str) -> Vec<(String, Vec<f64>)> {
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let numbers = fields[5..].iter().map(|v| v.parse().unwrap()).collect();
            (fields[..5].join("\t"), numbers)
        })
        .collect()
}

#[test]
fn variant_scores_equal_an_independent_script_on_the_same_vcf_and_genome() {
    use common::cli::{ok, s};
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = StdRng::seed_from_u64(11);
    let width: u64 = 100;
    let chroms = [("chr1", 3_000), ("chr2", 1_500)];
    let text = random_genome(&mut rng, &chroms);
    let genome_file = d.join("genome.fa");
    std::fs::write(&genome_file, &text).unwrap();
    let genome: Vec<(String, String)> = sepfc::data::fasta::read_fasta(&genome_file)
        .unwrap()
        .into_iter()
        .map(|r| (r.id, String::from_utf8(r.seq).unwrap()))
        .collect();
    let (vcf, not_bases) = variants_vcf(&mut rng, &genome, width);
    let vcf_file = d.join("variants.vcf");
    std::fs::write(&vcf_file, &vcf).unwrap();
    let vcf_gz = d.join("variants.vcf.gz");
    bgzip(&vcf, &vcf_gz);

    let config = sepfc::config::Config::from_toml_str(common::cli::MODEL).unwrap();
    let cpu = sepfc::backend::cpu::Cpu;
    let model = sepfc::model::Model::new(&cpu, config, width as usize, 3).unwrap();
    let weights = d.join("model.safetensors");
    model.save(&cpu, &weights).unwrap();

    for (vcf, rc) in [(&vcf_file, false), (&vcf_gz, false), (&vcf_file, true)] {
        let (ours, theirs) = (d.join("ours.tsv"), d.join("theirs.tsv"));
        let mut args = vec![
            "variants",
            "--model",
            s(&weights),
            "--genome",
            s(&genome_file),
            "--vcf",
            s(vcf),
            "--out",
            s(&ours),
            "--device",
            "cpu",
            "--batch-size",
            "7",
        ];
        let mut script_args = vec![weights.as_path(), &genome_file, vcf.as_path(), &theirs];
        if rc {
            args.push("--rc-average");
            script_args.push(Path::new("--rc-average"));
        }
        let said = ok(&args);
        assert!(
            said.contains(&format!("left out {not_bases} symbolic")),
            "{said}"
        );
        run_script(&python, "reference_variants.py", &script_args);
        let ours = std::fs::read_to_string(&ours).unwrap();
        let (header, ours) = ours.split_once('\n').unwrap();
        let tasks = model.task_names();
        let mut want = String::from("chrom\tpos\tid\tref\talt");
        for task in tasks {
            want += &format!("\t{task}_ref\t{task}_alt\t{task}_logit_diff");
        }
        assert_eq!(header, want);
        let (ours, theirs) = (
            variant_rows(ours),
            variant_rows(&std::fs::read_to_string(&theirs).unwrap()),
        );
        assert!(theirs.len() > 100, "{} alleles scored", theirs.len());
        assert!(said.contains("alleles too near a chromosome end"), "{said}");
        assert_eq!(ours.len(), theirs.len(), "{}", vcf.display());
        for ((key, a), (their_key, b)) in ours.iter().zip(&theirs) {
            assert_eq!(key, their_key);
            for (x, y) in a.iter().zip(b) {
                // 6 decimals written; float32 against float64
                let tol = (1e-4 * x.abs().max(y.abs())).max(2e-6);
                assert!((x - y).abs() <= tol, "{key} (rc {rc}): {a:?} vs {b:?}");
            }
        }
        // the variants change the predictions: a test of windows that all agree by accident
        // (say, both the genome's) would not
        let moved = ours.iter().filter(|(_, v)| v[2].abs() > 1e-3).count();
        assert!(
            moved > ours.len() / 2,
            "{moved} of {} alleles move their logit",
            ours.len()
        );
    }
}

#[test]
fn scan_bigwigs_hold_the_bedgraph_values_as_pybigwig_reads_them() {
    use common::cli::{ok, s};
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = StdRng::seed_from_u64(5);
    // not in name order (bigWig files sort nothing: the genome's order is kept), one chromosome
    // shorter than the window
    let chroms = [
        ("chr2", 5_000),
        ("chr10", 3_001),
        ("chrM", 60),
        ("chr1", 2_000),
    ];
    let genome = d.join("genome.fa");
    std::fs::write(&genome, random_genome(&mut rng, &chroms)).unwrap();
    let config = sepfc::config::Config::from_toml_str(common::cli::MODEL).unwrap();
    let cpu = sepfc::backend::cpu::Cpu;
    let model = sepfc::model::Model::new(&cpu, config, 100, 9).unwrap();
    let weights = d.join("model.safetensors");
    model.save(&cpu, &weights).unwrap();
    let out = d.join("scan.bedgraph");
    ok(&[
        "scan",
        "--model",
        s(&weights),
        "--genome",
        s(&genome),
        "--stride",
        "20",
        "--out",
        s(&out),
        "--bigwig",
        "--device",
        "cpu",
    ]);
    let tasks = model.task_names().to_vec();
    let bedgraphs = sepfc::commands::scan::task_paths(&out, &tasks);
    let bigwigs = sepfc::commands::scan::bigwig_paths(&out, &tasks);
    assert_eq!(bigwigs[0], d.join(format!("scan.{}.bw", tasks[0])));
    for (bedgraph, bigwig) in bedgraphs.iter().zip(&bigwigs) {
        let theirs = assay_check(&python, &[Path::new("bigwig"), bigwig]);
        let (sizes, intervals): (Vec<&str>, Vec<&str>) =
            theirs.lines().partition(|l| l.starts_with("#chrom"));
        let mut sizes: Vec<String> = sizes.iter().map(|l| l[7..].to_string()).collect();
        sizes.sort();
        // the chromosomes with values, at their lengths (as UCSC's bedGraphToBigWig lists them)
        let mut want: Vec<String> = chroms
            .iter()
            .filter(|(c, _)| *c != "chrM")
            .map(|(c, l)| format!("{c}\t{l}"))
            .collect();
        want.sort();
        assert_eq!(sizes, want);
        let text = std::fs::read_to_string(bedgraph).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert!(rows.len() > 400, "{} windows", rows.len());
        // pyBigWig lists chromosomes in its own order: compare the sets of rows, in each
        // chromosome in order
        let key = |l: &&str| l.split('\t').next().unwrap().to_string();
        let mut ours = rows.clone();
        ours.sort_by_key(key);
        let mut theirs = intervals.clone();
        theirs.sort_by_key(key);
        assert_eq!(ours.len(), theirs.len(), "{}", bigwig.display());
        for (a, b) in ours.iter().zip(&theirs) {
            let (a, b): (Vec<&str>, Vec<&str>) = (a.split('\t').collect(), b.split('\t').collect());
            assert_eq!(a[..3], b[..3]);
            let (x, y): (f64, f64) = (a[3].parse().unwrap(), b[3].parse().unwrap());
            // the bigWig holds the bedGraph's 6-decimal text as float32
            assert!((x - y).abs() <= 1e-7 * x.abs().max(1.0), "{a:?} vs {b:?}");
        }
    }
}

#[test]
fn signal_targets_losses_and_correlations_equal_numpy_and_scipy() {
    use common::cli::{ok, s};
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = StdRng::seed_from_u64(21);
    let chroms = [("chr1", 30_000), ("chr2", 12_000), ("chr3", 12_000)];
    let genome = d.join("genome.fa");
    std::fs::write(&genome, random_genome(&mut rng, &chroms)).unwrap();
    write_fai(&genome).unwrap();
    let bigwig = d.join("signal.bw");
    let seed = Path::new("4");
    run_script(
        &python,
        "reference_signal.py",
        &[Path::new("make-bigwig"), &fai_path(&genome), &bigwig, seed],
    );
    let mut peaks = String::new();
    for &(chrom, length) in &chroms {
        for _ in 0..length / 150 {
            let start = rng.random_range(0..length - 60);
            peaks += &format!("{chrom}\t{start}\t{}\n", start + 60);
        }
    }
    std::fs::write(d.join("peaks.bed"), peaks).unwrap();
    for loss in ["mse", "poisson"] {
        let config = d.join(format!("{loss}.toml"));
        std::fs::write(
            &config,
            format!(
                "[data]\ngenome = \"genome.fa\"\nlength = 100\npeaks = {{ open = \"peaks.bed\" }}\n\
                 negatives = {{ per_positive = 0.5, seed = 2 }}\nbigwig = {{ signal = \"signal.bw\" }}\n\
                 bigwig_bins = 2\nvalid_chroms = [\"chr2\"]\ntest_chroms = [\"chr3\"]\n\n\
                 [train]\nloss = \"{loss}\"\nepochs = 2\nbatch_size = 32\nlr = 0.003\n{}",
                common::cli::MODEL
            ),
        )
        .unwrap();
        let run = d.join(format!("run-{loss}"));
        let said = ok(&[
            "train",
            "--config",
            s(&config),
            "--out",
            s(&run),
            "--device",
            "cpu",
        ]);
        assert!(said.contains("Pearson"), "{said}");
        let scores = d.join(format!("{loss}.json"));
        ok(&[
            "evaluate",
            "--model",
            s(&run),
            "--config",
            s(&config),
            "--json",
            s(&scores),
            "--device",
            "cpu",
        ]);

        // the test windows, as sepfc splits them, scored independently
        let data = sepfc::config::Config::read(&config).unwrap().data.unwrap();
        let test = sepfc::data::load_splits(&data, &config, 0)
            .unwrap()
            .test
            .unwrap();
        assert_eq!(test.tasks(), ["signal_0", "signal_1"]);
        let mut windows = String::new();
        for (id, seq) in test.ids.iter().zip(&test.sequences) {
            let (chrom, span) = id.rsplit_once(':').unwrap();
            let (start, end) = span.split_once('-').unwrap();
            windows += &format!(
                "{id}\t{chrom}\t{start}\t{end}\t{}\n",
                String::from_utf8_lossy(seq)
            );
        }
        let fasta: String = test
            .ids
            .iter()
            .zip(&test.sequences)
            .map(|(id, seq)| format!(">{id}\n{}\n", String::from_utf8_lossy(seq)))
            .collect();
        let fasta_file = d.join("test.fa");
        std::fs::write(&fasta_file, fasta).unwrap();
        let windows_file = d.join("windows.tsv");
        std::fs::write(&windows_file, windows).unwrap();
        let reference = d.join(format!("{loss}-reference.json"));
        let weights = run.join("model.safetensors");
        run_script(
            &python,
            "reference_signal.py",
            &[
                Path::new("score"),
                &weights,
                &bigwig,
                &windows_file,
                Path::new("2"),
                Path::new(loss),
                &reference,
            ],
        );
        let reference: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&reference).unwrap()).unwrap();
        for (i, row) in reference["targets"].as_array().unwrap().iter().enumerate() {
            for (t, want) in row.as_array().unwrap().iter().enumerate() {
                let (ours, want) = (
                    f64::from(test.target(i, t).unwrap()),
                    want.as_f64().unwrap(),
                );
                assert!(
                    (ours - want).abs() <= 1e-5 * want.abs().max(1.0),
                    "{} task {t}: {ours} vs {want}",
                    test.ids[i]
                );
            }
        }
        // predict writes values (mse) or rates (poisson), as the NumPy model predicts them
        let predicted = d.join(format!("{loss}-predict.tsv"));
        ok(&[
            "predict",
            "--model",
            s(&run),
            "--fasta",
            s(&fasta_file),
            "--out",
            s(&predicted),
            "--device",
            "cpu",
        ]);
        let predicted = std::fs::read_to_string(&predicted).unwrap();
        let rows = reference["predictions"].as_array().unwrap();
        assert_eq!(predicted.lines().count(), rows.len() + 1);
        for (line, row) in predicted.lines().skip(1).zip(rows) {
            for (x, y) in line.split('\t').skip(1).zip(row.as_array().unwrap()) {
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.as_f64().unwrap());
                assert!(
                    (x - y).abs() <= (1e-4 * x.abs().max(y.abs())).max(2e-6),
                    "{loss} predict {line}: {y}"
                );
            }
        }
        let ours: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&scores).unwrap()).unwrap();
        for (t, (a, b)) in ours["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .zip(reference["tasks"].as_array().unwrap())
            .enumerate()
        {
            for key in ["loss", "pearson", "spearman"] {
                let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
                assert!(
                    (x - y).abs() <= (1e-4 * x.abs().max(y.abs())).max(2e-5),
                    "{loss} task {t} {key}: sepfc {x}, SciPy {y}"
                );
            }
            assert!(a["auroc"].is_null() && a["auprc"].is_null());
        }
    }
}
