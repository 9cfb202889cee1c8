//! `sepfc variants` at its boundary: a REF that disagrees with the genome stops the command
//! naming the VCF line (or is counted and left out with `--skip-ref-mismatch`), an unknown
//! chromosome names the line, nothing is written on an error, and the GPU's scores equal the
//! CPU's. (The scores themselves are checked against an independent script in
//! tests/assay_interop.rs, the windows on hand-worked cases in `sepfc::variants`.)

mod common;

use std::path::Path;

use common::cli::{assert_mentions, fails, ok, s, temp_dir};

/// A 400 bp genome `chr1` (no randomness needed: a repeat of a 20-mer), a model of random
/// weights for 100 bp, and a VCF with the given records (after a header).
fn setup(dir: &Path, records: &str) {
    let unit = "ACGTTGCAAGGCTTACGATC";
    std::fs::write(
        dir.join("genome.fa"),
        format!(">chr1\n{}\n", unit.repeat(20)),
    )
    .unwrap();
    let config = sepfc::config::Config::from_toml_str(common::cli::MODEL).unwrap();
    let cpu = sepfc::backend::cpu::Cpu;
    let model = sepfc::model::Model::new(&cpu, config, 100, 1).unwrap();
    model.save(&cpu, &dir.join("model.safetensors")).unwrap();
    let header = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    std::fs::write(dir.join("v.vcf"), format!("{header}{records}")).unwrap();
}

fn variants(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "variants".to_string(),
        "--model".into(),
        s(&dir.join("model.safetensors")).into(),
        "--genome".into(),
        s(&dir.join("genome.fa")).into(),
        "--vcf".into(),
        s(&dir.join("v.vcf")).into(),
        "--out".into(),
        s(&dir.join("out.tsv")).into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn a_ref_mismatch_stops_the_command_naming_the_line_unless_skipped() {
    let dir = temp_dir("variants-ref");
    // position 201 is the first base of the unit (A); line 4 says it is a G
    setup(
        &dir,
        "chr1\t201\tok\tA\tT\t.\t.\t.\nchr1\t201\tbad\tG\tT\t.\t.\t.\nchr1\t205\t.\tT\tA\t.\t.\t.\n",
    );
    let args = variants(&dir, &["--device", "cpu"]);
    let line = fails(&strs(&args));
    assert_mentions(
        &line,
        &[
            "v.vcf:4:",
            "REF 'G'",
            "has 'A' at chr1:201",
            "--skip-ref-mismatch",
        ],
    );
    assert!(!dir.join("out.tsv").exists(), "nothing written on an error");
    let args = variants(&dir, &["--device", "cpu", "--skip-ref-mismatch"]);
    let said = ok(&strs(&args));
    assert_mentions(&said, &["left out 1 alleles whose REF disagrees"]);
    let out = std::fs::read_to_string(dir.join("out.tsv")).unwrap();
    let ids: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(2).unwrap())
        .collect();
    assert_eq!(ids, ["ok", "."]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_chromosome_or_a_broken_record_names_the_vcf_line() {
    let dir = temp_dir("variants-chrom");
    setup(
        &dir,
        "chr1\t201\t.\tA\tT\t.\t.\t.\n1\t201\t.\tA\tT\t.\t.\t.\n",
    );
    let line = fails(&strs(&variants(&dir, &["--device", "cpu"])));
    assert_mentions(&line, &["v.vcf:4:", "unknown chromosome '1'", "chr1"]);
    setup(
        &dir,
        "chr1\t201\t.\tA\tT\t.\t.\t.\nchr1\tx\t.\tA\tT\t.\t.\t.\n",
    );
    let line = fails(&strs(&variants(&dir, &["--device", "cpu"])));
    assert_mentions(&line, &["v.vcf:4:", "POS"]);
    setup(&dir, "chr1\t0\t.\tA\tT\t.\t.\t.\n");
    let line = fails(&strs(&variants(&dir, &["--device", "cpu"])));
    assert_mentions(&line, &["v.vcf:3:", "POS is missing or 0"]);
    setup(&dir, "chr1\t201\t.\tA\tQ\t.\t.\t.\n");
    let line = fails(&strs(&variants(&dir, &["--device", "cpu"])));
    assert_mentions(&line, &["v.vcf:3:", "ALT allele 'Q'"]);
    // the output may not replace an input
    setup(&dir, "chr1\t201\t.\tA\tT\t.\t.\t.\n");
    let mut args = variants(&dir, &["--device", "cpu"]);
    let out_at = args.iter().position(|a| a == "--out").unwrap() + 1;
    args[out_at] = s(&dir.join("v.vcf")).into();
    let line = fails(&strs(&args));
    assert_mentions(&line, &["--out", "--vcf"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gpu_scores_equal_the_cpu_scores() {
    let dir = temp_dir("variants-gpu");
    let mut records = String::new();
    for pos in (51..350).step_by(7) {
        // the unit's base at `pos`, and an insertion and a deletion there
        let base = &"ACGTTGCAAGGCTTACGATC"[(pos - 1) % 20..(pos - 1) % 20 + 1];
        let alt = if base == "A" { "C" } else { "A" };
        records += &format!("chr1\t{pos}\t.\t{base}\t{alt},{base}GG\t.\t.\t.\n");
    }
    setup(&dir, &records);
    let read = |device: &str| {
        let out = dir.join(format!("{device}.tsv"));
        let mut args = variants(
            &dir,
            &["--device", device, "--rc-average", "--batch-size", "16"],
        );
        let out_at = args.iter().position(|a| a == "--out").unwrap() + 1;
        args[out_at] = s(&out).into();
        ok(&strs(&args));
        std::fs::read_to_string(out).unwrap()
    };
    let (cpu, gpu) = (read("cpu"), read("gpu"));
    let (cpu_lines, gpu_lines): (Vec<&str>, Vec<&str>) =
        (cpu.lines().collect(), gpu.lines().collect());
    assert_eq!(cpu_lines.len(), 2 * 43 + 1);
    assert_eq!(cpu_lines[0], gpu_lines[0]);
    for (a, b) in cpu_lines[1..].iter().zip(&gpu_lines[1..]) {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split('\t').collect(), b.split('\t').collect());
        assert_eq!(a[..5], b[..5]);
        for (x, y) in a[5..].iter().zip(&b[5..]) {
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!(
                (x - y).abs() <= (1e-4 * x.abs().max(y.abs())).max(1e-5),
                "{a:?} vs {b:?}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
