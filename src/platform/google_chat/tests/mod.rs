//! Tests of the Google Chat processor on small takeouts built in
//! temporary folders (media bytes are placeholders; they are never read).

mod issues;
mod layout;

use std::fs;

use jiff::tz::Offset;
use jiff::Timestamp;
use serde_json::{json, Value};
use tempfile::TempDir;

use super::GoogleChat;
use crate::media::model::DescriptionPolicy;
use crate::plan::{Capture, Export, Item, Plan, SuffixStyle, When};
use crate::platform::Platform;

/// The groups folder without a Takeout level.
const GROUPS: &str = "Google Chat/Groups";
/// The exporting user's address.
const EMAIL: &str = "john.doe@gmail.com";
/// A `created_date` in UTC: 2016-11-03T11:59:50Z.
const NOV3: &str = "Thursday, November 3, 2016 at 11:59:50 AM UTC";

/// A takeout export in a temporary folder.
struct Takeout {
    _dir: TempDir,
    export: Export,
}

impl Takeout {
    /// Returns an empty export named `google-fallback.user-20250526`, so
    /// that a username taken from the folder name is recognisable.
    fn new() -> Takeout {
        let dir = TempDir::new().unwrap();
        let name = "google-fallback.user-20250526".to_string();
        let path = dir.path().join(&name);
        fs::create_dir(&path).unwrap();
        let export = Export { name, path: path.canonicalize().unwrap() };
        Takeout { _dir: dir, export }
    }

    /// Returns an export whose `user_info.json` holds `EMAIL`.
    fn with_user() -> Takeout {
        let t = Takeout::new();
        t.user("Google Chat", EMAIL);
        t
    }

    /// Writes `text` to `rel` inside the export, creating folders.
    fn put(&self, rel: &str, text: &str) -> &Takeout {
        let path = self.export.path.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        self
    }

    /// Writes a placeholder media file at `rel`.
    fn media(&self, rel: &str) -> &Takeout {
        self.put(rel, "placeholder")
    }

    /// Writes `Users/User 1/user_info.json` with `email` under `chat`.
    fn user(&self, chat: &str, email: &str) -> &Takeout {
        let info = json!({"user": {"name": "John Doe", "email": email}});
        self.put(
            &format!("{chat}/Users/User 1/user_info.json"),
            &info.to_string(),
        )
    }

    /// Writes the two JSON files of conversation folder `folder`.
    fn conversation(
        &self,
        folder: &str,
        info: Value,
        messages: &[Value],
    ) -> &Takeout {
        let list = json!({"messages": messages});
        self.put(&format!("{folder}/group_info.json"), &info.to_string())
            .put(&format!("{folder}/messages.json"), &list.to_string())
    }

    fn detect(&self) -> bool {
        GoogleChat.detect(&self.export)
    }

    fn plan(&self) -> Plan {
        GoogleChat.plan(&self.export).unwrap()
    }
}

/// Returns a message from `sender` at `date` with `text` and attachments
/// `files`.
fn msg(sender: &str, date: &str, text: &str, files: &[&str]) -> Value {
    let files: Vec<Value> = files
        .iter()
        .map(|f| json!({"original_name": f, "export_name": f}))
        .collect();
    json!({"creator": {"name": sender, "email": "x@example.com"},
           "created_date": date, "text": text, "attached_files": files})
}

/// Returns `group_info.json` with `members` (name, email) and an optional
/// space name.
fn info(name: Option<&str>, members: &[(&str, &str)]) -> Value {
    let members: Vec<Value> =
        members.iter().map(|(n, e)| json!({"name": n, "email": e})).collect();
    match name {
        Some(name) => json!({"name": name, "members": members}),
        None => json!({"members": members}),
    }
}

/// Returns the members John Doe (the user) and Jane Smith.
fn john_and_jane() -> Value {
    info(None, &[("John Doe", EMAIL), ("Jane Smith", "jane@example.com")])
}

/// Returns (input, rule, prefix) of every item, in plan order.
fn rows(plan: &Plan) -> Vec<(String, &'static str, String)> {
    let row = |i: &Item| (i.input.clone(), i.matched.rule, i.prefix.clone());
    plan.items.iter().map(row).collect()
}

/// Returns owned rows from string slices.
fn want(
    rows: &[(&str, &'static str, &str)],
) -> Vec<(String, &'static str, String)> {
    rows.iter().map(|(a, r, p)| (a.to_string(), *r, p.to_string())).collect()
}

/// Returns the instant capture of RFC 3339 text `utc`.
fn instant(utc: &str) -> Option<Capture> {
    let when = When::Instant(utc.parse::<Timestamp>().unwrap());
    Some(Capture { when, source: "created_date" })
}

#[test]
fn rules_and_identity() {
    let rules = GoogleChat.rules();
    assert_eq!(
        (GoogleChat.name(), GoogleChat.id(), GoogleChat.priority()),
        ("Google Chat", "google_chat", 50)
    );
    assert_eq!(rules.folder, "chat");
    assert_eq!(rules.suffix, SuffixStyle::FromOne);
    assert!(!rules.dedup);
    assert_eq!(rules.description, DescriptionPolicy::KeepIfPresent);
}

#[test]
fn a_direct_message_becomes_a_complete_item() {
    let t = Takeout::with_user();
    let dm = format!("{GROUPS}/DM 4x9AAAA");
    t.conversation(
        &dm,
        john_and_jane(),
        &[msg("Jane Smith", NOV3, "look", &["File-2016-11-03.png"])],
    )
    .media(&format!("{dm}/File-2016-11-03.png"));
    let plan = t.plan();
    assert_eq!(plan.username, "john.doe");
    let [item] = plan.items.as_slice() else { panic!("{:?}", plan.items) };
    let input = format!("{dm}/File-2016-11-03.png");
    assert_eq!(item.source, t.export.path.join(&input));
    assert_eq!(item.input, input);
    assert_eq!(item.capture, instant("2016-11-03T11:59:50Z"));
    assert_eq!(item.gps, None);
    assert_eq!(
        item.description.as_deref(),
        Some("Source: Google Chat/john.doe\nConversation: \"Jane Smith\"\nSender: \"Jane Smith\"")
    );
    assert_eq!(item.caption, None);
    assert_eq!(item.prefix, "gchat-john.doe-jane_smith");
    assert_eq!(item.group, "");
    assert_eq!(item.album, "Jane Smith");
    assert_eq!(item.albums, ["Google Chat/john.doe"]);
    assert_eq!(item.matched.rule, "name");
    assert_eq!(item.matched.metadata, Some(format!("{dm}/messages.json")));
    let context = json!({"conversation": "Jane Smith", "conversation_id": "4x9AAAA",
                         "sender": "Jane Smith", "text": "look"});
    assert_eq!(Value::Object(item.context.clone()), context);
    assert!(!item.favorite);
    assert!(
        plan.unmatched.is_empty()
            && plan.orphans.is_empty()
            && plan.skipped.is_empty()
    );
}

#[test]
fn conversations_are_named_and_planned_in_order() {
    let t = Takeout::with_user();
    let members = [
        ("John Doe", EMAIL),
        ("Jane Smith", "jane@example.com"),
        ("Bob Stone", "bob@example.com"),
    ];
    let m = |file: &str| msg("Bob Stone", NOV3, "", &[file]);
    t.conversation(
        &format!("{GROUPS}/Space B"),
        info(Some("Group Chat"), &members),
        &[m("b.jpg")],
    )
    .conversation(
        &format!("{GROUPS}/Space A"),
        info(Some("Hiking Club ⛰"), &members),
        &[m("a.jpg")],
    )
    .conversation(
        &format!("{GROUPS}/Group C"),
        info(None, &[("John Doe", EMAIL)]),
        &[m("c.mp4")],
    )
    .conversation(
        &format!("{GROUPS}/DM D"),
        info(None, &[("John Doe", EMAIL), ("", "x@y.z")]),
        &[m("d.jpg")],
    )
    .conversation(
        &format!("{GROUPS}/DM E"),
        info(None, &[("John Doe", "JOHN.DOE@gmail.com"), ("Émile Zola", "")]),
        &[m("e.jpg")],
    )
    .conversation(
        &format!("{GROUPS}/Space F"),
        info(Some("  "), &members[1..]),
        &[m("f.jpg")],
    )
    .conversation(&format!("{GROUPS}/Odd"), json!({}), &[m("g.jpg")]);
    for (folder, file) in [
        ("Space B", "b.jpg"),
        ("Space A", "a.jpg"),
        ("Group C", "c.mp4"),
        ("DM D", "d.jpg"),
        ("DM E", "e.jpg"),
        ("Space F", "f.jpg"),
        ("Odd", "g.jpg"),
    ] {
        t.media(&format!("{GROUPS}/{folder}/{file}"));
    }
    let got: Vec<(String, String, String)> = t
        .plan()
        .items
        .iter()
        .map(|i| (i.input.clone(), i.album.clone(), i.prefix.clone()))
        .collect();
    let want: Vec<(String, String, String)> = [
        ("DM D/d.jpg", "D", "gchat-john.doe-d"),
        ("DM E/e.jpg", "Émile Zola", "gchat-john.doe-emile_zola"),
        ("Group C/c.mp4", "C", "gchat-john.doe-c"),
        ("Odd/g.jpg", "Odd", "gchat-john.doe-odd"),
        ("Space A/a.jpg", "Hiking Club ⛰", "gchat-john.doe-hiking_club"),
        ("Space B/b.jpg", "Jane, Bob", "gchat-john.doe-jane_bob"),
        ("Space F/f.jpg", "Jane, Bob", "gchat-john.doe-jane_bob"),
    ]
    .iter()
    .map(|(i, a, p)| (format!("{GROUPS}/{i}"), a.to_string(), p.to_string()))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn long_conversation_names_are_cut_to_fifty() {
    let t = Takeout::with_user();
    let name = format!("{} tail", "word ".repeat(12));
    let space = format!("{GROUPS}/Space L");
    t.conversation(
        &space,
        info(Some(&name), &[]),
        &[msg("A", NOV3, "", &["a.jpg"])],
    )
    .media(&format!("{space}/a.jpg"));
    let plan = t.plan();
    let want =
        format!("gchat-john.doe-{}", "word_".repeat(10).trim_end_matches('_'));
    assert_eq!(plan.items[0].prefix, want);
    assert_eq!(plan.items[0].album, name.trim());
}

#[test]
fn repeated_names_take_numbered_copies_per_conversation() {
    let t = Takeout::with_user();
    let (dm, space) = (format!("{GROUPS}/DM 1"), format!("{GROUPS}/Space 2"));
    let m = |text: &str| msg("Jane Smith", NOV3, text, &["image.jpg"]);
    t.conversation(&dm, john_and_jane(), &[m("one"), m("two"), m("three")])
        .conversation(&space, info(Some("Club"), &[]), &[m("again")]);
    for file in ["image.jpg", "image(1).jpg", "image(2).jpg"] {
        t.media(&format!("{dm}/{file}"));
    }
    t.media(&format!("{space}/image.jpg"));
    let plan = t.plan();
    let p = "gchat-john.doe-jane_smith";
    let expect = want(&[
        (&format!("{dm}/image.jpg"), "name", p),
        (&format!("{dm}/image(1).jpg"), "numbered-copy", p),
        (&format!("{dm}/image(2).jpg"), "numbered-copy", p),
        (&format!("{space}/image.jpg"), "name", "gchat-john.doe-club"),
    ]);
    assert_eq!(rows(&plan), expect);
    let texts: Vec<&Value> =
        plan.items.iter().map(|i| &i.context["text"]).collect();
    assert_eq!(
        texts,
        [&json!("one"), &json!("two"), &json!("three"), &json!("again")]
    );
}

#[test]
fn escaped_names_and_truncated_names_match() {
    let t = Takeout::with_user();
    let dm = format!("{GROUPS}/DM 1");
    let long = "Screenshot_20201224-101010_Some Very Long App Name Here";
    let messages = [
        msg("Jane Smith", NOV3, "", &["a\\u003db.jpg", "why?.png", "it's.jpg"]),
        msg(
            "Jane Smith",
            NOV3,
            "",
            &["q?.jpg", &format!("{long}.jpg"), "notes.txt", "song.mp3"],
        ),
    ];
    t.conversation(&dm, john_and_jane(), &messages);
    for file in [
        "a=b.jpg",
        "why_.png",
        "it_s.jpg",
        "q?.jpg",
        &format!("{}.jpg", &long[..40]),
    ] {
        t.media(&format!("{dm}/{file}"));
    }
    let p = "gchat-john.doe-jane_smith";
    let expect = want(&[
        (&format!("{dm}/a=b.jpg"), "name", p),
        (&format!("{dm}/why_.png"), "name", p),
        (&format!("{dm}/it_s.jpg"), "name", p),
        (&format!("{dm}/q?.jpg"), "variant", p),
        (&format!("{dm}/{}.jpg", &long[..40]), "truncated", p),
    ]);
    let plan = t.plan();
    assert_eq!(rows(&plan), expect);
    // Non-media attachments are ignored, not reported (§4.4).
    assert!(plan.orphans.is_empty(), "{:?}", plan.orphans);
}

#[test]
fn zones_give_instants_offsets_and_wall_clocks() {
    let t = Takeout::with_user();
    let dm = format!("{GROUPS}/DM 1");
    let dates = [
        "Monday, January 2, 2017 at 5:30:00\u{202f}PM UTC+5:30",
        "Monday, January 2, 2017 at 4:00:00 AM GMT-8",
        "Monday,\u{a0}January\u{a0}2, 2017 at 9:15:00\u{202f}PM PST",
        "Monday, January 2, 2017 at 9:15:00\u{202f}PM GMT",
        "yesterday",
    ];
    let messages: Vec<Value> = dates
        .iter()
        .enumerate()
        .map(|(n, d)| msg("Jane Smith", d, "", &[&format!("{n}.jpg")]))
        .collect();
    t.conversation(&dm, john_and_jane(), &messages);
    for n in 0..dates.len() {
        t.media(&format!("{dm}/{n}.jpg"));
    }
    let noon = "2017-01-02T12:00:00Z".parse::<Timestamp>().unwrap();
    let offset = |s: i32| Offset::from_seconds(s).unwrap();
    let capture = |when| Some(Capture { when, source: "created_date" });
    let got: Vec<Option<Capture>> =
        t.plan().items.iter().map(|i| i.capture).collect();
    assert_eq!(
        got,
        [
            capture(When::Offset(noon, offset(5 * 3600 + 1800))),
            capture(When::Offset(noon, offset(-8 * 3600))),
            capture(When::Wall("2017-01-02T21:15:00".parse().unwrap())),
            instant("2017-01-02T21:15:00Z"),
            None,
        ]
    );
}

#[test]
fn senders_and_texts_default_sensibly() {
    let t = Takeout::with_user();
    let dm = format!("{GROUPS}/DM 1");
    let anonymous = json!({"created_date": NOV3, "attached_files": [{"export_name": "a.jpg"}]});
    t.conversation(
        &dm,
        john_and_jane(),
        &[anonymous, msg("", NOV3, "", &["b.jpg"])],
    )
    .media(&format!("{dm}/a.jpg"))
    .media(&format!("{dm}/b.jpg"));
    let plan = t.plan();
    for item in &plan.items {
        let context = json!({"conversation": "Jane Smith", "conversation_id": "1", "sender": "Unknown"});
        assert_eq!(Value::Object(item.context.clone()), context);
        assert!(item
            .description
            .as_deref()
            .unwrap()
            .ends_with("\nSender: \"Unknown\""));
    }
    assert_eq!(plan.items.len(), 2);
}

#[test]
fn gmail_is_stripped_and_other_domains_kept() {
    let t = Takeout::new();
    t.user("Google Chat", "jane@example.com").put(
        "Google Chat/Users/User 2/user_info.json",
        r#"{"user": {"email": "z@gmail.com"}}"#,
    );
    let dm = format!("{GROUPS}/DM 1");
    t.conversation(
        &dm,
        info(
            None,
            &[("Jane", "jane@example.com"), ("Bob Stone", "bob@gmail.com")],
        ),
        &[msg("Bob Stone", NOV3, "", &["a.jpg"])],
    )
    .media(&format!("{dm}/a.jpg"));
    let plan = t.plan();
    assert_eq!(plan.username, "jane@example.com");
    let item = &plan.items[0];
    assert_eq!(item.prefix, "gchat-jane@example.com-bob_stone");
    assert_eq!(item.albums, ["Google Chat/jane@example.com"]);
    assert!(item
        .description
        .as_deref()
        .unwrap()
        .starts_with("Source: Google Chat/jane@example.com\n"));
}

#[test]
fn a_missing_user_info_falls_back_to_the_folder_name() {
    let t = Takeout::new();
    let dm = format!("{GROUPS}/DM 1");
    // The fallback user's Gmail address still tells the user apart.
    let members = [
        ("Fallback User", "fallback.user@gmail.com"),
        ("Jane Smith", "jane@example.com"),
    ];
    t.conversation(
        &dm,
        info(None, &members),
        &[msg("Jane Smith", NOV3, "", &["a.jpg"])],
    )
    .media(&format!("{dm}/a.jpg"));
    let plan = t.plan();
    assert_eq!(plan.username, "fallback.user");
    assert_eq!(plan.items[0].prefix, "gchat-fallback.user-jane_smith");
    // A user_info.json that is not JSON falls back the same way.
    t.put("Google Chat/Users/User 1/user_info.json", "{not json");
    assert_eq!(t.plan().username, "fallback.user");
    t.put(
        "Google Chat/Users/User 1/user_info.json",
        r#"{"user": {"email": ""}}"#,
    );
    assert_eq!(t.plan().username, "fallback.user");
}

#[test]
fn an_unrecognised_folder_name_gives_unknown() {
    let t = Takeout::new();
    let renamed = t.export.path.with_file_name("my-chats");
    fs::rename(&t.export.path, &renamed).unwrap();
    let export = Export { name: "my-chats".into(), path: renamed };
    let dm = export.path.join(format!("{GROUPS}/DM 1"));
    fs::create_dir_all(&dm).unwrap();
    fs::write(dm.join("group_info.json"), john_and_jane().to_string()).unwrap();
    let list = json!({"messages": [msg("Jane Smith", NOV3, "", &["a.jpg"])]});
    fs::write(dm.join("messages.json"), list.to_string()).unwrap();
    fs::write(dm.join("a.jpg"), "placeholder").unwrap();
    let plan = GoogleChat.plan(&export).unwrap();
    assert_eq!(plan.username, "unknown");
    // Without any known address the first named member names the DM.
    assert_eq!(plan.items[0].prefix, "gchat-unknown-john_doe");
}
