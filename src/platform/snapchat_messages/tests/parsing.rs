//! Tests of detection, errors, usernames, conversation kinds, dates,
//! `chat_media/` classification, descriptions and item order.

use std::fs;

use serde_json::json;

use super::{inputs, item, msg, skipped, Snap};
use crate::media::model::DescriptionPolicy;
use crate::plan::{Capture, SuffixStyle, When};
use crate::platform::Platform;

const AT: &str = "2021-01-01T10:00:00Z";

#[test]
fn registry_constants() {
    let p = super::SnapchatMessages;
    assert_eq!(
        (p.name(), p.id(), p.priority()),
        ("Snapchat Messages", "snapchat_messages", 85)
    );
    let rules = p.rules();
    assert_eq!(rules.folder, "messages");
    assert_eq!(rules.suffix, SuffixStyle::FromTwo);
    assert!(rules.dedup && rules.merge_descriptions);
    assert!(matches!(rules.description, DescriptionPolicy::Overwrite));
}

#[test]
fn both_layouts_are_detected() {
    for snap in [Snap::nested(), Snap::with_root("snapchat-jane-1", "")] {
        assert!(!snap.detect(), "no chat_history.json yet");
        snap.history(json!({}));
        assert!(snap.detect(), "root {:?}", snap.root);
    }
    let memories = Snap::with_root("snapchat-jane-2", "memories/");
    fs::write(memories.export.path.join("memories/metadata.json"), "[]")
        .unwrap();
    assert!(!memories.detect(), "memories only");
}

#[test]
fn missing_chat_media_and_invalid_json_stop_the_processor() {
    let snap = Snap::nested();
    snap.history(json!({}));
    fs::remove_dir(snap.export.path.join("messages/chat_media")).unwrap();
    assert_eq!(snap.error(), "chat_media/ not found beside json/");

    let snap = Snap::nested();
    snap.history_text("{\"friend1\": [\n  {\"From\": }\n]}");
    assert_eq!(
        snap.error(),
        "messages/json/chat_history.json: invalid JSON: expected value at \
         line 2 column 12"
    );
}

#[test]
fn usernames_fall_back_to_the_first_sent_message() {
    let sent = json!({"a": [{"From": "x", "IsSender": false, "Media Type": "TEXT"},
                            {"From": "me", "IsSender": true, "Media Type": "TEXT"}]});
    let cases = [
        ("snapchat-jane-20250526", "jane"),
        ("snapmsgs-bob-20250526", "bob"),
        ("my export", "me"),
    ];
    for (name, want) in cases {
        let snap = Snap::with_root(name, "messages/");
        snap.history(sent.clone());
        assert_eq!(snap.plan().username, want, "{name}");
    }
    let snap = Snap::with_root("my export", "messages/");
    snap.history(json!({"a": [{"From": "x", "IsSender": false}]}));
    assert_eq!(snap.plan().username, "unknown");
}

#[test]
fn conversation_kinds_give_names_and_descriptions() {
    let snap = Snap::nested();
    let mut titled = msg("ann", "2021-01-01 10:00:00 UTC", "b~G", json!(null));
    titled["Conversation Title"] = json!(null);
    snap.history(json!({
        "Friend.One": [msg("Friend.One", "2021-01-01 10:00:00 UTC", "b~D",
                           json!("lol\nso\r\nfunny"))],
        "group-key": [{"From": "ann", "Media Type": "TEXT",
                       "Conversation Title": "Ski trip!", "Created": "x"},
                      titled],
        "8d2f0c4e-1a2b-4c3d-9e8f-0a1b2c3d4e5f":
            [{"Media Type": "MEDIA", "Created": "2021-01-01 10:00:00 UTC",
              "Content": "", "Media IDs": " b~U |"}],
    }));
    snap.media("2021-01-01_b~D.jpg", AT)
        .media("2021-01-01_b~G.jpg", AT)
        .media("2021-01-01_b~U.jpg", AT);
    let plan = snap.plan();
    assert_eq!(plan.items.len(), 3);
    let dm = item(&plan, "b~D.jpg", 0);
    assert_eq!(dm.prefix, "snap-messages-jane-friendone");
    assert_eq!(
        dm.description.as_deref(),
        Some("Source: Snapchat/jane/messages\n  - Friend.One in \"DM with Friend.One\": \"lol so funny\"")
    );
    assert_eq!(dm.album, "Friend.One");
    assert_eq!(dm.shared_prefix.as_deref(), Some("snap-messages-jane"));
    assert_eq!(dm.albums, ["Snapchat/jane/messages"]);
    assert_eq!(dm.matched.rule, "media-id");
    assert_eq!(
        dm.matched.metadata.as_deref(),
        Some("messages/json/chat_history.json")
    );
    assert_eq!(
        serde_json::Value::Object(dm.context.clone()),
        json!({"conversation": "DM with Friend.One", "conversation_type": "dm",
               "sender": "Friend.One", "content": "lol\nso\r\nfunny",
               "created": "2021-01-01 10:00:00 UTC"})
    );
    assert!(dm.caption.is_none() && !dm.favorite && dm.group.is_empty());

    let group = item(&plan, "b~G.jpg", 0);
    assert_eq!(group.prefix, "snap-messages-jane-ski_trip");
    assert_eq!(
        group.description.as_deref(),
        Some("Source: Snapchat/jane/messages\n  - ann in \"Ski trip!\"")
    );
    assert_eq!(group.context["conversation_type"], "group");

    let untitled = item(&plan, "b~U.jpg", 0);
    assert_eq!(untitled.prefix, "snap-messages-jane-unknown");
    assert_eq!(
        untitled.description.as_deref(),
        Some(
            "Source: Snapchat/jane/messages\n  - unknown in \"Unknown Group\""
        )
    );
}

#[test]
fn created_values_become_captures() {
    let snap = Snap::nested();
    let mut ms = msg("f", "bad", "b~M", json!(null));
    ms["Created(microseconds)"] = json!(1_609_495_200_123_u64);
    let mut us = msg("f", "", "b~U", json!(null));
    us["Created(microseconds)"] = json!("1609495201123456");
    snap.history(json!({"f": [
        msg("f", "2021-01-03", "b~D", json!(null)),
        msg("f", "2021-01-01 10:00:00.5 UTC", "b~I", json!(null)),
        ms, us,
        msg("f", "yesterday", "b~N", json!(null)),
    ]}));
    for id in ["D", "I", "M", "U", "N"] {
        snap.media(&format!("2021-01-01_b~{id}.jpg"), AT);
    }
    let plan = snap.plan();
    let when = |id: &str| {
        let capture = item(&plan, &format!("b~{id}.jpg"), 0).capture;
        capture.map(|Capture { when, source }| {
            assert_eq!(source, "Created");
            when
        })
    };
    let noon = jiff::civil::date(2021, 1, 3).at(12, 0, 0, 0);
    assert_eq!(when("D"), Some(When::Wall(noon)));
    let instant = |s: &str| Some(When::Instant(s.parse().unwrap()));
    assert_eq!(when("I"), instant("2021-01-01T10:00:00Z"));
    assert_eq!(when("M"), instant("2021-01-01T10:00:00Z"));
    assert_eq!(when("U"), instant("2021-01-01T10:00:01Z"));
    assert_eq!(when("N"), None);
    let bad = item(&plan, "b~N.jpg", 0);
    assert_eq!(bad.warnings, ["unusable Created value 'yesterday'"]);
}

#[test]
fn chat_media_files_are_classified() {
    let snap = Snap::nested();
    snap.history(json!({"f": [msg("f", "2021-01-01 12:00:00 UTC", "b~J|b~T", json!(null))]}));
    let hex = "0123456789abcdef0123456789ABCDEF";
    snap.file("2021-01-01_b~J.unknown", b"\xFF\xD8\xFF\xE0rest", AT)
        .file("2021-01-01_b~T.unknown", b"just text", AT)
        .media("2021-01-01_thumbnail~zip-AAA.jpg", AT)
        .media("__MACOSX_junk.jpg", AT)
        .media("notes.txt", AT)
        .media(&format!("2021-01-01_{hex}.JPEG"), AT)
        .media(&format!("2021-01-01_{hex}.gif"), AT);
    let plan = snap.plan();
    let unknown = item(&plan, "b~J.unknown", 0);
    assert!(unknown.source.ends_with("2021-01-01_b~J.unknown"));
    assert_eq!(
        skipped(&plan),
        [
            (
                snap.rel(&format!("2021-01-01_{hex}.gif")).as_str(),
                "unrecognised chat_media file"
            ),
            (snap.rel("2021-01-01_b~T.unknown").as_str(), "not media"),
            (
                snap.rel("2021-01-01_thumbnail~zip-AAA.jpg").as_str(),
                "thumbnail"
            ),
            (snap.rel("notes.txt").as_str(), "unrecognised chat_media file"),
        ]
    );
    let orphan = item(&plan, &format!("{hex}.JPEG"), 0);
    assert_eq!(orphan.matched.rule, "orphan");
    // b~T was skipped, so its id is unresolved.
    assert_eq!(plan.orphans.len(), 1);
    assert_eq!(inputs(&plan).len(), 2);
}

#[test]
fn items_come_in_primary_order() {
    let snap = Snap::nested();
    snap.history(json!({
        "late": [msg("a", "2021-01-05 10:00:00 UTC", "b~L2|b~L1", json!(null))],
        "early": [msg("b", "2021-01-02 10:00:00 UTC", "b~E", json!(null)),
                  msg("b", "2021-01-05 10:00:00 UTC", "b~L1", json!(null))],
    }));
    snap.media("a_b~L1.jpg", AT)
        .media("a_b~L2.jpg", AT)
        .media("a_b~E.jpg", AT)
        .media("z_media~zip-1.jpg", "2020-01-01T00:00:00Z")
        .media("y_media~zip-2.jpg", "2020-01-01T00:00:00Z")
        .media("x_media~zip-3.jpg", "2019-01-01T00:00:00Z");
    let plan = snap.plan();
    let names: Vec<&str> =
        inputs(&plan).iter().map(|i| i.rsplit('/').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "a_b~E.jpg",
            "a_b~L2.jpg",
            "a_b~L1.jpg",
            "a_b~L1.jpg",
            "x_media~zip-3.jpg",
            "y_media~zip-2.jpg",
            "z_media~zip-1.jpg",
        ]
    );
    assert_eq!(item(&plan, "a_b~L1.jpg", 0).album, "late");
    assert_eq!(item(&plan, "a_b~L1.jpg", 1).album, "early");
}
