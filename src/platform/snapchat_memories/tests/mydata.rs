//! Tests of the Snapchat Memories processor on My Data downloads
//! (platforms.md §9b): the JSON and HTML lists, the bundled files, the
//! `id`, `time` and `day` rules with modification times set as unpacking
//! tools set them, orphans, fetches and detection.

use std::fs::{self, File};
use std::path::PathBuf;
use std::time::SystemTime;

use jiff::Timestamp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use super::{gps, worked_example, Snap, SnapchatMemories};
use crate::plan::{Capture, Export, Item, Plan, When};
use crate::platform::Platform;

/// The smallest JPEG head the sniffer recognises.
pub(super) const JPEG: &[u8] =
    b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01";
/// An MP4 `ftyp` box.
pub(super) const MP4: &[u8] =
    b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom";

/// A My Data download in a temporary folder.
pub(super) struct Download {
    _dir: TempDir,
    pub(super) export: Export,
    /// R relative to the export, with a trailing `/` unless empty.
    root: &'static str,
}

impl Download {
    /// Returns an export `snapchat-jane-20260115` with R at `root`
    /// (`memories/` or empty).
    pub(super) fn new(root: &'static str) -> Download {
        let dir = TempDir::new().unwrap();
        let name = "snapchat-jane-20260115";
        let path = dir.path().join(name);
        fs::create_dir(&path).unwrap();
        let export =
            Export { name: name.into(), path: path.canonicalize().unwrap() };
        Download { _dir: dir, export, root }
    }

    /// Writes `bytes` to `rel` inside R, creating folders.
    pub(super) fn put(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.export.path.join(self.root).join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, bytes).unwrap();
        path
    }

    /// Writes the JSON list holding `entries`.
    pub(super) fn json(&self, entries: Value) -> &Download {
        let text = json!({"Saved Media": entries}).to_string();
        self.put("json/memories_history.json", text.as_bytes());
        self
    }

    /// Writes the HTML page with the header row and `rows`.
    fn html(&self, rows: &str) -> &Download {
        let page = format!(
            "<html><head><title>Memories</title><script>function \
             downloadMemories(url, button, get) {{ return 1; }}</script>\
             </head><body><table><tbody><tr><th>Date</th><th>Media Type\
             </th><th>Location</th><th></th></tr>{rows}</tbody></table>\
             </body></html>"
        );
        self.put("html/memories_history.html", page.as_bytes());
        self
    }

    /// Writes `memories/<name>` with `bytes`, modified at `mtime` (RFC
    /// 3339) or now.
    pub(super) fn file(
        &self,
        name: &str,
        bytes: &[u8],
        mtime: Option<&str>,
    ) -> &Download {
        let path = self.put(&format!("memories/{name}"), bytes);
        let at = mtime.map_or(Timestamp::now(), |t| t.parse().unwrap());
        let file = File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::try_from(at).unwrap()).unwrap();
        self
    }

    /// Returns the export-relative path of `memories/<name>` in R.
    pub(super) fn input(&self, name: &str) -> String {
        format!("{}memories/{name}", self.root)
    }

    pub(super) fn detect(&self) -> bool {
        SnapchatMemories.detect(&self.export)
    }

    pub(super) fn plan(&self) -> Plan {
        SnapchatMemories.plan(&self.export).unwrap()
    }

    fn error(&self) -> String {
        SnapchatMemories.plan(&self.export).unwrap_err().to_string()
    }
}

/// Returns a JSON entry without links.
pub(super) fn memory(date: &str, media_type: &str, location: &str) -> Value {
    json!({"Date": date, "Media Type": media_type, "Location": location,
           "Download Link": "", "Media Download Url": ""})
}

/// Returns a JSON entry with both links for memory `mid`.
pub(super) fn linked(date: &str, media_type: &str, mid: &str) -> Value {
    json!({"Date": date, "Media Type": media_type,
           "Location": "Latitude, Longitude: 40.25548, -111.645325",
           "Download Link": post(mid), "Media Download Url": get(mid)})
}

/// Returns a Snapchat-shaped GET link of memory `mid`.
fn get(mid: &str) -> String {
    format!(
        "https://us-east1-aws.api.snapchat.com/dmd/mm?uid=u1&sid=S-{mid}\
         &mid={mid}&ts=1768335041137&sig=abc"
    )
}

/// Returns a Snapchat-shaped POST link of memory `mid`.
fn post(mid: &str) -> String {
    format!(
        "https://app.snapchat.com/dmd/memories?uid=u1&sid=S-{mid}&mid={mid}\
         &ts=1768335041137&proxy=true&sig=abc"
    )
}

/// Returns the instant capture of RFC 3339 text `utc` from source `src`.
pub(super) fn at(utc: &str, source: &'static str) -> Option<Capture> {
    Some(Capture { when: When::Instant(utc.parse().unwrap()), source })
}

/// Returns (input, rule, locator) of every item.
pub(super) fn matches(plan: &Plan) -> Vec<(&str, &str, Option<&str>)> {
    plan.items
        .iter()
        .map(|i| {
            (i.input.as_str(), i.matched.rule, i.matched.metadata.as_deref())
        })
        .collect()
}

/// Returns the item whose input ends with `name`.
pub(super) fn item<'a>(plan: &'a Plan, name: &str) -> &'a Item {
    plan.items.iter().find(|i| i.input.ends_with(name)).unwrap()
}

/// Returns (input, reason) of every skipped file.
pub(super) fn skipped(plan: &Plan) -> Vec<(&str, &str)> {
    plan.skipped.iter().map(|s| (s.input.as_str(), s.reason.as_str())).collect()
}

#[test]
fn both_layouts_are_detected() {
    for root in ["memories/", ""] {
        let download = Download::new(root);
        assert!(!download.detect());
        download.json(json!([]));
        assert!(download.detect(), "json in {root:?}");
        let download = Download::new(root);
        download.html("");
        assert!(download.detect(), "html in {root:?}");
        assert!(download.plan().items.is_empty());
    }
    let download = Download::new("elsewhere/");
    download.put("memories/json/memories_history.json", b"{}");
    assert!(!download.detect(), "only R or R/memories hold the list");
}

#[test]
fn the_assembled_layout_wins_over_memories_history() {
    let snap = Snap::nested();
    snap.metadata(worked_example()).media(&["p1.jpg", "v1.mp4"]);
    snap.put("json/memories_history.json", r#"{"Saved Media": []}"#);
    assert!(snap.detect());
    let plan = snap.plan();
    let rules: Vec<_> = plan.items.iter().map(|i| i.matched.rule).collect();
    assert_eq!(rules, ["metadata", "metadata"]);
    assert!(plan.fetches.is_empty());
}

#[test]
fn json_is_preferred_and_a_bom_is_ignored() {
    let download = Download::new("memories/");
    let text = json!({"Saved Media": [linked("2026-01-13 01:55:38 UTC",
                                              "Image", "AB")]});
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(text.to_string().as_bytes());
    download.put("json/memories_history.json", &bytes);
    download.html("<tr><td>2020-01-01 00:00:00 UTC</td><td>Video</td></tr>");
    let plan = download.plan();
    assert_eq!(plan.fetches.len(), 1);
    let fetch = &plan.fetches[0];
    assert_eq!(fetch.item.input, "memories/json/memories_history.json#0");
    assert_eq!(fetch.item.capture, at("2026-01-13T01:55:38Z", "Date"));
}

#[test]
fn invalid_json_and_a_missing_array_stop_the_processor() {
    let download = Download::new("memories/");
    download.put(
        "json/memories_history.json",
        b"{\"Saved Media\": [\n  {\"Date\": }]}",
    );
    assert_eq!(
        download.error(),
        "memories/json/memories_history.json: invalid JSON: expected value \
         at line 2 column 12"
    );
    let download = Download::new("");
    download.put("json/memories_history.json", br#"{"Saved": []}"#);
    assert_eq!(
        download.error(),
        "json/memories_history.json: no \"Saved Media\" array"
    );
}

#[test]
fn locations_give_positions_or_warnings() {
    let download = Download::new("memories/");
    let forms = [
        "Latitude, Longitude: 40.25548, -111.645325",
        "Latitude, Longitude: 0.0, 0.0",
        "",
        "Latitude, Longitude: ",
        "Latitude, Longitude: north, west",
        "Latitude, Longitude: 95.0, 10.0",
        "Lat: 1: -33.9,151.2",
        "Latitude, Longitude: 12.5",
    ];
    let entries: Vec<Value> = forms
        .iter()
        .map(|l| memory("2025-12-30 18:02:11 UTC", "Video", l))
        .collect();
    download.json(json!(entries));
    let plan = download.plan();
    let got: Vec<_> = plan
        .orphans
        .iter()
        .map(|o| {
            (
                o.entry["latitude"].as_f64(),
                o.entry["longitude"].as_f64(),
                o.context.contains_key("warnings"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(40.25548), Some(-111.645325), false),
            (None, None, false),
            (None, None, false),
            (None, None, false),
            (None, None, true),
            (None, None, true),
            (Some(-33.9), Some(151.2), false),
            (None, None, true),
        ]
    );
    assert_eq!(
        plan.orphans[4].context["warnings"],
        json!(["unreadable location \"Latitude, Longitude: north, west\" \
                ignored"])
    );
}

#[test]
fn entries_without_file_or_link_are_orphaned_metadata() {
    let download = Download::new("memories/");
    download.json(json!([memory(
        "2025-12-30 18:02:11 UTC",
        "VIDEO",
        "Latitude, Longitude: 0.0, 0.0"
    )]));
    let plan = download.plan();
    assert!(plan.items.is_empty() && plan.fetches.is_empty());
    let orphan = &plan.orphans[0];
    assert_eq!(orphan.source, "memories/json/memories_history.json#0");
    assert_eq!(orphan.reason, "Media file not found in filesystem");
    assert_eq!(
        orphan.entry,
        json!({"media_id": null, "date": "2025-12-30 18:02:11 UTC",
               "media_type": "VIDEO", "latitude": null, "longitude": null,
               "url": null})
    );
    assert_eq!(
        Value::Object(orphan.context.clone()),
        json!({"entry": "memories/json/memories_history.json#0"})
    );
}

#[test]
fn linked_entries_become_fetches() {
    let download = Download::new("memories/");
    let no_ids = "https://example.test/dmd/mm?ts=1768335041137";
    download.json(json!([
        linked("2026-01-13 01:55:38 UTC", "Image", "7550CF26-B1AC"),
        {"Date": "2025-12-30 18:02:11 UTC", "Media Type": "Video",
         "Download Link": post("X"), "Media Download Url": ""},
        {"Date": "2025-12-30 18:02:12 UTC", "Media Type": "Video",
         "Download Link": "https://app.snapchat.com/dmd/memories?sid=Q%2DR",
         "Media Download Url": ""},
        {"Date": "2025-12-30 18:02:13 UTC", "Media Type": "Sticker",
         "Media Download Url": no_ids},
    ]));
    let plan = download.plan();
    assert!(plan.items.is_empty() && plan.orphans.is_empty());
    let keys: Vec<_> = plan.fetches.iter().map(|f| f.key.as_str()).collect();
    let hash = format!("{:x}", Sha256::digest(no_ids.as_bytes()));
    assert_eq!(keys, ["7550cf26-b1ac", "x", "q-r", &hash[..32]]);
    let exts: Vec<_> = plan.fetches.iter().map(|f| f.planned_ext).collect();
    assert_eq!(exts, ["jpg", "mp4", "mp4", "jpg"]);

    let first = &plan.fetches[0];
    assert_eq!(first.get.as_deref(), Some(get("7550CF26-B1AC").as_str()));
    assert_eq!(first.post.as_deref(), Some(post("7550CF26-B1AC").as_str()));
    assert_eq!(first.cache, "memories/.snapchat-downloads");
    let created = "2026-01-13T20:10:41.137Z".parse().ok();
    assert_eq!(first.link_created, created);
    let locator = "memories/json/memories_history.json#0";
    assert_eq!(first.item.input, locator);
    assert_eq!(first.item.source, download.export.path);
    assert_eq!(first.item.matched.rule, "download");
    assert_eq!(first.item.matched.metadata.as_deref(), Some(locator));
    assert_eq!(first.item.gps, gps(40.25548, -111.645325));
    assert_eq!(first.item.prefix, "snap-memories-jane");
    assert_eq!(first.item.albums, ["Snapchat/jane/memories"]);
    assert_eq!(
        first.item.description.as_deref(),
        Some("Source: Snapchat/jane/memories")
    );
    assert_eq!(
        Value::Object(first.item.context.clone()),
        json!({"media_type": "Image", "media_id": "7550cf26-b1ac"})
    );
    assert_eq!(first.orphan.source, locator);
    assert_eq!(first.orphan.reason, "");
    assert_eq!(
        first.orphan.entry,
        json!({"media_id": "7550cf26-b1ac", "date": "2026-01-13 01:55:38 UTC",
               "media_type": "Image", "latitude": 40.25548,
               "longitude": -111.645325, "url": get("7550CF26-B1AC")})
    );
    assert_eq!(
        Value::Object(first.orphan.context.clone()),
        json!({"entry": locator, "link_created": "2026-01-13T20:10:41.137Z"})
    );
    assert_eq!(plan.fetches[1].get, None);
    assert_eq!(plan.fetches[2].link_created, None);
}

#[test]
fn duplicate_ids_are_dropped_with_a_warning_when_they_differ() {
    let download = Download::new("");
    let mut moved = linked("2026-01-13 01:55:38 UTC", "Image", "abc%2D1");
    moved["Location"] = json!("Latitude, Longitude: 1.5, 2.5");
    download.json(json!([
        linked("2026-01-13 01:55:38 UTC", "Image", "ABC-1"),
        linked("2026-01-13 01:55:38 UTC", "image", "abc-1"),
        moved,
        linked("2026-01-14 01:55:38 UTC", "Image", "def"),
    ]));
    let plan = download.plan();
    let inputs: Vec<_> =
        plan.fetches.iter().map(|f| f.item.input.as_str()).collect();
    assert_eq!(
        inputs,
        ["json/memories_history.json#0", "json/memories_history.json#3"]
    );
    assert_eq!(
        plan.fetches[0].item.warnings,
        ["json/memories_history.json#2 lists the same memory with a \
          different date, type or location; it was ignored"]
    );
    assert!(plan.fetches[1].item.warnings.is_empty());
}

/// A new-style row: the link in an `onclick`, third argument `true`.
const NEW_ROW: &str = "<tr><td>2026-01-13 01:55:38 UTC</td><td>Image</td>\
    <td>Latitude, Longitude: 40.25548, -111.645325</td><td><span \
    class=\"require-js-enabled\"><a href=\"#\" onclick=\"downloadMemories(\
    'https://us-east1-aws.api.snapchat.com/dmd/mm?uid=u1&amp;sid=s1&amp;\
    mid=AB&amp;ts=1768335041137&amp;sig=x', this, true); return false;\">\
    Download</a></span><noscript>Enable JavaScript</noscript></td></tr>";

#[test]
fn html_rows_are_read_by_content() {
    let download = Download::new("memories/");
    let post_row = "<tr><td>Video</td><td>2025-12-30 18:02:11 UTC</td>\
        <td><a onclick=\"downloadMemories(&#39;https://app.snapchat.com/dmd/\
        memories?mid=CD&amp;proxy=true&#39;, this, false)\">x</a></td></tr>";
    let na_row = "<tr><td>2025-12-29 10:00:00 UTC</td><td>Video</td>\
        <td>Latitude, Longitude: 0.0, 0.0</td><td>N/A</td></tr>";
    let old_row = "<tr><td>2019-05-01 12:00:00 UTC</td><td>VIDEO</td><td>\
        <a href=\"javascript:downloadMemories('https://app.snapchat.com/dmd/\
        memories?uid=u&amp;sid=S1&amp;mid=OLD1&amp;ts=1&amp;sig=x');\">\
        Download</a></td></tr>";
    download.html(&format!("{NEW_ROW}{post_row}{na_row}{old_row}"));
    let plan = download.plan();
    let page = "memories/html/memories_history.html";
    let got: Vec<_> = plan
        .fetches
        .iter()
        .map(|f| {
            (
                f.item.input.as_str(),
                f.get.is_some(),
                f.key.as_str(),
                f.planned_ext,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (format!("{page}#0").as_str(), true, "ab", "jpg"),
            (format!("{page}#1").as_str(), false, "cd", "mp4"),
            (format!("{page}#3").as_str(), false, "old1", "mp4"),
        ]
    );
    let first = &plan.fetches[0];
    assert_eq!(
        first.get.as_deref(),
        Some(
            "https://us-east1-aws.api.snapchat.com/dmd/mm?uid=u1&sid=s1&\
             mid=AB&ts=1768335041137&sig=x"
        )
    );
    assert_eq!(first.item.gps, gps(40.25548, -111.645325));
    assert_eq!(first.item.capture, at("2026-01-13T01:55:38Z", "Date"));
    let old = &plan.fetches[2];
    assert_eq!(old.item.context["media_type"], json!("VIDEO"));
    assert_eq!(old.item.gps, None);
    assert_eq!(plan.orphans.len(), 1);
    assert_eq!(plan.orphans[0].source, format!("{page}#2"));
    assert_eq!(plan.orphans[0].entry["url"], Value::Null);
}

/// Cut and corrupted lists must give a plan or an error, never a panic:
/// every prefix of a JSON list and an HTML page, and each with single
/// bytes replaced by characters that matter to the parsers.
#[test]
fn damaged_lists_never_panic() {
    let rows = format!("{NEW_ROW}{NEW_ROW}");
    let json = json!({"Saved Media": [
        memory("2026-01-13 01:55:38 UTC", "Image",
               "Latitude, Longitude: 40.25548, -111.645325"),
        linked("2025-12-30 18:02:11 UTC", "Video", "CD%2Fx"),
    ]})
    .to_string();
    let page = {
        let download = Download::new("");
        download.html(&rows);
        fs::read(download.export.path.join("html/memories_history.html"))
            .unwrap()
    };
    for (name, text) in [
        ("json/memories_history.json", json.into_bytes()),
        ("html/memories_history.html", page),
    ] {
        let download = Download::new("");
        let step = (text.len() / 150).max(1);
        let mut variants: Vec<Vec<u8>> =
            (0..text.len()).step_by(step).map(|n| text[..n].to_vec()).collect();
        for (i, bad) in (0..text.len())
            .step_by(step)
            .zip(b"\"<>':,&;%\xff\0".iter().cycle())
        {
            let mut damaged = text.clone();
            damaged[i] = *bad;
            variants.push(damaged);
        }
        for bytes in variants {
            download.put(name, &bytes);
            // Either outcome is fine; reaching the next line is the test.
            let _ = SnapchatMemories.plan(&download.export);
        }
    }
}
