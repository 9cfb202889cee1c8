//! Pieces of the Snakemake workflows that `scan --plan` and `experiment --plan` write: paths
//! made absolute (so a workflow runs from any folder), shell words and Python strings, and
//! files rewritten only when their text changes (so that planning again does not make
//! Snakemake think the jobs' inputs are new).

use std::path::Path;

use crate::io::write_atomically;
use crate::{Error, Result};

/// `path` made absolute, as text. Braces are refused: Snakemake reads them as wildcards.
pub fn absolute(path: &Path) -> Result<String> {
    let absolute = std::path::absolute(path).map_err(Error::io(&path))?;
    let text = absolute.display().to_string();
    if text.contains(['{', '}']) {
        return Err(Error::Config(format!(
            "{text}: a workflow cannot use a path with {{ or }}, which Snakemake reads as wildcards"
        )));
    }
    Ok(text)
}

/// `text` as one word of a POSIX shell command.
pub fn shell_word(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `text` as a Python string literal.
pub fn python_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push_str(&format!("\\U{:08x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Python list of string literals.
pub fn python_list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<String> = items
        .into_iter()
        .map(|s| python_string(s.as_ref()))
        .collect();
    format!("[{}]", items.join(", "))
}

/// Writes `bytes` to `path` (atomically) unless it already holds exactly them, so that its
/// modification time only moves when its content does.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io(&parent))?;
    }
    write_atomically(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_strings_survive_quotes_and_control_characters() {
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(python_string("a\"b\\c\n"), r#""a\"b\\c\U0000000a""#);
        assert_eq!(python_list(["x", "y"]), r#"["x", "y"]"#);
    }

    #[test]
    fn braces_in_a_path_are_refused() {
        let message = absolute(Path::new("/data/{run}/x"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("/data/{run}/x"), "{message}");
        assert!(message.contains("wildcards"), "{message}");
    }

    #[test]
    fn an_unchanged_file_keeps_its_modification_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("f.txt");
        write_if_changed(&path, b"one").unwrap();
        let first = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_if_changed(&path, b"one").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), first);
        write_if_changed(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }
}
