//! The upload-only file list of a processor when the output root has no
//! `report.json` from memoria (upload.md §8 step 7): its output folder
//! is crawled.
//!
//! Hidden files and folders are skipped, the ignore patterns apply,
//! `.xmp` files travel with their media as sidecars, overlays are left
//! out, and in the shared `messages/` folder a file belongs to the
//! processor whose name prefix it carries. Without a report there is no
//! capture instant, so the file's modification time stands in, and no
//! SHA-1, so it is computed here with `concurrency` threads (not at all
//! when `IMMICH_SKIP_HASH` is true). Each file joins the processor's base
//! album only (upload.md §3.1): album titles are not in the library.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::Path;

use jiff::Timestamp;
use rayon::prelude::*;
use sha1::{Digest, Sha1};
use walkdir::WalkDir;

use super::{File, Ignore};
use crate::discover;
use crate::plan::Export;

/// The shared output folder of the message processors.
const MESSAGES: &str = "messages";
/// The folder whose sub-folders name the Instagram media type.
const PUBLIC_MEDIA: &str = "public-media";

/// One processor's output to crawl.
pub(super) struct Target<'a> {
    /// The export's output root; file paths are relative to it.
    pub(super) root: &'a Path,
    /// The processor's display name (`Google Photos`).
    pub(super) processor: &'a str,
    /// Its output folder under the root (`photos`).
    pub(super) folder: &'a str,
    /// The `{user}` (or `{device}`) of its album names.
    pub(super) user: &'a str,
}

/// Lists the files of `target` in path order; `hash_threads` is 0 when
/// no SHA-1 is wanted.
pub(super) fn files(
    target: &Target,
    ignore: &Ignore,
    hash_threads: usize,
) -> Vec<File> {
    let (media, sidecars) = walk(target, ignore);
    let mut files: Vec<File> = media
        .into_iter()
        .map(|(path, size, taken)| {
            let sidecar = sidecar_of(&path, &sidecars);
            let albums = base_album(target, &path).into_iter().collect();
            File {
                path,
                size,
                sha1: None,
                taken,
                favorite: false,
                albums,
                sidecar,
            }
        })
        .collect();
    if hash_threads > 0 {
        hash_all(target.root, &mut files, hash_threads);
    }
    files
}

/// A crawled media file: path, size and modification time.
type Found = (String, u64, Option<Timestamp>);

/// Walks the processor's folder: media files kept by the rules of
/// upload.md §3.2 and §3.3, and every `.xmp` path.
fn walk(target: &Target, ignore: &Ignore) -> (Vec<Found>, HashSet<String>) {
    let base = target.root.join(target.folder);
    let mut media = Vec::new();
    let mut sidecars = HashSet::new();
    let walker = WalkDir::new(&base)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                log::warn!("cannot read {}: {err}", base.display());
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(path) = relative(target.root, entry.path()) else {
            log::warn!("skipping {}: not UTF-8", entry.path().display());
            continue;
        };
        if path.to_lowercase().ends_with(".xmp") {
            sidecars.insert(path);
        } else if ignore.keeps(&path) && belongs_to(target, &path) {
            let meta = entry.metadata().ok();
            let size = meta.as_ref().map_or(0, fs::Metadata::len);
            let taken = meta
                .and_then(|m| m.modified().ok())
                .and_then(|t| Timestamp::try_from(t).ok());
            media.push((path, size, taken));
        }
    }
    (media, sidecars)
}

/// Returns true for names starting with `.` (upload.md §3.2).
fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_none_or(|n| n.starts_with('.'))
}

/// Returns `path` relative to `root` with `/` separators, if UTF-8.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> =
        rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

/// Returns true when `path` belongs to the processor: always, except in
/// the shared `messages/` folder, where the name prefix decides.
fn belongs_to(target: &Target, path: &str) -> bool {
    if target.folder != MESSAGES {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    message_prefix(target.processor).is_some_and(|p| name.starts_with(p))
}

/// Returns the name prefix of a message processor's files (upload.md §8
/// step 7).
fn message_prefix(processor: &str) -> Option<&'static str> {
    match processor {
        "Instagram Messages" => Some("instagram-messages-"),
        "Snapchat Messages" => Some("snap-messages-"),
        "Discord" => Some("discord-"),
        "iMessage" | "iMessage-iMazing" => Some("imessage-"),
        _ => None,
    }
}

/// Returns the sidecar of `path`: `<file>.xmp`, else `<stem>.xmp`
/// (upload.md §5.7).
fn sidecar_of(path: &str, sidecars: &HashSet<String>) -> Option<String> {
    let full = format!("{path}.xmp");
    if sidecars.contains(&full) {
        return Some(full);
    }
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let by_stem = match dir {
        "" => format!("{stem}.xmp"),
        dir => format!("{dir}/{stem}.xmp"),
    };
    sidecars.contains(&by_stem).then_some(by_stem)
}

/// Returns the processor's base album of upload.md §3.1 for `path`;
/// `None` for a processor memoria has no album for.
pub(super) fn base_album(target: &Target, path: &str) -> Option<String> {
    let user = target.user;
    let album = match target.processor {
        "Google Photos" | "Google Chat" | "Google Voice" => {
            format!("{}/{user}", target.processor)
        }
        "Instagram Messages" => format!("Instagram/{user}/messages"),
        "Instagram Public Media" | "Instagram Old Public Media" => {
            format!("Instagram/{user}/{}", media_type(path))
        }
        "Snapchat Memories" => format!("Snapchat/{user}/memories"),
        "Snapchat Messages" => format!("Snapchat/{user}/messages"),
        "Discord" => format!("Discord/{user}"),
        "iMessage" | "iMessage-iMazing" => format!("iMessage/{user}"),
        _ => return None,
    };
    Some(album)
}

/// Returns the `<type>` of `public-media/<type>/…` (`other` when the
/// file sits in `public-media/` itself).
fn media_type(path: &str) -> &str {
    let rest =
        path.strip_prefix(PUBLIC_MEDIA).and_then(|r| r.strip_prefix('/'));
    match rest.and_then(|r| r.split_once('/')) {
        Some((kind, _)) if !kind.is_empty() => kind,
        _ => "other",
    }
}

/// Returns the `{user}` of a processor's albums for `export`: the name
/// its processor uses (platforms.md §2.4), from the export folder name
/// or, for Google Chat, the export's own user record.
pub(super) fn user_of(processor: &str, export: &Export) -> String {
    let prefix = match processor {
        "Google Chat" => {
            return crate::platform::google_chat::username(export);
        }
        p if p.starts_with("Instagram") => "instagram",
        "Snapchat Messages" => {
            let user = discover::username(&export.name, "snapchat");
            if user != "unknown" {
                return user;
            }
            "snapmsgs"
        }
        p if p.starts_with("Snapchat") => "snapchat",
        "Discord" => "discord",
        _ => "google",
    };
    discover::username(&export.name, prefix)
}

/// Computes the SHA-1 of every file with `threads` threads; a file that
/// cannot be read keeps `None` (its upload then reports the error).
fn hash_all(root: &Path, files: &mut [File], threads: usize) {
    log::info!("hashing {} files with {threads} threads", files.len());
    let one = |file: &mut File| match sha1_of(&root.join(&file.path)) {
        Ok(sum) => file.sha1 = Some(sum),
        Err(err) => log::warn!("cannot hash {}: {err}", file.path),
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(|| files.par_iter_mut().for_each(one)),
        Err(err) => {
            log::debug!("no hashing pool ({err}); hashing in this thread");
            files.iter_mut().for_each(one);
        }
    }
}

/// Returns the lower-case hex SHA-1 of the file at `path`.
fn sha1_of(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha1::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(
        root: &'a Path,
        processor: &'a str,
        folder: &'a str,
    ) -> Target<'a> {
        Target { root, processor, folder, user: "zoë" }
    }

    fn write(root: &Path, rel: &str, bytes: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    #[test]
    fn crawls_skip_hidden_ignored_and_overlay_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for rel in [
            "photos/b.jpg",
            "photos/a.gif",
            "photos/a.gif.xmp",
            "photos/c.mkv",
            "photos/c.xmp",
            "photos/sub/d.jpg",
            "photos/e.overlay.png",
            "photos/.memoria-tmp-1-2",
            "photos/.hidden/f.jpg",
            "photos/issues/g.jpg",
            "photos/needs_matching/h.jpg",
            "chat/other.jpg",
        ] {
            write(root, rel, rel.as_bytes());
        }
        let ignore = Ignore::new(crate::upload::DEFAULT_IGNORE).unwrap();
        let files = files(&target(root, "Google Photos", "photos"), &ignore, 2);
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "photos/a.gif",
                "photos/b.jpg",
                "photos/c.mkv",
                "photos/sub/d.jpg"
            ]
        );
        assert_eq!(files[0].sidecar.as_deref(), Some("photos/a.gif.xmp"));
        assert_eq!(files[1].sidecar, None);
        assert_eq!(files[2].sidecar.as_deref(), Some("photos/c.xmp"));
        assert_eq!(files[1].albums, ["Google Photos/zoë"]);
        assert_eq!(files[1].size, "photos/b.jpg".len() as u64);
        // SHA-1 of the bytes "photos/b.jpg".
        let want = {
            let mut h = Sha1::new();
            h.update(b"photos/b.jpg");
            h.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        assert_eq!(files[1].sha1.as_deref(), Some(want.as_str()));
        let mtime = fs::metadata(root.join("photos/b.jpg"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(files[1].taken, Timestamp::try_from(mtime).ok());
        // Without hashing there is no SHA-1.
        let files = files_unhashed(root, &ignore);
        assert!(files.iter().all(|f| f.sha1.is_none()));
    }

    fn files_unhashed(root: &Path, ignore: &Ignore) -> Vec<File> {
        files(&target(root, "Google Photos", "photos"), ignore, 0)
    }

    #[test]
    fn shared_message_folders_split_by_name_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for rel in [
            "messages/discord-zoë-a-20210101.jpg",
            "messages/snap-messages-zoë-b-20210101.jpg",
            "messages/imessage-phone-c-20210101.jpg",
        ] {
            write(root, rel, b"x");
        }
        let ignore = Ignore::new("").unwrap();
        let got = |processor| {
            files(&target(root, processor, MESSAGES), &ignore, 0)
                .into_iter()
                .map(|f| (f.path, f.albums))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            got("Snapchat Messages"),
            [(
                "messages/snap-messages-zoë-b-20210101.jpg".to_string(),
                vec!["Snapchat/zoë/messages".to_string()]
            )]
        );
        assert_eq!(got("Discord")[0].1, ["Discord/zoë"]);
        assert_eq!(got("iMessage").len(), 1);
        assert!(got("Google Photos").is_empty());
    }

    #[test]
    fn public_media_folders_name_the_album_type() {
        let dir = tempfile::tempdir().unwrap();
        let t = target(dir.path(), "Instagram Public Media", PUBLIC_MEDIA);
        let album = |path| base_album(&t, path).unwrap();
        assert_eq!(album("public-media/reels/a.mp4"), "Instagram/zoë/reels");
        assert_eq!(album("public-media/x.jpg"), "Instagram/zoë/other");
        let t = target(dir.path(), "Google Voice", "Google Voice");
        assert_eq!(
            base_album(&t, "Google Voice/a.jpg").unwrap(),
            "Google Voice/zoë"
        );
    }

    #[test]
    fn every_registered_processor_has_a_base_album() {
        let dir = tempfile::tempdir().unwrap();
        for p in crate::platform::registry() {
            let t = target(dir.path(), p.name(), p.rules().folder);
            let path = format!("{}/a/b.jpg", p.rules().folder);
            assert!(base_album(&t, &path).is_some(), "{}", p.name());
        }
    }

    #[test]
    fn users_follow_the_export_folder_name() {
        let export = |name: &str| Export {
            name: name.into(),
            path: std::path::PathBuf::from("/nonexistent"),
        };
        assert_eq!(
            user_of("Google Photos", &export("google-zoë-20250101")),
            "zoë"
        );
        assert_eq!(
            user_of("Google Voice", &export("google-zoë-20250101")),
            "zoë"
        );
        assert_eq!(
            user_of("Snapchat Messages", &export("snapmsgs-jane-20250101")),
            "jane"
        );
    }
}
