//! Tests of `load` and `resolve`: validation order, defaults and the
//! settings derived from flags. Each test uses its own temp folder as the
//! working directory and its own environment map.

use std::path::Path;

use super::*;
use crate::upload;

/// A temp working directory holding `exp/` (an export), `orig/` (a folder
/// of exports) and `file` (not a folder).
fn fixture(vars: &[(&str, &str)], cpus: usize) -> (tempfile::TempDir, Host) {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(cwd.join("exp")).unwrap();
    std::fs::create_dir_all(cwd.join("orig/google-a-20250101")).unwrap();
    std::fs::write(cwd.join("file"), "x").unwrap();
    let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    (dir, Host { cwd, vars: vars.collect(), cpus })
}

/// Parses `argv` (without the program name) and resolves it for `host`.
fn run(host: &Host, argv: &[&str]) -> Result<Config, LoadError> {
    let argv = std::iter::once("memoria").chain(argv.iter().copied());
    resolve(Args::try_parse_from(argv)?, host)
}

/// Returns the usage error of a run that must fail with one.
fn usage(host: &Host, argv: &[&str]) -> UsageError {
    match run(host, argv) {
        Err(LoadError::Usage(err)) => err,
        Err(LoadError::Clap(err)) => panic!("{argv:?}: clap error {err}"),
        Ok(config) => panic!("{argv:?}: accepted as {config:?}"),
    }
}

/// Returns the configuration of a run that must succeed.
fn config(host: &Host, argv: &[&str]) -> Config {
    match run(host, argv) {
        Ok(config) => config,
        Err(LoadError::Usage(err)) => panic!("{argv:?}: {err}"),
        Err(LoadError::Clap(err)) => panic!("{argv:?}: {err}"),
    }
}

fn unknown_processor(name: &str) -> String {
    let mut want = format!("Unknown processor '{name}'\nAvailable processors:");
    for p in platform::registry() {
        want.push_str(&format!("\n  - {}", p.name()));
    }
    want
}

#[test]
fn validation_runs_in_the_order_of_cli_md_12() {
    let (_dir, host) = fixture(&[], 8);
    let missing = host.cwd.join("missing");
    let cases: Vec<(&[&str], String, bool)> = vec![
        (&[], "either INPUT_DIR or --originals is required".into(), true),
        (
            &["-q", "-v"],
            "either INPUT_DIR or --originals is required".into(),
            true,
        ),
        (
            &["exp", "--originals", "orig", "--processor", "nope"],
            "cannot specify both INPUT_DIR and --originals".into(),
            true,
        ),
        (
            &["missing", "--processor", "nope", "--timezone", "Berlin"],
            unknown_processor("nope"),
            false,
        ),
        (
            &["missing", "--timezone", "Berlin", "--env-file", "no.env"],
            "unknown time zone 'Berlin' (use an IANA name such as \
             Europe/Berlin)"
                .into(),
            false,
        ),
        (
            &["missing", "--env-file", "no.env"],
            format!(
                "Environment file does not exist: {}",
                host.cwd.join("no.env").display()
            ),
            false,
        ),
        (
            &["missing"],
            format!("Input directory does not exist: {}", missing.display()),
            false,
        ),
        (
            &["--originals", "missing"],
            format!(
                "Originals directory does not exist: {}",
                missing.display()
            ),
            false,
        ),
        (
            &["file"],
            format!(
                "Input path is not a directory: {}",
                host.cwd.join("file").display()
            ),
            false,
        ),
        (
            &["--originals", "file"],
            format!(
                "Originals path is not a directory: {}",
                host.cwd.join("file").display()
            ),
            false,
        ),
    ];
    for (argv, message, show_usage) in cases {
        let err = usage(&host, argv);
        assert_eq!(err.message, message, "{argv:?}");
        assert_eq!(err.to_string(), message, "{argv:?}");
        assert_eq!(err.show_usage, show_usage, "{argv:?}");
    }
}

#[test]
fn environment_values_are_checked_before_paths() {
    let (_dir, host) = fixture(&[("IMMICH_SKIP_HASH", "maybe")], 8);
    let err = usage(&host, &["missing"]);
    assert!(err.message.starts_with("invalid IMMICH_SKIP_HASH value 'maybe'"));
    let (_dir, host) = fixture(&[], 8);
    std::fs::write(host.cwd.join(".env"), "IMMICH_UPLOAD_CONCURRENCY=65\n")
        .unwrap();
    let err = usage(&host, &["missing"]);
    assert!(err.message.starts_with("invalid IMMICH_UPLOAD_CONCURRENCY"));
}

#[test]
fn quiet_with_verbose_is_a_clap_conflict_after_the_input_checks() {
    let (_dir, host) = fixture(&[], 8);
    let Err(LoadError::Clap(err)) =
        run(&host, &["exp", "-q", "-v", "--processor", "nope"])
    else {
        panic!("conflict expected");
    };
    assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
    assert_eq!(err.exit_code(), 2);
    let text = err.render().to_string();
    assert!(
        text.contains("'--quiet' cannot be used with '--verbose'"),
        "{text}"
    );
    assert!(text.contains("Usage: memoria"), "{text}");
}

#[test]
fn list_processors_ignores_every_other_option() {
    let argv = [
        "memoria",
        "--list-processors",
        "--processor",
        "nope",
        "--timezone",
        "Berlin",
        "-q",
        "-vv",
        "--env-file",
        "/nonexistent/.env",
    ];
    let loaded = load(argv.map(OsString::from)).unwrap();
    let Loaded::Print(text) = loaded else { panic!("print expected") };
    assert_eq!(text, cli::list_processors());
    // Syntax errors still come first (step 1).
    let bad =
        load(["memoria", "--list-processors", "--bogus"].map(OsString::from));
    let Err(LoadError::Clap(err)) = bad else { panic!("clap error expected") };
    assert_eq!(err.exit_code(), 2);
    let help = load(["memoria", "--help"].map(OsString::from));
    let Err(LoadError::Clap(err)) = help else { panic!("help expected") };
    assert_eq!(err.exit_code(), 0);
}

#[test]
fn workers_default_to_cpus_minus_one() {
    for (cpus, want) in [(0, 1), (1, 1), (2, 1), (8, 7), (16, 15)] {
        assert_eq!(default_workers(cpus), want, "{cpus}");
    }
    assert!(cpus() >= 1);
    let (_dir, host) = fixture(&[], 8);
    let got = config(&host, &["exp"]);
    assert_eq!((got.workers, got.workers_given, got.cpus), (7, false, 8));
    let got = config(&host, &["exp", "-w", "0"]);
    assert_eq!((got.workers, got.workers_given), (7, false));
    let got = config(&host, &["exp", "--workers", "3"]);
    assert_eq!((got.workers, got.workers_given), (3, true));
    let (_dir, host) = fixture(&[], 1);
    assert_eq!(config(&host, &["exp"]).workers, 1);
}

#[test]
fn parallel_exports_are_at_least_one_and_only_for_originals() {
    let (_dir, host) = fixture(&[], 8);
    let cases: [(&[&str], usize); 5] = [
        (&["--originals", "orig"], 1),
        (&["--originals", "orig", "--parallel-exports", "0"], 1),
        (&["--originals", "orig", "--parallel-exports", "3"], 3),
        (&["exp", "--parallel-exports", "4"], 1),
        (&["exp"], 1),
    ];
    for (argv, want) in cases {
        assert_eq!(config(&host, argv).parallel_exports, want, "{argv:?}");
    }
}

#[test]
fn processor_names_match_loosely() {
    let (_dir, host) = fixture(&[], 8);
    for name in
        ["google_photos", "GOOGLE-PHOTOS", "Google Photos", "google photos"]
    {
        let got = config(&host, &["exp", "--processor", name]).processor;
        assert_eq!(got.map(|p| p.id()), Some("google_photos"), "{name}");
    }
    assert!(config(&host, &["exp"]).processor.is_none());
    for bad in ["googlephotos", "Google", ""] {
        let err = usage(&host, &["exp", "--processor", bad]);
        assert_eq!(err.message, unknown_processor(bad), "{bad}");
    }
}

#[test]
fn time_zones_come_from_the_tz_database() {
    let (_dir, host) = fixture(&[], 8);
    let cases = [
        ("Europe/Berlin", "Europe/Berlin"),
        ("UTC", "UTC"),
        ("Etc/GMT+5", "Etc/GMT+5"),
        ("america/new_york", "America/New_York"),
    ];
    for (name, want) in cases {
        let got = config(&host, &["exp", "--timezone", name]).timezone;
        let (got, zone) = got.unwrap_or_else(|| panic!("{name}: no zone"));
        assert_eq!(got, want);
        assert_eq!(zone.iana_name(), Some(want));
    }
    assert!(config(&host, &["exp"]).timezone.is_none());
    for bad in ["Berlin", "", "Europe/Nowhere", "+01:00", "CET-1CEST"] {
        let err = usage(&host, &["exp", "--timezone", bad]);
        let want = format!(
            "unknown time zone '{bad}' (use an IANA name such as \
             Europe/Berlin)"
        );
        assert_eq!(err.message, want);
    }
}

#[test]
fn verbosity_decides_the_progress_bars() {
    let (_dir, host) = fixture(&[], 8);
    let cases: [(&[&str], Verbosity, bool); 6] = [
        (&["exp"], Verbosity::Normal, true),
        (&["exp", "--no-progress"], Verbosity::Normal, false),
        (&["exp", "-q"], Verbosity::Quiet, false),
        (&["exp", "-v"], Verbosity::Debug, false),
        (&["exp", "-vv"], Verbosity::Trace, false),
        (&["exp", "-v", "-v", "-v"], Verbosity::Trace, false),
    ];
    for (argv, verbosity, progress) in cases {
        let got = config(&host, argv);
        assert_eq!(
            (got.verbosity, got.progress),
            (verbosity, progress),
            "{argv:?}"
        );
    }
    assert_eq!(Verbosity::Quiet.level(), log::LevelFilter::Error);
    assert_eq!(Verbosity::Normal.level(), log::LevelFilter::Warn);
    assert_eq!(Verbosity::Trace.level(), log::LevelFilter::Trace);
}

#[test]
fn flags_beat_process_environment_beats_dotenv() {
    let (_dir, host) = fixture(&[("A", "process")], 8);
    std::fs::write(host.cwd.join(".env"), "A=file\nB=file\n").unwrap();
    std::fs::write(host.cwd.join("x.env"), "B=explicit\n").unwrap();
    let env = config(&host, &["exp"]).env;
    assert_eq!((env.get("A"), env.get("B")), (Some("process"), Some("file")));
    let env = config(&host, &["exp", "--env-file", "x.env"]).env;
    assert_eq!(
        (env.get("A"), env.get("B")),
        (Some("process"), Some("explicit"))
    );
}

#[test]
fn inputs_and_output_are_resolved() {
    let (_dir, host) = fixture(&[], 8);
    let got = config(&host, &["./exp/", "--dry-run"]);
    let Inputs::Single(export) = &got.inputs else { panic!("single expected") };
    assert_eq!(
        (export.name.as_str(), &export.path),
        ("exp", &host.cwd.join("exp"))
    );
    assert_eq!(got.output, host.cwd.join("output"));
    assert!(got.dry_run);
    let got = config(&host, &["--originals", "orig", "-o", "orig/out"]);
    let Inputs::Originals(dir) = &got.inputs else {
        panic!("originals expected")
    };
    assert_eq!(dir, &host.cwd.join("orig"));
    assert_eq!(got.output, host.cwd.join("orig/out"));
    assert!(!got.dry_run);
}

#[test]
fn output_overlapping_an_input_is_refused() {
    let (_dir, host) = fixture(&[], 8);
    std::os::unix::fs::symlink(host.cwd.join("exp"), host.cwd.join("ln"))
        .unwrap();
    let exp = host.cwd.join("exp");
    for argv in [
        &["exp", "-o", "exp"][..],
        &["exp", "-o", "exp/out"],
        &["ln", "-o", "exp/out"],
        &["exp", "--output", "ln/deep/out"],
    ] {
        let err = usage(&host, argv);
        assert!(err.message.starts_with("output folder /"), "{argv:?}");
        let tail = format!("the export being read: {}", exp.display());
        assert!(err.message.ends_with(&tail), "{argv:?}: {}", err.message);
    }
    let err = usage(&host, &["--originals", "orig", "-o", "./orig"]);
    let orig = host.cwd.join("orig");
    let want = format!(
        "output folder {0} must not be the --originals folder {0}",
        orig.display()
    );
    assert_eq!(err.message, want);
    assert!(!Path::new(&host.cwd.join("output")).exists());
}

#[test]
fn immich_settings_follow_flag_environment_dotenv() {
    let (_dir, host) = fixture(&[("IMMICH_API_KEY", "from-env")], 8);
    std::fs::write(
        host.cwd.join(".env"),
        "IMMICH_INSTANCE_URL=http://file.example/\nIMMICH_API_KEY=from-file\n\
         IMMICH_UPLOAD_CONCURRENCY=8\nIMMICH_SKIP_HASH=yes\n",
    )
    .unwrap();
    let got = config(&host, &["exp"]).upload.unwrap();
    assert_eq!(got.url, "http://file.example");
    assert_eq!(got.key, upload::ApiKey::new("from-env".into()));
    assert_eq!(got.concurrency, 8);
    assert!(!got.bulk_check);
    assert_eq!(got.ignore.patterns(), ["issues/**", "**/*matching/**"]);
    let got = config(
        &host,
        &[
            "exp",
            "--immich-url",
            "https://flag.example/api",
            "--immich-key",
            "k",
        ],
    );
    let got = got.upload.unwrap();
    assert_eq!(got.url, "https://flag.example/api");
    assert_eq!(got.key, upload::ApiKey::new("k".into()));
    let got = config(&host, &["exp", "--immich-concurrency", "2"]);
    assert_eq!(got.upload.unwrap().concurrency, 2);
    assert!(config(&host, &["exp", "--skip-upload"]).upload.is_none());
    let (_dir, host) = fixture(&[], 8);
    let got = config(
        &host,
        &["exp", "--immich-url", "http://h", "--immich-key", "k"],
    );
    assert_eq!(got.upload.unwrap().concurrency, 4);
    assert!(config(&host, &["exp", "--immich-url", "http://h"])
        .upload
        .is_none());
}

#[test]
fn upload_only_is_checked_in_order() {
    let (_dir, host) = fixture(&[], 8);
    let cases: [(&[&str], &str); 5] = [
        (
            &["exp", "--upload-only", "missing", "--skip-upload"],
            "--upload-only and --skip-upload are mutually exclusive",
        ),
        (
            &["--originals", "orig", "--upload-only", "missing"],
            "--upload-only is not compatible with --originals",
        ),
        (
            &["--upload-only", "missing"],
            "--upload-only needs INPUT_DIR to detect processors and usernames",
        ),
        (
            &["exp", "--upload-only", "file"],
            "Upload-only path is not a directory",
        ),
        (
            &["exp", "--upload-only", "exp"],
            "Upload-only mode requires Immich URL and API key",
        ),
    ];
    for (argv, want) in cases {
        let err = usage(&host, argv);
        assert!(err.message.starts_with(want), "{argv:?}: {}", err.message);
    }
    let got = config(
        &host,
        &[
            "exp",
            "--upload-only",
            "orig",
            "--immich-url",
            "http://h",
            "--immich-key",
            "k",
        ],
    );
    assert_eq!(got.upload_only, Some(host.cwd.join("orig")));
}
