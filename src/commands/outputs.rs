//! Checks on a command's output paths, made before anything is read or written.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Refuses an output path that is one of the command's inputs (`predict --out x.fa --fasta
/// x.fa` would replace the sequences with their predictions), naming both flags.
///
/// Paths are compared as the files they name: a relative and an absolute spelling, or a
/// symbolic link, of one file are the same file.
pub fn refuse_overwriting_inputs(out: (&str, &Path), inputs: &[(&str, &Path)]) -> Result<()> {
    let target = same_file_key(out.1);
    for (flag, input) in inputs {
        if target.is_some() && same_file_key(input) == target {
            return Err(Error::Config(format!(
                "{} {} is also the input {flag}; write the output elsewhere",
                out.0,
                out.1.display()
            )));
        }
    }
    Ok(())
}

/// Refuses two outputs of one command that name the same file (`explain --out run.hyp.npz
/// --npz run` would write the table over the hypothetical contributions), naming both flags.
/// Paths are compared as in [`refuse_overwriting_inputs`].
pub fn refuse_shared_outputs(outputs: &[(&str, &Path)]) -> Result<()> {
    let keys: Vec<Option<PathBuf>> = outputs.iter().map(|(_, p)| same_file_key(p)).collect();
    for (i, (flag, path)) in outputs.iter().enumerate() {
        if let Some(j) = (0..i).find(|&j| keys[j].is_some() && keys[j] == keys[i]) {
            return Err(Error::Config(format!(
                "{flag} would write {}, which {} also writes; give the outputs different paths",
                path.display(),
                outputs[j].0
            )));
        }
    }
    Ok(())
}

/// The canonical path of `path`, or of its folder joined with its name when the file does
/// not exist yet.
fn same_file_key(path: &Path) -> Option<PathBuf> {
    if let Ok(canonical) = std::fs::canonicalize(path) {
        return Some(canonical);
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(folder).ok()?.join(path.file_name()?))
}
