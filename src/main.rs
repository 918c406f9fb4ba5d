//! memoria turns platform data exports into dated media libraries.
//!
//! Domain nouns: an **export** is one platform download (a folder); an
//! **item** is one photo or video plus the metadata matched to it; a
//! **capture time** is the absolute instant it was taken; the **library**
//! is the output tree; an **upload** hands its files to Immich. Flow:
//! `cli`/`config` → `discover` → per export `platform` plans → `engine`
//! writes through `media` → `report`, and `upload` sends the written files
//! to Immich on its own thread.

mod cli;
mod config;
mod discover;
#[allow(dead_code)] // called by the engine's fetch step
mod download;
mod engine;
mod media;
mod plan;
mod platform;
mod report;
mod time;
mod upload;

use std::path::Path;
use std::process::ExitCode;

use config::{Config, Inputs, LoadError, Loaded, Verbosity};
use report::{Console, UploadState};
use upload::{PreflightError, Uploader};

fn main() -> ExitCode {
    report::init_logger(log::LevelFilter::Warn);
    let config = match config::load(std::env::args_os()) {
        Ok(Loaded::Run(config)) => config,
        Ok(Loaded::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(LoadError::Clap(err)) => err.exit(),
        Err(LoadError::Usage(err)) => {
            eprintln!("ERROR: {}", err.message);
            if err.show_usage {
                eprintln!("{}", cli::usage());
            }
            return ExitCode::from(2);
        }
    };
    report::init_logger(config.verbosity.level());
    let verbose = config.verbosity.level() >= log::LevelFilter::Debug;
    if verbose && !config.dry_run {
        if let Err(err) = report::open_log_files(Path::new(".")) {
            log::warn!("no log files: {err:#}");
        }
    }
    run(&config)
}

/// Processes every export and returns the exit code of cli.md §12.
fn run(config: &Config) -> ExitCode {
    let quiet = config.verbosity == Verbosity::Quiet;
    let console = Console::new(config.progress, quiet);
    engine::handle_interrupts();
    if let (Some(out), Inputs::Single(export)) =
        (&config.upload_only, &config.inputs)
    {
        let code = upload::only::run(config, &console, export, out);
        return exit_code(code, &[], &UploadState::Off);
    }
    let (exports, nested) = match &config.inputs {
        Inputs::Single(export) => (vec![export.clone()], false),
        Inputs::Originals(dir) => match find_exports(&console, dir, config) {
            Some(exports) => (exports, true),
            None => return ExitCode::from(1),
        },
    };
    if nested {
        advise(config, &console, exports.len());
    }
    let uploads = match start_uploads(config, &console) {
        Ok(uploads) => uploads,
        Err(code) => return code,
    };
    std::thread::spawn(time::warm_up);
    let jobs = engine::jobs(exports, &config.output, nested);
    let outcomes = process(config, &console, &jobs, &uploads, nested);
    let upload = uploads.finish(&console);
    if matches!(upload, UploadState::Done(_)) {
        for job in &jobs {
            if let Err(err) = upload::annotate_report(&job.out_root) {
                log::error!("{err:#}");
            }
        }
    }
    let reports = if nested {
        format!(
            "{}/<export>/report.json (one per export)",
            config.output.display()
        )
    } else {
        format!("{}/report.json", config.output.display())
    };
    console.line(&report::overall_summary(&outcomes, &reports, &upload));
    exit_code(0, &outcomes, &upload)
}

/// Prints the oversubscription advice of cli.md §6 when it applies.
fn advise(config: &Config, console: &Console, exports: usize) {
    let advice = engine::oversub::check(
        config.parallel_exports,
        exports,
        config.workers,
        config.cpus,
    );
    if let Some(advice) = advice {
        console.line(&advice.to_string());
    }
}

/// Runs every export job, handing finished files to the uploader when it
/// runs, and returns the outcomes in job order.
fn process(
    config: &Config,
    console: &Console,
    jobs: &[engine::Job],
    uploads: &Uploads,
    nested: bool,
) -> Vec<report::ExportOutcome> {
    let zones = zones(config);
    let queue = match uploads {
        Uploads::Running(uploader) => Some(uploader.queue()),
        _ => None,
    };
    let run = engine::Run { config, zones: &zones, console, uploads: queue };
    let parallel = if nested { config.parallel_exports } else { 1 };
    engine::run_all(&run, jobs, parallel)
}

/// Returns the exit code of cli.md §12: 130 after Ctrl-C, `code` when it
/// is not 0, else 1 when an export or an upload failed.
fn exit_code(
    code: u8,
    outcomes: &[report::ExportOutcome],
    upload: &UploadState,
) -> ExitCode {
    if engine::is_interrupted() {
        ExitCode::from(130)
    } else if code != 0 {
        ExitCode::from(code)
    } else if outcomes.iter().all(report::ExportOutcome::is_success)
        && !upload.is_failure()
    {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Uploading in a normal run.
enum Uploads {
    /// Not configured, skipped, or a dry run.
    Off,
    /// Preflight could not reach the server.
    Unreachable(String),
    /// The uploader thread is draining the queue.
    Running(Uploader),
}

impl Uploads {
    /// Waits for the uploader and returns what it did.
    fn finish(self, console: &Console) -> UploadState {
        match self {
            Uploads::Off => UploadState::Off,
            Uploads::Unreachable(reason) => UploadState::Failed(reason),
            Uploads::Running(uploader) => {
                UploadState::Done(uploader.finish(console))
            }
        }
    }
}

/// Runs the Immich preflight and starts the uploader (upload.md §1);
/// a configuration error ends the run with exit code 2.
fn start_uploads(
    config: &Config,
    console: &Console,
) -> Result<Uploads, ExitCode> {
    let Some(settings) = config.upload.as_ref().filter(|_| !config.dry_run)
    else {
        return Ok(Uploads::Off);
    };
    match upload::preflight(settings) {
        Ok(server) => {
            console.info(&server.status_line());
            let uploader = Uploader::start(
                server,
                settings.clone(),
                console.clone(),
                None,
            );
            Ok(uploader.map_or_else(
                |err| Uploads::Unreachable(format!("no uploader: {err}")),
                Uploads::Running,
            ))
        }
        Err(PreflightError::Config(reason)) => {
            console.line(&format!("ERROR: Immich {reason}"));
            Err(ExitCode::from(2))
        }
        Err(PreflightError::Transient(reason)) => {
            log::warn!(
                "Immich unreachable: {reason}. Continuing without upload."
            );
            Ok(Uploads::Unreachable(reason))
        }
    }
}

/// Returns the zone resolution of the run. `TZ` decides the machine zone;
/// one set only in the `.env` file counts too (cli.md §3).
fn zones(config: &Config) -> time::Zones {
    let flag = config.timezone.clone();
    let from_env =
        config.env.get("TZ").filter(|_| std::env::var_os("TZ").is_none());
    match from_env.map(jiff::tz::TimeZone::get) {
        Some(Ok(machine)) => time::Zones::with_machine(flag, machine),
        Some(Err(err)) => {
            log::warn!("ignoring TZ from the .env file: {err}");
            time::Zones::new(flag)
        }
        None => time::Zones::new(flag),
    }
}

/// Finds the exports under `--originals` and lists them; `None` when
/// there are none (exit code 1).
fn find_exports(
    console: &Console,
    dir: &std::path::Path,
    config: &Config,
) -> Option<Vec<plan::Export>> {
    let exports = match discover::exports_in(dir, &config.output) {
        Ok(exports) => exports,
        Err(err) => {
            console.line(&format!("ERROR: {err:#}"));
            return None;
        }
    };
    if exports.is_empty() {
        console.line(&format!(
            "ERROR: No export folders found in: {}",
            dir.display()
        ));
        return None;
    }
    let mut text = format!(
        "Found {} export(s) to process in: {}\n",
        exports.len(),
        dir.display()
    );
    for export in &exports {
        text.push_str(&format!("  • {}\n", export.name));
    }
    console.info(&text);
    Some(exports)
}
