//! Command-line validation and exit codes (cli.md §12).

use crate::support::*;

#[test]
fn missing_input_is_a_usage_error() {
    let env = TestEnv::new();
    let run = env.run(&["nowhere"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("ERROR: Input directory does not exist:"),
        "{}",
        run.stderr()
    );
}

#[test]
fn no_input_at_all_is_a_usage_error() {
    let run = TestEnv::new().run(&[]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("either INPUT_DIR or --originals is required"),
        "{}",
        run.stderr()
    );
}

#[test]
fn quiet_and_verbose_conflict() {
    let env = TestEnv::new();
    env.write("x/a.txt", b"");
    env.run(&["x", "-q", "-v"]).expect_code(2);
}

#[test]
fn list_processors_prints_the_registry() {
    let run = TestEnv::new().run(&["--list-processors", "--workers", "1"]);
    run.expect_code(0);
    let out = run.stdout();
    assert!(out.starts_with("Available processors:\n\n"), "{out}");
    assert!(
        out.contains("  • Google Photos                  (priority: 50)\n"),
        "{out}"
    );
    assert!(out.contains("Total: "), "{out}");
}

#[test]
fn unknown_processor_and_zone_are_rejected() {
    let env = TestEnv::new();
    env.write("x/a.txt", b"");
    let run = env.run(&["x", "--processor", "myspace"]);
    run.expect_code(2);
    assert!(run.stderr().contains("Unknown processor 'myspace'"));
    let run = env.run(&["x", "--timezone", "Berlin"]);
    run.expect_code(2);
    assert!(run.stderr().contains("unknown time zone 'Berlin'"));
}

#[test]
fn output_inside_the_input_is_refused() {
    let env = TestEnv::new();
    env.write("x/Google Photos/A/a.jpg", &jpeg(1));
    env.run(&["x", "-o", "x/out"]).expect_code(2);
    assert!(!env.path("x/out").exists());
}

#[test]
fn version_and_help() {
    let env = TestEnv::new();
    let run = env.run(&["-V"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout().trim(),
        format!("memoria {}", env!("CARGO_PKG_VERSION"))
    );
    let help = env.run(&["--help"]);
    help.expect_code(0);
    assert!(help.stdout().contains("Usage"));
    assert!(help.stdout().contains("INPUT_DIR"));
    assert!(help.stdout().contains("--parallel-exports"));
}

#[test]
fn verbose_runs_write_log_files_but_dry_runs_do_not() {
    let env = TestEnv::new();
    let album = "google-gus-20250101/Google Photos/A";
    env.write(&format!("{album}/a.jpg"), &jpeg(1));
    env.json(
        &format!("{album}/a.jpg.json"),
        &serde_json::json!({"title": "a.jpg", "photoTakenTime": {"timestamp": "0"}}),
    );
    env.run(&["google-gus-20250101", "-o", "out", "--dry-run", "-v"])
        .expect_code(0);
    assert!(!env.path("logs").exists(), "a dry run writes no logs");
    let run = env.run(&["google-gus-20250101", "-o", "out", "-v"]);
    run.expect_code(0);
    assert!(
        run.stderr().contains("DEBUG [google-gus-20250101/Google Photos]"),
        "{}",
        run.stderr()
    );
    let logs = env.tree("logs");
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert!(logs[0].starts_with("log-google-gus-20250101-"), "{logs:?}");
    assert!(logs[1].starts_with("media_processor_"), "{logs:?}");
    let text =
        std::fs::read_to_string(env.path("logs").join(&logs[0])).unwrap();
    assert!(text.contains("DEBUG memoria::engine::process [google-gus-20250101/Google Photos] Google Photos/A/a.jpg: date from photoTakenTime"), "{text}");
}
