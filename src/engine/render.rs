//! Snapchat overlays in the engine (metadata.md §11): how each item's
//! overlay is applied, and rendering it before the media layer embeds the
//! metadata.
//!
//! Images (JPEG, PNG, WebP) are composited natively; videos are burned in
//! with ffmpeg as MP4 or written as a two-track MKV (`--overlay-video`).
//! Anything else, a missing ffmpeg, or a render that fails writes the
//! media unchanged under its fallback name with the overlay kept beside
//! it as `<name>.overlay.png`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use jiff::Timestamp;

use crate::media::kind::{self, Class};
use crate::media::model::{Existing, Metadata};
use crate::media::overlay::{self, MkvTags, VideoMode};
use crate::media::{self, Written};

/// How an item's overlay is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Way {
    /// Composited into the image natively.
    Image,
    /// Rendered with ffmpeg in the given mode.
    Video(VideoMode),
    /// Written unchanged; the overlay is kept beside the media.
    Beside,
}

impl Way {
    /// Returns how an overlay is applied to media whose final extension
    /// is `ext`, given the mode and whether ffmpeg is on the PATH.
    pub(crate) fn of(ext: &str, mode: VideoMode, ffmpeg: bool) -> Way {
        match (ext, kind::class_of_ext(ext)) {
            ("jpg" | "png" | "webp", _) => Way::Image,
            (_, Some(Class::Video)) if ffmpeg => Way::Video(mode),
            _ => Way::Beside,
        }
    }

    /// Returns the extension of the file this way produces from media
    /// with extension `ext`.
    pub(crate) fn output_ext(self, ext: &str) -> &str {
        match self {
            Way::Video(VideoMode::Mp4) => "mp4",
            Way::Video(VideoMode::Mkv) => "mkv",
            Way::Image | Way::Beside => ext,
        }
    }
}

/// An item's overlay and the names reserved for it.
#[derive(Clone, Debug)]
pub(crate) struct Overlay {
    /// The overlay PNG.
    pub(crate) png: PathBuf,
    /// The overlay's path relative to the export (for reports).
    pub(crate) input: String,
    /// How it is applied.
    pub(crate) way: Way,
    /// The overlay's extension by content (`png`).
    pub(crate) ext: String,
    /// Whether it is a still image that can be composited.
    pub(crate) still: bool,
    /// Output path (relative to the export's output root) used when the
    /// overlay cannot be applied.
    pub(crate) fallback_output: String,
    /// Absolute form of `fallback_output`.
    pub(crate) fallback_dest: PathBuf,
}

/// What writing one item produced.
#[derive(Debug)]
pub(crate) struct Done {
    /// What the media layer wrote.
    pub(crate) written: Written,
    /// The output actually written (the fallback name after a failed
    /// render), relative to the export's output root.
    pub(crate) output: String,
    /// The overlay input and its `report.json` result.
    pub(crate) overlay: Option<(String, &'static str)>,
}

/// The media layer's write of one file, with or without an overlay.
pub(crate) struct Target<'a> {
    /// The input media.
    pub(crate) src: &'a Path,
    /// Where it goes.
    pub(crate) dest: &'a Path,
    /// Its output path relative to the output root.
    pub(crate) output: &'a str,
    /// Metadata to embed.
    pub(crate) meta: &'a Metadata,
    /// What the input already carries.
    pub(crate) existing: &'a Existing,
    /// Modification time to set.
    pub(crate) mtime: Option<Timestamp>,
}

/// Writes `target`, rendering `overlay` first; a render that fails falls
/// back to the unchanged media with the overlay beside it (metadata.md
/// §11.5). Errors are I/O failures of the final write.
pub(crate) fn write(
    target: &Target,
    overlay: &Overlay,
    scratch: &Path,
) -> anyhow::Result<Done> {
    let rendered = match overlay.way {
        Way::Beside => {
            let moving = "the overlay is not a still image".to_string();
            return beside(target, overlay, (!overlay.still).then_some(moving));
        }
        way => render(target, overlay, way, scratch),
    };
    let (tmp, result) = match rendered {
        Ok(done) => done,
        Err(reason) => return beside(target, overlay, Some(reason)),
    };
    // ffmpeg drops every tag, so a rendered video carries nothing; a
    // composite keeps the base's EXIF.
    let empty = Existing::default();
    let existing = match overlay.way {
        Way::Video(_) => &empty,
        _ => target.existing,
    };
    let written =
        media::write(&tmp, target.dest, target.meta, existing, target.mtime);
    let _ = std::fs::remove_file(&tmp);
    Ok(Done {
        written: written?,
        output: target.output.to_string(),
        overlay: Some((overlay.input.clone(), result)),
    })
}

/// Renders the overlay into a hidden file beside the destination and
/// returns it with the `report.json` result name.
fn render(
    target: &Target,
    overlay: &Overlay,
    way: Way,
    scratch: &Path,
) -> Result<(PathBuf, &'static str), String> {
    let ext = target.dest.extension().and_then(|e| e.to_str()).unwrap_or("");
    let tmp = render_path(target.dest, ext);
    let result = match way {
        Way::Image => overlay::composite_image(target.src, &overlay.png, &tmp)
            .map(|()| "composited"),
        Way::Video(mode) => {
            let tags = mkv_tags(target.meta);
            overlay::burn_video(
                target.src,
                &overlay.png,
                &tmp,
                mode,
                &tags,
                scratch,
            )
            .map(|()| {
                if mode == VideoMode::Mp4 {
                    "burned-in"
                } else {
                    "mkv"
                }
            })
        }
        Way::Beside => Err("nothing to render".to_string()),
    };
    match result {
        Ok(name) => Ok((tmp, name)),
        Err(reason) => {
            let _ = std::fs::remove_file(&tmp);
            Err(reason)
        }
    }
}

/// Writes the media unchanged under its fallback name and copies the
/// overlay beside it as `<name>.overlay.<ext>` with the same times.
fn beside(
    target: &Target,
    overlay: &Overlay,
    failure: Option<String>,
) -> anyhow::Result<Done> {
    let dest = &overlay.fallback_dest;
    let mut written = media::write(
        target.src,
        dest,
        target.meta,
        target.existing,
        target.mtime,
    )?;
    let mut name = dest.as_os_str().to_owned();
    name.push(format!(".overlay.{}", overlay.ext));
    let png_dest = PathBuf::from(name);
    let tmp = media::copy_plain(&overlay.png, &png_dest)?;
    tmp.persist(&png_dest, target.mtime)
        .with_context(|| format!("failed to keep {}", overlay.input))?;
    if let Some(reason) = failure {
        written.warnings.push(format!("overlay not applied: {reason}"));
    }
    Ok(Done {
        written,
        output: overlay.fallback_output.clone(),
        overlay: Some((overlay.input.clone(), "kept-beside")),
    })
}

/// Returns the extension of overlay `path` by content and whether it is
/// a still image: PNG, JPEG or a WebP without animation. Animated WebP,
/// GIF and video overlays are kept beside the media instead (platforms.md
/// §9b.6). An unreadable overlay counts as a still PNG, so that the
/// render reports why it failed.
pub(crate) fn overlay_kind(path: &Path) -> (String, bool) {
    let Ok(head) = media::head(path, 64) else {
        return ("png".to_string(), true);
    };
    match crate::media::sniff::detect(&head) {
        Some(ext @ ("png" | "jpg")) => (ext.to_string(), true),
        // VP8X flags (byte 20): bit 1 marks an animation.
        Some("webp") => {
            let animated = head.get(12..16) == Some(b"VP8X")
                && head.get(20).is_some_and(|flags| flags & 0x02 != 0);
            ("webp".to_string(), !animated)
        }
        Some(ext) => (ext.to_string(), false),
        None => ("png".to_string(), true),
    }
}

/// Returns the MKV container tags of metadata.md §11.4.
fn mkv_tags(meta: &Metadata) -> MkvTags {
    MkvTags {
        creation_time: meta
            .date
            .map(|d| d.instant().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        description: meta.description.clone(),
        location: meta.gps.as_ref().map(media::bmff::iso6709),
    }
}

/// Returns a hidden path beside `dest` for a render, removed after use
/// or, after a crash, by the next run's clean-up of `.memoria-tmp-*`.
fn render_path(dest: &Path, ext: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = format!(".memoria-tmp-render-{}-{n}.{ext}", std::process::id());
    dest.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlays_are_applied_by_media_class() {
        let mp4 = VideoMode::Mp4;
        assert_eq!(Way::of("jpg", mp4, false), Way::Image);
        assert_eq!(Way::of("webp", mp4, true), Way::Image);
        assert_eq!(Way::of("gif", mp4, true), Way::Beside);
        assert_eq!(Way::of("heic", mp4, true), Way::Beside);
        assert_eq!(Way::of("mov", mp4, true), Way::Video(mp4));
        assert_eq!(Way::of("mov", mp4, false), Way::Beside);
        assert_eq!(Way::Video(VideoMode::Mkv).output_ext("mp4"), "mkv");
        assert_eq!(Way::Video(mp4).output_ext("mov"), "mp4");
        assert_eq!(Way::Beside.output_ext("mov"), "mov");
    }

    #[test]
    fn only_still_overlays_can_be_composited() {
        let dir = tempfile::tempdir().unwrap();
        let kind = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            overlay_kind(&path)
        };
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(kind("a.png", png), ("png".into(), true));
        // Extended WebP: VP8X chunk, flags byte 20 (0x02 = animation).
        let webp = |flags: u8| {
            let mut b = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
            b.extend_from_slice(&[flags, 0, 0, 0, 1, 0, 0, 1, 0, 0]);
            b
        };
        assert_eq!(kind("still.webp", &webp(0x10)), ("webp".into(), true));
        assert_eq!(kind("moving.webp", &webp(0x12)), ("webp".into(), false));
        assert_eq!(kind("a.gif", b"GIF89a\x01\0\x01\0"), ("gif".into(), false));
        let mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isommp41";
        assert_eq!(kind("a.png", mp4), ("mp4".into(), false));
    }
}
