//! Plans one Google Chat conversation folder: names the conversation,
//! matches its attachments to its media files and records every outcome
//! (platforms.md §4.4–§4.8).
//!
//! Items follow the messages and their attachments in file order; media
//! files no message uses become unmatched, attachments without a file
//! orphaned metadata.

use std::fs;

use serde_json::{json, Map, Value};

use super::locate::{self, Folder, GROUP_INFO, MESSAGES};
use super::matching::Catalogue;
use super::messages::{self, Message};
use super::user::User;
use crate::media::kind;
use crate::plan::{Item, Match, Orphan, Plan, Skipped, Unmatched};
use crate::platform::names::sanitize;

/// The placeholder name Google gives unnamed spaces (§4.4).
const UNNAMED_SPACE: &str = "Group Chat";
/// Longest conversation part of output names (platforms.md §2.3).
const NAME_PART: usize = 50;
/// Reason for media of a conversation whose messages cannot be read
/// (platforms.md §2.8).
const NO_METADATA: &str = "No matching metadata found";
/// Reason for media no message refers to (§4.8).
const NOT_REFERENCED: &str = "Not referenced by any message";

/// One conversation with the names items and reports use.
struct Conversation<'a> {
    /// The folder.
    folder: &'a Folder,
    /// Folder name after the first space (§4.4).
    id: String,
    /// Display name of §4.4.
    name: String,
    /// The exporting user.
    user: &'a User,
}

/// Plans the conversation in `folder` into `plan`. An unreadable folder
/// is skipped with a warning; a `messages.json` that is not valid JSON is
/// orphaned metadata and leaves the folder's media unmatched.
pub(super) fn plan_conversation(folder: &Folder, user: &User, plan: &mut Plan) {
    let files = match locate::files(folder, plan) {
        Ok(files) => files,
        Err(err) => {
            log::warn!("skipping conversation: {err:#}");
            return;
        }
    };
    let media = media_files(folder, files, plan);
    let conv = Conversation::read(folder, user);
    let messages = match messages::read(folder) {
        Ok(messages) => messages,
        Err(err) => {
            plan.orphans.push(conv.invalid(&err));
            for file in &media {
                plan.unmatched.push(conv.unmatched(file, NO_METADATA));
            }
            return;
        }
    };
    let mut catalogue = Catalogue::new(media);
    for message in &messages {
        for export_name in &message.attachments {
            match catalogue.resolve(export_name) {
                Some((file, rule)) => {
                    plan.items.push(conv.item(message, &file, rule));
                }
                None => plan.orphans.push(conv.missing(message, export_name)),
            }
        }
    }
    for file in catalogue.unused() {
        plan.unmatched.push(conv.unmatched(file, NOT_REFERENCED));
    }
}

/// Returns the media files of the listing; other files except the two
/// JSON files are recorded as skipped (`not media`).
fn media_files(
    folder: &Folder,
    files: Vec<String>,
    plan: &mut Plan,
) -> Vec<String> {
    let mut media = Vec::new();
    for file in files {
        if kind::is_media_name(&file) {
            media.push(file);
        } else if file != GROUP_INFO && file != MESSAGES {
            let input = format!("{}/{file}", folder.rel);
            plan.skipped.push(Skipped { input, reason: "not media".into() });
        }
    }
    media
}

impl<'a> Conversation<'a> {
    /// Returns the conversation in `folder`, named from its
    /// `group_info.json` (§4.4).
    fn read(folder: &'a Folder, user: &'a User) -> Conversation<'a> {
        let id = match folder.name.split_once(' ') {
            Some((_, id)) => id.to_string(),
            None => folder.name.clone(),
        };
        let info = group_info(folder);
        let name = if folder.name.starts_with("DM ") {
            dm_name(&info, user)
        } else {
            space_name(&info, user)
        };
        let name = name.unwrap_or_else(|| id.clone());
        Conversation { folder, id, name, user }
    }

    /// Returns the item for media `file` of `message`, found by `rule`.
    fn item(&self, message: &Message, file: &str, rule: &'static str) -> Item {
        let (rel, user) = (&self.folder.rel, &self.user.name);
        log::debug!("{rel}/{file}: attachment by rule {rule}");
        Item {
            source: self.folder.path.join(file),
            input: format!("{rel}/{file}"),
            capture: message.capture,
            gps: None,
            description: Some(self.description(&message.sender)),
            caption: None,
            prefix: format!("gchat-{user}-{}", sanitize(&self.name, NAME_PART)),
            group: String::new(),
            album: self.name.clone(),
            albums: vec![format!("Google Chat/{user}")],
            matched: Match {
                rule,
                metadata: Some(format!("{rel}/{MESSAGES}")),
            },
            context: self.context(message),
            favorite: false,
            overlay: None,
            warnings: Vec::new(),
            orphan: None,
            shared_prefix: None,
            extra: Map::new(),
        }
    }

    /// Returns the description of §4.7.
    fn description(&self, sender: &str) -> String {
        format!(
            "Source: Google Chat/{}\nConversation: \"{}\"\nSender: \"{sender}\"",
            self.user.name, self.name
        )
    }

    /// Returns the `report.json` context of an item of `message`.
    fn context(&self, message: &Message) -> Map<String, Value> {
        let mut context = Map::new();
        context.insert("conversation".into(), json!(self.name));
        context.insert("conversation_id".into(), json!(self.id));
        context.insert("sender".into(), json!(message.sender));
        if !message.text.is_empty() {
            context.insert("text".into(), json!(message.text));
        }
        context
    }

    /// Returns the unmatched record of media `file` with `reason`.
    fn unmatched(&self, file: &str, reason: &str) -> Unmatched {
        let input = format!("{}/{file}", self.folder.rel);
        let mut context = Map::new();
        context.insert("conversation_id".into(), json!(self.id));
        context.insert("original_location".into(), json!(input));
        Unmatched {
            source: self.folder.path.join(file),
            input,
            reason: reason.into(),
            context,
        }
    }

    /// Returns the orphan record of attachment `export_name` of `message`
    /// whose file was not found (§4.5 step 4).
    fn missing(&self, message: &Message, export_name: &str) -> Orphan {
        let entry = json!({
            "conversation_id": self.id,
            "conversation_name": self.name,
            "export_name": export_name,
            "message_timestamp": message.created,
            "sender": message.sender,
        });
        let mut context = Map::new();
        context.insert("conversation_id".into(), json!(self.id));
        context.insert("expected_filename".into(), json!(export_name));
        Orphan {
            source: format!("{}/{MESSAGES}#{}", self.folder.rel, message.index),
            entry,
            reason: "Media file not found in filesystem".into(),
            context,
        }
    }

    /// Returns the orphan record of a `messages.json` that is not valid
    /// JSON (`error` says why).
    fn invalid(&self, error: &str) -> Orphan {
        let source = format!("{}/{MESSAGES}", self.folder.rel);
        log::warn!("{source}: invalid JSON: {error}");
        let mut context = Map::new();
        context.insert("conversation_id".into(), json!(self.id));
        Orphan {
            entry: json!({"file": source, "error": error}),
            source,
            reason: format!("Invalid JSON: {error}"),
            context,
        }
    }
}

/// Returns the parsed `group_info.json` of `folder`, or `null` with a
/// warning when it cannot be read.
fn group_info(folder: &Folder) -> Value {
    let path = folder.path.join(GROUP_INFO);
    let parsed =
        fs::read(&path).map_err(|err| err.to_string()).and_then(|bytes| {
            serde_json::from_slice(&bytes).map_err(|err| err.to_string())
        });
    parsed.unwrap_or_else(|err| {
        log::warn!("ignoring {}: {err}", path.display());
        Value::Null
    })
}

/// Returns the `(name, email)` of every member with a non-blank name, in
/// file order.
fn members(info: &Value) -> Vec<(&str, Option<&str>)> {
    let Some(list) = info.get("members").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|m| {
            let name = m.get("name")?.as_str()?.trim();
            let email = m.get("email").and_then(Value::as_str);
            (!name.is_empty()).then_some((name, email))
        })
        .collect()
}

/// Returns the name of the first member who is not the user (§4.4 DM).
fn dm_name(info: &Value, user: &User) -> Option<String> {
    let others = members(info).into_iter().filter(|(_, e)| !user.is_own(*e));
    others.map(|(name, _)| name.to_string()).next()
}

/// Returns a space's `name` unless missing or `Group Chat`, else the first
/// words of the other members' names joined with `, ` (§4.4 space).
fn space_name(info: &Value, user: &User) -> Option<String> {
    let named = info.get("name").and_then(Value::as_str).map(str::trim);
    if let Some(name) = named.filter(|n| !n.is_empty() && *n != UNNAMED_SPACE) {
        return Some(name.to_string());
    }
    let firsts: Vec<&str> = members(info)
        .into_iter()
        .filter(|(_, email)| !user.is_own(*email))
        .filter_map(|(name, _)| name.split_whitespace().next())
        .collect();
    (!firsts.is_empty()).then(|| firsts.join(", "))
}
