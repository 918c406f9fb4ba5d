//! The memory files bundled with a My Data download (platforms.md §9b.3):
//! `R/memories/` and its sub-folders, read into mains with their id, day
//! prefix, class, modification time and overlay.
//!
//! Thumbnails, files that are not media and overlays without their main
//! are recorded as skipped. Symbolic links to folders are not entered
//! (platforms.md §2.1).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::civil::Date;
use jiff::Timestamp;

use crate::discover;
use crate::media::kind::{class_of_name, is_media_name, Class};
use crate::plan::{Plan, Skipped};
use crate::platform::folder::{
    is_real_dir, is_visual, list_files, mtime_seconds, visual_class, Folder,
};

/// One bundled memory file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Main {
    /// Absolute path.
    pub(super) path: PathBuf,
    /// Path relative to the export.
    pub(super) input: String,
    /// The id of a `[<day>_]<id>-main.<ext>` name, lower-cased.
    pub(super) id: Option<String>,
    /// The day prefix of such a name.
    pub(super) day: Option<Date>,
    /// Image or video, by content (else by extension).
    pub(super) class: Class,
    /// Modification time in whole seconds.
    pub(super) mtime: Option<Timestamp>,
    /// The overlay with the same `[<day>_]<id>` stem.
    pub(super) overlay: Option<PathBuf>,
}

/// What a bundled file's name says it is (§9b.3).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// `[<day>_]<id>-main.<ext>`: the lower-cased stem, its day and id.
    Main { stem: String, day: Option<Date>, id: String },
    /// `…-overlay.<ext>`, with the lower-cased stem of its main.
    Overlay { stem: String },
    /// `…-thumbnail.<ext>`.
    Thumbnail,
    /// Any other name.
    Other,
}

/// Returns the mains of `folder` (`R/memories`) sorted by path, with
/// their overlays; the other files are recorded in `plan` as skipped.
/// A missing folder holds nothing.
pub(super) fn read(
    folder: &Folder,
    plan: &mut Plan,
) -> anyhow::Result<Vec<Main>> {
    if !is_real_dir(&folder.path)? {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    walk(folder, plan, &mut files)?;
    files.sort_by(|a, b| a.input.cmp(&b.input));
    let mut mains = Vec::new();
    let mut overlays: BTreeMap<String, Found> = BTreeMap::new();
    let skip = |plan: &mut Plan, file: &Found, reason: &str| {
        let input = file.input.clone();
        plan.skipped.push(Skipped { input, reason: reason.into() });
    };
    for file in files {
        match role(&file.name) {
            Role::Thumbnail => skip(plan, &file, "thumbnail"),
            Role::Overlay { stem } if !overlays.contains_key(&stem) => {
                overlays.insert(stem, file);
            }
            Role::Overlay { .. } => skip(plan, &file, "overlay not referenced"),
            Role::Main { stem, day, id } => match main(&file, Some(id), day) {
                Some(main) => mains.push((Some(stem), main)),
                None => skip(plan, &file, "not media"),
            },
            Role::Other if is_media_name(&file.name) => {
                match main(&file, None, None) {
                    Some(main) => mains.push((None, main)),
                    None => skip(plan, &file, "not media"),
                }
            }
            Role::Other => skip(plan, &file, "not media"),
        }
    }
    Ok(attach(mains, overlays, plan))
}

/// A file found under `R/memories`.
#[derive(Debug)]
struct Found {
    /// Its own name.
    name: String,
    /// Absolute path.
    path: PathBuf,
    /// Path relative to the export.
    input: String,
}

/// Collects the files of `folder` and of its real sub-folders into
/// `files`, leaving hidden and banned names out.
fn walk(
    folder: &Folder,
    plan: &mut Plan,
    files: &mut Vec<Found>,
) -> anyhow::Result<()> {
    for name in list_files(folder, plan, discover::is_ignored_name)? {
        let (path, input) = (folder.path.join(&name), folder.rel_of(&name));
        files.push(Found { name, path, input });
    }
    for name in subfolders(&folder.path)? {
        walk(&folder.child(&name), plan, files)?;
    }
    Ok(())
}

/// Returns the names of the real folders directly in `path` that are
/// neither hidden nor banned (links to folders are not followed).
fn subfolders(path: &Path) -> anyhow::Result<Vec<String>> {
    let failed = || format!("failed to read {}", path.display());
    let mut names = Vec::new();
    for entry in fs::read_dir(path).with_context(failed)? {
        let entry = entry.with_context(failed)?;
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        match entry.file_name().into_string() {
            Ok(name) if !discover::is_ignored_name(&name) => names.push(name),
            _ => log::debug!("not entering {}", entry.path().display()),
        }
    }
    Ok(names)
}

/// Returns the role of a bundled file `name`, judged case-insensitively.
pub(super) fn role(name: &str) -> Role {
    let lower = name.to_ascii_lowercase();
    let Some((stem, _)) = lower.rsplit_once('.') else { return Role::Other };
    let base = |suffix: &str| {
        stem.strip_suffix(suffix).filter(|b| !b.is_empty()).map(str::to_string)
    };
    if let Some(stem) = base("-main") {
        let (day, id) = split_day(&stem);
        if !id.is_empty() {
            return Role::Main { day, id: id.to_string(), stem };
        }
    }
    if let Some(stem) = base("-overlay") {
        return Role::Overlay { stem };
    }
    if base("-thumbnail").is_some() {
        return Role::Thumbnail;
    }
    Role::Other
}

/// Splits `<YYYY-MM-DD>_<id>` into day and id; a stem without a valid
/// day prefix is all id.
fn split_day(stem: &str) -> (Option<Date>, &str) {
    let prefix = stem.get(..10).filter(|_| stem.get(10..11) == Some("_"));
    let day = prefix.and_then(|p| Date::strptime("%Y-%m-%d", p).ok());
    match (day, stem.get(11..)) {
        (Some(day), Some(id)) => (Some(day), id),
        _ => (None, stem),
    }
}

/// Returns the main of `file`, or `None` when neither its content nor its
/// extension makes it an image or a video.
fn main(file: &Found, id: Option<String>, day: Option<Date>) -> Option<Main> {
    Some(Main {
        class: class(&file.name, &file.path)?,
        path: file.path.clone(),
        input: file.input.clone(),
        id,
        day,
        mtime: mtime_seconds(&file.path),
        overlay: None,
    })
}

/// Returns the class of a main: by content (metadata.md §8), else by the
/// extension of `name`.
fn class(name: &str, path: &Path) -> Option<Class> {
    visual_class(path).or_else(|| class_of_name(name).filter(is_visual))
}

/// Gives each main the overlay of its stem and records overlays whose
/// main is missing as skipped.
fn attach(
    mains: Vec<(Option<String>, Main)>,
    mut overlays: BTreeMap<String, Found>,
    plan: &mut Plan,
) -> Vec<Main> {
    let mut out = Vec::with_capacity(mains.len());
    for (stem, mut main) in mains {
        if let Some(overlay) = stem.and_then(|s| overlays.remove(&s)) {
            main.overlay = Some(overlay.path);
        }
        out.push(main);
    }
    for overlay in overlays.into_values() {
        let reason = "overlay not referenced".into();
        plan.skipped.push(Skipped { input: overlay.input, reason });
    }
    out
}
