//! Tests of the ffmpeg overlay burn: generated clips (plain, rotated,
//! odd-sized, silent, PCM audio), frames decoded back and ffprobe's view
//! of the result.

use serde_json::json;

use super::*;
use crate::media::overlay::has_ffmpeg;
use crate::media::overlay::testutil::{self as t, near, BLUE, GREEN, RED};

/// A temporary folder with a source clip, an overlay and a scratch
/// folder.
struct Case {
    dir: tempfile::TempDir,
    overlay: PathBuf,
    scratch: PathBuf,
}

impl Case {
    /// Writes an overlay of `width` × `height` with a red square of
    /// `side` pixels in the top-left corner.
    fn new(width: u32, height: u32, side: u32) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let overlay = dir.path().join("overlay.png");
        t::save_png(&t::overlay(width, height, side), &overlay);
        let scratch = dir.path().join("scratch");
        std::fs::create_dir(&scratch).unwrap();
        Case { dir, overlay, scratch }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Burns the overlay into `src` and returns the output path; the
    /// scratch folder must be empty again.
    fn burn(&self, src: &Path, mode: VideoMode, tags: &MkvTags) -> PathBuf {
        let out = self.path(match mode {
            VideoMode::Mp4 => "out.mp4",
            VideoMode::Mkv => "out.mkv",
        });
        burn_video(src, &self.overlay, &out, mode, tags, &self.scratch)
            .unwrap();
        let left = std::fs::read_dir(&self.scratch).unwrap().count();
        assert_eq!(left, 0, "scratch png removed");
        out
    }
}

fn video_streams(probe: &Value) -> Vec<&Value> {
    t::streams(probe, "video")
}

/// Checks that `frame` is red in the top-left `side` × `side` square
/// (probed inside, away from the edge) and matches `under` elsewhere.
fn assert_square(frame: &image::RgbImage, side: u32, under: &image::RgbImage) {
    for (x, y) in [(2, 2), (side - 3, 2), (2, side - 3), (side - 3, side - 3)] {
        let got = frame.get_pixel(x, y).0;
        assert!(near(&got, &RED, 40), "({x},{y}) = {got:?} not red");
    }
    let (w, h) = frame.dimensions();
    for (x, y) in [(side + 4, 2), (2, side + 4), (w - 3, h / 2), (w / 2, h - 8)]
    {
        let (got, want) = (frame.get_pixel(x, y).0, under.get_pixel(x, y).0);
        assert!(near(&got, &want, 24), "({x},{y}) = {got:?}, {want:?}");
    }
}

/// Returns true when a stream has a display matrix.
fn has_rotation(stream: &Value) -> bool {
    let side = stream["side_data_list"].as_array();
    side.into_iter().flatten().any(|d| d.get("rotation").is_some())
        || stream.pointer("/tags/rotate").is_some()
}

#[test]
fn ffmpeg_is_found() {
    assert!(has_ffmpeg(), "ffmpeg and ffprobe are required on PATH");
}

#[test]
fn mp4_carries_the_overlay_and_the_audio() {
    let c = Case::new(64, 48, 16);
    let src = c.path("clip.mp4");
    t::clip(&src, &t::solid_source(64, 48), "yuv420p", Some("aac"));
    let out = c.burn(&src, VideoMode::Mp4, &MkvTags::default());

    let probe = t::probe(&out);
    let video = video_streams(&probe);
    assert_eq!(video.len(), 1);
    assert_eq!(video[0]["codec_name"], "h264");
    assert_eq!(video[0]["pix_fmt"], "yuv420p");
    assert_eq!(
        (video[0]["width"].as_u64(), video[0]["height"].as_u64()),
        (Some(64), Some(48))
    );
    let audio = t::streams(&probe, "audio");
    assert_eq!(audio.len(), 1);
    assert_eq!(audio[0]["codec_name"], "aac");
    assert!(probe.pointer("/format/tags/title").is_none(), "{probe}");
    let bytes = std::fs::read(&out).unwrap();
    let at = |name: &[u8]| bytes.windows(4).position(|w| w == name);
    assert!(at(b"moov") < at(b"mdat"), "faststart puts moov first");

    let frame = t::frame(&out, 0, 64, 48);
    assert_square(&frame, 16, &t::frame(&src, 0, 64, 48));
    assert!(near(&frame.get_pixel(40, 30).0, &BLUE, 24));
}

#[test]
fn rotated_video_is_burned_upright() {
    let c = Case::new(48, 64, 12);
    let (plain, src) = (c.path("plain.mp4"), c.path("rotated.mp4"));
    t::clip(&plain, &t::halves_source(64, 48), "yuv420p", Some("aac"));
    t::rotate(&plain, &src, 90);
    let source = t::probe(&src);
    assert!(has_rotation(video_streams(&source)[0]), "fixture rotated");
    // Upright (as players show it), the green left half of the
    // stored frames is at the bottom.
    let upright = t::frame(&src, 0, 48, 64);
    assert!(near(&upright.get_pixel(24, 56).0, &GREEN, 24));
    assert!(near(&upright.get_pixel(24, 20).0, &BLUE, 24));

    let out = c.burn(&src, VideoMode::Mp4, &MkvTags::default());
    let probe = t::probe(&out);
    let video = video_streams(&probe);
    assert_eq!(video.len(), 1);
    assert!(!has_rotation(video[0]), "no display matrix: {probe}");
    assert_eq!(
        (video[0]["width"].as_u64(), video[0]["height"].as_u64()),
        (Some(48), Some(64))
    );
    assert_eq!(t::streams(&probe, "audio").len(), 1);
    assert_square(&t::frame(&out, 0, 48, 64), 12, &upright);
}

#[test]
fn odd_sizes_are_padded_and_pcm_becomes_aac() {
    let c = Case::new(64, 48, 16);
    let src = c.path("odd.mov");
    // lavfi's colour source rounds sizes down to even ones.
    let odd = format!("{},scale=63:47", t::solid_source(64, 48));
    t::clip(&src, &odd, "yuv444p", Some("pcm_s16le"));
    let source = t::probe(&src);
    let stream = video_streams(&source)[0];
    assert_eq!(
        (stream["width"].as_u64(), stream["height"].as_u64()),
        (Some(63), Some(47))
    );
    let out = c.burn(&src, VideoMode::Mp4, &MkvTags::default());
    let probe = t::probe(&out);
    let video = video_streams(&probe);
    assert_eq!(
        (video[0]["width"].as_u64(), video[0]["height"].as_u64()),
        (Some(64), Some(48))
    );
    assert_eq!(video[0]["pix_fmt"], "yuv420p");
    let audio = t::streams(&probe, "audio");
    assert_eq!(audio[0]["codec_name"], "aac");
    let frame = t::frame(&out, 0, 64, 48);
    assert!(near(&frame.get_pixel(4, 4).0, &RED, 40));
    assert!(near(&frame.get_pixel(40, 30).0, &BLUE, 24));
}

#[test]
fn video_without_audio_gets_none() {
    let c = Case::new(64, 48, 16);
    let src = c.path("silent.mp4");
    t::clip(&src, &t::solid_source(64, 48), "yuv420p", None);
    let out = c.burn(&src, VideoMode::Mp4, &MkvTags::default());
    let probe = t::probe(&out);
    assert_eq!(video_streams(&probe).len(), 1);
    assert!(t::streams(&probe, "audio").is_empty());
}

fn tags() -> MkvTags {
    MkvTags {
        creation_time: Some("2021-01-04T23:08:30Z".to_string()),
        description: Some("Snow day ✓".to_string()),
        location: Some("+40.5000-073.9000/".to_string()),
    }
}

/// Checks titles, dispositions and container tags of an MKV.
fn assert_mkv_layout(probe: &Value) {
    let video = video_streams(probe);
    assert_eq!(video.len(), 2, "{probe}");
    assert_eq!(video[0]["tags"]["title"], "With Overlay");
    assert_eq!(video[0]["disposition"]["default"], 1);
    assert_eq!(video[1]["tags"]["title"], "Original");
    assert_eq!(video[1]["disposition"]["default"], 0);
    let audio = t::streams(probe, "audio");
    assert_eq!(audio.len(), 1);
    assert_eq!(audio[0]["codec_name"], "aac");
    let format = &probe["format"]["tags"];
    assert_eq!(format["DESCRIPTION"], "Snow day ✓", "{format}");
    assert_eq!(format["COMMENT"], "Snow day ✓");
    assert_eq!(format["LOCATION"], "+40.5000-073.9000/");
    let created = format["creation_time"].as_str().unwrap_or_default();
    assert!(created.starts_with("2021-01-04T23:08:30"), "{format}");
}

#[test]
fn mkv_keeps_the_original_track() {
    let c = Case::new(64, 48, 16);
    let src = c.path("clip.mp4");
    t::clip(&src, &t::halves_source(64, 48), "yuv420p", Some("aac"));
    let out = c.burn(&src, VideoMode::Mkv, &tags());
    let probe = t::probe(&out);
    assert_mkv_layout(&probe);
    let original = t::frame(&src, 0, 64, 48);
    assert_square(&t::frame(&out, 0, 64, 48), 16, &original);
    // The copied original has no overlay.
    assert!(near(&t::frame(&out, 1, 64, 48).get_pixel(4, 4).0, &GREEN, 24));
}

#[test]
fn mkv_of_a_rotated_video_has_an_upright_original() {
    let c = Case::new(48, 64, 12);
    let (plain, src) = (c.path("plain.mp4"), c.path("rotated.mp4"));
    t::clip(&plain, &t::halves_source(64, 48), "yuv420p", Some("aac"));
    t::rotate(&plain, &src, 90);
    let out = c.burn(&src, VideoMode::Mkv, &tags());
    let probe = t::probe(&out);
    assert_mkv_layout(&probe);
    for stream in video_streams(&probe) {
        assert!(!has_rotation(stream), "{stream}");
        assert_eq!(
            (stream["width"].as_u64(), stream["height"].as_u64()),
            (Some(48), Some(64))
        );
    }
    let upright = t::frame(&src, 0, 48, 64);
    assert_square(&t::frame(&out, 0, 48, 64), 12, &upright);
    let original = t::frame(&out, 1, 48, 64);
    assert!(near(&original.get_pixel(4, 4).0, &BLUE, 24));
    assert!(near(&original.get_pixel(24, 56).0, &GREEN, 24));
}

#[test]
fn burning_is_deterministic() {
    let c = Case::new(64, 48, 16);
    let src = c.path("clip.mp4");
    t::clip(&src, &t::solid_source(64, 48), "yuv420p", Some("aac"));
    for mode in [VideoMode::Mp4, VideoMode::Mkv] {
        let first = std::fs::read(c.burn(&src, mode, &tags())).unwrap();
        let second = std::fs::read(c.burn(&src, mode, &tags())).unwrap();
        assert!(first == second, "{mode:?} output differs between runs");
    }
}

#[test]
fn bad_inputs_are_errors_with_the_tool_message() {
    let c = Case::new(64, 48, 16);
    let src = c.path("broken.mp4");
    std::fs::write(&src, b"\0\0\0\x18ftypisom not really a video").unwrap();
    let out = c.path("out.mp4");
    let tags = MkvTags::default();
    let err =
        burn_video(&src, &c.overlay, &out, VideoMode::Mp4, &tags, &c.scratch)
            .unwrap_err();
    assert!(err.starts_with("ffprobe failed: "), "{err}");
    assert!(!err.contains('\n'), "{err}");
    let audio_only = c.path("tone.m4a");
    let args = ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=1"];
    let mut args = args.to_vec();
    args.push(t::s(&audio_only));
    t::tool("ffmpeg", &args);
    let err = burn_video(
        &audio_only,
        &c.overlay,
        &out,
        VideoMode::Mp4,
        &tags,
        &c.scratch,
    )
    .unwrap_err();
    assert!(err.starts_with("no video stream in "), "{err}");
    let good = c.path("clip.mp4");
    t::clip(&good, &t::solid_source(64, 48), "yuv420p", None);
    std::fs::write(&c.overlay, b"not a png").unwrap();
    let err =
        burn_video(&good, &c.overlay, &out, VideoMode::Mp4, &tags, &c.scratch)
            .unwrap_err();
    assert!(err.starts_with("failed to decode overlay "), "{err}");
    // A scratch folder that does not exist fails before ffmpeg runs.
    t::save_png(&t::overlay(64, 48, 16), &c.overlay);
    let missing = c.path("no-such-folder");
    let err =
        burn_video(&good, &c.overlay, &out, VideoMode::Mp4, &tags, &missing)
            .unwrap_err();
    assert!(err.starts_with("failed to write "), "{err}");
    assert!(!out.exists());
}

#[test]
fn streams_are_read_from_ffprobe_json() {
    let json = json!({"streams": [
        {"index": 0, "codec_type": "video", "width": 1080, "height": 1920,
         "disposition": {"attached_pic": 1}},
        {"index": 1, "codec_type": "audio", "codec_name": "opus"},
        {"index": 2, "codec_type": "video", "width": 63, "height": 47,
         "side_data_list": [{"side_data_type": "Display Matrix",
                             "rotation": -90}]},
        {"index": 3, "codec_type": "video", "width": 64, "height": 48,
         "tags": {"rotate": "180"}},
        {"index": 4, "codec_type": "data"}
    ]});
    let streams = Streams::from_json(json.to_string().as_bytes()).unwrap();
    let v = &streams.video;
    assert_eq!(v.len(), 2, "the cover picture is not a video");
    assert_eq!((v[0].index, v[0].rotation), (2, -90));
    assert_eq!(v[0].display_size(), Ok((48, 64)));
    assert_eq!((v[1].rotation, v[1].display_size()), (180, Ok((64, 48))));
    assert!(v[1].is_rotated() && !v[1].is_quarter_turn());
    let audio = Audio { index: 1, codec: "opus".to_string() };
    assert_eq!(streams.audio, [audio]);
    let none = Video { index: 0, width: 0, height: 10, rotation: 0 };
    assert!(none.display_size().is_err());
    assert!(Streams::from_json(b"{}").is_err());
    assert!(Streams::from_json(b"not json").is_err());
}
