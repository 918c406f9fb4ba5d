//! Uploading to Immich against the in-process fake server: albums,
//! dedup, contracts per generation, preflight failures, faults,
//! upload-only mode, ignore patterns and upload order.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::fake_immich::{FakeImmich, Fault, Gen, Profile, KEY};
use crate::support::*;

const EXPORT: &str = "google-alice-20250101";
const TRIP: &str = "google-alice-20250101/Google Photos/Rome 2021";
const YEAR: &str = "google-alice-20250101/Google Photos/Photos from 2021";
/// 2021-07-03T18:00:30Z.
const AT: i64 = 1_625_335_230;

fn sidecar(title: &str, at: i64, favorite: bool) -> Value {
    json!({"title": title, "photoTakenTime": {"timestamp": at.to_string()},
           "favorited": favorite})
}

/// A Google Photos export: an album "Trip to Rome" with two photos and
/// a video, a year folder with a copy of one photo and a favourite, and
/// one photo without metadata (it goes to issues/).
fn takeout(env: &TestEnv, root: &str) {
    let trip = TRIP.replacen(EXPORT, root, 1);
    let year = YEAR.replacen(EXPORT, root, 1);
    env.json(
        &format!("{trip}/metadata.json"),
        &json!({"title": "Trip to Rome"}),
    );
    env.write(&format!("{trip}/IMG_1.jpg"), &jpeg(1));
    env.json(
        &format!("{trip}/IMG_1.jpg.json"),
        &sidecar("IMG_1.jpg", AT, false),
    );
    env.write(&format!("{trip}/IMG_2.jpg"), &jpeg(2));
    env.json(
        &format!("{trip}/IMG_2.jpg.json"),
        &sidecar("IMG_2.jpg", AT + 60, false),
    );
    mp4(&env.path(&trip), "VID_3.mp4", 3, true);
    env.json(
        &format!("{trip}/VID_3.mp4.json"),
        &sidecar("VID_3.mp4", AT + 120, false),
    );
    env.write(&format!("{year}/IMG_1.jpg"), &jpeg(1));
    env.json(
        &format!("{year}/IMG_1.jpg.json"),
        &sidecar("IMG_1.jpg", AT, true),
    );
    env.write(&format!("{year}/IMG_4.png"), &png(4));
    env.json(
        &format!("{year}/IMG_4.png.json"),
        &sidecar("IMG_4.png", AT + 180, true),
    );
    env.write(&format!("{year}/lonely.jpg"), &jpeg(5));
}

/// Runs memoria with `args` and extra environment variables, without
/// any Immich setting from the test process.
fn run_env(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_memoria"));
    cmd.args(args)
        .current_dir(env.dir.path())
        .env_remove("TZ")
        .env("NO_COLOR", "1");
    for var in [
        "IMMICH_INSTANCE_URL",
        "IMMICH_API_KEY",
        "IMMICH_UPLOAD_CONCURRENCY",
        "IMMICH_SKIP_HASH",
        "IMMICH_IGNORE_PATTERNS",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    Run { output: cmd.output().expect("memoria runs") }
}

/// Runs memoria on the export with uploads to `fake` (URL by flag, key
/// from the environment, as a cron job would).
fn upload_run(env: &TestEnv, fake: &FakeImmich, extra: &[&str]) -> Run {
    let url = fake.url();
    let mut args =
        vec![EXPORT, "-o", "out", "--timezone", "UTC", "--immich-url", &url];
    args.extend_from_slice(extra);
    run_env(env, &args, &[("IMMICH_API_KEY", KEY)])
}

/// Returns the `written` entries of `report.json` by output file name.
fn written(env: &TestEnv, report: &str) -> HashMap<String, Value> {
    let report = env.read_json(report);
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["fate"] == "written")
        .map(|f| {
            let out = f["output"].as_str().unwrap();
            (out.rsplit('/').next().unwrap().to_string(), f.clone())
        })
        .collect()
}

#[test]
fn a_run_uploads_into_albums_and_a_rerun_uploads_nothing_new() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G2);
    let run = upload_run(&env, &fake, &[]);
    run.expect_code(0);
    let err = run.stderr();
    let api = format!("{}/api", fake.url());
    assert!(
        err.contains(&format!(
            "Immich: uploads enabled → {api} (server 2.7.3, user alice@example.com)"
        )),
        "{err}"
    );
    assert!(
        err.contains("[upload] google-alice-20250101 · Google Photos"),
        "{err}"
    );
    assert!(
        err.contains(
            "Upload: 4 uploaded, 0 already on server, 0 failed, 0 skipped"
        ),
        "{err}"
    );
    assert!(!err.contains(KEY), "the key is never printed");
    fake.assert_clean();

    // The server holds exactly the written files, with their SHA-1 and
    // the fields of a G2 upload.
    let files = written(&env, "out/report.json");
    assert_eq!(files.len(), 4);
    let assets = fake.assets();
    let names: BTreeSet<&str> =
        assets.iter().map(|a| a.filename.as_str()).collect();
    let expected: BTreeSet<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(names, expected, "lonely.jpg in issues/ is not uploaded");
    for asset in &assets {
        let entry = &files[&asset.filename];
        assert_eq!(asset.checksum, entry["sha1"].as_str().unwrap());
        assert_eq!(asset.size, entry["size"].as_u64().unwrap());
        let size = std::fs::metadata(
            env.path("out").join(entry["output"].as_str().unwrap()),
        )
        .unwrap()
        .len();
        assert_eq!(
            asset.fields["deviceAssetId"],
            format!("{}-{size}", asset.filename)
        );
        assert_eq!(asset.fields["deviceId"], "memoria");
        let instant: jiff::Timestamp =
            entry["date"]["instant"].as_str().unwrap().parse().unwrap();
        let want = instant.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string();
        assert_eq!(asset.fields["fileCreatedAt"], want);
        assert_eq!(asset.fields["fileModifiedAt"], want);
        assert!(!asset.fields.contains_key("duration"));
        let favorite = entry["context"]["favorited"] == true;
        assert_eq!(
            asset.fields["isFavorite"],
            favorite.to_string(),
            "{}",
            asset.filename
        );
    }
    // The photo that is also a favourite in the year folder is one.
    assert_eq!(
        assets.iter().filter(|a| a.fields["isFavorite"] == "true").count(),
        2
    );

    // Albums: one per user and one per album title; year folders make
    // none.
    let albums = fake.album_files();
    assert_eq!(albums.len(), 2, "{albums:?}");
    let all: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    assert_eq!(albums["Google Photos/alice"], all);
    let trip: Vec<String> = files
        .iter()
        .filter(|(_, f)| {
            f["albums"].as_array().unwrap().contains(&json!("Trip to Rome"))
        })
        .map(|(name, _)| name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(trip.len(), 3);
    assert_eq!(albums["Trip to Rome"], trip);

    // upload-report.json next to report.json.
    let report = env.read_json("out/upload-report.json");
    assert_eq!(report["schema"], "memoria-upload-report/1");
    assert_eq!(report["export"], EXPORT);
    assert_eq!(report["server"]["api"], api);
    assert_eq!(report["server"]["version"], "2.7.3");
    assert_eq!(report["bulk_check"], true);
    let job = &report["jobs"][0];
    assert_eq!(job["processor"], "Google Photos");
    assert_eq!(
        job["counts"],
        json!({"uploaded": 4, "duplicate": 0, "failed": 0, "skipped": 0})
    );
    let paths: Vec<&str> = job["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut by_path = paths.clone();
    by_path.sort();
    assert_eq!(paths, by_path, "files sorted by path");
    for file in job["files"].as_array().unwrap() {
        let id = file["asset_id"].as_str().unwrap();
        assert!(assets.iter().any(|a| a.id == id));
        assert_eq!(file["status"], "uploaded");
    }

    // A rerun finds everything on the server and re-files the albums
    // (emptied here, as if the first run had been interrupted).
    let uploads = fake.calls("POST /assets").len();
    fake.empty_albums();
    let run = upload_run(&env, &fake, &[]);
    run.expect_code(0);
    assert!(
        run.stderr().contains(
            "Upload: 0 uploaded, 4 already on server, 0 failed, 0 skipped"
        ),
        "{}",
        run.stderr()
    );
    assert_eq!(fake.calls("POST /assets").len(), uploads, "nothing sent again");
    assert_eq!(fake.assets().len(), 4);
    let again = fake.album_files();
    assert_eq!(again.len(), 2, "no second album of a name");
    assert_eq!(again["Google Photos/alice"], all);
    assert_eq!(again["Trip to Rome"], trip);
    let report = env.read_json("out/upload-report.json");
    assert_eq!(report["jobs"][0]["counts"]["duplicate"], 4);
    fake.assert_clean();
}

#[test]
fn g1_and_g3_servers_get_the_fields_of_their_generation() {
    for gen in [Gen::G1, Gen::G3] {
        let env = TestEnv::new();
        takeout(&env, EXPORT);
        let fake = FakeImmich::start(gen);
        upload_run(&env, &fake, &["--immich-concurrency", "2"]).expect_code(0);
        fake.assert_clean();
        let uploads = fake.calls("POST /assets");
        assert_eq!(uploads.len(), 4, "{gen:?}");
        for up in &uploads {
            assert_eq!(
                up.field("deviceAssetId").is_some(),
                gen == Gen::G1,
                "{gen:?}"
            );
            assert_eq!(
                up.field("deviceId").is_some(),
                gen == Gen::G1,
                "{gen:?}"
            );
            let data = up.file("assetData").unwrap();
            assert_eq!(
                data.content_type.as_deref(),
                Some("application/octet-stream")
            );
            let names: Vec<&str> =
                up.parts.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(names.last(), Some(&"assetData"), "{names:?}");
            assert!(up
                .headers
                .iter()
                .any(|(k, v)| k == "content-length" && !v.is_empty()));
            assert!(up
                .headers
                .iter()
                .any(|(k, v)| k == "user-agent" && v.starts_with("memoria/")));
        }
        let lists = fake.calls("GET /albums");
        match gen {
            Gen::G3 => {
                assert_eq!(lists.len(), 2, "one lookup per album name");
                let query: HashMap<_, _> =
                    lists[0].query.iter().cloned().collect();
                assert_eq!(query["isOwned"], "true");
                assert!(
                    query["name"].starts_with("Google Photos/alice")
                        || query["name"] == "Trip to Rome"
                );
            }
            _ => {
                assert_eq!(lists.len(), 1, "the list is fetched once");
                assert!(lists[0].query.is_empty());
            }
        }
        assert_eq!(fake.album_files().len(), 2);
    }
}

#[test]
fn a_g2_server_refuses_uploads_without_device_asset_id() {
    // A 2.7 server that claims to be 3.0: memoria follows the claim and
    // leaves out deviceAssetId, which the 2.7 contract requires.
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let mut profile = Profile::of(Gen::G2);
    profile.version = (3, 0, 3);
    let fake = FakeImmich::with(profile);
    let run = upload_run(&env, &fake, &[]);
    run.expect_code(1);
    assert!(fake.assets().is_empty());
    let violations = fake.violations();
    assert!(
        violations
            .iter()
            .any(|v| v.contains("missing required field deviceAssetId")),
        "{violations:?}"
    );
    assert!(run.stderr().contains("[upload]   ✗ photos/"), "{}", run.stderr());
    assert!(run
        .stderr()
        .contains("Upload: 0 uploaded, 0 already on server, 4 failed"));
    let report = env.read_json("out/upload-report.json");
    let file = &report["jobs"][0]["files"][0];
    assert_eq!(file["status"], "failed");
    assert!(
        file["error"].as_str().unwrap().starts_with("HTTP 400: "),
        "{file}"
    );
    assert_eq!(file["attempts"], 1, "a 400 is not retried");
}

#[test]
fn a_refused_key_stops_the_run_before_processing() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G3);
    let url = fake.url();
    let run = run_env(
        &env,
        &[
            EXPORT,
            "-o",
            "out",
            "--immich-url",
            &url,
            "--immich-key",
            "wrong-key-123",
        ],
        &[("IMMICH_API_KEY", KEY)],
    );
    run.expect_code(2);
    let err = run.stderr();
    assert!(
        err.contains(
            "ERROR: Immich API key refused (HTTP 401: Invalid API key"
        ),
        "{err}"
    );
    assert!(!err.contains("Running: Google Photos"), "{err}");
    assert!(!env.path("out").exists(), "nothing processed");
    assert!(!err.contains("wrong-key-123") && !err.contains(KEY));
}

#[test]
fn a_web_page_url_stops_the_run_before_processing() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G2);
    let url = format!("{}/photos", fake.url());
    let run = run_env(
        &env,
        &[EXPORT, "-o", "out", "--immich-url", &url],
        &[("IMMICH_API_KEY", KEY)],
    );
    run.expect_code(2);
    let want = format!(
        "ERROR: Immich not an Immich API at {url}/api (got text/html); check the URL or add /api"
    );
    assert!(run.stderr().contains(&want), "{}", run.stderr());
    assert!(!env.path("out").exists());
}

#[test]
fn a_key_without_permissions_is_named() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let mut profile = Profile::of(Gen::G2);
    profile.permissions = vec!["asset.upload".into(), "album.read".into()];
    let fake = FakeImmich::with(profile);
    let run = upload_run(&env, &fake, &[]);
    run.expect_code(2);
    assert!(
        run.stderr().contains(
            "ERROR: Immich API key lacks permission(s): album.create, albumAsset.create"
        ),
        "{}",
        run.stderr()
    );
    assert!(!env.path("out").exists());
}

#[test]
fn an_unreachable_server_is_a_warning_and_files_are_still_written() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/api");
    let run = run_env(
        &env,
        &[EXPORT, "-o", "out", "--immich-url", &url],
        &[("IMMICH_API_KEY", KEY)],
    );
    run.expect_code(1);
    let err = run.stderr();
    assert!(err.contains("WARNING: Immich unreachable: "), "{err}");
    assert!(err.contains("Continuing without upload."), "{err}");
    assert!(err.contains("Upload: FAILED (connection failed"), "{err}");
    assert_eq!(written(&env, "out/report.json").len(), 4);
    assert!(!env.path("out/upload-report.json").exists());
}

#[test]
fn faults_are_retried_and_every_file_lands_exactly_once() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G3);
    fake.fault("POST /assets/bulk-upload-check", [1], Fault::Status(502, None));
    // At most three failures per file: five attempts are allowed.
    fake.fault("POST /assets", [1], Fault::Status(500, None));
    fake.fault("POST /assets", [2], Fault::Status(503, Some(1)));
    fake.fault("POST /assets", [4], Fault::Status(429, Some(1)));
    fake.fault("POST /assets", [5], Fault::Drop);
    fake.fault("POST /assets", [6], Fault::Lost);
    fake.fault("POST /assets", [8], Fault::Slow(Duration::from_millis(1500)));
    fake.fault("POST /albums", [1], Fault::Lost);
    fake.fault("PUT /albums/{id}/assets", [1], Fault::Status(500, None));
    let run = upload_run(&env, &fake, &["--immich-concurrency", "1"]);
    run.expect_code(0);
    fake.assert_clean();
    let files = written(&env, "out/report.json");
    let sums: Vec<String> =
        fake.assets().iter().map(|a| a.checksum.clone()).collect();
    let unique: BTreeSet<&String> = sums.iter().collect();
    assert_eq!(sums.len(), unique.len(), "no file twice");
    let want: BTreeSet<String> = files
        .values()
        .map(|f| f["sha1"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<_>>(), want);
    let albums = fake.albums();
    let names: Vec<&str> = albums.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names.len(),
        2,
        "a lost create answer makes no second album: {names:?}"
    );
    assert_eq!(fake.album_files()["Google Photos/alice"].len(), 4);
    // The lost answer came back as a duplicate on retry.
    let report = env.read_json("out/upload-report.json");
    let counts = &report["jobs"][0]["counts"];
    assert_eq!(counts["failed"], 0);
    assert_eq!(
        counts["uploaded"].as_u64().unwrap()
            + counts["duplicate"].as_u64().unwrap(),
        4
    );
}

#[test]
fn retries_stop_after_five_attempts() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G1);
    fake.fault("POST /assets", 1..=5, Fault::Status(502, None));
    let started = std::time::Instant::now();
    let run = upload_run(&env, &fake, &["--immich-concurrency", "1"]);
    run.expect_code(1);
    // Waits of 1, 2, 4 and 8 s (plus jitter) between the attempts.
    assert!(started.elapsed() >= Duration::from_secs(15));
    let report = env.read_json("out/upload-report.json");
    let files = report["jobs"][0]["files"].as_array().unwrap();
    let failed: Vec<&Value> =
        files.iter().filter(|f| f["status"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["attempts"], 5);
    assert!(failed[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("HTTP 502: injected fault"));
    assert_eq!(fake.assets().len(), 3);
}

#[test]
fn a_failed_upload_never_stops_the_others_and_sets_exit_code_one() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G2);
    fake.fault("POST /assets", [2], Fault::Status(413, None));
    let run = upload_run(&env, &fake, &["--immich-concurrency", "1"]);
    run.expect_code(1);
    let err = run.stderr();
    assert!(
        err.contains("HTTP 413: file too large for the server or a proxy"),
        "{err}"
    );
    assert!(
        err.contains(
            "Upload: 3 uploaded, 0 already on server, 1 failed, 0 skipped"
        ),
        "{err}"
    );
    assert_eq!(fake.assets().len(), 3);
    assert_eq!(fake.album_files()["Google Photos/alice"].len(), 3);
}

#[test]
fn a_key_revoked_during_the_run_stops_all_requests() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G3);
    fake.fault("POST /assets", 2..100, Fault::Status(401, None));
    let run = upload_run(&env, &fake, &["--immich-concurrency", "1"]);
    run.expect_code(1);
    assert_eq!(
        fake.calls("POST /assets").len(),
        2,
        "nothing sent after the 401"
    );
    let report = env.read_json("out/upload-report.json");
    let failed: Vec<&Value> = report["jobs"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 4, "the stored one fails its album too");
    assert!(failed.iter().any(|f| f["error"] == "API key refused"));
}

#[test]
fn upload_only_uploads_a_processed_library() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G3);
    let url = fake.url();
    // Processing with --skip-upload never contacts the server.
    run_env(
        &env,
        &[EXPORT, "-o", "lib", "--skip-upload", "--immich-url", &url],
        &[("IMMICH_API_KEY", KEY)],
    )
    .expect_code(0);
    assert!(fake.requests().is_empty());
    // Without report.json the mode says why it cannot work.
    std::fs::create_dir_all(env.path("empty/photos")).unwrap();
    let run = run_env(
        &env,
        &[EXPORT, "--upload-only", "empty", "--immich-url", &url],
        &[("IMMICH_API_KEY", KEY)],
    );
    run.expect_code(1);
    assert!(
        run.stderr().contains("ERROR: no report.json in "),
        "{}",
        run.stderr()
    );
    // The .env file supplies URL and key.
    env.write(
        ".env",
        format!("IMMICH_INSTANCE_URL={url}\nIMMICH_API_KEY='{KEY}'\n")
            .as_bytes(),
    );
    let run = run_env(&env, &[EXPORT, "--upload-only", "lib"], &[]);
    run.expect_code(0);
    let err = run.stderr();
    assert!(err.contains("Upload-only mode"), "{err}");
    assert!(
        err.contains(&format!(
            "Processed output: {}",
            env.path("lib").canonicalize().unwrap().display()
        )),
        "{err}"
    );
    assert!(err.contains("UPLOAD SUMMARY"), "{err}");
    assert!(err.contains("Uploaded: 4"), "{err}");
    assert!(!err.contains("OVERALL SUMMARY"));
    fake.assert_clean();
    assert_eq!(fake.assets().len(), 4);
    let albums = fake.album_files();
    assert_eq!(albums["Google Photos/alice"].len(), 4);
    assert_eq!(albums["Trip to Rome"].len(), 3);
    // Every upload-only run writes a log (the failed one above too; two
    // runs in one second share the file).
    let logs = env.tree("logs");
    assert!(!logs.is_empty());
    for name in &logs {
        assert!(
            name.starts_with(&format!("upload_only_{EXPORT}_")),
            "{logs:?}"
        );
    }
    let log = logs
        .iter()
        .map(|name| {
            std::fs::read_to_string(env.path("logs").join(name)).unwrap()
        })
        .find(|text| text.contains("UPLOAD SUMMARY"))
        .expect("the log of the successful run");
    assert!(
        log.contains("Ignore patterns: issues/**, **/*matching/**"),
        "{log}"
    );
    assert!(log.contains("uploaded  photos/gphotos-alice-20210703"), "{log}");
    assert!(log.contains("UPLOAD SUMMARY"));
    assert!(!log.contains(KEY));
    assert!(env.path("lib/upload-report.json").exists());
    // A second upload-only run finds everything there.
    let run = run_env(&env, &[EXPORT, "--upload-only", "lib"], &[]);
    run.expect_code(0);
    assert!(run.stderr().contains("Already on server: 4"), "{}", run.stderr());
    assert_eq!(fake.assets().len(), 4);
}

#[test]
fn ignore_patterns_leave_files_out() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G2);
    let url = fake.url();
    let run = run_env(
        &env,
        &[EXPORT, "-o", "out", "--immich-url", &url],
        &[
            ("IMMICH_API_KEY", KEY),
            ("IMMICH_IGNORE_PATTERNS", " *.MP4 , photos/*_2.jpg"),
        ],
    );
    run.expect_code(0);
    let names: BTreeSet<String> =
        fake.assets().iter().map(|a| a.filename.clone()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().all(|n| !n.ends_with(".mp4") && !n.ends_with("_2.jpg")),
        "{names:?}"
    );
}

#[test]
fn parallel_exports_upload_in_arrival_order() {
    let env = TestEnv::new();
    for user in ["bob", "carol", "dave"] {
        let root = format!("exports/google-{user}-20250101");
        let album = format!("{root}/Google Photos/Album");
        for i in 0..4u8 {
            let seed = i + 10 * (user.len() as u8) + user.as_bytes()[0];
            env.write(&format!("{album}/{i}.jpg"), &jpeg(seed));
            env.json(
                &format!("{album}/{i}.jpg.json"),
                &sidecar(&format!("{i}.jpg"), AT, false),
            );
        }
    }
    let fake = FakeImmich::start(Gen::G3);
    let url = fake.url();
    let run = run_env(
        &env,
        &[
            "--originals",
            "exports",
            "-o",
            "lib",
            "--parallel-exports",
            "3",
            "-w",
            "1",
            "--immich-url",
            &url,
        ],
        &[("IMMICH_API_KEY", KEY)],
    );
    run.expect_code(0);
    fake.assert_clean();
    // Uploads of one job are never interleaved with another's, and the
    // jobs run in the order their lines show, which is arrival order.
    let owners: Vec<String> = fake
        .calls("POST /assets")
        .iter()
        .map(|r| r.file("assetData").unwrap().filename.clone().unwrap())
        .map(|name| name.split('-').nth(1).unwrap().to_string())
        .collect();
    let mut runs: Vec<String> = Vec::new();
    for owner in owners {
        if runs.last() != Some(&owner) {
            runs.push(owner);
        }
    }
    assert_eq!(runs.len(), 3, "each job contiguous: {runs:?}");
    let err = run.stderr();
    let mut shown: Vec<(usize, String)> = ["bob", "carol", "dave"]
        .iter()
        .map(|u| {
            let at =
                err.find(&format!("[upload] google-{u}-20250101")).unwrap();
            (at, u.to_string())
        })
        .collect();
    shown.sort();
    let shown: Vec<String> = shown.into_iter().map(|(_, u)| u).collect();
    assert_eq!(runs, shown);
    for user in ["bob", "carol", "dave"] {
        let report = env.read_json(&format!(
            "lib/google-{user}-20250101/upload-report.json"
        ));
        assert_eq!(report["jobs"][0]["counts"]["uploaded"], 4);
        assert!(err.contains(&format!(
            "google-{user}-20250101 (upload: 4 uploaded, 0 already on server, 0 failed)"
        )));
    }
}

#[test]
fn the_api_key_never_reaches_stderr_or_logs() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G3);
    fake.fault("POST /assets", [1], Fault::Status(500, None));
    fake.fault("POST /assets", [2], Fault::Status(400, None));
    let run = upload_run(&env, &fake, &["-vv"]);
    run.expect_code(1);
    assert!(run.stderr().contains("TRACE"), "trace logging is on");
    assert!(!run.stderr().contains(KEY));
    for log in env.tree("logs") {
        let text =
            std::fs::read_to_string(env.path("logs").join(&log)).unwrap();
        assert!(!text.contains(KEY), "{log}");
    }
    assert!(!std::fs::read_to_string(env.path("out/upload-report.json"))
        .unwrap()
        .contains(KEY));
}

#[test]
fn a_dry_run_plans_uploads_without_network() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G3);
    let run = upload_run(&env, &fake, &["--dry-run"]);
    run.expect_code(0);
    let plan = run.stdout();
    assert!(
        plan.contains(
            "UPLOAD     photos/ -> album \"Google Photos/alice\" (4 files)"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("UPLOAD     photos/ -> album \"Trip to Rome\" (3 files)"),
        "{plan}"
    );
    assert!(fake.requests().is_empty(), "no network in a dry run");
    let run = run_env(&env, &[EXPORT, "-o", "out", "--dry-run"], &[]);
    assert!(
        !run.stdout().contains("UPLOAD"),
        "no UPLOAD lines without a server"
    );
}

#[test]
fn upload_settings_are_validated() {
    let env = TestEnv::new();
    env.write(&format!("{TRIP}/a.jpg"), &jpeg(1));
    let cases: [(&[&str], &[(&str, &str)], &str); 6] = [
        (
            &[EXPORT, "--upload-only", "x", "--skip-upload"],
            &[],
            "--upload-only and --skip-upload are mutually exclusive",
        ),
        (
            &["--originals", ".", "--upload-only", "x"],
            &[],
            "--upload-only is not compatible with --originals",
        ),
        (
            &["--upload-only", "x"],
            &[],
            "--upload-only needs INPUT_DIR to detect processors and usernames",
        ),
        (
            &[EXPORT, "--upload-only", EXPORT],
            &[],
            "Upload-only mode requires Immich URL and API key",
        ),
        (
            &[EXPORT, "--immich-url", "photos.example.com"],
            &[("IMMICH_API_KEY", "k")],
            "invalid Immich URL 'photos.example.com'",
        ),
        (
            &[EXPORT],
            &[("IMMICH_IGNORE_PATTERNS", "a[")],
            "invalid IMMICH_IGNORE_PATTERNS value",
        ),
    ];
    for (args, vars, want) in cases {
        let run = run_env(&env, args, vars);
        run.expect_code(2);
        assert!(
            run.stderr().contains(&format!("ERROR: {want}")),
            "{args:?}: {}",
            run.stderr()
        );
    }
    let run = run_env(&env, &[EXPORT, "--immich-concurrency", "65"], &[]);
    run.expect_code(2);
    let run = run_env(
        &env,
        &[EXPORT, "-o", "o1"],
        &[("IMMICH_INSTANCE_URL", "http://127.0.0.1:9")],
    );
    run.expect_code(0);
    assert!(run.stderr().contains(
        "WARNING: IMMICH_INSTANCE_URL is set but IMMICH_API_KEY is not; uploads disabled"
    ));
    let run = run_env(&env, &[EXPORT, "-o", "o2", "--immich-key", "k"], &[]);
    run.expect_code(0);
    assert!(run.stderr().contains(
        "WARNING: IMMICH_API_KEY is set but IMMICH_INSTANCE_URL is not; uploads disabled"
    ));
    // --skip-upload does not even look at the settings.
    let run = run_env(
        &env,
        &[EXPORT, "-o", "o3", "--skip-upload", "--immich-url", "nonsense"],
        &[("IMMICH_API_KEY", "k")],
    );
    run.expect_code(0);
}
