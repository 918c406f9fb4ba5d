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
