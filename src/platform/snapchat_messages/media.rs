//! The files of `chat_media/` (platforms.md §10.4): media with their
//! `b~` id or zip UUID, overlays, and the files that are skipped, each
//! with its file instant.
//!
//! The file instant is the modification time truncated to whole seconds;
//! it is the only link between a message and its zip media and overlays.

use std::path::Path;

use jiff::Timestamp;

use super::root::Folder;
use crate::discover;
use crate::media::kind::{class_of_name, Class};
use crate::plan::{Plan, Skipped};
use crate::platform::folder::{is_visual, mtime_seconds, visual_class};

/// One media file of `chat_media/`.
#[derive(Debug)]
pub(super) struct MediaFile {
    /// File name.
    pub(super) name: String,
    /// Image or video, by extension or by content.
    pub(super) video: bool,
    /// `b~` id taken from the name.
    pub(super) bid: Option<String>,
    /// UUID after `~zip-`.
    pub(super) uuid: Option<String>,
    /// Modification time in whole seconds.
    pub(super) instant: Option<Timestamp>,
}

/// One overlay PNG of `chat_media/`.
#[derive(Debug)]
pub(super) struct OverlayFile {
    /// File name.
    pub(super) name: String,
    /// UUID after `~zip-`.
    pub(super) uuid: Option<String>,
    /// Modification time in whole seconds.
    pub(super) instant: Option<Timestamp>,
}

/// The media and overlays of `chat_media/`, each in name order.
#[derive(Debug)]
pub(super) struct ChatMedia {
    /// The folder itself.
    pub(super) folder: Folder,
    /// Media files.
    pub(super) media: Vec<MediaFile>,
    /// Overlay files.
    pub(super) overlays: Vec<OverlayFile>,
}

/// What the name of a `chat_media/` file says it is (§10.4 table).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// Not looked at.
    Ignored,
    /// A media file, with its `b~` id or zip UUID.
    Media { bid: Option<String>, uuid: Option<String> },
    /// An overlay PNG, with its zip UUID.
    Overlay { uuid: Option<String> },
    /// Skipped with this reason.
    Skipped(&'static str),
}

/// Lists and classifies `folder` (non-recursive; hidden and banned names
/// left out), recording skipped files in `plan`.
pub(super) fn read(
    folder: Folder,
    plan: &mut Plan,
) -> anyhow::Result<ChatMedia> {
    let names = crate::platform::folder::list_files(
        &folder,
        plan,
        discover::is_ignored_name,
    )?;
    let mut found =
        ChatMedia { folder, media: Vec::new(), overlays: Vec::new() };
    for name in names {
        let path = found.folder.path.join(&name);
        let skip = |reason: &str| Skipped {
            input: found.folder.rel_of(&name),
            reason: reason.into(),
        };
        match role(&name) {
            Role::Ignored => {}
            Role::Skipped(reason) => plan.skipped.push(skip(reason)),
            Role::Overlay { uuid } => {
                let instant = mtime_seconds(&path);
                found.overlays.push(OverlayFile { name, uuid, instant });
            }
            Role::Media { bid, uuid } => match media_class(&name, &path) {
                Some(class) => found.media.push(MediaFile {
                    instant: mtime_seconds(&path),
                    name,
                    video: class == Class::Video,
                    bid,
                    uuid,
                }),
                None => plan.skipped.push(skip("not media")),
            },
        }
    }
    Ok(found)
}

/// Returns the role of file `name`: the first row of the §10.4 table that
/// applies.
pub(super) fn role(name: &str) -> Role {
    if [".", "._", "__"].iter().any(|p| name.starts_with(p)) {
        return Role::Ignored;
    }
    if let Some((_, rest)) = name.split_once("_b~") {
        let id = rest.split('.').next().unwrap_or(rest);
        return Role::Media { bid: Some(format!("b~{id}")), uuid: None };
    }
    if name.contains("_media~") {
        return Role::Media { bid: None, uuid: zip_uuid(name) };
    }
    if name.contains("_overlay~") {
        return Role::Overlay { uuid: zip_uuid(name) };
    }
    if name.contains("_thumbnail~") {
        return Role::Skipped("thumbnail");
    }
    if is_hex_media(name) {
        return Role::Media { bid: None, uuid: None };
    }
    Role::Skipped("unrecognised chat_media file")
}

/// Returns the text after `~zip-` up to the first `.`.
fn zip_uuid(name: &str) -> Option<String> {
    let (_, rest) = name.split_once("~zip-")?;
    let uuid = rest.split('.').next().unwrap_or(rest);
    (!uuid.is_empty()).then(|| uuid.to_string())
}

/// Returns whether `name` is `YYYY-MM-DD_<32 hex>.<jpg|jpeg|png|webp|mp4>`
/// in any case.
fn is_hex_media(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else { return false };
    let known = ["jpg", "jpeg", "png", "webp", "mp4"];
    let Some((date, hex)) = stem.split_once('_') else { return false };
    let date_ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    date_ok
        && hex.len() == 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && known.iter().any(|k| ext.eq_ignore_ascii_case(k))
}

/// Returns the class of a media file: by extension, else by content
/// (Snapchat ships some as `.unknown`); `None` when neither gives an
/// image or a video.
fn media_class(name: &str, path: &Path) -> Option<Class> {
    class_of_name(name).filter(is_visual).or_else(|| visual_class(path))
}
