//! Snapchat Memories with overlays: pictures composited natively, videos
//! burned in with ffmpeg, dated in the zone of their position.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::*;

const ROOT: &str = "snapchat-jane-20250101/memories";

/// A PNG overlay of `w`×`h`: transparent, with an opaque red top-left
/// quarter.
pub(crate) fn overlay(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        if x < w / 4 && y < h / 4 {
            image::Rgba([255, 0, 0, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Builds the export: a photo with an overlay and a position, a video
/// with an overlay, and an overlay nobody references.
fn memories(env: &TestEnv) {
    env.write(&format!("{ROOT}/media/p1.jpg"), &jpeg(3));
    env.write(&format!("{ROOT}/overlays/o1.png"), &overlay(96, 64));
    mp4(&env.path(&format!("{ROOT}/media")), "v1.mp4", 0x20, false);
    env.write(&format!("{ROOT}/overlays/o2.png"), &overlay(64, 48));
    env.write(&format!("{ROOT}/overlays/stray.png"), &overlay(8, 8));
    env.write(&format!("{ROOT}/media/p2.jpg"), &jpeg(4));
    env.json(
        &format!("{ROOT}/metadata.json"),
        &json!([
            {"date": "2021-01-04 23:08:30 UTC", "media_type": "Image",
             "media_filename": "p1.jpg", "overlay_filename": "o1.png",
             "latitude": 40.5, "longitude": -73.9},
            {"date": "2021-01-04 10:00:00 UTC", "media_type": "Video",
             "media_filename": "v1.mp4", "overlay_filename": "o2.png",
             "latitude": null, "longitude": null},
            {"date": "2021-01-05 12:00:00 UTC", "media_type": "Image",
             "media_filename": "p2.jpg", "overlay_filename": "gone.png"}
        ]),
    );
}

/// Returns the RGB pixel at (x, y) of the first frame of a video.
fn frame_pixel(video: &Path, x: u32, y: u32) -> [u8; 3] {
    let out = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-i"])
        .arg(video)
        .args(["-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"])
        .output()
        .unwrap();
    let img = image::load_from_memory(&out.stdout).unwrap().to_rgb8();
    img.get_pixel(x, y).0
}

fn is_red(p: [u8; 3]) -> bool {
    p[0] > 200 && p[1] < 70 && p[2] < 70
}

#[test]
fn overlays_are_composited_and_burned_in() {
    let env = TestEnv::new();
    memories(&env);
    env.run(&["snapchat-jane-20250101", "-o", "out", "--timezone", "UTC"])
        .expect_code(0);
    assert_eq!(
        env.tree("out/memories"),
        [
            "snap-memories-jane-20210104.jpg",
            "snap-memories-jane-20210104.mp4",
            "snap-memories-jane-20210105.jpg"
        ]
    );

    // The picture: overlay pixels where the overlay is opaque, the photo
    // elsewhere; dated in New York, the zone of its position.
    let photo = env.path("out/memories/snap-memories-jane-20210104.jpg");
    let img = image::open(&photo).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (48, 32));
    assert!(is_red(img.get_pixel(3, 3).0), "{:?}", img.get_pixel(3, 3));
    assert!(!is_red(img.get_pixel(40, 28).0));
    let tool = exiftool(&photo);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2021:01:04 18:08:30");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "-05:00");
    assert!((tool["GPS:GPSLatitude"].as_f64().unwrap() - 40.5).abs() < 1e-5);
    assert_eq!(tool["IFD0:ImageDescription"], "Source: Snapchat/jane/memories");
    assert_eq!(mtime(&photo), 1_609_801_710);

    // The video: the overlay burned into the frames, QuickTime dates.
    let video = env.path("out/memories/snap-memories-jane-20210104.mp4");
    assert!(
        is_red(frame_pixel(&video, 4, 4)),
        "{:?}",
        frame_pixel(&video, 4, 4)
    );
    assert!(!is_red(frame_pixel(&video, 60, 44)));
    let tool = exiftool(&video);
    assert_eq!(tool["Keys:CreationDate"], "2021:01:04 10:00:00+00:00");
    assert_eq!(mtime(&video), 1_609_754_400);

    let report = env.read_json("out/report.json");
    let files = report["files"].as_array().unwrap();
    let overlay_of = |input: &str| {
        files.iter().find(|f| f["input"] == input).unwrap()["overlay"].clone()
    };
    assert_eq!(
        overlay_of("memories/media/p1.jpg"),
        json!({"file": "memories/overlays/o1.png", "result": "composited"})
    );
    assert_eq!(overlay_of("memories/media/v1.mp4")["result"], "burned-in");
    let stray = files
        .iter()
        .find(|f| f["input"] == "memories/overlays/stray.png")
        .unwrap();
    assert_eq!(stray["fate"], "skipped");
    assert_eq!(stray["reason"], "overlay not referenced");
    // A named overlay that is missing: written without it, with a warning.
    let p2 =
        files.iter().find(|f| f["input"] == "memories/media/p2.jpg").unwrap();
    assert_eq!(p2["fate"], "written");
    assert_eq!(
        p2["warnings"],
        json!(["overlay gone.png not found; written without it"])
    );
    assert_eq!(report["processors"][0]["counts"]["warnings"], 1);
}

#[test]
fn without_ffmpeg_the_overlay_is_kept_beside_the_video() {
    let env = TestEnv::new();
    memories(&env);
    let run = Command::new(env!("CARGO_BIN_EXE_memoria"))
        .args(["snapchat-jane-20250101", "-o", "out", "--timezone", "UTC"])
        .current_dir(env.dir.path())
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("WARNING: ffmpeg not found"), "{stderr}");
    let video = env.path("out/memories/snap-memories-jane-20210104.mp4");
    let beside =
        env.path("out/memories/snap-memories-jane-20210104.mp4.overlay.png");
    assert_eq!(
        std::fs::read(&beside).unwrap(),
        std::fs::read(env.path(&format!("{ROOT}/overlays/o2.png"))).unwrap()
    );
    assert_eq!(mtime(&beside), 1_609_754_400);
    assert!(!is_red(frame_pixel(&video, 4, 4)), "no overlay in the frames");
    // The picture is still composited: that needs no ffmpeg.
    let photo = env.path("out/memories/snap-memories-jane-20210104.jpg");
    assert!(is_red(image::open(&photo).unwrap().to_rgb8().get_pixel(3, 3).0));
    let report = env.read_json("out/report.json");
    let entry = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["input"] == "memories/media/v1.mp4")
        .unwrap()
        .clone();
    assert_eq!(entry["overlay"]["result"], "kept-beside");
}

#[test]
fn a_memories_list_that_is_not_json_is_not_taken_for_an_export() {
    let env = TestEnv::new();
    env.write(&format!("{ROOT}/media/p1.jpg"), &jpeg(3));
    std::fs::create_dir_all(env.path(&format!("{ROOT}/overlays"))).unwrap();
    env.write(&format!("{ROOT}/metadata.json"), b"[{\"date\": ");
    let run = env.run(&["snapchat-jane-20250101", "-o", "out"]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("No processors matched input directory"),
        "{}",
        run.stderr()
    );
    assert!(!env.path("out/memories").exists());
}
