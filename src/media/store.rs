//! Atomic output files: hidden temporary files in the destination folder
//! that hash what passes through them and are renamed into place.
//!
//! Temporary names are `.memoria-tmp-<pid>-<n>`; a file left by a crash is
//! removed by [`remove_stale_temps`] at the start of the next run into
//! that folder (cli.md §7).

use std::fs::{File, FileTimes};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use jiff::Timestamp;

use super::digest::{self, Sha1Stream};

/// Prefix of every temporary file memoria creates.
const TEMP_PREFIX: &str = ".memoria-tmp-";

/// A temporary file beside its destination that hashes its bytes.
///
/// Bytes are gathered in a buffer of [`digest::BUFFER`] bytes that is
/// written out and then handed to the SHA-1, which runs beside the
/// writing for files larger than one buffer. Dropping the file without
/// [`TempFile::persist`] removes it.
pub(crate) struct TempFile {
    path: PathBuf,
    /// The open file; `None` once persisted.
    file: Option<File>,
    /// Bytes not yet written to the file.
    buf: Vec<u8>,
    /// The SHA-1 of the bytes written; taken by [`TempFile::finish`].
    hash: Option<Sha1Stream>,
    /// The digest, once finished.
    digest: Option<String>,
    size: u64,
    persisted: bool,
}

impl TempFile {
    /// Creates a temporary file in the folder of `dest`.
    pub(crate) fn create(dest: &Path) -> anyhow::Result<TempFile> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = dest.parent().unwrap_or(Path::new("."));
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
        let file = File::create(&path)
            .with_context(|| format!("failed to create {}", path.display()))?;
        Ok(TempFile {
            path,
            file: Some(file),
            buf: Vec::with_capacity(digest::BUFFER),
            hash: Some(Sha1Stream::new()),
            digest: None,
            size: 0,
            persisted: false,
        })
    }

    /// Returns the temporary path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the number of bytes written.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Returns the lower-case hex SHA-1 of the file's bytes, known once
    /// [`TempFile::finish`] succeeded (empty before).
    pub(crate) fn sha1_hex(&self) -> String {
        self.digest.clone().unwrap_or_default()
    }

    /// Writes the buffered bytes to the file and completes the SHA-1; no
    /// byte may be written after it. Calling it again does nothing.
    pub(crate) fn finish(&mut self) -> anyhow::Result<()> {
        let Some(mut hash) = self.hash.take() else { return Ok(()) };
        let result = self.write_buffer().and_then(|()| {
            hash.feed(std::mem::take(&mut self.buf), false);
            hash.finish()
        });
        let digest = result.with_context(|| {
            format!("failed to write {}", self.path.display())
        })?;
        self.digest = Some(digest);
        Ok(())
    }

    /// Finishes, sets the times and renames the file onto `dest`.
    pub(crate) fn persist(
        mut self,
        dest: &Path,
        mtime: Option<Timestamp>,
    ) -> anyhow::Result<()> {
        self.finish()?;
        let Some(file) = self.file.take() else {
            anyhow::bail!("{} was already persisted", self.path.display());
        };
        if let Some(at) = mtime {
            set_file_times(&file, at).with_context(|| {
                format!("failed to set times of {}", dest.display())
            })?;
        }
        drop(file);
        std::fs::rename(&self.path, dest).with_context(|| {
            format!("failed to rename onto {}", dest.display())
        })?;
        self.persisted = true;
        Ok(())
    }

    /// Writes the buffer to the file, leaving it in place for the hash.
    fn write_buffer(&mut self) -> io::Result<()> {
        let file = self.file.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
        file.write_all(&self.buf)
    }

    /// Writes the full buffer out and hands it to the hash.
    fn flush_full(&mut self) -> io::Result<()> {
        self.write_buffer()?;
        let hash = self.hash.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
        self.buf = hash.feed(std::mem::take(&mut self.buf), true);
        Ok(())
    }
}

impl Write for TempFile {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.hash.is_none() {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let room = digest::BUFFER - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        self.size += n as u64;
        if self.buf.len() == digest::BUFFER {
            self.flush_full()?;
        }
        Ok(n)
    }

    /// Bytes stay buffered until the buffer is full or the file is
    /// finished, since each buffer is hashed as written.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            self.file = None;
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Copies `src` unchanged into a temporary file beside `dest`.
pub(crate) fn copy_plain(src: &Path, dest: &Path) -> anyhow::Result<TempFile> {
    let mut input = File::open(src)
        .with_context(|| format!("failed to open {}", src.display()))?;
    let mut tmp = TempFile::create(dest)?;
    io::copy(&mut input, &mut tmp)
        .with_context(|| format!("failed to copy {}", src.display()))?;
    tmp.finish()?;
    Ok(tmp)
}

fn set_file_times(file: &File, at: Timestamp) -> io::Result<()> {
    let time = system_time(at);
    file.set_times(FileTimes::new().set_modified(time).set_accessed(time))
}

/// Converts a timestamp to a `SystemTime`, before or after 1970.
fn system_time(at: Timestamp) -> SystemTime {
    let secs = at.as_second();
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// Removes temporary files a crashed run left in `dir`.
pub(crate) fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(TEMP_PREFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_file_hashes_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.bin");
        let mut tmp = TempFile::create(&dest).unwrap();
        tmp.write_all(b"abc").unwrap();
        tmp.finish().unwrap();
        // SHA-1("abc") from FIPS 180-2 appendix A.1.
        assert_eq!(tmp.sha1_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let at = Timestamp::from_second(946_684_800).unwrap();
        tmp.persist(&dest, Some(at)).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"abc");
        let meta = std::fs::metadata(&dest).unwrap();
        let mtime = meta.modified().unwrap();
        assert_eq!(mtime, UNIX_EPOCH + Duration::from_secs(946_684_800));
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file remains");
    }

    #[test]
    fn dropped_temp_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = TempFile::create(&dir.path().join("x")).unwrap();
        let path = tmp.path().to_path_buf();
        assert!(path.exists());
        drop(tmp);
        assert!(!path.exists());
    }

    #[test]
    fn large_files_are_written_whole_and_hashed_in_order() {
        use sha1::{Digest, Sha1};
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("big.bin");
        let data: Vec<u8> =
            (0..3 * digest::BUFFER + 777).map(|i| (i % 253) as u8).collect();
        let mut tmp = TempFile::create(&dest).unwrap();
        // Odd-sized writes cross the buffer boundaries.
        for chunk in data.chunks(100_003) {
            tmp.write_all(chunk).unwrap();
        }
        tmp.finish().unwrap();
        assert!(tmp.write(b"late").is_err(), "no byte after finish");
        let want: String =
            Sha1::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tmp.sha1_hex(), want);
        assert_eq!(tmp.size(), data.len() as u64);
        tmp.persist(&dest, None).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), data);
    }

    #[test]
    fn abandoned_large_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut tmp = TempFile::create(&dir.path().join("x")).unwrap();
        tmp.write_all(&vec![7; 2 * digest::BUFFER + 1]).unwrap();
        let path = tmp.path().to_path_buf();
        drop(tmp);
        assert!(!path.exists());
    }
}
