//! `--upload-only` on a library without `report.json` (upload.md §8 step
//! 7): the output folder is crawled, hashed and filed into the
//! processor's base album.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::*;

/// Processes the export into `lib` without uploading, removes the
/// report and adds the files a crawl must tell apart. Returns the
/// modification time given to each media file, by file name.
fn library_without_report(env: &TestEnv) -> BTreeMap<String, i64> {
    takeout(env, EXPORT);
    run_env(env, &[EXPORT, "-o", "lib", "--skip-upload"], &[]).expect_code(0);
    std::fs::remove_file(env.path("lib/report.json")).unwrap();
    env.write("lib/photos/.hidden.jpg", &jpeg(40));
    env.write("lib/photos/.cache/inner.jpg", &jpeg(41));
    env.write("lib/photos/sub/extra.jpg", &jpeg(42));
    env.write("lib/photos/sub/extra.jpg.xmp", b"<x:xmpmeta/>\n");
    env.write("lib/photos/sub/extra.overlay.png", &png(43));
    env.write("lib/photos/old-matching/y.jpg", &jpeg(44));
    env.write("lib/photos/notes.txt", b"not media");
    let mut times = BTreeMap::new();
    for (i, name) in env.tree("lib/photos").iter().enumerate() {
        let path = env.path("lib/photos").join(name);
        let at = AT + 3600 * i as i64;
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(at as u64);
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(when).unwrap();
        let base = name.rsplit('/').next().unwrap().to_string();
        times.insert(base, at);
    }
    times
}

/// Returns `fileCreatedAt` for Unix seconds `at`.
fn iso(at: i64) -> String {
    let ts = jiff::Timestamp::from_second(at).unwrap();
    ts.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

#[test]
fn upload_only_crawls_a_library_without_report_json() {
    let env = TestEnv::new();
    let times = library_without_report(&env);
    let fake = FakeImmich::start(Gen::G2);
    let url = fake.url();
    let run = run_env(
        &env,
        &[EXPORT, "--upload-only", "lib", "--immich-url", &url],
        &[("IMMICH_API_KEY", KEY)],
    );
    run.expect_code(0);
    fake.assert_clean();
    let err = run.stderr();
    let source =
        "Google Photos: 6 files from crawling photos/ (no report.json)";
    assert!(err.contains(source), "{err}");
    assert!(err.contains("Uploaded: 5"), "{err}");
    assert!(err.contains("Skipped: 1"), "{err}");
    let logs = env.tree("logs");
    let log = std::fs::read_to_string(env.path("logs").join(&logs[0])).unwrap();
    assert!(log.contains(source), "{log}");

    // The four written files and the extra one; nothing hidden, ignored,
    // overlaid, or of a type the server does not take.
    let assets = fake.assets();
    let mut names: Vec<&str> =
        assets.iter().map(|a| a.filename.as_str()).collect();
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.contains(&"extra.jpg"));
    assert!(names
        .iter()
        .all(|n| n.starts_with("gphotos-") || *n == "extra.jpg"));
    for asset in &assets {
        let want = iso(times[&asset.filename]);
        assert_eq!(asset.fields["fileCreatedAt"], want, "{}", asset.filename);
        assert_eq!(asset.fields["fileModifiedAt"], want);
    }
    // The sidecar travels with its media.
    let extra = assets.iter().find(|a| a.filename == "extra.jpg").unwrap();
    let (name, bytes) = extra.sidecar.clone().expect("sidecarData sent");
    assert_eq!(name, "extra.jpg.xmp");
    assert_eq!(bytes, b"<x:xmpmeta/>\n");
    assert!(assets.iter().filter(|a| a.sidecar.is_some()).count() == 1);

    // The pre-check got the SHA-1 of every supported file, which is what
    // the server computed from the uploaded bytes.
    let checks = fake.calls("POST /assets/bulk-upload-check");
    assert_eq!(checks.len(), 1);
    let items = checks[0].json.as_ref().unwrap()["assets"].clone();
    let sent: BTreeMap<String, String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let id = i["id"].as_str().unwrap();
            let name = id.rsplit('/').next().unwrap().to_string();
            (name, i["checksum"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(sent.len(), 5, "{sent:?}");
    assert!(sent.contains_key("extra.jpg"));
    for asset in &assets {
        assert_eq!(sent[&asset.filename], asset.checksum, "{}", asset.filename);
    }

    // Only the processor's base album: album titles are not in the
    // library.
    let albums = fake.album_files();
    assert_eq!(albums.len(), 1, "{albums:?}");
    assert_eq!(albums["Google Photos/alice"].len(), 5);

    let report = env.read_json("lib/upload-report.json");
    let files = report["jobs"][0]["files"].as_array().unwrap();
    let notes = files.iter().find(|f| f["path"] == "photos/notes.txt").unwrap();
    assert_eq!(notes["status"], "skipped");
    assert_eq!(notes["reason"], "not supported by the server");
}

#[test]
fn a_crawl_without_hashing_uploads_unchecked() {
    let env = TestEnv::new();
    library_without_report(&env);
    let fake = FakeImmich::start(Gen::G3);
    let url = fake.url();
    // A dry run lists the crawl without network.
    let run = run_env(
        &env,
        &[EXPORT, "--upload-only", "lib", "--dry-run", "--immich-url", &url],
        &[("IMMICH_API_KEY", KEY)],
    );
    run.expect_code(0);
    let plan = run.stdout();
    assert_eq!(plan.matches("\nUPLOAD     photos/").count(), 6, "{plan}");
    assert!(
        plan.contains(
            "UPLOAD     photos/sub/extra.jpg -> \"Google Photos/alice\""
        ),
        "{plan}"
    );
    assert!(fake.requests().is_empty());
    let run = run_env(
        &env,
        &[EXPORT, "--upload-only", "lib", "--immich-url", &url],
        &[("IMMICH_API_KEY", KEY), ("IMMICH_SKIP_HASH", "true")],
    );
    run.expect_code(0);
    fake.assert_clean();
    assert!(
        fake.calls("POST /assets/bulk-upload-check").is_empty(),
        "no pre-check without hashes"
    );
    assert_eq!(fake.assets().len(), 5);
    let report = env.read_json("lib/upload-report.json");
    assert_eq!(report["bulk_check"], false);
    let files = report["jobs"][0]["files"].as_array().unwrap();
    assert!(files.iter().all(|f| f["sha1"].is_null()), "{files:?}");
    // A second run relies on the server's own duplicate answer.
    let run = run_env(
        &env,
        &[EXPORT, "--upload-only", "lib", "--immich-url", &url],
        &[("IMMICH_API_KEY", KEY), ("IMMICH_SKIP_HASH", "true")],
    );
    run.expect_code(0);
    assert!(run.stderr().contains("Already on server: 5"), "{}", run.stderr());
    assert_eq!(fake.assets().len(), 5);
}
