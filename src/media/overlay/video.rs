//! Burns an overlay into a video with ffmpeg (metadata.md §11.3) or
//! builds the two-track MKV (§11.4). ffprobe reads the source's streams
//! first and checks the result last.
//!
//! The overlay is scaled natively to the display size into a scratch PNG;
//! ffmpeg decodes with autorotation, so the frames it blends are upright
//! and the output needs no display matrix.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, RgbaImage};
use serde_json::Value;

use super::{layer, tool, MkvTags, VideoMode};

/// Pads odd frame sizes to even ones, which `yuv420p` needs (§11.3).
const EVEN: &str = "pad=ceil(iw/2)*2:ceil(ih/2)*2";

/// Burns `overlay` into the video `base` and writes `out`: an H.264 MP4
/// (metadata.md §11.3) or a two-track MKV tagged with `tags` (§11.4).
///
/// The scaled overlay is a temporary PNG in `scratch`, removed before
/// returning. Each ffmpeg and ffprobe run is limited to 300 s. Errors
/// carry ffmpeg's (or ffprobe's) last error line; `out` is removed then.
pub(crate) fn burn_video(
    base: &Path,
    overlay: &Path,
    out: &Path,
    mode: VideoMode,
    tags: &MkvTags,
    scratch: &Path,
) -> Result<(), String> {
    let source = Streams::probe(base)?;
    let video = source
        .video
        .first()
        .ok_or_else(|| format!("no video stream in {}", base.display()))?;
    let (width, height) = video.display_size()?;
    layer::check_size(width, height)?;
    let layer = layer::fit(layer::load(overlay)?, width, height);
    let png = ScratchPng::write(scratch, &layer)?;
    let job = Job { base, png: png.path(), out, mode, tags, video };
    let result = tool::run("ffmpeg", &job.args(&source.audio), tool::LIMIT)
        .and_then(|_| check(out, mode, &source));
    if result.is_err() {
        let _ = std::fs::remove_file(out);
    }
    result
}

/// Checks the result with ffprobe: one video stream (two for MKV), and
/// audio when the source had audio (§11.3 step 4, §11.4).
fn check(out: &Path, mode: VideoMode, source: &Streams) -> Result<(), String> {
    let made = Streams::probe(out)?;
    let want = match mode {
        VideoMode::Mp4 => 1,
        VideoMode::Mkv => 2,
    };
    if made.video.len() != want {
        return Err(format!(
            "ffmpeg output has {} video streams instead of {want}",
            made.video.len()
        ));
    }
    if !source.audio.is_empty() && made.audio.is_empty() {
        return Err("ffmpeg output has no audio stream".to_string());
    }
    Ok(())
}

/// The streams of a file as ffprobe reports them.
#[derive(Debug, Default)]
struct Streams {
    /// Video streams, cover pictures excluded.
    video: Vec<Video>,
    audio: Vec<Audio>,
}

/// A video stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Video {
    /// Index among all streams of the file.
    index: u64,
    width: u32,
    height: u32,
    /// Rotation in degrees from the display matrix or `rotate` tag.
    rotation: i64,
}

/// An audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Audio {
    index: u64,
    codec: String,
}

impl Streams {
    /// Runs ffprobe on `path`.
    fn probe(path: &Path) -> Result<Streams, String> {
        let mut args: Vec<OsString> = ["-v", "error", "-show_streams"]
            .into_iter()
            .chain(["-of", "json"])
            .map(OsString::from)
            .collect();
        args.push(path.as_os_str().to_owned());
        let json = tool::run("ffprobe", &args, tool::LIMIT)?;
        Streams::from_json(&json)
    }

    /// Reads ffprobe's `-show_streams -of json` output.
    fn from_json(json: &[u8]) -> Result<Streams, String> {
        let doc: Value = serde_json::from_slice(json)
            .map_err(|e| format!("ffprobe output unreadable: {e}"))?;
        let list = doc.get("streams").and_then(Value::as_array);
        let mut streams = Streams::default();
        for s in list.ok_or("ffprobe output has no stream list")? {
            let index = s.get("index").and_then(Value::as_u64).unwrap_or(0);
            let attached = s.pointer("/disposition/attached_pic");
            match s.get("codec_type").and_then(Value::as_str) {
                Some("video")
                    if attached.and_then(Value::as_u64) != Some(1) =>
                {
                    let size = |key: &str| {
                        let v = s.get(key).and_then(Value::as_u64).unwrap_or(0);
                        u32::try_from(v).unwrap_or(0)
                    };
                    streams.video.push(Video {
                        index,
                        width: size("width"),
                        height: size("height"),
                        rotation: rotation(s),
                    });
                }
                Some("audio") => {
                    let codec = s.get("codec_name").and_then(Value::as_str);
                    let codec = codec.unwrap_or_default().to_string();
                    streams.audio.push(Audio { index, codec });
                }
                _ => {}
            }
        }
        Ok(streams)
    }
}

/// Returns a stream's rotation: the display matrix's (ffmpeg 5 and
/// later), else the legacy `rotate` tag, else 0.
fn rotation(stream: &Value) -> i64 {
    let side_data = stream.get("side_data_list").and_then(Value::as_array);
    let from_matrix = side_data
        .into_iter()
        .flatten()
        .find_map(|d| d.get("rotation").and_then(Value::as_f64));
    let from_tag = || {
        let tag = stream.pointer("/tags/rotate").and_then(Value::as_str)?;
        tag.trim().parse::<f64>().ok()
    };
    from_matrix.or_else(from_tag).map_or(0, |r| r.round() as i64)
}

impl Video {
    /// Returns the size of the upright frames, each side rounded up to an
    /// even number (§11.3 step 1).
    fn display_size(&self) -> Result<(u32, u32), String> {
        if self.width == 0 || self.height == 0 {
            return Err("video stream has no size".to_string());
        }
        let (w, h) = if self.is_quarter_turn() {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        };
        Ok((w + w % 2, h + h % 2))
    }

    /// Returns true when the display is turned by 90° or 270°.
    fn is_quarter_turn(&self) -> bool {
        self.rotation.rem_euclid(180) == 90
    }

    /// Returns true when the display is turned at all.
    fn is_rotated(&self) -> bool {
        self.rotation.rem_euclid(360) != 0
    }
}

/// One ffmpeg run.
struct Job<'a> {
    base: &'a Path,
    png: &'a Path,
    out: &'a Path,
    mode: VideoMode,
    tags: &'a MkvTags,
    video: &'a Video,
}

impl Job<'_> {
    /// Returns ffmpeg's arguments (§11.3 step 3, §11.4).
    fn args(&self, audio: &[Audio]) -> Vec<OsString> {
        let mut a = Args::default();
        a.add(&["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]);
        // One thread everywhere: decoders, filters and encoder (§11.3).
        a.add(&["-threads", "1", "-i"]).path(self.base);
        a.add(&["-threads", "1", "-i"]).path(self.png);
        a.add(&["-filter_complex", &self.graph()]);
        a.add(&["-filter_complex_threads", "1", "-map", "[burned]"]);
        self.add_original(&mut a);
        for stream in audio {
            a.add(&["-map", &format!("0:{}", stream.index)]);
        }
        a.add(&["-c:v:0", "libx264", "-pix_fmt:v:0", "yuv420p"]);
        a.add(&["-preset:v", "medium", "-crf:v", "18", "-threads", "1"]);
        self.add_audio_codecs(&mut a, audio);
        a.add(&["-map_metadata", "-1", "-map_chapters", "-1"]);
        a.add(&["-fflags", "+bitexact", "-flags:v", "+bitexact"]);
        a.add(&["-flags:a", "+bitexact"]);
        match self.mode {
            VideoMode::Mp4 => a.add(&["-movflags", "+faststart", "-f", "mp4"]),
            VideoMode::Mkv => {
                self.add_mkv_tags(&mut a).add(&["-f", "matroska"])
            }
        };
        a.path(self.out);
        a.0
    }

    /// Returns the filter graph: the upright video padded to even sizes
    /// with the overlay on top as `[burned]`; for an MKV of a rotated
    /// source also the upright original as `[upright]` (§11.4).
    fn graph(&self) -> String {
        let v = self.video.index;
        let burn = format!(
            "{EVEN}[base];[base][1:v]overlay=0:0,format=yuv420p[burned]"
        );
        if self.reencodes_original() {
            format!(
                "[0:{v}]split[main][orig];[main]{burn};\
                 [orig]{EVEN},format=yuv420p[upright]"
            )
        } else {
            format!("[0:{v}]{burn}")
        }
    }

    /// Returns true for an MKV whose original track cannot be copied: a
    /// rotated one is re-encoded upright (§11.4).
    fn reencodes_original(&self) -> bool {
        self.mode == VideoMode::Mkv && self.video.is_rotated()
    }

    /// Maps the MKV's second video track, copied or re-encoded.
    fn add_original(&self, a: &mut Args) {
        if self.mode != VideoMode::Mkv {
            return;
        }
        if self.reencodes_original() {
            a.add(&["-map", "[upright]", "-c:v:1", "libx264"]);
            a.add(&["-pix_fmt:v:1", "yuv420p"]);
        } else {
            let original = format!("0:{}", self.video.index);
            a.add(&["-map", &original, "-c:v:1", "copy"]);
        }
    }

    /// Copies each audio stream; an MP4 gets AAC or MP3 as is and other
    /// codecs encoded to AAC at 192 kbit/s (§11.3).
    fn add_audio_codecs(&self, a: &mut Args, audio: &[Audio]) {
        for (k, stream) in audio.iter().enumerate() {
            let copy = self.mode == VideoMode::Mkv
                || matches!(stream.codec.as_str(), "aac" | "mp3");
            if copy {
                a.add(&[&format!("-c:a:{k}"), "copy"]);
            } else {
                a.add(&[&format!("-c:a:{k}"), "aac"]);
                a.add(&[&format!("-b:a:{k}"), "192k"]);
            }
        }
    }

    /// Adds track titles, dispositions and container tags (§11.4).
    fn add_mkv_tags<'a>(&self, a: &'a mut Args) -> &'a mut Args {
        a.add(&["-metadata:s:v:0", "title=With Overlay"]);
        a.add(&["-metadata:s:v:1", "title=Original"]);
        a.add(&["-disposition:v:0", "default", "-disposition:v:1", "0"]);
        let tags = self.tags;
        let text = tags.description.as_deref();
        let pairs = [
            ("creation_time", tags.creation_time.as_deref()),
            ("DESCRIPTION", text),
            ("COMMENT", text),
            ("LOCATION", tags.location.as_deref()),
        ];
        for (key, value) in pairs {
            if let Some(value) = value {
                a.add(&["-metadata", &format!("{key}={value}")]);
            }
        }
        a
    }
}

/// A command line under construction.
#[derive(Default)]
struct Args(Vec<OsString>);

impl Args {
    /// Appends plain arguments.
    fn add(&mut self, items: &[&str]) -> &mut Args {
        self.0.extend(items.iter().map(OsString::from));
        self
    }

    /// Appends a path, which need not be UTF-8.
    fn path(&mut self, path: &Path) -> &mut Args {
        self.0.push(path.as_os_str().to_owned());
        self
    }
}

/// The scaled overlay as a temporary PNG; dropping it removes the file.
struct ScratchPng {
    path: PathBuf,
}

impl ScratchPng {
    /// Writes `layer` into a new file in `dir`. The name starts with
    /// `.memoria-tmp-`, so a crashed run's file is cleaned up like any
    /// temporary file (cli.md §7).
    fn write(dir: &Path, layer: &RgbaImage) -> Result<ScratchPng, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let path = dir.join(format!(".memoria-tmp-overlay-{pid}-{n}.png"));
        let mut bytes = Vec::new();
        let encoder = PngEncoder::new_with_quality(
            &mut bytes,
            CompressionType::Fast,
            FilterType::Adaptive,
        );
        let (width, height) = layer.dimensions();
        encoder
            .write_image(layer, width, height, ExtendedColorType::Rgba8)
            .map_err(|e| format!("failed to encode scaled overlay: {e}"))?;
        let png = ScratchPng { path };
        std::fs::write(&png.path, bytes).map_err(|e| {
            format!("failed to write {}: {e}", png.path.display())
        })?;
        Ok(png)
    }

    /// Returns where the PNG is.
    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchPng {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests;
