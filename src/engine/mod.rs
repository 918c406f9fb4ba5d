//! The engine: runs exports, `--parallel-exports` at a time, each on its
//! own coordinating thread with its own rayon pool of `--workers` threads.
//!
//! Platforms only plan; the engine inspects, de-duplicates, names, writes,
//! and records every fate in `issues/` and `report.json`.

mod export;
mod fetch;
mod inspect;
mod issues;
mod naming;
mod needs;
pub(crate) mod oversub;
mod process;
mod record;
mod render;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::config::Config;
use crate::plan::Export;
use crate::report::{Console, ExportOutcome};
use crate::time::Zones;

/// Set by the first Ctrl-C: no new file or export is started.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler of cli.md §8.4: the first press stops
/// scheduling new work, the second exits at once with code 130 (hidden
/// temporary files left behind are removed by the next run).
pub(crate) fn handle_interrupts() {
    let result = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        log::warn!("interrupted: finishing files in progress (Ctrl-C again to quit now)");
    });
    if let Err(err) = result {
        log::warn!("cannot handle Ctrl-C: {err}");
    }
}

/// Returns true once the run was interrupted.
pub(crate) fn is_interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// What every export of a run shares.
pub(crate) struct Run<'a> {
    /// Validated settings.
    pub(crate) config: &'a Config,
    /// Zone resolution.
    pub(crate) zones: &'a Zones,
    /// The terminal.
    pub(crate) console: &'a Console,
    /// The upload queue, when uploading is on.
    pub(crate) uploads: Option<&'a crate::upload::Queue>,
}

/// One export and where it writes.
pub(crate) struct Job {
    /// The export to read.
    pub(crate) export: Export,
    /// Its output root (`OUT` or `OUT/<export name>`).
    pub(crate) out_root: PathBuf,
}

/// Returns the jobs: one export into `output` itself, or each found
/// export into `output/<name>`.
pub(crate) fn jobs(
    exports: Vec<Export>,
    output: &Path,
    nested: bool,
) -> Vec<Job> {
    exports
        .into_iter()
        .map(|export| {
            let out_root = if nested {
                output.join(&export.name)
            } else {
                output.to_path_buf()
            };
            Job { export, out_root }
        })
        .collect()
}

/// Runs every job, `parallel` at a time, and returns their outcomes in
/// job order (never completion order).
pub(crate) fn run_all(
    run: &Run,
    jobs: &[Job],
    parallel: usize,
) -> Vec<ExportOutcome> {
    let threads = parallel.clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<ExportOutcome>>> =
        Mutex::new(jobs.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                let outcome = if is_interrupted() {
                    ExportOutcome::interrupted(&job.export)
                } else {
                    export::run(run, job, i, jobs.len(), threads > 1)
                };
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(outcome);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .into_iter()
        .flatten()
        .collect()
}
