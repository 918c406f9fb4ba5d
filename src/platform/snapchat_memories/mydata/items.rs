//! Turns the matched list and bundled files into the plan (platforms.md
//! §9b.4–§9b.9): items of matched mains in entry order, fetches for
//! entries that only have a link, orphaned metadata for entries with
//! neither, then the mains without an entry as dated orphans by path.
//!
//! Items look like those of §9 (memories.rs): same prefix, description
//! and albums; only `match.rule`, `input` and the context differ.

use std::path::Path;

use jiff::civil::Date;
use jiff::Timestamp;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::bundled::Main;
use super::list::{self, Entry};
use super::matching::{utc_day, Matching};
use crate::media::kind::Class;
use crate::plan::{Capture, Fetch, Item, Match, Orphan, Plan, When};

/// The `date.source` of a list entry's `Date` (metadata.md §2.1).
const DATE_SOURCE: &str = "Date";
/// The download cache, relative to the output root (§9b.5).
const CACHE: &str = "memories/.snapchat-downloads";
/// Reason for an entry with neither a file nor a link (§9b.4).
const MISSING: &str = "Media file not found in filesystem";
/// Reason for a main without an entry (§9b.4).
const NO_METADATA: &str = "No matching metadata found";
/// Hex digits of the SHA-256 of a link that key an entry without id.
const KEY_DIGITS: usize = 32;

/// What the plan is built from.
pub(super) struct Output<'a> {
    /// The export folder (the placeholder source of fetches).
    pub(super) export: &'a Path,
    /// The export's username.
    pub(super) user: &'a str,
    /// The list's entries, in file order.
    pub(super) entries: &'a [Entry],
    /// The bundled mains, by path.
    pub(super) mains: &'a [Main],
}

impl Output<'_> {
    /// Adds the items, fetches and orphans of `matching` to `plan`.
    pub(super) fn fill(&self, matching: &Matching, plan: &mut Plan) {
        for (entry, slot) in self.entries.iter().zip(&matching.of_entry) {
            match slot.and_then(|(m, rule)| Some((self.mains.get(m)?, rule))) {
                Some((main, rule)) => {
                    plan.items.push(self.matched(entry, main, rule));
                }
                None if link(entry).is_some() => {
                    let fetch = self.fetch(entry, plan.items.len());
                    plan.fetches.push(fetch);
                }
                None => plan.orphans.push(missing(entry)),
            }
        }
        for (main, taken) in self.mains.iter().zip(&matching.taken) {
            if !taken {
                plan.items.push(self.orphan(main, matching.best_shift));
            }
        }
    }

    /// Returns the item of bundled `main` paired with `entry` by `rule`.
    fn matched(&self, entry: &Entry, main: &Main, rule: &'static str) -> Item {
        let mut item = self.base(main.path.as_path(), main.input.clone());
        self.describe(&mut item, entry, rule);
        set_overlay(&mut item, main);
        item
    }

    /// Returns the fetch of `entry`, which has a link but no bundled file,
    /// to be planned before item `position` (entries keep file order).
    fn fetch(&self, entry: &Entry, position: usize) -> Fetch {
        let mut item = self.base(self.export, entry.locator.clone());
        self.describe(&mut item, entry, "download");
        let link_created = created(entry);
        let mut context = Map::new();
        context.insert("entry".into(), json!(entry.locator));
        context.insert("link_created".into(), json!(link_created.map(utc)));
        Fetch {
            item,
            position,
            cache: CACHE,
            key: key(entry),
            get: entry.fields.get.clone(),
            post: entry.fields.post.clone(),
            planned_ext: match entry.class {
                Some(Class::Video) => "mp4",
                _ => "jpg",
            },
            link_created,
            orphan: Orphan {
                source: entry.locator.clone(),
                entry: record(entry),
                reason: String::new(),
                context,
            },
        }
    }

    /// Returns the item of a main without an entry (§9b.4): dated by its
    /// modification time less the best shift, else noon on its day.
    fn orphan(&self, main: &Main, shift: Option<i64>) -> Item {
        let mut item = self.base(main.path.as_path(), main.input.clone());
        item.capture = orphan_capture(main, shift);
        item.matched = Match { rule: "orphan", metadata: None };
        item.orphan = Some(NO_METADATA.into());
        if let Some(id) = &main.id {
            item.context.insert("media_id".into(), json!(id));
        }
        set_overlay(&mut item, main);
        item
    }

    /// Fills the fields of `item` that come from `entry`.
    fn describe(&self, item: &mut Item, entry: &Entry, rule: &'static str) {
        item.capture = entry
            .capture
            .map(|at| Capture { when: When::Instant(at), source: DATE_SOURCE });
        item.gps = entry.gps;
        item.matched = Match { rule, metadata: Some(entry.locator.clone()) };
        if let Some(media_type) = &entry.fields.media_type {
            item.context.insert("media_type".into(), json!(media_type));
        }
        if let Some(id) = &entry.id {
            item.context.insert("media_id".into(), json!(id));
        }
        item.warnings.extend(entry.warnings.iter().cloned());
    }

    /// Returns an item of `source` with the fields every item shares.
    fn base(&self, source: &Path, input: String) -> Item {
        super::super::memory_item(self.user, source.to_path_buf(), input)
    }
}

/// Gives `item` the bundled overlay of `main`, if any.
fn set_overlay(item: &mut Item, main: &Main) {
    let Some(overlay) = &main.overlay else { return };
    if let Some(name) = overlay.file_name() {
        let name = name.to_string_lossy();
        item.context.insert("overlay".into(), json!(name));
    }
    item.overlay = Some(overlay.clone());
}

/// Returns the capture of an orphan main: mtime − `shift` when that
/// falls on its day prefix (or it has none), else 12:00:00 on the day.
pub(super) fn orphan_capture(
    main: &Main,
    shift: Option<i64>,
) -> Option<Capture> {
    let shifted = shift
        .zip(main.mtime)
        .and_then(|(s, at)| Timestamp::from_second(at.as_second() - s).ok())
        .filter(|at| main.day.is_none_or(|day| utc_day(*at) == day));
    if let Some(at) = shifted {
        return Some(Capture { when: When::Instant(at), source: "file_mtime" });
    }
    let noon = main.day.map(|day: Date| day.at(12, 0, 0, 0))?;
    Some(Capture { when: When::Wall(noon), source: "filename" })
}

/// Returns the link of `entry`: the GET link, else the POST link.
fn link(entry: &Entry) -> Option<&str> {
    entry.fields.get.as_deref().or(entry.fields.post.as_deref())
}

/// Returns the cache key of `entry`: its id, else the first 32 hex
/// digits of the SHA-256 of its link (§9b.5).
fn key(entry: &Entry) -> String {
    if let Some(id) = &entry.id {
        return id.clone();
    }
    let digest = Sha256::digest(link(entry).unwrap_or_default().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex.chars().take(KEY_DIGITS).collect()
}

/// Returns when the link of `entry` was prepared: its `ts` parameter,
/// milliseconds since 1970.
fn created(entry: &Entry) -> Option<Timestamp> {
    let links = [&entry.fields.get, &entry.fields.post];
    links.iter().find_map(|link| {
        let ts = list::query_param(link.as_deref()?, "ts")?;
        Timestamp::from_millisecond(ts.trim().parse().ok()?).ok()
    })
}

/// Returns `at` as RFC 3339 UTC text, like every instant in the reports.
fn utc(at: Timestamp) -> String {
    at.to_string()
}

/// Returns the orphaned-metadata record of `entry` (§9b.5).
fn record(entry: &Entry) -> Value {
    json!({
        "media_id": entry.id,
        "date": entry.fields.date,
        "media_type": entry.fields.media_type,
        "latitude": entry.gps.map(|g| g.latitude),
        "longitude": entry.gps.map(|g| g.longitude),
        "url": link(entry),
    })
}

/// Returns the orphan of `entry`, which has neither a file nor a link.
fn missing(entry: &Entry) -> Orphan {
    let mut context = Map::new();
    context.insert("entry".into(), json!(entry.locator));
    if !entry.warnings.is_empty() {
        context.insert("warnings".into(), json!(entry.warnings));
    }
    Orphan {
        source: entry.locator.clone(),
        entry: record(entry),
        reason: MISSING.into(),
        context,
    }
}
