//! Matching messages to `chat_media/` files (platforms.md §10.5): media
//! ids first, then zip media by file instant, then overlays; what is left
//! becomes orphans.
//!
//! "Equals" for instants means within [`TOLERANCE`] seconds, the closest
//! candidate winning (§10.4: tools that keep 2-second DOS times shift
//! file times).

use jiff::Timestamp;

use super::history::{History, Message};
use super::media::ChatMedia;

/// Largest difference, in seconds, between instants that count as equal.
const TOLERANCE: i64 = 2;

/// One file of one message.
#[derive(Debug, Clone, Copy)]
pub(super) struct Occurrence {
    /// Conversation index in the history.
    pub(super) conv: usize,
    /// Message index within the conversation's non-text messages.
    pub(super) msg: usize,
    /// Position of the id this file resolved.
    pub(super) id: usize,
    /// Index into `ChatMedia::media`.
    pub(super) file: usize,
    /// `media-id` or `mtime` (reports.md §3.1).
    pub(super) rule: &'static str,
    /// The message's overlay (index into `ChatMedia::overlays`).
    pub(super) overlay: Option<usize>,
    /// Whether the message's overlays went to `needs_matching/`.
    pub(super) ambiguous: bool,
}

/// A message whose overlays cannot be assigned (§10.5 step 4).
#[derive(Debug)]
pub(super) struct Ambiguous {
    /// Conversation index.
    pub(super) conv: usize,
    /// Message index.
    pub(super) msg: usize,
    /// The message's files (indices into `ChatMedia::media`).
    pub(super) files: Vec<usize>,
    /// The candidate overlays.
    pub(super) overlays: Vec<usize>,
}

/// A media id no file was found for (§10.5 step 3).
#[derive(Debug)]
pub(super) struct Unresolved {
    /// Conversation index.
    pub(super) conv: usize,
    /// Message index.
    pub(super) msg: usize,
    /// The id itself.
    pub(super) id: String,
}

/// A media file no message claimed (§10.5 step 5).
#[derive(Debug)]
pub(super) struct Stray {
    /// Index into `ChatMedia::media`.
    pub(super) file: usize,
    /// The one unmatched overlay with the same file instant.
    pub(super) overlay: Option<usize>,
}

/// The result of matching.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// Message files, in history order.
    pub(super) occurrences: Vec<Occurrence>,
    /// Ambiguous overlay cases, in history order.
    pub(super) ambiguous: Vec<Ambiguous>,
    /// Unresolved ids, in history order.
    pub(super) unresolved: Vec<Unresolved>,
    /// Orphan media, by file instant then name.
    pub(super) strays: Vec<Stray>,
    /// Overlays nobody took, in name order.
    pub(super) unused_overlays: Vec<usize>,
}

/// The matching state: which files and overlays are taken.
struct Matcher<'a> {
    files: &'a ChatMedia,
    media_taken: Vec<bool>,
    overlay_taken: Vec<bool>,
    out: Outcome,
}

/// Matches every message of `history` with media ids, in file order, to
/// the files of `files`, then collects orphans and unused overlays.
pub(super) fn run(history: &History, files: &ChatMedia) -> Outcome {
    let mut matcher = Matcher {
        files,
        media_taken: vec![false; files.media.len()],
        overlay_taken: vec![false; files.overlays.len()],
        out: Outcome::default(),
    };
    for (conv, conversation) in history.conversations.iter().enumerate() {
        for (msg, message) in conversation.messages.iter().enumerate() {
            matcher.message(conv, msg, message);
        }
    }
    matcher.strays();
    matcher.out.unused_overlays = (0..files.overlays.len())
        .filter(|&o| !matcher.overlay_taken[o])
        .collect();
    matcher.out
}

/// Returns the distance in seconds between `a` and `b` when they count as
/// equal.
fn near(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<i64> {
    let distance = (a?.as_second() - b?.as_second()).abs();
    (distance <= TOLERANCE).then_some(distance)
}

impl Matcher<'_> {
    /// Matches message `msg` of conversation `conv` (§10.5 steps 1–4).
    fn message(&mut self, conv: usize, msg: usize, message: &Message) {
        if message.ids.is_empty() {
            return;
        }
        let mut found = Vec::new();
        let mut open = Vec::new();
        for (id, text) in message.ids.iter().enumerate() {
            match self.by_bid(text) {
                Some(file) => found.push((id, file, "media-id")),
                None => open.push(id),
            }
        }
        let by_time = self.by_time(message.instant, open.len());
        for (&id, file) in open.iter().zip(by_time) {
            self.media_taken[file] = true;
            found.push((id, file, "mtime"));
        }
        let resolved: Vec<usize> = found.iter().map(|f| f.0).collect();
        for id in open.into_iter().filter(|id| !resolved.contains(id)) {
            let text = message.ids.get(id).cloned().unwrap_or_default();
            self.out.unresolved.push(Unresolved { conv, msg, id: text });
        }
        found.sort_by_key(|f| f.0);
        self.overlays(conv, msg, message.instant, &found);
    }

    /// Returns the first media file (name order) with `b~` id `id` (step
    /// 1), marking it taken.
    fn by_bid(&mut self, id: &str) -> Option<usize> {
        let media = &self.files.media;
        let file = media.iter().position(|m| m.bid.as_deref() == Some(id))?;
        self.media_taken[file] = true;
        Some(file)
    }

    /// Returns up to `wanted` untaken media files without a `b~` id whose
    /// file instant equals `instant`, closest first, then in name order
    /// (step 2).
    fn by_time(&self, instant: Option<Timestamp>, wanted: usize) -> Vec<usize> {
        let mut candidates: Vec<(i64, usize)> = (self.files.media.iter())
            .enumerate()
            .filter(|(i, m)| m.bid.is_none() && !self.media_taken[*i])
            .filter_map(|(i, m)| Some((near(m.instant, instant)?, i)))
            .collect();
        candidates.sort_unstable();
        candidates.into_iter().take(wanted).map(|(_, i)| i).collect()
    }

    /// Returns the untaken overlays whose file instant equals `instant`,
    /// closest first, then in name order, with their distances.
    fn overlay_candidates(
        &self,
        instant: Option<Timestamp>,
    ) -> Vec<(i64, usize)> {
        let mut candidates: Vec<(i64, usize)> = (self.files.overlays.iter())
            .enumerate()
            .filter(|(i, _)| !self.overlay_taken[*i])
            .filter_map(|(i, o)| Some((near(o.instant, instant)?, i)))
            .collect();
        candidates.sort_unstable();
        candidates
    }

    /// Attaches an overlay to the files `found` of a message, or records
    /// the ambiguous case (step 4); images alone never claim one.
    fn overlays(
        &mut self,
        conv: usize,
        msg: usize,
        instant: Option<Timestamp>,
        found: &[(usize, usize, &'static str)],
    ) {
        let media = &self.files.media;
        let videos = found.iter().filter(|f| media[f.1].video).count();
        let candidates = if videos == 0 {
            Vec::new()
        } else {
            self.overlay_candidates(instant)
        };
        let overlay = match candidates.as_slice() {
            [] => None,
            [(_, only)] if videos == 1 => Some(*only),
            [(a, first), (b, _), ..] if videos == 1 && a < b => Some(*first),
            _ => {
                let overlays = candidates.iter().map(|c| c.1).collect();
                let files = found.iter().map(|f| f.1).collect();
                self.out.ambiguous.push(Ambiguous {
                    conv,
                    msg,
                    files,
                    overlays,
                });
                None
            }
        };
        if let Some(overlay) = overlay {
            self.overlay_taken[overlay] = true;
        }
        let ambiguous = overlay.is_none() && !candidates.is_empty();
        for &(id, file, rule) in found {
            self.out.occurrences.push(Occurrence {
                conv,
                msg,
                id,
                file,
                rule,
                overlay,
                ambiguous,
            });
        }
    }

    /// Collects the media no message took, by file instant then name,
    /// each with the one untaken overlay of its instant (step 5).
    fn strays(&mut self) {
        let media = &self.files.media;
        let mut strays: Vec<usize> =
            (0..media.len()).filter(|&i| !self.media_taken[i]).collect();
        strays.sort_by_key(|&i| (media[i].instant, i));
        for file in strays {
            let candidates = self.overlay_candidates(media[file].instant);
            let overlay = match candidates.as_slice() {
                [(_, only)] => Some(*only),
                _ => None,
            };
            if let Some(overlay) = overlay {
                self.overlay_taken[overlay] = true;
            }
            self.out.strays.push(Stray { file, overlay });
        }
    }
}
