//! The media layer: one entry point that writes a file with its metadata.
//!
//! [`write()`] copies a source to its destination with dates, GPS and a
//! description embedded natively (or in an XMP sidecar for containers that
//! cannot carry them), atomically: bytes go to a hidden temporary file in
//! the destination folder, are verified, then renamed into place. The SHA-1
//! of the final bytes is computed while they are written. This layer knows
//! nothing of platforms.

pub(crate) mod bmff;
pub(crate) mod exif;
pub(crate) mod heif;
pub(crate) mod jpeg;
pub(crate) mod kind;
pub(crate) mod model;
pub(crate) mod overlay;
pub(crate) mod png;
pub(crate) mod read;
pub(crate) mod sniff;
mod store;
pub(crate) mod stream;
pub(crate) mod webp;
pub(crate) mod xmp;

use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::Timestamp;

use model::{Applied, EmbedError, Existing, FieldOutcome, Metadata};
pub(crate) use store::TempFile;
pub(crate) use store::{copy_plain, remove_stale_temps};

/// How the metadata of a written file was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Inside the file.
    InFile,
    /// In an XMP sidecar because the container cannot carry it.
    Sidecar,
    /// In an XMP sidecar because the in-file write failed or was unsafe.
    SidecarFallback,
}

impl Route {
    /// Returns the name used in `report.json`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Route::InFile => "in-file",
            Route::Sidecar => "sidecar",
            Route::SidecarFallback => "sidecar-fallback",
        }
    }
}

/// What [`write()`] produced.
#[derive(Clone, Debug)]
pub(crate) struct Written {
    /// Size of the media file in bytes.
    pub(crate) size: u64,
    /// Lower-case hex SHA-1 of the media file's bytes.
    pub(crate) sha1: String,
    /// Where the metadata went.
    pub(crate) route: Route,
    /// Per-field outcome (for sidecars: what the sidecar carries).
    pub(crate) applied: Applied,
    /// The sidecar written beside the media, if any.
    pub(crate) sidecar: Option<PathBuf>,
    /// Problems worth recording (`metadata in sidecar: <reason>`).
    pub(crate) warnings: Vec<String>,
}

/// The in-file writers, chosen by the corrected extension.
#[derive(Clone, Copy, Debug)]
enum Container {
    Jpeg,
    Png,
    Webp,
    Bmff,
    Heif,
}

impl Container {
    /// Returns the writer for extension `ext`, or `None` for the sidecar
    /// containers of metadata.md §6.
    fn of(ext: &str) -> Option<Container> {
        match ext {
            "jpg" | "jpeg" => Some(Container::Jpeg),
            "png" => Some(Container::Png),
            "webp" => Some(Container::Webp),
            "mp4" | "mov" | "m4v" | "3gp" | "m4a" => Some(Container::Bmff),
            "heic" | "heif" | "avif" => Some(Container::Heif),
            _ => None,
        }
    }

    fn embed(
        self,
        src: &mut BufReader<File>,
        out: &mut dyn Write,
        meta: &Metadata,
    ) -> Result<Applied, EmbedError> {
        let mut out = out;
        match self {
            Container::Jpeg => jpeg::embed(src, &mut out, meta),
            Container::Png => png::embed(src, &mut out, meta),
            Container::Webp => webp::embed(src, &mut out, meta),
            Container::Bmff => bmff::embed(src, &mut out, meta),
            Container::Heif => heif::embed(src, &mut out, meta),
        }
    }

    fn validate(self, file: &mut BufReader<File>) -> Result<(), String> {
        match self {
            Container::Jpeg => jpeg::validate(file),
            Container::Png => png::validate(file),
            Container::Webp => webp::validate(file),
            Container::Bmff => bmff::validate(file),
            Container::Heif => heif::validate(file),
        }
    }
}

/// Writes `src` to `dest` with `meta` embedded, atomically.
///
/// `existing` is what the source already carries (see [`read::existing`]);
/// it decides what a sidecar must hold. The container is chosen by the
/// extension of `dest`. When the in-file write is impossible or fails
/// verification, the source bytes are written unchanged and the metadata
/// goes to `<dest>.xmp` (metadata.md §9). `mtime` is set last on the media
/// and its sidecar. Errors are I/O failures; nothing half-written remains.
pub(crate) fn write(
    src: &Path,
    dest: &Path,
    meta: &Metadata,
    existing: &Existing,
    mtime: Option<Timestamp>,
) -> anyhow::Result<Written> {
    let ext = extension(dest);
    let mut warnings = Vec::new();
    let (tmp, applied, route) = match Container::of(&ext) {
        Some(container) => match write_in_file(src, dest, container, meta)? {
            Ok((tmp, applied)) => (tmp, applied, Route::InFile),
            Err(reason) => {
                warnings.push(format!("metadata in sidecar: {reason}"));
                (copy_plain(src, dest)?, sidecar_applied(meta, existing), {
                    Route::SidecarFallback
                })
            }
        },
        None => (
            copy_plain(src, dest)?,
            sidecar_applied(meta, existing),
            Route::Sidecar,
        ),
    };
    let (size, sha1) = (tmp.size(), tmp.sha1_hex());
    tmp.persist(dest, mtime)?;
    let sidecar = match route {
        Route::InFile => {
            remove_sidecar(dest)?;
            None
        }
        Route::Sidecar | Route::SidecarFallback => {
            write_sidecar(dest, meta, existing, mtime)?
        }
    };
    Ok(Written { size, sha1, route, applied, sidecar, warnings })
}

/// Embeds in-file into a temporary file and verifies it. The inner error
/// is the reason to fall back to a sidecar; the outer one an I/O failure.
fn write_in_file(
    src: &Path,
    dest: &Path,
    container: Container,
    meta: &Metadata,
) -> anyhow::Result<Result<(TempFile, Applied), String>> {
    let mut input = open(src)?;
    let mut tmp = TempFile::create(dest)?;
    let applied = match container.embed(&mut input, &mut tmp, meta) {
        Ok(applied) => applied,
        Err(EmbedError::Io(err)) => {
            return Err(err).with_context(|| {
                format!("failed to write {}", dest.display())
            });
        }
        Err(other) => return Ok(Err(other.to_string())),
    };
    tmp.finish()?;
    match verify(tmp.path(), container, meta, &applied) {
        Ok(()) => Ok(Ok((tmp, applied))),
        Err(reason) => Ok(Err(format!("verification failed: {reason}"))),
    }
}

/// Re-parses a written file: the structure must be valid and every value
/// memoria wrote must read back as intended (metadata.md §9 step 3).
fn verify(
    path: &Path,
    container: Container,
    meta: &Metadata,
    applied: &Applied,
) -> Result<(), String> {
    let mut file = open(path).map_err(|e| format!("{e:#}"))?;
    container.validate(&mut file)?;
    file.rewind().map_err(|e| e.to_string())?;
    let back = match container {
        Container::Bmff => bmff::read(&mut file)?,
        _ => read::exif_existing(&mut file)?,
    };
    check_read_back(meta, applied, &back)
}

/// Compares what was read back with what was written.
fn check_read_back(
    meta: &Metadata,
    applied: &Applied,
    back: &Existing,
) -> Result<(), String> {
    if applied.dates != FieldOutcome::None && back.date.is_none() {
        return Err("date does not read back".to_string());
    }
    if applied.gps == FieldOutcome::Written {
        let (Some(want), Some(got)) = (meta.gps, back.gps) else {
            return Err("position does not read back".to_string());
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-4;
        if !close(want.latitude, got.latitude)
            || !close(want.longitude, got.longitude)
        {
            return Err("position reads back differently".to_string());
        }
    }
    if applied.description == FieldOutcome::Written {
        let want = meta.description.as_deref().map(str::trim);
        if back.description.as_deref() != want {
            return Err("description reads back differently".to_string());
        }
    }
    Ok(())
}

/// Returns what a sidecar for `meta` will carry, as per-field outcomes.
fn sidecar_applied(meta: &Metadata, existing: &Existing) -> Applied {
    let field = |want: bool, have: bool| match (want, have) {
        (true, false) => FieldOutcome::Written,
        (_, true) => FieldOutcome::Kept,
        (false, false) => FieldOutcome::None,
    };
    let keep_desc = meta.description_policy
        == model::DescriptionPolicy::KeepIfPresent
        && existing.description.is_some();
    Applied {
        dates: field(meta.date.is_some(), existing.date.is_some()),
        gps: field(meta.gps.is_some(), existing.gps.is_some()),
        description: field(meta.description.is_some(), keep_desc),
        exif_rebuilt: false,
    }
}

/// Writes `<dest>.xmp` when the metadata needs one; removes a stale one
/// otherwise (metadata.md §7).
fn write_sidecar(
    dest: &Path,
    meta: &Metadata,
    existing: &Existing,
    mtime: Option<Timestamp>,
) -> anyhow::Result<Option<PathBuf>> {
    let Some(xml) = xmp::sidecar(meta, existing) else {
        remove_sidecar(dest)?;
        return Ok(None);
    };
    let path = sidecar_path(dest);
    let mut tmp = TempFile::create(&path)?;
    tmp.write_all(xml.as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))?;
    tmp.finish()?;
    tmp.persist(&path, mtime)?;
    Ok(Some(path))
}

/// Removes a sidecar left by an earlier run.
fn remove_sidecar(dest: &Path) -> anyhow::Result<()> {
    let path = sidecar_path(dest);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e)
            .with_context(|| format!("failed to remove {}", path.display())),
    }
}

/// Returns `<dest>.xmp`.
pub(crate) fn sidecar_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".xmp");
    PathBuf::from(name)
}

/// Returns the lower-case extension of `path` without the dot.
fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Opens `path` for buffered reading.
fn open(path: &Path) -> anyhow::Result<BufReader<File>> {
    let file = File::open(path)
        .with_context(|| format!("failed to open {}", path.display()))?;
    Ok(BufReader::with_capacity(256 * 1024, file))
}

/// Reads up to `n` leading bytes of `path` (for content sniffing).
pub(crate) fn head(path: &Path, n: usize) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    let file = File::open(path)
        .with_context(|| format!("failed to open {}", path.display()))?;
    file.take(n as u64)
        .read_to_end(&mut buf)
        .with_context(|| format!("failed to read {}", path.display()))?;
    Ok(buf)
}
