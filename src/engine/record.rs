//! What the engine records about each unit: its `report.json` entry, its
//! dry-run plan lines, and the uploader's view of the written file.

use serde_json::{json, Map, Value};

use super::inspect::Inspected;
use super::process::{file_ext, Job, Unit, INTERRUPTED};
use super::render::Done;
use crate::media::model::offset_text;
use crate::plan::Item;
use crate::report::ProcessorReport;
use crate::upload;

/// Returns the uploader's view of a written (or planned) unit: path,
/// size, SHA-1, capture instant, favourite (any member), albums and
/// sidecar (upload.md §2).
pub(super) fn upload_file(
    items: &[Item],
    unit: &Unit,
    job: &Job,
    done: Option<&Done>,
) -> upload::File {
    let output = done.map_or(job.output.as_str(), |d| d.output.as_str());
    let written = done.map(|d| &d.written);
    let folder = output.rsplit_once('/').map_or("", |(dir, _)| dir);
    let sidecar = written
        .and_then(|w| w.sidecar.as_ref())
        .and_then(|p| p.file_name())
        .map(|name| format!("{folder}/{}", name.to_string_lossy()));
    upload::File {
        path: output.to_string(),
        size: written.map_or(0, |w| w.size),
        sha1: written.map(|w| w.sha1.clone()),
        taken: job.mtime,
        favorite: unit.members.iter().any(|&i| items[i].favorite),
        albums: unit.albums.clone(),
        sidecar,
    }
}

/// Records the fates of one unit after writing.
pub(super) fn record(
    report: &mut ProcessorReport,
    items: &[Item],
    unit: &Unit,
    job: &Job,
    result: Result<Done, String>,
    inspected: &[Result<Inspected, String>],
) {
    let primary = &items[unit.members[0]];
    match result {
        Ok(done) => {
            let entry = written_entry(items, unit, job, Some(&done), inspected);
            report.written(primary, entry, &done.written);
            for &dup in &unit.members[1..] {
                log::debug!(
                    "{}: same content as {}",
                    items[dup].input,
                    primary.input
                );
                report.duplicate(&items[dup], primary, &done.output);
            }
        }
        Err(err) if err == INTERRUPTED => {
            for &i in &unit.members {
                report.skipped(&items[i].input, INTERRUPTED);
            }
        }
        Err(err) => {
            report.failed(primary, "Write failed", &err, Some(&job.output));
            for &dup in &unit.members[1..] {
                report.failed(
                    &items[dup],
                    "Write failed",
                    &err,
                    Some(&job.output),
                );
            }
        }
    }
}

/// Records the planned fates of a dry run and its plan lines.
pub(super) fn record_dry(
    report: &mut ProcessorReport,
    items: &[Item],
    units: &[Unit],
    jobs: &[Job],
    inspected: &[Result<Inspected, String>],
) {
    for job in jobs {
        let unit = &units[job.unit];
        let primary = &items[unit.members[0]];
        let entry = written_entry(items, unit, job, None, inspected);
        report.planned(primary, entry, job_line(primary, job));
        for &dup in &unit.members[1..] {
            report.duplicate(&items[dup], primary, &job.output);
        }
    }
}

/// Returns the two `WRITE` lines of the dry-run plan (cli.md §9).
fn job_line(item: &Item, job: &Job) -> String {
    let when = match &job.date {
        Some((r, source)) => format!(
            "{} {} ({source}, zone {})",
            r.stamp.local.strftime("%Y-%m-%d %H:%M:%S"),
            offset_text(r.stamp.offset),
            r.source.as_str()
        ),
        None => "no date".to_string(),
    };
    // Linked media a dry run has not fetched have no source yet.
    let verb =
        if item.source.as_os_str().is_empty() { "DOWNLOAD" } else { "WRITE" };
    format!(
        "{verb:<10} {} <- {}\n           {when}, rule {}",
        job.output, item.input, item.matched.rule
    )
}

/// Builds the `report.json` entry of a written (or planned) unit.
fn written_entry(
    items: &[Item],
    unit: &Unit,
    job: &Job,
    done: Option<&Done>,
    inspected: &[Result<Inspected, String>],
) -> Map<String, Value> {
    let primary = &items[unit.members[0]];
    let written = done.map(|d| &d.written);
    let output = done.map_or(job.output.as_str(), |d| d.output.as_str());
    let mut entry = Map::new();
    entry.insert("output".into(), json!(output));
    if let Some(w) = written {
        entry.insert(
            "sidecar".into(),
            json!(w.sidecar.as_ref().map(|_| format!("{output}.xmp"))),
        );
        entry.insert("size".into(), json!(w.size));
        entry.insert("sha1".into(), json!(w.sha1));
    }
    entry.insert(
        "match".into(),
        json!({
            "rule": primary.matched.rule,
            "metadata": primary.matched.metadata,
        }),
    );
    entry.insert("date".into(), date_json(job));
    entry.insert("gps".into(), gps_json(job));
    if let Some(w) = written {
        entry.insert(
            "metadata".into(),
            json!({
                "route": w.route.as_str(),
                "dates": w.applied.dates.as_str(),
                "gps": w.applied.gps.as_str(),
                "description": w.applied.description.as_str(),
            }),
        );
    }
    if let Some((file, result)) = done.and_then(|d| d.overlay.as_ref()) {
        entry.insert("overlay".into(), json!({"file": file, "result": result}));
    }
    entry.insert("albums".into(), json!(unit.albums));
    entry.insert("context".into(), Value::Object(context(items, unit)));
    entry.extend(primary.extra.clone());
    if unit.members.len() > 1 {
        let occurrences: Vec<Value> = unit.members.iter().map(|&i| {
            json!({"input": items[i].input, "context": items[i].context})
        }).collect();
        entry.insert("occurrences".into(), json!(occurrences));
    }
    let mut warnings: Vec<String> = primary.warnings.clone();
    warnings.extend(written.into_iter().flat_map(|w| w.warnings.clone()));
    if let Ok(info) = &inspected[unit.members[0]] {
        warnings.extend(corrected_extension(primary, &info.ext));
    }
    entry.insert("warnings".into(), json!(warnings));
    entry
}

/// Returns the primary's context with the albums of every occurrence; a
/// favourite in any album is a favourite.
fn context(items: &[Item], unit: &Unit) -> Map<String, Value> {
    let mut context = items[unit.members[0]].context.clone();
    context.insert("albums".into(), json!(unit.context_albums));
    if unit.members.iter().any(|&i| items[i].favorite) {
        context.insert("favorited".into(), json!(true));
    }
    context
}

/// Returns the `gps` object of a report entry.
fn gps_json(job: &Job) -> Value {
    match &job.gps {
        Some((g, source)) => json!({"latitude": g.latitude,
            "longitude": g.longitude, "altitude": g.altitude,
            "source": source}),
        None => Value::Null,
    }
}

/// Returns a warning when the content's type changed the extension;
/// `.jpeg` → `.jpg` and `.tif` → `.tiff` are spellings, not mislabelled
/// content.
fn corrected_extension(item: &Item, ext: &str) -> Option<String> {
    let found = file_ext(&item.source).to_lowercase();
    let alias =
        matches!((found.as_str(), ext), ("jpeg", "jpg") | ("tif", "tiff"));
    (ext != found && !alias).then(|| format!("extension corrected to .{ext}"))
}

/// Returns the `date` object of a report entry.
fn date_json(job: &Job) -> Value {
    let Some((r, source)) = &job.date else { return Value::Null };
    json!({
        "instant": r.instant.to_string(),
        "source": source,
        "local": r.stamp.local.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        "offset": offset_text(r.stamp.offset),
        "zone": r.zone,
        "zone_source": r.source.as_str(),
    })
}
