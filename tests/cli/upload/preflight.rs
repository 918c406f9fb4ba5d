//! Preflight and configuration: errors that stop a run before any
//! processing, and an unreachable server that does not.

use super::*;

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

/// Arguments, environment and the expected error of a validation case.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn upload_settings_are_validated() {
    let env = TestEnv::new();
    env.write(&format!("{TRIP}/a.jpg"), &jpeg(1));
    let cases: [Case; 6] = [
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
