//! Snapchat Messages: media matched to messages by id and by time,
//! overlays applied, identical files merged across conversations,
//! ambiguous overlays set aside, orphans written and reported.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;

use crate::support::*;

const ROOT: &str = "snapchat-jane-20250101/messages";
const VIDEO_ID: &str = "5F3A0C1E-8B1D-4C61-9A2E-3D4B5C6D7E8F";

/// Sets the modification time of `path` to Unix seconds `at`.
fn touch(path: &Path, at: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(at)).unwrap();
}

fn media(env: &TestEnv, name: &str, bytes: &[u8], at: u64) {
    let path = env.write(&format!("{ROOT}/chat_media/{name}"), bytes);
    touch(&path, at);
}

fn message(
    from: &str,
    created: &str,
    content: Option<&str>,
    ids: &str,
) -> serde_json::Value {
    json!({"From": from, "Media Type": "MEDIA", "Created": created,
           "Content": content, "Conversation Title": null,
           "IsSender": from == "jane", "Media IDs": ids})
}

/// 2021-01-02T18:30:00Z and 2021-02-01T10:00:00Z as Unix seconds.
const VIDEO_AT: u64 = 1_609_612_200;
const AMBIGUOUS_AT: u64 = 1_612_173_600;

fn export(env: &TestEnv) {
    let mut group =
        message("jane", "2021-01-03 09:00:00 UTC", Some("same pic"), "b~BBB");
    group["Conversation Title"] = json!("Ski trip");
    env.json(
        &format!("{ROOT}/json/chat_history.json"),
        &json!({
            "friend1": [
                message("friend1", "2021-01-01 10:00:00 UTC", Some("lol"), "b~AAA"),
                message("friend1", "2021-01-02 18:30:00 UTC", None, "zip1"),
                message("friend1", "2021-02-01 10:00:00 UTC", None, "x1|x2"),
                message("friend1", "2021-01-04 08:00:00 UTC", None, "b~GONE")
            ],
            "8d2f0c4e-1a2b-4c3d-9e8f-0a1b2c3d4e5f": [group]
        }),
    );
    let photo = jpeg(1);
    media(env, "2021-01-01_b~AAA.jpg", &photo, 1_609_495_200);
    media(env, "2021-01-03_b~BBB.jpg", &photo, 1_609_664_400);
    let dir = env.path(&format!("{ROOT}/chat_media"));
    mp4(&dir, &format!("2021-01-02_media~zip-{VIDEO_ID}.mp4"), 0x30, false);
    touch(&dir.join(format!("2021-01-02_media~zip-{VIDEO_ID}.mp4")), VIDEO_AT);
    let overlay = png(200);
    media(
        env,
        "2021-01-02_overlay~zip-7A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9.png",
        &overlay,
        VIDEO_AT,
    );
    media(
        env,
        &format!("2021-01-02_thumbnail~zip-{VIDEO_ID}.jpg"),
        &jpeg(9),
        VIDEO_AT,
    );
    for n in 1..=2u8 {
        let name = format!(
            "2021-02-01_media~zip-0000000{n}-0000-4000-8000-000000000000.mp4"
        );
        mp4(&dir, &name, 0x40 + n, false);
        touch(&dir.join(&name), AMBIGUOUS_AT);
        let name = format!(
            "2021-02-01_overlay~zip-1000000{n}-0000-4000-8000-000000000000.png"
        );
        media(env, &name, &png(100 + n), AMBIGUOUS_AT);
    }
    media(
        env,
        "2021-01-05_0123456789abcdef0123456789abcdef.jpg",
        &jpeg(5),
        1_609_848_000,
    );
}

#[test]
fn messages_are_matched_merged_and_reported() {
    let env = TestEnv::new();
    export(&env);
    let run =
        env.run(&["snapchat-jane-20250101", "-o", "out", "--timezone", "UTC"]);
    run.expect_code(0);
    let tree = env.tree("out/messages");
    assert!(
        tree.contains(&"snap-messages-jane-20210101.jpg".to_string()),
        "{tree:?}"
    );
    assert!(
        tree.contains(&"snap-messages-jane-friend1-20210102.mp4".to_string()),
        "{tree:?}"
    );
    assert!(
        tree.contains(&"snap-messages-jane-friend1-20210201.mp4".to_string()),
        "{tree:?}"
    );
    assert!(
        tree.contains(&"snap-messages-jane-friend1-20210201_2.mp4".to_string()),
        "{tree:?}"
    );
    assert!(
        tree.contains(&"snap-messages-jane-unknown-20210105.jpg".to_string()),
        "{tree:?}"
    );

    // The photo sent to two conversations: written once, both messages
    // in its description.
    let shared = env.path("out/messages/snap-messages-jane-20210101.jpg");
    assert_eq!(
        exif_text(&shared, exif::Tag::ImageDescription).as_deref(),
        Some(
            "Source: Snapchat/jane/messages\n  - friend1 in \"DM with friend1\": \"lol\"\n  \
             - jane in \"Ski trip\": \"same pic\""
        )
    );
    assert_eq!(
        exiftool(&shared)["ExifIFD:DateTimeOriginal"],
        "2021:01:01 10:00:00"
    );

    // Ambiguous overlays: the case is set aside with its files.
    let case = "out/messages/needs_matching/2021-02-01_10-00-00_UTC";
    let info = env.read_json(&format!("{case}/match_info.json"));
    assert_eq!(info["timestamp"], "2021-02-01 10:00:00 UTC");
    assert_eq!(info["export_username"], "jane");
    assert_eq!(env.tree(&format!("{case}/media")).len(), 2);
    assert_eq!(env.tree(&format!("{case}/overlays")).len(), 2);

    // The orphan is written and also reported with its issues/ copy.
    let report = env.read_json("out/report.json");
    let files = report["files"].as_array().unwrap();
    let orphan = files
        .iter()
        .find(|f| {
            f["input"].as_str().unwrap().ends_with("0123456789abcdef.jpg")
        })
        .unwrap();
    assert_eq!(orphan["fate"], "written");
    assert_eq!(orphan["orphan"], true);
    let copy = orphan["issues_copy"].as_str().unwrap();
    assert!(env.path(&format!("out/{copy}")).exists(), "{copy}");
    let video = files
        .iter()
        .find(|f| {
            f["output"] == "messages/snap-messages-jane-friend1-20210102.mp4"
                && f["fate"] == "written"
        })
        .unwrap();
    assert_eq!(video["overlay"]["result"], "burned-in");
    assert_eq!(report["needs_matching"].as_array().unwrap().len(), 1);
    let gone = report["orphaned_metadata"].as_array().unwrap();
    assert!(gone.iter().any(|o| o["reason"].as_str().unwrap().starts_with(
        "Media ID 'b~GONE' referenced in message but file not found"
    )));
}

#[test]
fn malformed_histories_fail_the_processor_not_the_run() {
    let env = TestEnv::new();
    env.write(
        &format!("{ROOT}/json/chat_history.json"),
        b"{\"friend1\": [\n  {oops}\n]}",
    );
    env.write(&format!("{ROOT}/chat_media/2021-01-01_b~AAA.jpg"), &jpeg(1));
    // A second export in the same run is processed normally.
    env.write("google-kim-20250101/Google Photos/A/a.jpg", &jpeg(2));
    env.json(
        "google-kim-20250101/Google Photos/A/a.jpg.json",
        &json!({"title": "a.jpg", "photoTakenTime": {"timestamp": "0"}}),
    );
    std::fs::create_dir(env.path("all")).unwrap();
    for name in ["snapchat-jane-20250101", "google-kim-20250101"] {
        std::fs::rename(env.path(name), env.path(&format!("all/{name}")))
            .unwrap();
    }
    let run = env.run(&["--originals", "all", "-o", "lib"]);
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(
        stderr.contains("✗ FAILED: Snapchat Messages — messages/json/chat_history.json: invalid JSON"),
        "{stderr}"
    );
    assert!(stderr.contains("line 2 column"), "{stderr}");
    assert!(env
        .path("lib/google-kim-20250101/photos/gphotos-kim-19700101.jpg")
        .exists());
    let report = env.read_json("lib/snapchat-jane-20250101/report.json");
    assert_eq!(report["status"], "failed");
    assert_eq!(report["processors"][0]["status"], "failed");
}
