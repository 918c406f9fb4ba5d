//! Finding `Voice/Calls/` under the Google root (platforms.md §5.1, §3.1)
//! and listing its conversation pages and media files (§5.2–§5.4).
//!
//! Used by detection, which turns every error into "no match" plus a
//! warning, and by planning, which fails only when the folder itself
//! cannot be read.

use std::fs::{self, DirEntry};
use std::path::Path;

use anyhow::Context;

use crate::discover;
use crate::media::kind;
use crate::plan::{Plan, Skipped};
use crate::platform::folder::{google_root, is_real_dir, Folder};

/// The `Voice/Calls/` folder of an export.
pub(super) type Calls = Folder;

/// The files of `Voice/Calls/` that Google Voice reads.
#[derive(Clone, Debug, Default)]
pub(super) struct Listing {
    /// Conversation page names, sorted in byte order.
    pub(super) pages: Vec<String>,
    /// Names of the other files with a media or audio extension, sorted.
    pub(super) media: Vec<String>,
}

/// Returns the `Voice/Calls/` folder under the Google root of `export`
/// (`<export>/Takeout` when that folder exists, else `<export>`), or
/// `None` when there is none. Errors when a folder on the way cannot be
/// inspected.
pub(super) fn calls_folder(export: &Path) -> anyhow::Result<Option<Calls>> {
    let calls = google_root(export)?.child("Voice").child("Calls");
    Ok(is_real_dir(&calls.path)?.then_some(calls))
}

/// Returns whether `calls` holds at least one conversation page (§5.1).
pub(super) fn has_pages(calls: &Calls) -> anyhow::Result<bool> {
    let failed = || format!("failed to read {}", calls.path.display());
    for entry in fs::read_dir(&calls.path).with_context(failed)? {
        let entry = entry.with_context(failed)?;
        let is_page = entry.file_name().to_str().is_some_and(is_page_name);
        if is_page && is_file(&entry) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Returns the conversation pages and media files of `calls`. Hidden and
/// banned names, folders and other files are left out; a media file
/// whose name is not UTF-8 is recorded as skipped.
pub(super) fn list(calls: &Calls, plan: &mut Plan) -> anyhow::Result<Listing> {
    let failed = || format!("failed to read {}", calls.path.display());
    let mut listing = Listing::default();
    for entry in fs::read_dir(&calls.path).with_context(failed)? {
        let entry = entry.with_context(failed)?;
        if !is_file(&entry) {
            continue;
        }
        match entry.file_name().into_string() {
            Ok(name) if is_page_name(&name) => listing.pages.push(name),
            Ok(name) if is_catalogued(&name) => listing.media.push(name),
            Ok(_) => {}
            Err(raw) => {
                let name = raw.to_string_lossy();
                if is_catalogued(&name) {
                    plan.skipped.push(Skipped {
                        input: calls.rel_of(&name),
                        reason: "file name is not valid UTF-8".into(),
                    });
                }
            }
        }
    }
    listing.pages.sort_unstable();
    listing.media.sort_unstable();
    Ok(listing)
}

/// Returns whether `name` is a conversation page: an `.html` file whose
/// name contains ` - Text - ` or starts with `Group Conversation`.
pub(super) fn is_page_name(name: &str) -> bool {
    !discover::is_ignored_name(name)
        && has_html_extension(name)
        && (name.contains(" - Text - ")
            || name.starts_with("Group Conversation"))
}

/// Returns whether `name` ends with `.html` in any case.
pub(super) fn has_html_extension(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("html"))
}

/// Returns whether `name` belongs to the matching catalogue (§5.4): not
/// HTML, not hidden or banned, with a media or audio extension.
fn is_catalogued(name: &str) -> bool {
    !discover::is_ignored_name(name)
        && !has_html_extension(name)
        && kind::class_of_name(name).is_some()
}

/// Returns whether `entry` is a file or a symbolic link to one (links to
/// folders are not followed, platforms.md §2.1). A dangling link counts
/// as a file so that reading it fails visibly.
fn is_file(entry: &DirEntry) -> bool {
    entry.file_type().is_ok_and(|t| {
        t.is_file()
            || (t.is_symlink()
                && !fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()))
    })
}
