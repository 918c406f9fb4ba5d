//! Reading `chat_history.json` (platforms.md §10.4): conversations in file
//! order, their kind (§10.4: group with or without title, or direct
//! message) and the non-text messages with their times and media ids.
//!
//! A bad `Created` value means "no date" for that message only
//! (metadata.md §2.1); only a top level that is not an object stops the
//! processor.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::plan::{Capture, When};

/// The `date.source` recorded in `report.json` (metadata.md §2.1).
const DATE_SOURCE: &str = "Created";
/// The precise creation time some exports add beside `Created`.
const CREATED_PRECISE: &str = "Created(microseconds)";

/// Everything `chat_history.json` holds that matching needs.
#[derive(Debug)]
pub(super) struct History {
    /// Conversations in file order.
    pub(super) conversations: Vec<Conversation>,
    /// `From` of the first message with `IsSender: true` (§10.3).
    pub(super) first_sender: Option<String>,
}

/// What kind of conversation an id names (§10.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A direct message; the id is the friend's username.
    Direct,
    /// A group, with its title when any message carries one.
    Group(Option<String>),
}

/// One conversation of the history.
#[derive(Debug)]
pub(super) struct Conversation {
    /// The key of the conversation in `chat_history.json`.
    pub(super) id: String,
    /// Direct message or group.
    pub(super) kind: Kind,
    /// Its messages that are not `TEXT`, in file order.
    pub(super) messages: Vec<Message>,
}

/// One non-text message.
#[derive(Debug)]
pub(super) struct Message {
    /// Position in the conversation's array (the orphan locator).
    pub(super) index: usize,
    /// The message as exported (saved for orphaned ids).
    pub(super) raw: Value,
    /// `From`, or `unknown`.
    pub(super) sender: String,
    /// `Content`, empty when null or missing.
    pub(super) content: String,
    /// `IsSender`.
    pub(super) is_sender: bool,
    /// `Created` as written, when it is a string.
    pub(super) created: Option<String>,
    /// The capture time, when `Created` (or its precise twin) parses.
    pub(super) capture: Option<Capture>,
    /// The instant the files are matched against; a date-only `Created`
    /// has none.
    pub(super) instant: Option<Timestamp>,
    /// `Media IDs`, split at `|`, trimmed, empty ones dropped.
    pub(super) ids: Vec<String>,
}

/// Returns the history of the parsed document `json`.
pub(super) fn parse(json: Value) -> anyhow::Result<History> {
    let Value::Object(map) = json else {
        anyhow::bail!("not a JSON object of conversations");
    };
    let mut first_sender = None;
    let mut conversations = Vec::new();
    for (id, list) in map {
        let Value::Array(list) = list else {
            log::warn!("chat_history.json: {id} is not an array; ignored");
            continue;
        };
        if first_sender.is_none() {
            first_sender = list.iter().find_map(sent_by_user);
        }
        conversations.push(conversation(id, list));
    }
    Ok(History { conversations, first_sender })
}

/// Returns the `From` of `raw` when the user sent it.
fn sent_by_user(raw: &Value) -> Option<String> {
    let fields = raw.as_object()?;
    let sent = fields.get("IsSender").and_then(Value::as_bool)?;
    sent.then(|| text(fields, "From")).flatten().map(str::to_string)
}

/// Returns the conversation `id` with its message array `list`.
fn conversation(id: String, list: Vec<Value>) -> Conversation {
    let title = list
        .iter()
        .find_map(|raw| raw.get("Conversation Title").filter(|t| !t.is_null()));
    let kind = match title {
        Some(title) => Kind::Group(
            title.as_str().filter(|t| !t.is_empty()).map(str::to_string),
        ),
        None if is_lower_uuid(&id) => Kind::Group(None),
        None => Kind::Direct,
    };
    let messages = list
        .into_iter()
        .enumerate()
        .filter_map(|(index, raw)| message(index, raw))
        .collect();
    Conversation { id, kind, messages }
}

/// Returns message number `index`, or `None` for `TEXT` messages and
/// elements that are not objects.
fn message(index: usize, raw: Value) -> Option<Message> {
    let fields = raw.as_object()?;
    let kind = fields.get("Media Type").and_then(Value::as_str);
    if kind == Some("TEXT") {
        return None;
    }
    let created = fields.get("Created").and_then(Value::as_str);
    let when = created.and_then(parse_created);
    let precise = fields.get(CREATED_PRECISE).and_then(precise_instant);
    let instant = match when {
        Some(When::Instant(at)) => Some(at),
        _ => precise,
    };
    let when = when.or(precise.map(When::Instant));
    Some(Message {
        index,
        sender: text(fields, "From").unwrap_or("unknown").to_string(),
        content: content(fields),
        is_sender: fields.get("IsSender").and_then(Value::as_bool)
            == Some(true),
        created: created.map(str::to_string),
        capture: when.map(|when| Capture { when, source: DATE_SOURCE }),
        instant,
        ids: media_ids(fields),
        raw,
    })
}

/// Returns the non-empty string value of `key`.
fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Returns `Content` as text; null, missing and non-strings are empty.
fn content(fields: &Map<String, Value>) -> String {
    match fields.get("Content") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Returns the ids of `Media IDs` (§10.4).
fn media_ids(fields: &Map<String, Value>) -> Vec<String> {
    let ids = fields.get("Media IDs").and_then(Value::as_str).unwrap_or("");
    ids.split('|')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(Into::into)
        .collect()
}

/// Reads `Created`: `YYYY-MM-DD HH:MM:SS UTC` is an instant (fractional
/// seconds dropped), a bare `YYYY-MM-DD` means noon local time (§10.4).
pub(super) fn parse_created(text: &str) -> Option<When> {
    let text = text.trim();
    if let Some(utc) = text.strip_suffix(" UTC").filter(|t| t.contains(':')) {
        let civil =
            DateTime::strptime("%Y-%m-%d %H:%M:%S%.f", utc.trim()).ok()?;
        let at = TimeZone::UTC.to_timestamp(civil).ok()?;
        return Timestamp::from_second(at.as_second()).ok().map(When::Instant);
    }
    if text.len() == 10 {
        let day: Date = text.parse().ok()?;
        return Some(When::Wall(day.at(12, 0, 0, 0)));
    }
    None
}

/// Reads `Created(microseconds)` (a number or a string of digits): 13
/// digits are milliseconds, others microseconds (§10.4).
fn precise_instant(value: &Value) -> Option<Timestamp> {
    let digits = match value {
        Value::Number(n) => n.as_u64()?.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    let count: i64 = digits.parse().ok()?;
    let seconds =
        if digits.len() == 13 { count / 1_000 } else { count / 1_000_000 };
    Timestamp::from_second(seconds).ok()
}

/// Returns whether `id` is a lower-case UUID (8-4-4-4-12 hex digits).
pub(super) fn is_lower_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    let lengths = groups.iter().map(|g| g.len()).collect::<Vec<_>>();
    lengths == [8, 4, 4, 4, 12]
        && groups.iter().all(|g| {
            g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}
