//! Modes and scheduling: upload-only, ignore patterns, dry runs and the
//! order of jobs from parallel exports.

use std::collections::BTreeSet;

use super::*;

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
    // A dry run lists what would be uploaded, without network.
    let run = run_env(
        &env,
        &[EXPORT, "--upload-only", "lib", "--dry-run", "--immich-url", &url],
        &[("IMMICH_API_KEY", KEY)],
    );
    run.expect_code(0);
    let plan = run.stdout();
    assert_eq!(plan.matches("\nUPLOAD     photos/").count(), 4, "{plan}");
    assert!(
        plan.contains("\"Google Photos/alice\", \"Trip to Rome\""),
        "{plan}"
    );
    assert!(fake.requests().is_empty());
    assert!(!env.path("logs").exists());
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
    assert!(
        err.contains("Google Photos: 4 files from report.json"),
        "the source of the file list is named: {err}"
    );
    assert!(!err.contains("OVERALL SUMMARY"));
    fake.assert_clean();
    assert_eq!(fake.assets().len(), 4);
    let albums = fake.album_files();
    assert_eq!(albums["Google Photos/alice"].len(), 4);
    assert_eq!(albums["Trip to Rome"].len(), 3);
    // Every upload-only run writes a log.
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
