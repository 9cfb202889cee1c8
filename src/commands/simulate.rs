//! `sepfc simulate`: sequences with planted motifs, their labels and the ground truth.

use std::path::{Path, PathBuf};

use crate::simulate::{
    Position, SimulationConfig, default_motifs, find_motif, read_jaspar, simulate, write_simulation,
};
use crate::{Error, Result};

/// Everything `sepfc simulate` needs (its command-line arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Sequence length in bp.
    #[arg(long, default_value_t = 200)]
    pub length: usize,
    /// Number of sequences.
    #[arg(long, default_value_t = 2000)]
    pub n: usize,
    /// A JASPAR file (e.g. data/motifs/JASPAR2024_CORE_vertebrates.jaspar); without it, a
    /// built-in GATA site and E-box are planted.
    #[arg(long)]
    pub motifs: Option<PathBuf>,
    /// Id or name of a motif of --motifs to plant (repeat for several tasks).
    #[arg(long)]
    pub motif: Vec<String>,
    /// Seed: the same seed writes the same files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Background GC fraction.
    #[arg(long, default_value_t = 0.5)]
    pub gc: f64,
    /// Probability that each motif is planted in a sequence.
    #[arg(long, default_value_t = 0.5)]
    pub prevalence: f64,
    /// Plant anywhere instead of around the centre.
    #[arg(long)]
    pub uniform: bool,
    /// Standard deviation of the site's start around the centre, in bp (default: length /
    /// 10).
    #[arg(long)]
    pub sd: Option<f64>,
}

/// Runs `sepfc simulate`.
pub fn run(args: &SimulateArgs) -> Result<()> {
    let motifs = match &args.motifs {
        None if args.motif.is_empty() => default_motifs(),
        None => {
            return Err(Error::Config(
                "--motif picks motifs from a --motifs JASPAR file; none was given".into(),
            ));
        }
        Some(path) => pick(path, &args.motif)?,
    };
    let config = SimulationConfig {
        n: args.n,
        length: args.length,
        seed: args.seed,
        gc: args.gc,
        position: if args.uniform {
            Position::Uniform
        } else {
            Position::CentredNormal {
                sd: args.sd.unwrap_or(args.length as f64 / 10.0),
            }
        },
        prevalence: args.prevalence,
        motifs,
        ..SimulationConfig::default()
    };
    let sim = simulate(&config)?;
    write_simulation(&sim, &config.motifs, &args.out)?;
    let planted: usize = sim.records.iter().map(|r| r.planted.len()).sum();
    crate::say!(
        "wrote {} sequences of {} bp with {planted} planted sites of {} to {}",
        args.n,
        args.length,
        config
            .motifs
            .iter()
            .map(|m| format!("{} ({})", m.name, m.id))
            .collect::<Vec<_>>()
            .join(", "),
        args.out.display()
    );
    Ok(())
}

fn pick(path: &Path, queries: &[String]) -> Result<Vec<crate::simulate::Motif>> {
    let all = read_jaspar(path)?;
    if queries.is_empty() {
        return Err(Error::Config(format!(
            "{}: choose motifs with --motif ID_OR_NAME (e.g. --motif {} --motif {})",
            path.display(),
            all[0].id,
            all.get(1).map_or(all[0].name.as_str(), |m| m.name.as_str())
        )));
    }
    queries
        .iter()
        .map(|q| {
            find_motif(&all, q).cloned().ok_or_else(|| {
                Error::Config(format!(
                    "{}: no motif with id or name {q:?}",
                    path.display()
                ))
            })
        })
        .collect()
}
