//! Snapchat Memories in the layout a user assembles (platforms.md §9):
//! `media/`, `overlays/` and `metadata.json`, directly in the export or
//! under `memories/`; and in Snapchat's own My Data download (§9b, the
//! `mydata` module).
//!
//! Ties every `metadata.json` entry to its media file and overlay by name
//! and returns the items with capture time, position, description and
//! overlay. Compositing, naming, zones and writing belong to the engine.

mod entry;
mod memories;
mod mydata;
mod root;

use std::path::PathBuf;

use serde_json::Map;

use super::Platform;
use crate::discover;
use crate::media::model::DescriptionPolicy;
use crate::plan::{Export, Item, Match, Plan, Rules, SuffixStyle};

/// The Snapchat Memories processor (registry entry 4 of platforms.md §1).
pub(crate) struct SnapchatMemories;

impl Platform for SnapchatMemories {
    fn name(&self) -> &'static str {
        "Snapchat Memories"
    }

    fn id(&self) -> &'static str {
        "snapchat_memories"
    }

    fn priority(&self) -> u8 {
        80
    }

    fn rules(&self) -> Rules {
        // §9.5: no de-duplication, suffix style B, description overwrite.
        Rules {
            folder: "memories",
            suffix: SuffixStyle::FromTwo,
            dedup: false,
            description: DescriptionPolicy::Overwrite,
            merge_descriptions: false,
        }
    }

    fn detect(&self, export: &Export) -> bool {
        let found = root::holds_memories(&export.path).and_then(|found| {
            Ok(found || mydata::find(&export.path)?.is_some())
        });
        match found {
            Ok(found) => found,
            Err(err) => {
                log::warn!("{err:#}");
                false
            }
        }
    }

    fn plan(&self, export: &Export) -> anyhow::Result<Plan> {
        let user = discover::username(&export.name, "snapchat");
        let mut plan = Plan { username: user.clone(), ..Plan::default() };
        match mydata::find(&export.path)? {
            Some(root) if !root::holds_memories(&export.path)? => {
                mydata::plan(export, &root, &user, &mut plan)?;
            }
            found => {
                if found.is_some() {
                    log::warn!(
                        "{}: found both an assembled memories layout and \
                         Snapchat's memories_history; using the assembled \
                         layout",
                        export.name
                    );
                }
                let entries = root::find(&export.path)?.into_entries()?;
                memories::plan_entries(&entries, &user, &mut plan)?;
            }
        }
        Ok(plan)
    }
}

/// Returns the item of memory `source` (`input` in reports) with what
/// every Snapchat memory shares: name prefix, description and album
/// (§9.5, §9.6, §9b.7, §9b.8). Its rule is `orphan` until the caller
/// records how it was matched.
fn memory_item(user: &str, source: PathBuf, input: String) -> Item {
    Item {
        source,
        input,
        capture: None,
        gps: None,
        description: Some(format!("Source: Snapchat/{user}/memories")),
        caption: None,
        prefix: format!("snap-memories-{user}"),
        group: String::new(),
        album: String::new(),
        albums: vec![format!("Snapchat/{user}/memories")],
        matched: Match { rule: "orphan", metadata: None },
        context: Map::new(),
        favorite: false,
        overlay: None,
        warnings: Vec::new(),
        orphan: None,
        shared_prefix: None,
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests;
