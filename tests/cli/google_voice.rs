//! A Google Voice takeout end to end: names, dates with platform offsets,
//! descriptions, an MP3 voicemail with an XMP sidecar, issues and report
//! fates.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::*;

const EXPORT: &str = "google-john.doe-20250526";
const CALLS: &str = "google-john.doe-20250526/Takeout/Voice/Calls";
const JANE: &str = "+15551234567 - Text - 2016-05-18T15_00_23Z";
const VOICEMAIL: &str = "+15551234567 - Voicemail - 2016-05-17T10_00_00Z";
/// Output names without the suffix and extension.
const BASE: &str = "out/Google Voice/gvoice-john.doe-jane_doe-20160518";

/// 2016-05-18T15:00:23Z: 11:00:23 at the page's -04:00.
const FIRST_TIME: i64 = 1_463_583_623;
/// 2016-05-18T15:05:00Z.
const SECOND_TIME: i64 = FIRST_TIME + 277;
/// 2016-05-18T15:06:00Z.
const AUDIO_TIME: i64 = FIRST_TIME + 337;

/// Makes a one-second MP3 with ffmpeg.
fn mp3(path: &Path) {
    let status = Command::new(require("ffmpeg"))
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=1"])
        .args(["-c:a", "libmp3lame", "-map_metadata", "-1"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg made {}", path.display());
}

/// Returns one `div.message` from `name` (`tel` number) at `ts` holding
/// `inner`.
fn message(ts: &str, name: &str, tel: &str, inner: &str) -> String {
    format!(
        "<div class=\"message\"><abbr class=\"dt\" title=\"{ts}\">May 18\
         </abbr>:\n<cite class=\"sender vcard\"><a class=\"tel\" \
         href=\"tel:{tel}\"><span class=\"fn\">{name}</span></a></cite>:\n\
         {inner}</div>\n"
    )
}

/// Builds the takeout: one text conversation with two photos, a
/// voicemail-style audio attachment and a missing file, plus an
/// unreferenced photo, an unreferenced voicemail and its page.
pub(crate) fn takeout(env: &TestEnv) {
    let body = [
        message(
            "2016-05-18T11:00:23.648-04:00",
            "Jane Doe",
            "+15551234567",
            &format!(
                "<q>Look &amp; see</q><div><img src=\"{JANE}-1-1\"/></div>"
            ),
        ),
        message(
            "2016-05-18T11:05:00.000-04:00",
            "Me",
            "+15550000000",
            &format!("<div><img src=\"{JANE}-2-1\"/></div>"),
        ),
        message(
            "2016-05-18T11:06:00.000-04:00",
            "Jane Doe",
            "+15551234567",
            &format!(
                "<audio controls=\"controls\" src=\"{JANE}-3-1\">\
                 <a class=\"audio\" href=\"{JANE}-3-1\">Audio</a></audio>"
            ),
        ),
        message(
            "2016-05-18T11:07:00.000-04:00",
            "Jane Doe",
            "+15551234567",
            &format!("<div><img src=\"{JANE}-4-1\"/></div>"),
        ),
    ];
    let page = format!(
        "<!DOCTYPE html><html><head><title>Me to Jane Doe</title></head>\
         <body>{}</body></html>",
        body.concat()
    );
    env.write(&format!("{CALLS}/{JANE}.html"), page.as_bytes());
    env.write(&format!("{CALLS}/{JANE}-1-1.jpg"), &jpeg(1));
    env.write(&format!("{CALLS}/{JANE}-2-1.jpg"), &jpeg(2));
    mp3(&env.path(&format!("{CALLS}/{JANE}-3-1.mp3")));
    env.write(&format!("{CALLS}/stray.jpg"), &jpeg(3));
    mp3(&env.path(&format!("{CALLS}/{VOICEMAIL}.mp3")));
    env.write(
        &format!("{CALLS}/{VOICEMAIL}.html"),
        b"<html><body><div class=\"message\"><audio src=\"x\"></audio>\
          </div></body></html>",
    );
}

#[test]
fn voice_takeout_is_written_dated_and_reported() {
    let env = TestEnv::new();
    takeout(&env);
    let before = env.snapshot(EXPORT);
    // UTC as the fallback zone: the page's own -04:00 must win.
    env.run(&[EXPORT, "-o", "out", "--timezone", "UTC"]).expect_code(0);
    assert_eq!(before, env.snapshot(EXPORT), "inputs untouched");

    let tree = env.tree("out");
    let stray = "Google Voice/issues/failed-matching/media/stray.jpg";
    let orphan = "Google Voice/issues/failed-matching/metadata/\
                  _15551234567_-_Text_-_2016-05-18T15_00_23Z-4-1.json";
    let expected = [
        "Google Voice/gvoice-john.doe-jane_doe-20160518.jpg",
        "Google Voice/gvoice-john.doe-jane_doe-20160518.mp3",
        "Google Voice/gvoice-john.doe-jane_doe-20160518.mp3.xmp",
        "Google Voice/gvoice-john.doe-jane_doe-20160518_1.jpg",
        stray,
        orphan,
        "Google Voice/issues/failure-report.json",
        "report.json",
    ];
    assert_eq!(tree, expected);

    check_photos(&env);
    check_audio(&env);
    check_issues(&env, stray, orphan);
    check_report(&env);
}

/// The two photos: wall clock and offset of the page, description,
/// mtime at the instant.
fn check_photos(env: &TestEnv) {
    let out = env.path(&format!("{BASE}.jpg"));
    assert_eq!(
        exif_text(&out, exif::Tag::DateTimeOriginal).as_deref(),
        Some("2016:05:18 11:00:23")
    );
    assert_eq!(
        exif_text(&out, exif::Tag::OffsetTimeOriginal).as_deref(),
        Some("-04:00")
    );
    let description = "Source: Google Voice/john.doe\n\
                       Conversation: \"Jane Doe\"\nSender: \"Jane Doe\"";
    assert_eq!(
        exif_text(&out, exif::Tag::ImageDescription).as_deref(),
        Some(description)
    );
    assert_eq!(mtime(&out), FIRST_TIME);
    let tool = exiftool(&out);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2016:05:18 11:00:23");
    assert_eq!(tool["ExifIFD:CreateDate"], "2016:05:18 11:00:23");
    assert_eq!(tool["IFD0:ModifyDate"], "2016:05:18 11:00:23");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "-04:00");
    assert_eq!(tool["IFD0:ImageDescription"], description);

    // The second photo of the day was sent by the owner.
    let second = env.path(&format!("{BASE}_1.jpg"));
    let tool = exiftool(&second);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2016:05:18 11:05:00");
    assert_eq!(tool["ExifIFD:OffsetTime"], "-04:00");
    assert_eq!(
        tool["IFD0:ImageDescription"],
        "Source: Google Voice/john.doe\nConversation: \"Jane Doe\"\n\
         Sender: \"john.doe\""
    );
    assert_eq!(mtime(&second), SECOND_TIME);
}

/// The referenced MP3: bytes kept, metadata in the XMP sidecar.
fn check_audio(env: &TestEnv) {
    let out = env.path(&format!("{BASE}.mp3"));
    let input = env.path(&format!("{CALLS}/{JANE}-3-1.mp3"));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&input).unwrap());
    assert_eq!(mtime(&out), AUDIO_TIME);
    let xmp = exiftool(&env.path(&format!("{BASE}.mp3.xmp")));
    assert_eq!(xmp["XMP-exif:DateTimeOriginal"], "2016:05:18 11:06:00-04:00");
    assert_eq!(
        xmp["XMP-dc:Description"],
        "Source: Google Voice/john.doe\nConversation: \"Jane Doe\"\n\
         Sender: \"Jane Doe\""
    );
}

/// `issues/`: the unreferenced photo copied as is, the missing reference
/// saved, both in the failure report.
fn check_issues(env: &TestEnv, stray: &str, orphan: &str) {
    let source = env.path(&format!("{CALLS}/stray.jpg"));
    let copy = env.path(&format!("out/{stray}"));
    assert_eq!(std::fs::read(&source).unwrap(), std::fs::read(&copy).unwrap());
    assert_eq!(mtime(&source), mtime(&copy));
    let saved = env.read_json(&format!("out/{orphan}"));
    assert_eq!(
        saved,
        json!({"conversation_name": "Jane Doe",
               "media_src": format!("{JANE}-4-1"),
               "message_timestamp": "2016-05-18T11:07:00.000-04:00",
               "sender": "Jane Doe"})
    );
    let failure = env.read_json("out/Google Voice/issues/failure-report.json");
    assert_eq!(failure["processor_name"], "Google Voice");
    assert_eq!(failure["summary"]["failed_matching"], 2);
    let media = &failure["failed_matching"]["orphaned_media"][0];
    assert_eq!(media["file_path"], "Takeout/Voice/Calls/stray.jpg");
    assert_eq!(media["reason"], "No matching metadata found");
    let meta = &failure["failed_matching"]["orphaned_metadata"][0];
    assert_eq!(meta["reason"], "Media file not found in filesystem");
    assert_eq!(meta["context"]["conversation"], "Jane Doe");
    assert_eq!(meta["context"]["expected_filename"], format!("{JANE}-4-1"));
}

/// `report.json`: one fate per file of `Voice/Calls/`, pages excluded.
fn check_report(env: &TestEnv) {
    let report = env.read_json("out/report.json");
    assert_eq!(report["status"], "success");
    let processor = &report["processors"][0];
    assert_eq!(processor["id"], "google_voice");
    assert_eq!(processor["username"], "john.doe");
    let counts = &processor["counts"];
    assert_eq!(counts["written"], 3);
    assert_eq!(counts["unmatched"], 1);
    assert_eq!(counts["skipped"], 1);
    assert_eq!(counts["orphaned_metadata"], 1);
    assert_eq!(counts["sidecars"], 1);
    let files = report["files"].as_array().unwrap();
    let calls = "Takeout/Voice/Calls";
    let fates: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f["input"].as_str().unwrap(), f["fate"].as_str().unwrap()))
        .collect();
    let want = [
        (format!("{calls}/{JANE}-1-1.jpg"), "written"),
        (format!("{calls}/{JANE}-2-1.jpg"), "written"),
        (format!("{calls}/{JANE}-3-1.mp3"), "written"),
        (format!("{calls}/{VOICEMAIL}.mp3"), "skipped"),
        (format!("{calls}/stray.jpg"), "unmatched"),
    ];
    let want: Vec<(&str, &str)> =
        want.iter().map(|(i, f)| (i.as_str(), *f)).collect();
    assert_eq!(fates, want);
    let first = &files[0];
    assert_eq!(
        first["match"],
        json!({"rule": "extension", "metadata": format!("{calls}/{JANE}.html")})
    );
    assert_eq!(first["date"]["source"], "abbr.dt@title");
    assert_eq!(first["date"]["offset"], "-04:00");
    assert_eq!(first["date"]["local"], "2016-05-18T11:00:23");
    assert_eq!(first["albums"], json!(["Google Voice/john.doe"]));
    assert_eq!(first["context"]["conversation"], "Jane Doe");
    assert_eq!(first["context"]["text"], "Look & see");
    assert_eq!(
        files[2]["sidecar"],
        "Google Voice/gvoice-john.doe-jane_doe-20160518.mp3.xmp"
    );
    assert_eq!(
        files[3]["reason"],
        "audio not referenced by a text conversation"
    );
    let orphans = report["orphaned_metadata"].as_array().unwrap();
    assert_eq!(orphans.len(), 1);
    assert_eq!(orphans[0]["source"], format!("{calls}/{JANE}.html#3"));
}
