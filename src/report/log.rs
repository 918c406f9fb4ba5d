//! The logger of reports.md §4: stderr lines for people, and with `-v` log
//! files in `./logs/` for diagnosing a run.
//!
//! Records carry the export and processor they concern, set per thread by
//! the export's coordinating thread, so that concurrent exports are routed
//! to their own files.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use anyhow::Context;
use log::{Level, LevelFilter, Log, Metadata, Record};

use super::console::print_line;

/// Whether stderr lines carry time, level and context (`-v`).
static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Open log files, once `-v` asked for them.
static FILES: OnceLock<Mutex<LogFiles>> = OnceLock::new();

thread_local! {
    /// `<export>/<processor>` of the records this thread logs.
    static CONTEXT: RefCell<Option<(String, String)>> =
        const { RefCell::new(None) };
}

/// The run's log file and one file per export.
struct LogFiles {
    dir: PathBuf,
    stamp: String,
    run: File,
    exports: HashMap<String, File>,
}

/// The logger itself.
struct Logger;

impl Log for Logger {
    fn enabled(&self, meta: &Metadata) -> bool {
        // Libraries are capped at warn.
        let ours = meta.target().starts_with("memoria");
        meta.level() <= log::max_level()
            && (ours || meta.level() <= Level::Warn)
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let context = CONTEXT.with(|c| c.borrow().clone());
        let tag = context
            .as_ref()
            .map(|(e, p)| format!(" [{e}/{p}]"))
            .unwrap_or_default();
        let text = if VERBOSE.load(Ordering::Relaxed) {
            let now = jiff::ZonedDateTime::now().strftime("%H:%M:%S");
            format!("{now} {:<5}{tag} {}", record.level(), record.args())
        } else {
            format!("{}: {}", word(record.level()), record.args())
        };
        print_line(&text);
        if let Some(files) = FILES.get() {
            if let Ok(mut files) = files.lock() {
                files.write(
                    record,
                    context.as_ref().map(|(e, _)| e.as_str()),
                    &tag,
                );
            }
        }
    }

    fn flush(&self) {}
}

/// Returns the console word of a level.
fn word(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARNING",
        Level::Info => "INFO",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}

impl LogFiles {
    /// Appends one record to the run's file and its export's file.
    fn write(&mut self, record: &Record, export: Option<&str>, tag: &str) {
        let now = jiff::ZonedDateTime::now().strftime("%Y-%m-%d %H:%M:%S%.3f");
        let line = format!(
            "{now} {:<5} {}{tag} {}\n",
            record.level(),
            record.target(),
            record.args()
        );
        let _ = self.run.write_all(line.as_bytes());
        let Some(export) = export else { return };
        if !self.exports.contains_key(export) {
            let name = format!("log-{export}-{}.log", self.stamp);
            let Ok(file) = append(&self.dir.join(name)) else { return };
            self.exports.insert(export.to_string(), file);
        }
        if let Some(file) = self.exports.get_mut(export) {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

/// Installs the logger at `level`; debug and trace lines carry time,
/// level and context. Later calls only change the level.
pub(crate) fn init_logger(level: LevelFilter) {
    VERBOSE.store(level >= LevelFilter::Debug, Ordering::Relaxed);
    let _ = log::set_logger(&Logger);
    log::set_max_level(level);
}

/// Opens `logs/media_processor_<YYYYMMDD_HHMMSS>.log` under `cwd`; export
/// files join it as exports log their first record.
pub(crate) fn open_log_files(cwd: &Path) -> anyhow::Result<()> {
    let dir = cwd.join("logs");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("failed to create {}", dir.display()))?;
    let stamp =
        jiff::ZonedDateTime::now().strftime("%Y%m%d_%H%M%S").to_string();
    let run = append(&dir.join(format!("media_processor_{stamp}.log")))?;
    let files = LogFiles { dir, stamp, run, exports: HashMap::new() };
    let _ = FILES.set(Mutex::new(files));
    Ok(())
}

/// Creates `logs/upload_only_<export>_<YYYYMMDD_HHMMSS>.log` under `cwd`
/// (reports.md §4) and returns its path and the open file.
pub(crate) fn open_upload_only_log(
    cwd: &Path,
    export: &str,
) -> anyhow::Result<(PathBuf, File)> {
    let dir = cwd.join("logs");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("failed to create {}", dir.display()))?;
    let stamp =
        jiff::ZonedDateTime::now().strftime("%Y%m%d_%H%M%S").to_string();
    let path = dir.join(format!("upload_only_{export}_{stamp}.log"));
    let file = append(&path)?;
    Ok((path, file))
}

/// Sets the `<export>/<processor>` of this thread's records.
pub(crate) fn set_context(export: &str, processor: &str) {
    CONTEXT.with(|c| {
        *c.borrow_mut() = Some((export.to_string(), processor.to_string()));
    });
}

/// Opens `path` for appending.
fn append(path: &Path) -> anyhow::Result<File> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("failed to open {}", path.display()))
}
