//! One export: detect its platforms, run each plan through the engine in
//! registry order, print the status lines and write `report.json`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use super::process::{self, Ctx};
use super::{Job, Run};
use crate::platform::{self, Platform};
use crate::report::{self, ExportOutcome, ProcessorReport, Settings};
use crate::upload;

/// Banner rule of the per-export block.
const RULE: &str =
    "######################################################################";

/// Runs export `index` of `total` and returns how it ended.
pub(crate) fn run(
    run: &Run,
    job: &Job,
    index: usize,
    total: usize,
    prefixed: bool,
) -> ExportOutcome {
    let started = Instant::now();
    let export = &job.export;
    report::set_context(&export.name, "-");
    log::info!("export started: {}", export.path.display());
    let say = |text: &str| {
        for line in text.lines() {
            if prefixed {
                run.console.info(&format!("[{}] {line}", export.name));
            } else {
                run.console.info(line);
            }
        }
    };
    if total > 1 {
        say(&format!(
            "{RULE}\nEXPORT {}/{total}: {}\n{RULE}",
            index + 1,
            export.name
        ));
    }
    say(&format!("Analyzing: {}", export.path.display()));
    let detected = detect(run, export);
    let mut outcome = ExportOutcome {
        export: export.clone(),
        processors: Vec::new(),
        seconds: 0.0,
        error: None,
        interrupted: false,
    };
    if detected.is_empty() {
        no_platform(run, job, &mut outcome, &say);
        return finish(run, job, outcome, started, &[]);
    }
    say(&format!("Detected {} processor(s):", detected.len()));
    for p in &detected {
        say(&format!("  • {}", p.name()));
    }
    say(&format!("Output: {}\n", job.out_root.display()));
    if let Err(err) = prepare_output(run, job, &detected) {
        outcome.error = Some(format!("{err:#}"));
        run.console.line(&format!("ERROR: {err:#}"));
        return finish(run, job, outcome, started, &[]);
    }
    let (processors, upload_plan) = run_platforms(run, job, &detected, &say);
    outcome.processors = processors;
    finish(run, job, outcome, started, &upload_plan)
}

/// Returns the detected platforms, filtered by `--processor`.
fn detect(
    run: &Run,
    export: &crate::plan::Export,
) -> Vec<&'static dyn Platform> {
    platform::registry()
        .into_iter()
        .filter(|p| run.config.processor.is_none_or(|want| want.id() == p.id()))
        .filter(|p| p.detect(export))
        .collect()
}

/// Handles an export that no platform matched.
fn no_platform(
    run: &Run,
    job: &Job,
    outcome: &mut ExportOutcome,
    say: &dyn Fn(&str),
) {
    let path = job.export.path.display();
    if let Some(wanted) = run.config.processor {
        say(&format!("No {} exports found in: {path}", wanted.name()));
        return;
    }
    run.console.line(&format!(
        "ERROR: No processors matched input directory: {path}\n{}",
        report::LAYOUT_HELP
    ));
    outcome.error = Some("No processors matched".to_string());
}

/// Creates the output root and clears the `issues/` and `needs_matching/`
/// folders the detected platforms are about to write (reports.md §2.1).
fn prepare_output(
    run: &Run,
    job: &Job,
    detected: &[&'static dyn Platform],
) -> anyhow::Result<()> {
    if run.config.dry_run {
        return Ok(());
    }
    std::fs::create_dir_all(&job.out_root).with_context(|| {
        format!("failed to create {}", job.out_root.display())
    })?;
    let folders = detected.iter().map(|p| job.out_root.join(p.rules().folder));
    for dir in
        folders.flat_map(|f| [f.join("issues"), f.join("needs_matching")])
    {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("failed to clear {}", dir.display())
                })
            }
        }
    }
    Ok(())
}

/// Runs each detected platform in registry order on the export's pool,
/// handing each successful platform's files to the uploader. Returns the
/// reports and, for a dry run with uploading enabled, each platform's
/// `UPLOAD` plan lines.
fn run_platforms(
    run: &Run,
    job: &Job,
    detected: &[&'static dyn Platform],
    say: &dyn Fn(&str),
) -> (Vec<ProcessorReport>, Vec<Vec<String>>) {
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(run.config.workers)
        .thread_name(|i| format!("memoria-worker-{i}"))
        .build()
    {
        Ok(pool) => pool,
        Err(err) => {
            let msg = format!("failed to start worker threads: {err}");
            let reports = detected
                .iter()
                .map(|p| ProcessorReport::could_not_run(*p, msg.clone()))
                .collect();
            return (reports, Vec::new());
        }
    };
    let progress = run.console.progress(&job.export.name);
    let scratch = Scratch::new(run, &job.export.name);
    let cx = Ctx {
        export: &job.export,
        out_root: &job.out_root,
        zones: run.zones,
        pool: &pool,
        dry_run: run.config.dry_run,
        progress: &progress,
        overlay_video: run.config.overlay_video,
        scratch: &scratch.path,
        workers: run.config.workers,
        no_download: run.config.no_download,
    };
    let mut allocators = HashMap::new();
    let mut reports = Vec::new();
    let mut upload_plan = Vec::new();
    for (i, p) in detected.iter().enumerate() {
        say(&format!("[{}/{}] Running: {}", i + 1, detected.len(), p.name()));
        progress.processor(p.name());
        report::set_context(&job.export.name, p.name());
        let started = Instant::now();
        let (report, files) = match p.plan(&job.export) {
            Ok(plan) => process::run(&cx, *p, plan, &mut allocators),
            Err(err) => (
                ProcessorReport::could_not_run(*p, format!("{err:#}")),
                Vec::new(),
            ),
        };
        for problem in report.problems() {
            say(&format!("  ! {problem}"));
        }
        let line =
            report::processor_line(&report, started.elapsed().as_secs_f64());
        log::info!("{line}");
        say(&line);
        let upload_job = upload::Job {
            export: job.export.name.clone(),
            processor: p.name().to_string(),
            out_root: job.out_root.clone(),
            folder: p.rules().folder.to_string(),
            files,
        };
        upload_plan.extend(hand_over(run, &report, upload_job));
        reports.push(report);
    }
    progress.finish();
    (reports, upload_plan)
}

/// Hands a processor's written files to the uploader, or in a dry run
/// returns the `UPLOAD` plan lines. Only a processor that ran hands over
/// its files (upload.md §2).
fn hand_over(
    run: &Run,
    report: &ProcessorReport,
    job: upload::Job,
) -> Option<Vec<String>> {
    match &run.config.upload {
        Some(settings) if run.config.dry_run => {
            Some(upload::plan_lines(&job, &settings.ignore))
        }
        _ if report.error().is_none() && !job.files.is_empty() => {
            if let Some(queue) = run.uploads {
                queue.submit(job);
            }
            None
        }
        _ => None,
    }
}

/// The export's scratch folder for ffmpeg passes: `TEMP_DIR` (else the
/// system temp folder) `/memoria-<pid>-<export>`, removed when the export
/// ends unless `DISABLE_TEMP_CLEANUP` is true (cli.md §3). A dry run
/// creates none.
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    fn new(run: &Run, export: &str) -> Scratch {
        let env = &run.config.env;
        let base =
            env.get("TEMP_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
        let path =
            base.join(format!("memoria-{}-{export}", std::process::id()));
        let keep = env.boolean("DISABLE_TEMP_CLEANUP").unwrap_or(false);
        if !run.config.dry_run {
            if let Err(err) = std::fs::create_dir_all(&path) {
                log::warn!(
                    "cannot create scratch folder {}: {err}",
                    path.display()
                );
            }
        }
        Scratch { path, keep }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Prints the export summary, the dry-run plan or writes `report.json`.
fn finish(
    run: &Run,
    job: &Job,
    mut outcome: ExportOutcome,
    started: Instant,
    upload_plan: &[Vec<String>],
) -> ExportOutcome {
    outcome.seconds = started.elapsed().as_secs_f64();
    outcome.interrupted = super::is_interrupted();
    if !outcome.processors.is_empty() {
        run.console.info(&format!("\n{}\n", report::export_summary(&outcome)));
    }
    if run.config.dry_run {
        print_plan(&outcome, upload_plan);
        return outcome;
    }
    let settings = settings(run);
    let doc = report::export_json(&outcome, &settings, &job.out_root);
    if let Err(err) =
        report::write_json(&job.out_root.join("report.json"), &doc)
    {
        run.console.line(&format!("ERROR: {err:#}"));
        outcome.error = Some(format!("{err:#}"));
    }
    outcome
}

/// Returns the settings block of `report.json`.
fn settings(run: &Run) -> Settings {
    let (timezone, source) = run.zones.fallback();
    Settings {
        timezone: timezone.to_string(),
        timezone_source: source,
        workers: run.config.workers,
        processor_filter: run.config.processor.map(|p| p.name().to_string()),
    }
}

/// Prints the dry-run plan of an export on stdout (cli.md §9), with the
/// `UPLOAD` lines of each processor when uploading is enabled.
fn print_plan(outcome: &ExportOutcome, upload_plan: &[Vec<String>]) {
    let mut out = std::io::stdout().lock();
    for (i, p) in outcome.processors.iter().enumerate() {
        let _ = writeln!(
            out,
            "# {} · {} → {}/",
            outcome.export.name,
            p.name(),
            p.folder()
        );
        let uploads = upload_plan.get(i).map(Vec::as_slice).unwrap_or(&[]);
        for line in p.plan_lines().iter().chain(uploads) {
            let _ = writeln!(out, "{line}");
        }
    }
}
