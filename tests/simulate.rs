//! Simulation: JASPAR matrices, seeded reproducibility, labels that match what was planted,
//! the background composition and the position distribution.

mod common;
use common::project_data;
use sepfc::simulate::{
    Position, SimulationConfig, default_motifs, find_motif, read_jaspar, simulate, write_simulation,
};

#[test]
fn the_jaspar_file_parses_into_probability_matrices() {
    let motifs = read_jaspar(&project_data("motifs/JASPAR2024_CORE_vertebrates.jaspar")).unwrap();
    assert_eq!(motifs.len(), 879);
    let gata = find_motif(&motifs, "MA0035.5").unwrap();
    assert_eq!(gata.name, "GATA1");
    assert_eq!(find_motif(&motifs, "gata1").unwrap().id, "MA0035.5");
    for column in &gata.pwm {
        let sum: f64 = column.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9, "a column sums to {sum}");
        assert!(
            column.iter().all(|&p| p > 0.0),
            "the pseudocount keeps every base possible"
        );
    }
    assert!(find_motif(&motifs, "NO_SUCH_TF").is_none());
}

#[test]
fn a_malformed_matrix_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    for (body, line, words) in [
        (
            ">M1\tX\nA [ 1 2 ]\nC [ 1 2 ]\nG [ 1 x ]\nT [ 1 2 ]\n",
            4,
            "not a count",
        ),
        (
            ">M1\tX\nA [ 1 2 ]\nC [ 1 2 3 ]\nG [ 1 2 ]\nT [ 1 2 ]\n",
            3,
            "columns",
        ),
        (">M1\tX\nA [ 1 2 ]\nG [ 1 2 ]\n", 3, "expected the C row"),
        ("A [ 1 2 ]\n", 1, "before the first"),
    ] {
        let path = dir.path().join("m.jaspar");
        std::fs::write(&path, body).unwrap();
        let message = read_jaspar(&path).unwrap_err().to_string();
        assert!(message.contains(&format!("m.jaspar:{line}")), "{message}");
        assert!(message.contains(words), "{message}");
    }
}

#[test]
fn the_same_seed_gives_the_same_simulation() {
    let config = SimulationConfig {
        n: 50,
        length: 80,
        seed: 9,
        ..Default::default()
    };
    assert_eq!(simulate(&config).unwrap(), simulate(&config).unwrap());
    let other = SimulationConfig {
        seed: 10,
        ..config.clone()
    };
    assert_ne!(simulate(&config).unwrap(), simulate(&other).unwrap());
}

#[test]
fn labels_and_ground_truth_match_the_written_sequences() {
    let motifs = read_jaspar(&project_data("motifs/JASPAR2024_CORE_vertebrates.jaspar")).unwrap();
    let chosen = vec![
        find_motif(&motifs, "GATA1").unwrap().clone(),
        find_motif(&motifs, "CTCF").unwrap().clone(),
    ];
    let config = SimulationConfig {
        n: 200,
        length: 120,
        seed: 3,
        motifs: chosen.clone(),
        ..Default::default()
    };
    let sim = simulate(&config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_simulation(&sim, &chosen, dir.path()).unwrap();
    let fasta = sepfc::data::fasta::read_fasta(&dir.path().join("sequences.fa")).unwrap();
    let labels = std::fs::read_to_string(dir.path().join("labels.tsv")).unwrap();
    let embeddings = std::fs::read_to_string(dir.path().join("embeddings.tsv")).unwrap();
    assert_eq!(labels.lines().next().unwrap(), "id\tGATA1\tCTCF");
    assert_eq!(fasta.len(), 200);
    let mut planted_per_id = std::collections::HashMap::<String, Vec<String>>::new();
    for row in embeddings.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        let record = fasta.iter().find(|r| r.id == f[0]).unwrap();
        let start: usize = f[2].parse().unwrap();
        let site = f[4].as_bytes();
        assert_eq!(&record.seq[start..start + site.len()], site, "{row}");
        let width = if f[1] == "GATA1" {
            chosen[0].pwm.len()
        } else {
            chosen[1].pwm.len()
        };
        assert_eq!(site.len(), width);
        assert!(f[3] == "+" || f[3] == "-");
        planted_per_id
            .entry(f[0].to_string())
            .or_default()
            .push(f[1].to_string());
    }
    for row in labels.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        let planted = planted_per_id.get(f[0]).cloned().unwrap_or_default();
        assert_eq!(f[1] == "1", planted.contains(&"GATA1".to_string()), "{row}");
        assert_eq!(f[2] == "1", planted.contains(&"CTCF".to_string()), "{row}");
    }
    // both strands occur
    assert!(embeddings.contains("\t+\t") && embeddings.contains("\t-\t"));
}

#[test]
fn background_gc_prevalence_and_positions_follow_the_config() {
    let config = SimulationConfig {
        n: 2000,
        length: 200,
        seed: 1,
        gc: 0.6,
        prevalence: 0.3,
        position: Position::CentredNormal { sd: 10.0 },
        motifs: default_motifs(),
        ..Default::default()
    };
    let sim = simulate(&config).unwrap();
    let (mut gc, mut total) = (0usize, 0usize);
    let mut starts = Vec::new();
    let mut labelled = 0usize;
    for r in &sim.records {
        let mut masked = vec![false; r.seq.len()];
        for p in &r.planted {
            masked[p.start..p.start + p.site.len()]
                .iter_mut()
                .for_each(|m| *m = true);
            starts.push(p.start as f64 + p.site.len() as f64 / 2.0);
        }
        for (b, m) in r.seq.iter().zip(masked) {
            if !m {
                total += 1;
                gc += matches!(b, b'G' | b'C') as usize;
            }
        }
        labelled += r.labels.iter().map(|&l| l as usize).sum::<usize>();
    }
    let gc_fraction = gc as f64 / total as f64;
    assert!(
        (gc_fraction - 0.6).abs() < 0.02,
        "background GC {gc_fraction}"
    );
    let rate = labelled as f64 / (2.0 * 2000.0);
    assert!(
        (rate - 0.3).abs() < 0.03,
        "planted in {rate} of the chances"
    );
    let mean = starts.iter().sum::<f64>() / starts.len() as f64;
    assert!(
        (mean - 100.0).abs() < 2.0,
        "site centres average {mean}, not the sequence centre"
    );
    let sd = (starts.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / starts.len() as f64).sqrt();
    assert!((sd - 10.0).abs() < 2.0, "site centres spread {sd}");
    let uniform = simulate(&SimulationConfig {
        position: Position::Uniform,
        ..config
    })
    .unwrap();
    let spread: Vec<f64> = uniform
        .records
        .iter()
        .flat_map(|r| r.planted.iter().map(|p| p.start as f64))
        .collect();
    let lo = spread.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = spread.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    assert!(
        lo < 10.0 && hi > 180.0,
        "uniform starts span only {lo}..{hi}"
    );
}
