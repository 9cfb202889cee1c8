//! Simulated training data with ground truth: random background sequences with motifs sampled
//! from position weight matrices planted on either strand, multi-task labels saying which
//! motifs were planted, and a record of every planted instance.
//!
//! ```
//! use sepfc::simulate::{SimulationConfig, default_motifs, simulate};
//! let config = SimulationConfig { n: 10, length: 50, motifs: default_motifs(), ..Default::default() };
//! let sim = simulate(&config).unwrap();
//! assert_eq!(sim.records.len(), 10);
//! assert_eq!(sim.records[0].seq.len(), 50);
//! ```

use std::io::BufRead;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::dna::reverse_complement;
use crate::io::write_atomically;
use crate::{Error, Result};

/// A position weight matrix: per position the probabilities of A, C, G and T.
#[derive(Debug, Clone, PartialEq)]
pub struct Motif {
    /// Matrix id, e.g. `MA0035.5`.
    pub id: String,
    /// Name, e.g. `GATA1`.
    pub name: String,
    /// Probabilities of A, C, G, T at each position.
    pub pwm: Vec<[f64; 4]>,
}

/// Pseudocount added to every count, relative to the column total, so that no base has
/// probability zero: `p = (count + PSEUDO * total / 4) / (total * (1 + PSEUDO))`.
pub const PSEUDO: f64 = 0.01;

fn input_error(path: &Path, line: usize, detail: impl std::fmt::Display) -> Error {
    Error::Input {
        path: path.display().to_string(),
        line: Some(line),
        detail: detail.to_string(),
    }
}

/// Reads matrices in the plain JASPAR format: `>ID<TAB>NAME`, then rows `A [ counts ]`, `C`,
/// `G`, `T` of equal length.
pub fn read_jaspar(path: &Path) -> Result<Vec<Motif>> {
    let file = std::fs::File::open(path).map_err(Error::io(&path))?;
    let mut motifs = Vec::new();
    let mut current: Option<(Motif, Vec<Vec<f64>>, usize)> = None;
    let finish = |(mut motif, rows, line): (Motif, Vec<Vec<f64>>, usize)| -> Result<Motif> {
        if rows.len() != 4 {
            return Err(input_error(
                path,
                line,
                format!(
                    "matrix {} has {} of its 4 rows (A, C, G, T)",
                    motif.id,
                    rows.len()
                ),
            ));
        }
        motif.pwm = (0..rows[0].len())
            .map(|j| {
                let total: f64 = rows.iter().map(|r| r[j]).sum();
                let column: Vec<f64> = rows
                    .iter()
                    .map(|r| (r[j] + PSEUDO * total / 4.0) / (total * (1.0 + PSEUDO)))
                    .collect();
                [column[0], column[1], column[2], column[3]]
            })
            .collect();
        Ok(motif)
    };
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| input_error(path, number, format!("cannot read: {e}")))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix('>') {
            if let Some(done) = current.take() {
                motifs.push(finish(done)?);
            }
            let mut parts = header.split_whitespace();
            let id = parts
                .next()
                .ok_or_else(|| input_error(path, number, "a header with no matrix id"))?;
            let name = parts.collect::<Vec<_>>().join(" ");
            current = Some((
                Motif {
                    id: id.to_string(),
                    name,
                    pwm: Vec::new(),
                },
                Vec::new(),
                number,
            ));
            continue;
        }
        let Some((motif, rows, _)) = current.as_mut() else {
            return Err(input_error(
                path,
                number,
                "a matrix row before the first '>' header",
            ));
        };
        let expected = ["A", "C", "G", "T"][rows.len().min(3)];
        let (base, rest) = line.split_at(1);
        if rows.len() == 4 || !base.eq_ignore_ascii_case(expected) {
            return Err(input_error(
                path,
                number,
                format!(
                    "expected the {expected} row of matrix {}, got {line:?}",
                    motif.id
                ),
            ));
        }
        let values: Vec<f64> = rest
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split_whitespace()
            .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                input_error(
                    path,
                    number,
                    format!(
                        "the {expected} row of {} has a value that is not a count",
                        motif.id
                    ),
                )
            })?;
        if values.is_empty() || rows.first().is_some_and(|r| r.len() != values.len()) {
            return Err(input_error(
                path,
                number,
                format!(
                    "the {expected} row of {} has {} columns, unlike its A row",
                    motif.id,
                    values.len()
                ),
            ));
        }
        rows.push(values);
    }
    if let Some(done) = current.take() {
        motifs.push(finish(done)?);
    }
    if motifs.is_empty() {
        return Err(Error::Input {
            path: path.display().to_string(),
            line: None,
            detail: "no matrices".into(),
        });
    }
    Ok(motifs)
}

/// The motif whose id is `query`, or whose name is `query` ignoring case.
pub fn find_motif<'m>(motifs: &'m [Motif], query: &str) -> Option<&'m Motif> {
    motifs
        .iter()
        .find(|m| m.id == query)
        .or_else(|| motifs.iter().find(|m| m.name.eq_ignore_ascii_case(query)))
}

/// A motif that is `consensus` with probability 0.97 per position (0.01 for each other base).
fn from_consensus(id: &str, name: &str, consensus: &[u8]) -> Motif {
    let pwm = consensus
        .iter()
        .map(|&b| {
            let mut p = [0.01; 4];
            p[crate::dna::channel(b).expect("consensus of ACGT")] = 0.97;
            p
        })
        .collect();
    Motif {
        id: id.into(),
        name: name.into(),
        pwm,
    }
}

/// The motifs simulate plants when given no matrix file: a GATA site and an E-box.
pub fn default_motifs() -> Vec<Motif> {
    vec![
        from_consensus("builtin.1", "GATA", b"AGATAAGG"),
        from_consensus("builtin.2", "EBOX", b"CAGCTG"),
    ]
}

/// Where planted sites start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Position {
    /// Anywhere the site fits.
    Uniform,
    /// Normally around the centre with standard deviation `sd` bp (clamped to fit).
    CentredNormal {
        /// Standard deviation in bp.
        sd: f64,
    },
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationConfig {
    /// Sequences.
    pub n: usize,
    /// Length of each.
    pub length: usize,
    /// Seed: the same seed gives the same output.
    pub seed: u64,
    /// Background GC fraction (0.5: uniform bases).
    pub gc: f64,
    /// The motifs, one task each.
    pub motifs: Vec<Motif>,
    /// Where sites start.
    pub position: Position,
    /// Probability that each motif is planted in a sequence, independently.
    pub prevalence: f64,
    /// Probability that a site is planted on the reverse strand.
    pub reverse_strand_prob: f64,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        Self {
            n: 2000,
            length: 200,
            seed: 0,
            gc: 0.5,
            motifs: default_motifs(),
            position: Position::CentredNormal { sd: 20.0 },
            prevalence: 0.5,
            reverse_strand_prob: 0.5,
        }
    }
}

/// One planted site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// Motif name.
    pub motif: String,
    /// 0-based start on the forward strand.
    pub start: usize,
    /// `+` or `-`.
    pub strand: char,
    /// The bases planted, as read on the forward strand.
    pub site: String,
}

/// One simulated sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRecord {
    /// `seq{index}`.
    pub id: String,
    /// The bases.
    pub seq: Vec<u8>,
    /// 1 for each motif planted, in the config's motif order.
    pub labels: Vec<u8>,
    /// Every planted site.
    pub planted: Vec<Planted>,
}

/// A whole simulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulation {
    /// The sequences, in order.
    pub records: Vec<SimRecord>,
}

fn draw_base(rng: &mut StdRng, p: &[f64; 4]) -> u8 {
    let mut u: f64 = rng.random();
    for (i, &pi) in p.iter().enumerate() {
        if u < pi {
            return b"ACGT"[i];
        }
        u -= pi;
    }
    b'T'
}

fn standard_normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Simulates `config.n` sequences.
pub fn simulate(config: &SimulationConfig) -> Result<Simulation> {
    let widest = config.motifs.iter().map(|m| m.pwm.len()).max().unwrap_or(0);
    if config.motifs.is_empty() || widest == 0 || widest > config.length {
        return Err(Error::Config(format!(
            "simulate needs motifs no longer than the sequences ({} bp), widest is {widest}",
            config.length
        )));
    }
    let probability = |v: f64| (0.0..=1.0).contains(&v);
    if !probability(config.gc)
        || !probability(config.prevalence)
        || !probability(config.reverse_strand_prob)
    {
        return Err(Error::Config(
            "gc, prevalence and reverse-strand probability must be in [0, 1]".into(),
        ));
    }
    let background = [
        (1.0 - config.gc) / 2.0,
        config.gc / 2.0,
        config.gc / 2.0,
        (1.0 - config.gc) / 2.0,
    ];
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut records = Vec::with_capacity(config.n);
    for index in 0..config.n {
        let mut seq: Vec<u8> = (0..config.length)
            .map(|_| draw_base(&mut rng, &background))
            .collect();
        let mut taken = vec![false; config.length];
        let mut labels = vec![0u8; config.motifs.len()];
        let mut planted = Vec::new();
        for (m, motif) in config.motifs.iter().enumerate() {
            if !rng.random_bool(config.prevalence) {
                continue;
            }
            let width = motif.pwm.len();
            let last = config.length - width;
            let start = (0..20)
                .map(|_| match config.position {
                    Position::Uniform => rng.random_range(0..=last),
                    Position::CentredNormal { sd } => {
                        let centre = last as f64 / 2.0 + sd * standard_normal(&mut rng);
                        centre.round().clamp(0.0, last as f64) as usize
                    }
                })
                .find(|&s| !taken[s..s + width].iter().any(|&t| t));
            let Some(start) = start else { continue };
            let sampled: Vec<u8> = motif.pwm.iter().map(|p| draw_base(&mut rng, p)).collect();
            let reverse = rng.random_bool(config.reverse_strand_prob);
            let site = if reverse {
                reverse_complement(&sampled)
            } else {
                sampled
            };
            seq[start..start + width].copy_from_slice(&site);
            taken[start..start + width]
                .iter_mut()
                .for_each(|t| *t = true);
            labels[m] = 1;
            planted.push(Planted {
                motif: motif.name.clone(),
                start,
                strand: if reverse { '-' } else { '+' },
                site: String::from_utf8_lossy(&site).into_owned(),
            });
        }
        records.push(SimRecord {
            id: format!("seq{index}"),
            seq,
            labels,
            planted,
        });
    }
    Ok(Simulation { records })
}

/// Writes `sequences.fa`, `labels.tsv` (header `id` then one column per motif name) and
/// `embeddings.tsv` (`id motif start strand site`) into `dir`, each atomically.
pub fn write_simulation(sim: &Simulation, motifs: &[Motif], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(Error::io(&dir))?;
    let mut fasta = String::new();
    let mut labels = format!(
        "id\t{}\n",
        motifs
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join("\t")
    );
    let mut embeddings = String::from("id\tmotif\tstart\tstrand\tsite\n");
    for r in &sim.records {
        fasta += &format!(">{}\n", r.id);
        for line in r.seq.chunks(60) {
            fasta += &String::from_utf8_lossy(line);
            fasta.push('\n');
        }
        labels += &r.id;
        for l in &r.labels {
            labels += &format!("\t{l}");
        }
        labels.push('\n');
        for p in &r.planted {
            embeddings += &format!(
                "{}\t{}\t{}\t{}\t{}\n",
                r.id, p.motif, p.start, p.strand, p.site
            );
        }
    }
    write_atomically(&dir.join("sequences.fa"), fasta.as_bytes())?;
    write_atomically(&dir.join("labels.tsv"), labels.as_bytes())?;
    write_atomically(&dir.join("embeddings.tsv"), embeddings.as_bytes())
}
