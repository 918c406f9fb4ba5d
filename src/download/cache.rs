//! The download cache folder (platforms.md §9b.5): `<key>-main.<ext>` and
//! `<key>-overlay.<ext>`, looked up without the network, and finished
//! temporary files renamed into place, overlay first and main last, so
//! that a main in the cache always means a complete download.
//!
//! Extensions come from content and are always image or video ones
//! ([`crate::media::kind`]); other names in the folder are ignored. The
//! folder is listed once per run and every key is looked up in that list.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::media::kind::media_exts;
use crate::media::TempFile;

use super::retry::{Kind, Miss};
use super::Files;

/// The two files a download may leave in the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Role {
    /// The media itself.
    Main,
    /// The overlay drawn over it.
    Overlay,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Main => "main",
            Role::Overlay => "overlay",
        }
    }
}

/// A finished temporary file and the extension it gets in the cache.
pub(super) struct Part {
    /// The temporary file, in the cache folder.
    pub(super) file: TempFile,
    /// The extension from content (lower case, no dot).
    pub(super) ext: String,
}

/// The files of one cache folder, listed once: per key and role, the
/// file whose extension comes first in [`media_exts`].
#[derive(Debug, Default)]
pub(crate) struct Listing {
    files: HashMap<(String, Role), (usize, PathBuf)>,
}

impl Listing {
    /// Lists `dir`; a missing or unreadable folder holds nothing.
    pub(crate) fn read(dir: &Path) -> Listing {
        let mut listing = Listing::default();
        let Ok(entries) = std::fs::read_dir(dir) else { return listing };
        for entry in entries.flatten() {
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            let name = entry.file_name();
            if let (true, Some(name)) = (is_file, name.to_str()) {
                listing.add(name, entry.path());
            }
        }
        listing
    }

    /// Records `path` when `name` is `<key>-<role>.<media ext>`.
    fn add(&mut self, name: &str, path: PathBuf) {
        let Some((stem, ext)) = name.rsplit_once('.') else { return };
        let Some(rank) = media_exts().position(|e| e == ext) else { return };
        for role in [Role::Main, Role::Overlay] {
            let suffix = format!("-{}", role.as_str());
            let Some(key) = stem.strip_suffix(&suffix) else { continue };
            if !is_valid_key(key) {
                return;
            }
            let slot = self.files.entry((key.to_string(), role));
            let best = slot.or_insert((rank, path.clone()));
            if rank < best.0 {
                *best = (rank, path);
            }
            return;
        }
    }

    /// Returns the cached files of `key`, when its main is there.
    pub(crate) fn get(&self, key: &str) -> Option<Files> {
        let file = |role| {
            let (_, path) = self.files.get(&(key.to_string(), role))?;
            Some(path.clone())
        };
        Some(Files { main: file(Role::Main)?, overlay: file(Role::Overlay) })
    }
}

/// Returns true for a key that names files inside the cache folder: not
/// empty, not hidden, without path separators.
pub(super) fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && !key.starts_with('.') && !key.contains(['/', '\\', '\0'])
}

/// Renames `overlay` and then `main` into the cache under `key`, and
/// removes files of the key with other extensions, which an earlier
/// download of different content may have left.
pub(super) fn install(
    dir: &Path,
    key: &str,
    main: Part,
    overlay: Option<Part>,
) -> Result<Files, Miss> {
    let overlay = match overlay {
        Some(part) => Some(put(dir, key, Role::Overlay, part)?),
        None => None,
    };
    remove_others(dir, key, Role::Overlay, overlay.as_deref());
    let main = put(dir, key, Role::Main, main)?;
    remove_others(dir, key, Role::Main, Some(&main));
    Ok(Files { main, overlay })
}

/// Returns the cache path of `key`'s `role` file with extension `ext`.
fn path(dir: &Path, key: &str, role: Role, ext: &str) -> PathBuf {
    dir.join(format!("{key}-{}.{ext}", role.as_str()))
}

/// Renames `part` onto its cache path, replacing a file of that name.
fn put(dir: &Path, key: &str, role: Role, part: Part) -> Result<PathBuf, Miss> {
    let dest = path(dir, key, role, &part.ext);
    part.file
        .persist(&dest, None)
        .map_err(|e| Miss::new(Kind::Fatal, format!("{e:#}")))?;
    Ok(dest)
}

/// Removes every `role` file of `key` except `keep`.
fn remove_others(dir: &Path, key: &str, role: Role, keep: Option<&Path>) {
    for ext in media_exts() {
        let other = path(dir, key, role, ext);
        if Some(other.as_path()) != keep && other.is_file() {
            if let Err(err) = std::fs::remove_file(&other) {
                log::debug!("cannot remove {}: {err}", other.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    use crate::download::tests::names;

    fn touch(dir: &Path, name: &str) {
        std::fs::write(dir.join(name), b"x").unwrap();
    }

    fn part(dir: &Path, bytes: &[u8], ext: &str) -> Part {
        let mut file = TempFile::create(&dir.join("x")).unwrap();
        file.write_all(bytes).unwrap();
        Part { file, ext: ext.into() }
    }

    #[test]
    fn finds_a_main_and_its_overlay() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(Listing::read(d).get("k").is_none(), "empty folder");
        touch(d, "k-overlay.png");
        assert!(
            Listing::read(d).get("k").is_none(),
            "an overlay alone is no download"
        );
        touch(d, "k-main.mp4");
        let files = Listing::read(d).get("k").unwrap();
        assert_eq!(files.main, d.join("k-main.mp4"));
        assert_eq!(files.overlay, Some(d.join("k-overlay.png")));
        // Two mains of one key: the extension listed first wins.
        touch(d, "k-main.mov");
        assert_eq!(
            Listing::read(d).get("k").unwrap().main,
            d.join("k-main.mp4")
        );
        touch(d, "j-main.jpg");
        let files = Listing::read(d).get("j").unwrap();
        assert_eq!((files.main, files.overlay), (d.join("j-main.jpg"), None));
    }

    #[test]
    fn ignores_other_keys_and_odd_names() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(d, "kk-main.jpg");
        touch(d, "k-main.txt");
        touch(d, ".memoria-tmp-1-2");
        std::fs::create_dir(d.join("k-main.png")).unwrap();
        assert!(Listing::read(d).get("k").is_none());
        assert!(Listing::read(d).get("").is_none());
        assert!(Listing::read(d).get("../k").is_none());
        assert!(Listing::read(&d.join("missing")).get("kk").is_none());
    }

    #[test]
    fn keys_must_stay_in_the_folder() {
        for key in ["abc", "0123abcdef", "a.b"] {
            assert!(is_valid_key(key), "{key}");
        }
        for key in ["", ".hidden", "a/b", "a\\b", ".."] {
            assert!(!is_valid_key(key), "{key}");
        }
    }

    #[test]
    fn install_renames_and_drops_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(d, "k-main.png");
        touch(d, "k-overlay.webp");
        touch(d, "k-main.jpg");
        let main = part(d, b"new main", "jpg");
        let files = install(d, "k", main, None).unwrap();
        assert_eq!(files.main, d.join("k-main.jpg"));
        assert_eq!(files.overlay, None);
        assert_eq!(std::fs::read(&files.main).unwrap(), b"new main");
        assert_eq!(names(d), ["k-main.jpg"]);
        let overlay = Some(part(d, b"ov", "png"));
        let files = install(d, "k", part(d, b"m", "mp4"), overlay).unwrap();
        assert_eq!(files.overlay, Some(d.join("k-overlay.png")));
        assert_eq!(names(d), ["k-main.mp4", "k-overlay.png"]);
    }
}
