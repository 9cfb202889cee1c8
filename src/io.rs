//! Files as sepfc writes and reads them: every output through a temporary file and a rename
//! ([`AtomicFile`], [`write_atomically`], [`write_json`]), so that a reader or an interrupted
//! run never sees a half-written file; JSON read back with errors naming the file.

use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// Writes `bytes` to `path` through a temporary file beside it and a rename, so that readers
/// and interrupted runs never see a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(|e| file.error(e))?;
    file.commit()
}

/// Reads the JSON file at `path` as a `T`; `what` names what it should hold in the error of a
/// file that does not parse (e.g. "a run's metrics").
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(Error::io(&path))?;
    serde_json::from_str(&text).map_err(|e| Error::Input {
        path: path.display().to_string(),
        line: Some(e.line()),
        detail: format!("not {what}: {e}"),
    })
}

/// Writes `value` as pretty JSON to `path`, atomically (see [`write_atomically`]).
pub fn write_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::invalid("write_json", format!("{}: {e}", path.display())))?;
    write_atomically(path, text.as_bytes())
}

/// A file written through a temporary file beside its path (buffered) and renamed into place
/// by [`AtomicFile::commit`]; dropped without a commit, it removes the temporary file and
/// leaves `path` as it was.
pub struct AtomicFile {
    path: std::path::PathBuf,
    temp: std::path::PathBuf,
    writer: Option<std::io::BufWriter<std::fs::File>>,
}

/// The temporary file an output `path` is written to before its rename: hidden, beside it, and
/// named for this process (`dir/.name.1234.tmp`).
pub fn temp_path_beside(path: &Path) -> std::path::PathBuf {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()))
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let temp = temp_path_beside(path);
        let file = std::fs::File::create(&temp).map_err(Error::io(&path))?;
        Ok(Self {
            path: path.to_path_buf(),
            temp,
            writer: Some(std::io::BufWriter::new(file)),
        })
    }

    /// An I/O error on this file, naming its final path.
    pub fn error(&self, source: std::io::Error) -> Error {
        Error::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let writer = self
            .writer
            .take()
            .expect("an uncommitted file has its writer");
        let done = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&self.temp, &self.path));
        if done.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        done.map_err(|e| self.error(e))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer
            .as_mut()
            .expect("an uncommitted file has its writer")
            .write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer
            .as_mut()
            .expect("an uncommitted file has its writer")
            .flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Writes `values` as a NumPy `.npz` archive holding one float32 array `arr_0` of `shape` (what
/// `np.savez(path, values)` writes: a zip of uncompressed `.npy` files), atomically.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("x.npz");
/// sepfc::io::write_npz(&path, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 2, 3]).unwrap();
/// let bytes = std::fs::read(&path).unwrap();
/// assert_eq!(&bytes[..2], b"PK");
/// assert!(sepfc::io::write_npz(&path, &[1.0], &[2]).is_err()); // 1 value, shape of 2
/// ```
pub fn write_npz(path: &Path, values: &[f32], shape: &[usize]) -> Result<()> {
    let failed = |detail: String| Error::Output {
        path: path.display().to_string(),
        detail,
    };
    if shape.iter().product::<usize>() != values.len() {
        return Err(failed(format!(
            "{} values do not fill the shape {shape:?}",
            values.len()
        )));
    }
    let mut npy = Vec::with_capacity(values.len() * 4 + 128);
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    use npyz::WriterBuilder;
    let mut writer = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(&dims)
        .writer(&mut npy)
        .begin_nd()
        .map_err(|e| failed(e.to_string()))?;
    writer
        .extend(values.iter().copied())
        .map_err(|e| failed(e.to_string()))?;
    writer.finish().map_err(|e| failed(e.to_string()))?;
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(npy.len() > u32::MAX as usize / 2);
    archive
        .start_file("arr_0.npy", stored)
        .map_err(|e| failed(e.to_string()))?;
    archive.write_all(&npy).map_err(|e| failed(e.to_string()))?;
    let bytes = archive
        .finish()
        .map_err(|e| failed(e.to_string()))?
        .into_inner();
    write_atomically(path, &bytes)
}

/// Reads the float32 array `arr_0` of the NumPy `.npz` archive `path` (stored uncompressed, as
/// `np.savez` and [`write_npz`] write it): its values and shape. Errors name the file and what
/// is wrong with it (another dtype, a compressed archive, no `arr_0`).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("x.npz");
/// sepfc::io::write_npz(&path, &[1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
/// assert_eq!(sepfc::io::read_npz(&path).unwrap(), (vec![1.0, 2.0, 3.0, 4.0], vec![2, 2]));
/// ```
pub fn read_npz(path: &Path) -> Result<(Vec<f32>, Vec<usize>)> {
    let failed = |detail: String| Error::Input {
        path: path.display().to_string(),
        line: None,
        detail,
    };
    let file = std::fs::File::open(path).map_err(Error::io(&path))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| failed(format!("not an npz (zip) archive: {e}")))?;
    let mut entry = archive.by_name("arr_0.npy").map_err(|e| {
        failed(format!(
            "no array arr_0 ({e}; np.savez(path, array) writes one)"
        ))
    })?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut bytes)
        .map_err(|e| failed(format!("arr_0 cannot be read ({e}; a compressed npz?)")))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| failed(format!("arr_0: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let dtype = npy.dtype();
    let values = npy
        .into_vec::<f32>()
        .map_err(|e| failed(format!("arr_0 is {dtype:?}, not float32: {e}")))?;
    Ok((values, shape))
}
