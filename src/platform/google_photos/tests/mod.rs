//! Tests of the Google Photos processor on small takeouts built in
//! temporary folders (media bytes are placeholders; they are never read).

use std::fs;
use std::path::Path;

use jiff::Timestamp;
use serde_json::{json, Value};
use tempfile::TempDir;

use super::GooglePhotos;
use crate::media::model::Gps;
use crate::plan::{Capture, Export, Plan, When};
use crate::platform::Platform;

const USER: &str = "john.doe";

/// A takeout export in a temporary folder.
struct Takeout {
    _dir: TempDir,
    export: Export,
}

impl Takeout {
    /// Returns an empty export named `google-john.doe-20250526`.
    fn new() -> Takeout {
        let dir = TempDir::new().unwrap();
        let name = format!("google-{USER}-20250526");
        let path = dir.path().join(&name);
        fs::create_dir(&path).unwrap();
        let export = Export { name, path: path.canonicalize().unwrap() };
        Takeout { _dir: dir, export }
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

    /// Writes a minimal sidecar for media `title` at `rel`.
    fn sidecar(&self, rel: &str, title: &str) -> &Takeout {
        let json = json!({"title": title,
            "photoTakenTime": {"timestamp": "1609459200"}});
        self.put(rel, &json.to_string())
    }

    fn detect(&self) -> bool {
        GooglePhotos.detect(&self.export)
    }

    fn plan(&self) -> Plan {
        GooglePhotos.plan(&self.export).unwrap()
    }
}

/// Returns (input, rule, metadata) of every item, in plan order.
fn matches(plan: &Plan) -> Vec<(String, &'static str, String)> {
    let row = |i: &crate::plan::Item| {
        let meta = i.matched.metadata.clone().unwrap_or_default();
        (i.input.clone(), i.matched.rule, meta)
    };
    plan.items.iter().map(row).collect()
}

/// Returns (input, rule, metadata) rows from string slices.
fn rows(
    want: &[(&str, &'static str, &str)],
) -> Vec<(String, &'static str, String)> {
    want.iter().map(|(a, r, m)| (a.to_string(), *r, m.to_string())).collect()
}

/// Returns the first `units` UTF-16 code units of `text`, as Takeout cuts
/// sidecar names.
fn cut16(text: &str, units: usize) -> String {
    let mut used = 0;
    text.chars()
        .take_while(|c| {
            used += c.len_utf16();
            used <= units
        })
        .collect()
}

/// Returns the name Takeout gives the sidecar of media `name`.
fn takeout_sidecar(name: &str) -> String {
    format!("{}.json", cut16(&format!("{name}.supplemental-metadata"), 46))
}

/// Returns whether this process can read a folder it may not read (root).
fn is_privileged(path: &Path) -> bool {
    fs::read_dir(path).is_ok()
}

#[test]
fn rules_and_identity() {
    let rules = GooglePhotos.rules();
    assert_eq!(
        (GooglePhotos.name(), GooglePhotos.id(), GooglePhotos.priority()),
        ("Google Photos", "google_photos", 50)
    );
    assert_eq!(rules.folder, "photos");
    assert_eq!(rules.suffix, crate::plan::SuffixStyle::DayNumbering);
    assert!(rules.dedup);
    assert_eq!(
        rules.description,
        crate::media::model::DescriptionPolicy::KeepIfPresent
    );
}

#[test]
fn every_sidecar_naming_form_matches() {
    let t = Takeout::new();
    let a = "Google Photos/Trip";
    for (media, side) in [
        ("a.jpg", "a.jpg.json"),
        ("b.jpg", "b.jpg.supplemental-metadata.json"),
        ("c.jpg", "c.jpg.supplemental-metad.json"),
        ("d.jpg", "d.jpg.supp.json"),
        ("e.jpg", "e.jpg.supplemental-metadata.json"),
        ("e(1).jpg", "e.jpg.supplemental-metadata(1).json"),
        ("f.png", "f.png.json"),
        ("f(1).png", "f.png(1).json"),
    ] {
        t.media(&format!("{a}/{media}")).sidecar(&format!("{a}/{side}"), media);
    }
    let want = rows(&[
        ("Google Photos/Trip/a.jpg", "exact", "Google Photos/Trip/a.jpg.json"),
        (
            "Google Photos/Trip/b.jpg",
            "exact",
            "Google Photos/Trip/b.jpg.supplemental-metadata.json",
        ),
        (
            "Google Photos/Trip/c.jpg",
            "exact",
            "Google Photos/Trip/c.jpg.supplemental-metad.json",
        ),
        (
            "Google Photos/Trip/d.jpg",
            "exact",
            "Google Photos/Trip/d.jpg.supp.json",
        ),
        (
            "Google Photos/Trip/e(1).jpg",
            "exact",
            "Google Photos/Trip/e.jpg.supplemental-metadata(1).json",
        ),
        (
            "Google Photos/Trip/e.jpg",
            "exact",
            "Google Photos/Trip/e.jpg.supplemental-metadata.json",
        ),
        (
            "Google Photos/Trip/f(1).png",
            "normal",
            "Google Photos/Trip/f.png(1).json",
        ),
        ("Google Photos/Trip/f.png", "exact", "Google Photos/Trip/f.png.json"),
    ]);
    let plan = t.plan();
    assert_eq!(matches(&plan), want);
    assert!(plan.unmatched.is_empty() && plan.orphans.is_empty());
}

#[test]
fn cut_sidecar_names_match_long_media() {
    let t = Takeout::new();
    let a = "Google Photos/Long";
    let burst = "PXL_1632795497_00030.PORTRAIT.ORIGINAL_BURST_COVER_TOP.jpg";
    assert_eq!(
        takeout_sidecar(burst),
        "PXL_1632795497_00030.PORTRAIT.ORIGINAL_BURST_C.json"
    );
    let in_ext = format!("{}.jpeg", "x".repeat(42));
    let emoji = format!("{}_party_photo.jpg", "🎉".repeat(22));
    // No dot in the stem, else `live-variant` would fire first.
    let stem = "Screenshot_20200101-100000_Some_App_Name_xyz_";
    assert_eq!(stem.chars().count(), 45);
    let indexed = format!("{stem}m(494).jpg");
    let indexed_side =
        format!("{}(494).json", cut16(&format!("{stem}m.jpg"), 45));
    for (media, side) in [
        (burst.to_string(), takeout_sidecar(burst)),
        (in_ext.clone(), takeout_sidecar(&in_ext)),
        (emoji.clone(), takeout_sidecar(&emoji)),
        (indexed.clone(), indexed_side.clone()),
    ] {
        t.media(&format!("{a}/{media}")).sidecar(&format!("{a}/{side}"), "");
    }
    let plan = t.plan();
    let got: Vec<(String, &str)> = plan
        .items
        .iter()
        .map(|i| (i.matched.metadata.clone().unwrap(), i.matched.rule))
        .collect();
    // Items come in media-name byte order: "P…", "S…", "x…", "🎉…".
    let want = vec![
        (format!("{a}/{}", takeout_sidecar(burst)), "cut"),
        (format!("{a}/{indexed_side}"), "cut"),
        (format!("{a}/{}", takeout_sidecar(&in_ext)), "normal"),
        (format!("{a}/{}", takeout_sidecar(&emoji)), "cut"),
    ];
    assert_eq!(got, want);
    assert!(takeout_sidecar(&emoji).chars().count() < 40);
    assert_eq!(indexed_side, format!("{stem}(494).json"));
}

#[test]
fn edited_copies_and_live_photos_share_a_sidecar() {
    let t = Takeout::new();
    let a = "Google Photos/Trip";
    for media in [
        "PXL_20210101_093000.PORTRAIT.jpg",
        "PXL_20210101_093000.PORTRAIT-edited.jpg",
        "IMG_5.jpg",
        "IMG_5-bearbeitet.jpg",
        "IMG_6.jpg",
        "IMG_6-modifié.jpg",
        "IMG_1234.HEIC",
        "IMG_1234.MOV",
        "IMG_12345.jpg",
    ] {
        t.media(&format!("{a}/{media}"));
    }
    t.sidecar(
        &format!("{a}/PXL_20210101_093000.PORTRAIT.jpg.json"),
        "PXL_20210101_093000.PORTRAIT.jpg",
    )
    .sidecar(&format!("{a}/IMG_5.jpg.json"), "IMG_5.jpg")
    .sidecar(&format!("{a}/IMG_6.jpg.json"), "IMG_6.jpg")
    .sidecar(
        &format!("{a}/IMG_1234.HEIC.supplemental-metadata.json"),
        "IMG_1234.HEIC",
    );
    let plan = t.plan();
    let p = "Google Photos/Trip/";
    let want = rows(&[
        ("IMG_1234.HEIC", "exact", "IMG_1234.HEIC.supplemental-metadata.json"),
        ("IMG_1234.MOV", "normal", "IMG_1234.HEIC.supplemental-metadata.json"),
        ("IMG_5-bearbeitet.jpg", "edited", "IMG_5.jpg.json"),
        ("IMG_5.jpg", "exact", "IMG_5.jpg.json"),
        ("IMG_6-modifié.jpg", "edited", "IMG_6.jpg.json"),
        ("IMG_6.jpg", "exact", "IMG_6.jpg.json"),
        (
            "PXL_20210101_093000.PORTRAIT-edited.jpg",
            "edited",
            "PXL_20210101_093000.PORTRAIT.jpg.json",
        ),
        (
            "PXL_20210101_093000.PORTRAIT.jpg",
            "exact",
            "PXL_20210101_093000.PORTRAIT.jpg.json",
        ),
    ]);
    let want: Vec<_> = want
        .into_iter()
        .map(|(m, r, s)| (format!("{p}{m}"), r, format!("{p}{s}")))
        .collect();
    assert_eq!(matches(&plan), want);
    let groups: Vec<&str> =
        plan.items.iter().map(|i| i.group.as_str()).collect();
    assert_eq!(&groups[..2], ["IMG_1234", "IMG_1234"]);
    assert_eq!(plan.items[0].capture, plan.items[1].capture);
    let unmatched: Vec<&str> =
        plan.unmatched.iter().map(|u| u.input.as_str()).collect();
    assert_eq!(unmatched, [format!("{p}IMG_12345.jpg")]);
}

#[test]
fn title_rule_matches_renamed_media() {
    let t = Takeout::new();
    t.media("Google Photos/Trip/Strange name.jpg")
        .sidecar("Google Photos/Trip/a1b2c3.json", "Strange name.jpg")
        .media("Google Photos/Trip/Odd(2).jpg")
        .sidecar("Google Photos/Trip/q(2).json", "Odd.jpg");
    let want = rows(&[
        (
            "Google Photos/Trip/Odd(2).jpg",
            "title",
            "Google Photos/Trip/q(2).json",
        ),
        (
            "Google Photos/Trip/Strange name.jpg",
            "title",
            "Google Photos/Trip/a1b2c3.json",
        ),
    ]);
    assert_eq!(matches(&t.plan()), want);
}

#[test]
fn problem_sidecars_become_orphans() {
    let t = Takeout::new();
    let a = "Google Photos/Trip";
    t.media(&format!("{a}/x.jpg"))
        .sidecar(&format!("{a}/x.jpg.json"), "x.jpg")
        .sidecar(&format!("{a}/x.jpg.supplemental-metadata.json"), "x.jpg")
        .media(&format!("{a}/y.jpg"))
        .put(&format!("{a}/y.jpg.json"), "{not json")
        .sidecar(&format!("{a}/gone.jpg.json"), "gone.jpg")
        .media(&format!("{a}/lonely.jpg"));
    let plan = t.plan();
    assert_eq!(
        matches(&plan),
        rows(&[(&format!("{a}/x.jpg"), "exact", &format!("{a}/x.jpg.json"))])
    );
    let orphans: Vec<(&str, &str)> = plan
        .orphans
        .iter()
        .map(|o| (o.source.as_str(), o.reason.as_str()))
        .collect();
    let invalid = &plan.orphans[2];
    let error = invalid.entry["error"].as_str().unwrap().to_string();
    assert_eq!(
        orphans,
        [
            (
                "Google Photos/Trip/gone.jpg.json",
                "Media file not found in filesystem"
            ),
            (
                "Google Photos/Trip/x.jpg.supplemental-metadata.json",
                "duplicate sidecar"
            ),
            (
                "Google Photos/Trip/y.jpg.json",
                format!("Invalid JSON: {error}").as_str()
            ),
        ]
    );
    assert!(error.contains("line 1"), "{error}");
    assert_eq!(invalid.entry, json!({"file": "y.jpg.json", "error": error}));
    let gone = &plan.orphans[0];
    assert_eq!(gone.entry["title"], "gone.jpg");
    assert_eq!(
        Value::Object(gone.context.clone()),
        json!({"album": "Trip", "metadata_filename": "gone.jpg.json",
               "expected_media": "gone.jpg"})
    );
    assert_eq!(invalid.context["expected_media"], "y.jpg");
    let unmatched: Vec<(&str, &str)> = plan
        .unmatched
        .iter()
        .map(|u| (u.input.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        unmatched,
        [
            ("Google Photos/Trip/lonely.jpg", "No matching metadata found"),
            ("Google Photos/Trip/y.jpg", "No matching metadata found"),
        ]
    );
    let lonely = &plan.unmatched[0];
    assert_eq!(
        lonely.source,
        t.export.path.join("Google Photos/Trip/lonely.jpg")
    );
    assert_eq!(
        Value::Object(lonely.context.clone()),
        json!({"album": "Trip",
               "original_location": "Google Photos/Trip/lonely.jpg"})
    );
}

#[test]
fn other_files_are_skipped_or_ignored() {
    let t = Takeout::new();
    let a = "Google Photos/Trip";
    t.media(&format!("{a}/a.jpg"))
        .sidecar(&format!("{a}/a.jpg.json"), "a.jpg")
        .put(&format!("{a}/notes.txt"), "x")
        .put(&format!("{a}/song.mp3"), "x")
        .media(&format!("{a}/.hidden.jpg"))
        .media(&format!("{a}/_private.jpg"))
        .media(&format!("{a}/._a.jpg"))
        .media(&format!("{a}/thumbnails_a.jpg"))
        .media(&format!("{a}/nested/b.jpg"))
        .media("Google Photos/_Hidden album/c.jpg")
        .media("Google Photos/.cache/d.jpg")
        .media("Google Photos/@eaDir/e.jpg")
        .media("Google Photos/loose.jpg");
    let plan = t.plan();
    assert_eq!(plan.items.len(), 1);
    assert!(plan.unmatched.is_empty(), "{:?}", plan.unmatched);
    let skipped: Vec<(&str, &str)> = plan
        .skipped
        .iter()
        .map(|s| (s.input.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("Google Photos/Trip/notes.txt", "not media"),
            ("Google Photos/Trip/song.mp3", "not media"),
        ]
    );
}

#[test]
fn items_carry_the_sidecar_facts() {
    let t = Takeout::new();
    let a = "Google Photos/Trip 2";
    let full = json!({
        "title": "IMG_1.HEIC", "description": "New year",
        "photoTakenTime": {"timestamp": "1609459200"},
        "creationTime": {"timestamp": "1"},
        "geoData": {"latitude": 0.0, "longitude": 0.0, "altitude": 0.0},
        "geoDataExif": {"latitude": 41.89, "longitude": 12.49,
                        "altitude": 21.5},
        "favorited": true, "archived": false,
        "people": [{"name": "Ann"}, {"name": "Bo"}],
        "googlePhotosOrigin": {"mobileUpload": {"deviceType": "ANDROID_PHONE"}}
    });
    let bare =
        json!({"title": "b.jpg", "photoTakenTime": {"timestamp": 1262304000}});
    let created = json!({"creationTime": {"timestamp": "1262304001"}});
    t.media(&format!("{a}/IMG_1.HEIC"))
        .put(&format!("{a}/IMG_1.HEIC.json"), &full.to_string())
        .media(&format!("{a}/b.jpg"))
        .put(&format!("{a}/b.jpg.json"), &bare.to_string())
        .media(&format!("{a}/c.jpg"))
        .put(&format!("{a}/c.jpg.json"), &created.to_string())
        .put(&format!("{a}/metadata.json"), r#"{"title": "Rome trip"}"#);
    let plan = t.plan();
    let [one, two, three] = &plan.items[..] else { panic!("{:?}", plan.items) };
    let at = |s| When::Instant(Timestamp::from_second(s).unwrap());
    assert_eq!(one.source, t.export.path.join(a).join("IMG_1.HEIC"));
    assert_eq!(one.input, "Google Photos/Trip 2/IMG_1.HEIC");
    assert_eq!(
        one.capture,
        Some(Capture { when: at(1609459200), source: "photoTakenTime" })
    );
    assert_eq!(
        one.gps,
        Some(Gps { latitude: 41.89, longitude: 12.49, altitude: Some(21.5) })
    );
    assert_eq!(
        one.description.as_deref(),
        Some("Source: Google Photos/john.doe\nCaption: \"New year\"")
    );
    assert_eq!(one.prefix, "gphotos-john.doe");
    assert_eq!(one.group, "IMG_1");
    assert_eq!(one.album, "Rome trip");
    assert_eq!(one.albums, ["Google Photos/john.doe", "Rome trip"]);
    assert!(one.favorite);
    assert_eq!(
        Value::Object(one.context.clone()),
        json!({"albums": ["Rome trip"], "title": "IMG_1.HEIC",
               "favorited": true,
               "archived": false, "people": ["Ann", "Bo"],
               "googlePhotosOrigin":
                   {"mobileUpload": {"deviceType": "ANDROID_PHONE"}}})
    );
    assert_eq!(
        two.capture,
        Some(Capture { when: at(1262304000), source: "photoTakenTime" })
    );
    assert_eq!((two.gps, two.favorite), (None, false));
    assert_eq!(
        two.description.as_deref(),
        Some("Source: Google Photos/john.doe")
    );
    assert_eq!(
        Value::Object(two.context.clone()),
        json!({"albums": ["Rome trip"], "title": "b.jpg"})
    );
    assert_eq!(
        three.capture,
        Some(Capture { when: at(1262304001), source: "creationTime" })
    );
    assert_eq!(
        (three.group.as_str(), three.context["title"].as_str()),
        ("c", Some("c.jpg"))
    );
    assert!(plan.orphans.is_empty() && plan.skipped.is_empty());
}

#[test]
fn year_folders_make_no_album_and_order_is_by_bytes() {
    let t = Takeout::new();
    for album in ["b", "Photos from 2021", "A", "Fotos von 2020"] {
        for file in ["z.jpg", "B.jpg", "a.jpg"] {
            t.media(&format!("Google Photos/{album}/{file}"))
                .sidecar(&format!("Google Photos/{album}/{file}.json"), file);
        }
    }
    let plan = t.plan();
    let got: Vec<&str> = plan.items.iter().map(|i| i.input.as_str()).collect();
    let mut want = Vec::new();
    for album in ["A", "Fotos von 2020", "Photos from 2021", "b"] {
        for file in ["B.jpg", "a.jpg", "z.jpg"] {
            want.push(format!("Google Photos/{album}/{file}"));
        }
    }
    assert_eq!(got, want);
    let albums = |i: usize| plan.items[i].albums.clone();
    assert_eq!(albums(0), ["Google Photos/john.doe", "A"]);
    assert_eq!(albums(3), ["Google Photos/john.doe"]);
    assert_eq!(albums(6), ["Google Photos/john.doe"]);
    assert_eq!(plan.items[6].album, "Photos from 2021");
    assert_eq!(plan.items[6].context["albums"], json!(["Photos from 2021"]));
}

mod layout;
