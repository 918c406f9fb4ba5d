//! Uploading to Immich against the in-process fake server: albums,
//! dedup, contracts per generation, preflight failures, faults,
//! upload-only mode, ignore patterns and upload order.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use serde_json::{json, Value};

pub(crate) use crate::fake_immich::{FakeImmich, Gen, Profile, KEY};
pub(crate) use crate::support::*;

mod crawl;
mod modes;
mod preflight;
mod resilience;
mod scenarios;

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
    // report.json records each written file's upload result and asset id.
    let audit = env.read_json("out/report.json");
    let written: Vec<&serde_json::Value> = audit["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["fate"] == "written")
        .collect();
    assert_eq!(written.len(), 4);
    for entry in written {
        assert_eq!(entry["upload"]["status"], "uploaded", "{entry}");
        let id = entry["upload"]["asset_id"].as_str().unwrap();
        assert!(assets.iter().any(|a| a.id == id), "{entry}");
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
        // G1 gets the API URL itself (with a trailing slash): no
        // discovery request; G3 the server URL, discovered.
        let api = format!("{}/api/", fake.url());
        let run = match gen {
            Gen::G1 => run_env(
                &env,
                &[
                    EXPORT,
                    "-o",
                    "out",
                    "--immich-url",
                    &api,
                    "--immich-concurrency",
                    "2",
                ],
                &[("IMMICH_API_KEY", KEY)],
            ),
            _ => upload_run(&env, &fake, &["--immich-concurrency", "2"]),
        };
        run.expect_code(0);
        fake.assert_clean();
        let discovered = fake.calls("GET /.well-known/immich").len();
        assert_eq!(discovered, usize::from(gen != Gen::G1), "{gen:?}");
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
