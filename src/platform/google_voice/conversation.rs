//! Reading the conversation pages of `Voice/Calls/`, naming each
//! conversation and merging pages with the same name (platforms.md §5.3).
//!
//! A page that cannot be read or is not UTF-8 is skipped with a warning;
//! its media files then stay unreferenced.

use std::collections::BTreeMap;
use std::fs;

use super::locate::Calls;
use super::page::{self, Page, ME};

/// One conversation: every page with its name, in file-name order.
#[derive(Clone, Debug)]
pub(super) struct Conversation {
    /// The conversation name (§5.3).
    pub(super) name: String,
    /// Its pages.
    pub(super) pages: Vec<PageFile>,
}

/// A parsed page and where it came from.
#[derive(Clone, Debug)]
pub(super) struct PageFile {
    /// The page file relative to the export.
    pub(super) rel: String,
    /// What it holds.
    pub(super) page: Page,
}

/// Returns the conversations of pages `files` of `calls`, sorted by name
/// in byte order; pages of one conversation keep the order of `files`.
pub(super) fn read_all(calls: &Calls, files: &[String]) -> Vec<Conversation> {
    let mut by_name: BTreeMap<String, Vec<PageFile>> = BTreeMap::new();
    for file in files {
        let Some(page) = read_page(calls, file) else { continue };
        let name = name_of(file, &page);
        log::debug!("{}: conversation {name:?}", calls.rel_of(file));
        let rel = calls.rel_of(file);
        by_name.entry(name).or_default().push(PageFile { rel, page });
    }
    let all = by_name.into_iter();
    all.map(|(name, pages)| Conversation { name, pages }).collect()
}

/// Returns the page `file` of `calls`, or `None` with a warning when it
/// cannot be read or decoded.
fn read_page(calls: &Calls, file: &str) -> Option<Page> {
    let path = calls.path.join(file);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) => {
            log::warn!("skipping page {}: {err}", path.display());
            return None;
        }
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        log::warn!("skipping page {}: not valid UTF-8", path.display());
        return None;
    };
    match page::parse(text) {
        Ok(page) => Some(page),
        Err(err) => {
            log::warn!("skipping page {}: {err:#}", path.display());
            None
        }
    }
}

/// Returns the conversation name of page `file` (§5.3): on a group page,
/// the participants other than `Me` joined with `, `; else the title
/// without `Me to `; else the first sender of a media message other than
/// `Me`; else the file name before ` - Text - `.
pub(super) fn name_of(file: &str, page: &Page) -> String {
    let others: Vec<&str> = page
        .participants
        .iter()
        .map(String::as_str)
        .filter(|p| *p != ME)
        .collect();
    if !others.is_empty() {
        return others.join(", ");
    }
    let title = page.title.strip_prefix("Me to ").unwrap_or(&page.title);
    if !title.trim().is_empty() {
        return title.trim().to_string();
    }
    let mut senders = page.messages.iter().map(|m| m.sender.as_str());
    if let Some(sender) = senders.find(|s| !s.is_empty() && *s != ME) {
        return sender.to_string();
    }
    let stem = file.get(..file.len().saturating_sub(".html".len()));
    let stem = stem.unwrap_or(file);
    stem.split(" - Text - ").next().unwrap_or(stem).to_string()
}
