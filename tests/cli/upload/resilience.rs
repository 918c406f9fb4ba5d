//! Resilience: retries, their limits, failures that never stop the
//! other files, a revoked key, and a key that never shows.

use std::time::Duration;

use super::*;
use crate::fake_immich::Fault;

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

/// Shrinks the time limits of upload.md §5.2 (JSON 60 s, upload stall
/// 5 min) to one second each, through memoria's internal test override.
const FAST_LIMITS: (&str, &str) =
    ("MEMORIA_INTERNAL_IMMICH_TIMEOUTS_MS", "1000,1000");

/// Runs an upload with `FAST_LIMITS`, one request at a time, tracing.
fn fast_run(env: &TestEnv, fake: &FakeImmich) -> Run {
    let url = fake.url();
    let args = [
        EXPORT,
        "-o",
        "out",
        "--immich-url",
        &url,
        "--immich-concurrency",
        "1",
        "-vv",
    ];
    run_env(env, &args, &[("IMMICH_API_KEY", KEY), FAST_LIMITS])
}

#[test]
fn stalled_requests_are_given_up_and_retried() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G3);
    // Answers that would come after 30 s: the JSON limit ends the first
    // pre-check, the stall limit the first upload (whose small body is
    // sent at once, so the wait for the answer is what stalls).
    let hang = Fault::Slow(Duration::from_secs(30));
    fake.fault("POST /assets/bulk-upload-check", [1], hang.clone());
    fake.fault("POST /assets", [1], hang);
    let started = std::time::Instant::now();
    let run = fast_run(&env, &fake);
    run.expect_code(0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "no wait for the hung answers: {:?}",
        started.elapsed()
    );
    // The hung attempts reach the fake's log only once answered (after
    // 30 s), so the trace tells what happened to them.
    let err = run.stderr();
    assert!(
        err.contains(
            "POST /assets/bulk-upload-check: attempt 1 failed (timed out \
             after 1 s"
        ),
        "{err}"
    );
    assert!(
        err.contains("attempt 1 failed (timed out: no bytes moved for 1 s"),
        "{err}"
    );
    let report = env.read_json("out/upload-report.json");
    let job = &report["jobs"][0];
    assert_eq!(
        job["counts"],
        json!({"uploaded": 4, "duplicate": 0, "failed": 0, "skipped": 0})
    );
    let checks = fake.calls("POST /assets/bulk-upload-check");
    assert_eq!(checks.len(), 1, "the retry, answered at once");
    assert_eq!(
        checks[0].json.as_ref().unwrap()["assets"].as_array().unwrap().len(),
        4
    );
    assert_eq!(fake.calls("POST /assets").len(), 4, "the retry and three");
    let sums: Vec<String> =
        fake.assets().iter().map(|a| a.checksum.clone()).collect();
    assert_eq!(sums.len(), 4);
    assert_eq!(sums.iter().collect::<BTreeSet<_>>().len(), 4);
    assert_eq!(fake.album_files()["Google Photos/alice"].len(), 4);
}

#[test]
fn an_upload_that_keeps_stalling_fails_with_its_reason() {
    let env = TestEnv::new();
    takeout(&env, EXPORT);
    let fake = FakeImmich::start(Gen::G2);
    fake.fault("POST /assets", 1..=5, Fault::Slow(Duration::from_secs(40)));
    let started = std::time::Instant::now();
    let run = fast_run(&env, &fake);
    run.expect_code(1);
    // Five one-second attempts and the waits of 1, 2, 4 and 8 s.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(35), "{took:?}");
    assert!(took >= Duration::from_secs(19), "{took:?}");
    let report = env.read_json("out/upload-report.json");
    let files = report["jobs"][0]["files"].as_array().unwrap();
    let failed: Vec<&Value> =
        files.iter().filter(|f| f["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{files:?}");
    assert_eq!(failed[0]["attempts"], 5);
    assert_eq!(
        failed[0]["error"],
        "timed out: no bytes moved for 1 s (server stalled)"
    );
    assert!(
        run.stderr().contains("timed out: no bytes moved for 1 s"),
        "{}",
        run.stderr()
    );
    assert_eq!(report["jobs"][0]["counts"]["uploaded"], 3);
}
