//! Snapchat overlays (metadata.md §11): composites an overlay PNG onto a
//! JPEG, PNG or WebP natively, or burns it into a video with ffmpeg.
//!
//! The results are plain files the caller hands to [`crate::media::write`]
//! for metadata; this module decides nothing about naming, fallbacks or
//! reports (§11.5 is the engine's). It uses nothing outside the media
//! layer.

mod exif_patch;
mod layer;
mod picture;
mod tool;
mod video;

#[cfg(test)]
mod testutil;

pub(crate) use picture::composite_image;
pub(crate) use video::burn_video;

/// How overlay videos are produced (`--overlay-video`, cli.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VideoMode {
    /// An H.264 MP4 with the overlay burned in (metadata.md §11.3).
    Mp4,
    /// A Matroska file with the burned-in and the original video tracks
    /// (metadata.md §11.4).
    Mkv,
}

/// Container tags of a two-track MKV (metadata.md §11.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MkvTags {
    /// The capture instant in UTC, e.g. `2021-01-04T23:08:30Z`.
    pub(crate) creation_time: Option<String>,
    /// The item's description, written as `DESCRIPTION` and `COMMENT`.
    pub(crate) description: Option<String>,
    /// The position as ISO 6709, e.g. `+40.5000-073.9000/`.
    pub(crate) location: Option<String>,
}

/// Returns true when `ffmpeg` and `ffprobe` both answer `-version` on
/// `PATH` (metadata.md §11.5).
///
/// The check runs once per process; later calls return the first answer.
pub(crate) fn has_ffmpeg() -> bool {
    static FOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        ["ffmpeg", "ffprobe"].iter().all(|tool| tool::answers_version(tool))
    })
}
