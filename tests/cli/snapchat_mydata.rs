//! Snapchat Memories from the "My Data" download (platforms.md §9b): the
//! memories list (JSON or HTML), bundled memory files matched by id, time
//! and day, linked memories downloaded from a local stand-in for
//! Snapchat's links, the download cache, and every failure reported.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::snap_server::{Answer, Fault, SnapServer};
use crate::snapchat_memories::overlay;
use crate::support::*;

const EXPORT: &str = "snapchat-jane-20260115";
const LIST: &str = "json/memories_history.json";

const DENVER: &str = "Latitude, Longitude: 40.25548, -111.645325";
const PARIS: &str = "Latitude, Longitude: 48.8584, 2.2945";
const NOWHERE: &str = "Latitude, Longitude: 0.0, 0.0";

/// Memory ids of the main fixture: bundled (A), downloaded JPEG (B),
/// downloaded ZIP with overlay (C), POST link only (D), downloaded MP4
/// (E).
const A: &str = "7550CF26-B1AC-4791-AE16-9F4F41A3C9E6";
const B: &str = "0B6E2A51-3C4D-4E5F-8A9B-0C1D2E3F4A5B";
const C: &str = "0C7F3B62-4D5E-4F60-9BAC-1D2E3F4A5B6C";
const D: &str = "0D804C73-5E6F-4071-ACBD-2E3F4A5B6C7D";
const E: &str = "0E915D84-6F70-4182-BDCE-3F4A5B6C7D8E";

/// One memory of the list.
#[derive(Clone)]
struct Entry {
    date: String,
    kind: &'static str,
    location: &'static str,
    /// `Media Download Url`, empty when absent.
    get: String,
    /// `Download Link`, empty when absent.
    post: String,
}

fn entry(date: &str, kind: &'static str, location: &'static str) -> Entry {
    Entry {
        date: date.to_string(),
        kind,
        location,
        get: String::new(),
        post: String::new(),
    }
}

impl Entry {
    fn get(mut self, srv: &SnapServer, mid: &str) -> Entry {
        self.get = srv.get_link(mid);
        self
    }
    fn post(mut self, srv: &SnapServer, mid: &str) -> Entry {
        self.post = srv.post_link(mid);
        self
    }
    fn links(self, srv: &SnapServer, mid: &str) -> Entry {
        self.get(srv, mid).post(srv, mid)
    }
}

/// Writes `<export>/json/memories_history.json`.
fn list_json(env: &TestEnv, export: &str, entries: &[Entry]) {
    let saved: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({"Date": e.date, "Media Type": e.kind, "Location": e.location,
                   "Download Link": e.post, "Media Download Url": e.get})
        })
        .collect();
    env.json(&format!("{export}/{LIST}"), &json!({"Saved Media": saved}));
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
}

/// Writes `<export>/html/memories_history.html` as current downloads do:
/// the whole table on one line, links in `onclick` (third argument
/// `true` for a GET link), `N/A` where there is no link.
fn list_html(env: &TestEnv, export: &str, entries: &[Entry]) {
    let mut page = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Memories\
         </title></head><body><div class=\"rightpanel\"><h1>Memories</h1>\
         <table><tbody><tr><th><b>Date</b></th><th><b>Media Type</b></th>\
         <th><b>Location</b></th><th></th></tr>",
    );
    for e in entries {
        let link = if !e.get.is_empty() {
            format!(
                "<span class=\"require-js-enabled\"><a href=\"#\" \
                 onclick=\"downloadMemories('{}', this, true); return false;\">\
                 Download</a></span><noscript>Enable JavaScript</noscript>",
                escape(&e.get)
            )
        } else if !e.post.is_empty() {
            format!(
                "<a href=\"#\" onclick=\"downloadMemories('{}', this); return \
                 false;\">Download</a>",
                escape(&e.post)
            )
        } else {
            "N/A".to_string()
        };
        page.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{link}</td></tr>",
            e.date, e.kind, e.location
        ));
    }
    page.push_str("</tbody></table></div></body></html>\n");
    env.write(&format!("{export}/html/memories_history.html"), page.as_bytes());
}

/// Sets the modification time of `path` to Unix seconds `at`.
fn touch(path: &Path, at: i64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(at as u64)).unwrap();
}

/// Writes a bundled file `<export>/memories/<name>`, with the modification
/// time unpacking gave it (`None`: the time of writing, as a tool that
/// drops file times leaves it).
fn bundle(
    env: &TestEnv,
    export: &str,
    name: &str,
    bytes: &[u8],
    mtime: Option<i64>,
) -> PathBuf {
    let path = env.write(&format!("{export}/memories/{name}"), bytes);
    if let Some(at) = mtime {
        touch(&path, at);
    }
    path
}

/// `YYYY-MM-DD HH:MM:SS UTC` as Unix seconds.
fn unix(date: &str) -> i64 {
    let iso = format!("{}Z", date.trim_end_matches(" UTC").replace(' ', "T"));
    iso.parse::<jiff::Timestamp>().unwrap().as_second()
}

fn pixel(path: &Path, x: u32, y: u32) -> [u8; 3] {
    image::open(path).unwrap().to_rgb8().get_pixel(x, y).0
}

fn is_red(p: [u8; 3]) -> bool {
    p[0] > 200 && p[1] < 70 && p[2] < 70
}

/// The red channel of the top-left pixel of `jpeg(seed)` as decoded
/// (pixels tell which input was written).
fn seed_red(seed: u8) -> u8 {
    image::load_from_memory(&jpeg(seed)).unwrap().to_rgb8().get_pixel(0, 0).0[0]
}

fn near(a: u8, b: u8) -> bool {
    a.abs_diff(b) <= 12
}

/// Runs memoria on `export` into `out` in zone UTC, plus `extra`.
fn run(env: &TestEnv, export: &str, extra: &[&str]) -> Run {
    let mut args = vec![export, "-o", "out", "--timezone", "UTC"];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// The written media in `out/memories/` (no cache, no `issues/`).
fn library(env: &TestEnv) -> Vec<String> {
    env.tree("out/memories")
        .into_iter()
        .filter(|n| !n.contains('/') && !n.starts_with('.'))
        .collect()
}

/// The files in the download cache.
fn cache(env: &TestEnv) -> Vec<String> {
    env.tree("out/memories/.snapchat-downloads")
}

/// The library's names with their bytes and modification times.
fn library_snapshot(
    env: &TestEnv,
) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    library(env)
        .into_iter()
        .map(|n| {
            let p = env.path(&format!("out/memories/{n}"));
            let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
            (n, std::fs::read(&p).unwrap(), mtime)
        })
        .collect()
}

fn out(env: &TestEnv, name: &str) -> PathBuf {
    env.path(&format!("out/memories/{name}"))
}

/// The `written` entry of `input` in `report.json`.
fn written<'a>(report: &'a Value, input: &str) -> &'a Value {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["input"] == input && f["fate"] == "written")
        .unwrap_or_else(|| panic!("no written {input} in {report:#}"))
}

/// The orphaned-metadata entry of `source` in `report.json`.
fn orphan<'a>(report: &'a Value, source: &str) -> &'a Value {
    report["orphaned_metadata"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["source"] == source)
        .unwrap_or_else(|| panic!("no orphan {source} in {report:#}"))
}

/// Text with every run of whitespace made one space (warnings may wrap).
fn norm(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn user_agent() -> String {
    format!("memoria/{}", env!("CARGO_PKG_VERSION"))
}

/// The main fixture: the list of §9b.2 with five memories, one of them
/// bundled with its overlay (matched by id), four only linked.
fn main_export(env: &TestEnv, srv: &SnapServer) -> Vec<Entry> {
    let entries = vec![
        entry("2026-01-13 01:55:38 UTC", "Image", DENVER).links(srv, A),
        entry("2026-01-12 20:00:00 UTC", "Image", DENVER).links(srv, B),
        entry("2026-01-10 09:30:00 UTC", "Image", NOWHERE).links(srv, C),
        entry("2025-12-30 18:02:11 UTC", "Image", PARIS).post(srv, D),
        entry("2025-12-30 10:00:00 UTC", "Video", NOWHERE).get(srv, E),
    ];
    list_json(env, EXPORT, &entries);
    // Unpacked in UTC: modification times equal the dates.
    let at = unix(&entries[0].date);
    bundle(
        env,
        EXPORT,
        &format!("2026-01-13_{A}-main.jpg"),
        &jpeg(3),
        Some(at),
    );
    bundle(
        env,
        EXPORT,
        &format!("2026-01-13_{A}-overlay.png"),
        &overlay(96, 64),
        Some(at),
    );
    // A is bundled, so the server does not know it: a request for it is
    // a violation.
    srv.add(B, Answer::Media(jpeg(4)));
    srv.add(C, Answer::Zip { main: jpeg(5), overlay: overlay(48, 32) });
    srv.add(D, Answer::Media(jpeg(6)));
    let video = mp4(&env.path("src"), "e.mp4", 0x50, false);
    srv.add(E, Answer::Media(std::fs::read(video).unwrap()));
    entries
}

const MAIN_LIBRARY: [&str; 5] = [
    "snap-memories-jane-20251230.jpg",
    "snap-memories-jane-20251230.mp4",
    "snap-memories-jane-20260110.jpg",
    "snap-memories-jane-20260112.jpg",
    "snap-memories-jane-20260112_2.jpg",
];

#[test]
fn bundled_and_linked_memories_make_one_library() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    let entries = main_export(&env, &srv);
    run(&env, EXPORT, &[]).expect_code(0);
    assert!(srv.violations().is_empty(), "{:?}", srv.violations());
    assert_eq!(library(&env), MAIN_LIBRARY);

    // The cache: keys are the ids, lower-cased; ZIPs are unpacked into
    // main and overlay; answers are kept byte for byte.
    let lower = |m: &str| m.to_lowercase();
    let mut expected = vec![
        format!("{}-main.jpg", lower(B)),
        format!("{}-main.jpg", lower(C)),
        format!("{}-overlay.png", lower(C)),
        format!("{}-main.jpg", lower(D)),
        format!("{}-main.mp4", lower(E)),
    ];
    expected.sort();
    assert_eq!(cache(&env), expected);
    let cached = |name: String| {
        std::fs::read(
            env.path(&format!("out/memories/.snapchat-downloads/{name}")),
        )
        .unwrap()
    };
    assert_eq!(cached(format!("{}-main.jpg", lower(B))), jpeg(4));
    assert_eq!(cached(format!("{}-overlay.png", lower(C))), overlay(48, 32));

    // Requests: none for the bundled memory; GET links with the route tag
    // and memoria's user agent; the POST link with the form body, then a
    // plain GET of the URL it answered.
    assert!(srv.requests_for(A).is_empty());
    for mid in [B, C, E] {
        let log = srv.requests_for(mid);
        assert_eq!(log.len(), 1, "{mid}: {log:?}");
        assert_eq!(log[0].method, "GET");
        assert_eq!(log[0].path, "/dmd/mm");
        assert!(log[0].query.contains(&("mid".into(), mid.into())));
        assert!(log[0].query.contains(&("sig".into(), "x".into())));
        assert_eq!(log[0].header("x-snap-route-tag"), Some("mem-dmd"));
        assert_eq!(log[0].header("user-agent"), Some(user_agent().as_str()));
    }
    let log = srv.requests_for(D);
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str()),
        ("POST", "/dmd/memories")
    );
    assert_eq!(
        log[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(log[0].body, crate::snap_server::post_query(D).into_bytes());
    assert!(log[0].query.is_empty(), "the form is in the body");
    assert_eq!(
        (log[1].method.as_str(), log[1].path.as_str()),
        ("GET", &*format!("/files/{D}.jpg"))
    );
    assert_eq!(srv.requests().len(), 5);

    // A: bundled, matched by id, overlay composited, dated in Denver.
    let a = out(&env, "snap-memories-jane-20260112.jpg");
    let img = image::open(&a).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (48, 32));
    assert!(is_red(img.get_pixel(3, 3).0), "{:?}", img.get_pixel(3, 3));
    assert!(!is_red(img.get_pixel(40, 28).0));
    let tool = exiftool(&a);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2026:01:12 18:55:38");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "-07:00");
    assert!(
        (tool["GPS:GPSLatitude"].as_f64().unwrap() - 40.25548).abs() < 1e-5
    );
    let lon =
        exif_coord(&a, exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef);
    assert!((lon.unwrap() + 111.645325).abs() < 1e-5, "{lon:?}");
    assert_eq!(tool["IFD0:ImageDescription"], "Source: Snapchat/jane/memories");
    assert_eq!(mtime(&a), unix(&entries[0].date));

    // B: a plain JPEG, the second memory of that Denver day.
    let b = out(&env, "snap-memories-jane-20260112_2.jpg");
    assert!(near(pixel(&b, 0, 0)[0], seed_red(4)), "{:?}", pixel(&b, 0, 0));
    assert!(!is_red(pixel(&b, 3, 3)));
    let tool = exiftool(&b);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2026:01:12 13:00:00");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "-07:00");
    assert_eq!(tool["IFD0:ImageDescription"], "Source: Snapchat/jane/memories");
    assert_eq!(mtime(&b), unix(&entries[1].date));

    // C: the ZIP's overlay composited; 0.0, 0.0 is no position, so the
    // fallback zone (UTC) dates it.
    let c = out(&env, "snap-memories-jane-20260110.jpg");
    assert!(is_red(pixel(&c, 3, 3)), "{:?}", pixel(&c, 3, 3));
    assert!(!is_red(pixel(&c, 40, 28)));
    let tool = exiftool(&c);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2026:01:10 09:30:00");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "+00:00");
    assert!(!tool.contains_key("GPS:GPSLatitude"), "{tool:?}");

    // D: fetched through the POST link, dated in Paris.
    let d = out(&env, "snap-memories-jane-20251230.jpg");
    assert!(near(pixel(&d, 0, 0)[0], seed_red(6)), "{:?}", pixel(&d, 0, 0));
    let tool = exiftool(&d);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2025:12:30 19:02:11");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "+01:00");
    assert!((tool["GPS:GPSLatitude"].as_f64().unwrap() - 48.8584).abs() < 1e-5);

    // E: the video, QuickTime dates.
    let e = out(&env, "snap-memories-jane-20251230.mp4");
    assert_eq!(exiftool(&e)["Keys:CreationDate"], "2025:12:30 10:00:00+00:00");
    assert_eq!(mtime(&e), unix(&entries[4].date));

    // report.json
    let report = env.read_json("out/report.json");
    assert_eq!(report["status"], "success");
    assert_eq!(report["processors"][0]["id"], "snapchat_memories");
    assert_eq!(report["processors"][0]["status"], "success");
    assert_eq!(report["processors"][0]["counts"]["written"], 5);
    assert_eq!(report["processors"][0]["counts"]["orphaned_metadata"], 0);
    assert_eq!(report["orphaned_metadata"], json!([]));
    let a_entry =
        written(&report, &format!("memories/2026-01-13_{A}-main.jpg"));
    assert_eq!(a_entry["output"], "memories/snap-memories-jane-20260112.jpg");
    assert_eq!(a_entry["match"]["rule"], "id");
    assert_eq!(a_entry["match"]["metadata"], format!("{LIST}#0"));
    assert_eq!(
        a_entry["overlay"],
        json!({"file": format!("memories/2026-01-13_{A}-overlay.png"),
               "result": "composited"})
    );
    assert!(a_entry.get("url").is_none() && a_entry.get("cached_as").is_none());
    let downloaded = [
        (1, B, "snap-memories-jane-20260112_2.jpg", "main.jpg"),
        (2, C, "snap-memories-jane-20260110.jpg", "main.jpg"),
        (3, D, "snap-memories-jane-20251230.jpg", "main.jpg"),
        (4, E, "snap-memories-jane-20251230.mp4", "main.mp4"),
    ];
    for (n, mid, name, tail) in downloaded {
        let f = written(&report, &format!("{LIST}#{n}"));
        assert_eq!(f["output"], format!("memories/{name}"), "{f:#}");
        assert_eq!(f["match"]["rule"], "download", "{f:#}");
        let url = f["url"].as_str().unwrap();
        assert!(url.contains(mid), "{url}");
        let cached_as = f["cached_as"].as_str().unwrap();
        assert!(
            cached_as.ends_with(&format!(
                ".snapchat-downloads/{}-{tail}",
                lower(mid)
            )),
            "{cached_as}"
        );
    }
    assert_eq!(written(&report, &format!("{LIST}#1"))["url"], srv.get_link(B));
    assert_eq!(
        written(&report, &format!("{LIST}#2"))["overlay"]["result"],
        "composited"
    );
    assert_eq!(written(&report, &format!("{LIST}#2"))["gps"], Value::Null);
    // Nothing to report, so no issues folder.
    assert!(!env.path("out/memories/issues").exists());
}

#[test]
fn failed_downloads_are_reported_and_transient_ones_retried() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    let mids: Vec<String> = (0..8)
        .map(|n| format!("F{n}000000-0000-4000-8000-00000000000{n}"))
        .collect();
    let m = |n: usize| mids[n].as_str();
    let entries = vec![
        // 0: refused (403) on the GET link; the POST link is not tried.
        entry("2026-01-11 10:00:00 UTC", "Image", NOWHERE).links(&srv, m(0)),
        // 1: gone (404).
        entry("2026-01-11 11:00:00 UTC", "Image", NOWHERE).get(&srv, m(1)),
        // 2: throttled once (429), then the memory.
        entry("2026-01-11 12:00:00 UTC", "Image", NOWHERE).get(&srv, m(2)),
        // 3: a server error once (500), then the memory.
        entry("2026-01-11 13:00:00 UTC", "Image", NOWHERE).get(&srv, m(3)),
        // 4: an HTML page instead of a memory, every time.
        entry("2026-01-11 14:00:00 UTC", "Image", NOWHERE).get(&srv, m(4)),
        // 5: a truncated ZIP once, then the whole ZIP.
        entry("2026-01-11 15:00:00 UTC", "Image", NOWHERE).get(&srv, m(5)),
        // 6: the GET link keeps failing with 500: the POST link is the
        // second try.
        entry("2026-01-11 16:00:00 UTC", "Image", NOWHERE).links(&srv, m(6)),
        // 7: no link and nothing bundled.
        entry("2026-01-11 17:00:00 UTC", "Image", NOWHERE),
    ];
    list_json(&env, EXPORT, &entries);
    for n in 0..7 {
        srv.add(m(n), Answer::Media(jpeg(20 + n as u8)));
    }
    srv.add(m(5), Answer::Zip { main: jpeg(25), overlay: overlay(48, 32) });
    srv.fail_always(m(0), Fault::Status(403));
    srv.fail_always(m(1), Fault::Status(404));
    srv.fail_get(m(2), &[Fault::Status(429)]);
    srv.fail_get(m(3), &[Fault::Status(500)]);
    srv.fail_always(m(4), Fault::Html);
    srv.fail_get(m(5), &[Fault::TruncatedZip]);
    srv.fail_get(m(6), &[Fault::Status(500); 8]);

    // Every failure answer carries Retry-After: 0, which replaces the
    // 2/5/10 s backoff.
    let result = run(&env, EXPORT, &[]);
    // Orphans do not fail the export (cli.md §12).
    result.expect_code(0);
    assert!(srv.violations().is_empty(), "{:?}", srv.violations());

    // The four memories that arrived in the end, in list order.
    assert_eq!(
        library(&env),
        [
            "snap-memories-jane-20260111.jpg",
            "snap-memories-jane-20260111_2.jpg",
            "snap-memories-jane-20260111_3.jpg",
            "snap-memories-jane-20260111_4.jpg",
        ]
    );
    let first = out(&env, "snap-memories-jane-20260111.jpg");
    assert!(
        near(pixel(&first, 0, 0)[0], seed_red(22)),
        "{:?}",
        pixel(&first, 0, 0)
    );
    assert_eq!(
        exiftool(&first)["ExifIFD:DateTimeOriginal"],
        "2026:01:11 12:00:00"
    );
    let zipped = out(&env, "snap-memories-jane-20260111_3.jpg");
    assert!(is_red(pixel(&zipped, 3, 3)), "{:?}", pixel(&zipped, 3, 3));
    assert_eq!(
        exiftool(&zipped)["ExifIFD:DateTimeOriginal"],
        "2026:01:11 15:00:00"
    );

    // Requests: refusals fail at once; transient failures are retried;
    // unexpected content is retried three times (2, 5, 10 s, here 0).
    let count = |n: usize| srv.requests_for(m(n)).len();
    assert_eq!(count(0), 1, "{:?}", srv.requests_for(m(0)));
    assert_eq!(count(1), 1);
    assert_eq!(count(2), 2);
    assert_eq!(count(3), 2);
    assert_eq!(count(4), 4);
    assert_eq!(count(5), 2);
    assert!(count(7) == 0);
    let fallback = srv.requests_for(m(6));
    let posts: Vec<_> =
        fallback.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1, "{fallback:?}");
    assert_eq!(fallback.last().unwrap().path, format!("/files/{}.jpg", m(6)));
    assert!(fallback[0].path == "/dmd/mm" && fallback[0].method == "GET");

    // report.json: the downloaded ones written, the rest orphaned.
    let report = env.read_json("out/report.json");
    assert_eq!(report["status"], "success");
    for (n, name) in [(2, ""), (3, "_2"), (5, "_3"), (6, "_4")] {
        let f = written(&report, &format!("{LIST}#{n}"));
        assert_eq!(
            f["output"],
            format!("memories/snap-memories-jane-20260111{name}.jpg")
        );
        assert_eq!(f["match"]["rule"], "download");
    }
    let warnings =
        written(&report, &format!("{LIST}#6"))["warnings"].to_string();
    assert!(warnings.contains("overlay"), "{warnings}");
    let reasons = [
        (0, "Download failed: HTTP 403 (link expired?)"),
        (1, "Download failed: HTTP 404 (link expired?)"),
        (4, "Download failed: unexpected content"),
        (7, "Media file not found in filesystem"),
    ];
    assert_eq!(
        report["orphaned_metadata"].as_array().unwrap().len(),
        reasons.len()
    );
    for (n, reason) in reasons {
        let o = orphan(&report, &format!("{LIST}#{n}"));
        assert_eq!(o["reason"], reason, "{o:#}");
        let saved = o["saved_to"].as_str().unwrap();
        assert!(
            saved.starts_with("memories/issues/failed-matching/metadata/"),
            "{saved}"
        );
        let entry = env.read_json(&format!("out/{saved}"));
        if n != 7 {
            assert_eq!(entry["media_id"], m(n).to_lowercase(), "{entry:#}");
            assert!(entry["url"].as_str().unwrap().contains(m(n)), "{entry:#}");
        }
    }
    assert_eq!(report["processors"][0]["counts"]["orphaned_metadata"], 4);

    // failure-report.json: the entry's locator and when the link was made.
    let failures = env.read_json("out/memories/issues/failure-report.json");
    let listed =
        failures["failed_matching"]["orphaned_metadata"].as_array().unwrap();
    let refused = listed
        .iter()
        .find(|o| o["reason"] == "Download failed: HTTP 403 (link expired?)")
        .unwrap();
    assert_eq!(refused["context"]["entry"], format!("{LIST}#0"));
    let created = refused["context"]["link_created"].as_str().unwrap();
    assert!(created.starts_with("2026-01-13T20:10:41"), "{created}");
    assert_eq!(refused["metadata_entry"]["media_id"], m(0).to_lowercase());

    // One warning about the refused links.
    let stderr = norm(&result.stderr());
    let warning = format!(
        "WARNING: {EXPORT}: 2 memories could not be downloaded; their links \
         were refused (expired?). The links were created on 2026-01-13. \
         Request a new My Data download and run again into the same output \
         folder;"
    );
    assert!(stderr.contains(&warning), "{stderr}");
    assert_eq!(stderr.matches("their links were refused").count(), 1);
    let reuse = regex::Regex::new(
        r"the \d+ memories already downloaded are reused from memories/\.snapchat-downloads/",
    )
    .unwrap();
    assert!(reuse.is_match(&stderr), "{stderr}");
}

#[test]
fn a_second_run_uses_the_cache_after_the_links_expired() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    let mut entries = main_export(&env, &srv);
    // A memory whose link was refused from the start.
    const G: &str = "0F000000-0000-4000-8000-0000000000AA";
    entries.push(
        entry("2025-11-01 08:00:00 UTC", "Image", NOWHERE).links(&srv, G),
    );
    list_json(&env, EXPORT, &entries);
    srv.add(G, Answer::Media(jpeg(30)));
    srv.fail_always(G, Fault::Status(403));

    run(&env, EXPORT, &[]).expect_code(0);
    assert_eq!(library(&env), MAIN_LIBRARY);
    let first = library_snapshot(&env);
    let first_cache = cache(&env);

    // The links have expired: every request is refused.
    srv.clear_log();
    srv.refuse_all(true);
    let second = run(&env, EXPORT, &[]);
    second.expect_code(0);
    assert_eq!(library_snapshot(&env), first, "same names, bytes and times");
    assert_eq!(cache(&env), first_cache);
    // Only the memory that was never downloaded was asked for again.
    let log = srv.requests();
    assert!(!log.is_empty());
    assert!(log.iter().all(|r| r.mid.as_deref() == Some(G)), "{log:?}");

    let report = env.read_json("out/report.json");
    let b = written(&report, &format!("{LIST}#1"));
    assert_eq!(b["match"]["rule"], "download");
    assert_eq!(b["url"], srv.get_link(B));
    assert!(b["cached_as"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{}-main.jpg", B.to_lowercase())));
    assert_eq!(
        orphan(&report, &format!("{LIST}#5"))["reason"],
        "Download failed: HTTP 403 (link expired?)"
    );
    let stderr = norm(&second.stderr());
    assert!(stderr.contains("1 memories could not be downloaded; their links were refused (expired?)"), "{stderr}");
    assert!(stderr.contains("the 4 memories already downloaded are reused from memories/.snapchat-downloads/"), "{stderr}");
}

#[test]
fn no_download_makes_no_request_and_reports_the_linked_memories() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    main_export(&env, &srv);
    run(&env, EXPORT, &["--no-download"]).expect_code(0);
    assert!(srv.requests().is_empty(), "{:?}", srv.requests());
    // The bundled memory is written as usual.
    assert_eq!(library(&env), ["snap-memories-jane-20260112.jpg"]);
    assert!(is_red(pixel(&out(&env, "snap-memories-jane-20260112.jpg"), 3, 3)));
    assert!(cache(&env).is_empty());
    let report = env.read_json("out/report.json");
    assert_eq!(report["status"], "success");
    assert_eq!(report["orphaned_metadata"].as_array().unwrap().len(), 4);
    for n in 1..=4 {
        let o = orphan(&report, &format!("{LIST}#{n}"));
        assert_eq!(o["reason"], "Not downloaded (--no-download)");
        assert!(env
            .path(&format!("out/{}", o["saved_to"].as_str().unwrap()))
            .is_file());
    }

    // Once the cache is filled, --no-download writes everything from it.
    run(&env, EXPORT, &[]).expect_code(0);
    assert_eq!(library(&env), MAIN_LIBRARY);
    let filled = library_snapshot(&env);
    srv.clear_log();
    run(&env, EXPORT, &["--no-download"]).expect_code(0);
    assert!(srv.requests().is_empty(), "{:?}", srv.requests());
    assert_eq!(library_snapshot(&env), filled);
    let report = env.read_json("out/report.json");
    assert_eq!(report["orphaned_metadata"], json!([]));
    assert_eq!(
        written(&report, &format!("{LIST}#2"))["match"]["rule"],
        "download"
    );
}

#[test]
fn dry_run_plans_downloads_without_any_request() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    main_export(&env, &srv);
    let plan = run(&env, EXPORT, &["--dry-run"]);
    plan.expect_code(0);
    assert!(srv.requests().is_empty(), "{:?}", srv.requests());
    assert!(!env.path("out").exists(), "a dry run writes nothing");
    let stdout = plan.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    let has = |word: &str, name: &str, input: &str| {
        lines.iter().any(|l| {
            l.starts_with(word)
                && l.contains(&format!("memories/{name} "))
                && l.ends_with(input)
        })
    };
    assert!(
        has(
            "WRITE",
            "snap-memories-jane-20260112.jpg",
            &format!("memories/2026-01-13_{A}-main.jpg")
        ),
        "{stdout}"
    );
    // Not bundled and not cached: DOWNLOAD, with the extension of the
    // entry's media type.
    for (n, name) in [
        (1, "snap-memories-jane-20260112_2.jpg"),
        (2, "snap-memories-jane-20260110.jpg"),
        (3, "snap-memories-jane-20251230.jpg"),
        (4, "snap-memories-jane-20251230.mp4"),
    ] {
        assert!(
            has("DOWNLOAD", name, &format!("{LIST}#{n}")),
            "{name}:\n{stdout}"
        );
    }
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("DOWNLOAD")).count(),
        4,
        "{stdout}"
    );

    // After a real run everything is cached: the plan only writes.
    run(&env, EXPORT, &[]).expect_code(0);
    let before = env.snapshot("out");
    srv.clear_log();
    let plan = run(&env, EXPORT, &["--dry-run"]);
    plan.expect_code(0);
    assert!(srv.requests().is_empty(), "{:?}", srv.requests());
    let stdout = plan.stdout();
    assert!(!stdout.lines().any(|l| l.starts_with("DOWNLOAD")), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("WRITE")).count(),
        5,
        "{stdout}"
    );
    assert!(stdout.contains("rule download"), "{stdout}");
    assert_eq!(env.snapshot("out"), before, "a dry run changes nothing");
}

/// Ten linked memories on one day, each answered slowly.
fn slow_export(env: &TestEnv, srv: &SnapServer, count: usize) {
    let entries: Vec<Entry> = (0..count)
        .map(|n| {
            let mid = format!("5A000000-0000-4000-8000-0000000000{n:02}");
            srv.add(&mid, Answer::Media(jpeg(40 + n as u8)));
            entry(&format!("2026-01-02 10:{n:02}:00 UTC"), "Image", NOWHERE)
                .get(srv, &mid)
        })
        .collect();
    list_json(env, EXPORT, &entries);
    srv.set_delay(Duration::from_millis(150));
}

#[test]
fn downloads_run_at_most_workers_at_once() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    slow_export(&env, &srv, 10);
    run(&env, EXPORT, &["--workers", "2"]).expect_code(0);
    assert_eq!(srv.requests().len(), 10);
    assert!(srv.max_in_flight() <= 2, "{} at once", srv.max_in_flight());
    assert_eq!(library(&env).len(), 10);
    assert_eq!(cache(&env).len(), 10);
}

#[test]
fn downloads_run_at_most_eight_at_once() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    slow_export(&env, &srv, 14);
    run(&env, EXPORT, &["--workers", "12"]).expect_code(0);
    assert_eq!(srv.requests().len(), 14);
    assert!(srv.max_in_flight() <= 8, "{} at once", srv.max_in_flight());
    assert_eq!(library(&env).len(), 14);
}

/// Offsets of a machine in Europe/Berlin that unpacked the download: the
/// ZIP's UTC wall clock read as local time is `Date` minus the offset.
const WINTER: i64 = 3600;
const SUMMER: i64 = 7200;

#[test]
fn bundled_files_match_by_time_as_unpacked_in_another_zone() {
    let env = TestEnv::new();
    // The 2026-on bundled variant: a list without links.
    let entries = vec![
        entry("2025-01-20 10:00:00 UTC", "Image", NOWHERE),
        entry("2025-01-20 10:30:00 UTC", "Image", NOWHERE),
        entry("2025-07-04 18:00:00 UTC", "Image", PARIS),
    ];
    list_json(&env, EXPORT, &entries);
    // Two mains of one day: only their times tell them apart. The first
    // by name belongs to the second entry.
    const M1: &str = "9A000000-0000-4000-8000-000000000001";
    const M2: &str = "1B000000-0000-4000-8000-000000000002";
    const M3: &str = "5C000000-0000-4000-8000-000000000003";
    const M4: &str = "7D000000-0000-4000-8000-000000000004";
    bundle(
        &env,
        EXPORT,
        &format!("2025-01-20_{M1}-main.jpg"),
        &jpeg(1),
        Some(unix(&entries[0].date) - WINTER),
    );
    bundle(
        &env,
        EXPORT,
        &format!("2025-01-20_{M2}-main.jpg"),
        &jpeg(2),
        Some(unix(&entries[1].date) - WINTER),
    );
    bundle(
        &env,
        EXPORT,
        &format!("2025-07-04_{M3}-main.jpg"),
        &jpeg(3),
        Some(unix(&entries[2].date) - SUMMER),
    );
    bundle(
        &env,
        EXPORT,
        &format!("2025-07-04_{M3}-overlay.png"),
        &overlay(96, 64),
        Some(unix(&entries[2].date) - SUMMER),
    );
    bundle(
        &env,
        EXPORT,
        &format!("2025-07-04_{M3}-thumbnail.jpg"),
        &jpeg(9),
        None,
    );
    // A main the list does not mention, taken 2025-01-21 08:00:00 UTC.
    let orphan_path = bundle(
        &env,
        EXPORT,
        &format!("2025-01-21_{M4}-main.jpg"),
        &jpeg(4),
        Some(unix("2025-01-21 08:00:00 UTC") - WINTER),
    );
    // An overlay without its main, and a file that is not media.
    bundle(
        &env,
        EXPORT,
        "2025-02-02_8E000000-0000-4000-8000-000000000005-overlay.png",
        &overlay(8, 8),
        None,
    );
    bundle(&env, EXPORT, "notes.txt", b"hello", None);

    let result = run(&env, EXPORT, &[]);
    result.expect_code(0);
    assert!(
        !result.stderr().contains("seem to have lost"),
        "{}",
        result.stderr()
    );
    assert_eq!(
        library(&env),
        [
            "snap-memories-jane-20250120.jpg",
            "snap-memories-jane-20250120_2.jpg",
            "snap-memories-jane-20250121.jpg",
            "snap-memories-jane-20250704.jpg",
        ]
    );
    // Each entry got the main unpacked at its time.
    let first = out(&env, "snap-memories-jane-20250120.jpg");
    assert!(
        near(pixel(&first, 0, 0)[0], seed_red(1)),
        "{:?}",
        pixel(&first, 0, 0)
    );
    assert_eq!(
        exiftool(&first)["ExifIFD:DateTimeOriginal"],
        "2025:01:20 10:00:00"
    );
    let second = out(&env, "snap-memories-jane-20250120_2.jpg");
    assert!(
        near(pixel(&second, 0, 0)[0], seed_red(2)),
        "{:?}",
        pixel(&second, 0, 0)
    );
    assert_eq!(
        exiftool(&second)["ExifIFD:DateTimeOriginal"],
        "2025:01:20 10:30:00"
    );
    // The summer one, with its overlay and its place.
    let summer = out(&env, "snap-memories-jane-20250704.jpg");
    assert!(is_red(pixel(&summer, 3, 3)));
    let tool = exiftool(&summer);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2025:07:04 20:00:00");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "+02:00");
    assert!((tool["GPS:GPSLatitude"].as_f64().unwrap() - 48.8584).abs() < 1e-5);
    // The orphan: its time is the modification time minus the shift the
    // others revealed; no position.
    let lone = out(&env, "snap-memories-jane-20250121.jpg");
    let tool = exiftool(&lone);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2025:01:21 08:00:00");
    assert!(!tool.contains_key("GPS:GPSLatitude"));
    assert_eq!(tool["IFD0:ImageDescription"], "Source: Snapchat/jane/memories");

    let report = env.read_json("out/report.json");
    for (main, n) in [
        (format!("2025-01-20_{M1}"), 0),
        (format!("2025-01-20_{M2}"), 1),
        (format!("2025-07-04_{M3}"), 2),
    ] {
        let f = written(&report, &format!("memories/{main}-main.jpg"));
        assert_eq!(f["match"]["rule"], "time", "{f:#}");
        assert_eq!(f["match"]["metadata"], format!("{LIST}#{n}"), "{f:#}");
    }
    let o = written(&report, &format!("memories/2025-01-21_{M4}-main.jpg"));
    assert_eq!(o["match"]["rule"], "orphan");
    assert_eq!(o["orphan"], true);
    assert_eq!(o["date"]["source"], "file_mtime");
    assert_eq!(o["date"]["instant"], "2025-01-21T08:00:00Z");
    let copy = o["issues_copy"].as_str().unwrap();
    assert_eq!(
        copy,
        format!(
            "memories/issues/failed-matching/media/2025-01-21_{M4}-main.jpg"
        )
    );
    assert_eq!(
        std::fs::read(env.path(&format!("out/{copy}"))).unwrap(),
        jpeg(4)
    );
    assert_eq!(mtime(&env.path(&format!("out/{copy}"))), mtime(&orphan_path));
    let skipped = |input: &str| {
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["input"] == input)
            .unwrap_or_else(|| panic!("{input} not in {report:#}"))
            .clone()
    };
    let thumb = skipped(&format!("memories/2025-07-04_{M3}-thumbnail.jpg"));
    assert_eq!(
        (thumb["fate"].as_str(), thumb["reason"].as_str()),
        (Some("skipped"), Some("thumbnail"))
    );
    let stray = skipped(
        "memories/2025-02-02_8E000000-0000-4000-8000-000000000005-overlay.png",
    );
    assert_eq!(stray["fate"], "skipped");
    assert_eq!(stray["reason"], "overlay not referenced");
    let notes = skipped("memories/notes.txt");
    assert_eq!(
        (notes["fate"].as_str(), notes["reason"].as_str()),
        (Some("skipped"), Some("not media"))
    );
    assert_eq!(report["orphaned_metadata"], json!([]));
    let failures = env.read_json("out/memories/issues/failure-report.json");
    let media =
        failures["failed_matching"]["orphaned_media"].as_array().unwrap();
    assert_eq!(media.len(), 1);
    assert_eq!(media[0]["reason"], "No matching metadata found");
}

#[test]
fn bundled_files_that_lost_their_times_match_by_day() {
    let env = TestEnv::new();
    let entries = vec![
        entry("2025-03-01 12:34:56 UTC", "Image", DENVER),
        entry("2025-03-02 08:00:00 UTC", "Image", NOWHERE),
        entry("2025-03-04 09:00:00 UTC", "Image", NOWHERE),
    ];
    list_json(&env, EXPORT, &entries);
    // Unpacked with a tool that does not keep file times: all "now".
    const M1: &str = "2A000000-0000-4000-8000-000000000001";
    const M2: &str = "2B000000-0000-4000-8000-000000000002";
    const M3: &str = "2C000000-0000-4000-8000-000000000003";
    bundle(&env, EXPORT, &format!("2025-03-01_{M1}-main.jpg"), &jpeg(1), None);
    bundle(&env, EXPORT, &format!("2025-03-02_{M2}-main.jpg"), &jpeg(2), None);
    bundle(&env, EXPORT, &format!("2025-03-03_{M3}-main.jpg"), &jpeg(3), None);

    let result = run(&env, EXPORT, &[]);
    result.expect_code(0);
    let stderr = norm(&result.stderr());
    let warning = format!(
        "WARNING: {EXPORT}: the files in memories/ seem to have lost their \
         original times while being unpacked; memories can only be matched \
         by day. Unpack the download with a tool that keeps file times to get \
         exact dates and places."
    );
    assert!(stderr.contains(&warning), "{stderr}");
    assert_eq!(stderr.matches("seem to have lost").count(), 1);

    assert_eq!(
        library(&env),
        [
            "snap-memories-jane-20250301.jpg",
            "snap-memories-jane-20250302.jpg",
            "snap-memories-jane-20250303.jpg",
        ]
    );
    // Matched by day: the entry's date and place.
    let first = out(&env, "snap-memories-jane-20250301.jpg");
    assert!(near(pixel(&first, 0, 0)[0], seed_red(1)));
    let tool = exiftool(&first);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2025:03:01 05:34:56");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "-07:00");
    assert_eq!(mtime(&first), unix(&entries[0].date));
    assert_eq!(
        exiftool(&out(&env, "snap-memories-jane-20250302.jpg"))
            ["ExifIFD:DateTimeOriginal"],
        "2025:03:02 08:00:00"
    );
    // The orphan: noon of its day prefix.
    let lone = out(&env, "snap-memories-jane-20250303.jpg");
    assert_eq!(
        exiftool(&lone)["ExifIFD:DateTimeOriginal"],
        "2025:03:03 12:00:00"
    );

    let report = env.read_json("out/report.json");
    for (main, n) in
        [(format!("2025-03-01_{M1}"), 0), (format!("2025-03-02_{M2}"), 1)]
    {
        let f = written(&report, &format!("memories/{main}-main.jpg"));
        assert_eq!(f["match"]["rule"], "day", "{f:#}");
        assert_eq!(f["match"]["metadata"], format!("{LIST}#{n}"));
    }
    let o = written(&report, &format!("memories/2025-03-03_{M3}-main.jpg"));
    assert_eq!(o["match"]["rule"], "orphan");
    assert_eq!(o["orphan"], true);
    assert_eq!(o["date"]["source"], "filename");
    let copy = o["issues_copy"].as_str().unwrap();
    assert!(env.path(&format!("out/{copy}")).is_file(), "{copy}");
    assert!(
        copy.starts_with("memories/issues/failed-matching/media/"),
        "{copy}"
    );
    // The entry without a file and without a link.
    assert_eq!(
        orphan(&report, &format!("{LIST}#2"))["reason"],
        "Media file not found in filesystem"
    );
}

#[test]
fn the_html_list_is_read_when_there_is_no_json() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    const H: &str = "3A000000-0000-4000-8000-0000000000A1";
    const N: &str = "3B000000-0000-4000-8000-0000000000B2";
    let entries = vec![
        entry("2026-01-13 01:55:38 UTC", "Image", DENVER).get(&srv, H),
        // Bundled: no link, the link cell reads N/A.
        entry("2026-01-05 08:00:00 UTC", "Image", NOWHERE),
        // Neither bundled nor linked.
        entry("2026-01-04 09:00:00 UTC", "Video", NOWHERE),
    ];
    list_html(&env, EXPORT, &entries);
    srv.add(H, Answer::Zip { main: jpeg(11), overlay: overlay(48, 32) });
    bundle(
        &env,
        EXPORT,
        &format!("2026-01-05_{N}-main.jpg"),
        &jpeg(12),
        Some(unix(&entries[1].date)),
    );

    run(&env, EXPORT, &[]).expect_code(0);
    assert!(srv.violations().is_empty(), "{:?}", srv.violations());
    assert_eq!(
        library(&env),
        ["snap-memories-jane-20260105.jpg", "snap-memories-jane-20260112.jpg"]
    );
    // The GET link was taken from onclick with its entities decoded.
    let log = srv.requests();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str()),
        ("GET", "/dmd/mm")
    );
    assert!(
        log[0].query.contains(&("sid".into(), "s1".into())),
        "{:?}",
        log[0].query
    );
    assert!(log[0].query.contains(&("mid".into(), H.into())));
    assert_eq!(log[0].header("x-snap-route-tag"), Some("mem-dmd"));

    let h = out(&env, "snap-memories-jane-20260112.jpg");
    assert!(is_red(pixel(&h, 3, 3)));
    let tool = exiftool(&h);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2026:01:12 18:55:38");
    assert_eq!(tool["ExifIFD:OffsetTimeOriginal"], "-07:00");
    let n = out(&env, "snap-memories-jane-20260105.jpg");
    assert!(near(pixel(&n, 0, 0)[0], seed_red(12)));
    assert_eq!(exiftool(&n)["ExifIFD:DateTimeOriginal"], "2026:01:05 08:00:00");

    let html = "html/memories_history.html";
    let report = env.read_json("out/report.json");
    let d = written(&report, &format!("{html}#0"));
    assert_eq!(d["match"]["rule"], "download");
    assert!(d["cached_as"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{}-main.jpg", H.to_lowercase())));
    let b = written(&report, &format!("memories/2026-01-05_{N}-main.jpg"));
    assert_eq!(b["match"]["rule"], "time");
    assert_eq!(b["match"]["metadata"], format!("{html}#1"));
    assert_eq!(
        orphan(&report, &format!("{html}#2"))["reason"],
        "Media file not found in filesystem"
    );
}

#[test]
fn an_old_html_list_uses_post_links() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    const KIM: &str = "snapchat-kim-20190301";
    const V: &str = "4A000000-0000-4000-8000-0000000000C1";
    const P: &str = "4B000000-0000-4000-8000-0000000000D2";
    let video = mp4(&env.path("src"), "v.mp4", 0x60, false);
    srv.add(V, Answer::Media(std::fs::read(video).unwrap()));
    srv.add(P, Answer::Media(jpeg(13)));
    // No Location column, capital types, links in href="javascript:…"
    // (one with entities, one with a bare &).
    let page = format!(
        "<html><body><table>\n<tr><th>Date</th><th>Media Type</th><th></th></tr>\n\
         <tr><td>2019-02-20 14:00:00 UTC</td><td>VIDEO</td><td><a href=\"javascript:downloadMemories('{}');\">Download</a></td></tr>\n\
         <tr><td>2019-02-19 09:15:00 UTC</td><td>IMAGE</td><td><a href=\"javascript:downloadMemories('{}');\">Download</a></td></tr>\n\
         </table></body></html>\n",
        escape(&srv.post_link(V)),
        srv.post_link(P)
    );
    env.write(&format!("{KIM}/html/memories_history.html"), page.as_bytes());

    run(&env, KIM, &[]).expect_code(0);
    assert!(srv.violations().is_empty(), "{:?}", srv.violations());
    assert_eq!(
        library(&env),
        ["snap-memories-kim-20190219.jpg", "snap-memories-kim-20190220.mp4"]
    );
    for (mid, ext) in [(V, "mp4"), (P, "jpg")] {
        let log = srv.requests_for(mid);
        assert_eq!(log.len(), 2, "{log:?}");
        assert_eq!(
            (log[0].method.as_str(), log[0].path.as_str()),
            ("POST", "/dmd/memories")
        );
        assert_eq!(
            log[0].body,
            crate::snap_server::post_query(mid).into_bytes()
        );
        assert_eq!(log[1].method, "GET");
        assert_eq!(log[1].path, format!("/files/{mid}.{ext}"));
    }
    let photo = out(&env, "snap-memories-kim-20190219.jpg");
    let tool = exiftool(&photo);
    assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2019:02:19 09:15:00");
    assert_eq!(tool["IFD0:ImageDescription"], "Source: Snapchat/kim/memories");
    let clip = out(&env, "snap-memories-kim-20190220.mp4");
    assert_eq!(
        exiftool(&clip)["Keys:CreationDate"],
        "2019:02:20 14:00:00+00:00"
    );

    let report = env.read_json("out/report.json");
    for n in 0..2 {
        let f = written(&report, &format!("html/memories_history.html#{n}"));
        assert_eq!(f["match"]["rule"], "download");
    }
    assert!(env
        .path(&format!(
            "out/memories/.snapchat-downloads/{}-main.mp4",
            V.to_lowercase()
        ))
        .is_file());
}

#[test]
fn an_assembled_layout_is_preferred_to_the_memories_list() {
    let env = TestEnv::new();
    let srv = SnapServer::start();
    const X: &str = "6A000000-0000-4000-8000-0000000000E1";
    srv.add(X, Answer::Media(jpeg(50)));
    list_json(
        &env,
        EXPORT,
        &[entry("2026-01-13 01:55:38 UTC", "Image", DENVER).get(&srv, X)],
    );
    env.write(&format!("{EXPORT}/memories/media/p1.jpg"), &jpeg(3));
    std::fs::create_dir_all(env.path(&format!("{EXPORT}/memories/overlays")))
        .unwrap();
    env.json(
        &format!("{EXPORT}/memories/metadata.json"),
        &json!([{"date": "2021-01-04 23:08:30 UTC", "media_type": "Image",
                 "media_filename": "p1.jpg"}]),
    );

    let result = run(&env, EXPORT, &[]);
    result.expect_code(0);
    let stderr = norm(&result.stderr());
    assert!(
        stderr.contains(&format!(
            "WARNING: {EXPORT}: found both an assembled memories layout and \
             Snapchat's memories_history; using the assembled layout"
        )),
        "{stderr}"
    );
    assert!(srv.requests().is_empty(), "{:?}", srv.requests());
    assert_eq!(library(&env), ["snap-memories-jane-20210104.jpg"]);
    let report = env.read_json("out/report.json");
    assert_eq!(
        written(&report, "memories/media/p1.jpg")["match"]["rule"],
        "metadata"
    );
}

#[test]
fn an_overlay_that_is_not_a_still_picture_is_kept_beside() {
    let env = TestEnv::new();
    let date = "2026-01-13 01:55:38 UTC";
    list_json(&env, EXPORT, &[entry(date, "Image", NOWHERE)]);
    let main = bundle(
        &env,
        EXPORT,
        &format!("2026-01-13_{A}-main.jpg"),
        &jpeg(4),
        None,
    );
    // A two-frame GIF: an animated sticker cannot be composited.
    let gif = animated_gif();
    bundle(&env, EXPORT, &format!("2026-01-13_{A}-overlay.gif"), &gif, None);

    run(&env, EXPORT, &[]).expect_code(0);
    let name = "snap-memories-jane-20260113.jpg";
    assert_eq!(library(&env), [name, &format!("{name}.overlay.gif")]);
    // The media is written unchanged apart from its metadata: same pixels.
    assert_eq!(pixel(&out(&env, name), 0, 0), pixel(&main, 0, 0));
    assert_eq!(
        std::fs::read(out(&env, &format!("{name}.overlay.gif"))).unwrap(),
        gif
    );
    let report = env.read_json("out/report.json");
    let file = written(&report, &format!("memories/2026-01-13_{A}-main.jpg"));
    assert_eq!(file["overlay"]["result"], "kept-beside", "{file:#}");
    let warnings = file["warnings"].to_string();
    assert!(warnings.contains("not a still image"), "{warnings}");
}

/// A 1×1 GIF of two frames (two-colour palette, minimal LZW data).
fn animated_gif() -> Vec<u8> {
    let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
    gif.extend_from_slice(b"\xff\x00\x00\x00\x00\x00");
    for _ in 0..2 {
        // Graphic control (10 ms delay), then the frame itself.
        gif.extend_from_slice(b"!\xf9\x04\x00\x01\x00\x00\x00");
        gif.extend_from_slice(b",\x00\x00\x00\x00\x01\x00\x01\x00\x00");
        gif.extend_from_slice(b"\x02\x02D\x01\x00");
    }
    gif.push(b';');
    gif
}
