//! Tests of matching (platforms.md §10.5): media ids, file times with
//! their tolerance, overlays, ambiguous cases, orphans and unresolved ids.

use serde_json::json;

use super::{inputs, item, msg, overlay, skipped, Snap};

const T: &str = "2021-01-02 18:30:00 UTC";

/// Returns RFC 3339 text `s` seconds after `T`.
fn after(s: u32) -> String {
    format!("2021-01-02T18:30:{s:02}Z")
}

#[test]
fn zip_media_match_by_time_within_two_seconds() {
    let snap = Snap::nested();
    snap.history(json!({"f": [msg("f", T, "A", json!(null)),
                              msg("f", "2021-01-03 18:30:00 UTC", "B", json!(null))]}));
    snap.media("2021-01-02_media~zip-UUID1.mp4", &after(2))
        .media("2021-01-03_media~zip-UUID2.mp4", "2021-01-03T18:30:03Z");
    let plan = snap.plan();
    let matched = item(&plan, "UUID1.mp4", 0);
    assert_eq!(matched.matched.rule, "mtime");
    assert_eq!(matched.album, "f");
    assert!(matched.orphan.is_none());
    let late = item(&plan, "UUID2.mp4", 0);
    assert_eq!(late.matched.rule, "orphan", "3 s is too far");
    assert_eq!(plan.orphans.len(), 1);
    let orphan = &plan.orphans[0];
    assert_eq!(orphan.source, "messages/json/chat_history.json#f/1");
    assert_eq!(
        orphan.reason,
        "Media ID 'B' referenced in message but file not found (after all \
         matching attempts)"
    );
    assert_eq!(orphan.entry["Media IDs"], "B");
}

#[test]
fn the_closest_file_wins() {
    let snap = Snap::nested();
    snap.history(json!({"f": [msg("f", T, "A", json!(null))]}));
    snap.media("a_media~zip-FAR.jpg", &after(2))
        .media("b_media~zip-NEAR.jpg", &after(1));
    let plan = snap.plan();
    assert_eq!(item(&plan, "NEAR.jpg", 0).matched.rule, "mtime");
    assert_eq!(item(&plan, "FAR.jpg", 0).matched.rule, "orphan");
}

#[test]
fn media_ids_and_times_fill_a_message_in_order() {
    let snap = Snap::nested();
    snap.history(json!({"f": [
        {"From": "x", "Media Type": "TEXT", "Created": T},
        msg("f", T, "Z1|b~A|Z2|Z3", json!(null)),
    ]}));
    snap.media("2021-01-02_b~A.jpg", "2020-01-01T00:00:00Z")
        .media("q_media~zip-1.jpg", &after(0))
        .media("p_media~zip-2.jpg", &after(0));
    let plan = snap.plan();
    let names: Vec<&str> = inputs(&plan);
    assert_eq!(
        names,
        [
            "messages/chat_media/p_media~zip-2.jpg",
            "messages/chat_media/2021-01-02_b~A.jpg",
            "messages/chat_media/q_media~zip-1.jpg",
        ]
    );
    assert_eq!(plan.orphans.len(), 1);
    assert_eq!(plan.orphans[0].source, "messages/json/chat_history.json#f/1");
    assert!(plan.orphans[0].reason.starts_with("Media ID 'Z3' "));
}

#[test]
fn an_overlay_goes_to_the_single_video_and_every_file_of_its_message() {
    let snap = Snap::nested();
    snap.history(json!({"f": [msg("f", T, "b~I|V", json!(null))]}));
    snap.media("2021-01-02_b~I.jpg", "2020-01-01T00:00:00Z")
        .media("2021-01-02_media~zip-V.mp4", &after(0))
        .media("2021-01-02_overlay~zip-O.png", &after(1));
    let plan = snap.plan();
    for file in ["b~I.jpg", "zip-V.mp4"] {
        assert_eq!(
            overlay(item(&plan, file, 0)).as_deref(),
            Some("2021-01-02_overlay~zip-O.png"),
            "{file}"
        );
    }
    assert!(plan.skipped.is_empty());
    assert!(plan.needs_matching.is_empty());
}

#[test]
fn images_alone_never_claim_an_overlay() {
    let snap = Snap::nested();
    snap.history(json!({"f": [msg("f", T, "b~I", json!(null))]}));
    snap.media("2021-01-02_b~I.jpg", &after(0))
        .media("2021-01-02_overlay~zip-O.png", &after(0));
    let plan = snap.plan();
    assert_eq!(overlay(item(&plan, "b~I.jpg", 0)), None);
    assert_eq!(
        skipped(&plan),
        [(
            "messages/chat_media/2021-01-02_overlay~zip-O.png",
            "overlay not matched to any message"
        )]
    );
}

#[test]
fn two_videos_and_two_overlays_need_a_person() {
    let snap = Snap::nested();
    snap.history(
        json!({"friend1": [msg("friend1", T, "b~I|V1|V2", json!(null))]}),
    );
    snap.media("2021-01-02_b~I.jpg", &after(0))
        .media("2021-01-02_media~zip-V1.mp4", &after(0))
        .media("2021-01-02_media~zip-V2.MP4", &after(0))
        .media("2021-01-02_overlay~zip-O1.png", &after(0))
        .media("2021-01-02_overlay~zip-O2.png", &after(1));
    let plan = snap.plan();
    assert_eq!(plan.items.len(), 3);
    for item in &plan.items {
        assert_eq!(item.overlay, None);
        assert_eq!(item.warnings.len(), 1, "{}", item.input);
    }
    assert_eq!(plan.needs_matching.len(), 1);
    let case = &plan.needs_matching[0];
    let hint = "1 images + 2 videos, but only 2 overlays. Images don't need \
                overlays and are processed normally.";
    assert_eq!(case.folder, "2021-01-02_18-30-00_UTC");
    assert_eq!(case.timestamp, T);
    assert_eq!(case.hint, hint);
    let names = |paths: &[std::path::PathBuf]| -> Vec<String> {
        paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into())
            .collect()
    };
    assert_eq!(
        names(&case.videos),
        ["2021-01-02_media~zip-V1.mp4", "2021-01-02_media~zip-V2.MP4"]
    );
    assert_eq!(
        names(&case.overlays),
        ["2021-01-02_overlay~zip-O1.png", "2021-01-02_overlay~zip-O2.png"]
    );
    assert_eq!(
        case.info,
        json!({
            "timestamp": T,
            "message_metadata": {"conversation_id": "friend1",
                "conversation_type": "dm", "conversation_title": null,
                "sender": "friend1", "content": "", "is_sender": false,
                "created": T},
            "media_files": [
                {"filename": "2021-01-02_b~I.jpg", "media_id": "b~I",
                 "uuid": "", "type": "image", "extension": ".jpg"},
                {"filename": "2021-01-02_media~zip-V1.mp4", "media_id": "",
                 "uuid": "V1", "type": "video", "extension": ".mp4"},
                {"filename": "2021-01-02_media~zip-V2.MP4", "media_id": "",
                 "uuid": "V2", "type": "video", "extension": ".mp4"},
            ],
            "overlays": [
                {"filename": "2021-01-02_overlay~zip-O1.png", "uuid": "O1"},
                {"filename": "2021-01-02_overlay~zip-O2.png", "uuid": "O2"},
            ],
            "analysis": {"media_count": 3, "overlay_count": 2, "images": 1,
                         "videos": 2, "hint": hint},
            "export_username": "jane",
        })
    );
}

#[test]
fn orphans_are_dated_by_file_time_and_take_a_lone_overlay() {
    let snap = Snap::nested();
    snap.history(json!({}));
    snap.media("b_media~zip-V.mp4", &after(0))
        .media("b_overlay~zip-O.png", &after(1))
        .media("a_media~zip-W.jpg", &after(5))
        .media("c_overlay~zip-P.png", "2022-01-01T00:00:00Z")
        .media("d_overlay~zip-Q.png", "2022-01-01T00:00:00Z")
        .media("c_media~zip-X.jpg", "2022-01-01T00:00:01Z");
    let plan = snap.plan();
    assert_eq!(
        inputs(&plan),
        [
            "messages/chat_media/b_media~zip-V.mp4",
            "messages/chat_media/a_media~zip-W.jpg",
            "messages/chat_media/c_media~zip-X.jpg",
        ]
    );
    let first = &plan.items[0];
    assert_eq!(overlay(first).as_deref(), Some("b_overlay~zip-O.png"));
    assert_eq!(first.prefix, "snap-messages-jane-unknown");
    assert_eq!(
        first.description.as_deref(),
        Some("Source: Snapchat/jane/messages")
    );
    assert_eq!(first.matched.rule, "orphan");
    assert_eq!(
        first.orphan.as_deref(),
        Some("Not matched to any message in chat_history.json")
    );
    let capture = first.capture.unwrap();
    assert_eq!(capture.source, "file_mtime");
    assert_eq!(
        capture.when,
        crate::plan::When::Instant(after(0).parse().unwrap())
    );
    assert_eq!(overlay(&plan.items[1]), None, "no overlay at its time");
    assert_eq!(overlay(&plan.items[2]), None, "two overlays at its time");
    assert_eq!(skipped(&plan).len(), 2);
}
