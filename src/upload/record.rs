//! `upload-report.json` (upload.md §7): one per export, next to its
//! `report.json`, rewritten atomically after each of the export's jobs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use serde_json::{json, Map, Value};

use super::job::{Done, Outcome, Status};
use super::{Job, Server};

/// The jobs recorded so far, per export.
pub(super) struct Records {
    server: Value,
    bulk_check: bool,
    exports: HashMap<String, (PathBuf, Vec<Value>)>,
}

impl Records {
    /// Starts the records of a run against `server`.
    pub(super) fn new(server: &Server, bulk_check: bool) -> Records {
        let user = server.user.as_ref().map(|u| u.email.clone());
        Records {
            server: json!({
                "api": server.api(),
                "version": server.version.to_string(),
                "user": user,
            }),
            bulk_check,
            exports: HashMap::new(),
        }
    }

    /// Adds a finished job and rewrites its export's report.
    pub(super) fn add(&mut self, job: &Job, done: &Done) -> anyhow::Result<()> {
        let entry = self
            .exports
            .entry(job.export.clone())
            .or_insert_with(|| (job.out_root.clone(), Vec::new()));
        entry.1.push(job_json(job, done));
        let doc = json!({
            "schema": "memoria-upload-report/1",
            "memoria_version": env!("CARGO_PKG_VERSION"),
            "generated_at": jiff::ZonedDateTime::now()
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
            "export": job.export,
            "server": self.server,
            "bulk_check": self.bulk_check,
            "jobs": entry.1,
        });
        crate::report::write_json(&entry.0.join("upload-report.json"), &doc)
    }
}

/// Returns the `jobs[]` entry of one job.
fn job_json(job: &Job, done: &Done) -> Value {
    let counts = done.counts();
    let files: Vec<Value> = done.files.iter().map(file_json).collect();
    json!({
        "processor": job.processor,
        "folder": job.folder,
        "albums": done.albums,
        "counts": {
            "uploaded": counts.uploaded, "duplicate": counts.duplicate,
            "failed": counts.failed, "skipped": counts.skipped,
        },
        "files": files,
    })
}

/// Returns the entry of one file.
fn file_json(outcome: &Outcome) -> Value {
    let mut entry = Map::new();
    entry.insert("path".into(), json!(outcome.file.path));
    entry.insert("sha1".into(), json!(outcome.file.sha1));
    entry.insert("status".into(), json!(outcome.status.as_str()));
    if outcome.in_trash {
        entry.insert("in_trash".into(), json!(true));
    }
    match outcome.status {
        Status::Failed => {
            entry.insert("error".into(), json!(outcome.error));
            entry.insert("attempts".into(), json!(outcome.attempts));
        }
        Status::Skipped => {
            entry.insert("reason".into(), json!(outcome.error));
        }
        Status::Uploaded | Status::Duplicate => {}
    }
    if let Some(id) = &outcome.asset_id {
        entry.insert("asset_id".into(), json!(id));
    }
    if matches!(outcome.status, Status::Uploaded | Status::Duplicate) {
        entry.insert("albums".into(), json!(outcome.file.albums));
    }
    Value::Object(entry)
}

/// Copies each file's upload result from `upload-report.json` into the
/// `written` entries of `report.json` in `out_root` (reports.md §3 and the
/// uploader issue: the audit records the upload result and asset id).
///
/// Runs once the uploader has finished, so both files are final; an
/// export without uploads is left alone.
pub(crate) fn annotate_report(out_root: &Path) -> anyhow::Result<()> {
    let uploads = out_root.join("upload-report.json");
    if !uploads.exists() {
        return Ok(());
    }
    let results = results_by_path(&read_json(&uploads)?);
    let path = out_root.join("report.json");
    let mut report = read_json(&path)?;
    let files = report.get_mut("files").and_then(Value::as_array_mut);
    for entry in files.into_iter().flatten() {
        let written =
            entry.get("fate").and_then(Value::as_str) == Some("written");
        let output = entry.get("output").and_then(Value::as_str);
        let result = output.and_then(|o| results.get(o)).filter(|_| written);
        if let (Some(result), Some(map)) = (result, entry.as_object_mut()) {
            map.insert("upload".into(), result.clone());
        }
    }
    crate::report::write_json(&path, &report)
}

/// Returns `{status, asset_id, error}` per uploaded path.
fn results_by_path(doc: &Value) -> HashMap<String, Value> {
    let jobs = doc.get("jobs").and_then(Value::as_array);
    let files = jobs.into_iter().flatten().filter_map(|job| job.get("files"));
    let mut out = HashMap::new();
    for file in files.filter_map(Value::as_array).flatten() {
        let Some(path) = file.get("path").and_then(Value::as_str) else {
            continue;
        };
        let mut result = Map::new();
        for key in ["status", "asset_id", "error", "reason"] {
            if let Some(value) = file.get(key) {
                result.insert(key.into(), value.clone());
            }
        }
        out.insert(path.to_string(), Value::Object(result));
    }
    out
}

/// Reads a JSON file.
fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("invalid JSON in {}", path.display()))
}
