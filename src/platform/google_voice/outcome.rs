//! Turning matched references into items, missing ones into orphaned
//! metadata and unreferenced files into unmatched or skipped records
//! (platforms.md §5.4–§5.7).
//!
//! References are resolved in planning order (conversation names sorted,
//! pages and messages in order) against one catalogue for the export.

use serde_json::{json, Map, Value};

use super::conversation::Conversation;
use super::locate::Calls;
use super::matching::Catalogue;
use super::page::{self, Message, ME};
use crate::media::kind::{self, Class};
use crate::plan::{Capture, Item, Match, Orphan, Plan, Skipped, Unmatched};
use crate::platform::names::sanitize;

/// The `date.source` of every Voice capture time (metadata.md §2.1).
const DATE_SOURCE: &str = "abbr.dt@title";
/// Longest sanitised conversation name in output names (§5.5, §2.3).
const NAME_MAX: usize = 50;

/// What every item of one export shares.
pub(super) struct Scope<'a> {
    /// The `Voice/Calls/` folder.
    pub(super) calls: &'a Calls,
    /// The export's username.
    pub(super) user: &'a str,
}

/// One message in its conversation.
struct Origin<'a> {
    /// The conversation name.
    conversation: &'a str,
    /// The page file relative to the export.
    page: &'a str,
    /// The message.
    message: &'a Message,
    /// The sender as written into descriptions (`Me` → username).
    sender: &'a str,
}

/// Resolves every reference of `conversations` against `catalogue` and
/// records the items and orphans in `plan`.
pub(super) fn plan_messages(
    scope: &Scope,
    conversations: &[Conversation],
    catalogue: &mut Catalogue,
    plan: &mut Plan,
) {
    for conversation in conversations {
        for file in &conversation.pages {
            for message in &file.page.messages {
                let origin = Origin {
                    conversation: &conversation.name,
                    page: &file.rel,
                    message,
                    sender: sender(scope.user, &message.sender),
                };
                plan_message(scope, &origin, catalogue, plan);
            }
        }
    }
}

/// Returns the sender written for `shown`: the username for `Me`,
/// `unknown` when the page names no sender.
fn sender<'a>(user: &'a str, shown: &'a str) -> &'a str {
    match shown {
        ME => user,
        "" => "unknown",
        name => name,
    }
}

/// Resolves the references of one message.
fn plan_message(
    scope: &Scope,
    origin: &Origin,
    catalogue: &mut Catalogue,
    plan: &mut Plan,
) {
    for reference in &origin.message.refs {
        match catalogue.resolve(reference) {
            Some((rule, file)) => {
                let page = origin.page;
                log::debug!("{page}: {reference:?} → {file} ({rule})");
                plan.items.push(item(scope, origin, file, rule));
            }
            None => plan.orphans.push(orphan(origin, reference)),
        }
    }
}

/// Returns the item for catalogue file `file` matched by `rule`.
fn item(
    scope: &Scope,
    origin: &Origin,
    file: &str,
    rule: &'static str,
) -> Item {
    let user = scope.user;
    let capture = origin.message.timestamp.as_deref().and_then(page::capture);
    let mut context = Map::new();
    context.insert("conversation".into(), origin.conversation.into());
    context.insert("sender".into(), origin.sender.into());
    if !origin.message.text.is_empty() {
        context.insert("text".into(), origin.message.text.clone().into());
    }
    Item {
        source: scope.calls.path.join(file),
        input: scope.calls.rel_of(file),
        capture: capture.map(|when| Capture { when, source: DATE_SOURCE }),
        gps: None,
        description: Some(description(user, origin)),
        caption: None,
        prefix: format!(
            "gvoice-{user}-{}",
            sanitize(origin.conversation, NAME_MAX)
        ),
        group: String::new(),
        album: origin.conversation.to_string(),
        albums: vec![format!("Google Voice/{user}")],
        matched: Match { rule, metadata: Some(origin.page.to_string()) },
        context,
        favorite: false,
        overlay: None,
        warnings: Vec::new(),
        orphan: None,
        shared_prefix: None,
        extra: Map::new(),
    }
}

/// Returns the description of §5.6.
fn description(user: &str, origin: &Origin) -> String {
    format!(
        "Source: Google Voice/{user}\nConversation: \"{}\"\nSender: \"{}\"",
        origin.conversation, origin.sender
    )
}

/// Returns the orphaned metadata of a reference no file matched (§5.4
/// step 5). The source locates the message: `<page>#<index>`, counting
/// every `div.message` of the page from 0.
fn orphan(origin: &Origin, reference: &str) -> Orphan {
    let timestamp = origin.message.timestamp.clone();
    let entry = json!({
        "conversation_name": origin.conversation,
        "media_src": reference,
        "message_timestamp": timestamp,
        "sender": origin.sender,
    });
    let mut context = Map::new();
    context.insert("conversation".into(), origin.conversation.into());
    context.insert("expected_filename".into(), reference.into());
    Orphan {
        source: format!("{}#{}", origin.page, origin.message.index),
        entry,
        reason: "Media file not found in filesystem".into(),
        context,
    }
}

/// Records the files no reference matched (§5.7): audio as skipped, image
/// and video as unmatched.
pub(super) fn plan_leftovers(
    calls: &Calls,
    catalogue: &Catalogue,
    plan: &mut Plan,
) {
    for file in catalogue.unused() {
        let input = calls.rel_of(file);
        if kind::class_of_name(file) == Some(Class::Audio) {
            let reason = "audio not referenced by a text conversation".into();
            plan.skipped.push(Skipped { input, reason });
            continue;
        }
        let mut context = Map::new();
        context.insert("original_location".into(), Value::from(input.clone()));
        plan.unmatched.push(Unmatched {
            source: calls.path.join(file),
            input,
            reason: "No matching metadata found".into(),
            context,
        });
    }
}
