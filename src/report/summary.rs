//! The per-export summary block and the final overall summary
//! (cli.md §8.2, §8.3).

use std::collections::HashMap;
use std::fmt::Write;

use super::{Counts, ProcessorReport};
use crate::plan::Export;

/// Rule printed above and below the overall summary.
const RULE: &str =
    "######################################################################";

/// How one export ended.
#[derive(Debug)]
pub(crate) struct ExportOutcome {
    /// The export.
    pub(crate) export: Export,
    /// Records of the processors that ran, in registry order.
    pub(crate) processors: Vec<ProcessorReport>,
    /// Wall time in seconds.
    pub(crate) seconds: f64,
    /// An error that stopped the export as a whole (no processor matched,
    /// output not writable).
    pub(crate) error: Option<String>,
    /// True when Ctrl-C stopped the export before it finished.
    pub(crate) interrupted: bool,
}

impl ExportOutcome {
    /// Returns the outcome of an export Ctrl-C kept from starting.
    pub(crate) fn interrupted(export: &Export) -> ExportOutcome {
        ExportOutcome {
            export: export.clone(),
            processors: Vec::new(),
            seconds: 0.0,
            error: None,
            interrupted: true,
        }
    }

    /// Returns true when the export and every processor succeeded.
    pub(crate) fn is_success(&self) -> bool {
        !self.interrupted
            && self.error.is_none()
            && self.processors.iter().all(|p| p.is_success())
    }

    /// Returns the `status` of `report.json`.
    pub(crate) fn status_str(&self) -> &'static str {
        if self.interrupted {
            "interrupted"
        } else if self.is_success() {
            "success"
        } else {
            "failed"
        }
    }

    /// Returns the status mark of the summaries.
    fn mark(&self) -> &'static str {
        match self.status_str() {
            "interrupted" => "✗ INTERRUPTED",
            "success" => "✓ SUCCESS",
            _ => "✗ FAILED",
        }
    }

    /// Returns the counters summed over processors.
    pub(crate) fn counts(&self) -> Counts {
        let mut total = Counts::default();
        for p in &self.processors {
            total.add(p.counts());
        }
        total
    }
}

/// The supported layouts listed after `No processors matched` (cli.md
/// §8.2): the platforms memoria has so far.
pub(crate) const LAYOUT_HELP: &str = "\
Supported layouts (inside the export folder):
  Google Photos            Google Photos/<album>/…          (also under Takeout/)
  Google Chat              Google Chat/Groups/<DM|Space …>/messages.json
  Google Voice             Voice/Calls/… - Text - ….html
  Snapchat Memories        [memories/] media/ + overlays/ + metadata.json
  Snapchat Messages        [messages/] json/chat_history.json + chat_media/
Run with --list-processors to see all available processors.";

/// Upload outcomes of one export, one job or the whole run (upload.md
/// §6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UploadCounts {
    /// Sent and created on the server.
    pub(crate) uploaded: usize,
    /// Already on the server.
    pub(crate) duplicate: usize,
    /// Failed uploads or album assignments.
    pub(crate) failed: usize,
    /// Not uploaded on purpose (unsupported type, interrupted).
    pub(crate) skipped: usize,
}

impl UploadCounts {
    /// Adds `other` to these counters.
    pub(crate) fn add(&mut self, other: &UploadCounts) {
        self.uploaded += other.uploaded;
        self.duplicate += other.duplicate;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }

    /// Returns the number of files counted.
    pub(crate) fn total(&self) -> usize {
        self.uploaded + self.duplicate + self.failed + self.skipped
    }

    /// Returns `N uploaded, N already on server, N failed, N skipped`.
    pub(crate) fn text(&self) -> String {
        format!(
            "{} uploaded, {} already on server, {} failed, {} skipped",
            self.uploaded, self.duplicate, self.failed, self.skipped
        )
    }
}

/// What uploading did in a run, for the final summary (cli.md §8.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UploadState {
    /// Uploading was not enabled: no `Upload:` line.
    Off,
    /// Preflight failed: `Upload: FAILED (<reason>)`.
    Failed(String),
    /// The uploader ran; counts per export name.
    Done(HashMap<String, UploadCounts>),
}

impl UploadState {
    /// Returns true when the run must end with exit code 1 because of
    /// uploads: a failed preflight or any failed file.
    pub(crate) fn is_failure(&self) -> bool {
        match self {
            UploadState::Off => false,
            UploadState::Failed(_) => true,
            UploadState::Done(per) => per.values().any(|c| c.failed > 0),
        }
    }

    /// Returns the `Upload:` line, if any.
    fn line(&self) -> Option<String> {
        match self {
            UploadState::Off => None,
            UploadState::Failed(reason) => {
                Some(format!("Upload: FAILED ({reason})"))
            }
            UploadState::Done(per) => {
                let mut total = UploadCounts::default();
                for counts in per.values() {
                    total.add(counts);
                }
                Some(format!("Upload: {}", total.text()))
            }
        }
    }

    /// Returns the upload counts of `export`, when it uploaded anything.
    fn of(&self, export: &str) -> Option<&UploadCounts> {
        match self {
            UploadState::Done(per) => per.get(export),
            _ => None,
        }
    }
}

/// Returns the `UPLOAD SUMMARY` block of `--upload-only` (upload.md §8
/// step 9).
pub(crate) fn upload_only_summary(counts: &UploadCounts, log: &str) -> String {
    format!(
        "{RULE}\nUPLOAD SUMMARY\n{RULE}\nTotal files: {}\nUploaded: {}\n\
         Already on server: {}\nFailed: {}\nSkipped: {}\nLog: {log}\n{RULE}",
        counts.total(),
        counts.uploaded,
        counts.duplicate,
        counts.failed,
        counts.skipped
    )
}

/// Returns the status line of one processor (cli.md §8.2).
pub(crate) fn processor_line(p: &ProcessorReport, seconds: f64) -> String {
    if let Some(err) = p.error() {
        return format!("✗ FAILED: {} — {err}", p.name());
    }
    let c = p.counts();
    let mut parts = vec![format!("{} written", c.written)];
    if c.duplicate > 0 {
        parts.push(format!("{} duplicates", c.duplicate));
    }
    if c.unmatched > 0 {
        parts.push(format!(
            "{} unmatched ({}/issues/)",
            c.unmatched,
            p.folder()
        ));
    }
    if c.orphaned_metadata > 0 {
        parts.push(format!("{} orphaned metadata", c.orphaned_metadata));
    }
    if c.failed > 0 {
        parts.push(format!("{} failed", c.failed));
    }
    let mark = if c.failed > 0 { "✗ FAILED" } else { "✓ SUCCESS" };
    format!("{mark}: {} — {}, {seconds:.1} s", p.name(), parts.join(", "))
}

/// Returns the `SUMMARY <export>` block printed after an export.
pub(crate) fn export_summary(outcome: &ExportOutcome) -> String {
    let mut out = format!("SUMMARY {}\n", outcome.export.name);
    let mut ok = 0;
    for p in &outcome.processors {
        let status = if p.is_success() { "✓ SUCCESS" } else { "✗ FAILED" };
        ok += usize::from(p.is_success());
        let _ = match p.error() {
            Some(err) => writeln!(out, "  {status:<15} {} ({err})", p.name()),
            None => writeln!(out, "  {status:<15} {}", p.name()),
        };
    }
    let n = outcome.processors.len();
    let _ = write!(out, "Total: {ok} succeeded, {} failed out of {n}", n - ok);
    out
}

/// Returns the final summary of the run (cli.md §8.3).
pub(crate) fn overall_summary(
    outcomes: &[ExportOutcome],
    reports: &str,
    upload: &UploadState,
) -> String {
    let mut out = format!("{RULE}\nOVERALL SUMMARY\n{RULE}\n");
    let mut total = Counts::default();
    let mut ok = 0;
    for o in outcomes {
        ok += usize::from(o.is_success());
        total.add(&o.counts());
        let _ = match upload.of(&o.export.name) {
            Some(c) => writeln!(
                out,
                "  {:<15} {} (upload: {} uploaded, {} already on server, \
                 {} failed)",
                o.mark(),
                o.export.name,
                c.uploaded,
                c.duplicate,
                c.failed
            ),
            None => writeln!(out, "  {:<15} {}", o.mark(), o.export.name),
        };
    }
    let n = outcomes.len();
    let _ = writeln!(
        out,
        "\nTotal: {ok} succeeded, {} failed out of {n} export(s)",
        n - ok
    );
    let _ = writeln!(
        out,
        "Files: {} written, {} duplicates merged, {} unmatched, {} failed",
        total.written, total.duplicate, total.unmatched, total.failed
    );
    if let Some(line) = upload.line() {
        let _ = writeln!(out, "{line}");
    }
    let _ = write!(out, "Reports: {reports}\n{RULE}");
    out
}
