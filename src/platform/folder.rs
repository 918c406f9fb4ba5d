//! Folders of an export as platforms walk them: absolute path plus the
//! `/`-separated path relative to the export that reports use, and the
//! Google root that Google Photos, Chat and Voice share (platforms.md §3.1:
//! `<export>/Takeout` when that is a folder, else the export itself).

use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::Timestamp;

use crate::media::kind::{class_of_ext, Class};
use crate::media::sniff;
use crate::plan::{Plan, Skipped};

/// Bytes read to tell a file's type by content.
const HEAD: u64 = 4096;

/// A folder with its name and its path relative to the export.
#[derive(Clone, Debug)]
pub(crate) struct Folder {
    /// The folder's own name (empty for the export itself).
    pub(crate) name: String,
    /// Absolute path.
    pub(crate) path: PathBuf,
    /// Path relative to the export, `/`-separated (empty for the export).
    pub(crate) rel: String,
}

impl Folder {
    /// Returns the export folder itself.
    pub(crate) fn root(export: &Path) -> Folder {
        Folder { name: String::new(), path: export.into(), rel: String::new() }
    }

    /// Returns the sub-folder `name` of this folder (it may not exist).
    pub(crate) fn child(&self, name: &str) -> Folder {
        let rel = if self.rel.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.rel)
        };
        Folder { name: name.to_string(), path: self.path.join(name), rel }
    }

    /// Returns the export-relative path of file `name` in this folder.
    pub(crate) fn rel_of(&self, name: &str) -> String {
        if self.rel.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.rel)
        }
    }
}

/// Returns the Google root of `export`: its `Takeout` folder when that is
/// a real folder, else the export itself.
pub(crate) fn google_root(export: &Path) -> anyhow::Result<Folder> {
    let root = Folder::root(export);
    let takeout = root.child("Takeout");
    Ok(if is_real_dir(&takeout.path)? { takeout } else { root })
}

/// Returns whether `path` is a folder without following a symbolic link
/// (links to folders inside an export are never entered, platforms.md
/// §2.1). A missing path, or a file where a folder of the path should be,
/// is no folder; other errors (permission denied) are returned.
pub(crate) fn is_real_dir(path: &Path) -> anyhow::Result<bool> {
    is_kind(fs::symlink_metadata(path), path, fs::Metadata::is_dir)
}

/// Returns the names of the files directly in `folder`, sorted in byte
/// order, leaving out folders and names `skip` rejects. Symbolic links to
/// files are followed, to folders not (platforms.md §2.1); a dangling link
/// is listed, so that it fails visibly when read instead of vanishing from
/// the report. Names that are not UTF-8 are recorded as skipped.
pub(crate) fn list_files(
    folder: &Folder,
    plan: &mut Plan,
    skip: fn(&str) -> bool,
) -> anyhow::Result<Vec<String>> {
    let failed = || format!("failed to read {}", folder.path.display());
    let mut files = Vec::new();
    for entry in fs::read_dir(&folder.path).with_context(failed)? {
        let entry = entry.with_context(failed)?;
        let is_file = entry.file_type().is_ok_and(|t| {
            t.is_file()
                || (t.is_symlink()
                    && !fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()))
        });
        if !is_file {
            continue;
        }
        match entry.file_name().into_string() {
            Ok(name) if !skip(&name) => files.push(name),
            Ok(_) => {}
            Err(raw) => {
                let lossy = raw.to_string_lossy().into_owned();
                if !skip(&lossy) {
                    plan.skipped.push(Skipped {
                        input: folder.rel_of(&lossy),
                        reason: "file name is not valid UTF-8".into(),
                    });
                }
            }
        }
    }
    files.sort_unstable();
    Ok(files)
}

/// Returns whether `path` is a file, following symbolic links; a missing
/// path is not.
pub(crate) fn is_file(path: &Path) -> anyhow::Result<bool> {
    is_kind(fs::metadata(path), path, fs::Metadata::is_file)
}

/// Applies `kind` to `meta`; a missing path, or a file where a folder of
/// the path should be, is not of any kind; other errors are returned.
fn is_kind(
    meta: std::io::Result<fs::Metadata>,
    path: &Path,
    kind: fn(&fs::Metadata) -> bool,
) -> anyhow::Result<bool> {
    match meta {
        Ok(meta) => Ok(kind(&meta)),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::NotFound | ErrorKind::NotADirectory
            ) =>
        {
            Ok(false)
        }
        Err(err) => Err(err)
            .with_context(|| format!("failed to read {}", path.display())),
    }
}

/// Returns the modification time of `path` truncated to whole seconds;
/// warns when it cannot be read.
pub(crate) fn mtime_seconds(path: &Path) -> Option<Timestamp> {
    let modified = fs::metadata(path).and_then(|m| m.modified());
    let at = match modified {
        Ok(time) => Timestamp::try_from(time).ok()?,
        Err(err) => {
            log::warn!("no modification time for {}: {err}", path.display());
            return None;
        }
    };
    Timestamp::from_second(at.as_second()).ok()
}

/// Returns the class of `path` by its content (metadata.md §8) when it
/// is an image or a video; warns when the file cannot be read.
pub(crate) fn visual_class(path: &Path) -> Option<Class> {
    let mut head = Vec::new();
    let read =
        File::open(path).and_then(|f| f.take(HEAD).read_to_end(&mut head));
    if let Err(err) = read {
        log::warn!("failed to read {}: {err}", path.display());
        return None;
    }
    sniff::detect(&head).and_then(class_of_ext).filter(is_visual)
}

/// Returns whether `class` is that of a picture or a video.
pub(crate) fn is_visual(class: &Class) -> bool {
    matches!(class, Class::Image | Class::Video)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_google_root_is_takeout_when_present() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(google_root(dir.path()).unwrap().rel, "");
        std::fs::write(dir.path().join("Takeout"), "a file").unwrap();
        assert_eq!(google_root(dir.path()).unwrap().rel, "", "not a folder");
        std::fs::remove_file(dir.path().join("Takeout")).unwrap();
        std::fs::create_dir(dir.path().join("Takeout")).unwrap();
        let root = google_root(dir.path()).unwrap();
        assert_eq!(root.rel, "Takeout");
        assert_eq!(
            root.child("Voice").child("Calls").rel,
            "Takeout/Voice/Calls"
        );
        assert_eq!(root.rel_of("x.jpg"), "Takeout/x.jpg");
        assert!(!is_real_dir(&dir.path().join("Takeout/x/y")).unwrap());
    }
}
