//! Turning the matching outcome into the plan (platforms.md §10.6–§10.10):
//! items in primary order with names, descriptions and contexts, the
//! `needs_matching/` cases, orphaned ids and skipped overlays.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::history::{Conversation, History, Kind, Message};
use super::matching::{Ambiguous, Occurrence, Outcome, Stray};
use super::media::{ChatMedia, MediaFile};
use crate::plan::{
    Capture, Item, Match, NeedsMatching, Orphan, Plan, Skipped, When,
};
use crate::platform::names::sanitize;

/// Reason for a message id without a file (§10.5 step 3).
fn unresolved_reason(id: &str) -> String {
    format!(
        "Media ID '{id}' referenced in message but file not found \
         (after all matching attempts)"
    )
}
/// Reason for media no message claimed (§10.5 step 5).
const ORPHAN: &str = "Not matched to any message in chat_history.json";
/// Reason for overlays nobody took (§10.10).
const UNUSED_OVERLAY: &str = "overlay not matched to any message";
/// Warning of items whose overlay went to `needs_matching/`.
const AMBIGUOUS: &str =
    "several videos or overlays at this time; written without overlay \
     (see needs_matching/)";

/// What the items are built from.
pub(super) struct Output<'a> {
    /// The parsed history.
    pub(super) history: &'a History,
    /// The files of `chat_media/`.
    pub(super) files: &'a ChatMedia,
    /// The export's username.
    pub(super) user: &'a str,
    /// `chat_history.json` relative to the export.
    pub(super) metadata: String,
}

impl Output<'_> {
    /// Fills `plan` with the items (primary order: messages, then
    /// orphans), ambiguous cases, orphaned ids and unused overlays.
    pub(super) fn fill(&self, outcome: &Outcome, plan: &mut Plan) {
        let mut occurrences = outcome.occurrences.clone();
        occurrences.sort_by_key(|o| {
            let key = self.message(o.conv, o.msg).and_then(sort_instant);
            (key.is_none(), key, o.conv, o.msg, o.id)
        });
        for occurrence in &occurrences {
            if let Some(item) = self.occurrence_item(occurrence) {
                plan.items.push(item);
            }
        }
        for stray in &outcome.strays {
            if let Some(item) = self.stray_item(stray) {
                plan.items.push(item);
            }
        }
        for case in &outcome.ambiguous {
            if let Some(needs) = self.needs_matching(case) {
                plan.needs_matching.push(needs);
            }
        }
        for unresolved in &outcome.unresolved {
            let conv = self.history.conversations.get(unresolved.conv);
            let message = self.message(unresolved.conv, unresolved.msg);
            if let (Some(conv), Some(message)) = (conv, message) {
                plan.orphans.push(self.orphan(conv, message, &unresolved.id));
            }
        }
        for &overlay in &outcome.unused_overlays {
            if let Some(file) = self.files.overlays.get(overlay) {
                let input = self.files.folder.rel_of(&file.name);
                let reason = UNUSED_OVERLAY.into();
                plan.skipped.push(Skipped { input, reason });
            }
        }
    }

    /// Returns message `msg` of conversation `conv`.
    fn message(&self, conv: usize, msg: usize) -> Option<&Message> {
        self.history.conversations.get(conv)?.messages.get(msg)
    }

    /// Returns the item of one file of one message.
    fn occurrence_item(&self, occurrence: &Occurrence) -> Option<Item> {
        let conv = self.history.conversations.get(occurrence.conv)?;
        let message = conv.messages.get(occurrence.msg)?;
        let file = self.files.media.get(occurrence.file)?;
        let overlay = occurrence.overlay.and_then(|o| self.overlay_name(o));
        let mut item = self.base_item(file, overlay);
        item.capture = message.capture;
        item.description = Some(format!(
            "{}\n{}",
            self.source_line(),
            occurrence_line(conv, message)
        ));
        item.prefix = format!("{}-{}", self.shared_prefix(), name_part(conv));
        item.album = conv.id.clone();
        item.matched.rule = occurrence.rule;
        item.context.extend(message_context(conv, message));
        if occurrence.ambiguous {
            item.warnings.push(AMBIGUOUS.into());
        }
        if message.capture.is_none() {
            let created = message.created.as_deref().unwrap_or("");
            item.warnings.push(format!("unusable Created value '{created}'"));
        }
        Some(item)
    }

    /// Returns the item of an orphan file (§10.5 step 5): dated by its
    /// file instant, named `unknown`, written and reported unmatched.
    fn stray_item(&self, stray: &Stray) -> Option<Item> {
        let file = self.files.media.get(stray.file)?;
        let overlay = stray.overlay.and_then(|o| self.overlay_name(o));
        let mut item = self.base_item(file, overlay);
        item.capture = file.instant.map(|at| Capture {
            when: When::Instant(at),
            source: "file_mtime",
        });
        item.description = Some(self.source_line());
        item.prefix = format!("{}-unknown", self.shared_prefix());
        item.matched.rule = "orphan";
        item.orphan = Some(ORPHAN.into());
        Some(item)
    }

    /// Returns the name of overlay number `overlay`.
    fn overlay_name(&self, overlay: usize) -> Option<&str> {
        self.files.overlays.get(overlay).map(|o| o.name.as_str())
    }

    /// Returns an item of `file` with the fields every item shares.
    fn base_item(&self, file: &MediaFile, overlay: Option<&str>) -> Item {
        let folder = &self.files.folder;
        let mut context = Map::new();
        if let Some(overlay) = overlay {
            context.insert("overlay".into(), json!(overlay));
        }
        Item {
            source: folder.path.join(&file.name),
            input: folder.rel_of(&file.name),
            capture: None,
            gps: None,
            description: None,
            caption: None,
            prefix: String::new(),
            group: String::new(),
            album: String::new(),
            albums: vec![format!("Snapchat/{}/messages", self.user)],
            matched: Match { rule: "", metadata: Some(self.metadata.clone()) },
            context,
            favorite: false,
            overlay: overlay.map(|o| folder.path.join(o)),
            warnings: Vec::new(),
            orphan: None,
            shared_prefix: Some(self.shared_prefix()),
            extra: Map::new(),
        }
    }

    /// Returns `snap-messages-{user}`.
    fn shared_prefix(&self) -> String {
        format!("snap-messages-{}", self.user)
    }

    /// Returns the first description line (§10.9).
    fn source_line(&self) -> String {
        format!("Source: Snapchat/{}/messages", self.user)
    }

    /// Returns the orphaned-metadata record of id `id` of `message`.
    fn orphan(
        &self,
        conv: &Conversation,
        message: &Message,
        id: &str,
    ) -> Orphan {
        let mut context = Map::new();
        context.insert("conversation".into(), json!(conv.id));
        context.insert("media_id".into(), json!(id));
        context.insert("metadata_filename".into(), json!("chat_history.json"));
        Orphan {
            source: format!("{}#{}/{}", self.metadata, conv.id, message.index),
            entry: message.raw.clone(),
            reason: unresolved_reason(id),
            context,
        }
    }

    /// Returns the `needs_matching/` case of `case` (§10.8).
    fn needs_matching(&self, case: &Ambiguous) -> Option<NeedsMatching> {
        let conv = self.history.conversations.get(case.conv)?;
        let message = conv.messages.get(case.msg)?;
        let files: Vec<&MediaFile> = case
            .files
            .iter()
            .filter_map(|&f| self.files.media.get(f))
            .collect();
        let overlays: Vec<_> = (case.overlays.iter())
            .filter_map(|&o| self.files.overlays.get(o))
            .collect();
        let videos = files.iter().filter(|f| f.video).count();
        let images = files.len() - videos;
        let hint = hint(images, videos, overlays.len());
        let timestamp = created_text(message);
        let info = json!({
            "timestamp": timestamp,
            "message_metadata": message_metadata(conv, message, &timestamp),
            "media_files": files.iter().map(|f| media_info(f)).collect::<Vec<_>>(),
            "overlays": overlays.iter().map(|o| json!({
                "filename": o.name, "uuid": o.uuid.as_deref().unwrap_or("")
            })).collect::<Vec<_>>(),
            "analysis": {
                "media_count": files.len(), "overlay_count": overlays.len(),
                "images": images, "videos": videos, "hint": hint,
            },
            "export_username": self.user,
        });
        let folder = &self.files.folder.path;
        Some(NeedsMatching {
            folder: timestamp.replace(' ', "_").replace(':', "-"),
            timestamp,
            videos: files
                .iter()
                .filter(|f| f.video)
                .map(|f| folder.join(&f.name))
                .collect(),
            overlays: overlays.iter().map(|o| folder.join(&o.name)).collect(),
            info,
            hint,
        })
    }
}

/// Returns the instant a message sorts by: its capture, a wall time read
/// as UTC (only for ordering).
fn sort_instant(message: &Message) -> Option<Timestamp> {
    match message.capture?.when {
        When::Instant(at) | When::Offset(at, _) => Some(at),
        When::Wall(civil) => TimeZone::UTC.to_timestamp(civil).ok(),
    }
}

/// Returns the name part of a conversation (§10.7): the sanitised id of a
/// direct message, the sanitised title (or `unknown`) of a group.
fn name_part(conv: &Conversation) -> String {
    match &conv.kind {
        Kind::Direct => sanitize(&conv.id, 50),
        Kind::Group(title) => {
            sanitize(title.as_deref().unwrap_or("unknown"), 50)
        }
    }
}

/// Returns the conversation label of descriptions (§10.9).
fn label(conv: &Conversation) -> String {
    match &conv.kind {
        Kind::Direct => format!("DM with {}", conv.id),
        Kind::Group(title) => {
            title.clone().unwrap_or_else(|| "Unknown Group".into())
        }
    }
}

/// Returns `dm` or `group`.
fn kind_name(conv: &Conversation) -> &'static str {
    match conv.kind {
        Kind::Direct => "dm",
        Kind::Group(_) => "group",
    }
}

/// Returns the description line of one occurrence (§10.9).
fn occurrence_line(conv: &Conversation, message: &Message) -> String {
    let content =
        message.content.replace("\r\n", " ").replace(['\r', '\n'], " ");
    let mut line = format!("  - {} in \"{}\"", message.sender, label(conv));
    if !content.is_empty() {
        line.push_str(&format!(": \"{content}\""));
    }
    line
}

/// Returns the `report.json` context of an occurrence.
fn message_context(
    conv: &Conversation,
    message: &Message,
) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("conversation".into(), json!(label(conv)));
    context.insert("conversation_type".into(), json!(kind_name(conv)));
    context.insert("sender".into(), json!(message.sender));
    context.insert("content".into(), json!(message.content));
    context.insert("created".into(), json!(message.created));
    context
}

/// Returns `Created` as written, else the instant in the same format.
fn created_text(message: &Message) -> String {
    match (&message.created, message.instant) {
        (Some(text), _) => text.clone(),
        (None, Some(at)) => at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        (None, None) => "unknown".into(),
    }
}

/// Returns `message_metadata` of `match_info.json` (§10.8).
fn message_metadata(
    conv: &Conversation,
    message: &Message,
    created: &str,
) -> Value {
    let title = match &conv.kind {
        Kind::Group(Some(title)) => json!(title),
        _ => Value::Null,
    };
    json!({
        "conversation_id": conv.id, "conversation_type": kind_name(conv),
        "conversation_title": title, "sender": message.sender,
        "content": message.content, "is_sender": message.is_sender,
        "created": created,
    })
}

/// Returns one `media_files` entry of `match_info.json` (§10.8).
fn media_info(file: &MediaFile) -> Value {
    let extension = file
        .name
        .rsplit_once('.')
        .map(|(_, ext)| format!(".{}", ext.to_ascii_lowercase()))
        .unwrap_or_default();
    json!({
        "filename": file.name, "media_id": file.bid.as_deref().unwrap_or(""),
        "uuid": file.uuid.as_deref().unwrap_or(""),
        "type": if file.video { "video" } else { "image" },
        "extension": extension,
    })
}

/// Returns the hint of an ambiguous case (§10.8).
fn hint(images: usize, videos: usize, overlays: usize) -> String {
    let mut hint = format!(
        "{images} images + {videos} videos, but only {overlays} overlays."
    );
    if videos == overlays && images > 0 {
        hint.push_str(
            " Images don't need overlays and are processed normally.",
        );
    }
    hint
}
