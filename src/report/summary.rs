//! The per-export summary block and the final overall summary
//! (cli.md §8.2, §8.3).

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
) -> String {
    let mut out = format!("{RULE}\nOVERALL SUMMARY\n{RULE}\n");
    let mut total = Counts::default();
    let mut ok = 0;
    for o in outcomes {
        ok += usize::from(o.is_success());
        total.add(&o.counts());
        let _ = writeln!(out, "  {:<15} {}", o.mark(), o.export.name);
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
    let _ = write!(out, "Reports: {reports}\n{RULE}");
    out
}
