//! Google Chat from Google Takeout (platforms.md §4).
//!
//! Finds `Google Chat/Groups` under the Google root, reads every
//! conversation folder in byte order, ties message attachments to the
//! media files beside them and returns the items with capture time,
//! description and albums. Naming, zones and writing belong to the engine.

mod conversation;
mod date;
mod locate;
mod matching;
mod messages;
mod user;

use super::Platform;
use crate::media::model::DescriptionPolicy;
use crate::plan::{Export, Plan, Rules, SuffixStyle};

/// The Google Chat processor (registry entry 8 of platforms.md §1).
pub(crate) struct GoogleChat;

impl Platform for GoogleChat {
    fn name(&self) -> &'static str {
        "Google Chat"
    }

    fn id(&self) -> &'static str {
        "google_chat"
    }

    fn priority(&self) -> u8 {
        50
    }

    fn rules(&self) -> Rules {
        Rules {
            folder: "chat",
            suffix: SuffixStyle::FromOne,
            dedup: false,
            description: DescriptionPolicy::KeepIfPresent,
            merge_descriptions: false,
        }
    }

    fn detect(&self, export: &Export) -> bool {
        match locate::holds_chat(&export.path) {
            Ok(found) => found,
            Err(err) => {
                log::warn!("{err:#}");
                false
            }
        }
    }

    fn plan(&self, export: &Export) -> anyhow::Result<Plan> {
        let chat = locate::chat_folder(&export.path)?;
        let groups = chat.child("Groups");
        let folders = locate::sub_folders(&groups)?;
        let user = user::User::find(&chat, &export.name);
        let mut plan = Plan { username: user.name.clone(), ..Plan::default() };
        for folder in folders {
            match locate::is_conversation(&folder) {
                Ok(true) => {
                    conversation::plan_conversation(&folder, &user, &mut plan);
                }
                Ok(false) => log::debug!(
                    "{}: not a conversation (no {} and {})",
                    folder.rel,
                    locate::GROUP_INFO,
                    locate::MESSAGES
                ),
                Err(err) => log::warn!("skipping conversation: {err:#}"),
            }
        }
        Ok(plan)
    }
}

/// Returns the username the processor uses for `export` (§4.3), for
/// upload-only runs that crawl the library without a `report.json`
/// (upload.md §8 step 7).
pub(crate) fn username(export: &Export) -> String {
    match locate::chat_folder(&export.path) {
        Ok(chat) => user::User::find(&chat, &export.name).name,
        Err(_) => crate::discover::username(&export.name, "google"),
    }
}

#[cfg(test)]
mod tests;
