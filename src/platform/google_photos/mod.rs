//! Google Photos from Google Takeout (platforms.md §3).
//!
//! Finds the `Google Photos` folder (or its localized twin), reads every
//! album folder in byte order, ties media to their JSON sidecars and
//! returns the items with capture time, position, description and albums.
//! De-duplication, day numbering, zones and writing belong to the engine.

mod album;
mod locate;
mod matching;
mod sidecar;

use anyhow::Context;

use super::Platform;
use crate::discover;
use crate::media::model::DescriptionPolicy;
use crate::plan::{Export, Plan, Rules, SuffixStyle};

/// The Google Photos processor (registry entry 9 of platforms.md §1).
pub(crate) struct GooglePhotos;

impl Platform for GooglePhotos {
    fn name(&self) -> &'static str {
        "Google Photos"
    }

    fn id(&self) -> &'static str {
        "google_photos"
    }

    fn priority(&self) -> u8 {
        50
    }

    fn rules(&self) -> Rules {
        Rules {
            folder: "photos",
            suffix: SuffixStyle::DayNumbering,
            dedup: true,
            description: DescriptionPolicy::KeepIfPresent,
            merge_descriptions: false,
        }
    }

    fn detect(&self, export: &Export) -> bool {
        match locate::photos_folder(&export.path) {
            Ok(found) => found.is_some(),
            Err(err) => {
                log::warn!("{err:#}");
                false
            }
        }
    }

    fn plan(&self, export: &Export) -> anyhow::Result<Plan> {
        let root = locate::photos_folder(&export.path)?.with_context(|| {
            format!("no Google Photos folder in {}", export.path.display())
        })?;
        let user = discover::username(&export.name, "google");
        let mut plan = Plan { username: user.clone(), ..Plan::default() };
        for folder in locate::albums(&root)? {
            album::plan_album(&folder, &user, &mut plan);
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests;
