//! The body of a successful answer (platforms.md §9b.5): judged by its
//! first bytes, never by its headers, and streamed into a temporary file
//! of the cache folder: the main itself, or a ZIP that is unpacked and
//! deleted.

use std::io::{self, Read, Write};
use std::path::Path;

use crate::media::kind::{class_of_ext, Class};
use crate::media::{sniff, TempFile};

use super::cache::{self, Part};
use super::retry::{Kind, Miss};
use super::{unzip, Files};

/// Bytes read before the body is judged; enough for every signature of
/// metadata.md §8, WebM's `DocType` included.
const HEAD: usize = 4096;

/// What the first bytes of an answer are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Content {
    /// A ZIP holding the main and its overlay.
    Zip,
    /// An image or video, with the extension its content denotes.
    Media(&'static str),
}

/// Files stored in the cache and the warnings of their download.
pub(super) struct Stored {
    /// The cached files.
    pub(super) files: Files,
    /// Warnings for the report.
    pub(super) warnings: Vec<String>,
}

/// Returns what `head` is, or `None` for unexpected content (an HTML
/// page, an empty body, audio).
pub(super) fn judge(head: &[u8]) -> Option<Content> {
    if head.starts_with(b"PK\x03\x04") {
        return Some(Content::Zip);
    }
    let ext = sniff::detect(head)?;
    is_media_ext(ext).then_some(Content::Media(ext))
}

/// Returns true for an image or video extension.
pub(super) fn is_media_ext(ext: &str) -> bool {
    matches!(class_of_ext(ext), Some(Class::Image | Class::Video))
}

/// Streams `body` into the cache folder `dir` under `key`; `on_read`
/// returns the miss of a body that could not be received.
pub(super) fn receive(
    body: &mut dyn Read,
    dir: &Path,
    key: &str,
    on_read: &dyn Fn(&io::Error) -> Miss,
) -> Result<Stored, Miss> {
    let head = read_head(body).map_err(|e| on_read(&e))?;
    let Some(content) = judge(&head) else {
        return Err(Miss::new(Kind::Transient, "unexpected content"));
    };
    let mut file = TempFile::create(&dir.join(key))
        .map_err(|e| Miss::new(Kind::Fatal, format!("{e:#}")))?;
    write(&mut file, &head)?;
    copy(body, &mut file, on_read)?;
    match content {
        Content::Media(ext) => {
            let main = Part { file, ext: ext.to_string() };
            let files = cache::install(dir, key, main, None)?;
            Ok(Stored { files, warnings: Vec::new() })
        }
        Content::Zip => {
            let unpacked = unzip::unpack(file.path(), dir)?;
            // The ZIP's temporary file is removed when `file` drops.
            let files =
                cache::install(dir, key, unpacked.main, unpacked.overlay)?;
            Ok(Stored { files, warnings: unpacked.warnings })
        }
    }
}

/// Reads the first [`HEAD`] bytes of `body`, fewer when it ends sooner.
fn read_head(body: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD);
    body.take(HEAD as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Copies `from` to the end of `to` and flushes it; a read error becomes
/// the miss `on_read` returns, a write error a fatal one.
pub(super) fn copy(
    from: &mut dyn Read,
    to: &mut TempFile,
    on_read: &dyn Fn(&io::Error) -> Miss,
) -> Result<(), Miss> {
    let mut buf = vec![0; 64 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(on_read(&e)),
        };
        write(to, &buf[..n])?;
    }
    to.finish().map_err(|e| Miss::new(Kind::Fatal, format!("{e:#}")))
}

/// Writes `bytes` to `to`.
fn write(to: &mut TempFile, bytes: &[u8]) -> Result<(), Miss> {
    to.write_all(bytes).map_err(|e| local("write", to.path(), &e))
}

/// Returns the fatal miss of a local file operation `what` on `path`.
pub(super) fn local(what: &str, path: &Path, err: &io::Error) -> Miss {
    let text = format!("failed to {what} {}: {err}", path.display());
    Miss::new(Kind::Fatal, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(err: &io::Error) -> Miss {
        Miss::new(Kind::Transient, err.to_string())
    }

    #[test]
    fn judges_answers_by_their_first_bytes() {
        let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isommp41".to_vec();
        mp4.resize(64, 0);
        let cases: &[(&str, &[u8], Option<Content>)] = &[
            ("zip", b"PK\x03\x04\x14\0\0\0", Some(Content::Zip)),
            (
                "jpeg",
                b"\xFF\xD8\xFF\xE0\0\x10JFIF\0",
                Some(Content::Media("jpg")),
            ),
            ("png", b"\x89PNG\r\n\x1a\n\0\0", Some(Content::Media("png"))),
            ("mp4", &mp4, Some(Content::Media("mp4"))),
            ("html", b"<!DOCTYPE html><html>expired</html>", None),
            ("empty", b"", None),
            ("empty zip", b"PK\x05\x06\0\0\0\0", None),
            ("mp3", b"ID3\x04\0\0\0\0\0\x05\xFF\xFB\x90\x64\0\0\0\0", None),
            ("json", b"{\"error\":\"expired\"}", None),
        ];
        for (name, head, want) in cases {
            assert_eq!(judge(head), *want, "{name}");
        }
    }

    #[test]
    fn unexpected_content_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut body: &[u8] = b"<html>link expired</html>";
        let miss = receive(&mut body, dir.path(), "k", &failed).err().unwrap();
        assert_eq!(
            (miss.error.as_str(), miss.kind),
            ("unexpected content", Kind::Transient)
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn media_answers_are_stored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend((0..100_000u32).map(|i| (i % 251) as u8));
        let stored = receive(&mut bytes.as_slice(), dir.path(), "k", &failed)
            .ok()
            .unwrap();
        assert_eq!(stored.files.main, dir.path().join("k-main.png"));
        assert_eq!(std::fs::read(&stored.files.main).unwrap(), bytes);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
