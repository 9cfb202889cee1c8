//! `sepfc simulate`: sequences with planted motifs, their labels and the ground truth.

use std::path::{Path, PathBuf};

use crate::simulate::{
    Position, SimulationConfig, default_motifs, find_motif, read_jaspar, simulate, write_simulation,
};
use crate::{Error, Result};

/// Everything `sepfc simulate` needs.
#[derive(Debug, Clone)]
pub struct SimulateArgs {
    /// Output folder.
    pub out: PathBuf,
    /// Sequence length.
    pub length: usize,
    /// Number of sequences.
    pub n: usize,
    /// A JASPAR file to take motifs from.
    pub motifs: Option<PathBuf>,
    /// Ids or names of the motifs to plant (from `motifs`).
    pub motif: Vec<String>,
    /// Seed.
    pub seed: u64,
    /// Background GC fraction.
    pub gc: f64,
    /// Probability of planting each motif in a sequence.
    pub prevalence: f64,
    /// Plant uniformly instead of around the centre.
    pub uniform: bool,
    /// Standard deviation of the start around the centre (default: length / 10).
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
