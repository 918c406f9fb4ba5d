//! ZIP answers of download links (platforms.md §9b.6): which entry is the
//! main and which the overlay, and their extraction into temporary files
//! of the cache folder.
//!
//! Only base names count; directories and names starting with
//! `__MACOSX/` or `.` are ignored. The caller deletes the ZIP itself.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use zip::result::ZipError;
use zip::ZipArchive;

use crate::media::sniff::corrected_ext;
use crate::media::TempFile;

use super::answer::{copy, is_media_ext, judge, local, Content};
use super::cache::Part;
use super::retry::{Kind, Miss};

/// Bytes of each entry read to judge its content.
const HEAD: u64 = 512;

/// An entry of a ZIP that may hold media.
#[derive(Debug)]
struct Entry {
    /// Its position in the archive.
    index: usize,
    /// Its base name.
    name: String,
    /// Its first bytes.
    head: Vec<u8>,
}

impl Entry {
    /// Returns the extension the entry gets: its own, corrected by
    /// content (metadata.md §8).
    fn ext(&self) -> String {
        let own = self.name.rsplit_once('.').map_or("", |(_, ext)| ext);
        corrected_ext(own, &self.head)
    }
}

/// The entries chosen as main and overlay (positions in the entry list).
#[derive(Debug, PartialEq, Eq)]
struct Choice {
    main: usize,
    overlay: Option<usize>,
    warnings: Vec<String>,
}

/// The main and overlay of a ZIP, extracted into the cache folder.
pub(super) struct Unpacked {
    /// The main file.
    pub(super) main: Part,
    /// The overlay, when the ZIP has a usable one.
    pub(super) overlay: Option<Part>,
    /// Warnings for the report: several mains, an unusable overlay.
    pub(super) warnings: Vec<String>,
}

/// Extracts the main and overlay of the ZIP at `zip` into temporary
/// files in `dir`.
pub(super) fn unpack(zip: &Path, dir: &Path) -> Result<Unpacked, Miss> {
    let file = File::open(zip).map_err(|e| local("open", zip, &e))?;
    let mut archive = ZipArchive::new(BufReader::new(file)).map_err(broken)?;
    let entries = list(&mut archive)?;
    let Choice { main, overlay, mut warnings } = choose(&entries)?;
    let main = &entries[main];
    if !is_media_ext(&main.ext()) {
        let text =
            format!("ZIP main file {} is not an image or video", main.name);
        return Err(Miss::new(Kind::Fatal, text));
    }
    let overlay = match overlay.map(|i| &entries[i]) {
        Some(entry) if !is_media_ext(&entry.ext()) => {
            warnings.push(format!(
                "overlay {} in the ZIP is not an image or video; ignored",
                entry.name
            ));
            None
        }
        Some(entry) => Some(extract(&mut archive, entry, dir)?),
        None => None,
    };
    let main = extract(&mut archive, main, dir)?;
    Ok(Unpacked { main, overlay, warnings })
}

/// Returns the entries that count, with their first bytes.
fn list<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
) -> Result<Vec<Entry>, Miss> {
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let file = archive.by_index(index).map_err(broken)?;
        let Some(name) = base_name(file.name()).filter(|_| !file.is_dir())
        else {
            continue;
        };
        let mut head = Vec::new();
        file.take(HEAD).read_to_end(&mut head).map_err(|e| unreadable(&e))?;
        entries.push(Entry { index, name, head });
    }
    Ok(entries)
}

/// Returns the base name of entry path `path`, or `None` for an entry
/// that does not count.
fn base_name(path: &str) -> Option<String> {
    if path.starts_with("__MACOSX/") || path.starts_with('.') {
        return None;
    }
    let name = path.rsplit(['/', '\\']).next()?;
    let counts = !name.is_empty() && !name.starts_with('.');
    counts.then(|| name.to_string())
}

/// Chooses the main and the overlay among `entries`.
fn choose(entries: &[Entry]) -> Result<Choice, Miss> {
    let mut warnings = Vec::new();
    let mains = sorted(entries, |e| has_suffix(&e.name, "-main"));
    let overlays = sorted(entries, |e| has_suffix(&e.name, "-overlay"));
    let main = match mains.first() {
        Some(&first) => first,
        None => only_media(entries)?,
    };
    if mains.len() > 1 {
        warnings.push(several("main files", entries, &mains));
    }
    if overlays.len() > 1 {
        warnings.push(several("overlays", entries, &overlays));
    }
    Ok(Choice { main, overlay: overlays.first().copied(), warnings })
}

/// Returns the positions of the entries that match `keep`, by name.
fn sorted(entries: &[Entry], keep: impl Fn(&Entry) -> bool) -> Vec<usize> {
    let mut found: Vec<usize> =
        (0..entries.len()).filter(|&i| keep(&entries[i])).collect();
    found.sort_by(|&a, &b| entries[a].name.cmp(&entries[b].name));
    found
}

/// Returns true when `name` ends in `<suffix>.<ext>`, in any case.
fn has_suffix(name: &str, suffix: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    match lower.rsplit_once('.') {
        Some((stem, ext)) => !ext.is_empty() && stem.ends_with(suffix),
        None => false,
    }
}

/// Returns the only entry that is an image or video by content and not
/// an overlay.
fn only_media(entries: &[Entry]) -> Result<usize, Miss> {
    let media: Vec<usize> = (0..entries.len())
        .filter(|&i| !has_suffix(&entries[i].name, "-overlay"))
        .filter(|&i| matches!(judge(&entries[i].head), Some(Content::Media(_))))
        .collect();
    match media[..] {
        [only] => Ok(only),
        _ => Err(Miss::new(Kind::Fatal, "ZIP without a main file")),
    }
}

/// Returns the warning for several entries of one role.
fn several(what: &str, entries: &[Entry], found: &[usize]) -> String {
    let names: Vec<&str> =
        found.iter().map(|&i| entries[i].name.as_str()).collect();
    format!(
        "the ZIP holds {} {what} ({}); used {}",
        names.len(),
        names.join(", "),
        names[0]
    )
}

/// Extracts `entry` into a temporary file in `dir`.
fn extract<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    entry: &Entry,
    dir: &Path,
) -> Result<Part, Miss> {
    let mut from = archive.by_index(entry.index).map_err(broken)?;
    let mut file = TempFile::create(&dir.join(&entry.name))
        .map_err(|e| Miss::new(Kind::Fatal, format!("{e:#}")))?;
    copy(&mut from, &mut file, &unreadable)?;
    Ok(Part { file, ext: entry.ext() })
}

/// Returns the miss of an archive that cannot be read: retried, since a
/// truncated download is the usual cause, unless the ZIP uses features
/// memoria does not read.
fn broken(err: ZipError) -> Miss {
    match err {
        ZipError::UnsupportedArchive(what) => {
            Miss::new(Kind::Fatal, format!("unsupported ZIP: {what}"))
        }
        ZipError::Io(err) => unreadable(&err),
        err => Miss::new(Kind::Transient, format!("unreadable ZIP: {err}")),
    }
}

/// Returns the retryable miss of an entry that cannot be read.
fn unreadable(err: &std::io::Error) -> Miss {
    Miss::new(Kind::Transient, format!("unreadable ZIP: {err}"))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    /// Returns a ZIP of `(name, bytes)` entries; names ending in `/` are
    /// directories.
    pub(in crate::download) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (i, (name, bytes)) in files.iter().enumerate() {
            let method = match i % 2 {
                0 => CompressionMethod::Deflated,
                _ => CompressionMethod::Stored,
            };
            let options =
                SimpleFileOptions::default().compression_method(method);
            if let Some(dir) = name.strip_suffix('/') {
                writer.add_directory(dir, options).unwrap();
            } else {
                writer.start_file(*name, options).unwrap();
                writer.write_all(bytes).unwrap();
            }
        }
        writer.finish().unwrap().into_inner()
    }

    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";

    fn entry(name: &str, head: &[u8]) -> Entry {
        Entry { index: 0, name: name.into(), head: head.to_vec() }
    }

    /// Returns the names chosen as main and overlay, or the error.
    fn pick(entries: &[Entry]) -> Result<(String, Option<String>), String> {
        let choice = choose(entries).map_err(|m| m.error)?;
        let name = |i: usize| entries[i].name.clone();
        Ok((name(choice.main), choice.overlay.map(name)))
    }

    #[test]
    fn base_names_skip_hidden_and_mac_entries() {
        let cases = [
            ("a-main.jpg", Some("a-main.jpg")),
            ("dir/sub/a-main.jpg", Some("a-main.jpg")),
            ("dir\\a-overlay.png", Some("a-overlay.png")),
            ("__MACOSX/dir/._a-main.jpg", None),
            ("dir/.DS_Store", None),
            (".hidden/a-main.jpg", None),
            ("dir/", None),
        ];
        for (path, want) in cases {
            assert_eq!(base_name(path).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn main_and_overlay_by_name() {
        let entries = [
            entry("x-overlay.png", PNG),
            entry("X-MAIN.JPG", JPEG),
            entry("notes.jpg", JPEG),
        ];
        let want = ("X-MAIN.JPG".to_string(), Some("x-overlay.png".into()));
        assert_eq!(pick(&entries), Ok(want));
    }

    #[test]
    fn only_media_entry_is_the_main() {
        let entries = [entry("x-overlay.png", PNG), entry("photo.bin", JPEG)];
        let want = ("photo.bin".to_string(), Some("x-overlay.png".into()));
        assert_eq!(pick(&entries), Ok(want));
        let entries = [entry("readme.txt", b"hello"), entry("a.jpg", JPEG)];
        assert_eq!(pick(&entries), Ok(("a.jpg".into(), None)));
    }

    #[test]
    fn no_main_fails() {
        let no_main = Err("ZIP without a main file".to_string());
        assert_eq!(pick(&[]), no_main);
        assert_eq!(pick(&[entry("x-overlay.png", PNG)]), no_main);
        assert_eq!(pick(&[entry("a.txt", b"text")]), no_main);
        let two = [entry("a.jpg", JPEG), entry("b.png", PNG)];
        assert_eq!(pick(&two), no_main);
        // A name without extension is no main by name.
        let no_ext = [entry("x-main", b"text"), entry("y.txt", b"")];
        assert_eq!(pick(&no_ext), no_main);
    }

    #[test]
    fn several_mains_take_the_first_by_name_with_a_warning() {
        let entries = [
            entry("b-main.jpg", JPEG),
            entry("a-main.jpg", JPEG),
            entry("b-overlay.png", PNG),
            entry("a-overlay.png", PNG),
        ];
        let choice = choose(&entries).unwrap();
        assert_eq!(entries[choice.main].name, "a-main.jpg");
        assert_eq!(
            choice.overlay.map(|i| &*entries[i].name),
            Some("a-overlay.png")
        );
        assert_eq!(
            choice.warnings,
            [
                "the ZIP holds 2 main files (a-main.jpg, b-main.jpg); used \
                 a-main.jpg",
                "the ZIP holds 2 overlays (a-overlay.png, b-overlay.png); \
                 used a-overlay.png",
            ]
        );
    }

    fn unpack_bytes(zip: &[u8]) -> (tempfile::TempDir, Result<Unpacked, Miss>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answer.zip");
        std::fs::write(&path, zip).unwrap();
        let unpacked = unpack(&path, dir.path());
        (dir, unpacked)
    }

    #[test]
    fn unpacks_main_and_overlay_with_content_extensions() {
        let zip = zip_of(&[
            ("__MACOSX/", b""),
            ("__MACOSX/._k-main.jpg", JPEG),
            ("k/", b""),
            ("k/k-overlay.PNG", PNG),
            ("k/k-main.png", JPEG),
            ("k/.DS_Store", b"junk"),
        ]);
        let (_dir, unpacked) = unpack_bytes(&zip);
        let unpacked = unpacked.unwrap();
        assert_eq!(unpacked.main.ext, "jpg");
        let main = std::fs::read(unpacked.main.file.path()).unwrap();
        assert_eq!(main, JPEG);
        let overlay = unpacked.overlay.unwrap();
        assert_eq!(overlay.ext, "png");
        assert_eq!(std::fs::read(overlay.file.path()).unwrap(), PNG);
        assert!(unpacked.warnings.is_empty());
    }

    #[test]
    fn unusable_overlays_are_dropped_and_bad_mains_fail() {
        let zip = zip_of(&[("k-main.jpg", JPEG), ("k-overlay.txt", b"no")]);
        let (_dir, unpacked) = unpack_bytes(&zip);
        let unpacked = unpacked.unwrap();
        assert!(unpacked.overlay.is_none());
        assert_eq!(
            unpacked.warnings,
            ["overlay k-overlay.txt in the ZIP is not an image or video; \
              ignored"]
        );
        let zip = zip_of(&[("k-main.txt", b"text")]);
        let miss = unpack_bytes(&zip).1.err().unwrap();
        assert_eq!(
            miss.error,
            "ZIP main file k-main.txt is not an image or video"
        );
        assert_eq!(miss.kind, Kind::Fatal);
    }

    #[test]
    fn truncated_zips_are_retryable() {
        let zip = zip_of(&[("k-main.jpg", JPEG), ("k-overlay.png", PNG)]);
        for cut in [4, 30, zip.len() / 2, zip.len() - 10] {
            let miss = unpack_bytes(&zip[..cut]).1.err().unwrap();
            assert_eq!(miss.kind, Kind::Transient, "cut at {cut}");
            assert!(miss.error.starts_with("unreadable ZIP"), "{}", miss.error);
        }
    }
}
