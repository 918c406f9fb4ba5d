//! Atomic output files: hidden temporary files in the destination folder
//! that hash what passes through them and are renamed into place.
//!
//! Temporary names are `.memoria-tmp-<pid>-<n>`; a file left by a crash is
//! removed by [`remove_stale_temps`] at the start of the next run into
//! that folder (cli.md §7).

use std::fs::{File, FileTimes};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use jiff::Timestamp;
use sha1::{Digest, Sha1};

/// Prefix of every temporary file memoria creates.
const TEMP_PREFIX: &str = ".memoria-tmp-";

/// A temporary file beside its destination that hashes its bytes.
///
/// Dropping it without [`TempFile::persist`] removes the file.
pub(crate) struct TempFile {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    hasher: Sha1,
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
        let out = Some(BufWriter::with_capacity(64 << 10, file));
        Ok(TempFile {
            path,
            out,
            hasher: Sha1::new(),
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

    /// Returns the lower-case hex SHA-1 of the bytes written so far.
    pub(crate) fn sha1_hex(&self) -> String {
        let digest = self.hasher.clone().finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Flushes buffered bytes to the file.
    pub(crate) fn finish(&mut self) -> anyhow::Result<()> {
        if let Some(out) = self.out.as_mut() {
            out.flush().with_context(|| {
                format!("failed to write {}", self.path.display())
            })?;
        }
        Ok(())
    }

    /// Flushes, sets the times and renames the file onto `dest`.
    pub(crate) fn persist(
        mut self,
        dest: &Path,
        mtime: Option<Timestamp>,
    ) -> anyhow::Result<()> {
        self.finish()?;
        let file = self
            .out
            .take()
            .expect("persist is called once on an open file")
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("failed to write {}", dest.display()))?;
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
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let out = self.out.as_mut().ok_or(io::ErrorKind::BrokenPipe)?;
        let n = out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().map_or(Ok(()), |out| out.flush())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            self.out = None;
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
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("big.bin");
        let data: Vec<u8> =
            (0..3 * (1 << 20) + 777).map(|i| (i % 253) as u8).collect();
        let mut tmp = TempFile::create(&dest).unwrap();
        // Odd-sized writes cross the buffer boundaries.
        for chunk in data.chunks(100_003) {
            tmp.write_all(chunk).unwrap();
        }
        tmp.finish().unwrap();
        let want: String =
            Sha1::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tmp.sha1_hex(), want);
        assert_eq!(tmp.size(), data.len() as u64);
        tmp.persist(&dest, None).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), data);
    }
}
