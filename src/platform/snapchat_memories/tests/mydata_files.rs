//! Tests of the bundled files of a My Data download (platforms.md
//! §9b.3–§9b.4): their names, the `id`, `time` and `day` rules with
//! modification times set as unpacking tools set them (in UTC, at UTC+1
//! in winter and UTC+2 in summer, or reset to the unpacking time), and
//! the dating of orphans.

use serde_json::{json, Value};

use super::super::mydata;
use super::gps;
use super::mydata::{
    at, item, linked, matches, memory, skipped, Download, JPEG, MP4,
};
use crate::plan::{Capture, When};

#[test]
fn bundled_names_decide_roles() {
    let download = Download::new("memories/");
    download.json(json!([]));
    download
        .file("2026-01-13_7550CF26-B1AC-main.JPG", JPEG, None)
        .file("2026-01-13_7550cf26-b1ac-overlay.png", b"png", None)
        .file("2026-01-13_7550cf26-b1ac-thumbnail.jpg", JPEG, None)
        .file("gone-overlay.png", b"png", None)
        .file("notes.txt", b"text", None)
        .file("blob-main.bin", b"text", None)
        .file("data-main.bin", MP4, None)
        .file("random.mp4", b"not really", None)
        .file(".hidden.jpg", JPEG, None)
        .file("sub/old-id-main.mp4", MP4, None);
    std::os::unix::fs::symlink(
        download.export.path.join("memories/memories/sub"),
        download.export.path.join("memories/memories/linked"),
    )
    .unwrap();
    let plan = download.plan();
    let orphans: Vec<_> = plan
        .items
        .iter()
        .map(|i| (i.input.as_str(), i.matched.rule, i.context.get("media_id")))
        .collect();
    let id = |s: &str| json!(s);
    assert_eq!(
        orphans,
        [
            (
                download.input("2026-01-13_7550CF26-B1AC-main.JPG").as_str(),
                "orphan",
                Some(&id("7550cf26-b1ac"))
            ),
            (
                download.input("data-main.bin").as_str(),
                "orphan",
                Some(&id("data"))
            ),
            (download.input("random.mp4").as_str(), "orphan", None),
            (
                download.input("sub/old-id-main.mp4").as_str(),
                "orphan",
                Some(&id("old-id"))
            ),
        ]
    );
    let overlay = &plan.items[0].overlay;
    let want =
        download.put("memories/2026-01-13_7550cf26-b1ac-overlay.png", b"png");
    assert_eq!(overlay.as_ref(), Some(&want));
    assert_eq!(
        skipped(&plan),
        [
            (
                download
                    .input("2026-01-13_7550cf26-b1ac-thumbnail.jpg")
                    .as_str(),
                "thumbnail"
            ),
            (download.input("blob-main.bin").as_str(), "not media"),
            (download.input("notes.txt").as_str(), "not media"),
            (
                download.input("gone-overlay.png").as_str(),
                "overlay not referenced"
            ),
        ]
    );
    for item in &plan.items {
        assert_eq!(item.orphan.as_deref(), Some("No matching metadata found"));
        assert_eq!(item.gps, None);
        assert_eq!(item.prefix, "snap-memories-jane");
    }
}

#[test]
fn ids_match_whatever_the_file_times() {
    let download = Download::new("memories/");
    download.json(json!([
        linked("2026-01-13 01:55:38 UTC", "Image", "7550CF26-B1AC"),
        linked("2025-12-30 18:02:11 UTC", "Video", "0d6b6c1e"),
        linked("2025-12-29 18:02:11 UTC", "Video", "missing"),
    ]));
    download
        .file("2026-01-13_7550cf26-b1ac-main.jpg", JPEG, None)
        .file("2026-01-13_7550cf26-b1ac-overlay.png", b"png", None)
        .file("0D6B6C1E-main.mp4", MP4, None);
    let plan = download.plan();
    assert_eq!(
        matches(&plan),
        [
            (
                download.input("2026-01-13_7550cf26-b1ac-main.jpg").as_str(),
                "id",
                Some("memories/json/memories_history.json#0")
            ),
            (
                download.input("0D6B6C1E-main.mp4").as_str(),
                "id",
                Some("memories/json/memories_history.json#1")
            ),
        ]
    );
    let photo = &plan.items[0];
    assert_eq!(photo.capture, at("2026-01-13T01:55:38Z", "Date"));
    assert_eq!(photo.gps, gps(40.25548, -111.645325));
    assert!(photo.overlay.is_some());
    assert_eq!(
        Value::Object(photo.context.clone()),
        json!({"media_type": "Image", "media_id": "7550cf26-b1ac",
               "overlay": "2026-01-13_7550cf26-b1ac-overlay.png"})
    );
    assert_eq!(plan.fetches.len(), 1);
    assert_eq!(plan.fetches[0].key, "missing");
    assert_eq!(mydata::lost_times_of(&download.export).unwrap(), None);
}

#[test]
fn times_match_in_utc() {
    let download = Download::new("");
    download.json(json!([
        memory("2025-01-10 10:00:13 UTC", "Image", ""),
        memory("2025-01-10 10:00:13 UTC", "Video", ""),
    ]));
    download
        .file("2025-01-10_b-main.mp4", MP4, Some("2025-01-10T10:00:14Z"))
        .file("2025-01-10_a-main.jpg", JPEG, Some("2025-01-10T10:00:12Z"));
    let plan = download.plan();
    assert_eq!(
        matches(&plan),
        [
            (
                "memories/2025-01-10_a-main.jpg",
                "time",
                Some("json/memories_history.json#0")
            ),
            (
                "memories/2025-01-10_b-main.mp4",
                "time",
                Some("json/memories_history.json#1")
            ),
        ]
    );
}

/// The list of the shift test: winter entries of a machine at UTC+1,
/// summer entries at UTC+2; entry 0 is 15 minutes after entry 1, so the
/// main of entry 1 also fits entry 0 with a shift of −1:15.
fn shifted_list() -> Value {
    json!([
        memory("2025-01-10 10:15:13 UTC", "Image", ""),
        memory("2025-01-10 10:00:13 UTC", "Image", ""),
        memory("2025-01-11 08:22:41 UTC", "Image", ""),
        memory("2025-07-04 20:30:01 UTC", "Image", ""),
        memory("2025-07-05 07:12:58 UTC", "Video", ""),
        memory("2025-07-06 07:12:58 UTC", "Video", ""),
    ])
}

#[test]
fn times_match_up_to_the_best_ranked_zone_shift() {
    let download = Download::new("memories/");
    download.json(shifted_list());
    // ZIP times are even seconds of the UTC wall clock, read as local.
    download
        .file("2025-01-10_a-main.jpg", JPEG, Some("2025-01-10T09:00:14Z"))
        .file("2025-01-10_b-main.jpg", JPEG, Some("2025-01-10T09:15:14Z"))
        .file("2025-01-11_c-main.jpg", JPEG, Some("2025-01-11T07:22:42Z"))
        .file("2025-07-04_d-main.jpg", JPEG, Some("2025-07-04T18:30:02Z"))
        .file("2025-07-05_e-main.mp4", MP4, Some("2025-07-05T05:12:58Z"))
        .file("2025-07-06_f-main.jpg", JPEG, Some("2025-07-06T05:12:58Z"))
        .file("2025-01-12_g-main.jpg", JPEG, Some("2025-01-12T13:00:00Z"))
        .file("2025-01-13_h-main.jpg", JPEG, Some("2025-01-13T23:30:00Z"))
        .file("x.jpg", JPEG, Some("2025-03-01T08:00:00Z"));
    let plan = download.plan();
    let list = "memories/json/memories_history.json";
    let want = [
        ("2025-01-10_b-main.jpg", "time", Some(format!("{list}#0"))),
        ("2025-01-10_a-main.jpg", "time", Some(format!("{list}#1"))),
        ("2025-01-11_c-main.jpg", "time", Some(format!("{list}#2"))),
        ("2025-07-04_d-main.jpg", "time", Some(format!("{list}#3"))),
        ("2025-07-05_e-main.mp4", "time", Some(format!("{list}#4"))),
        // The class differs from entry 5's; nothing else is left.
        ("2025-01-12_g-main.jpg", "orphan", None),
        ("2025-01-13_h-main.jpg", "orphan", None),
        ("2025-07-06_f-main.jpg", "orphan", None),
        ("x.jpg", "orphan", None),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(n, r, m)| (download.input(n), *r, m.clone()))
        .collect();
    let got: Vec<_> = matches(&plan)
        .into_iter()
        .map(|(i, r, m)| (i.to_string(), r, m.map(str::to_string)))
        .collect();
    assert_eq!(got, want);
    assert_eq!(plan.orphans.len(), 1, "entry 5 has no file");
    assert_eq!(mydata::lost_times_of(&download.export).unwrap(), None);

    // Orphans are dated by mtime less the best shift (−1 h) when that
    // stays on their day, else at noon on it.
    let file_mtime = |utc| at(utc, "file_mtime");
    assert_eq!(
        item(&plan, "g-main.jpg").capture,
        file_mtime("2025-01-12T14:00:00Z")
    );
    let noon = "2025-01-13T12:00:00".parse().unwrap();
    assert_eq!(
        item(&plan, "h-main.jpg").capture,
        Some(Capture { when: When::Wall(noon), source: "filename" })
    );
    assert_eq!(
        item(&plan, "x.jpg").capture,
        file_mtime("2025-03-01T09:00:00Z")
    );
    assert_eq!(
        item(&plan, "f-main.jpg").capture,
        file_mtime("2025-07-06T06:12:58Z")
    );
}

#[test]
fn reset_times_leave_the_day_rule_and_a_warning() {
    let download = Download::new("memories/");
    download.json(json!([
        memory(
            "2025-01-10 10:00:13 UTC",
            "Image",
            "Latitude, Longitude: 1.5, 2.5"
        ),
        memory("2025-01-11 10:00:13 UTC", "Media", ""),
        memory("2025-01-12 10:00:13 UTC", "Image", ""),
        memory("2025-01-13 10:00:13 UTC", "Video", ""),
    ]));
    download
        .file("2025-01-10_a-main.jpg", JPEG, None)
        .file("2025-01-11_b-main.mp4", MP4, None)
        .file("2025-01-12_c-main.jpg", JPEG, None)
        .file("2025-01-12_d-main.jpg", JPEG, None)
        .file("2025-01-13_e-main.jpg", JPEG, None)
        .file("f.jpg", JPEG, None);
    let plan = download.plan();
    let list = "memories/json/memories_history.json";
    let got: Vec<_> =
        plan.items.iter().map(|i| (i.matched.rule, i.capture)).collect();
    let noon = |day: &str| {
        let when = When::Wall(format!("{day}T12:00:00").parse().unwrap());
        Some(Capture { when, source: "filename" })
    };
    assert_eq!(
        got,
        [
            ("day", at("2025-01-10T10:00:13Z", "Date")),
            ("day", at("2025-01-11T10:00:13Z", "Date")),
            ("orphan", noon("2025-01-12")),
            ("orphan", noon("2025-01-12")),
            ("orphan", noon("2025-01-13")),
            ("orphan", None),
        ]
    );
    assert_eq!(plan.items[0].matched.metadata, Some(format!("{list}#0")));
    assert_eq!(plan.items[0].gps, gps(1.5, 2.5));
    let sources: Vec<_> =
        plan.orphans.iter().map(|o| o.source.as_str()).collect();
    assert_eq!(sources, [format!("{list}#2"), format!("{list}#3")]);
    assert_eq!(
        mydata::lost_times_of(&download.export).unwrap().as_deref(),
        Some(
            "snapchat-jane-20260115: the files in memories/ seem to have \
             lost their original times while being unpacked; memories can \
             only be matched by day. Unpack the download with a tool that \
             keeps file times to get exact dates and places."
        )
    );
}

#[test]
fn the_day_prefix_must_be_within_a_day_for_time() {
    let download = Download::new("");
    download.json(json!([memory("2025-01-10 23:30:00 UTC", "Image", "")]));
    // Right time up to a shift, but the prefix is two days off.
    download.file("2025-01-12_a-main.jpg", JPEG, Some("2025-01-10T22:30:00Z"));
    let plan = download.plan();
    assert_eq!(plan.items[0].matched.rule, "orphan");
    assert_eq!(plan.orphans.len(), 1);
}
