//! `sepfc logos`: PNG sequence logos of the contributions in `explain --npz`'s files (one-hot
//! input times hypothetical contributions), with known motifs' matches marked.

use std::path::Path;

use super::cli::LogosArgs;
use crate::explain::logo::{Mark, draw_logo};
use crate::io::read_npz;
use crate::recovery::pwm_matches;
use crate::simulate::read_jaspar;
use crate::{Error, Result};

/// Sequences drawn when `--ids` is not given.
const DEFAULT_COUNT: usize = 10;

/// `(values, N, L)` of one of the two files, checked to be `(N, 4, L)`.
fn read(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    let (values, shape) = read_npz(path)?;
    match shape[..] {
        [n, 4, l] => Ok((values, n, l)),
        _ => Err(Error::Input {
            path: path.display().to_string(),
            line: None,
            detail: format!("arr_0 has shape {shape:?}, not (N, 4, L)"),
        }),
    }
}

/// The bases of one-hot `(4, L)` input: A, C, G, T, or N for a column without a one.
fn bases(ohe: &[f32], length: usize) -> Vec<u8> {
    (0..length)
        .map(|l| {
            (0..4)
                .find(|&c| ohe[c * length + l] == 1.0)
                .map_or(b'N', |c| b"ACGT"[c])
        })
        .collect()
}

/// Runs `sepfc logos`. Both files and the motifs are read and checked before any logo is
/// drawn.
pub fn run(args: &LogosArgs) -> Result<()> {
    let path = |suffix: &str| {
        let mut name = args.npz.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    let (ohe_path, hyp_path) = (path(".ohe.npz"), path(".hyp.npz"));
    let (ohe, n, length) = read(&ohe_path)?;
    let (hyp, n_hyp, length_hyp) = read(&hyp_path)?;
    if (n, length) != (n_hyp, length_hyp) {
        return Err(Error::Input {
            path: hyp_path.display().to_string(),
            line: None,
            detail: format!(
                "({n_hyp}, 4, {length_hyp}) does not match {}'s ({n}, 4, {length})",
                ohe_path.display()
            ),
        });
    }
    let ids: Vec<usize> = args
        .ids
        .clone()
        .unwrap_or_else(|| (0..n.min(DEFAULT_COUNT)).collect());
    if let Some(&bad) = ids.iter().find(|&&i| i >= n) {
        return Err(Error::Config(format!(
            "--ids {bad}: the npz files hold {n} sequences, numbered from 0"
        )));
    }
    if !(args.threshold > 0.0 && args.threshold <= 1.0) {
        return Err(Error::Config(format!(
            "--threshold {}: must be in (0, 1]",
            args.threshold
        )));
    }
    let motifs = match &args.jaspar {
        Some(path) => read_jaspar(path)?,
        None => Vec::new(),
    };
    std::fs::create_dir_all(&args.out).map_err(Error::io(&args.out))?;
    let width = 4 * length;
    for &i in &ids {
        let x = &ohe[i * width..(i + 1) * width];
        let values: Vec<f32> = x
            .iter()
            .zip(&hyp[i * width..(i + 1) * width])
            .map(|(a, b)| a * b)
            .collect();
        let seq = bases(x, length);
        let marks: Vec<Mark> = motifs
            .iter()
            .flat_map(|m| {
                pwm_matches(&seq, m, args.threshold)
                    .into_iter()
                    .map(|site| Mark {
                        site,
                        label: m.name.clone(),
                    })
            })
            .collect();
        let title = format!("sequence {i} ({} marked sites)", marks.len());
        draw_logo(
            &values,
            length,
            &title,
            &marks,
            &args.out.join(format!("seq{i}.png")),
        )?;
    }
    crate::say!(
        "drew {} logos of {} in {}",
        ids.len(),
        args.npz.display(),
        args.out.display()
    );
    Ok(())
}
