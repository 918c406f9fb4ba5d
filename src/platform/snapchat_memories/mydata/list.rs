//! Reading Snapchat's list of memories (platforms.md §9b.3): the JSON file
//! `json/memories_history.json`, else the page `html/memories_history.html`,
//! into entries with date, class, position, links and id, in file order.
//!
//! Only an unreadable list, invalid JSON or a missing `Saved Media` array
//! stops the processor; a bad field affects only its entry. Entries
//! listing an id already seen are dropped here.

use std::collections::HashMap;
use std::fs;

use anyhow::{anyhow, bail, Context};
use jiff::Timestamp;
use serde_json::Value;

use super::page;
use crate::media::kind::Class;
use crate::media::model::Gps;
use crate::platform::folder::{is_file, Folder};
use crate::platform::snapchat_memories::entry::{self, InvalidGps};

/// The JSON list, relative to R.
pub(super) const JSON: &str = "json/memories_history.json";
/// The HTML list, relative to R.
pub(super) const HTML: &str = "html/memories_history.html";
/// The array of the JSON list.
const SAVED_MEDIA: &str = "Saved Media";
/// A leading UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The fields of one entry as the list writes them; empty texts count as
/// absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Fields {
    /// `Date`.
    pub(super) date: Option<String>,
    /// `Media Type`.
    pub(super) media_type: Option<String>,
    /// `Location`.
    pub(super) location: Option<String>,
    /// `Media Download Url` (the GET link).
    pub(super) get: Option<String>,
    /// `Download Link` (the POST link).
    pub(super) post: Option<String>,
}

/// One memory of the list, read as §9b.3 says.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Entry {
    /// `<list file>#<n>`, relative to the export (n from 0).
    pub(super) locator: String,
    /// Position in the list, from 0.
    pub(super) index: usize,
    /// The fields as written.
    pub(super) fields: Fields,
    /// `Date` as an instant, when it parses.
    pub(super) capture: Option<Timestamp>,
    /// The class `Media Type` names; `None` leaves it open.
    pub(super) class: Option<Class>,
    /// The position of `Location`, when valid and not 0,0.
    pub(super) gps: Option<Gps>,
    /// The memory's id, percent-decoded and lower-cased.
    pub(super) id: Option<String>,
    /// Problems recorded as warnings in `report.json`.
    pub(super) warnings: Vec<String>,
}

/// The entries of the list and the list file relative to the export.
#[derive(Debug)]
pub(super) struct List {
    /// `json/memories_history.json` or `html/…`, relative to the export.
    pub(super) file: String,
    /// Entries in file order, duplicates dropped.
    pub(super) entries: Vec<Entry>,
}

/// Returns the list of R: the JSON file when it exists, else the page.
pub(super) fn read(root: &Folder) -> anyhow::Result<List> {
    let json = is_file(&root.path.join(JSON))?;
    let name = if json { JSON } else { HTML };
    let (path, file) = (root.path.join(name), root.rel_of(name));
    let bytes = fs::read(&path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let bytes = bytes.strip_prefix(BOM).unwrap_or(&bytes);
    let all = if json {
        parse_json(bytes)
    } else {
        page::rows(&String::from_utf8_lossy(bytes))
    };
    let all = all.map_err(|err| anyhow!("{file}: {err}"))?;
    let entries = all
        .into_iter()
        .enumerate()
        .map(|(index, fields)| entry(&file, index, fields))
        .collect();
    Ok(List { entries: dedup(entries), file })
}

/// Returns the fields of every element of `Saved Media` in `bytes`.
fn parse_json(bytes: &[u8]) -> anyhow::Result<Vec<Fields>> {
    let json: Value = match serde_json::from_slice(bytes) {
        Ok(json) => json,
        Err(err) => bail!("invalid JSON: {err}"),
    };
    let Some(Value::Array(list)) = json.get(SAVED_MEDIA) else {
        bail!("no \"{SAVED_MEDIA}\" array");
    };
    Ok(list.iter().map(json_fields).collect())
}

/// Returns the fields of one element of `Saved Media`; an element that
/// is not an object has none.
fn json_fields(raw: &Value) -> Fields {
    let text = |key: &str| present(raw.get(key).and_then(Value::as_str));
    Fields {
        date: text("Date"),
        media_type: text("Media Type"),
        location: text("Location"),
        get: text("Media Download Url"),
        post: text("Download Link"),
    }
}

/// Returns `text` trimmed, or `None` when it is missing or empty.
pub(super) fn present(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
}

/// Returns entry `index` of list `file` read from `fields`.
fn entry(file: &str, index: usize, fields: Fields) -> Entry {
    let (gps, bad) = location(fields.location.as_deref());
    Entry {
        locator: format!("{file}#{index}"),
        index,
        capture: fields.date.as_deref().and_then(entry::utc_instant),
        class: fields.media_type.as_deref().and_then(class),
        gps,
        id: id(&fields),
        warnings: bad.into_iter().collect(),
        fields,
    }
}

/// Returns the class a `Media Type` names (any case).
pub(super) fn class(media_type: &str) -> Option<Class> {
    if media_type.eq_ignore_ascii_case("image") {
        Some(Class::Image)
    } else if media_type.eq_ignore_ascii_case("video") {
        Some(Class::Video)
    } else {
        None
    }
}

/// Returns the position of `Location` (the text after the last `:`,
/// split at the `,`), or the warning when it cannot be used.
fn location(text: Option<&str>) -> (Option<Gps>, Option<String>) {
    let Some(text) = text else { return (None, None) };
    let coordinates = text.rsplit(':').next().unwrap_or(text).trim();
    if coordinates.is_empty() {
        return (None, None);
    }
    let number = |s: &str| s.trim().parse::<f64>().ok();
    let pair = coordinates
        .split_once(',')
        .and_then(|(lat, lon)| Some((number(lat)?, number(lon)?)));
    let Some((latitude, longitude)) = pair else {
        return (None, Some(format!("unreadable location {text:?} ignored")));
    };
    match entry::checked_gps(latitude, longitude) {
        Ok(gps) => (gps, None),
        Err(InvalidGps) => {
            (None, Some(format!("invalid position {text:?} ignored")))
        }
    }
}

/// Returns the id of an entry: the `mid` of the GET link, else of the
/// POST link, else their `sid`; percent-decoded and lower-cased.
fn id(fields: &Fields) -> Option<String> {
    let links = [&fields.get, &fields.post];
    let of = |key: &str| {
        links.iter().find_map(|link| {
            query_param(link.as_deref()?, key).filter(|v| !v.is_empty())
        })
    };
    of("mid").or_else(|| of("sid")).map(|id| id.to_lowercase())
}

/// Returns the percent-decoded value of query parameter `key` of `link`.
pub(super) fn query_param(link: &str, key: &str) -> Option<String> {
    let (_, query) = link.split_once('?')?;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

/// Returns `text` with its `%XX` escapes decoded; other bytes, and `%`
/// signs not followed by two hex digits, stay as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let hex = bytes.get(at + 1..at + 3).and_then(|h| {
            u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
        });
        match hex {
            Some(decoded) if b == b'%' => {
                out.push(decoded);
                at += 3;
            }
            _ => {
                out.push(b);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Returns `entries` without those whose id was already seen; the kept
/// entry gets a warning when a dropped one differs in date, type or
/// location (§9b.3).
fn dedup(entries: Vec<Entry>) -> Vec<Entry> {
    let mut kept: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for entry in entries {
        let Some(id) = entry.id.clone() else {
            kept.push(entry);
            continue;
        };
        let Some(&first) = seen.get(&id) else {
            seen.insert(id, kept.len());
            kept.push(entry);
            continue;
        };
        log::debug!("{}: id {id} already listed; dropped", entry.locator);
        if let Some(first) = kept.get_mut(first).filter(|f| differs(f, &entry))
        {
            first.warnings.push(format!(
                "{} lists the same memory with a different date, type or \
                 location; it was ignored",
                entry.locator
            ));
        }
    }
    kept
}

/// Returns whether two entries of one id differ in date, type or
/// location.
fn differs(a: &Entry, b: &Entry) -> bool {
    let kind =
        |e: &Entry| e.fields.media_type.as_ref().map(|t| t.to_lowercase());
    a.fields.date != b.fields.date || kind(a) != kind(b) || a.gps != b.gps
}
