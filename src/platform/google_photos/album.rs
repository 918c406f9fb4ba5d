//! Plans one Google Photos album folder: lists its files, reads its
//! sidecars, matches media to them and records every outcome
//! (platforms.md §3.3, §3.4, §3.8).
//!
//! Files are read non-recursively in byte order of their names, so items,
//! unmatched media and orphans come out in the planning order of §2.9.

use std::collections::HashSet;
use std::fs;

use serde_json::{json, Map, Value};

use super::locate::{is_skipped_name, Folder};
use super::matching::{self, Meta};
use super::sidecar;
use crate::media::kind;
use crate::plan::{Item, Match, Orphan, Plan, Skipped, Unmatched};

/// The album metadata file, never a sidecar (§3.3).
const ALBUM_FILE: &str = "metadata.json";
/// Automatic year folders (`Photos from 2021`) and the localized forms
/// memoria knows; they make no Immich album (upload.md §3.1).
const YEAR_PREFIXES: &[&str] = &[
    "Photos from ",
    "Fotos von ",
    "Photos de ",
    "Fotos de ",
    "Foto del ",
    "Zdjęcia z ",
];

/// One album with the names items and reports use.
struct Album<'a> {
    /// The folder.
    folder: &'a Folder,
    /// `metadata.json` `title`, else the folder name.
    title: String,
    /// Immich albums of its items.
    immich: Vec<String>,
    /// The export's username.
    user: &'a str,
}

/// One sidecar file of an album.
struct Sidecar {
    /// File name.
    file: String,
    /// The media name it stands for (§3.3).
    name: String,
    /// Parsed JSON, or why it is not valid JSON.
    json: Result<Value, String>,
    /// Whether an earlier sidecar has the same metadata name.
    is_duplicate: bool,
    /// Whether some media file was matched to it.
    is_matched: bool,
}

/// Plans the album in `folder` into `plan`. An unreadable folder is
/// skipped with a warning.
pub(super) fn plan_album(folder: &Folder, user: &str, plan: &mut Plan) {
    let files = match crate::platform::folder::list_files(
        folder,
        plan,
        is_skipped_name,
    ) {
        Ok(files) => files,
        Err(err) => {
            log::warn!("skipping album: {err:#}");
            return;
        }
    };
    let title = album_title(folder, &files);
    let mut immich = vec![format!("Google Photos/{user}")];
    if !is_year_folder(&folder.name) {
        immich.push(title.clone());
    }
    let album = Album { folder, title, immich, user };
    let (media, mut sidecars) = classify(&album, files, plan);
    match_media(&album, &media, &mut sidecars, plan);
    for sidecar in &sidecars {
        if let Some(orphan) = orphan(&album, sidecar) {
            plan.orphans.push(orphan);
        }
    }
}

/// Returns the album's name: the `title` of its `metadata.json`, else the
/// folder name.
fn album_title(folder: &Folder, files: &[String]) -> String {
    let path = folder.path.join(ALBUM_FILE);
    if !files.iter().any(|f| f == ALBUM_FILE) {
        return folder.name.clone();
    }
    let parsed =
        fs::read(&path).map_err(|err| err.to_string()).and_then(|bytes| {
            serde_json::from_slice::<Value>(&bytes).map_err(|e| e.to_string())
        });
    match parsed {
        Ok(json) => sidecar::title(&json)
            .map_or_else(|| folder.name.clone(), str::to_string),
        Err(err) => {
            log::warn!("ignoring album metadata {}: {err}", path.display());
            folder.name.clone()
        }
    }
}

/// Returns whether `name` is an automatic year folder (`Photos from
/// 2021`).
fn is_year_folder(name: &str) -> bool {
    YEAR_PREFIXES.iter().any(|prefix| {
        name.strip_prefix(prefix).is_some_and(|y| {
            y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit())
        })
    })
}

/// Splits the album's files into media and sidecars; other files are
/// recorded as skipped (`not media`).
fn classify(
    album: &Album,
    files: Vec<String>,
    plan: &mut Plan,
) -> (Vec<String>, Vec<Sidecar>) {
    let (mut media, mut sidecars) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for file in files {
        if file == ALBUM_FILE {
            continue;
        }
        if let Some(name) = sidecar::metadata_name(&file) {
            let json = read_json(album, &file);
            let is_duplicate = !seen.insert(name.clone());
            sidecars.push(Sidecar {
                file,
                name,
                json,
                is_duplicate,
                is_matched: false,
            });
        } else if kind::is_media_name(&file) {
            media.push(file);
        } else {
            let input = format!("{}/{file}", album.folder.rel);
            plan.skipped.push(Skipped { input, reason: "not media".into() });
        }
    }
    (media, sidecars)
}

/// Returns the parsed sidecar `file`, or the error text of the `Invalid
/// JSON` reason.
fn read_json(album: &Album, file: &str) -> Result<Value, String> {
    let bytes = fs::read(album.folder.path.join(file))
        .map_err(|err| format!("failed to read {file}: {err}"))?;
    serde_json::from_slice(&bytes).map_err(|err| err.to_string())
}

/// Matches every media file against the album's first sidecar of each
/// metadata name and records the item or the unmatched file.
fn match_media(
    album: &Album,
    media: &[String],
    sidecars: &mut [Sidecar],
    plan: &mut Plan,
) {
    let used: Vec<usize> =
        (0..sidecars.len()).filter(|&i| !sidecars[i].is_duplicate).collect();
    let metas: Vec<Meta> = used
        .iter()
        .map(|&i| {
            let title = sidecars[i].json.as_ref().ok().and_then(sidecar::title);
            Meta::new(&sidecars[i].name, title)
        })
        .collect();
    let index = matching::Album::new(&metas);
    for file in media {
        let Some((rule, pos)) = index.resolve(file) else {
            plan.unmatched.push(unmatched(album, file));
            continue;
        };
        let sidecar = &mut sidecars[used[pos]];
        sidecar.is_matched = true;
        let rel = &album.folder.rel;
        log::debug!("{rel}/{file}: sidecar {} by rule {rule}", sidecar.file);
        match &sidecar.json {
            Ok(json) => plan.items.push(item(album, file, sidecar, json, rule)),
            // A sidecar that is not JSON leaves its media unmatched (§3.3).
            Err(_) => plan.unmatched.push(unmatched(album, file)),
        }
    }
}

/// Returns the item for media `file` matched to `sidecar` by `rule`.
fn item(
    album: &Album,
    file: &str,
    sidecar: &Sidecar,
    json: &Value,
    rule: &'static str,
) -> Item {
    let rel = &album.folder.rel;
    let title = sidecar::title(json).unwrap_or(file);
    Item {
        source: album.folder.path.join(file),
        input: format!("{rel}/{file}"),
        capture: sidecar::capture(json),
        gps: sidecar::gps(json),
        description: Some(sidecar::description(album.user, json)),
        caption: sidecar::caption(json),
        prefix: format!("gphotos-{}", album.user),
        group: sidecar::stem(title).to_string(),
        album: album.title.clone(),
        albums: album.immich.clone(),
        matched: Match {
            rule,
            metadata: Some(format!("{rel}/{}", sidecar.file)),
        },
        context: sidecar::context(json, &album.title, title),
        favorite: sidecar::is_favorite(json),
        overlay: None,
        warnings: Vec::new(),
        orphan: None,
        shared_prefix: None,
        extra: Map::new(),
    }
}

/// Returns the unmatched record of media `file` (§3.8).
fn unmatched(album: &Album, file: &str) -> Unmatched {
    let input = format!("{}/{file}", album.folder.rel);
    let mut context = Map::new();
    context.insert("album".into(), album.title.clone().into());
    context.insert("original_location".into(), input.clone().into());
    Unmatched {
        source: album.folder.path.join(file),
        input,
        reason: "No matching metadata found".into(),
        context,
    }
}

/// Returns the orphan record of `sidecar`, if it is one: a duplicate, not
/// valid JSON, or never matched (§3.3, §3.8).
fn orphan(album: &Album, sidecar: &Sidecar) -> Option<Orphan> {
    let (entry, reason) = match &sidecar.json {
        _ if sidecar.is_duplicate => (
            sidecar.json.clone().unwrap_or_else(|e| invalid(sidecar, e)),
            "duplicate sidecar".into(),
        ),
        Err(err) => {
            (invalid(sidecar, err.clone()), format!("Invalid JSON: {err}"))
        }
        Ok(_) if sidecar.is_matched => return None,
        Ok(json) => (json.clone(), "Media file not found in filesystem".into()),
    };
    let expected = sidecar::title(&entry).unwrap_or(&sidecar.name);
    let mut context = Map::new();
    context.insert("album".into(), album.title.clone().into());
    context.insert("metadata_filename".into(), sidecar.file.clone().into());
    context.insert("expected_media".into(), expected.into());
    let source = format!("{}/{}", album.folder.rel, sidecar.file);
    Some(Orphan { source, entry, reason, context })
}

/// Returns the entry saved for a sidecar that is not valid JSON.
fn invalid(sidecar: &Sidecar, error: String) -> Value {
    json!({"file": sidecar.file, "error": error})
}
