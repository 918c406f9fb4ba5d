//! Snapchat Messages (platforms.md §10): `json/chat_history.json` and the
//! `chat_media/` folder beside it, directly in the export or under
//! `messages/`.
//!
//! Ties the media of each message to its files by media id and file time,
//! attaches overlays, and returns the items in primary order together with
//! orphans, ambiguous overlay cases and skipped files. Compositing,
//! de-duplication, naming and writing belong to the engine.

mod history;
mod items;
mod matching;
mod media;
mod root;

use super::Platform;
use crate::media::model::DescriptionPolicy;
use crate::plan::{Export, Plan, Rules, SuffixStyle};

/// The Snapchat Messages processor (registry entry 2 of platforms.md §1).
pub(crate) struct SnapchatMessages;

impl Platform for SnapchatMessages {
    fn name(&self) -> &'static str {
        "Snapchat Messages"
    }

    fn id(&self) -> &'static str {
        "snapchat_messages"
    }

    fn priority(&self) -> u8 {
        85
    }

    fn rules(&self) -> Rules {
        // §10.6–§10.7: content de-duplication with merged descriptions,
        // suffix style B, description overwrite.
        Rules {
            folder: "messages",
            suffix: SuffixStyle::FromTwo,
            dedup: true,
            description: DescriptionPolicy::Overwrite,
            merge_descriptions: true,
        }
    }

    fn detect(&self, export: &Export) -> bool {
        match root::find(&export.path) {
            Ok(found) => found.is_some(),
            Err(err) => {
                log::warn!("{err:#}");
                false
            }
        }
    }

    fn plan(&self, export: &Export) -> anyhow::Result<Plan> {
        let Some(root) = root::find(&export.path)? else {
            anyhow::bail!("no {} in {}", root::HISTORY, export.path.display());
        };
        let chat_media = root::chat_media(&root)?;
        let history = root::read_history(&root)?;
        let user = root::username(&export.name, &history);
        let mut plan = Plan { username: user.clone(), ..Plan::default() };
        let files = media::read(chat_media, &mut plan)?;
        let outcome = matching::run(&history, &files);
        let metadata = root.rel_of(root::HISTORY);
        let out = items::Output {
            history: &history,
            files: &files,
            user: &user,
            metadata,
        };
        out.fill(&outcome, &mut plan);
        Ok(plan)
    }
}

#[cfg(test)]
mod tests;
