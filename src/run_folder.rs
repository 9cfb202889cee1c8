//! A training run's output folder as one object: it belongs to one run at a time (an OS lock
//! that a second writer cannot take, released when the process ends however it ends), a new run
//! does not mix its files with an earlier run's, and a resumed run is the run it claims to be
//! (the [`Fingerprint`] of its config and data files is stored with the checkpoint and checked
//! before anything is written).
//!
//! ```
//! # fn main() -> sepfc::Result<()> {
//! use sepfc::run_folder::{Fingerprint, RunFolder};
//! let dir = tempfile::tempdir().unwrap();
//! let out = dir.path().join("run");
//! let config = sepfc::config::Config::from_toml_str("[[layers]]\ntype = \"dense\"\nunits = 1\n")?;
//! let fingerprint = Fingerprint::of(&config, 100, &[])?;
//! let folder = RunFolder::create(&out, fingerprint.clone())?;
//! // while `folder` is alive, nobody else can write there
//! let busy = RunFolder::create(&out, fingerprint).err().unwrap();
//! assert!(busy.to_string().contains("in use by"));
//! drop(folder);
//! # Ok(())
//! # }
//! ```

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Config, TrainConfig};
use crate::{Error, Result};

/// The lock file inside a run folder; it stays there, only its OS lock comes and goes.
pub const LOCK: &str = ".sepfc.lock";
/// The config as run: flags applied, data paths absolute.
pub const CONFIG: &str = "config.toml";
/// The kept weights.
pub const MODEL: &str = "model.safetensors";
/// The checkpoint, whose metadata holds the run's fingerprint.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// One entry per epoch.
pub const METRICS: &str = "metrics.json";
/// Written last, by a finished run only.
pub const SUMMARY: &str = "training.json";
/// The files a run writes; a folder holding any of them holds a run.
pub const RUN_FILES: [&str; 5] = [CONFIG, MODEL, CHECKPOINT, METRICS, SUMMARY];
/// Metadata key of the fingerprint in the checkpoint.
pub const FINGERPRINT_KEY: &str = "fingerprint";

/// What makes a run the run it is: its layers, its schedule (all of `[train]` but `epochs`,
/// which a resumed run may raise), its input length and the size and CRC-32 of every data file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The `[[layers]]` list as TOML.
    pub layers: String,
    /// `[train]` with `epochs` set to 0.
    pub train: TrainConfig,
    /// Bases per input sequence.
    pub input_length: usize,
    /// The data files, in the order of [`crate::config::DataConfig::files`].
    pub data: Vec<FileStamp>,
}

/// A data file as a run saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Its path, absolute.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// CRC-32 of its content.
    pub crc32: u32,
}

impl FileStamp {
    /// Reads `path` once to stamp it.
    pub fn of(path: &Path) -> Result<FileStamp> {
        let mut file = File::open(path).map_err(Error::io(path))?;
        let mut hasher = crc32fast::Hasher::new();
        let mut buffer = vec![0u8; 1 << 20];
        let mut bytes = 0u64;
        loop {
            let n = match file.read(&mut buffer) {
                Ok(n) => n,
                Err(e) => return Err(Error::io(path)(e)),
            };
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            bytes += n as u64;
        }
        Ok(FileStamp {
            path: std::path::absolute(path)
                .unwrap_or_else(|_| path.to_path_buf())
                .display()
                .to_string(),
            bytes,
            crc32: hasher.finalize(),
        })
    }
}

impl Fingerprint {
    /// The fingerprint of training `config` on sequences of `input_length` read from
    /// `data_files`.
    pub fn of(config: &Config, input_length: usize, data_files: &[&Path]) -> Result<Self> {
        let layers = Config {
            data: None,
            train: TrainConfig::default(),
            layers: config.layers.clone(),
        }
        .to_toml_string()?;
        Ok(Fingerprint {
            layers,
            train: TrainConfig {
                epochs: 0,
                ..config.train.clone()
            },
            input_length,
            data: data_files
                .iter()
                .map(|p| FileStamp::of(p))
                .collect::<Result<_>>()?,
        })
    }

    /// How `now` differs from this (the run as it started), in words; `None` when it does not.
    pub fn difference(&self, now: &Fingerprint) -> Option<String> {
        let mut changes = Vec::new();
        if self.layers != now.layers {
            changes.push("the [[layers]] differ".to_string());
        }
        if self.input_length != now.input_length {
            changes.push(format!(
                "the sequences were {} bp and are now {} bp",
                self.input_length, now.input_length
            ));
        }
        changes.extend(train_differences(&self.train, &now.train));
        let paths = |f: &Fingerprint| f.data.iter().map(|s| s.path.clone()).collect::<Vec<_>>();
        if paths(self) != paths(now) {
            changes.push(format!(
                "the data files were {} and are now {}",
                paths(self).join(", "),
                paths(now).join(", ")
            ));
        } else {
            for (then, now) in self.data.iter().zip(&now.data) {
                if then != now {
                    changes.push(format!("{} has changed since the run started", then.path));
                }
            }
        }
        (!changes.is_empty()).then(|| changes.join("; "))
    }
}

/// `[train] key = old, now new` for every key of `[train]` that differs.
fn train_differences(then: &TrainConfig, now: &TrainConfig) -> Vec<String> {
    let table = |t: &TrainConfig| match toml::Table::try_from(t) {
        Ok(table) => table,
        Err(_) => toml::Table::new(),
    };
    let (then, now) = (table(then), table(now));
    let mut keys: Vec<&String> = then.keys().chain(now.keys()).collect();
    keys.sort();
    keys.dedup();
    // the schedule's rates are f32: shown as such, not as their f64 widening
    let show = |v: Option<&toml::Value>| match v {
        Some(toml::Value::Float(x)) => (*x as f32).to_string(),
        Some(v) => v.to_string(),
        None => "unset".to_string(),
    };
    keys.into_iter()
        .filter(|k| then.get(*k) != now.get(*k))
        .map(|k| {
            format!(
                "[train] {k} was {}, now {}",
                show(then.get(k)),
                show(now.get(k))
            )
        })
        .collect()
}

/// An output folder held by one run (see the module's documentation).
#[derive(Debug)]
pub struct RunFolder {
    path: PathBuf,
    fingerprint: Fingerprint,
    resumed: bool,
    /// Holds the OS lock while the folder is open.
    _lock: File,
}

impl RunFolder {
    /// Opens `path` (created if missing) for a new run. Refused when another process holds it,
    /// or when it already holds a run's files (naming them): continue that run with `--resume`,
    /// or choose another folder.
    pub fn create(path: &Path, fingerprint: Fingerprint) -> Result<Self> {
        let lock = lock(path)?;
        let present = run_files(path);
        if !present.is_empty() {
            return Err(Error::Config(format!(
                "{} already holds a run ({}); continue it with --resume, or give another --out",
                path.display(),
                present.join(", ")
            )));
        }
        Ok(Self::opened(path, fingerprint, false, lock))
    }

    /// Opens `path` for a new run, removing the files of any run it holds; for folders that a
    /// caller owns outright (an experiment's unfinished run).
    pub fn replace(path: &Path, fingerprint: Fingerprint) -> Result<Self> {
        let lock = lock(path)?;
        for name in run_files(path) {
            let file = path.join(name);
            std::fs::remove_file(&file).map_err(Error::io(&file))?;
        }
        Ok(Self::opened(path, fingerprint, false, lock))
    }

    /// Opens `path` to continue its run. Refused when another process holds it, when it holds
    /// no checkpoint, or when the checkpoint's fingerprint differs from `fingerprint` (the
    /// message says how). Nothing is written before these checks.
    pub fn resume(path: &Path, fingerprint: Fingerprint) -> Result<Self> {
        let lock = lock(path)?;
        let checkpoint = path.join(CHECKPOINT);
        let bytes = std::fs::read(&checkpoint).map_err(Error::io(&checkpoint))?;
        let weights_error = |detail: String| Error::Weights {
            path: checkpoint.display().to_string(),
            detail,
        };
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| weights_error(format!("not a checkpoint: {e}")))?;
        let stored = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(FINGERPRINT_KEY).cloned())
            .ok_or_else(|| {
                weights_error(
                    "the checkpoint holds no fingerprint of its run, so resuming it cannot be checked; train anew".into(),
                )
            })?;
        let stored: Fingerprint = serde_json::from_str(&stored)
            .map_err(|e| weights_error(format!("its fingerprint does not parse: {e}")))?;
        if let Some(difference) = stored.difference(&fingerprint) {
            return Err(Error::Config(format!(
                "--resume: {} is not the run this config describes: {difference}",
                path.display()
            )));
        }
        Ok(Self::opened(path, fingerprint, true, lock))
    }

    fn opened(path: &Path, fingerprint: Fingerprint, resumed: bool, lock: File) -> Self {
        Self {
            path: path.to_path_buf(),
            fingerprint,
            resumed,
            _lock: lock,
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The run's fingerprint, for its checkpoints.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Whether the run continues from the folder's checkpoint.
    pub fn resumed(&self) -> bool {
        self.resumed
    }
}

/// The run files present in `dir`.
fn run_files(dir: &Path) -> Vec<&'static str> {
    RUN_FILES
        .into_iter()
        .filter(|name| dir.join(name).exists())
        .collect()
}

/// Creates `dir` if needed and takes its lock, writing the holder (process id and start time)
/// into the lock file; a held lock is an error naming its holder.
fn lock(dir: &Path) -> Result<File> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let path = dir.join(LOCK);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(Error::io(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(Error::Config(format!(
                "{} is in use by another sepfc run ({}); wait for it to finish, or give another --out",
                dir.display(),
                holder.trim()
            )));
        }
        Err(TryLockError::Error(source)) => return Err(Error::io(&path)(source)),
    }
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let holder = format!(
        "process {}, started at unix time {since}",
        std::process::id()
    );
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(holder.as_bytes()))
        .map_err(Error::io(&path))?;
    Ok(file)
}
