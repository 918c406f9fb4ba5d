//! Google Voice from Google Takeout (platforms.md §5).
//!
//! Reads the text conversation pages of `Voice/Calls/` with an HTML
//! parser, ties each media reference of a message to a file beside the
//! pages and returns the items with capture time, description and albums.
//! Voicemail and call pages are not read. Naming, zones and writing
//! belong to the engine.

mod conversation;
pub(in crate::platform) mod html;
mod locate;
mod matching;
mod outcome;
mod page;

use anyhow::Context;

use super::Platform;
use crate::discover;
use crate::media::model::DescriptionPolicy;
use crate::plan::{Export, Plan, Rules, SuffixStyle};

/// The Google Voice processor (registry entry 10 of platforms.md §1).
pub(crate) struct GoogleVoice;

impl Platform for GoogleVoice {
    fn name(&self) -> &'static str {
        "Google Voice"
    }

    fn id(&self) -> &'static str {
        "google_voice"
    }

    fn priority(&self) -> u8 {
        50
    }

    fn rules(&self) -> Rules {
        Rules {
            folder: "Google Voice",
            suffix: SuffixStyle::FromOne,
            dedup: false,
            description: DescriptionPolicy::KeepIfPresent,
            merge_descriptions: false,
        }
    }

    fn detect(&self, export: &Export) -> bool {
        let found = locate::calls_folder(&export.path).and_then(|calls| {
            calls.map_or(Ok(false), |calls| locate::has_pages(&calls))
        });
        found.unwrap_or_else(|err| {
            log::warn!("{err:#}");
            false
        })
    }

    fn plan(&self, export: &Export) -> anyhow::Result<Plan> {
        let calls = locate::calls_folder(&export.path)?.with_context(|| {
            format!("no Voice/Calls folder in {}", export.path.display())
        })?;
        let user = discover::username(&export.name, "google");
        if user == "unknown" {
            log::warn!(
                "no username in export folder name {:?}; using unknown",
                export.name
            );
        }
        let mut plan = Plan { username: user.clone(), ..Plan::default() };
        let listing = locate::list(&calls, &mut plan)?;
        let conversations = conversation::read_all(&calls, &listing.pages);
        let mut catalogue = matching::Catalogue::new(listing.media);
        let scope = outcome::Scope { calls: &calls, user: &user };
        outcome::plan_messages(
            &scope,
            &conversations,
            &mut catalogue,
            &mut plan,
        );
        outcome::plan_leftovers(&calls, &catalogue, &mut plan);
        Ok(plan)
    }
}

#[cfg(test)]
mod tests;
