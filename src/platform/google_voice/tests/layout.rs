//! Tests of where Google Voice looks: detection, the Takeout level, and
//! folders that are missing or cannot be read.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::{cite, img, is_privileged, matches, message, page, Voice, JANE};
use crate::platform::google_voice::GoogleVoice;
use crate::platform::Platform;

#[test]
fn detection_needs_a_conversation_page() {
    let v = Voice::new();
    assert!(!v.detect(), "empty Calls folder");
    v.put("+1555 - Voicemail - 2016-05-18T15_00_23Z.html", "")
        .put("+1555 - Missed - 2016-05-18T15_00_23Z.html", "")
        .put(".x - Text - 1.html", "")
        .put("y - Text - 1.htm", "")
        .media("y - Text - 1.jpg");
    assert!(!v.detect(), "no text or group page");
    fs::create_dir(v.export.path.join(v.calls).join("z - Text - 1.html"))
        .unwrap();
    assert!(!v.detect(), "a folder is no page");
    v.put("Group Conversation - 2016-05-18T15_00_23Z.html", "");
    assert!(v.detect());

    let text = Voice::new();
    text.put(&format!("{JANE}.HTML"), "");
    assert!(text.detect());
}

#[test]
fn detection_looks_under_takeout_when_it_exists() {
    let t = Voice::takeout();
    t.put(&format!("{JANE}.html"), "");
    assert!(t.detect());

    // With a Takeout folder, a Voice folder beside it is not looked at.
    let beside = Voice::new();
    beside.put(&format!("{JANE}.html"), "");
    fs::create_dir(beside.export.path.join("Takeout")).unwrap();
    assert!(!beside.detect());
    assert!(GoogleVoice.plan(&beside.export).is_err());
}

#[test]
fn detection_is_false_without_voice_folders() {
    let v = Voice::named("google-x-20250101", "Voice");
    assert!(!v.detect());
    let err = GoogleVoice.plan(&v.export).unwrap_err();
    assert!(format!("{err:#}").contains("no Voice/Calls folder"), "{err:#}");
    // A file where the Voice folder should be.
    let f = Voice::named("google-y-20250101", "Other");
    fs::write(f.export.path.join("Voice"), "").unwrap();
    assert!(!f.detect());
}

#[test]
fn takeout_level_is_part_of_every_path() {
    let t = Voice::takeout();
    let body =
        message("2016-05-18T11:00:23-04:00", &cite("A", "+1"), &img("a"));
    t.put(&format!("{JANE}.html"), page("Me to A", &body))
        .media("a.jpg")
        .media("b.png");
    let plan = t.plan();
    let want = [(
        "Takeout/Voice/Calls/a.jpg".to_string(),
        "extension",
        format!("Takeout/Voice/Calls/{JANE}.html"),
    )];
    assert_eq!(matches(&plan), want);
    assert_eq!(plan.unmatched[0].input, "Takeout/Voice/Calls/b.png");
}

#[test]
fn symlinked_files_are_followed_and_folders_not() {
    let v = Voice::new();
    let body =
        message("2016-05-18T11:00:23-04:00", &cite("A", "+1"), &img("a"));
    let elsewhere = v.export.path.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::write(elsewhere.join("a.jpg"), "x").unwrap();
    let calls = v.export.path.join(v.calls);
    std::os::unix::fs::symlink(elsewhere.join("a.jpg"), calls.join("a.jpg"))
        .unwrap();
    std::os::unix::fs::symlink(&elsewhere, calls.join("dir.jpg")).unwrap();
    v.put(&format!("{JANE}.html"), page("Me to A", &body));
    let plan = v.plan();
    assert_eq!(plan.items[0].input, v.rel("a.jpg"));
    assert!(plan.unmatched.is_empty());
}

#[test]
fn an_unreadable_calls_folder_fails_planning_and_detection() {
    let v = Voice::new();
    v.put(&format!("{JANE}.html"), "");
    let calls = v.export.path.join(v.calls);
    fs::set_permissions(&calls, fs::Permissions::from_mode(0o000)).unwrap();
    if !is_privileged(&calls) {
        assert!(!v.detect());
        let err = GoogleVoice.plan(&v.export).unwrap_err();
        assert!(format!("{err:#}").contains("failed to read"), "{err:#}");
    }
    fs::set_permissions(&calls, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(v.detect());
}
