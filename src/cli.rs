//! The command line as clap parses it, before any validation.
//!
//! Only this module and `config` see these raw fields; `config::load`
//! resolves them into a validated `Config` (cli.md §2, §12). The doc
//! comments below are the `--help` text. This module also renders the
//! `--list-processors` table (cli.md §4).

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{ArgAction, CommandFactory as _, Parser};

use crate::platform;

/// The examples section printed after the option list (cli.md §2).
const EXAMPLES: &str = "\
Examples:
  Process one export into ./output:
    memoria ~/exports/google-john.doe-20250526

  Process one export into a chosen folder:
    memoria ~/exports/google-john.doe-20250526 -o ~/library

  Process every export found in a folder:
    memoria --originals ~/exports -o ~/library

  Process two exports at a time with four workers each:
    memoria --originals ~/exports --parallel-exports 2 --workers 4

  Show what would be written, without writing anything:
    memoria ~/exports/google-john.doe-20250526 --dry-run

  Upload an already processed export to Immich:
    memoria ~/exports/google-john.doe-20250526 --upload-only ~/library

  Show the available processors:
    memoria --list-processors";

/// Turn platform data exports into dated media libraries and optionally
/// upload them to Immich
#[derive(Debug, Parser)]
#[command(name = "memoria", version, after_help = EXAMPLES)]
pub(crate) struct Args {
    /// Export folder to process
    ///
    /// One platform data export. Its platform folders are written
    /// directly into the output folder. Required unless --originals
    /// is given.
    #[arg(value_name = "INPUT_DIR", verbatim_doc_comment)]
    pub(crate) input: Option<PathBuf>,

    /// Process every export found in DIR
    ///
    /// Every folder directly inside DIR is one export (hidden and
    /// system folders are skipped). Each export is written to a
    /// folder of its own name inside the output folder, even when
    /// only one is found.
    #[arg(long, value_name = "DIR", verbatim_doc_comment)]
    pub(crate) originals: Option<PathBuf>,

    /// Write the library to DIR
    ///
    /// Created when missing. It must not be or lie inside an export
    /// being read.
    #[arg(
        short,
        long,
        value_name = "DIR",
        default_value = "./output",
        verbatim_doc_comment
    )]
    pub(crate) output: PathBuf,

    /// Use N worker threads per export
    ///
    /// The default, also used for 0, is the number of CPUs minus one
    /// (at least 1).
    #[arg(
        short,
        long,
        value_name = "N",
        value_parser = count,
        verbatim_doc_comment
    )]
    pub(crate) workers: Option<usize>,

    /// Process N exports at the same time
    ///
    /// Only used with --originals. The default is 1; 0 also means 1.
    #[arg(long, value_name = "N", value_parser = count)]
    pub(crate) parallel_exports: Option<usize>,

    /// Run only the processor NAME
    ///
    /// NAME is one of the names shown by --list-processors, matched
    /// case-insensitively; '-' and '_' may stand for spaces
    /// (google_photos). By default every detected processor runs.
    #[arg(long, value_name = "NAME", verbatim_doc_comment)]
    pub(crate) processor: Option<String>,

    /// Show the available processors and exit
    #[arg(long)]
    pub(crate) list_processors: bool,

    /// Plan every output name but write nothing
    ///
    /// Detection, matching and naming run as usual; the plan is
    /// printed on stdout. Nothing is written and nothing is
    /// downloaded.
    #[arg(long, verbatim_doc_comment)]
    pub(crate) dry_run: bool,

    /// Use ZONE as the fallback time zone
    ///
    /// An IANA time zone name such as Europe/Berlin or UTC, used for
    /// items that have neither a platform offset nor a GPS position.
    /// The default is the machine's zone (TZ or the system setting).
    #[arg(long, value_name = "ZONE", verbatim_doc_comment)]
    pub(crate) timezone: Option<String>,

    /// Set the format of overlay videos
    ///
    /// mp4: the overlay burned into an H.264 MP4 that plays everywhere.
    /// mkv: two video tracks, with and without the overlay. Both need
    /// ffmpeg on the PATH; without it the video is written unchanged
    /// and the overlay kept beside it.
    #[arg(
        long,
        value_name = "MODE",
        value_enum,
        default_value_t = OverlayVideo::Mp4,
        hide_possible_values = true,
        verbatim_doc_comment
    )]
    pub(crate) overlay_video: OverlayVideo,

    /// Never fetch media over the network
    ///
    /// Snapchat memories that are only linked come from the export and
    /// the download cache alone; the rest is reported as not
    /// downloaded.
    #[arg(long, verbatim_doc_comment)]
    pub(crate) no_download: bool,

    /// Never upload, even when Immich is configured
    ///
    /// Processing only; the Immich settings are not even checked.
    #[arg(long, verbatim_doc_comment)]
    pub(crate) skip_upload: bool,

    /// Upload an already processed OUT_DIR to Immich
    ///
    /// INPUT_DIR is the original export, used to detect processors and
    /// usernames. `OUT_DIR/<export folder name>` is used when it exists.
    /// Needs the Immich URL and API key.
    #[arg(long, value_name = "OUT_DIR", verbatim_doc_comment)]
    pub(crate) upload_only: Option<PathBuf>,

    /// Upload to the Immich server at URL
    ///
    /// With or without the /api suffix. The default comes from
    /// IMMICH_INSTANCE_URL (environment or .env file).
    #[arg(long, value_name = "URL", verbatim_doc_comment)]
    pub(crate) immich_url: Option<String>,

    /// Authenticate to Immich with API key KEY
    ///
    /// The default comes from IMMICH_API_KEY (environment or .env
    /// file). The key is never printed or logged.
    #[arg(long, value_name = "KEY", verbatim_doc_comment)]
    pub(crate) immich_key: Option<String>,

    /// Send up to N uploads at the same time (1-64)
    ///
    /// The default comes from IMMICH_UPLOAD_CONCURRENCY, else 4.
    #[arg(
        long,
        value_name = "N",
        value_parser = concurrency,
        verbatim_doc_comment
    )]
    pub(crate) immich_concurrency: Option<usize>,

    /// Read environment settings from PATH
    ///
    /// The default is .env in the current folder, ignored when
    /// missing. Variables already set in the environment win over
    /// the file.
    #[arg(long, value_name = "PATH", verbatim_doc_comment)]
    pub(crate) env_file: Option<PathBuf>,

    /// Console verbosity and progress display.
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
}

/// How Snapchat videos with an overlay are written (`--overlay-video`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OverlayVideo {
    /// The overlay burned into an H.264 MP4.
    Mp4,
    /// Two video tracks: with the overlay and the original.
    Mkv,
}

/// Options about what the console shows.
#[derive(Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// Show more detail (-v: debug log, -vv: trace log)
    ///
    /// Also writes log files and hides progress bars.
    #[arg(short, long, action = ArgAction::Count)]
    pub(crate) verbose: u8,

    /// Print only errors and the final summary
    ///
    /// Cannot be combined with --verbose.
    #[arg(short, long)]
    pub(crate) quiet: bool,

    /// Never draw progress bars
    #[arg(long)]
    pub(crate) no_progress: bool,
}

/// Parses a plain non-negative decimal (cli.md §2): no sign, no spaces.
fn count(text: &str) -> Result<usize, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected a non-negative whole number".to_string());
    }
    text.parse().map_err(|_| "number is too large".to_string())
}

/// Parses `--immich-concurrency`: a plain decimal from 1 to 64.
fn concurrency(text: &str) -> Result<usize, String> {
    match count(text)? {
        n @ 1..=64 => Ok(n),
        _ => Err("expected a whole number from 1 to 64".to_string()),
    }
}

/// Returns the usage line (`Usage: memoria [OPTIONS] [INPUT_DIR]`) that
/// follows usage errors (cli.md §12).
pub(crate) fn usage() -> String {
    Args::command().render_usage().to_string()
}

/// Returns the `--list-processors` table of cli.md §4, newline-terminated.
///
/// Lists the platforms of `platform::registry()` in registry order; the
/// total counts them.
pub(crate) fn list_processors() -> String {
    let all = platform::registry();
    let mut out = String::from("Available processors:\n\n");
    for p in &all {
        // Writing to a String cannot fail.
        let (name, priority) = (p.name(), p.priority());
        let _ = writeln!(out, "  • {name:<30} (priority: {priority})");
    }
    let _ = writeln!(out, "\nTotal: {} processor(s)", all.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(
            std::iter::once("memoria").chain(args.iter().copied()),
        )
    }

    #[test]
    fn cli_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn integers_are_plain_decimals() {
        assert_eq!(parse(&["x", "-w", "4"]).unwrap().workers, Some(4));
        assert_eq!(parse(&["x", "-w", "0"]).unwrap().workers, Some(0));
        assert_eq!(
            parse(&["x", "--parallel-exports", "007"])
                .unwrap()
                .parallel_exports,
            Some(7)
        );
        for bad in
            ["+4", "4.0", " 4", "four", "", "1e3", "99999999999999999999999"]
        {
            let err = parse(&["x", "--workers", bad]).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad}"
            );
            assert_eq!(err.exit_code(), 2, "{bad}");
        }
        // A leading '-' reads as an option, which is also a usage error.
        let err = parse(&["x", "--workers", "-1"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn defaults_and_flags_parse() {
        let args = parse(&["in"]).unwrap();
        assert_eq!(args.output, PathBuf::from("./output"));
        assert_eq!(args.input, Some(PathBuf::from("in")));
        assert!(args.workers.is_none() && args.parallel_exports.is_none());
        assert!(!args.dry_run && !args.list_processors);
        let args = parse(&["-vv", "--no-progress", "--dry-run"]).unwrap();
        assert_eq!(args.global.verbose, 2);
        assert!(args.global.no_progress && args.dry_run);
        assert!(args.input.is_none());
    }

    #[test]
    fn upload_flags_parse() {
        let args = parse(&[
            "in",
            "--immich-url",
            "http://h",
            "--immich-key",
            "k",
            "--immich-concurrency",
            "64",
            "--skip-upload",
            "--upload-only",
            "out",
        ])
        .unwrap();
        assert_eq!(args.immich_url.as_deref(), Some("http://h"));
        assert_eq!(args.immich_key.as_deref(), Some("k"));
        assert_eq!(args.immich_concurrency, Some(64));
        assert!(args.skip_upload);
        assert_eq!(args.upload_only, Some(PathBuf::from("out")));
        for bad in ["0", "65", "x", "-1"] {
            let err = parse(&["in", "--immich-concurrency", bad]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn syntax_errors_exit_with_two() {
        for bad in [&["--bogus"][..], &["--workers"], &["a", "b"], &["-o"]] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn help_and_version_exit_with_zero() {
        let help = parse(&["--help"]).unwrap_err();
        assert_eq!(help.exit_code(), 0);
        let text = help.render().to_string();
        assert!(
            text.contains("Usage: memoria [OPTIONS] [INPUT_DIR]"),
            "{text}"
        );
        assert!(text.contains(
            "Turn platform data exports into dated media libraries and \
             optionally upload them to Immich"
        ));
        for example in [
            "memoria --originals ~/exports -o ~/library",
            "--parallel-exports 2 --workers 4",
            "--dry-run",
            "--upload-only ~/library",
            "memoria --list-processors",
        ] {
            assert!(text.contains(example), "{example}");
        }
        let short = parse(&["-h"]).unwrap_err().render().to_string();
        assert!(short.contains("Examples:") && short.contains("Usage:"));
        let version = parse(&["-V"]).unwrap_err();
        assert_eq!(version.exit_code(), 0);
        let want = format!("memoria {}\n", env!("CARGO_PKG_VERSION"));
        assert_eq!(version.render().to_string(), want);
        let long = parse(&["--version"]).unwrap_err().render().to_string();
        assert_eq!(long, want);
    }

    #[test]
    fn help_lines_fit_80_columns() {
        // The one-line description of cli.md §2 is the only longer line.
        let text = Args::command().render_long_help().to_string();
        for line in text.lines().skip(1) {
            assert!(line.chars().count() <= 80, "{line}");
        }
        let text = Args::command().render_help().to_string();
        for line in text.lines().skip(1) {
            assert!(line.chars().count() <= 80, "{line}");
        }
    }

    #[test]
    fn usage_names_input_dir() {
        assert_eq!(usage(), "Usage: memoria [OPTIONS] [INPUT_DIR]");
    }

    #[test]
    fn list_processors_matches_the_registry() {
        // cli.md §4: priority descending, ties by id; update this literal
        // when a platform is registered.
        let want = "Available processors:\n\n\
            \x20 • Snapchat Messages              (priority: 85)\n\
            \x20 • Snapchat Memories              (priority: 80)\n\
            \x20 • Google Chat                    (priority: 50)\n\
            \x20 • Google Photos                  (priority: 50)\n\
            \x20 • Google Voice                   (priority: 50)\n\
            \nTotal: 5 processor(s)\n";
        assert_eq!(list_processors(), want);
    }
}
