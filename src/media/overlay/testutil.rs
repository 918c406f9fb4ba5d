//! Test support for overlays: generated pictures, overlay PNGs and video
//! clips, and independent readers (kamadak-exif, exiftool, ffprobe, an
//! ffmpeg frame decode). The tools are required: a missing one panics
//! with a message instead of skipping.

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use serde_json::Value;

/// Opaque red, the colour of every test overlay's square.
pub(super) const RED: [u8; 3] = [255, 0, 0];
pub(super) const GREEN: [u8; 3] = [0, 160, 0];
pub(super) const BLUE: [u8; 3] = [0, 0, 255];

/// Runs `program` with `args` and returns its standard output; panics
/// with its standard error when it fails or is missing.
pub(super) fn tool(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("{program} is required by the overlay tests: {e}")
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{program} {args:?} failed: {stderr}");
    out.stdout
}

/// Returns `path` as `&str` (test paths are UTF-8).
pub(super) fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 test path")
}

/// Returns an overlay: transparent, with an opaque red square of `side`
/// pixels in the top-left corner and a half-transparent white band at the
/// bottom.
pub(super) fn overlay(width: u32, height: u32, side: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        if x < side && y < side {
            Rgba([RED[0], RED[1], RED[2], 255])
        } else if y + 2 >= height {
            Rgba([255, 255, 255, 128])
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
}

/// Writes `image` as a PNG to `path`.
pub(super) fn save_png(image: &RgbaImage, path: &Path) {
    image.save_with_format(path, image::ImageFormat::Png).expect("png");
}

/// Returns a picture whose left half is green and right half blue.
pub(super) fn halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        Rgb(if x < width / 2 { GREEN } else { BLUE })
    })
}

/// Returns a TIFF block holding only IFD0 `Orientation` = `value`.
pub(super) fn orientation_block(value: u16) -> Vec<u8> {
    let mut b = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
    b.extend_from_slice(&value.to_le_bytes());
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    b
}

/// Encodes `image` as RGBA with `encoder`, attaching `exif`.
pub(super) fn encode_with_exif<E: ImageEncoder>(
    mut encoder: E,
    image: &RgbaImage,
    exif: Vec<u8>,
) {
    encoder.set_exif_metadata(exif).expect("exif supported");
    let (w, h) = image.dimensions();
    encoder
        .write_image(image, w, h, image::ExtendedColorType::Rgba8)
        .expect("encode");
}

/// Decodes a picture file.
pub(super) fn decode(path: &Path) -> image::DynamicImage {
    let bytes = std::fs::read(path).expect("read picture");
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .expect("guess")
        .decode()
        .expect("decode picture")
}

/// Returns true when every channel of `got` is within `tolerance` of
/// `want`.
pub(super) fn near(got: &[u8], want: &[u8], tolerance: u8) -> bool {
    got.len() == want.len()
        && got.iter().zip(want).all(|(g, w)| g.abs_diff(*w) <= tolerance)
}

/// Reads the file's tags with `exiftool -j -n -G1 -a`.
pub(super) fn exiftool(path: &Path) -> Value {
    let out = tool("exiftool", &["-j", "-n", "-G1", "-a", s(path)]);
    let list: Value = serde_json::from_slice(&out).expect("exiftool json");
    list.get(0).cloned().expect("one file")
}

/// Returns ffprobe's streams and format of `path` as JSON.
pub(super) fn probe(path: &Path) -> Value {
    let args = ["-v", "error", "-show_streams", "-show_format"];
    let mut args = args.to_vec();
    args.extend(["-of", "json", s(path)]);
    serde_json::from_slice(&tool("ffprobe", &args)).expect("ffprobe json")
}

/// Returns the streams of `probe` whose `codec_type` is `kind`.
pub(super) fn streams<'a>(probe: &'a Value, kind: &str) -> Vec<&'a Value> {
    let list = probe["streams"].as_array().expect("stream list");
    list.iter().filter(|s| s["codec_type"] == kind).collect()
}

/// Decodes the first frame of video stream `stream` of `path` (with
/// ffmpeg's autorotation) as RGB of the given size.
pub(super) fn frame(
    path: &Path,
    stream: usize,
    width: u32,
    height: u32,
) -> RgbImage {
    let map = format!("0:v:{stream}");
    let args = ["-v", "error", "-i", s(path), "-map", &map, "-frames:v", "1"];
    let mut args = args.to_vec();
    args.extend(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
    let raw = tool("ffmpeg", &args);
    assert_eq!(raw.len(), (width * height * 3) as usize, "frame size");
    RgbImage::from_raw(width, height, raw).expect("frame")
}

/// Encodes a 1 s clip from the lavfi `video` source with libx264 in
/// `pix_fmt`, plus a sine tone encoded with `audio` (an ffmpeg encoder)
/// when given, into `path`; the container follows the extension.
pub(super) fn clip(
    path: &Path,
    video: &str,
    pix_fmt: &str,
    audio: Option<&str>,
) {
    let mut args = vec!["-v", "error", "-y", "-f", "lavfi", "-i", video];
    if let Some(codec) = audio {
        args.extend(["-f", "lavfi", "-i", "sine=f=440:d=1", "-c:a", codec]);
    }
    args.extend(["-c:v", "libx264", "-pix_fmt", pix_fmt, "-t", "1"]);
    // A title the burned output must not carry (-map_metadata -1).
    args.extend(["-metadata", "title=source title", s(path)]);
    tool("ffmpeg", &args);
}

/// Returns the lavfi source of a `width` × `height` clip whose left half
/// is green and right half blue.
pub(super) fn halves_source(width: u32, height: u32) -> String {
    let half = width / 2;
    format!(
        "{},drawbox=x=0:y=0:w={half}:h={height}:color=0x00A000:t=fill",
        solid_source(width, height)
    )
}

/// Returns the lavfi source of a blue `width` × `height` clip at 10 fps.
pub(super) fn solid_source(width: u32, height: u32) -> String {
    format!("color=c=0x0000FF:s={width}x{height}:r=10:d=1")
}

/// Copies `src` to `dest` with a display matrix of `degrees` (what
/// phones write for portrait videos).
pub(super) fn rotate(src: &Path, dest: &Path, degrees: u32) {
    let rotate = format!("rotate={degrees}");
    let args = ["-v", "error", "-y", "-i", s(src), "-c", "copy", "-map", "0"];
    let mut args = args.to_vec();
    args.extend(["-metadata:s:v", &rotate, s(dest)]);
    tool("ffmpeg", &args);
}
