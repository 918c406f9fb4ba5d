//! The `messages.json` file of a Google Chat conversation (platforms.md
//! §4.2, §4.4): the messages that carry media attachments, in file order.
//!
//! Messages without a media `export_name` are left out silently; the
//! matching of attachments to files happens in the conversation scan.

use std::fs;

use serde_json::Value;

use super::date;
use super::locate::{Folder, MESSAGES};
use crate::media::kind;
use crate::plan::Capture;

/// The sender of messages without a `creator.name` (§4.4).
const UNKNOWN_SENDER: &str = "Unknown";

/// One message with at least one media attachment.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Message {
    /// Position in the `messages` array (0-based), the locator of
    /// orphaned entries (reports.md §3.1).
    pub(super) index: usize,
    /// Sender: `creator.name`, else `Unknown`.
    pub(super) sender: String,
    /// Message text, empty when there is none.
    pub(super) text: String,
    /// The raw `created_date` text, when present.
    pub(super) created: Option<String>,
    /// The parsed capture time.
    pub(super) capture: Option<Capture>,
    /// `export_name` of every attachment with a media extension, in file
    /// order.
    pub(super) attachments: Vec<String>,
}

/// Returns the media messages of the conversation in `folder`, or the
/// error text of the `Invalid JSON` reason when the file cannot be read or
/// parsed. A document without a `messages` array has no messages.
pub(super) fn read(folder: &Folder) -> Result<Vec<Message>, String> {
    let path = folder.path.join(MESSAGES);
    let bytes = fs::read(&path)
        .map_err(|err| format!("failed to read {MESSAGES}: {err}"))?;
    let json: Value =
        serde_json::from_slice(&bytes).map_err(|err| err.to_string())?;
    let Some(list) = json.get("messages").and_then(Value::as_array) else {
        log::warn!("no messages array in {}", path.display());
        return Ok(Vec::new());
    };
    Ok(list
        .iter()
        .enumerate()
        .filter_map(|(index, m)| message(index, m, &folder.rel))
        .collect())
}

/// Returns message `index` of the file, `json`, or `None` when it has no media attachment.
fn message(index: usize, json: &Value, rel: &str) -> Option<Message> {
    let attachments = media_names(json);
    if attachments.is_empty() {
        return None;
    }
    let field =
        |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let sender = field(json.get("creator").and_then(|c| c.get("name")))
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| UNKNOWN_SENDER.to_string());
    let created = field(json.get("created_date"));
    let capture = created.as_deref().and_then(|text| {
        let when = date::parse(text);
        if when.is_none() {
            log::warn!("{rel}/{MESSAGES}: unreadable created_date {text:?}");
        }
        Some(Capture { when: when?, source: "created_date" })
    });
    let text = field(json.get("text")).unwrap_or_default();
    Some(Message { index, sender, text, created, capture, attachments })
}

/// Returns the `attached_files[].export_name` values with a media
/// extension.
fn media_names(json: &Value) -> Vec<String> {
    let Some(files) = json.get("attached_files").and_then(Value::as_array)
    else {
        return Vec::new();
    };
    files
        .iter()
        .filter_map(|f| f.get("export_name")?.as_str())
        .filter(|name| kind::is_media_name(name))
        .map(str::to_string)
        .collect()
}
