//! Tests of what Snapchat Memories reports (platforms.md §9.7): orphaned
//! and invalid entries, unreferenced media and overlays, files that are
//! not media, and banned names.

use serde_json::{json, Value};

use super::{entry, inputs, Snap};
use crate::plan::Plan;

/// Returns (source, entry, reason, context) of every orphan.
fn orphans(plan: &Plan) -> Vec<(String, Value, String, Value)> {
    let row = |o: &crate::plan::Orphan| {
        let context = Value::Object(o.context.clone());
        (o.source.clone(), o.entry.clone(), o.reason.clone(), context)
    };
    plan.orphans.iter().map(row).collect()
}

/// Returns (input, reason) of every skipped file, sorted.
fn skipped(plan: &Plan) -> Vec<(String, String)> {
    let mut rows: Vec<_> = plan
        .skipped
        .iter()
        .map(|s| (s.input.clone(), s.reason.clone()))
        .collect();
    rows.sort();
    rows
}

/// Returns owned (input, reason) rows.
fn want(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn missing_media_is_orphaned_metadata() {
    let snap = Snap::nested();
    let gone = entry(
        "2021-01-04 23:08:30 UTC",
        "gone.jpg",
        json!({"overlay_filename": "o1.png", "latitude": 40.5, "longitude": 1}),
    );
    let here = entry("2021-01-04 10:00:00 UTC", "here.mp4", json!({}));
    snap.metadata(json!([here, gone]))
        .media(&["here.mp4"])
        .overlays(&["o1.png"]);
    let plan = snap.plan();
    assert_eq!(inputs(&plan), ["memories/media/here.mp4"]);
    assert_eq!(
        orphans(&plan),
        [(
            "memories/metadata.json#1".to_string(),
            gone,
            "Media file not found in filesystem".to_string(),
            json!({"metadata_filename": "metadata.json",
                   "expected_media": "gone.jpg"}),
        )]
    );
    assert_eq!(
        skipped(&plan),
        want(&[("memories/overlays/o1.png", "overlay of missing media")])
    );
}

#[test]
fn invalid_entries_are_orphaned_metadata() {
    let snap = Snap::flat();
    let valid = entry("2021-01-04 23:08:30 UTC", "p1.jpg", json!({}));
    let nameless = json!({"date": "2021-01-04 23:08:30 UTC",
                          "media_type": "Image", "media_filename": null});
    snap.metadata(json!([valid, "p2.jpg", nameless, {}, [1]]))
        .media(&["p1.jpg", "p2.jpg"]);
    let plan = snap.plan();
    assert_eq!(inputs(&plan), ["media/p1.jpg"]);
    let context = json!({"metadata_filename": "metadata.json"});
    let row = |n: usize, entry: Value, reason: &str| {
        (
            format!("metadata.json#{n}"),
            entry,
            reason.to_string(),
            context.clone(),
        )
    };
    assert_eq!(
        orphans(&plan),
        [
            row(1, json!("p2.jpg"), "Invalid entry"),
            row(2, nameless, "Invalid entry: no media_filename"),
            row(3, json!({}), "Invalid entry: no media_filename"),
            row(4, json!([1]), "Invalid entry"),
        ]
    );
    // An invalid entry references nothing.
    let unmatched: Vec<_> = plan.unmatched.iter().map(|u| &u.input).collect();
    assert_eq!(unmatched, ["media/p2.jpg"]);
}

#[test]
fn unreferenced_and_non_media_files_are_reported() {
    let snap = Snap::nested();
    snap.metadata(json!([entry(
        "2021-01-04 23:08:30 UTC",
        "p1.jpg",
        json!({"overlay_filename": "o1.png"})
    )]))
    .media(&["p1.jpg", "v9.mp4", "a.JPG", "notes.txt", "voice.m4a", "noext"])
    .overlays(&["o1.png", "o2.png", "o3.webp"])
    .dir("memories/media/sub")
    .put("memories/media/sub/deep.jpg", "placeholder");
    let plan = snap.plan();
    assert_eq!(inputs(&plan), ["memories/media/p1.jpg"]);
    let got: Vec<_> = plan
        .unmatched
        .iter()
        .map(|u| {
            let context = Value::Object(u.context.clone());
            (u.input.as_str(), u.source.clone(), u.reason.as_str(), context)
        })
        .collect();
    let media = snap.export.path.join("memories/media");
    let row = |name: &str| {
        let input = format!("memories/media/{name}");
        let context = json!({"original_location": input});
        (input, media.join(name), "No matching metadata found", context)
    };
    let rows = [row("a.JPG"), row("v9.mp4")];
    let rows: Vec<_> = rows
        .iter()
        .map(|(i, s, r, c)| (i.as_str(), s.clone(), *r, c.clone()))
        .collect();
    assert_eq!(got, rows);
    assert_eq!(
        skipped(&plan),
        want(&[
            ("memories/media/noext", "not media"),
            ("memories/media/notes.txt", "not media"),
            ("memories/media/voice.m4a", "not media"),
            ("memories/overlays/o2.png", "overlay not referenced"),
            ("memories/overlays/o3.webp", "overlay not referenced"),
        ])
    );
    assert!(plan.orphans.is_empty());
}

#[test]
fn banned_names_are_ignored() {
    let snap = Snap::nested();
    let date = "2021-01-04 23:08:30 UTC";
    snap.metadata(json!([
        entry(date, "._p1.jpg", json!({})),
        entry(date, "thumbnails_p2.jpg", json!({"overlay_filename": "o.png"})),
        entry(date, "p3.jpg", json!({"overlay_filename": "@eaDir_o3.png"})),
        entry(date, ".hidden.jpg", json!({})),
        entry(date, "p4.jpg", json!({"overlay_filename": "o.png"})),
    ]))
    .media(&[
        "._p1.jpg",
        "thumbnails_p2.jpg",
        "p3.jpg",
        ".hidden.jpg",
        "p4.jpg",
    ])
    .media(&[".DS_Store", "SYNOFILE_THUMB_x.jpg"])
    .overlays(&["@eaDir_o3.png", "o.png", "._o.png"])
    .dir("memories/media/@eaDir")
    .put("memories/media/@eaDir/p5.jpg", "placeholder");
    let plan = snap.plan();
    assert_eq!(inputs(&plan), ["memories/media/p4.jpg"]);
    assert!(plan.orphans.is_empty(), "{:?}", plan.orphans);
    assert!(plan.unmatched.is_empty(), "{:?}", plan.unmatched);
    assert_eq!(
        skipped(&plan),
        want(&[("memories/media/p3.jpg", "entry names a banned overlay")])
    );
}

#[test]
fn an_entry_with_a_banned_overlay_does_not_hide_a_valid_one() {
    let snap = Snap::flat();
    let date = "2021-01-04 23:08:30 UTC";
    snap.metadata(json!([
        entry(date, "p1.jpg", json!({"overlay_filename": "thumbnails.png"})),
        entry(date, "p1.jpg", json!({})),
    ]))
    .media(&["p1.jpg"]);
    let plan = snap.plan();
    assert_eq!(inputs(&plan), ["media/p1.jpg"]);
    assert!(plan.skipped.is_empty() && plan.unmatched.is_empty());
}
