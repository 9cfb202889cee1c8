//! What commands tell the user as they go: lines on standard output ([`say!`](crate::say)),
//! and the training progress bar (batches done, running loss and throughput), drawn only on a
//! terminal.

use std::io::Write;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Prints a line on standard output, as `println!` does, except that a reader who has gone
/// (`sepfc train | head -1`) or a full pipe is no reason to stop: reports are a courtesy, the
/// run's files are its result, so a failed write is dropped.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::progress::say_line(format_args!($($arg)*))
    };
}

/// The function behind [`say!`](crate::say).
pub fn say_line(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(line).and_then(|()| out.write_all(b"\n"));
}

/// Steps between refreshes of the loss shown (each refresh reads the loss from the device).
const REFRESH_EVERY: u64 = 20;

/// A progress bar over one epoch's batches; inert when hidden.
pub struct EpochBar {
    bar: ProgressBar,
}

/// A bar for `batches` steps of epoch `epoch` of `epochs`, drawn on stderr when `visible` and
/// stderr is a terminal.
pub fn epoch_bar(visible: bool, batches: usize, epoch: usize, epochs: usize) -> EpochBar {
    let bar = ProgressBar::with_draw_target(
        Some(batches as u64),
        if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) =
        ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} batches {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(format!("{epoch}/{epochs}"));
    EpochBar { bar }
}

impl EpochBar {
    /// One more batch done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Batches done.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Whether the loss should be refreshed now (a visible bar, every few steps).
    pub fn every_few_steps(&self) -> bool {
        !self.bar.is_hidden() && self.bar.position().is_multiple_of(REFRESH_EVERY)
    }

    /// Shows the running loss and throughput.
    pub fn show(&self, loss: f32, samples_per_s: f64) {
        self.bar
            .set_message(format!("loss {loss:.4}, {samples_per_s:.0} seq/s"));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A running count with its rate (`12,288 alleles scored (4,096/s)`), for work whose total is
/// not known in advance; drawn on stderr only when it is a terminal.
pub struct CountBar {
    bar: ProgressBar,
}

impl CountBar {
    /// A count of `what` (`"alleles scored"`).
    pub fn new(what: &str) -> CountBar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template(&format!("{{spinner}} {{human_pos}} {what} ({{per_sec}})"))
        {
            bar.set_style(style);
        }
        CountBar { bar }
    }

    /// `n` more done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
