//! `upload-report.json` (upload.md §7): one per export, next to its
//! `report.json`, rewritten atomically after each of the export's jobs.

use std::collections::HashMap;
use std::path::PathBuf;

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
