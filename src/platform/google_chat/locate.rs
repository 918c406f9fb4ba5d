//! Finding the Google Chat folder of an export (platforms.md §4.1) and
//! listing its conversation folders and their files.
//!
//! Used by detection, which turns every error into "no match" plus a
//! warning, and by planning, which fails only when `Groups/` cannot be
//! read. Symbolic links to folders are never entered (platforms.md §2.1).

use std::fs;
use std::path::Path;

use anyhow::Context;

use crate::discover;
use crate::plan::Plan;
pub(super) use crate::platform::folder::Folder;
use crate::platform::folder::{google_root, is_file, is_real_dir};

/// The group metadata file of a conversation folder (§4.2).
pub(super) const GROUP_INFO: &str = "group_info.json";
/// The message list of a conversation folder (§4.2).
pub(super) const MESSAGES: &str = "messages.json";

/// Returns `G/Google Chat`, where the Google root G is `<export>/Takeout`
/// when that is a folder, else the export itself (§3.1). The folder may
/// not exist.
pub(super) fn chat_folder(export: &Path) -> anyhow::Result<Folder> {
    Ok(google_root(export)?.child("Google Chat"))
}

/// Returns whether the export holds a Google Chat layout: `Groups/` is a
/// folder with at least one conversation folder (§4.1). Conversation
/// folders that cannot be read are skipped with a warning.
pub(super) fn holds_chat(export: &Path) -> anyhow::Result<bool> {
    let groups = chat_folder(export)?.child("Groups");
    if !is_real_dir(&groups.path)? {
        return Ok(false);
    }
    for folder in sub_folders(&groups)? {
        match is_conversation(&folder) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(err) => log::warn!("{err:#}"),
        }
    }
    Ok(false)
}

/// Returns the sub-folders of `folder`, sorted by name in byte order:
/// real folders (symbolic links are not followed) whose names are UTF-8
/// and neither hidden nor banned.
pub(super) fn sub_folders(folder: &Folder) -> anyhow::Result<Vec<Folder>> {
    let failed = || format!("failed to read {}", folder.path.display());
    let mut found = Vec::new();
    for entry in fs::read_dir(&folder.path).with_context(failed)? {
        let entry = entry.with_context(failed)?;
        if !entry.file_type().with_context(failed)?.is_dir() {
            continue;
        }
        match entry.file_name().into_string() {
            Ok(name) if !discover::is_ignored_name(&name) => {
                found.push(folder.child(&name));
            }
            Ok(_) => {}
            Err(_) => log::warn!(
                "skipping folder with a non-UTF-8 name {}",
                entry.path().display()
            ),
        }
    }
    found.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(found)
}

/// Returns whether `folder` holds both `group_info.json` and
/// `messages.json` (§4.4); errors name the file that cannot be read.
pub(super) fn is_conversation(folder: &Folder) -> anyhow::Result<bool> {
    Ok(is_file(&folder.path.join(GROUP_INFO))?
        && is_file(&folder.path.join(MESSAGES))?)
}

/// Returns the names of the files directly in `folder` that are neither
/// hidden nor banned (see [`crate::platform::folder::list_files`]).
pub(super) fn files(
    folder: &Folder,
    plan: &mut Plan,
) -> anyhow::Result<Vec<String>> {
    crate::platform::folder::list_files(folder, plan, discover::is_ignored_name)
}
