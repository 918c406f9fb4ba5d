//! Tests of the Snapchat Memories processor on small assembled layouts
//! built in temporary folders (media bytes are placeholders; they are
//! never read); `mydata` covers the My Data download of §9b.

mod detect;
mod issues;
mod mydata;
mod mydata_files;

use std::fs;

use serde_json::{json, Value};
use tempfile::TempDir;

use super::SnapchatMemories;
use crate::media::model::{DescriptionPolicy, Gps};
use crate::plan::{Capture, Export, Match, Plan, SuffixStyle, When};
use crate::platform::Platform;

/// A Snapchat export in a temporary folder.
struct Snap {
    _dir: TempDir,
    export: Export,
    /// R relative to the export, with a trailing `/` unless empty.
    root: &'static str,
}

impl Snap {
    /// Returns an export named `snapchat-jane-20250526` holding empty
    /// `media/` and `overlays/` folders under `memories/`.
    fn nested() -> Snap {
        Snap::with_root("snapchat-jane-20250526", "memories/")
    }

    /// Returns the same export with `media/` and `overlays/` directly in
    /// the export folder.
    fn flat() -> Snap {
        Snap::with_root("snapchat-jane-20250526", "")
    }

    /// Returns an export named `name` with R at `root` (`memories/` or
    /// empty).
    fn with_root(name: &str, root: &'static str) -> Snap {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join(name);
        fs::create_dir(&path).unwrap();
        let export = Export {
            name: name.to_string(),
            path: path.canonicalize().unwrap(),
        };
        let snap = Snap { _dir: dir, export, root };
        snap.dir(&format!("{root}media")).dir(&format!("{root}overlays"));
        snap
    }

    /// Creates folder `rel` inside the export.
    fn dir(&self, rel: &str) -> &Snap {
        fs::create_dir_all(self.export.path.join(rel)).unwrap();
        self
    }

    /// Writes `text` to `rel` inside the export, creating folders.
    fn put(&self, rel: &str, text: &str) -> &Snap {
        let path = self.export.path.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        self
    }

    /// Writes `R/metadata.json` with `text`.
    fn metadata_text(&self, text: &str) -> &Snap {
        self.put(&format!("{}metadata.json", self.root), text)
    }

    /// Writes `R/metadata.json` holding `json`.
    fn metadata(&self, json: Value) -> &Snap {
        self.metadata_text(&json.to_string())
    }

    /// Writes placeholder files `R/media/<name>`.
    fn media(&self, names: &[&str]) -> &Snap {
        for name in names {
            self.put(&format!("{}media/{name}", self.root), "placeholder");
        }
        self
    }

    /// Writes placeholder files `R/overlays/<name>`.
    fn overlays(&self, names: &[&str]) -> &Snap {
        for name in names {
            self.put(&format!("{}overlays/{name}", self.root), "png");
        }
        self
    }

    fn detect(&self) -> bool {
        SnapchatMemories.detect(&self.export)
    }

    fn plan(&self) -> Plan {
        SnapchatMemories.plan(&self.export).unwrap()
    }
}

/// Returns an entry with `date`, `media_type` and `media_filename` and
/// the extra fields of `more`.
fn entry(date: &str, media: &str, more: Value) -> Value {
    let media_type = if media.ends_with(".mp4") { "Video" } else { "Image" };
    let mut entry = json!({"date": date, "media_type": media_type,
                           "media_filename": media});
    if let (Some(fields), Some(more)) =
        (entry.as_object_mut(), more.as_object())
    {
        fields.extend(more.clone());
    }
    entry
}

/// The two entries of the worked example of platforms.md §9.2.
fn worked_example() -> Value {
    json!([
        entry(
            "2021-01-04 23:08:30 UTC",
            "p1.jpg",
            json!({"overlay_filename": "o1.png", "latitude": 40.5,
                     "longitude": -73.9})
        ),
        entry("2021-01-04 10:00:00 UTC", "v1.mp4", json!({})),
    ])
}

/// Returns the instant capture of RFC 3339 text `utc`.
fn instant(utc: &str) -> Option<Capture> {
    Some(Capture { when: When::Instant(utc.parse().unwrap()), source: "date" })
}

/// Returns a position without altitude.
fn gps(latitude: f64, longitude: f64) -> Option<Gps> {
    Some(Gps { latitude, longitude, altitude: None })
}

/// Returns the inputs of the plan's items, in plan order.
fn inputs(plan: &Plan) -> Vec<&str> {
    plan.items.iter().map(|i| i.input.as_str()).collect()
}

#[test]
fn the_processor_is_registry_entry_4() {
    let p = SnapchatMemories;
    assert_eq!(
        (p.name(), p.id(), p.priority()),
        ("Snapchat Memories", "snapchat_memories", 80)
    );
    let rules = p.rules();
    assert_eq!(rules.folder, "memories");
    assert_eq!(rules.suffix, SuffixStyle::FromTwo);
    assert!(!rules.dedup);
    assert_eq!(rules.description, DescriptionPolicy::Overwrite);
}

#[test]
fn the_worked_example_under_memories() {
    let snap = Snap::nested();
    snap.metadata(worked_example())
        .media(&["p1.jpg", "v1.mp4"])
        .overlays(&["o1.png"]);
    assert!(snap.detect());
    let plan = snap.plan();
    assert_eq!(plan.username, "jane");
    assert_eq!(
        inputs(&plan),
        ["memories/media/p1.jpg", "memories/media/v1.mp4"]
    );
    assert!(plan.unmatched.is_empty() && plan.orphans.is_empty());
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);

    let photo = &plan.items[0];
    let media = snap.export.path.join("memories/media");
    assert_eq!(photo.source, media.join("p1.jpg"));
    assert_eq!(photo.capture, instant("2021-01-04T23:08:30Z"));
    assert_eq!(photo.gps, gps(40.5, -73.9));
    assert_eq!(
        photo.overlay,
        Some(snap.export.path.join("memories/overlays/o1.png"))
    );
    assert_eq!(
        Value::Object(photo.context.clone()),
        json!({"media_type": "Image", "overlay": "o1.png"})
    );

    let video = &plan.items[1];
    assert_eq!(video.source, media.join("v1.mp4"));
    assert_eq!(video.capture, instant("2021-01-04T10:00:00Z"));
    assert_eq!((video.gps, &video.overlay), (None, &None));
    assert_eq!(
        Value::Object(video.context.clone()),
        json!({"media_type": "Video"})
    );
    for item in &plan.items {
        assert_eq!(item.prefix, "snap-memories-jane");
        assert_eq!((item.group.as_str(), item.album.as_str()), ("", ""));
        assert_eq!(item.albums, ["Snapchat/jane/memories"]);
        assert_eq!(
            item.description.as_deref(),
            Some("Source: Snapchat/jane/memories")
        );
        assert_eq!(item.caption, None);
        assert!(!item.favorite);
        let metadata = Some("memories/metadata.json".to_string());
        assert_eq!(item.matched, Match { rule: "metadata", metadata });
    }
}

#[test]
fn the_worked_example_in_the_export_itself() {
    let snap = Snap::with_root("Snapchat-Bob.Smith-2024-12-01", "");
    snap.metadata(worked_example())
        .media(&["p1.jpg", "v1.mp4"])
        .overlays(&["o1.png"]);
    assert!(snap.detect());
    let plan = snap.plan();
    assert_eq!(plan.username, "Bob.Smith");
    assert_eq!(inputs(&plan), ["media/p1.jpg", "media/v1.mp4"]);
    let photo = &plan.items[0];
    assert_eq!(photo.source, snap.export.path.join("media/p1.jpg"));
    assert_eq!(photo.overlay, Some(snap.export.path.join("overlays/o1.png")));
    assert_eq!(photo.prefix, "snap-memories-Bob.Smith");
    assert_eq!(photo.albums, ["Snapchat/Bob.Smith/memories"]);
    assert_eq!(
        photo.description.as_deref(),
        Some("Source: Snapchat/Bob.Smith/memories")
    );
    assert_eq!(photo.matched.metadata.as_deref(), Some("metadata.json"));
    assert!(plan.skipped.is_empty() && plan.unmatched.is_empty());
}

#[test]
fn a_folder_name_without_the_convention_gives_unknown() {
    let snap = Snap::with_root("my memories", "memories/");
    snap.metadata(worked_example()).media(&["p1.jpg", "v1.mp4"]);
    let plan = snap.plan();
    assert_eq!(plan.username, "unknown");
    assert_eq!(plan.items[0].prefix, "snap-memories-unknown");
    assert_eq!(
        plan.items[0].description.as_deref(),
        Some("Source: Snapchat/unknown/memories")
    );
}

#[test]
fn null_and_absent_fields_give_items_without_them() {
    let snap = Snap::flat();
    snap.metadata(json!([
        entry("2021-01-04 23:08:30 UTC", "a.jpg",
              json!({"overlay_filename": null, "latitude": null,
                     "longitude": null})),
        {"media_filename": "b.jpg"},
        {"date": null, "media_type": null, "media_filename": "c.mp4",
         "overlay_filename": "", "latitude": 40.5},
    ]))
    .media(&["a.jpg", "b.jpg", "c.mp4"]);
    let plan = snap.plan();
    assert_eq!(inputs(&plan), ["media/a.jpg", "media/b.jpg", "media/c.mp4"]);
    let got: Vec<_> = plan
        .items
        .iter()
        .map(|i| (i.capture, i.gps, i.overlay.clone(), i.context.clone()))
        .collect();
    let context = |v: Value| v.as_object().unwrap().clone();
    assert_eq!(
        got,
        [
            (
                instant("2021-01-04T23:08:30Z"),
                None,
                None,
                context(json!({"media_type": "Image"}))
            ),
            (None, None, None, context(json!({}))),
            (None, None, None, context(json!({}))),
        ]
    );
    assert!(plan.orphans.is_empty());
}

#[test]
fn positions_of_zero_zero_and_out_of_range_are_dropped() {
    let snap = Snap::nested();
    let at =
        |lat: Value, lon: Value| json!({"latitude": lat, "longitude": lon});
    snap.metadata(json!([
        entry("2021-01-04 23:08:30 UTC", "a.jpg", at(json!(0), json!(0))),
        entry("2021-01-04 23:08:30 UTC", "b.jpg", at(json!(0.0), json!(-0.0))),
        entry("2021-01-04 23:08:30 UTC", "c.jpg", at(json!(91.0), json!(10))),
        entry(
            "2021-01-04 23:08:30 UTC",
            "d.jpg",
            at(json!(-33.9), json!(151.2))
        ),
        entry("2021-01-04 23:08:30 UTC", "e.jpg", at(json!(0), json!(151.2))),
    ]))
    .media(&["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"]);
    let plan = snap.plan();
    let got: Vec<_> = plan.items.iter().map(|i| i.gps).collect();
    assert_eq!(got, [None, None, None, gps(-33.9, 151.2), gps(0.0, 151.2)]);
    let warned: Vec<_> =
        plan.items.iter().map(|i| i.context.get("gps_invalid")).collect();
    let bad = json!({"latitude": 91.0, "longitude": 10});
    assert_eq!(warned, [None, None, Some(&bad), None, None]);
}

#[test]
fn a_bad_date_affects_only_its_entry() {
    let snap = Snap::nested();
    snap.metadata(json!([
        entry("2021-01-04 23:08:30 UTC", "a.jpg", json!({})),
        entry("04/01/2021 23:08", "b.jpg", json!({"latitude": 1,
                                                  "longitude": 2})),
        {"date": 1609801710, "media_type": "Image", "media_filename": "c.jpg"},
        entry("2021-01-05 00:00:01 UTC", "d.jpg", json!({})),
    ]))
    .media(&["a.jpg", "b.jpg", "c.jpg", "d.jpg"]);
    let plan = snap.plan();
    let got: Vec<_> = plan.items.iter().map(|i| i.capture).collect();
    assert_eq!(
        got,
        [
            instant("2021-01-04T23:08:30Z"),
            None,
            None,
            instant("2021-01-05T00:00:01Z")
        ]
    );
    assert_eq!(
        plan.items[1].gps,
        gps(1.0, 2.0),
        "the rest of the entry is kept"
    );
}

#[test]
fn a_missing_overlay_is_a_warning_in_the_context() {
    let snap = Snap::nested();
    snap.metadata(json!([
        entry(
            "2021-01-04 23:08:30 UTC",
            "p1.jpg",
            json!({"overlay_filename": "gone.png"})
        ),
        entry(
            "2021-01-04 23:08:31 UTC",
            "p2.jpg",
            json!({"overlay_filename": "o2.png"})
        ),
    ]))
    .media(&["p1.jpg", "p2.jpg"])
    .overlays(&["o2.png"]);
    let plan = snap.plan();
    let first = &plan.items[0];
    assert_eq!(first.overlay, None);
    assert_eq!(
        Value::Object(first.context.clone()),
        json!({"media_type": "Image", "overlay_missing": "gone.png"})
    );
    let second = &plan.items[1];
    let overlays = snap.export.path.join("memories/overlays");
    assert_eq!(second.overlay, Some(overlays.join("o2.png")));
    assert!(plan.orphans.is_empty() && plan.skipped.is_empty());
}

#[test]
fn items_follow_the_file_order_and_repeat_shared_media() {
    let snap = Snap::nested();
    snap.metadata(json!([
        entry("2021-01-04 23:08:30 UTC", "z.jpg", json!({})),
        entry(
            "2020-01-04 23:08:30 UTC",
            "a.mp4",
            json!({"overlay_filename": "o.png"})
        ),
        entry(
            "2022-01-04 23:08:30 UTC",
            "z.jpg",
            json!({"overlay_filename": "o.png"})
        ),
    ]))
    .media(&["a.mp4", "z.jpg"])
    .overlays(&["o.png"]);
    let plan = snap.plan();
    assert_eq!(
        inputs(&plan),
        [
            "memories/media/z.jpg",
            "memories/media/a.mp4",
            "memories/media/z.jpg"
        ]
    );
    let overlays: Vec<bool> =
        plan.items.iter().map(|i| i.overlay.is_some()).collect();
    assert_eq!(overlays, [false, true, true]);
    assert!(plan.unmatched.is_empty() && plan.skipped.is_empty());
}
