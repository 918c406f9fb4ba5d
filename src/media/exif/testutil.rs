//! Test support for the EXIF writer and its containers: metadata values,
//! generated fixtures, independent readers (kamadak-exif in-process,
//! exiftool as a subprocess) and a seeded byte mutator for fuzz-ish tests.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use jiff::tz::Offset;
use serde_json::{Map, Value};

use crate::media::model::{DescriptionPolicy, Gps, Metadata, Stamp};

/// Folder of real camera JPEGs kept beside the repository (not committed:
/// they are shared samples); tests that need them are skipped, with a
/// message, on machines that do not have the folder.
pub(crate) const CAMERA: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples/camera");

/// The date every test writes: 2021-01-04 18:08:30 at -05:00.
pub(crate) fn stamp() -> Stamp {
    let local = jiff::civil::date(2021, 1, 4).at(18, 8, 30, 0);
    let offset = Offset::from_seconds(-5 * 3600).expect("valid offset");
    Stamp { local, offset }
}

/// The description every test writes: two lines, non-ASCII, quotes.
pub(crate) const TEXT: &str = "Source: Snapchat/jané\n\"second\" line ✓";

/// Returns metadata with a date, 40.5 N 73.9 W 12.3 m and [`TEXT`].
pub(crate) fn full_meta(policy: DescriptionPolicy) -> Metadata {
    let gps = Gps { latitude: 40.5, longitude: -73.9, altitude: Some(12.3) };
    Metadata {
        date: Some(stamp()),
        gps: Some(gps),
        description: Some(TEXT.to_string()),
        description_policy: policy,
    }
}

/// Returns metadata that asks for nothing.
pub(crate) fn empty_meta() -> Metadata {
    Metadata {
        date: None,
        gps: None,
        description: None,
        description_policy: DescriptionPolicy::KeepIfPresent,
    }
}

/// Returns a small RGB test image encoded as `format`.
pub(crate) fn encoded_image(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(24, 16, |x, y| {
        image::Rgb([(x * 10) as u8, (y * 15) as u8, 128])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode test image");
    out.into_inner()
}

/// Returns `bytes` after `exiftool <args>` wrote into them (fixtures
/// with camera-like metadata).
pub(crate) fn with_exiftool(bytes: &[u8], args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fixture.jpg");
    std::fs::write(&path, bytes).expect("write fixture");
    let status = Command::new("exiftool")
        .args(args)
        .args(["-q", "-overwrite_original"])
        .arg(&path)
        .status()
        .expect("exiftool is required by the tests (see .ci/run)");
    assert!(status.success(), "exiftool {args:?}");
    std::fs::read(&path).expect("read fixture")
}

/// Returns every camera sample JPEG, orientation set included, or none
/// when the shared samples folder is absent.
pub(crate) fn camera_samples() -> Vec<PathBuf> {
    let mut files = Vec::new();
    if !Path::new(CAMERA).is_dir() {
        eprintln!("camera samples not found at {CAMERA}; skipping them");
        return files;
    }
    for dir in [PathBuf::from(CAMERA), Path::new(CAMERA).join("orientation")] {
        let entries = std::fs::read_dir(&dir).expect("camera samples folder");
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.extension().is_some_and(|e| e == "jpg") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 30, "camera samples missing in {CAMERA}");
    files
}

/// Reads the EXIF of a container with kamadak-exif.
pub(crate) fn kamadak(bytes: &[u8]) -> ::exif::Exif {
    ::exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .expect("kamadak-exif reads the exif back")
}

/// Returns kamadak-exif's display value of `tag` in IFD `ifd` (0 or 1).
pub(crate) fn field(
    exif: &::exif::Exif,
    tag: ::exif::Tag,
    ifd: u16,
) -> Option<String> {
    let ifd = ::exif::In(ifd);
    exif.get_field(tag, ifd).map(|f| f.display_value().to_string())
}

/// Returns every field as (tag, ifd, debug value) for equality checks.
/// UNDEFINED values are shown without the position kamadak-exif records,
/// which moves with a rewritten IFD.
pub(crate) fn all_fields(
    exif: &::exif::Exif,
) -> Vec<(::exif::Tag, u16, String)> {
    let show = |v: &::exif::Value| match v {
        ::exif::Value::Undefined(bytes, _) => format!("Undefined({bytes:?})"),
        other => format!("{other:?}"),
    };
    exif.fields().map(|f| (f.tag, f.ifd_num.0, show(&f.value))).collect()
}

/// Asserts that kamadak-exif reads back from a container what
/// [`full_meta`] writes into an empty one.
pub(crate) fn assert_full_meta(bytes: &[u8]) {
    assert_full_exif(&kamadak(bytes));
}

/// Asserts the same of a raw TIFF block.
pub(crate) fn assert_full_meta_tiff(tiff: &[u8]) {
    let exif = ::exif::Reader::new().read_raw(tiff.to_vec());
    assert_full_exif(&exif.expect("kamadak-exif reads the block"));
}

/// Asserts that `exif` holds every value of [`full_meta`].
fn assert_full_exif(exif: &::exif::Exif) {
    use ::exif::Tag;
    let text = |tag| field(exif, tag, 0).unwrap_or_default();
    for tag in [Tag::DateTime, Tag::DateTimeOriginal, Tag::DateTimeDigitized] {
        assert_eq!(text(tag), "2021-01-04 18:08:30", "{tag}");
    }
    for tag in
        [Tag::OffsetTime, Tag::OffsetTimeOriginal, Tag::OffsetTimeDigitized]
    {
        assert_eq!(text(tag), "\"-05:00\"", "{tag}");
    }
    assert_eq!(text(Tag::GPSLatitudeRef), "N");
    assert_eq!(text(Tag::GPSLongitudeRef), "W");
    assert_eq!(text(Tag::GPSLatitude), "40 deg 30 min 0 sec");
    assert_eq!(text(Tag::GPSLongitude), "73 deg 54 min 0 sec");
    assert_eq!(text(Tag::GPSAltitude), "12.3");
    assert_eq!(text(Tag::GPSVersionID), "2.3.0.0");
    assert_eq!(description(exif).as_deref(), Some(TEXT));
}

/// Returns `ImageDescription` decoded as UTF-8.
pub(crate) fn description(exif: &::exif::Exif) -> Option<String> {
    let f =
        exif.get_field(::exif::Tag::ImageDescription, ::exif::In::PRIMARY)?;
    match &f.value {
        ::exif::Value::Ascii(parts) => {
            Some(String::from_utf8_lossy(parts.first()?).into_owned())
        }
        _ => None,
    }
}

/// Runs `exiftool -j -n -G1 -a -b` on `path` and returns its object
/// (`-b` puts binary values such as thumbnails in, as base64).
pub(crate) fn exiftool(path: &Path) -> Map<String, Value> {
    let out = Command::new("exiftool")
        .args(["-j", "-n", "-G1", "-a", "-b"])
        .arg(path)
        .output()
        .expect(
            "exiftool must be installed (/usr/bin/exiftool) for these tests",
        );
    assert!(out.status.success(), "exiftool failed on {}", path.display());
    let json: Value =
        serde_json::from_slice(&out.stdout).expect("exiftool json");
    match json {
        Value::Array(mut items) if !items.is_empty() => {
            match items.swap_remove(0) {
                Value::Object(map) => map,
                other => panic!("unexpected exiftool output {other}"),
            }
        }
        other => panic!("unexpected exiftool output {other}"),
    }
}

/// Runs exiftool on in-memory `bytes` (written to a temp file `name`).
pub(crate) fn exiftool_bytes(bytes: &[u8], name: &str) -> Map<String, Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    exiftool(&path)
}

/// Runs ffmpeg with `args` writing `name` in a temp dir; returns the file.
pub(crate) fn ffmpeg(args: &[&str], name: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&path)
        .status()
        .expect("ffmpeg must be installed (/usr/bin/ffmpeg) for these tests");
    assert!(status.success(), "ffmpeg failed: {args:?}");
    std::fs::read(&path).expect("read ffmpeg output")
}

/// Decodes `bytes` to raw RGBA with ffmpeg (the image crate is built
/// without WebP here); `ext` names the temp file.
pub(crate) fn ffmpeg_rgba(bytes: &[u8], ext: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("decode.{ext}"));
    std::fs::write(&path, bytes).expect("write temp file");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgba", "-"])
        .output()
        .expect("ffmpeg must be installed (/usr/bin/ffmpeg) for these tests");
    assert!(out.status.success() && !out.stdout.is_empty(), "ffmpeg decodes");
    out.stdout
}

/// Returns the chunks of a RIFF file as (FourCC, data), parsed
/// independently of the writer; asserts the RIFF size and pad bytes.
pub(crate) fn riff_chunks(webp: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let size = u32::from_le_bytes(webp[4..8].try_into().unwrap()) as usize;
    assert_eq!(size + 8, webp.len(), "riff size");
    let (mut pos, mut out) = (12, Vec::new());
    while pos < webp.len() {
        let len = u32::from_le_bytes(webp[pos + 4..pos + 8].try_into().unwrap())
            as usize;
        let id: [u8; 4] = webp[pos..pos + 4].try_into().unwrap();
        out.push((id, webp[pos + 8..pos + 8 + len].to_vec()));
        if len % 2 == 1 {
            assert_eq!(webp[pos + 8 + len], 0, "pad byte");
        }
        pos += 8 + len + len % 2;
    }
    out
}

/// Returns the FourCCs of a RIFF file as text.
pub(crate) fn riff_ids(webp: &[u8]) -> Vec<String> {
    riff_chunks(webp)
        .iter()
        .map(|c| String::from_utf8_lossy(&c.0).into_owned())
        .collect()
}

/// Builds a WebP (RIFF) file from (FourCC, data) chunks.
pub(crate) fn riff(list: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    for (id, data) in list {
        body.extend_from_slice(id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        body.resize(body.len() + data.len() % 2, 0);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// A xorshift64 generator: fixed seeds give reproducible mutations.
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    /// Returns the next value.
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Returns a value below `n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Returns `data` with a few bytes changed, or cut short.
    pub(crate) fn mutate(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        for _ in 0..=self.below(4) {
            let i = self.below(out.len());
            out[i] = match self.below(4) {
                0 => 0xFF,
                1 => 0,
                _ => self.next() as u8,
            };
        }
        if self.below(8) == 0 {
            out.truncate(self.below(out.len()));
        }
        out
    }
}
