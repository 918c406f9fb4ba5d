//! Finding the Google Photos folder of an export (platforms.md §3.1) and
//! listing the folders inside it.
//!
//! Used by detection, which turns every error into "no match" plus a
//! warning, and by planning, which fails when the folder cannot be read.

use std::fs;
use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use crate::discover;
pub(super) use crate::platform::folder::Folder;
use crate::platform::folder::{google_root, is_real_dir};

/// The folder's English name.
const FOLDER: &str = "Google Photos";
/// Sidecars parsed per album folder when looking for a localized folder,
/// so detection stays cheap on unrelated exports.
const PROBES_PER_ALBUM: usize = 3;
/// Larger files are not sidecars and are never parsed by detection.
const PROBE_MAX_BYTES: u64 = 1 << 20;

/// Returns the Google Photos folder of the export at `export`: `Google
/// Photos` under the Google root when it has a sub-folder, else the first
/// localized folder (byte order) whose albums hold a sidecar with a
/// `photoTakenTime` key, else `None`.
///
/// Errors when the Google root or the `Google Photos` folder cannot be
/// read; unreadable candidate folders are skipped with a warning.
pub(super) fn photos_folder(export: &Path) -> anyhow::Result<Option<Folder>> {
    let google = google_root(export)?;
    let named = google.child(FOLDER);
    if is_real_dir(&named.path)? && !albums(&named)?.is_empty() {
        return Ok(Some(named));
    }
    let candidates = albums(&google)?.into_iter().filter(|f| f.name != FOLDER);
    Ok(candidates.into_iter().find(holds_sidecar))
}

/// Returns the sub-folders of `folder` that can be albums, sorted by name
/// in byte order: real folders (symbolic links are not followed) whose
/// names are UTF-8 and start with neither `.` nor `_` and are not banned.
pub(super) fn albums(folder: &Folder) -> anyhow::Result<Vec<Folder>> {
    let failed = || format!("failed to read {}", folder.path.display());
    let mut found = Vec::new();
    for entry in fs::read_dir(&folder.path).with_context(failed)? {
        let entry = entry.with_context(failed)?;
        if !entry.file_type().with_context(failed)?.is_dir() {
            continue;
        }
        let Ok(name) = entry.file_name().into_string() else {
            let path = entry.path();
            log::warn!(
                "skipping folder with a non-UTF-8 name {}",
                path.display()
            );
            continue;
        };
        if !is_skipped_name(&name) {
            found.push(folder.child(&name));
        }
    }
    found.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(found)
}

/// Returns true for names Google Photos never reads: hidden, starting
/// with `_`, or banned (platforms.md §2.1, §3.3).
pub(super) fn is_skipped_name(name: &str) -> bool {
    name.starts_with('_') || discover::is_ignored_name(name)
}

/// Returns whether an album folder of `candidate` holds a sidecar with a
/// `photoTakenTime` key (a localized Google Photos folder, §3.1).
fn holds_sidecar(candidate: &Folder) -> bool {
    match albums(candidate) {
        Ok(albums) => albums.iter().any(|album| probe_album(&album.path)),
        Err(err) => {
            log::warn!("{err:#}");
            false
        }
    }
}

/// Returns whether one of the first sidecars of `album` has a
/// `photoTakenTime` key.
fn probe_album(album: &Path) -> bool {
    let entries = match fs::read_dir(album) {
        Ok(entries) => entries,
        Err(err) => {
            log::warn!("failed to read {}: {err}", album.display());
            return false;
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json") && name != "metadata.json")
        .filter(|name| !is_skipped_name(name))
        .collect();
    names.sort_unstable();
    names
        .iter()
        .take(PROBES_PER_ALBUM)
        .any(|name| has_taken_time(&album.join(name)))
}

/// Returns whether the small JSON file at `path` is an object with a
/// `photoTakenTime` key.
fn has_taken_time(path: &Path) -> bool {
    let small = fs::metadata(path).is_ok_and(|m| m.len() <= PROBE_MAX_BYTES);
    if !small {
        return false;
    }
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes)
            .is_ok_and(|json| json.get("photoTakenTime").is_some()),
        Err(err) => {
            log::warn!("failed to read {}: {err}", path.display());
            false
        }
    }
}
