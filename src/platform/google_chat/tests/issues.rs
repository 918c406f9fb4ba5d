//! Tests of what Google Chat reports: orphaned attachments, unreferenced
//! and non-media files, and a `messages.json` that is not JSON.

use serde_json::{json, Value};

use super::{john_and_jane, msg, Takeout, GROUPS, NOV3};

/// Returns (input, reason, context) of every unmatched file.
fn unmatched(plan: &crate::plan::Plan) -> Vec<(String, String, Value)> {
    let row = |u: &crate::plan::Unmatched| {
        assert_eq!(
            u.source.file_name(),
            std::path::Path::new(&u.input).file_name()
        );
        (u.input.clone(), u.reason.clone(), Value::Object(u.context.clone()))
    };
    plan.unmatched.iter().map(row).collect()
}

#[test]
fn missing_attachments_are_orphaned_metadata() {
    let t = Takeout::with_user();
    let dm = format!("{GROUPS}/DM 4x9AAAA");
    let messages = [
        msg("Jane Smith", NOV3, "see", &["gone.jpg", "here.jpg"]),
        json!({"attached_files": [{"export_name": "also gone.mp4"}]}),
        msg("Jane Smith", NOV3, "again", &["here.jpg"]),
    ];
    t.conversation(&dm, john_and_jane(), &messages)
        .media(&format!("{dm}/here.jpg"));
    let plan = t.plan();
    assert_eq!(plan.items.len(), 1);
    let got: Vec<(String, Value, String, Value)> = plan
        .orphans
        .iter()
        .map(|o| {
            (
                o.source.clone(),
                o.entry.clone(),
                o.reason.clone(),
                Value::Object(o.context.clone()),
            )
        })
        .collect();
    let source = |n: usize| format!("{dm}/messages.json#{n}");
    let reason = "Media file not found in filesystem".to_string();
    let entry = |name: &str, time: Value, sender: &str| {
        json!({"conversation_id": "4x9AAAA", "conversation_name": "Jane Smith",
               "export_name": name, "message_timestamp": time, "sender": sender})
    };
    let context = |name: &str| json!({"conversation_id": "4x9AAAA", "expected_filename": name});
    assert_eq!(
        got,
        [
            (
                source(0),
                entry("gone.jpg", json!(NOV3), "Jane Smith"),
                reason.clone(),
                context("gone.jpg")
            ),
            (
                source(1),
                entry("also gone.mp4", Value::Null, "Unknown"),
                reason.clone(),
                context("also gone.mp4")
            ),
            // The second use of a name without a numbered copy.
            (
                source(2),
                entry("here.jpg", json!(NOV3), "Jane Smith"),
                reason.clone(),
                context("here.jpg")
            ),
        ]
    );
}

#[test]
fn unreferenced_and_non_media_files_are_reported() {
    let t = Takeout::with_user();
    let dm = format!("{GROUPS}/DM 4x9AAAA");
    t.conversation(
        &dm,
        john_and_jane(),
        &[msg("Jane Smith", NOV3, "", &["a.jpg"])],
    );
    for file in [
        "a.jpg",
        "b.MOV",
        "c(1).jpg",
        "notes.txt",
        "voice.m4a",
        "other.json",
        ".hidden.jpg",
        "thumbnails.jpg",
        "@eaDir.jpg",
    ] {
        t.media(&format!("{dm}/{file}"));
    }
    t.media(&format!("{dm}/sub/d.jpg"));
    let plan = t.plan();
    assert_eq!(plan.items.len(), 1);
    let reason = "Not referenced by any message".to_string();
    let row = |file: &str| {
        let input = format!("{dm}/{file}");
        let context =
            json!({"conversation_id": "4x9AAAA", "original_location": input});
        (input, reason.clone(), context)
    };
    assert_eq!(unmatched(&plan), [row("b.MOV"), row("c(1).jpg")]);
    let skipped: Vec<(String, String)> = plan
        .skipped
        .iter()
        .map(|s| (s.input.clone(), s.reason.clone()))
        .collect();
    let skip = |file: &str| (format!("{dm}/{file}"), "not media".to_string());
    assert_eq!(
        skipped,
        [skip("notes.txt"), skip("other.json"), skip("voice.m4a")]
    );
    assert!(plan.orphans.is_empty());
}

#[test]
fn malformed_messages_orphan_one_conversation_only() {
    let t = Takeout::with_user();
    let (bad, good) = (format!("{GROUPS}/DM bad"), format!("{GROUPS}/DM good"));
    t.put(&format!("{bad}/group_info.json"), &john_and_jane().to_string())
        .put(&format!("{bad}/messages.json"), "{\"messages\": [")
        .media(&format!("{bad}/a.jpg"))
        .media(&format!("{bad}/notes.txt"))
        .conversation(
            &good,
            john_and_jane(),
            &[msg("Jane Smith", NOV3, "", &["b.jpg"])],
        )
        .media(&format!("{good}/b.jpg"));
    let plan = t.plan();
    let inputs: Vec<&str> =
        plan.items.iter().map(|i| i.input.as_str()).collect();
    assert_eq!(inputs, [format!("{good}/b.jpg")]);
    let [orphan] = plan.orphans.as_slice() else {
        panic!("{:?}", plan.orphans)
    };
    let source = format!("{bad}/messages.json");
    assert_eq!(orphan.source, source);
    let error = orphan.entry["error"].as_str().unwrap();
    assert!(error.contains("EOF while parsing"), "{error}");
    assert_eq!(orphan.entry, json!({"file": source, "error": error}));
    assert_eq!(orphan.reason, format!("Invalid JSON: {error}"));
    assert_eq!(
        Value::Object(orphan.context.clone()),
        json!({"conversation_id": "bad"})
    );
    let input = format!("{bad}/a.jpg");
    let context = json!({"conversation_id": "bad", "original_location": input});
    assert_eq!(
        unmatched(&plan),
        [(input, "No matching metadata found".to_string(), context)]
    );
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].input, format!("{bad}/notes.txt"));
}

#[test]
fn a_messages_file_without_a_list_has_no_messages() {
    let t = Takeout::with_user();
    let dm = format!("{GROUPS}/DM 1");
    t.put(&format!("{dm}/group_info.json"), "not json either")
        .put(&format!("{dm}/messages.json"), "{}")
        .media(&format!("{dm}/a.jpg"));
    let plan = t.plan();
    assert!(plan.items.is_empty() && plan.orphans.is_empty());
    assert_eq!(plan.unmatched[0].reason, "Not referenced by any message");
}
