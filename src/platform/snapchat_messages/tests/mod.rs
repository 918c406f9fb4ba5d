//! Tests of the Snapchat Messages processor on small exports built in
//! temporary folders (media bytes are placeholders unless a test needs
//! real magic bytes; file times are set explicitly).

mod matching;
mod parsing;

use std::fs::{self, File, FileTimes};
use std::time::SystemTime;

use jiff::Timestamp;
use serde_json::{json, Value};
use tempfile::TempDir;

use super::SnapchatMessages;
use crate::plan::{Export, Item, Plan};
use crate::platform::Platform;

/// A Snapchat export in a temporary folder.
struct Snap {
    _dir: TempDir,
    export: Export,
    /// R relative to the export, with a trailing `/` unless empty.
    root: &'static str,
}

impl Snap {
    /// Returns `snapchat-jane-20250526` with `messages/json/` and
    /// `messages/chat_media/`.
    fn nested() -> Snap {
        Snap::with_root("snapchat-jane-20250526", "messages/")
    }

    /// Returns an export named `name` with R at `root`.
    fn with_root(name: &str, root: &'static str) -> Snap {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join(name);
        fs::create_dir_all(path.join(root).join("json")).unwrap();
        fs::create_dir_all(path.join(root).join("chat_media")).unwrap();
        let export = Export {
            name: name.to_string(),
            path: path.canonicalize().unwrap(),
        };
        Snap { _dir: dir, export, root }
    }

    /// Writes `R/json/chat_history.json` with `text`.
    fn history_text(&self, text: &str) -> &Snap {
        let rel = format!("{}json/chat_history.json", self.root);
        fs::write(self.export.path.join(rel), text).unwrap();
        self
    }

    /// Writes `R/json/chat_history.json` holding `json`.
    fn history(&self, json: Value) -> &Snap {
        self.history_text(&json.to_string())
    }

    /// Writes `R/chat_media/<name>` with `bytes`, modified at RFC 3339
    /// `at`.
    fn file(&self, name: &str, bytes: &[u8], at: &str) -> &Snap {
        let rel = format!("{}chat_media/{name}", self.root);
        let path = self.export.path.join(rel);
        fs::write(&path, bytes).unwrap();
        let at: Timestamp = at.parse().unwrap();
        let time = SystemTime::UNIX_EPOCH
            + std::time::Duration::from_secs(
                at.as_second().try_into().unwrap(),
            );
        let file = File::options().write(true).open(&path).unwrap();
        file.set_times(FileTimes::new().set_modified(time)).unwrap();
        self
    }

    /// Writes a placeholder media file `name` modified at `at`.
    fn media(&self, name: &str, at: &str) -> &Snap {
        self.file(name, b"placeholder", at)
    }

    /// Returns the path of `rel` relative to the export.
    fn rel(&self, name: &str) -> String {
        format!("{}chat_media/{name}", self.root)
    }

    fn detect(&self) -> bool {
        SnapchatMessages.detect(&self.export)
    }

    fn plan(&self) -> Plan {
        SnapchatMessages.plan(&self.export).unwrap()
    }

    fn error(&self) -> String {
        format!("{:#}", SnapchatMessages.plan(&self.export).unwrap_err())
    }
}

/// Returns a `MEDIA` message from `from` at `created` with `ids`
/// (`|`-separated) and `content`.
fn msg(from: &str, created: &str, ids: &str, content: Value) -> Value {
    json!({"From": from, "Media Type": "MEDIA", "Created": created,
           "Content": content, "Conversation Title": null,
           "IsSender": false, "Media IDs": ids})
}

/// Returns the inputs of the plan's items, in plan order.
fn inputs(plan: &Plan) -> Vec<&str> {
    plan.items.iter().map(|i| i.input.as_str()).collect()
}

/// Returns the item with input `input`, the `nth` occurrence of it.
fn item<'a>(plan: &'a Plan, input: &str, nth: usize) -> &'a Item {
    plan.items.iter().filter(|i| i.input.ends_with(input)).nth(nth).unwrap()
}

/// Returns the skipped inputs with their reasons.
fn skipped(plan: &Plan) -> Vec<(&str, &str)> {
    plan.skipped.iter().map(|s| (s.input.as_str(), s.reason.as_str())).collect()
}

/// Returns the overlay file name of `item`.
fn overlay(item: &Item) -> Option<String> {
    let path = item.overlay.as_ref()?;
    Some(path.file_name()?.to_string_lossy().into_owned())
}
