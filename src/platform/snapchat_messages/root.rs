//! Finding the Snapchat Messages root R (platforms.md §10.1), reading its
//! `json/chat_history.json` and the export's username (§10.3).
//!
//! Detection turns every error into "no match" plus a warning; planning
//! fails when `chat_media/` is missing or the history is not valid JSON.

use std::fs;
use std::path::Path;

use anyhow::{anyhow, bail, Context};

use super::history::{self, History};
use crate::discover;
pub(super) use crate::platform::folder::Folder;
use crate::platform::folder::{is_file, is_real_dir};

/// The message history, relative to R (§10.2).
pub(super) const HISTORY: &str = "json/chat_history.json";
/// The media folder, relative to R (§10.2).
pub(super) const CHAT_MEDIA: &str = "chat_media";

/// Returns R: `<export>/messages` when it holds the history, else the
/// export when it does; `None` when neither does (§10.1).
pub(super) fn find(export: &Path) -> anyhow::Result<Option<Folder>> {
    let export = Folder::root(export);
    let nested = export.child("messages");
    if is_real_dir(&nested.path)? && is_file(&nested.path.join(HISTORY))? {
        return Ok(Some(nested));
    }
    Ok(is_file(&export.path.join(HISTORY))?.then_some(export))
}

/// Returns `R/chat_media`, which must be a folder (§10.2).
pub(super) fn chat_media(root: &Folder) -> anyhow::Result<Folder> {
    let folder = root.child(CHAT_MEDIA);
    if !is_real_dir(&folder.path)? {
        bail!("chat_media/ not found beside json/");
    }
    Ok(folder)
}

/// Reads and parses `R/json/chat_history.json`; invalid JSON names the
/// file, line and column (§10.4).
pub(super) fn read_history(root: &Folder) -> anyhow::Result<History> {
    let rel = root.rel_of(HISTORY);
    let path = root.path.join(HISTORY);
    let bytes = fs::read(&path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    // One message, not a context chain, so that every display of the
    // error shows the line and column.
    let json = serde_json::from_slice(&bytes)
        .map_err(|err| anyhow!("{rel}: invalid JSON: {err}"))?;
    history::parse(json).map_err(|err| anyhow!("{rel}: {err}"))
}

/// Returns the export's username (§10.3): the folder name with prefix
/// `snapchat`, else with `snapmsgs`, else the sender of the first message
/// the user sent, else `unknown`.
pub(super) fn username(export_name: &str, history: &History) -> String {
    for prefix in ["snapchat", "snapmsgs"] {
        let user = discover::username(export_name, prefix);
        if user != "unknown" {
            return user;
        }
    }
    history.first_sender.clone().unwrap_or_else(|| "unknown".into())
}
