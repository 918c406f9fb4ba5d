//! Finding the Snapchat Memories root R of an export (platforms.md §9.1)
//! and listing the files of its `media/` and `overlays/` folders.
//!
//! Detection turns every error into "no match" plus a warning; planning
//! fails when R cannot be found or its `metadata.json` cannot be read.
//! Symbolic links to folders are never entered (platforms.md §2.1).

use std::fs;
use std::path::Path;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::discover;
use crate::plan::Plan;
pub(super) use crate::platform::folder::Folder;
use crate::platform::folder::{is_file, is_real_dir};

/// The entry list of R (§9.2).
pub(super) const METADATA: &str = "metadata.json";
/// The folder of the media files (§9.2).
pub(super) const MEDIA: &str = "media";
/// The folder of the overlay PNGs (§9.2).
pub(super) const OVERLAYS: &str = "overlays";
/// The keys the first entry must have for a match (§9.1).
const FIRST_KEYS: [&str; 3] = ["date", "media_type", "media_filename"];

/// A folder with `media/`, `overlays/` and `metadata.json`, and what its
/// `metadata.json` parsed to (the error text when it is not JSON).
pub(super) struct Root {
    /// The folder R itself.
    folder: Folder,
    /// The parsed `metadata.json`.
    json: Result<Value, String>,
}

/// The entries of R's `metadata.json`, in file order.
pub(super) struct Entries {
    /// The folder R.
    pub(super) folder: Folder,
    /// The elements of the top-level array.
    pub(super) list: Vec<Value>,
}

/// Returns whether the export holds the assembled layout in
/// `<export>/memories/` or in the export itself (§9.1). Each
/// `metadata.json` is parsed at most once.
pub(super) fn holds_memories(export: &Path) -> anyhow::Result<bool> {
    for folder in candidates(export) {
        if read(folder)?.is_some_and(|root| root.passes()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Returns R for planning: `memories/` if it passes the check of §9.1,
/// else the export if it does. When neither passes (the files changed
/// since detection), the first candidate with the three parts is used so
/// that its `metadata.json` problem is reported.
pub(super) fn find(export: &Path) -> anyhow::Result<Root> {
    let mut fallback = None;
    for folder in candidates(export) {
        if let Some(root) = read(folder)? {
            if root.passes() {
                return Ok(root);
            }
            fallback.get_or_insert(root);
        }
    }
    fallback.with_context(|| {
        format!(
            "no {MEDIA}/, {OVERLAYS}/ and {METADATA} in {}",
            export.display()
        )
    })
}

impl Root {
    /// Returns whether `metadata.json` is a non-empty array whose first
    /// element has the keys of §9.1.
    fn passes(&self) -> bool {
        let Ok(Value::Array(list)) = &self.json else { return false };
        list.first().and_then(Value::as_object).is_some_and(|first| {
            FIRST_KEYS.iter().all(|k| first.contains_key(*k))
        })
    }

    /// Returns the entries of `metadata.json`; a file that is not JSON or
    /// not an array means the processor cannot run.
    pub(super) fn into_entries(self) -> anyhow::Result<Entries> {
        let rel = self.folder.rel_of(METADATA);
        match self.json {
            Ok(Value::Array(list)) => Ok(Entries { folder: self.folder, list }),
            Ok(_) => bail!("{rel}: not a JSON array"),
            Err(err) => bail!("{rel}: invalid JSON: {err}"),
        }
    }
}

/// Returns the two candidates for R, in the order §9.1 tries them.
fn candidates(export: &Path) -> [Folder; 2] {
    let export = Folder::root(export);
    [export.child("memories"), export]
}

/// Returns the root in `folder` when it has the `media/` and `overlays/`
/// folders and a `metadata.json` file, with that file parsed.
fn read(folder: Folder) -> anyhow::Result<Option<Root>> {
    let is_layout = (folder.rel.is_empty() || is_real_dir(&folder.path)?)
        && is_real_dir(&folder.path.join(MEDIA))?
        && is_real_dir(&folder.path.join(OVERLAYS))?
        && is_file(&folder.path.join(METADATA))?;
    if !is_layout {
        return Ok(None);
    }
    let path = folder.path.join(METADATA);
    let bytes = fs::read(&path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let json = serde_json::from_slice(&bytes).map_err(|err| err.to_string());
    if let Err(err) = &json {
        log::debug!("{}: invalid JSON: {err}", path.display());
    }
    Ok(Some(Root { folder, json }))
}

/// Returns the names of the files directly in `folder` that are neither
/// hidden nor banned (see [`crate::platform::folder::list_files`]).
pub(super) fn files(
    folder: &Folder,
    plan: &mut Plan,
) -> anyhow::Result<Vec<String>> {
    crate::platform::folder::list_files(folder, plan, discover::is_ignored_name)
}
