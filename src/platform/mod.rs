//! The processor registry: one module per platform format.
//!
//! Each platform recognises its export layout and turns the export into a
//! [`Plan`]; the engine does everything else. Detection never fails: an
//! unreadable folder is "no match" plus a warning.

mod folder;
pub(crate) mod google_chat;
pub(crate) mod google_photos;
pub(crate) mod google_voice;
pub(crate) mod names;
pub(crate) mod snapchat_memories;
pub(crate) mod snapchat_messages;

use crate::plan::{Export, Plan, Rules};

/// One platform format.
pub(crate) trait Platform: Sync {
    /// Display name, also matched by `--processor` (`Google Photos`).
    fn name(&self) -> &'static str;
    /// Stable id used in reports (`google_photos`).
    fn id(&self) -> &'static str;
    /// Registry priority; higher runs first.
    fn priority(&self) -> u8;
    /// Output folder, suffix style, dedup and description policy.
    fn rules(&self) -> Rules;
    /// Returns true when `export` holds this platform's layout.
    fn detect(&self, export: &Export) -> bool;
    /// Reads the export and returns every item, unmatched file, orphaned
    /// entry and skipped file. An error means the platform cannot run at
    /// all (missing or unreadable required metadata).
    fn plan(&self, export: &Export) -> anyhow::Result<Plan>;
}

/// Returns every platform in registry order: descending priority, then
/// ascending id (platforms.md §1).
pub(crate) fn registry() -> Vec<&'static dyn Platform> {
    let mut all: Vec<&'static dyn Platform> = vec![
        &google_chat::GoogleChat,
        &google_photos::GooglePhotos,
        &google_voice::GoogleVoice,
        &snapchat_memories::SnapchatMemories,
        &snapchat_messages::SnapchatMessages,
    ];
    all.sort_by(|a, b| {
        b.priority().cmp(&a.priority()).then(a.id().cmp(b.id()))
    });
    all
}

/// Returns the platform whose name matches `wanted` case-insensitively,
/// with `-` and `_` standing for spaces.
pub(crate) fn find(wanted: &str) -> Option<&'static dyn Platform> {
    let norm = |s: &str| s.to_lowercase().replace(['-', '_'], " ");
    let wanted = norm(wanted);
    registry().into_iter().find(|p| norm(p.name()) == wanted)
}
