//! Validated configuration: arguments, environment and `.env` resolved
//! into the one [`Config`] that the rest of memoria reads.
//!
//! [`load`] runs the checks of cli.md §12 steps 1–8 in that order and
//! stops at the first failure. It reads the file system but writes
//! nothing; finding exports and the oversubscription advice come later.

mod dotenv;
mod env;
mod immich;
mod paths;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{CommandFactory as _, Parser as _};
use jiff::tz::TimeZone;

pub(crate) use self::env::Env;
use self::paths::Given;
use crate::cli::{self, Args, GlobalArgs, OverlayVideo};
use crate::media::overlay::VideoMode;
use crate::plan::Export;
use crate::platform::{self, Platform};
use crate::upload;

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// Text for stdout, then exit 0 (`--list-processors`); it ends with a
    /// newline.
    Print(String),
    /// A run with this configuration (boxed: it is large).
    Run(Box<Config>),
}

/// A usage or configuration error: exit code 2 (cli.md §12).
#[derive(Debug)]
pub(crate) struct UsageError {
    /// The text after `ERROR: `; may span several lines.
    pub(crate) message: String,
    /// Whether the usage line ([`cli::usage`]) follows the message: true
    /// for wrong argument combinations.
    pub(crate) show_usage: bool,
}

impl UsageError {
    /// Returns an error about a value (no usage line).
    fn new(message: String) -> UsageError {
        UsageError { message, show_usage: false }
    }

    /// Returns an error about how arguments are combined.
    fn with_usage(message: &str) -> UsageError {
        UsageError { message: message.to_string(), show_usage: true }
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// Why [`load`] produced no configuration.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// Argument syntax, `--help` or `--version`: call `exit()`, which
    /// prints and exits 0 (help, version) or 2 (syntax).
    Clap(clap::Error),
    /// Print `ERROR: <message>` (and the usage line) and exit 2.
    Usage(UsageError),
}

impl From<clap::Error> for LoadError {
    fn from(err: clap::Error) -> LoadError {
        LoadError::Clap(err)
    }
}

impl From<UsageError> for LoadError {
    fn from(err: UsageError) -> LoadError {
        LoadError::Usage(err)
    }
}

/// Which exports to process.
#[derive(Clone, Debug)]
pub(crate) enum Inputs {
    /// One export given as `INPUT_DIR` (cli.md §5.1).
    Single(Export),
    /// The `--originals` folder, absolute and canonical; its exports are
    /// found later (cli.md §5.2).
    Originals(PathBuf),
}

/// How much the console shows (STYLE.md §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verbosity {
    /// `-q`: errors and the final summary only.
    Quiet,
    /// No flag: warnings, status lines and progress bars.
    Normal,
    /// `-v`: debug log.
    Debug,
    /// `-vv` or more: trace log.
    Trace,
}

impl Verbosity {
    /// Returns the verbosity that `-q` and `-v` ask for.
    fn from_flags(global: &GlobalArgs) -> Verbosity {
        match (global.quiet, global.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Debug,
            (false, _) => Verbosity::Trace,
        }
    }

    /// Returns the console log level of STYLE.md §7.
    pub(crate) fn level(self) -> log::LevelFilter {
        match self {
            Verbosity::Quiet => log::LevelFilter::Error,
            Verbosity::Normal => log::LevelFilter::Warn,
            Verbosity::Debug => log::LevelFilter::Debug,
            Verbosity::Trace => log::LevelFilter::Trace,
        }
    }
}

/// Every setting of one run, validated.
pub(crate) struct Config {
    /// The export or the folder of exports.
    pub(crate) inputs: Inputs,
    /// The output root: absolute, symlinks resolved as far as it exists
    /// (it is created later, never in `--dry-run`).
    pub(crate) output: PathBuf,
    /// Worker threads per export: `--workers`, or
    /// [`default_workers`]`(cpus)` when absent or 0 (cli.md §6).
    pub(crate) workers: usize,
    /// True when `--workers` was given and non-zero.
    pub(crate) workers_given: bool,
    /// Exports processed at the same time, at least 1; always 1 without
    /// `--originals`.
    pub(crate) parallel_exports: usize,
    /// CPUs available to this process ([`cpus`]).
    pub(crate) cpus: usize,
    /// The only processor to run (`--processor`); `None` runs every
    /// detected one.
    pub(crate) processor: Option<&'static dyn Platform>,
    /// Console verbosity.
    pub(crate) verbosity: Verbosity,
    /// Whether progress bars may be drawn: false with `-q`, `-v` and
    /// `--no-progress`.
    pub(crate) progress: bool,
    /// `--dry-run`: plan everything, write nothing (cli.md §9).
    pub(crate) dry_run: bool,
    /// `--timezone`: the IANA name as the tz database spells it, and the
    /// zone; `None` means the machine zone (cli.md §10).
    pub(crate) timezone: Option<(String, TimeZone)>,
    /// `--overlay-video`: how Snapchat overlay videos are produced.
    pub(crate) overlay_video: VideoMode,
    /// `--no-download`: linked media come only from the download caches.
    pub(crate) no_download: bool,
    /// Environment variables: process environment over `.env` values.
    pub(crate) env: Env,
    /// Immich uploading, when enabled: URL and key known and no
    /// `--skip-upload` (also set in `--dry-run`, which only plans).
    pub(crate) upload: Option<upload::Settings>,
    /// `--upload-only OUT_DIR`: absolute, an existing folder.
    pub(crate) upload_only: Option<PathBuf>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("inputs", &self.inputs)
            .field("output", &self.output)
            .field("workers", &self.workers)
            .field("workers_given", &self.workers_given)
            .field("parallel_exports", &self.parallel_exports)
            .field("cpus", &self.cpus)
            .field("processor", &self.processor.map(|p| p.name()))
            .field("verbosity", &self.verbosity)
            .field("progress", &self.progress)
            .field("dry_run", &self.dry_run)
            .field("timezone", &self.timezone.as_ref().map(|(name, _)| name))
            .field("overlay_video", &self.overlay_video)
            .field("no_download", &self.no_download)
            .field("env", &self.env)
            .field("upload", &self.upload)
            .field("upload_only", &self.upload_only)
            .finish()
    }
}

/// Returns the number of CPUs available to this process (1 when unknown).
pub(crate) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Returns the default worker count for `cpus` CPUs: max(1, CPUs − 1)
/// (cli.md §6).
pub(crate) fn default_workers(cpus: usize) -> usize {
    cpus.saturating_sub(1).max(1)
}

/// Parses `argv` (program name first) and validates the result in the
/// order of cli.md §12 steps 1–8.
///
/// `--help`, `--version` and syntax errors come back as
/// [`LoadError::Clap`]; `--list-processors` as [`Loaded::Print`] without
/// reading anything else. Warnings (`.env` lines without `=`, an ignored
/// `--parallel-exports`) go to `log::warn!`, so the logger must be
/// installed before this is called.
pub(crate) fn load(
    argv: impl IntoIterator<Item = OsString>,
) -> Result<Loaded, LoadError> {
    // Steps 1 and 2: clap reports syntax errors and answers --help and
    // --version itself.
    let args = Args::try_parse_from(argv)?;
    if args.list_processors {
        return Ok(Loaded::Print(cli::list_processors()));
    }
    let host = Host::current()?;
    Ok(Loaded::Run(Box::new(resolve(args, &host)?)))
}

/// What validation reads from the running process; tests supply their
/// own so they depend neither on the machine nor on each other.
struct Host {
    /// The working directory (relative paths, `./.env`).
    cwd: PathBuf,
    /// The process environment (names and values that are UTF-8).
    vars: HashMap<String, String>,
    /// [`cpus`].
    cpus: usize,
}

impl Host {
    /// Returns the current process's view.
    fn current() -> Result<Host, UsageError> {
        let cwd = std::env::current_dir().map_err(|err| {
            UsageError::new(format!("cannot read the current directory: {err}"))
        })?;
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| {
                Some((k.into_string().ok()?, v.into_string().ok()?))
            })
            .collect();
        Ok(Host { cwd, vars, cpus: cpus() })
    }
}

/// Runs steps 3–8 of cli.md §12 and builds the configuration.
fn resolve(args: Args, host: &Host) -> Result<Config, LoadError> {
    // Step 3: how the arguments are combined.
    upload_only_conflicts(&args)?;
    let given = given_input(&args)?;
    // Steps 4 and 5: values checked against built-in tables.
    let processor =
        args.processor.as_deref().map(find_processor).transpose()?;
    let timezone = args.timezone.as_deref().map(time_zone).transpose()?;
    // Step 6: the .env file and environment values.
    let env = env::load(args.env_file.as_deref(), &host.cwd, &host.vars)?;
    let immich = immich::resolve(&args, &env)?;
    // Step 7: the folders.
    let inputs = paths::inputs(given, &host.cwd)?;
    let output = paths::resolve(&host.cwd, &args.output);
    let upload_only = match &args.upload_only {
        Some(dir) => Some(paths::upload_only(dir, &host.cwd)?),
        None => {
            paths::check_output(&output, &inputs)?;
            None
        }
    };
    // Step 8: upload-only needs somewhere to upload to.
    if upload_only.is_some() && immich.settings.is_none() {
        let message = "Upload-only mode requires Immich URL and API key";
        return Err(UsageError::new(message.to_string()).into());
    }
    if let Some((set, unset)) = immich.half {
        log::warn!("{set} is set but {unset} is not; uploads disabled");
    }

    let workers = args.workers.filter(|&n| n > 0);
    let verbosity = Verbosity::from_flags(&args.global);
    Ok(Config {
        parallel_exports: parallel_exports(args.parallel_exports, &inputs),
        inputs,
        output,
        workers: workers.unwrap_or(default_workers(host.cpus)),
        workers_given: workers.is_some(),
        cpus: host.cpus,
        processor,
        progress: verbosity == Verbosity::Normal && !args.global.no_progress,
        verbosity,
        dry_run: args.dry_run,
        timezone,
        overlay_video: match args.overlay_video {
            OverlayVideo::Mp4 => VideoMode::Mp4,
            OverlayVideo::Mkv => VideoMode::Mkv,
        },
        no_download: args.no_download,
        env,
        upload: immich.settings,
        upload_only,
    })
}

/// Checks the `--upload-only` combinations of cli.md §12 step 3.
fn upload_only_conflicts(args: &Args) -> Result<(), UsageError> {
    if args.upload_only.is_none() {
        return Ok(());
    }
    let message = if args.skip_upload {
        "--upload-only and --skip-upload are mutually exclusive"
    } else if args.originals.is_some() {
        "--upload-only is not compatible with --originals"
    } else if args.input.is_none() {
        "--upload-only needs INPUT_DIR to detect processors and usernames"
    } else {
        return Ok(());
    };
    Err(UsageError::with_usage(message))
}

/// Checks step 3 of cli.md §12 and returns the input argument given.
fn given_input(args: &Args) -> Result<Given<'_>, LoadError> {
    let given = match (&args.input, &args.originals) {
        (Some(dir), None) => Given::Single(dir),
        (None, Some(dir)) => Given::Originals(dir),
        (None, None) => {
            let message = "either INPUT_DIR or --originals is required";
            return Err(UsageError::with_usage(message).into());
        }
        (Some(_), Some(_)) => {
            let message = "cannot specify both INPUT_DIR and --originals";
            return Err(UsageError::with_usage(message).into());
        }
    };
    // Checked here rather than by clap so that --list-processors still
    // ignores every other option (cli.md §4, §12 step 2 before step 3).
    if args.global.quiet && args.global.verbose > 0 {
        let message = "the argument '--quiet' cannot be used with '--verbose'";
        let err = Args::command().error(ErrorKind::ArgumentConflict, message);
        return Err(err.into());
    }
    Ok(given)
}

/// Returns the registered processor that `name` names (step 4).
fn find_processor(name: &str) -> Result<&'static dyn Platform, UsageError> {
    platform::find(name).ok_or_else(|| {
        let mut message =
            format!("Unknown processor '{name}'\nAvailable processors:");
        for p in platform::registry() {
            message.push_str("\n  - ");
            message.push_str(p.name());
        }
        UsageError::new(message)
    })
}

/// Returns the tz database zone called `name` (step 5, cli.md §10).
fn time_zone(name: &str) -> Result<(String, TimeZone), UsageError> {
    let zone = TimeZone::get(name).map_err(|_| {
        UsageError::new(format!(
            "unknown time zone '{name}' (use an IANA name such as \
             Europe/Berlin)"
        ))
    })?;
    let canonical = zone.iana_name().unwrap_or(name).to_string();
    Ok((canonical, zone))
}

/// Returns the number of exports run at once: at least 1, and 1 with a
/// single `INPUT_DIR`, where the flag is ignored with a warning (§6).
fn parallel_exports(flag: Option<usize>, inputs: &Inputs) -> usize {
    match (inputs, flag) {
        (Inputs::Single(_), Some(_)) => {
            log::warn!(
                "--parallel-exports is only used with --originals; ignoring"
            );
            1
        }
        (_, flag) => flag.unwrap_or(1).max(1),
    }
}

#[cfg(test)]
mod tests;
