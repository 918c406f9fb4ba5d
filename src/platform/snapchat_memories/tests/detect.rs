//! Tests of Snapchat Memories detection (platforms.md §9.1) and of the
//! errors that stop planning.

use std::fs;

use serde_json::json;

use super::{entry, worked_example, Snap, SnapchatMemories};
use crate::platform::Platform;

#[test]
fn both_layouts_are_detected() {
    for snap in [Snap::nested(), Snap::flat()] {
        assert!(!snap.detect(), "no metadata.json yet");
        snap.metadata(worked_example());
        assert!(snap.detect(), "root {:?}", snap.root);
    }
}

#[test]
fn overlays_may_be_empty_but_every_part_must_exist() {
    let snap = Snap::nested();
    snap.metadata(worked_example());
    assert!(snap.detect(), "empty media/ and overlays/");
    fs::remove_dir(snap.export.path.join("memories/overlays")).unwrap();
    assert!(!snap.detect(), "no overlays/");
    snap.put("memories/overlays", "a file, not a folder");
    assert!(!snap.detect(), "overlays is a file");

    let snap = Snap::flat();
    snap.metadata(worked_example());
    fs::remove_dir(snap.export.path.join("media")).unwrap();
    assert!(!snap.detect(), "no media/");

    let snap = Snap::flat();
    snap.dir("metadata.json");
    assert!(!snap.detect(), "metadata.json is a folder");
}

#[test]
fn metadata_json_must_look_like_memories() {
    let valid = entry("2021-01-04 23:08:30 UTC", "p1.jpg", json!({}));
    let cases = [
        ("not json", "[{\"date\": ", false),
        ("empty file", "", false),
        ("object", r#"{"media_files": []}"#, false),
        ("empty array", "[]", false),
        ("string elements", r#"["p1.jpg"]"#, false),
        ("no media_type", r#"[{"date": "x", "media_filename": "p"}]"#, false),
        ("no date", r#"[{"media_type": "x", "media_filename": "p"}]"#, false),
        ("no filename", r#"[{"date": "x", "media_type": "p"}]"#, false),
        (
            "null values",
            r#"[{"date": null, "media_type": null,
            "media_filename": null}]"#,
            true,
        ),
        ("later entries are not checked", &json!([valid, 5]).to_string(), true),
    ];
    for (what, text, want) in cases {
        let snap = Snap::nested();
        snap.metadata_text(text);
        assert_eq!(snap.detect(), want, "{what}");
    }
}

#[test]
fn memories_is_preferred_only_when_it_passes() {
    let snap = Snap::nested();
    snap.dir("media").dir("overlays");
    snap.put("metadata.json", &worked_example().to_string());
    snap.metadata(worked_example()).media(&["p1.jpg"]);
    snap.put("media/v1.mp4", "placeholder");
    let plan = snap.plan();
    assert_eq!(
        super::inputs(&plan),
        ["memories/media/p1.jpg"],
        "memories/ passes and wins"
    );

    snap.metadata_text("[]");
    assert!(snap.detect(), "the export itself passes");
    let plan = snap.plan();
    assert_eq!(super::inputs(&plan), ["media/v1.mp4"]);
    assert_eq!(plan.orphans.len(), 1, "p1.jpg is not in media/");
}

#[cfg(unix)]
#[test]
fn a_linked_memories_folder_is_not_entered() {
    let snap = Snap::with_root("snapchat-jane-20250526", "elsewhere/");
    snap.metadata(worked_example());
    let link = snap.export.path.join("memories");
    std::os::unix::fs::symlink(snap.export.path.join("elsewhere"), link)
        .unwrap();
    assert!(!snap.detect());
}

#[test]
fn planning_fails_when_metadata_json_is_unusable() {
    let snap = Snap::nested();
    snap.metadata_text("[{\"date\": ");
    assert!(!snap.detect());
    let err = SnapchatMemories.plan(&snap.export).unwrap_err().to_string();
    assert_eq!(
        err,
        "memories/metadata.json: invalid JSON: EOF while parsing a value at \
         line 1 column 10"
    );

    let snap = Snap::flat();
    snap.metadata(json!({"date": "x"}));
    let err = SnapchatMemories.plan(&snap.export).unwrap_err().to_string();
    assert_eq!(err, "metadata.json: not a JSON array");

    let snap = Snap::flat();
    let err = SnapchatMemories.plan(&snap.export).unwrap_err().to_string();
    let want = format!(
        "no media/, overlays/ and metadata.json in {}",
        snap.export.path.display()
    );
    assert_eq!(err, want);
}

#[test]
fn an_empty_array_plans_nothing_but_its_files() {
    let snap = Snap::flat();
    snap.metadata_text("[]").media(&["p1.jpg"]).overlays(&["o1.png"]);
    assert!(!snap.detect());
    let plan = snap.plan();
    assert!(plan.items.is_empty() && plan.orphans.is_empty());
    assert_eq!(plan.unmatched.len(), 1);
    assert_eq!(plan.skipped.len(), 1);
}
