//! The `issues/` folder of a platform: copies of unmatched media, saved
//! orphaned metadata and `failure-report.json` (reports.md §2).

use std::collections::HashSet;
use std::path::Path;

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::process::Ctx;
use crate::media;
use crate::plan::{Orphan, Plan, Rules, Unmatched};
use crate::report::{self, ProcessorReport};

/// Keys whose first non-empty value names a saved metadata entry.
const NAME_KEYS: &[&str] = &[
    "title",
    "name",
    "filename",
    "media_filename",
    "file_name",
    "export_name",
    "media_src",
    "media_path",
    "media_id",
    "url",
];

/// Copies unmatched media, saves orphaned entries, records both and
/// writes `failure-report.json` when the platform has anything to report.
///
/// `written` are media the platform wrote although it could not place
/// them (Snapchat orphans): they are copied and reported like unmatched
/// media, and their written entries are marked instead of getting a
/// second fate.
pub(crate) fn handle(
    cx: &Ctx,
    rules: &Rules,
    plan: &Plan,
    written: &[Unmatched],
    report: &mut ProcessorReport,
) {
    let issues = cx.out_root.join(rules.folder).join("issues");
    let mut media_entries = Vec::new();
    let mut taken = HashSet::new();
    let mut unmatched: Vec<(&Unmatched, bool)> = plan
        .unmatched
        .iter()
        .map(|u| (u, false))
        .chain(written.iter().map(|u| (u, true)))
        .collect();
    unmatched.sort_by(|a, b| a.0.input.as_bytes().cmp(b.0.input.as_bytes()));
    for (item, is_written) in unmatched {
        let name = unique_name(&mut taken, &file_name(&item.source), "");
        let rel = format!("issues/failed-matching/media/{name}");
        let copied = if cx.dry_run {
            Ok(())
        } else {
            copy_issue(
                &item.source,
                &issues.join("failed-matching/media").join(&name),
            )
        };
        let copy = format!("{}/{rel}", rules.folder);
        if is_written {
            report.written_orphan(item, &copy, &copied);
        } else {
            report.unmatched(item, &copy, &copied);
        }
        media_entries.push(media_entry(item, &rel, copied));
    }
    let mut meta_entries = Vec::new();
    let mut taken = HashSet::new();
    for (n, orphan) in plan.orphans.iter().enumerate() {
        let name =
            unique_name(&mut taken, &orphan_stem(orphan, n + 1), ".json");
        let rel = format!("issues/failed-matching/metadata/{name}");
        let saved = if cx.dry_run {
            Ok(())
        } else {
            save_orphan(
                orphan,
                &issues.join("failed-matching/metadata").join(&name),
            )
        };
        report.orphan(orphan, &format!("{}/{rel}", rules.folder), &saved);
        meta_entries.push(orphan_entry(orphan, &rel, saved));
    }
    let failed = report.failed_processing();
    if cx.dry_run
        || media_entries.len() + meta_entries.len() + failed.len() == 0
    {
        return;
    }
    let doc =
        failure_report(cx, report.name(), media_entries, meta_entries, failed);
    let path = issues.join("failure-report.json");
    match report::write_json(&path, &doc) {
        Ok(()) => report.set_failure_report(format!(
            "{}/issues/failure-report.json",
            rules.folder
        )),
        Err(err) => log::error!("{err:#}"),
    }
}

/// Returns the `failure-report.json` document.
fn failure_report(
    cx: &Ctx,
    processor: &str,
    mut media: Vec<Value>,
    mut metadata: Vec<Value>,
    failed: Vec<Value>,
) -> Value {
    let path_of = |v: &Value| v["file_path"].as_str().unwrap_or("").to_string();
    media.sort_by_key(path_of);
    metadata.sort_by(|a, b| {
        let key = |v: &Value| {
            v["context"]["metadata_filename"].as_str().unwrap_or("").to_string()
        };
        key(a).cmp(&key(b))
    });
    let matching = media.len() + metadata.len();
    json!({
        "processor_name": processor,
        "export_directory": cx.export.path.display().to_string(),
        "timestamp": report::local_now_millis(),
        "summary": {"total_failures": matching + failed.len(),
                    "failed_matching": matching,
                    "failed_processing": failed.len()},
        "failed_matching": {"orphaned_media": media, "orphaned_metadata": metadata},
        "failed_processing": failed,
    })
}

/// Returns the `orphaned_media` entry of an unmatched file.
fn media_entry(
    item: &Unmatched,
    rel: &str,
    copied: Result<(), String>,
) -> Value {
    let mut context = item.context.clone();
    if let Ok(meta) = std::fs::metadata(&item.source) {
        context.insert("file_size".into(), json!(meta.len()));
    }
    match copied {
        Ok(()) => context.insert("copied_to".into(), json!(rel)),
        Err(e) => context.insert("copy_error".into(), json!(e)),
    };
    json!({"file_path": item.input, "reason": item.reason, "context": context})
}

/// Returns the `orphaned_metadata` entry of an orphan.
fn orphan_entry(
    orphan: &Orphan,
    rel: &str,
    saved: Result<(), String>,
) -> Value {
    let mut context: Map<String, Value> = orphan.context.clone();
    match saved {
        Ok(()) => context.insert("metadata_saved_to".into(), json!(rel)),
        Err(e) => context.insert("save_error".into(), json!(e)),
    };
    json!({"metadata_entry": orphan.entry, "reason": orphan.reason, "context": context})
}

/// Copies an unmatched file byte for byte, keeping its modification time.
fn copy_issue(src: &Path, dest: &Path) -> Result<(), String> {
    let run = || -> anyhow::Result<()> {
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mtime = std::fs::metadata(src)?.modified()?;
        let tmp = media::copy_plain(src, dest)?;
        tmp.persist(dest, Timestamp::try_from(mtime).ok())
    };
    if !src.exists() {
        return Err("Source file not found".to_string());
    }
    run().map_err(|e| format!("{e:#}"))
}

/// Saves an orphaned entry as pretty JSON.
fn save_orphan(orphan: &Orphan, dest: &Path) -> Result<(), String> {
    report::write_json(dest, &orphan.entry).map_err(|e| format!("{e:#}"))
}

/// Returns the saved-file stem of an orphan (reports.md §2.1).
fn orphan_stem(orphan: &Orphan, position: usize) -> String {
    let value = NAME_KEYS.iter().find_map(|key| {
        orphan.entry.get(*key)?.as_str().filter(|s| !s.trim().is_empty())
    });
    let Some(value) = value else {
        return format!("orphaned_metadata_{position:04}");
    };
    let last = value.rsplit('/').next().unwrap_or(value);
    let stem = match last.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => last,
    };
    let clean: String =
        stem.chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(200)
            .collect();
    if clean.is_empty() {
        format!("orphaned_metadata_{position:04}")
    } else {
        clean
    }
}

/// Returns `<stem><ext>`, or `<stem>_<n><ext>` when already taken.
fn unique_name(taken: &mut HashSet<String>, name: &str, ext: &str) -> String {
    let (stem, ext) = if ext.is_empty() {
        match name.rsplit_once('.') {
            Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
            _ => (name.to_string(), String::new()),
        }
    } else {
        (name.to_string(), ext.to_string())
    };
    let mut candidate = format!("{stem}{ext}");
    let mut n = 1;
    while !taken.insert(candidate.to_lowercase()) {
        candidate = format!("{stem}_{n}{ext}");
        n += 1;
    }
    candidate
}

/// Returns the file name of a path as text.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orphan(entry: Value) -> Orphan {
        Orphan {
            source: "x.json".into(),
            entry,
            reason: "r".into(),
            context: Map::new(),
        }
    }

    #[test]
    fn orphan_names_follow_the_key_order_and_sanitise() {
        let o = orphan(json!({"title": "IMG 0001.jpg", "name": "n"}));
        assert_eq!(orphan_stem(&o, 1), "IMG_0001");
        let o = orphan(json!({"title": "", "url": "https://x/a/b/c.mp4"}));
        assert_eq!(orphan_stem(&o, 1), "c");
        let o = orphan(json!({"other": 1}));
        assert_eq!(orphan_stem(&o, 7), "orphaned_metadata_0007");
        let o = orphan(json!({"title": "../../etc/passwd"}));
        assert_eq!(orphan_stem(&o, 1), "passwd");
        let o = orphan(json!({"title": ".."}));
        assert_eq!(orphan_stem(&o, 3), "_");
    }

    #[test]
    fn collisions_get_numbered() {
        let mut taken = HashSet::new();
        assert_eq!(unique_name(&mut taken, "a.jpg", ""), "a.jpg");
        assert_eq!(unique_name(&mut taken, "A.jpg", ""), "A_1.jpg");
        assert_eq!(unique_name(&mut taken, "a.jpg", ""), "a_2.jpg");
        assert_eq!(unique_name(&mut taken, "m", ".json"), "m.json");
        assert_eq!(unique_name(&mut taken, "m", ".json"), "m_1.json");
    }
}
