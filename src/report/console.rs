//! The terminal: status lines and progress bars.
//!
//! Every line goes through indicatif's `suspend` so that logs never cut
//! through a bar. Bars are drawn only on a terminal and without `-q`,
//! `-v` or `--no-progress` (reports.md §5).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use indicatif::{
    MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle,
};

/// The bars every line must be printed around.
static MULTI: OnceLock<MultiProgress> = OnceLock::new();

fn multi() -> &'static MultiProgress {
    MULTI.get_or_init(MultiProgress::new)
}

/// Prints one line on stderr without disturbing the bars.
pub(super) fn print_line(text: &str) {
    multi().suspend(|| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    });
}

/// The run's terminal: status lines and one bar per running export.
#[derive(Clone)]
pub(crate) struct Console {
    bars: bool,
    quiet: bool,
}

impl Console {
    /// Returns the console; `bars` is false for `-q`, `-v` and
    /// `--no-progress`. indicatif hides bars by itself off a terminal.
    pub(crate) fn new(bars: bool, quiet: bool) -> Console {
        if !bars {
            multi().set_draw_target(ProgressDrawTarget::hidden());
        }
        Console { bars, quiet }
    }

    /// Prints a status line on stderr.
    pub(crate) fn line(&self, text: &str) {
        print_line(text);
    }

    /// Prints a line unless `-q` was given.
    pub(crate) fn info(&self, text: &str) {
        if !self.quiet {
            print_line(text);
        }
    }

    /// Returns a new bar for `export`.
    pub(crate) fn progress(&self, export: &str) -> Progress {
        let bar = if self.bars {
            multi().add(ProgressBar::new(0))
        } else {
            ProgressBar::hidden()
        };
        let style = ProgressStyle::with_template(
            "{prefix:28!} {msg:36!} {bar:24} {pos}/{len} file {eta}",
        )
        .expect("the template is valid");
        bar.set_style(style);
        bar.set_prefix(export.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar, bytes: AtomicU64::new(0), processor: Mutex::default() }
    }
}

impl Console {
    /// Returns the uploader's bar (reports.md §5): bytes of the current
    /// upload job.
    pub(crate) fn upload_bar(&self) -> UploadBar {
        let bar = if self.bars {
            multi().add(ProgressBar::new(0))
        } else {
            ProgressBar::hidden()
        };
        let style = ProgressStyle::with_template(
            "[Upload] {msg:43!} {bar:24} {bytes}/{total_bytes} \
             {bytes_per_sec} {eta}",
        )
        .expect("the template is valid");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        UploadBar { bar }
    }
}

/// The uploader's progress bar; cheap to update from upload threads.
#[derive(Clone)]
pub(crate) struct UploadBar {
    bar: ProgressBar,
}

impl UploadBar {
    /// Starts a job called `label` of `bytes` bytes.
    pub(crate) fn job(&self, label: &str, bytes: u64) {
        self.bar.reset();
        self.bar.set_length(bytes);
        self.bar.set_message(label.to_string());
    }

    /// Moves by `bytes`: forward as bytes are sent, back when a failed
    /// attempt's bytes are taken back.
    pub(crate) fn moved(&self, bytes: i64) {
        match u64::try_from(bytes) {
            Ok(forward) => self.bar.inc(forward),
            Err(_) => self.bar.dec(bytes.unsigned_abs()),
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A phase of the per-export bar.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase {
    /// Metadata parsed and matched.
    Scan,
    /// Files hashed for duplicate detection.
    Hash,
    /// Linked files fetched.
    Download,
    /// Files written.
    Write,
}

/// One export's progress bar; cheap to update from worker threads.
pub(crate) struct Progress {
    bar: ProgressBar,
    bytes: AtomicU64,
    processor: Mutex<String>,
}

impl Progress {
    /// Starts `phase` of `processor` with `len` steps.
    pub(crate) fn phase(&self, phase: Phase, len: usize) {
        self.bar.set_length(len as u64);
        self.bar.set_position(0);
        self.bytes.store(0, Ordering::Relaxed);
        let name = self.name();
        self.bar.set_message(format!("{name:<24} [{phase:?}]"));
    }

    /// Names the processor now running.
    pub(crate) fn processor(&self, name: &str) {
        if let Ok(mut current) = self.processor.lock() {
            *current = name.to_string();
        }
    }

    fn name(&self) -> String {
        self.processor.lock().map(|n| n.clone()).unwrap_or_default()
    }

    /// Advances by one step.
    pub(crate) fn inc(&self) {
        self.bar.inc(1);
    }

    /// Advances by one written file of `bytes` bytes.
    pub(crate) fn inc_bytes(&self, bytes: u64) {
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let name = self.name();
        self.bar.set_message(format!(
            "{name:<24} [Write] {}",
            indicatif::HumanBytes(total)
        ));
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
