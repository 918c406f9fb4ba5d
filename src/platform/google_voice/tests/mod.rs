//! Tests of the Google Voice processor on small exports built in
//! temporary folders (media bytes are placeholders; they are never read).

mod layout;
mod pages;

use std::fs;
use std::path::Path;

use jiff::tz::Offset;
use jiff::Timestamp;
use serde_json::{json, Value};
use tempfile::TempDir;

use super::GoogleVoice;
use crate::plan::{Capture, Export, Item, Plan, When};
use crate::platform::Platform;

const USER: &str = "john.doe";
const JANE: &str = "+15551234567 - Text - 2016-05-18T15_00_23Z";

/// A Google Voice export in a temporary folder.
struct Voice {
    _dir: TempDir,
    export: Export,
    /// `Voice/Calls` relative to the export.
    calls: &'static str,
}

impl Voice {
    /// Returns an export named `google-john.doe-20250526` with an empty
    /// `Voice/Calls/` folder.
    fn new() -> Voice {
        Voice::named(&format!("google-{USER}-20250526"), "Voice/Calls")
    }

    /// Returns an export whose `Voice/Calls/` sits under `Takeout/`.
    fn takeout() -> Voice {
        Voice::named(&format!("google-{USER}-20250526"), "Takeout/Voice/Calls")
    }

    /// Returns an export folder `name` with an empty folder `calls`.
    fn named(name: &str, calls: &'static str) -> Voice {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join(name);
        fs::create_dir_all(path.join(calls)).unwrap();
        let path = path.canonicalize().unwrap();
        Voice { _dir: dir, export: Export { name: name.into(), path }, calls }
    }

    /// Writes `bytes` to file `name` of the calls folder.
    fn put(&self, name: &str, bytes: impl AsRef<[u8]>) -> &Voice {
        fs::write(self.export.path.join(self.calls).join(name), bytes).unwrap();
        self
    }

    /// Writes a placeholder media file `name` to the calls folder.
    fn media(&self, name: &str) -> &Voice {
        self.put(name, "placeholder")
    }

    /// Returns the export-relative path of `name` in the calls folder.
    fn rel(&self, name: &str) -> String {
        format!("{}/{name}", self.calls)
    }

    fn detect(&self) -> bool {
        GoogleVoice.detect(&self.export)
    }

    fn plan(&self) -> Plan {
        GoogleVoice.plan(&self.export).unwrap()
    }
}

/// Returns a conversation page with `title` and `body`.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
         <title>{title}</title></head>\n<body>{body}</body></html>\n"
    )
}

/// Returns a `cite.sender` with display name `name` and number `tel`.
fn cite(name: &str, tel: &str) -> String {
    format!(
        "<cite class=\"sender vcard\"><a class=\"tel\" href=\"tel:{tel}\">\
         <span class=\"fn\">{name}</span></a></cite>"
    )
}

/// Returns a `div.message` sent at `ts` by `sender` (a `cite`) holding
/// `inner`.
fn message(ts: &str, sender: &str, inner: &str) -> String {
    format!(
        "<div class=\"message\"><abbr class=\"dt\" title=\"{ts}\">\
         May 18, 2016</abbr>:\n {sender}:\n {inner}</div>\n"
    )
}

/// Returns an image attachment element for `src`.
fn img(src: &str) -> String {
    format!("<div><img src=\"{src}\" alt=\"Image MMS Attachment\"/></div>")
}

/// Returns (input, rule, metadata) of every item, in plan order.
fn matches(plan: &Plan) -> Vec<(String, &'static str, String)> {
    let row = |i: &Item| {
        let meta = i.matched.metadata.clone().unwrap_or_default();
        (i.input.clone(), i.matched.rule, meta)
    };
    plan.items.iter().map(row).collect()
}

/// Returns the inputs of every item, in plan order.
fn inputs(plan: &Plan) -> Vec<String> {
    plan.items.iter().map(|i| i.input.clone()).collect()
}

/// Returns the offset of `hours` and `minutes` east of UTC (both
/// negative for offsets west of UTC).
fn offset(hours: i32, minutes: i32) -> Offset {
    Offset::from_seconds(hours * 3600 + minutes * 60).unwrap()
}

/// Returns whether this process can read a folder it may not read (root).
fn is_privileged(path: &Path) -> bool {
    fs::read_dir(path).is_ok()
}

#[test]
fn rules_and_identity() {
    let rules = GoogleVoice.rules();
    assert_eq!(
        (GoogleVoice.name(), GoogleVoice.id(), GoogleVoice.priority()),
        ("Google Voice", "google_voice", 50)
    );
    assert_eq!(rules.folder, "Google Voice");
    assert_eq!(rules.suffix, crate::plan::SuffixStyle::FromOne);
    assert!(!rules.dedup);
    assert_eq!(
        rules.description,
        crate::media::model::DescriptionPolicy::KeepIfPresent
    );
}

#[test]
fn mms_image_and_video_become_items() {
    let v = Voice::new();
    let jane = cite("Jane Doe", "+15551234567");
    let body = [
        message(
            "2016-05-18T11:00:23.648-04:00",
            &jane,
            &img(&format!("{JANE}-1-1")),
        ),
        message("2016-05-18T11:01:00.000-04:00", &jane, "<q>No media here</q>"),
        message(
            "2016-05-18T11:02:00.000-04:00",
            &jane,
            &format!(
                "<q>Look &amp; see</q><a class=\"video\" \
                 href=\"{JANE}-3-1\">Video MMS Attachment</a>"
            ),
        ),
    ];
    v.put(&format!("{JANE}.html"), page("Me to Jane Doe", &body.concat()))
        .media(&format!("{JANE}-1-1.jpg"))
        .media(&format!("{JANE}-3-1.mp4"));
    let plan = v.plan();
    assert_eq!(plan.username, USER);
    let page_rel = v.rel(&format!("{JANE}.html"));
    assert_eq!(
        matches(&plan),
        [
            (v.rel(&format!("{JANE}-1-1.jpg")), "extension", page_rel.clone()),
            (v.rel(&format!("{JANE}-3-1.mp4")), "extension", page_rel.clone()),
        ]
    );
    assert!(plan.unmatched.is_empty() && plan.orphans.is_empty());
    assert!(plan.skipped.is_empty());

    let first = &plan.items[0];
    let jpg = v.export.path.join(v.calls).join(format!("{JANE}-1-1.jpg"));
    assert_eq!(first.source, jpg);
    let instant: Timestamp = "2016-05-18T15:00:23Z".parse().unwrap();
    let want = When::Offset(instant, offset(-4, 0));
    assert_eq!(
        first.capture,
        Some(Capture { when: want, source: "abbr.dt@title" })
    );
    assert_eq!(first.gps, None);
    assert_eq!(
        first.description.as_deref(),
        Some(
            "Source: Google Voice/john.doe\nConversation: \"Jane Doe\"\n\
             Sender: \"Jane Doe\""
        )
    );
    assert_eq!(first.caption, None);
    assert_eq!(first.prefix, "gvoice-john.doe-jane_doe");
    assert_eq!((first.group.as_str(), first.album.as_str()), ("", "Jane Doe"));
    assert_eq!(first.albums, ["Google Voice/john.doe"]);
    assert!(!first.favorite);
    let context = Value::Object(first.context.clone());
    assert_eq!(
        context,
        json!({"conversation": "Jane Doe", "sender": "Jane Doe"})
    );
    let second = Value::Object(plan.items[1].context.clone());
    assert_eq!(
        second,
        json!({"conversation": "Jane Doe", "sender": "Jane Doe",
               "text": "Look & see"})
    );
}

#[test]
fn a_page_without_media_gives_nothing() {
    let v = Voice::new();
    let jane = cite("Jane Doe", "+15551234567");
    let body = message("2016-05-18T11:00:23-04:00", &jane, "<q>Hi</q>");
    v.put(&format!("{JANE}.html"), page("Me to Jane Doe", &body));
    let plan = v.plan();
    assert!(plan.items.is_empty() && plan.orphans.is_empty());
    assert!(plan.unmatched.is_empty() && plan.skipped.is_empty());
}

#[test]
fn the_owner_is_named_by_the_username() {
    let v = Voice::new();
    let me = cite("Me", "+15550000000");
    let body = [
        message("2016-05-18T11:00:23-04:00", &me, &img("a")),
        message("2016-05-18T11:00:24-04:00", &me, &img("gone")),
    ];
    v.put(&format!("{JANE}.html"), page("Me to Jane Doe", &body.concat()))
        .media("a.jpg");
    let plan = v.plan();
    let item = &plan.items[0];
    assert_eq!(item.context["sender"], USER);
    assert!(item
        .description
        .as_deref()
        .unwrap()
        .ends_with("Sender: \"john.doe\""));
    assert_eq!(plan.orphans[0].entry["sender"], USER);
}

#[test]
fn each_matching_step_and_one_used_set_for_the_export() {
    let v = Voice::new();
    let who = cite("Jane Doe", "+1555");
    let refs = ["exact.gif", "ext", "strip-1", "pre", "pre", "shared"];
    let body: String = refs
        .iter()
        .map(|r| message("2016-05-18T11:00:23-04:00", &who, &img(r)))
        .collect();
    v.put("a - Text - 1.html", page("Me to Jane Doe", &body));
    let next = message("2016-05-19T11:00:23-04:00", &who, &img("shared"));
    v.put("b - Text - 2.html", page("Me to Jane Doe", &next));
    for file in [
        "exact.gif",
        "ext.m4a",
        "strip.png",
        "pre_1.jpg",
        "pre-2.jpg",
        "prefix.jpg",
        "shared.jpg",
        "shared 1.jpg",
    ] {
        v.media(file);
    }
    let plan = v.plan();
    let a = v.rel("a - Text - 1.html");
    let b = v.rel("b - Text - 2.html");
    let want = [
        (v.rel("exact.gif"), "name", a.clone()),
        (v.rel("ext.m4a"), "extension", a.clone()),
        (v.rel("strip.png"), "strip-1", a.clone()),
        (v.rel("pre-2.jpg"), "prefix", a.clone()),
        (v.rel("pre_1.jpg"), "prefix", a.clone()),
        (v.rel("shared.jpg"), "extension", a.clone()),
        (v.rel("shared 1.jpg"), "prefix", b.clone()),
    ];
    assert_eq!(matches(&plan), want);
    let left: Vec<&str> =
        plan.unmatched.iter().map(|u| u.input.as_str()).collect();
    assert_eq!(left, [v.rel("prefix.jpg")]);
}

#[test]
fn a_missing_file_is_orphaned_metadata() {
    let v = Voice::new();
    let jane = cite("Jane Doe", "+15551234567");
    let body = [
        message("2016-05-18T11:00:00-04:00", &jane, "<q>text only</q>"),
        message(
            "2016-05-18T11:00:23.648-04:00",
            &jane,
            &img(&format!("{JANE}-2-1")),
        ),
    ];
    v.put(&format!("{JANE}.html"), page("Me to Jane Doe", &body.concat()));
    let plan = v.plan();
    assert!(plan.items.is_empty());
    let [orphan] = plan.orphans.as_slice() else {
        panic!("{:?}", plan.orphans)
    };
    assert_eq!(orphan.source, format!("{}#1", v.rel(&format!("{JANE}.html"))));
    assert_eq!(
        orphan.entry,
        json!({"conversation_name": "Jane Doe",
               "media_src": format!("{JANE}-2-1"),
               "message_timestamp": "2016-05-18T11:00:23.648-04:00",
               "sender": "Jane Doe"})
    );
    assert_eq!(orphan.reason, "Media file not found in filesystem");
    assert_eq!(
        Value::Object(orphan.context.clone()),
        json!({"conversation": "Jane Doe",
               "expected_filename": format!("{JANE}-2-1")})
    );
}

#[test]
fn unreferenced_files_are_unmatched_or_skipped() {
    let v = Voice::new();
    let body =
        message("2016-05-18T11:00:23-04:00", &cite("A", "+1"), &img("used"));
    v.put(&format!("{JANE}.html"), page("Me to A", &body))
        .media("used.jpg")
        .media("stray.JPG")
        .media("clip.mov")
        .media("+1555 - Voicemail - 2016-05-18T15_00_23Z.mp3")
        .media("call.m4a")
        .put("+1555 - Voicemail - 2016-05-18T15_00_23Z.html", "<html></html>")
        .put("notes.txt", "x")
        .media(".hidden.jpg")
        .media("@eaDir.jpg");
    let plan = v.plan();
    assert_eq!(inputs(&plan), [v.rel("used.jpg")]);
    let unmatched: Vec<(&str, &str, Value)> = plan
        .unmatched
        .iter()
        .map(|u| {
            (
                u.input.as_str(),
                u.reason.as_str(),
                Value::Object(u.context.clone()),
            )
        })
        .collect();
    let clip = v.rel("clip.mov");
    let stray = v.rel("stray.JPG");
    assert_eq!(
        unmatched,
        [
            (
                clip.as_str(),
                "No matching metadata found",
                json!({"original_location": clip})
            ),
            (
                stray.as_str(),
                "No matching metadata found",
                json!({"original_location": stray})
            ),
        ]
    );
    assert_eq!(plan.unmatched[0].source, v.export.path.join(&clip));
    let skipped: Vec<(&str, &str)> = plan
        .skipped
        .iter()
        .map(|s| (s.input.as_str(), s.reason.as_str()))
        .collect();
    let reason = "audio not referenced by a text conversation";
    assert_eq!(
        skipped,
        [
            (
                v.rel("+1555 - Voicemail - 2016-05-18T15_00_23Z.mp3").as_str(),
                reason
            ),
            (v.rel("call.m4a").as_str(), reason),
        ]
    );
    assert!(plan.orphans.is_empty());
}

#[test]
fn referenced_audio_is_an_item() {
    let v = Voice::new();
    let who = cite("Jane Doe", "+1555");
    let body = [
        message(
            "2016-05-18T11:00:23-04:00",
            &who,
            "<audio controls=\"controls\" src=\"voicemail\">\
             <a class=\"audio\" href=\"voicemail\">Audio</a></audio>",
        ),
        message(
            "2016-05-18T11:00:24-04:00",
            &who,
            "<a class=\"audio\" href=\"note.m4a\">Audio</a>",
        ),
    ];
    v.put(&format!("{JANE}.html"), page("Me to Jane Doe", &body.concat()))
        .media("voicemail.mp3")
        .media("note.m4a");
    let plan = v.plan();
    let page_rel = v.rel(&format!("{JANE}.html"));
    assert_eq!(
        matches(&plan),
        [
            (v.rel("voicemail.mp3"), "extension", page_rel.clone()),
            (v.rel("note.m4a"), "name", page_rel),
        ]
    );
    // The player and its download link are one reference, not an orphan.
    assert!(plan.orphans.is_empty() && plan.skipped.is_empty());
}

#[test]
fn timestamps_keep_their_platform_offsets() {
    let v = Voice::new();
    let who = cite("Jane Doe", "+1555");
    let stamps = [
        "2016-05-18T11:00:23.648-04:00",
        "2016-05-18T20:30:23+05:30",
        "2016-05-18T15:00:23Z",
        "2016-05-18T15:00:23+00:00",
        "May 18, 2016",
    ];
    let body: String = stamps
        .iter()
        .enumerate()
        .map(|(i, ts)| message(ts, &who, &img(&format!("m{i}"))))
        .collect();
    v.put(&format!("{JANE}.html"), page("Me to Jane Doe", &body));
    for i in 0..stamps.len() {
        v.media(&format!("m{i}.jpg"));
    }
    let plan = v.plan();
    let got: Vec<Option<When>> =
        plan.items.iter().map(|i| i.capture.map(|c| c.when)).collect();
    let instant: Timestamp = "2016-05-18T15:00:23Z".parse().unwrap();
    assert_eq!(
        got,
        [
            Some(When::Offset(instant, offset(-4, 0))),
            Some(When::Offset(instant, offset(5, 30))),
            Some(When::Instant(instant)),
            Some(When::Instant(instant)),
            None,
        ]
    );
}

#[test]
fn pages_with_one_name_are_merged_and_names_sorted() {
    let v = Voice::new();
    let jane = cite("Jane Doe", "+1555");
    let adam = cite("Adam", "+1444");
    let day = |d: u8, src: &str, who: &str| {
        message(&format!("2016-05-{d}T11:00:23-04:00"), who, &img(src))
    };
    v.put(
        "+1555 - Text - 1.html",
        page("Me to Jane Doe", &day(18, "j1", &jane)),
    )
    .put("+1555 - Text - 2.html", page("Me to Jane Doe", &day(19, "j2", &jane)))
    .put("+1444 - Text - 3.html", page("Me to Adam", &day(20, "a1", &adam)));
    for name in ["j1.jpg", "j2.jpg", "a1.jpg"] {
        v.media(name);
    }
    let plan = v.plan();
    assert_eq!(
        inputs(&plan),
        [v.rel("a1.jpg"), v.rel("j1.jpg"), v.rel("j2.jpg")]
    );
    let albums: Vec<&str> =
        plan.items.iter().map(|i| i.album.as_str()).collect();
    assert_eq!(albums, ["Adam", "Jane Doe", "Jane Doe"]);
    assert_eq!(
        plan.items[2].matched.metadata,
        Some(v.rel("+1555 - Text - 2.html"))
    );
}

#[test]
fn an_unknown_username_does_not_stop_planning() {
    let v = Voice::named("my-export", "Voice/Calls");
    let body =
        message("2016-05-18T11:00:23-04:00", &cite("Me", "+1"), &img("a"));
    v.put(&format!("{JANE}.html"), page("Me to Jane Doe", &body))
        .media("a.jpg");
    let plan = v.plan();
    assert_eq!(plan.username, "unknown");
    assert_eq!(plan.items[0].prefix, "gvoice-unknown-jane_doe");
    assert_eq!(plan.items[0].context["sender"], "unknown");
}
