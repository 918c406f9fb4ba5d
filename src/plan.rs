//! The contract between platforms and the engine.
//!
//! A platform reads its export and returns a [`Plan`]: every media item it
//! matched with the facts it found (capture time, position, description,
//! albums, name prefix), every media file it could not match, every
//! metadata entry without media, and every file it skipped. It writes
//! nothing; hashing, naming, zones and writing belong to the engine.

use std::path::PathBuf;

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::media::model::{DescriptionPolicy, Gps};

/// One export folder as given on the command line or found by
/// `--originals`.
#[derive(Clone, Debug)]
pub(crate) struct Export {
    /// The folder's own name (`google-john.doe-20250526`).
    pub(crate) name: String,
    /// Absolute path with symlinks resolved.
    pub(crate) path: PathBuf,
}

/// When an item was captured, as the platform states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// An absolute instant without a local offset (epoch seconds, UTC
    /// text).
    Instant(Timestamp),
    /// An absolute instant with the offset the user saw (a platform
    /// offset, metadata.md §2.1).
    Offset(Timestamp, Offset),
    /// Wall-clock text without any zone.
    Wall(DateTime),
}

/// A platform capture time and the input field it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Capture {
    /// The time itself.
    pub(crate) when: When,
    /// The field name recorded as `date.source` in `report.json`
    /// (`photoTakenTime`).
    pub(crate) source: &'static str,
}

/// How the matcher tied a media file to its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Match {
    /// The rule name of `reports.md` §3.1 (`exact`, `cut`, …).
    pub(crate) rule: &'static str,
    /// The metadata source, relative to the export (`a/b.jpg.json`).
    pub(crate) metadata: Option<String>,
}

/// One media file with everything the platform knows about it.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    /// Absolute path of the input file.
    pub(crate) source: PathBuf,
    /// Input path relative to the export, `/`-separated (for reports).
    pub(crate) input: String,
    /// Capture time, if the metadata has a usable one.
    pub(crate) capture: Option<Capture>,
    /// Position, if the metadata has a valid one.
    pub(crate) gps: Option<Gps>,
    /// Description text built by the platform's rules.
    pub(crate) description: Option<String>,
    /// The user's own caption, when the metadata has one. Among identical
    /// files, the description of the first occurrence with a caption wins
    /// over a primary without one (platforms.md §3.5).
    pub(crate) caption: Option<String>,
    /// Output name prefix before the date token (`gphotos-john.doe`).
    pub(crate) prefix: String,
    /// Day-numbering group key (Google Photos: the stem of the sidecar
    /// `title`); empty for platforms with counter suffixes.
    pub(crate) group: String,
    /// Album or conversation the input sits in (a sort key for day
    /// numbering and the context merged across duplicates).
    pub(crate) album: String,
    /// Immich album names this item belongs to.
    pub(crate) albums: Vec<String>,
    /// How the metadata was found.
    pub(crate) matched: Match,
    /// Platform data recorded as `context` in `report.json`.
    pub(crate) context: Map<String, Value>,
    /// Whether the platform marked the item as a favourite.
    pub(crate) favorite: bool,
    /// A transparent PNG to composite over the media before metadata is
    /// embedded (Snapchat captions, stickers and drawings; metadata.md
    /// §11).
    pub(crate) overlay: Option<PathBuf>,
    /// Problems with this item's metadata (an overlay not found, an
    /// invalid position), recorded as warnings in `report.json`.
    pub(crate) warnings: Vec<String>,
    /// For media the platform writes although it could not place them
    /// (Snapchat orphans): the unmatched reason. The item is written
    /// and also copied to `issues/` and reported as unmatched.
    pub(crate) orphan: Option<String>,
    /// The name prefix used instead of `prefix` when identical content
    /// occurs in more than one album or conversation (Snapchat Messages:
    /// `snap-messages-{user}`).
    pub(crate) shared_prefix: Option<String>,
    /// Fields added at the top level of the item's `report.json` entry
    /// (a downloaded memory's `url` and `cached_as`).
    pub(crate) extra: Map<String, Value>,
}

/// A media file the platform found no metadata for.
#[derive(Clone, Debug)]
pub(crate) struct Unmatched {
    /// Absolute path of the input file.
    pub(crate) source: PathBuf,
    /// Input path relative to the export.
    pub(crate) input: String,
    /// Reason string of `reports.md` §2.2.
    pub(crate) reason: String,
    /// Context for `failure-report.json` (`album`, `original_location`).
    pub(crate) context: Map<String, Value>,
}

/// A metadata entry whose media could not be found.
#[derive(Clone, Debug)]
pub(crate) struct Orphan {
    /// The metadata file relative to the export, plus a locator for
    /// entries inside a larger file.
    pub(crate) source: String,
    /// The entry itself, saved as pretty JSON under `issues/`.
    pub(crate) entry: Value,
    /// Reason string of `reports.md` §2.2.
    pub(crate) reason: String,
    /// Context for `failure-report.json`.
    pub(crate) context: Map<String, Value>,
}

/// A media item the export only links to (platforms.md §9b.5). Before
/// names are planned, the engine takes its file from the download cache
/// or, when downloads are allowed, fetches it; then `item` is written
/// like any other. When no file is obtained, `orphan` is reported with
/// the reason the engine sets.
#[derive(Clone, Debug)]
pub(crate) struct Fetch {
    /// The item to write; the engine sets its `source`, `overlay` and
    /// `extra` (`url`, `cached_as`) from the cached files.
    pub(crate) item: Item,
    /// The index in `Plan::items` before which the item is planned, so
    /// that linked and bundled media keep the order of their entries.
    pub(crate) position: usize,
    /// The cache folder, relative to the output root
    /// (`memories/.snapchat-downloads`).
    pub(crate) cache: &'static str,
    /// The cache file stem: `<key>-main.<ext>` and `<key>-overlay.<ext>`.
    pub(crate) key: String,
    /// The GET link: its answer is the file or a ZIP with main and
    /// overlay.
    pub(crate) get: Option<String>,
    /// The POST link: its answer is the URL of the file.
    pub(crate) post: Option<String>,
    /// The extension planned while the file is not cached (a dry run):
    /// `jpg` or `mp4` from the entry's media type.
    pub(crate) planned_ext: &'static str,
    /// When the platform prepared the link (the `ts` parameter).
    pub(crate) link_created: Option<Timestamp>,
    /// The orphaned-metadata record reported when no file is obtained;
    /// its `reason` is set by the engine.
    pub(crate) orphan: Orphan,
}

/// A file the platform looked at and deliberately did not output.
#[derive(Clone, Debug)]
pub(crate) struct Skipped {
    /// Input path relative to the export.
    pub(crate) input: String,
    /// Why (`not media`).
    pub(crate) reason: String,
}

/// How names that collide within a day or base get told apart
/// (platforms.md §2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SuffixStyle {
    /// Style A: `base`, `base_1`, `base_2` (Google Chat, Google Voice).
    FromOne,
    /// Style B: `base`, `base_2`, `base_3` (Snapchat and the messaging
    /// platforms).
    FromTwo,
    /// Google Photos day numbering (platforms.md §3.6).
    DayNumbering,
}

/// Everything one platform found in one export.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plan {
    /// The export's username as this platform sees it (cli.md §5.3).
    pub(crate) username: String,
    /// Matched media, in the platform's planning order.
    pub(crate) items: Vec<Item>,
    /// Media without metadata.
    pub(crate) unmatched: Vec<Unmatched>,
    /// Metadata without media.
    pub(crate) orphans: Vec<Orphan>,
    /// Files deliberately left out.
    pub(crate) skipped: Vec<Skipped>,
    /// Ambiguous cases for a person to decide.
    pub(crate) needs_matching: Vec<NeedsMatching>,
    /// Linked media to take from the download cache or fetch, each
    /// planned at its `position` among `items`.
    pub(crate) fetches: Vec<Fetch>,
}

/// Description policy and other per-platform constants the engine needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    /// Output folder under the export's output root (`photos`).
    pub(crate) folder: &'static str,
    /// Suffix scheme for colliding names.
    pub(crate) suffix: SuffixStyle,
    /// Whether identical content is written once (platforms.md §2.7).
    pub(crate) dedup: bool,
    /// What happens to a description already in the file.
    pub(crate) description: DescriptionPolicy,
    /// Whether the descriptions of identical files are merged line by
    /// line (the first line of the primary, then every other distinct
    /// line in occurrence order) instead of taking the primary's.
    pub(crate) merge_descriptions: bool,
}

/// An ambiguous case a person has to decide (Snapchat Messages overlays,
/// platforms.md §10.8), copied to `<folder>/needs_matching/`.
#[derive(Clone, Debug)]
pub(crate) struct NeedsMatching {
    /// Folder name before collision suffixes (`2021-02-01_10-00-00_UTC`).
    pub(crate) folder: String,
    /// The message time as the export wrote it.
    pub(crate) timestamp: String,
    /// Videos copied to `media/`.
    pub(crate) videos: Vec<PathBuf>,
    /// Candidate overlays copied to `overlays/`.
    pub(crate) overlays: Vec<PathBuf>,
    /// The `match_info.json` document.
    pub(crate) info: Value,
    /// The one-line hint of the case.
    pub(crate) hint: String,
}
