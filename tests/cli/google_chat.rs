//! A Google Chat takeout end to end: names, dates with platform offsets
//! and zone labels, descriptions, issues and report fates.

use serde_json::{json, Value};

use crate::support::*;

const EXPORT: &str = "google-john.doe-20250526";
const GROUPS: &str = "google-john.doe-20250526/Takeout/Google Chat/Groups";
const DM: &str =
    "google-john.doe-20250526/Takeout/Google Chat/Groups/DM 4x9AAAA";

/// 2016-11-03T11:59:50Z: 07:59:50 in New York (-04:00).
const UTC_TIME: i64 = 1_478_174_390;
/// 2016-11-03T13:00:00Z: 18:30:00 at UTC+5:30.
const IST_TIME: i64 = 1_478_178_000;
/// 2016-11-04T13:00:00Z: the PST label read as 09:00 New York time.
const WALL_TIME: i64 = 1_478_264_400;
/// 2016-11-05T15:00:00Z: 11:00:00 in New York (-04:00).
const CLIP_TIME: i64 = 1_478_358_000;

/// Returns a message from `sender` with `date` (if any), `text` and
/// attachments `files`.
fn msg(sender: &str, date: Option<&str>, text: &str, files: &[&str]) -> Value {
    let files: Vec<Value> = files
        .iter()
        .map(|f| json!({"original_name": f, "export_name": f}))
        .collect();
    let mut m = json!({"creator": {"name": sender, "email": "x@example.com"},
                       "text": text, "attached_files": files});
    if let Some(date) = date {
        m["created_date"] = json!(date);
    }
    m
}

/// Builds the takeout: a DM with Jane, an unnamed space and a
/// conversation whose `messages.json` is broken.
pub(crate) fn takeout(env: &TestEnv) {
    let chat = format!("{EXPORT}/Takeout/Google Chat");
    env.json(
        &format!("{chat}/Users/User 1234/user_info.json"),
        &json!({"user": {"name": "John Doe", "email": "john.doe@gmail.com"}}),
    );
    let john = json!({"name": "John Doe", "email": "john.doe@gmail.com"});
    let jane = json!({"name": "Jane Smith", "email": "jane@example.com"});
    let bob = json!({"name": "Bob Stone", "email": "bob@example.com"});
    env.json(
        &format!("{DM}/group_info.json"),
        &json!({"members": [john, jane]}),
    );
    let messages = [
        msg(
            "Jane Smith",
            Some("Thursday, November 3, 2016 at 11:59:50 AM UTC"),
            "look",
            &["File-2016-11-03.jpg"],
        ),
        msg(
            "Jane Smith",
            Some("Thursday, November 3, 2016 at 6:30:00\u{202f}PM UTC+5:30"),
            "",
            &["image.jpg"],
        ),
        msg(
            "John Doe",
            Some("Friday, November 4, 2016 at 9:00:00\u{202f}AM PST"),
            "same name",
            &["image.jpg"],
        ),
        msg(
            "Jane Smith",
            Some("Saturday, November 5, 2016 at 3:00:00 PM UTC"),
            "",
            &["clip.mp4", "gone.jpg"],
        ),
    ];
    env.json(&format!("{DM}/messages.json"), &json!({"messages": messages}));
    env.write(&format!("{DM}/File-2016-11-03.jpg"), &jpeg(1));
    env.write(&format!("{DM}/image.jpg"), &jpeg(2));
    env.write(&format!("{DM}/image(1).jpg"), &jpeg(3));
    mp4(&env.path(DM), "clip.mp4", 4, false);
    env.write(&format!("{DM}/lonely.jpg"), &jpeg(5));
    env.write(&format!("{DM}/notes.txt"), b"not media");

    let space = format!("{GROUPS}/Space AAAA");
    env.json(
        &format!("{space}/group_info.json"),
        &json!({"name": "Group Chat", "members": [john, jane, bob]}),
    );
    let undated = [msg("Bob Stone", None, "", &["party.jpg"])];
    env.json(&format!("{space}/messages.json"), &json!({"messages": undated}));
    env.write(&format!("{space}/party.jpg"), &jpeg(6));

    let bad = format!("{GROUPS}/DM bad");
    env.json(&format!("{bad}/group_info.json"), &json!({"members": []}));
    env.write(&format!("{bad}/messages.json"), b"{\"messages\": [");
    env.write(&format!("{bad}/a.jpg"), &jpeg(7));
}

/// Returns the report entry of input `input` (relative to the export).
fn entry<'a>(files: &'a [Value], input: &str) -> &'a Value {
    files
        .iter()
        .find(|f| f["input"] == input)
        .unwrap_or_else(|| panic!("no report entry for {input}"))
}

#[test]
fn chat_takeout_is_written_dated_described_and_reported() {
    let env = TestEnv::new();
    takeout(&env);
    let before = env.snapshot(EXPORT);
    env.run(&[EXPORT, "-o", "out", "--timezone", "America/New_York"])
        .expect_code(0);
    assert_eq!(before, env.snapshot(EXPORT), "inputs untouched");

    assert_eq!(
        env.tree("out"),
        [
            "chat/gchat-john.doe-jane_bob-00000000.jpg",
            "chat/gchat-john.doe-jane_smith-20161103.jpg",
            "chat/gchat-john.doe-jane_smith-20161103_1.jpg",
            "chat/gchat-john.doe-jane_smith-20161104.jpg",
            "chat/gchat-john.doe-jane_smith-20161105.mp4",
            "chat/issues/failed-matching/media/a.jpg",
            "chat/issues/failed-matching/media/lonely.jpg",
            "chat/issues/failed-matching/metadata/gone.json",
            "chat/issues/failed-matching/metadata/orphaned_metadata_0002.json",
            "chat/issues/failure-report.json",
            "report.json",
        ]
    );

    // UTC text: an instant placed in the --timezone zone.
    let out = env.path("out/chat/gchat-john.doe-jane_smith-20161103.jpg");
    assert_eq!(
        exif_text(&out, exif::Tag::DateTimeOriginal).as_deref(),
        Some("2016:11:03 07:59:50")
    );
    assert_eq!(
        exif_text(&out, exif::Tag::OffsetTimeOriginal).as_deref(),
        Some("-04:00")
    );
    assert_eq!(
        exif_text(&out, exif::Tag::ImageDescription).as_deref(),
        Some(
            "Source: Google Chat/john.doe\nConversation: \"Jane Smith\"\n\
             Sender: \"Jane Smith\""
        )
    );
    assert_eq!(mtime(&out), UTC_TIME);
    let tool = exiftool(&out);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2016:11:03 07:59:50");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "-04:00");

    // UTC+5:30: the platform offset wins over --timezone.
    let ist = env.path("out/chat/gchat-john.doe-jane_smith-20161103_1.jpg");
    assert_eq!(
        exif_text(&ist, exif::Tag::DateTimeOriginal).as_deref(),
        Some("2016:11:03 18:30:00")
    );
    assert_eq!(
        exif_text(&ist, exif::Tag::OffsetTimeOriginal).as_deref(),
        Some("+05:30")
    );
    let tool = exiftool(&ist);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2016:11:03 18:30:00");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "+05:30");
    assert_eq!(tool["ExifIFD:CreateDate"], "2016:11:03 18:30:00");
    assert_eq!(mtime(&ist), IST_TIME);

    // PST is not a numeric zone: the wall clock is kept and placed in
    // the --timezone zone.
    let wall = env.path("out/chat/gchat-john.doe-jane_smith-20161104.jpg");
    let tool = exiftool(&wall);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2016:11:04 09:00:00");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "-04:00");
    assert_eq!(
        tool["IFD0:ImageDescription"],
        "Source: Google Chat/john.doe\nConversation: \"Jane Smith\"\n\
         Sender: \"John Doe\""
    );
    assert_eq!(mtime(&wall), WALL_TIME);

    let clip = env.path("out/chat/gchat-john.doe-jane_smith-20161105.mp4");
    assert_eq!(
        exiftool(&clip)["Keys:CreationDate"],
        "2016:11:05 11:00:00-04:00"
    );
    assert_eq!(mtime(&clip), CLIP_TIME);

    // No date: no date tags, the source's modification time kept.
    let party = env.path("out/chat/gchat-john.doe-jane_bob-00000000.jpg");
    assert_eq!(exif_text(&party, exif::Tag::DateTimeOriginal), None);
    let source = env.path(&format!("{GROUPS}/Space AAAA/party.jpg"));
    assert_eq!(mtime(&party), mtime(&source));
    assert_eq!(
        exif_text(&party, exif::Tag::ImageDescription).as_deref(),
        Some(
            "Source: Google Chat/john.doe\nConversation: \"Jane, Bob\"\n\
             Sender: \"Bob Stone\""
        )
    );

    check_issues(&env);
    check_report(&env);
}

/// Checks `chat/issues/`: byte-identical copies and the failure report.
fn check_issues(env: &TestEnv) {
    let lonely = env.path(&format!("{DM}/lonely.jpg"));
    let copy = env.path("out/chat/issues/failed-matching/media/lonely.jpg");
    assert_eq!(std::fs::read(&lonely).unwrap(), std::fs::read(&copy).unwrap());
    assert_eq!(mtime(&lonely), mtime(&copy));
    let gone =
        env.read_json("out/chat/issues/failed-matching/metadata/gone.json");
    assert_eq!(
        gone,
        json!({"conversation_id": "4x9AAAA", "conversation_name": "Jane Smith",
               "export_name": "gone.jpg",
               "message_timestamp": "Saturday, November 5, 2016 at 3:00:00 PM UTC",
               "sender": "Jane Smith"})
    );
    let broken = env.read_json(
        "out/chat/issues/failed-matching/metadata/orphaned_metadata_0002.json",
    );
    assert_eq!(
        broken["file"],
        "Takeout/Google Chat/Groups/DM bad/messages.json"
    );
    assert!(broken["error"].as_str().unwrap().contains("EOF"));

    let failure = env.read_json("out/chat/issues/failure-report.json");
    assert_eq!(failure["processor_name"], "Google Chat");
    assert_eq!(failure["summary"]["failed_matching"], 4);
    let media =
        failure["failed_matching"]["orphaned_media"].as_array().unwrap();
    let reasons: Vec<(&str, &str)> = media
        .iter()
        .map(|m| {
            (m["file_path"].as_str().unwrap(), m["reason"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "Takeout/Google Chat/Groups/DM 4x9AAAA/lonely.jpg",
                "Not referenced by any message"
            ),
            (
                "Takeout/Google Chat/Groups/DM bad/a.jpg",
                "No matching metadata found"
            ),
        ]
    );
    assert_eq!(media[0]["context"]["conversation_id"], "4x9AAAA");
    assert_eq!(
        media[0]["context"]["copied_to"],
        "issues/failed-matching/media/lonely.jpg"
    );
    let metadata =
        failure["failed_matching"]["orphaned_metadata"].as_array().unwrap();
    let gone = metadata
        .iter()
        .find(|m| m["metadata_entry"]["export_name"] == "gone.jpg")
        .unwrap();
    assert_eq!(gone["reason"], "Media file not found in filesystem");
    assert_eq!(gone["context"]["expected_filename"], "gone.jpg");
    assert_eq!(
        gone["context"]["metadata_saved_to"],
        "issues/failed-matching/metadata/gone.json"
    );
    assert!(metadata.iter().any(|m| m["reason"]
        .as_str()
        .unwrap()
        .starts_with("Invalid JSON: EOF")));
}

/// Checks `report.json`: one fate per input, rules, dates and context.
fn check_report(env: &TestEnv) {
    let report = env.read_json("out/report.json");
    assert_eq!(report["status"], "success");
    let proc = &report["processors"][0];
    assert_eq!(proc["id"], "google_chat");
    assert_eq!(proc["output_folder"], "chat");
    assert_eq!(proc["username"], "john.doe");
    let counts = &proc["counts"];
    assert_eq!(
        (&counts["written"], &counts["unmatched"], &counts["skipped"]),
        (&json!(5), &json!(2), &json!(1))
    );
    assert_eq!(counts["orphaned_metadata"], 2);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 8);
    let dm = "Takeout/Google Chat/Groups/DM 4x9AAAA";
    let first = entry(files, &format!("{dm}/File-2016-11-03.jpg"));
    assert_eq!(first["fate"], "written");
    assert_eq!(first["output"], "chat/gchat-john.doe-jane_smith-20161103.jpg");
    assert_eq!(
        first["match"],
        json!({"rule": "name", "metadata": format!("{dm}/messages.json")})
    );
    assert_eq!(first["date"]["source"], "created_date");
    assert_eq!(first["date"]["instant"], "2016-11-03T11:59:50Z");
    assert_eq!(first["date"]["zone_source"], "timezone");
    assert_eq!(first["albums"], json!(["Google Chat/john.doe"]));
    assert_eq!(first["context"]["conversation"], "Jane Smith");
    assert_eq!(first["context"]["conversation_id"], "4x9AAAA");
    assert_eq!(first["context"]["sender"], "Jane Smith");
    assert_eq!(first["context"]["text"], "look");
    let ist = entry(files, &format!("{dm}/image.jpg"));
    assert_eq!(ist["date"]["offset"], "+05:30");
    assert_eq!(ist["date"]["zone_source"], "platform");
    assert!(ist["context"].get("text").is_none(), "empty text left out");
    let copy = entry(files, &format!("{dm}/image(1).jpg"));
    assert_eq!(copy["match"]["rule"], "numbered-copy");
    assert_eq!(copy["date"]["local"], "2016-11-04T09:00:00");
    let lonely = entry(files, &format!("{dm}/lonely.jpg"));
    assert_eq!(
        (&lonely["fate"], &lonely["reason"]),
        (&json!("unmatched"), &json!("Not referenced by any message"))
    );
    let notes = entry(files, &format!("{dm}/notes.txt"));
    assert_eq!(
        (&notes["fate"], &notes["reason"]),
        (&json!("skipped"), &json!("not media"))
    );
    let bad = entry(files, "Takeout/Google Chat/Groups/DM bad/a.jpg");
    assert_eq!(bad["reason"], "No matching metadata found");
    let orphans = report["orphaned_metadata"].as_array().unwrap();
    let sources: Vec<&str> =
        orphans.iter().map(|o| o["source"].as_str().unwrap()).collect();
    assert_eq!(
        sources,
        [
            format!("{dm}/messages.json#3"),
            "Takeout/Google Chat/Groups/DM bad/messages.json".to_string(),
        ]
    );
}
