//! Snapchat Memories from Snapchat's own My Data download (platforms.md
//! §9b): the list `json/memories_history.json` (or its HTML page) and the
//! memory files bundled under `memories/`, directly in the export or
//! under `memories/`.
//!
//! Pairs bundled files with list entries, hands entries that only have a
//! link to the engine as fetches, and returns the leftover files as dated
//! orphans. Downloading, compositing, naming and writing belong to the
//! engine.

mod bundled;
mod items;
mod list;
mod matching;
mod page;

use std::path::Path;

#[cfg(test)]
use anyhow::Context;

use crate::plan::{Export, Plan};
use crate::platform::folder::{is_file, is_real_dir, Folder};

/// The folder of the bundled memory files, relative to R.
const BUNDLED: &str = "memories";

/// Returns R, the folder holding `json/memories_history.json` or
/// `html/memories_history.html`: `<export>/memories` when one of them is
/// there, else the export itself; `None` when neither holds one (§9b.1).
pub(super) fn find(export: &Path) -> anyhow::Result<Option<Folder>> {
    let export = Folder::root(export);
    let nested = export.child("memories");
    if is_real_dir(&nested.path)? && has_list(&nested)? {
        return Ok(Some(nested));
    }
    Ok(has_list(&export)?.then_some(export))
}

/// Returns whether `folder` holds the JSON list or the HTML page.
fn has_list(folder: &Folder) -> anyhow::Result<bool> {
    Ok(is_file(&folder.path.join(list::JSON))?
        || is_file(&folder.path.join(list::HTML))?)
}

/// Plans the download in R = `root` of `export` into `plan`, whose
/// username is `user`. Fails when the list cannot be read or parsed, or
/// when a folder cannot be listed.
pub(super) fn plan(
    export: &Export,
    root: &Folder,
    user: &str,
    plan: &mut Plan,
) -> anyhow::Result<()> {
    let list = list::read(root)?;
    let mains = bundled::read(&root.child(BUNDLED), plan)?;
    let matching = matching::run(&list.entries, &mains);
    log::debug!(
        "{}: {} entries in {}, {} bundled files, {} of {} with a time \
         candidate, best shift {:?} s",
        export.name,
        list.entries.len(),
        list.file,
        mains.len(),
        matching.timed,
        matching.considered,
        matching.best_shift,
    );
    if let Some(warning) = lost_times(export, &list.entries, &matching) {
        log::warn!("{warning}");
    }
    let output = items::Output {
        export: &export.path,
        user,
        entries: &list.entries,
        mains: &mains,
    };
    output.fill(&matching, plan);
    Ok(())
}

/// Returns the warning of §9b.4 when entries exist but fewer than half
/// of the mains the `time` rule looked at found a candidate.
fn lost_times(
    export: &Export,
    entries: &[list::Entry],
    matching: &matching::Matching,
) -> Option<String> {
    let lost = !entries.is_empty()
        && matching.considered > 0
        && matching.timed * 2 < matching.considered;
    lost.then(|| {
        format!(
            "{}: the files in memories/ seem to have lost their original \
             times while being unpacked; memories can only be matched by \
             day. Unpack the download with a tool that keeps file times to \
             get exact dates and places.",
            export.name
        )
    })
}

/// Returns the warning [`plan`] would log about lost file times for the
/// download in `export`.
#[cfg(test)]
pub(super) fn lost_times_of(export: &Export) -> anyhow::Result<Option<String>> {
    let root = find(&export.path)?.context("no memories_history")?;
    let list = list::read(&root)?;
    let mains = bundled::read(&root.child(BUNDLED), &mut Plan::default())?;
    let matching = matching::run(&list.entries, &mains);
    Ok(lost_times(export, &list.entries, &matching))
}
