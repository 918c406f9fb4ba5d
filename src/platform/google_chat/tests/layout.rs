//! Tests of where Google Chat looks: detection, the Takeout level,
//! folders that are not conversations, symbolic links and folders that
//! cannot be read.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::{john_and_jane, msg, Takeout, GROUPS, NOV3};
use crate::platform::google_chat::GoogleChat;
use crate::platform::Platform;

#[test]
fn detection_needs_a_conversation_folder() {
    let t = Takeout::new();
    assert!(!t.detect());
    t.put("Google Chat/Users/User 1/user_info.json", "{}");
    assert!(!t.detect());
    t.put(&format!("{GROUPS}/DM 1/messages.json"), r#"{"messages": []}"#);
    assert!(!t.detect(), "messages.json alone is not a conversation");
    t.put(&format!("{GROUPS}/DM 2/group_info.json"), "{}");
    assert!(!t.detect(), "group_info.json alone is not a conversation");
    t.put(&format!("{GROUPS}/.hidden/group_info.json"), "{}")
        .put(&format!("{GROUPS}/.hidden/messages.json"), "{}");
    assert!(!t.detect(), "hidden folders are not entered");
    // An empty message list still counts.
    t.put(&format!("{GROUPS}/DM 2/messages.json"), r#"{"messages": []}"#);
    assert!(t.detect());
    assert!(t.plan().items.is_empty());
}

#[test]
fn detection_is_false_for_files_in_place_of_folders() {
    let t = Takeout::new();
    t.put("Google Chat/Groups", "a file");
    assert!(!t.detect());
    assert!(GoogleChat.plan(&t.export).is_err());
}

#[test]
fn the_takeout_level_is_the_google_root_and_part_of_every_path() {
    let t = Takeout::new();
    let dm = "Takeout/Google Chat/Groups/DM 1";
    t.user("Takeout/Google Chat", "john.doe@gmail.com")
        .conversation(
            dm,
            john_and_jane(),
            &[msg("Jane Smith", NOV3, "", &["a.jpg"])],
        )
        .media(&format!("{dm}/a.jpg"));
    // Once Takeout/ exists, a chat folder beside it is not looked at.
    let beside = format!("{GROUPS}/DM 2");
    t.conversation(
        &beside,
        john_and_jane(),
        &[msg("Jane Smith", NOV3, "", &["b.jpg"])],
    )
    .media(&format!("{beside}/b.jpg"));
    assert!(t.detect());
    let plan = t.plan();
    assert_eq!(plan.username, "john.doe");
    let [item] = plan.items.as_slice() else { panic!("{:?}", plan.items) };
    assert_eq!(item.input, format!("{dm}/a.jpg"));
    assert_eq!(item.matched.metadata, Some(format!("{dm}/messages.json")));
    assert_eq!(item.source, t.export.path.join(dm).join("a.jpg"));
}

#[test]
fn a_takeout_without_chat_is_not_detected() {
    let t = Takeout::new();
    t.put("Takeout/Google Photos/Trip/a.jpg", "x")
        .put(&format!("{GROUPS}/DM 1/group_info.json"), "{}")
        .put(&format!("{GROUPS}/DM 1/messages.json"), "{}");
    assert!(!t.detect());
    assert!(GoogleChat.plan(&t.export).is_err());
}

#[test]
fn folders_without_both_files_are_not_conversations() {
    let t = Takeout::with_user();
    t.put(&format!("{GROUPS}/DM 1/messages.json"), r#"{"messages": []}"#)
        .media(&format!("{GROUPS}/DM 1/a.jpg"))
        .media(&format!("{GROUPS}/loose.jpg"))
        .conversation(&format!("{GROUPS}/DM 2"), john_and_jane(), &[]);
    let plan = t.plan();
    assert!(plan.items.is_empty() && plan.unmatched.is_empty());
    assert!(plan.skipped.is_empty() && plan.orphans.is_empty());
}

#[test]
fn symlinked_files_are_followed_and_folders_not() {
    let t = Takeout::with_user();
    let dm = format!("{GROUPS}/DM 1");
    let messages = [msg("Jane Smith", NOV3, "", &["a.jpg", "b.jpg"])];
    t.conversation(&dm, john_and_jane(), &messages)
        .media("elsewhere/a.jpg")
        .conversation("elsewhere/DM 2", john_and_jane(), &messages)
        .media("elsewhere/DM 2/b.jpg");
    let root = &t.export.path;
    let link = |from: &str, to: &str| {
        std::os::unix::fs::symlink(root.join(from), root.join(to)).unwrap();
    };
    link("elsewhere/a.jpg", &format!("{dm}/a.jpg"));
    link("elsewhere/DM 2", &format!("{GROUPS}/DM 2"));
    link("elsewhere/missing.jpg", &format!("{dm}/b.jpg"));
    let plan = t.plan();
    let inputs: Vec<&str> =
        plan.items.iter().map(|i| i.input.as_str()).collect();
    // The dangling link is listed, so that writing it fails visibly.
    assert_eq!(inputs, [format!("{dm}/a.jpg"), format!("{dm}/b.jpg")]);
    assert!(plan.orphans.is_empty());
}

#[test]
fn unreadable_folders_never_panic() {
    let t = Takeout::with_user();
    let (locked, open) = (format!("{GROUPS}/DM 1"), format!("{GROUPS}/DM 2"));
    let messages = [msg("Jane Smith", NOV3, "", &["a.jpg"])];
    t.conversation(&locked, john_and_jane(), &messages)
        .conversation(&open, john_and_jane(), &messages)
        .media(&format!("{locked}/a.jpg"))
        .media(&format!("{open}/a.jpg"));
    let path = |rel: &str| t.export.path.join(rel);
    let set = |rel: &str, mode: u32| {
        fs::set_permissions(path(rel), fs::Permissions::from_mode(mode))
            .unwrap();
    };
    set(&locked, 0o000);
    // Root reads everything; the checks below only hold for other users.
    let privileged = fs::read_dir(path(&locked)).is_ok();
    if !privileged {
        assert!(t.detect(), "the readable conversation is found");
        let inputs: Vec<String> =
            t.plan().items.iter().map(|i| i.input.clone()).collect();
        assert_eq!(inputs, [format!("{open}/a.jpg")]);
    }
    set(&locked, 0o755);
    set(GROUPS, 0o000);
    if !privileged {
        assert!(!t.detect());
        assert!(GoogleChat.plan(&t.export).is_err());
    }
    set(GROUPS, 0o755);
}
