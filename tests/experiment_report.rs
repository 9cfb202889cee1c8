//! `sepfc experiment` end to end on a small simulation: the report's importance section scores
//! every run against the PWM matches of the planted motif, and the four figures are real PNGs
//! with something drawn on them.

use std::path::Path;

use sepfc::commands::device::Device;
use sepfc::commands::experiment;
use sepfc::experiment::ModelKind;
use sepfc::simulate::{SimulationConfig, default_motifs, simulate, write_simulation};

/// The motifs as a JASPAR file of counts (100 per column).
fn write_jaspar(path: &Path) {
    let mut text = String::new();
    for m in default_motifs() {
        text += &format!(">{}\t{}\n", m.id, m.name);
        for (b, base) in ["A", "C", "G", "T"].iter().enumerate() {
            let counts: Vec<String> = m
                .pwm
                .iter()
                .map(|p| format!("{:.0}", p[b] * 100.0))
                .collect();
            text += &format!("{base} [ {} ]\n", counts.join(" "));
        }
    }
    std::fs::write(path, text).unwrap();
}

/// Width, height and the share of pixels that are not white, of a PNG file.
fn png_ink(path: &Path) -> (u32, u32, f64) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let inked = pixels
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|&v| v < 250))
        .count();
    (
        info.width,
        info.height,
        inked as f64 / (pixels.len() / channels) as f64,
    )
}

#[test]
fn an_experiment_reports_importance_on_known_sites_and_draws_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimulationConfig {
        n: 240,
        length: 60,
        seed: 3,
        ..Default::default()
    };
    write_simulation(&simulate(&sim).unwrap(), &sim.motifs, dir.path()).unwrap();
    write_jaspar(&dir.path().join("motifs.jaspar"));
    std::fs::write(
        dir.path().join("base.toml"),
        r#"
[data]
fasta = "sequences.fa"
labels = "labels.tsv"
valid_fraction = 0.25

[train]
lr = 0.01
epochs = 3
batch_size = 32

[[layers]]
type = "revcomp_conv1d"
filters = 6
kernel_size = 7
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 3

[[layers]]
type = "separable_fc"
units = 4
symmetric = true
activation = "relu"

[[layers]]
type = "dense"
units = 2
"#,
    )
    .unwrap();
    let exp = dir.path().join("exp.toml");
    std::fs::write(
        &exp,
        r#"
base = "base.toml"
seeds = [0, 1]
draws = 1
[ranges]
units = [3, 5]
[importance]
jaspar = "motifs.jaspar"
motifs = { GATA = "GATA" }
threshold = 0.9
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let results = experiment::run(&exp, &out, Device::Cpu).unwrap();
    assert_eq!(results.len(), 2 * 3);
    assert!(results.iter().any(|r| r.kind == ModelKind::DenseSameUnits));

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("## Importance scores against known sites"),
        "{md}"
    );
    // the GATA task, its truth named after the JASPAR matrix, and both measures
    assert!(
        md.contains("| GATA | GATA (builtin.1) matches >= 0.9 |"),
        "{md}"
    );
    assert!(md.contains("| site auROC |"), "{md}");
    assert!(md.contains("| mass on sites (chance "), "{md}");
    assert!(
        md.contains("| 0 | base | base | base |"),
        "the draws table: {md}"
    );
    for figure in [
        "performance",
        "training_curves",
        "positional_weights",
        "importance",
    ] {
        let file = format!("figures/{figure}.png");
        assert!(
            md.contains(&format!("]({file})")),
            "{figure} not linked: {md}"
        );
        let (width, height, ink) = png_ink(&out.join(&file));
        assert!(width >= 400 && height >= 300, "{file}: {width}x{height}");
        assert!(ink > 0.01, "{file} is blank: {ink:.4} of its pixels drawn");
    }
    // no temporary file is left behind
    let leftovers: Vec<_> = std::fs::read_dir(out.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn importance_naming_an_unknown_task_or_motif_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimulationConfig {
        n: 40,
        length: 30,
        seed: 1,
        ..Default::default()
    };
    write_simulation(&simulate(&sim).unwrap(), &sim.motifs, dir.path()).unwrap();
    write_jaspar(&dir.path().join("motifs.jaspar"));
    std::fs::write(
        dir.path().join("base.toml"),
        "[data]\nfasta = \"sequences.fa\"\nlabels = \"labels.tsv\"\nvalid_fraction = 0.25\n\
         [[layers]]\ntype = \"conv1d\"\nfilters = 2\nkernel_size = 5\nactivation = \"relu\"\n\
         [[layers]]\ntype = \"separable_fc\"\nunits = 2\n",
    )
    .unwrap();
    for (importance, expected) in [
        (
            "motifs = { NOPE = \"GATA\" }",
            "task `NOPE` is not one of the data's tasks",
        ),
        ("motifs = { GATA = \"CTCF\" }", "no motif `CTCF`"),
        (
            "motifs = { GATA = \"GATA\" }\nthreshold = 1.5",
            "threshold 1.5 must be in (0, 1]",
        ),
        (
            "planted = { GATA = [\"GATA\"] }",
            "`planted` needs a base config whose [data] reads a simdata file",
        ),
    ] {
        let exp = dir.path().join("exp.toml");
        std::fs::write(
            &exp,
            format!(
                "base = \"base.toml\"\nseeds = [0]\ndraws = 1\n[importance]\njaspar = \"motifs.jaspar\"\n{importance}\n"
            ),
        )
        .unwrap();
        let message = experiment::run(&exp, &dir.path().join("out"), Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(message.contains(expected), "{importance}: {message}");
        assert!(message.contains("exp.toml"), "names the file: {message}");
    }
}
