//! The crate's layers, checked: every top-level module of `src/` belongs to one layer, and
//! no module names (`crate::...`) a module of a layer above its own. The folders stay flat so
//! that public paths stay short (`sepfc::backend::cpu::Cpu`, `sepfc::training::Trainer`);
//! this table is where the layers are written down (docs/architecture.md explains them), and
//! a new module must take its place in it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bottom to top; a module may use its own layer and those below.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "error", "io", "progress", "say", "dna", "metrics", "stats", "figure", "Error",
            "Result",
        ],
    ),
    ("engine", &["backend", "autodiff", "graph", "optim"]),
    ("data", &["data", "simulate", "tracks", "variants"]),
    (
        "nn",
        &[
            "config",
            "layers",
            "model",
            "training",
            "inference",
            "run_folder",
        ],
    ),
    (
        "analysis",
        &["explain", "recovery", "experiment", "bench", "demo"],
    ),
    ("app", &["commands"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules `text` names through `crate::`: `crate::a::b` gives `a`, and
/// `crate::{a::b, c}` gives `a` and `c`.
fn crate_references(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0usize, 0usize);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.insert(ident(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(ident(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.insert(ident(rest));
        }
    }
    names.remove("");
    names
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = Path::new(first).file_stem().unwrap().to_str().unwrap();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = layer_of(module) else {
            problems.push(format!("src/{module}: in no layer of tests/layering.rs"));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for name in crate_references(&text) {
            match layer_of(&name) {
                None => problems.push(format!(
                    "{}: names crate::{name}, which is in no layer",
                    relative.display()
                )),
                Some(theirs) if theirs > own => problems.push(format!(
                    "{} ({}) uses crate::{name} ({})",
                    relative.display(),
                    LAYERS[own].0,
                    LAYERS[theirs].0
                )),
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "layering:\n{}", problems.join("\n"));
}

#[test]
fn references_are_read_from_paths_and_use_groups() {
    let text = "use crate::{Error, Result, dna};\nuse crate::backend::{Backend, cpu::Cpu};\n\
                let x = crate::training::model_path(p); use crate::{data::{Batch, Dataset}, io};";
    let found: Vec<String> = crate_references(text).into_iter().collect();
    assert_eq!(
        found,
        [
            "Error", "Result", "backend", "data", "dna", "io", "training"
        ]
    );
}
