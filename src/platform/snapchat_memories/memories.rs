//! Plans the entries of one Snapchat Memories root: ties each entry to
//! its media file and overlay by name (platforms.md §9.4), builds the
//! items of §9.5–§9.6 in file order and records the issues of §9.7.
//!
//! Media no entry uses become unmatched; overlays no entry uses and
//! files that are not media are skipped; entries whose media is missing
//! become orphaned metadata.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::entry::{self, Entry};
use super::root::{self, Entries, Folder, MEDIA, METADATA, OVERLAYS};
use crate::discover;
use crate::media::kind;
use crate::plan::{Item, Match, Orphan, Plan, Skipped, Unmatched};

/// Reason for an entry whose media file is missing (§9.4).
const MISSING: &str = "Media file not found in filesystem";
/// Reason for media no entry refers to (platforms.md §2.8).
const NO_METADATA: &str = "No matching metadata found";

/// The root being planned: its folders, the files found in them and
/// what became of those files.
struct Memories<'a> {
    /// `R/media`.
    media: Folder,
    /// `R/overlays`.
    overlays: Folder,
    /// The export's username.
    user: &'a str,
    /// `metadata.json` relative to the export.
    metadata: String,
    /// Media file names in `media/`.
    media_files: BTreeSet<String>,
    /// File names in `overlays/`.
    overlay_files: BTreeSet<String>,
    /// Which of those files were used.
    uses: Uses,
}

/// What became of the files of `media/` and `overlays/`.
#[derive(Default)]
struct Uses {
    /// Media files of items.
    media: BTreeSet<String>,
    /// Media files whose only entries name a banned overlay.
    banned: BTreeSet<String>,
    /// Overlays of items.
    overlays: BTreeSet<String>,
    /// Overlays named only by entries whose media is missing.
    orphaned: BTreeSet<String>,
}

/// Plans every entry of `entries` into `plan`, in file order; `user` is
/// the export's username. Fails only when `media/` or `overlays/` cannot
/// be listed.
pub(super) fn plan_entries(
    entries: &Entries,
    user: &str,
    plan: &mut Plan,
) -> anyhow::Result<()> {
    let root = &entries.folder;
    let (media, overlays) = (root.child(MEDIA), root.child(OVERLAYS));
    let mut memories = Memories {
        media_files: media_files(&media, plan)?,
        overlay_files: root::files(&overlays, plan)?.into_iter().collect(),
        media,
        overlays,
        user,
        metadata: root.rel_of(METADATA),
        uses: Uses::default(),
    };
    for (index, raw) in entries.list.iter().enumerate() {
        match entry::parse(raw) {
            Ok(entry) => memories.plan_entry(index, raw, &entry, plan),
            Err(reason) => {
                plan.orphans.push(memories.invalid(index, raw, reason));
            }
        }
    }
    memories.plan_leftovers(plan);
    Ok(())
}

/// Returns the media files of `folder`; other files are recorded as
/// skipped (`not media`).
fn media_files(
    folder: &Folder,
    plan: &mut Plan,
) -> anyhow::Result<BTreeSet<String>> {
    let mut media = BTreeSet::new();
    for file in root::files(folder, plan)? {
        if kind::is_media_name(&file) {
            media.insert(file);
        } else {
            let input = folder.rel_of(&file);
            plan.skipped.push(Skipped { input, reason: "not media".into() });
        }
    }
    Ok(media)
}

impl Memories<'_> {
    /// Plans entry number `index` (`raw`, read as `entry`) against the
    /// listed media and overlay names.
    fn plan_entry(
        &mut self,
        index: usize,
        raw: &Value,
        entry: &Entry,
        plan: &mut Plan,
    ) {
        // §9.3: entries naming a banned file are skipped; their media has
        // no listed file, their overlay none either.
        if discover::is_ignored_name(entry.media) {
            log::debug!("{}#{index}: banned media name", self.metadata);
            return;
        }
        if entry.overlay.is_some_and(discover::is_ignored_name) {
            log::debug!("{}#{index}: banned overlay name", self.metadata);
            self.uses.banned.insert(entry.media.to_string());
            return;
        }
        if !self.media_files.contains(entry.media) {
            if let Some(overlay) = entry.overlay {
                self.uses.orphaned.insert(overlay.to_string());
            }
            plan.orphans.push(self.missing(index, raw, entry.media));
            return;
        }
        self.uses.media.insert(entry.media.to_string());
        let overlay = entry.overlay.filter(|o| self.overlay_files.contains(*o));
        if let Some(overlay) = overlay {
            self.uses.overlays.insert(overlay.to_string());
        }
        plan.items.push(self.item(entry, overlay));
    }

    /// Returns the item of `entry`, whose media file exists; `overlay` is
    /// its overlay when that exists too.
    fn item(&self, entry: &Entry, overlay: Option<&str>) -> Item {
        let source = self.media.path.join(entry.media);
        let mut item = super::memory_item(
            self.user,
            source,
            self.media.rel_of(entry.media),
        );
        item.capture = entry.capture;
        item.gps = entry.gps;
        item.matched =
            Match { rule: "metadata", metadata: Some(self.metadata.clone()) };
        item.context = self.context(entry, overlay);
        item.overlay = overlay.map(|o| self.overlays.path.join(o));
        item.warnings = warnings(entry, overlay);
        item
    }

    /// Returns the `report.json` context of an item of `entry`, with the
    /// overlay or position that could not be used.
    fn context(
        &self,
        entry: &Entry,
        overlay: Option<&str>,
    ) -> Map<String, Value> {
        let mut context = Map::new();
        if let Some(media_type) = entry.media_type {
            context.insert("media_type".into(), json!(media_type));
        }
        if let Some(overlay) = overlay {
            context.insert("overlay".into(), json!(overlay));
        }
        if let Some(named) = entry.overlay.filter(|_| overlay.is_none()) {
            context.insert("overlay_missing".into(), json!(named));
        }
        if let Some(bad) = &entry.bad_gps {
            context.insert("gps_invalid".into(), bad.clone());
        }
        context
    }

    /// Records the files no item uses: media as unmatched (or skipped when
    /// its entry named a banned overlay), overlays as skipped (§9.7).
    fn plan_leftovers(&self, plan: &mut Plan) {
        let uses = &self.uses;
        for file in self.media_files.difference(&uses.media) {
            if uses.banned.contains(file) {
                let input = self.media.rel_of(file);
                let reason = "entry names a banned overlay".into();
                plan.skipped.push(Skipped { input, reason });
            } else {
                plan.unmatched.push(self.unmatched(file));
            }
        }
        for file in self.overlay_files.difference(&uses.overlays) {
            let reason = if uses.orphaned.contains(file) {
                "overlay of missing media"
            } else {
                "overlay not referenced"
            };
            let input = self.overlays.rel_of(file);
            plan.skipped.push(Skipped { input, reason: reason.into() });
        }
    }

    /// Returns the unmatched record of media `file`.
    fn unmatched(&self, file: &str) -> Unmatched {
        let input = self.media.rel_of(file);
        let mut context = Map::new();
        context.insert("original_location".into(), json!(input));
        Unmatched {
            source: self.media.path.join(file),
            input,
            reason: NO_METADATA.into(),
            context,
        }
    }

    /// Returns the orphan record of entry `index` (`raw`) whose media
    /// file `name` is missing (§9.4).
    fn missing(&self, index: usize, raw: &Value, name: &str) -> Orphan {
        let mut context = self.orphan_context();
        context.insert("expected_media".into(), json!(name));
        Orphan {
            source: format!("{}#{index}", self.metadata),
            entry: raw.clone(),
            reason: MISSING.into(),
            context,
        }
    }

    /// Returns the orphan record of entry `index` (`raw`), rejected for
    /// `reason` (§9.3).
    fn invalid(&self, index: usize, raw: &Value, reason: &str) -> Orphan {
        log::warn!("{}#{index}: {reason}", self.metadata);
        Orphan {
            source: format!("{}#{index}", self.metadata),
            entry: raw.clone(),
            reason: reason.into(),
            context: self.orphan_context(),
        }
    }

    /// Returns the context every orphan of this root shares.
    fn orphan_context(&self) -> Map<String, Value> {
        let mut context = Map::new();
        context.insert("metadata_filename".into(), json!(METADATA));
        context
    }
}

/// Returns the report warnings of an item of `entry` (§9.4: a named
/// overlay that is missing; metadata.md §3: an invalid position).
fn warnings(entry: &Entry, overlay: Option<&str>) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(named) = entry.overlay.filter(|_| overlay.is_none()) {
        warnings.push(format!("overlay {named} not found; written without it"));
    }
    if let Some(bad) = &entry.bad_gps {
        warnings.push(format!("invalid position {bad} ignored"));
    }
    warnings
}
