//! Running one platform's plan: inspect, de-duplicate, resolve dates,
//! allocate names and write in the export's pool; `record` turns each
//! outcome into its report entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rayon::prelude::*;

use super::fetch;
use super::inspect::{self, Inspected};
use super::issues;
use super::naming::{Allocator, Request};
use super::needs;
use super::record::{record, record_dry, upload_file};
use super::render::{self, Done, Overlay, Target, Way};
use crate::media;
use crate::media::model::{Gps, Metadata};
use crate::media::overlay::VideoMode;
use crate::plan::{Capture, Export, Item, Plan, Rules, SuffixStyle, Unmatched};
use crate::platform::Platform;
use crate::report::{Phase, ProcessorReport, Progress};
use crate::time::{Resolved, Zones};
use crate::upload;

/// Everything one platform run needs from its export.
pub(crate) struct Ctx<'a> {
    /// The export being read.
    pub(crate) export: &'a Export,
    /// The export's output root.
    pub(crate) out_root: &'a Path,
    /// Zone resolution for the run.
    pub(crate) zones: &'a Zones,
    /// The export's worker pool.
    pub(crate) pool: &'a rayon::ThreadPool,
    /// Plan only; write nothing.
    pub(crate) dry_run: bool,
    /// The export's progress bar.
    pub(crate) progress: &'a Progress,
    /// How overlay videos are produced (`--overlay-video`).
    pub(crate) overlay_video: VideoMode,
    /// Scratch folder for ffmpeg passes.
    pub(crate) scratch: &'a Path,
    /// `--workers`, which also bounds parallel downloads.
    pub(crate) workers: usize,
    /// `--no-download`: linked media only from the download cache.
    pub(crate) no_download: bool,
}

/// Reason recorded for files Ctrl-C kept from being written.
pub(super) const INTERRUPTED: &str = "interrupted";

/// One output file to produce: a de-duplicated group of items.
pub(super) struct Unit {
    pub(super) members: Vec<usize>,
    pub(super) capture: Option<Capture>,
    pub(super) gps: Option<Gps>,
    pub(super) description: Option<String>,
    pub(super) albums: Vec<String>,
    pub(super) context_albums: Vec<String>,
    pub(super) overlay: Option<PathBuf>,
}

/// A unit with its resolved date and destination.
pub(super) struct Job {
    pub(super) unit: usize,
    pub(super) output: String,
    pub(super) dest: PathBuf,
    pub(super) meta: Metadata,
    pub(super) date: Option<Sourced<Resolved>>,
    pub(super) gps: Option<Sourced<Gps>>,
    pub(super) mtime: Option<Timestamp>,
    pub(super) overlay: Option<Overlay>,
}

/// A value with the name of where it came from (`report.json` `source`).
pub(super) type Sourced<T> = (T, &'static str);

/// Runs `plan` of `platform` and returns its report section and the
/// files it wrote (or, in a dry run, would write) for the uploader.
pub(crate) fn run(
    cx: &Ctx,
    platform: &dyn Platform,
    mut plan: Plan,
    allocators: &mut HashMap<&'static str, Allocator>,
) -> (ProcessorReport, Vec<upload::File>) {
    let rules = platform.rules();
    let mut report = ProcessorReport::new(platform, &plan.username);
    let tick = || cx.progress.inc();

    let pending = fetch::resolve(cx, &mut plan);
    cx.progress.phase(Phase::Scan, plan.items.len());
    let mut inspected = inspect::inspect_all(cx.pool, &plan.items, &tick);
    for (i, ext) in pending {
        inspected[i] = Ok(Inspected::planned(ext));
    }
    cx.progress.phase(Phase::Hash, plan.items.len());
    let groups =
        inspect::group(cx.pool, &plan.items, &inspected, rules.dedup, &tick);

    let mut units = Vec::new();
    for members in groups {
        let primary = members[0];
        if let Err(err) = &inspected[primary] {
            let item = &plan.items[primary];
            report.failed(item, "Read failed", err, None);
            continue;
        }
        units.push(merge(&plan.items, members, rules.merge_descriptions));
    }
    let alloc = allocators.entry(rules.folder).or_default();
    let ffmpeg = check_ffmpeg(&plan.items);
    let jobs =
        plan_jobs(cx, &rules, &plan.items, &inspected, &units, alloc, ffmpeg);

    let mut uploads = Vec::new();
    if cx.dry_run {
        record_dry(&mut report, &plan.items, &units, &jobs, &inspected);
        for job in &jobs {
            uploads.push(upload_file(&plan.items, &units[job.unit], job, None));
        }
    } else {
        cx.progress.phase(Phase::Write, jobs.len());
        let results = write_all(cx, &plan.items, &units, &jobs, &inspected);
        for (job, result) in jobs.iter().zip(results) {
            let unit = &units[job.unit];
            if let Ok(done) = &result {
                uploads.push(upload_file(&plan.items, unit, job, Some(done)));
            }
            record(&mut report, &plan.items, unit, job, result, &inspected);
        }
    }
    let orphans = written_orphans(&plan.items, &units, &report);
    issues::handle(cx, &rules, &plan, &orphans, &mut report);
    needs::write(cx, &rules, &plan.needs_matching, &mut report);
    for skipped in &plan.skipped {
        report.skipped(&skipped.input, &skipped.reason);
    }
    (report, uploads)
}

/// Merges the occurrences of one content group: the primary's facts win,
/// missing ones are filled from the others in order; albums are united;
/// with `merge_lines`, descriptions are merged line by line.
fn merge(items: &[Item], members: Vec<usize>, merge_lines: bool) -> Unit {
    let pick = |f: &dyn Fn(&Item) -> bool| {
        members.iter().copied().find(|&i| f(&items[i]))
    };
    let capture = pick(&|i| i.capture.is_some()).and_then(|i| items[i].capture);
    let gps = pick(&|i| i.gps.is_some()).and_then(|i| items[i].gps);
    let description = if merge_lines {
        merged_lines(members.iter().map(|&i| items[i].description.as_deref()))
    } else {
        pick(&|i| i.caption.is_some())
            .or_else(|| pick(&|i| i.description.is_some()))
            .and_then(|i| items[i].description.clone())
    };
    let mut albums = Vec::new();
    let mut context_albums = Vec::new();
    for &i in &members {
        for album in &items[i].albums {
            if !albums.contains(album) {
                albums.push(album.clone());
            }
        }
        if !context_albums.contains(&items[i].album) {
            context_albums.push(items[i].album.clone());
        }
    }
    let overlay =
        pick(&|i| i.overlay.is_some()).and_then(|i| items[i].overlay.clone());
    Unit { members, capture, gps, description, albums, context_albums, overlay }
}

/// Returns the unmatched records of written units whose primary the
/// platform could not place (`Item::orphan`).
fn written_orphans(
    items: &[Item],
    units: &[Unit],
    report: &ProcessorReport,
) -> Vec<Unmatched> {
    let written = report.written_inputs();
    let primaries = units.iter().map(|u| &items[u.members[0]]);
    primaries
        .filter(|item| item.orphan.is_some())
        .filter(|item| written.contains(item.input.as_str()))
        .filter_map(|item| {
            let reason = item.orphan.clone()?;
            let mut context = serde_json::Map::new();
            context
                .insert("original_location".into(), item.input.clone().into());
            Some(Unmatched {
                source: item.source.clone(),
                input: item.input.clone(),
                reason,
                context,
            })
        })
        .collect()
}

/// Returns the first description's first line followed by every distinct
/// further line of all descriptions, in order (the occurrences of a file
/// sent in several messages, platforms.md §10.9).
fn merged_lines<'a>(
    descriptions: impl Iterator<Item = Option<&'a str>>,
) -> Option<String> {
    let mut lines: Vec<&str> = Vec::new();
    for text in descriptions.flatten() {
        let mut parts = text.lines();
        let head = parts.next();
        if lines.is_empty() {
            lines.extend(head);
        }
        for line in parts {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Returns the name prefix of a unit: the platform's shared prefix when
/// its occurrences lie in more than one album or conversation.
fn unit_prefix<'a>(items: &'a [Item], unit: &Unit) -> &'a str {
    let primary = &items[unit.members[0]];
    let spread = unit.members.iter().any(|&i| items[i].album != primary.album);
    match (&primary.shared_prefix, spread) {
        (Some(shared), true) => shared,
        _ => &primary.prefix,
    }
}

/// Resolves dates and allocates a name for every unit, in planning order.
///
/// A video with an overlay reserves two names, the rendered one and the
/// fallback with the source's extension, so that a late fallback never
/// collides (metadata.md §11.1).
fn plan_jobs(
    cx: &Ctx,
    rules: &Rules,
    items: &[Item],
    inspected: &[Result<Inspected, String>],
    units: &[Unit],
    alloc: &mut Allocator,
    ffmpeg: bool,
) -> Vec<Job> {
    let mut jobs = Vec::with_capacity(units.len());
    let mut requests = Vec::with_capacity(units.len());
    // Per job: its request and, for a rendered video, the fallback's.
    let mut slots = Vec::with_capacity(units.len());
    for (u, unit) in units.iter().enumerate() {
        let Ok(info) = &inspected[unit.members[0]] else { continue };
        let (job, request, rendered_ext) =
            plan_job(cx, rules, items, (u, unit), info, ffmpeg);
        let fallback = (rendered_ext != info.ext).then(|| request.clone());
        slots.push((
            requests.len(),
            fallback.as_ref().map(|_| requests.len() + 1),
        ));
        requests.push(Request { ext: rendered_ext, ..request });
        requests.extend(fallback);
        jobs.push(job);
    }
    let names = allocate(alloc, rules.suffix, &requests);
    let folder = cx.out_root.join(rules.folder);
    for (job, (main, fallback)) in jobs.iter_mut().zip(slots) {
        job.output = format!("{}/{}", rules.folder, names[main]);
        job.dest = folder.join(&names[main]);
        if let Some(overlay) = job.overlay.as_mut() {
            let name = &names[fallback.unwrap_or(main)];
            overlay.fallback_output = format!("{}/{name}", rules.folder);
            overlay.fallback_dest = folder.join(name);
        }
    }
    jobs
}

/// Resolves the date, position and overlay of one unit and returns its
/// job (names still empty), its name request with the source's
/// extension, and the extension of the file actually produced.
fn plan_job(
    cx: &Ctx,
    rules: &Rules,
    items: &[Item],
    (u, unit): (usize, &Unit),
    info: &Inspected,
    ffmpeg: bool,
) -> (Job, Request, String) {
    let item = &items[unit.members[0]];
    let (date, gps) = resolve(cx.zones, unit, info);
    log_decision(item, &date, &gps);
    let token = date.as_ref().map_or_else(
        || "00000000".to_string(),
        |(r, _)| r.stamp.local.strftime("%Y%m%d").to_string(),
    );
    let request = Request {
        base: safe_name(&format!("{}-{token}", unit_prefix(items, unit))),
        ext: info.ext.clone(),
        instant: date.as_ref().map(|(r, _)| r.instant.as_second()),
        group: item.group.clone(),
        stem: file_stem(&item.source),
        src_ext: file_ext(&item.source),
        album: item.album.clone(),
    };
    let kind = unit.overlay.as_deref().map(render::overlay_kind);
    let way = kind.as_ref().map(|(_, still)| match still {
        true => Way::of(&info.ext, cx.overlay_video, ffmpeg),
        false => Way::Beside,
    });
    let rendered_ext =
        way.map_or(info.ext.as_str(), |w| w.output_ext(&info.ext)).to_string();
    let overlay = unit.overlay.as_ref().zip(way).zip(kind).map(
        |((png, way), (ext, still))| Overlay {
            png: png.clone(),
            input: input_of(cx, png),
            way,
            ext,
            still,
            fallback_output: String::new(),
            fallback_dest: PathBuf::new(),
        },
    );
    let meta = Metadata {
        date: date.as_ref().map(|(r, _)| r.stamp),
        gps: unit.gps.filter(Gps::is_valid),
        description: unit.description.clone(),
        description_policy: rules.description,
    };
    let mtime = date.as_ref().map(|(r, _)| r.instant).or(info.mtime);
    let job = Job {
        unit: u,
        output: String::new(),
        dest: PathBuf::new(),
        meta,
        date,
        gps,
        mtime,
        overlay,
    };
    (job, request, rendered_ext)
}

/// Returns whether ffmpeg can render overlay videos, looking it up only
/// when some item has an overlay; warns once per run when it is missing
/// (metadata.md §11.5).
fn check_ffmpeg(items: &[Item]) -> bool {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if !items.iter().any(|i| i.overlay.is_some()) {
        return false;
    }
    let found = crate::media::overlay::has_ffmpeg();
    if !found {
        WARNED.call_once(|| {
            log::warn!(
                "ffmpeg not found: Snapchat videos are written without their \
                 overlay; each overlay is kept beside its video as \
                 *.overlay.png"
            );
        });
    }
    found
}

/// Returns the report name of an input `path`: relative to the export,
/// or to the output root for a file of a download cache, `/`-separated.
pub(super) fn input_of(cx: &Ctx, path: &Path) -> String {
    let rel = path
        .strip_prefix(&cx.export.path)
        .or_else(|_| path.strip_prefix(cx.out_root))
        .unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

/// Logs which date source and zone won for an item (debug level).
fn log_decision(
    item: &Item,
    date: &Option<Sourced<Resolved>>,
    gps: &Option<Sourced<Gps>>,
) {
    let place = gps.as_ref().map_or("none", |(_, s)| s);
    match date {
        Some((r, source)) => log::debug!(
            "{}: date from {source}, zone {} ({}), position from {place}",
            item.input,
            r.zone,
            r.source.as_str()
        ),
        None => log::debug!("{}: no date; position from {place}", item.input),
    }
}

/// Allocates the names of `requests` in order.
fn allocate(
    alloc: &mut Allocator,
    style: SuffixStyle,
    requests: &[Request],
) -> Vec<String> {
    match style {
        SuffixStyle::DayNumbering => alloc.day_numbering(requests),
        SuffixStyle::FromOne | SuffixStyle::FromTwo => {
            let first = if style == SuffixStyle::FromOne { 1 } else { 2 };
            requests
                .iter()
                .map(|r| alloc.counter(&r.base, &r.ext, first))
                .collect()
        }
    }
}

/// Chooses the capture time and the position that decides the zone: the
/// file's own date and position win over the platform's (metadata.md
/// §2.4, §2.3).
fn resolve(
    zones: &Zones,
    unit: &Unit,
    info: &Inspected,
) -> (Option<Sourced<Resolved>>, Option<Sourced<Gps>>) {
    let gps = match (info.existing.gps, unit.gps.filter(Gps::is_valid)) {
        (Some(own), _) => Some((own, "file")),
        (None, Some(platform)) => Some((platform, "platform")),
        (None, None) => None,
    };
    let at = gps.as_ref().map(|(g, _)| g);
    let date = match (&info.existing.date, &unit.capture) {
        (Some(own), _) => Some((zones.resolve_existing(own, at), "file")),
        (None, Some(capture)) => {
            Some((zones.resolve(&capture.when, at), capture.source))
        }
        (None, None) => None,
    };
    (date, gps)
}

/// Writes every job on the export's pool.
fn write_all(
    cx: &Ctx,
    items: &[Item],
    units: &[Unit],
    jobs: &[Job],
    inspected: &[Result<Inspected, String>],
) -> Vec<Result<Done, String>> {
    let folders: std::collections::BTreeSet<&Path> =
        jobs.iter().filter_map(|j| j.dest.parent()).collect();
    for folder in folders {
        if let Err(err) = std::fs::create_dir_all(folder) {
            let msg = format!("failed to create {}: {err}", folder.display());
            return jobs.iter().map(|_| Err(msg.clone())).collect();
        }
        media::remove_stale_temps(folder);
    }
    cx.pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                if super::is_interrupted() {
                    return Err(INTERRUPTED.to_string());
                }
                let primary = units[job.unit].members[0];
                let Ok(info) = &inspected[primary] else {
                    return Err("not inspected".to_string());
                };
                let target = Target {
                    src: &items[primary].source,
                    dest: &job.dest,
                    output: &job.output,
                    meta: &job.meta,
                    existing: &info.existing,
                    mtime: job.mtime,
                };
                let result = write_one(&target, job, cx.scratch)
                    .map_err(|e| format!("{e:#}"));
                cx.progress.inc_bytes(info.size);
                result
            })
            .collect()
    })
}

/// Writes one job, through its overlay when it has one.
fn write_one(
    target: &Target,
    job: &Job,
    scratch: &Path,
) -> anyhow::Result<Done> {
    if let Some(overlay) = &job.overlay {
        return render::write(target, overlay, scratch);
    }
    let written = media::write(
        target.src,
        target.dest,
        target.meta,
        target.existing,
        target.mtime,
    )?;
    Ok(Done { written, output: job.output.clone(), overlay: None })
}

/// Replaces path separators so a name from export metadata can never
/// leave its folder.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if matches!(c, '/' | '\\' | '\0') { '_' } else { c })
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        "unknown".to_string()
    } else {
        cleaned
    }
}

/// Returns a path's file stem as text.
fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Returns a path's extension as found.
pub(super) fn file_ext(path: &Path) -> String {
    path.extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_merge_line_by_line() {
        let a = "Source: S/jane/messages\n  - bob in \"DM with bob\": \"hi\"";
        let b = "Source: S/jane/messages\n  - jane in \"Ski trip\"";
        let merged =
            merged_lines([Some(a), None, Some(b), Some(a)].into_iter());
        assert_eq!(
            merged.as_deref(),
            Some(
                "Source: S/jane/messages\n  - bob in \"DM with bob\": \"hi\"\n  \
                 - jane in \"Ski trip\""
            )
        );
        assert_eq!(merged_lines([None, None].into_iter()), None);
    }
}
