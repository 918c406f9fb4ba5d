//! What memoria leaves besides the media: the per-export `report.json`,
//! the per-processor records that feed it and `failure-report.json`, and
//! (in submodules) the terminal: log lines, progress bars and summaries.

mod console;
mod log;
mod summary;

use std::path::Path;

use anyhow::Context;
use serde_json::{json, Map, Value};

pub(crate) use console::{Console, Phase, Progress, UploadBar};
pub(crate) use log::{
    init_logger, open_log_files, open_upload_only_log, set_context,
};
pub(crate) use summary::{
    export_summary, overall_summary, processor_line, upload_only_summary,
    ExportOutcome, UploadCounts, UploadState, LAYOUT_HELP,
};

use crate::media::{TempFile, Written};
use crate::plan::{Item, Orphan, Unmatched};
use crate::platform::Platform;

/// Counters of one processor run (`report.json` `counts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) written: usize,
    pub(crate) duplicate: usize,
    pub(crate) unmatched: usize,
    pub(crate) failed: usize,
    pub(crate) skipped: usize,
    pub(crate) orphaned_metadata: usize,
    pub(crate) sidecars: usize,
    pub(crate) exif_rebuilt: usize,
    pub(crate) warnings: usize,
}

impl Counts {
    /// Adds `other` to these counters.
    pub(crate) fn add(&mut self, other: &Counts) {
        self.written += other.written;
        self.duplicate += other.duplicate;
        self.unmatched += other.unmatched;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.orphaned_metadata += other.orphaned_metadata;
        self.sidecars += other.sidecars;
        self.exif_rebuilt += other.exif_rebuilt;
        self.warnings += other.warnings;
    }

    fn to_json(self) -> Value {
        json!({
            "written": self.written, "duplicate": self.duplicate,
            "unmatched": self.unmatched, "failed": self.failed,
            "skipped": self.skipped,
            "orphaned_metadata": self.orphaned_metadata,
            "sidecars": self.sidecars, "exif_rebuilt": self.exif_rebuilt,
            "warnings": self.warnings,
        })
    }
}

/// Everything one processor did in one export.
#[derive(Debug)]
pub(crate) struct ProcessorReport {
    name: &'static str,
    id: &'static str,
    folder: &'static str,
    username: String,
    error: Option<String>,
    counts: Counts,
    files: Vec<Value>,
    orphans: Vec<Value>,
    failed_processing: Vec<Value>,
    failure_report: Option<String>,
    plan_lines: Vec<String>,
    problems: Vec<String>,
    needs_matching: Vec<Value>,
}

impl ProcessorReport {
    /// Starts the record of `platform` for an export of `username`.
    pub(crate) fn new(platform: &dyn Platform, username: &str) -> Self {
        ProcessorReport {
            name: platform.name(),
            id: platform.id(),
            folder: platform.rules().folder,
            username: username.to_string(),
            error: None,
            counts: Counts::default(),
            files: Vec::new(),
            orphans: Vec::new(),
            failed_processing: Vec::new(),
            failure_report: None,
            plan_lines: Vec::new(),
            problems: Vec::new(),
            needs_matching: Vec::new(),
        }
    }

    /// Returns the record of a processor that could not run at all.
    pub(crate) fn could_not_run(
        platform: &dyn Platform,
        error: String,
    ) -> Self {
        let mut report = ProcessorReport::new(platform, "");
        report.error = Some(error);
        report
    }

    /// Returns the processor's display name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// Returns the processor's output folder.
    pub(crate) fn folder(&self) -> &'static str {
        self.folder
    }

    /// Returns the error that stopped the processor, if any.
    pub(crate) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Returns the counters.
    pub(crate) fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Returns true when the processor ran and no file failed.
    pub(crate) fn is_success(&self) -> bool {
        self.error.is_none() && self.counts.failed == 0
    }

    /// Records a problem to show on its own line.
    pub(crate) fn problem(&mut self, text: String) {
        self.problems.push(text);
    }

    /// Records a case copied to `needs_matching/` (reports.md §3.1).
    pub(crate) fn needs_matching(&mut self, entry: Value) {
        let folder = entry["folder"].as_str().unwrap_or_default();
        self.plan_lines.push(format!("NEEDS      {folder}"));
        self.needs_matching.push(entry);
    }

    /// Returns the inputs recorded as written.
    pub(crate) fn written_inputs(&self) -> std::collections::HashSet<&str> {
        self.files
            .iter()
            .filter(|f| f["fate"] == "written")
            .filter_map(|f| f["input"].as_str())
            .collect()
    }

    /// Returns the dry-run plan lines, in the order recorded.
    pub(crate) fn plan_lines(&self) -> &[String] {
        &self.plan_lines
    }

    /// Returns the one-line problems to show (failed files, warnings).
    pub(crate) fn problems(&self) -> &[String] {
        &self.problems
    }

    fn file(&mut self, input: &str, fate: &str, extra: Map<String, Value>) {
        let mut entry = Map::new();
        entry.insert("processor".into(), json!(self.name));
        entry.insert("input".into(), json!(input));
        entry.insert("fate".into(), json!(fate));
        entry.extend(extra);
        self.files.push(Value::Object(entry));
    }

    /// Records a written unit's primary with its full entry.
    pub(crate) fn written(
        &mut self,
        item: &Item,
        entry: Map<String, Value>,
        written: &Written,
    ) {
        self.counts.written += 1;
        self.counts.sidecars += usize::from(written.sidecar.is_some());
        self.counts.exif_rebuilt += usize::from(written.applied.exif_rebuilt);
        // The entry's warnings: the item's own and the writer's.
        let warnings = entry.get("warnings").and_then(Value::as_array);
        for warning in warnings.into_iter().flatten() {
            let text = warning.as_str().unwrap_or_default();
            self.counts.warnings += 1;
            self.problems.push(format!("{}: {text}", item.input));
        }
        self.file(&item.input, "written", entry);
    }

    /// Records a planned write of a dry run.
    pub(crate) fn planned(
        &mut self,
        item: &Item,
        entry: Map<String, Value>,
        line: String,
    ) {
        self.counts.written += 1;
        self.plan_lines.push(line);
        self.file(&item.input, "written", entry);
    }

    /// Records an input identical to an already planned primary.
    pub(crate) fn duplicate(
        &mut self,
        item: &Item,
        primary: &Item,
        output: &str,
    ) {
        self.counts.duplicate += 1;
        self.plan_lines
            .push(format!("DUPLICATE  {} = {}", item.input, primary.input));
        let mut extra = Map::new();
        extra.insert("duplicate_of".into(), json!(primary.input));
        extra.insert("output".into(), json!(output));
        self.file(&item.input, "duplicate", extra);
    }

    /// Records a file that could not be read or written.
    pub(crate) fn failed(
        &mut self,
        item: &Item,
        reason: &str,
        error: &str,
        planned: Option<&str>,
    ) {
        self.counts.failed += 1;
        self.problems.push(format!("{}: {error}", item.input));
        let mut extra = Map::new();
        extra.insert("reason".into(), json!(reason));
        extra.insert("error".into(), json!(error));
        extra.insert("planned_output".into(), json!(planned));
        self.file(&item.input, "failed", extra);
        let planned = planned.map(|p| p.rsplit('/').next().unwrap_or(p));
        self.failed_processing.push(json!({
            "file_path": item.input, "reason": reason,
            "error_details": error,
            "context": {"planned_output": planned},
        }));
    }

    /// Records a media file without metadata and where its copy went.
    pub(crate) fn unmatched(
        &mut self,
        item: &Unmatched,
        copy: &str,
        copied: &Result<(), String>,
    ) {
        self.counts.unmatched += 1;
        self.plan_lines.push(format!("UNMATCHED  {} -> {copy}", item.input));
        let mut extra = Map::new();
        extra.insert("reason".into(), json!(item.reason));
        match copied {
            Ok(()) => extra.insert("issues_copy".into(), json!(copy)),
            Err(e) => {
                self.problems.push(format!("{}: {e}", item.input));
                extra.insert("issues_copy".into(), Value::Null)
            }
        };
        self.file(&item.input, "unmatched", extra);
    }

    /// Marks the written entry of `item`, media written although nothing
    /// placed it, as an orphan with its `issues/` copy (reports.md §3).
    pub(crate) fn written_orphan(
        &mut self,
        item: &Unmatched,
        copy: &str,
        copied: &Result<(), String>,
    ) {
        self.counts.unmatched += 1;
        if let Err(e) = copied {
            self.problems.push(format!("{}: {e}", item.input));
        }
        let entry = self.files.iter_mut().rev().find(|f| {
            f["input"] == item.input.as_str() && f["fate"] == "written"
        });
        if let Some(Value::Object(entry)) = entry {
            entry.insert("orphan".into(), json!(true));
            let copy = copied.as_ref().ok().map(|()| copy);
            entry.insert("issues_copy".into(), json!(copy));
        }
    }

    /// Records an orphaned metadata entry and where it was saved.
    pub(crate) fn orphan(
        &mut self,
        orphan: &Orphan,
        saved: &str,
        result: &Result<(), String>,
    ) {
        self.counts.orphaned_metadata += 1;
        self.plan_lines.push(format!(
            "ORPHAN     {}\n           -> {saved}",
            orphan.source
        ));
        let saved_to = match result {
            Ok(()) => json!(saved),
            Err(e) => {
                self.problems.push(format!("{}: {e}", orphan.source));
                Value::Null
            }
        };
        self.orphans.push(json!({
            "processor": self.name, "source": orphan.source,
            "reason": orphan.reason, "saved_to": saved_to,
        }));
    }

    /// Records a file deliberately left out.
    pub(crate) fn skipped(&mut self, input: &str, reason: &str) {
        self.counts.skipped += 1;
        self.plan_lines.push(format!("SKIP       {input} ({reason})"));
        let mut extra = Map::new();
        extra.insert("reason".into(), json!(reason));
        self.file(input, "skipped", extra);
    }

    /// Returns the `failed_processing` entries of `failure-report.json`.
    pub(crate) fn failed_processing(&self) -> Vec<Value> {
        let mut list = self.failed_processing.clone();
        list.sort_by_key(|v| v["file_path"].as_str().unwrap_or("").to_string());
        list
    }

    /// Notes where the failure report was written (relative to the
    /// report's folder).
    pub(crate) fn set_failure_report(&mut self, path: String) {
        self.failure_report = Some(path);
    }

    /// Returns the `processors[]` entry.
    fn to_json(&self) -> Value {
        let status = if self.error.is_some() { "failed" } else { "success" };
        let counts = if self.error.is_some() && self.files.is_empty() {
            json!({})
        } else {
            self.counts.to_json()
        };
        json!({
            "name": self.name, "id": self.id, "status": status,
            "error": self.error, "output_folder": self.folder,
            "username": self.username, "counts": counts,
            "failure_report": self.failure_report,
        })
    }
}

/// Settings recorded in `report.json`.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) timezone: String,
    pub(crate) timezone_source: &'static str,
    pub(crate) workers: usize,
    pub(crate) processor_filter: Option<String>,
}

/// Builds the `report.json` document of one export.
pub(crate) fn export_json(
    outcome: &ExportOutcome,
    settings: &Settings,
    output_root: &Path,
) -> Value {
    let mut files: Vec<&Value> = Vec::new();
    let mut orphans: Vec<&Value> = Vec::new();
    let mut processors = Vec::new();
    let mut needs: Vec<&Value> = Vec::new();
    for p in &outcome.processors {
        needs.extend(&p.needs_matching);
        let start = files.len();
        files.extend(&p.files);
        files[start..].sort_by(|a, b| input_key(a).cmp(input_key(b)));
        let start = orphans.len();
        orphans.extend(&p.orphans);
        orphans[start..].sort_by(|a, b| source_key(a).cmp(source_key(b)));
        processors.push(p.to_json());
    }
    json!({
        "schema": "memoria-report/1",
        "memoria_version": env!("CARGO_PKG_VERSION"),
        "generated_at": local_now_seconds(),
        "duration_seconds": (outcome.seconds * 10.0).round() / 10.0,
        "status": outcome.status_str(),
        "export": {"name": outcome.export.name,
                   "path": outcome.export.path.display().to_string()},
        "output_root": output_root.display().to_string(),
        "settings": {"timezone": settings.timezone,
                     "timezone_source": settings.timezone_source,
                     "overlay_video": "mp4",
                     "workers": settings.workers,
                     "processor_filter": settings.processor_filter},
        "processors": processors,
        "files": files,
        "orphaned_metadata": orphans,
        "needs_matching": needs,
    })
}

fn input_key(v: &Value) -> &[u8] {
    v["input"].as_str().unwrap_or("").as_bytes()
}

fn source_key(v: &Value) -> &[u8] {
    v["source"].as_str().unwrap_or("").as_bytes()
}

/// Writes `value` as pretty JSON (two-space indent, UTF-8 unescaped)
/// atomically to `path`, creating its folder.
pub(crate) fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;
    }
    let mut tmp = TempFile::create(path)?;
    serde_json::to_writer_pretty(&mut tmp, value)
        .with_context(|| format!("failed to write {}", path.display()))?;
    std::io::Write::write_all(&mut tmp, b"\n")
        .with_context(|| format!("failed to write {}", path.display()))?;
    tmp.persist(path, None)
}

/// Returns the local time now with offset and milliseconds.
pub(crate) fn local_now_millis() -> String {
    jiff::ZonedDateTime::now().strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// Returns the local time now with offset, whole seconds.
fn local_now_seconds() -> String {
    jiff::ZonedDateTime::now().strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}
