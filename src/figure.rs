//! Drawing a PNG figure with plotters: text in a font compiled into the binary (figures look
//! the same on every machine and need no system fonts), the image drawn to a temporary file and
//! renamed into place.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::{Error, Result};

/// The family every figure's text is set in.
pub(crate) const FONT: &str = "sans-serif";

/// Registers the built-in font once; `false` if it does not parse.
fn fonts_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT).is_ok()
    })
}

/// Draws into `path` (a `.png`) through a temporary file renamed into place when done.
pub(crate) fn render(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> std::result::Result<(), String>,
) -> Result<()> {
    let fail = |detail: String| Error::Output {
        path: path.display().to_string(),
        detail,
    };
    if !fonts_registered() {
        return Err(fail("the built-in font could not be loaded".into()));
    }
    let name = path
        .file_name()
        .ok_or_else(|| fail("not a file name".into()))?;
    let tmp = path.with_file_name(format!(".tmp-{}", name.to_string_lossy()));
    {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        draw(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    std::fs::rename(&tmp, path).map_err(Error::io(&path))
}

/// Turns a plotters error into the string [`render`] reports.
pub(crate) fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}
