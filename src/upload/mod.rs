//! Uploading to Immich (upload.md): the settings, the job every finished
//! processor hands over, and the one uploader thread that drains them.
//!
//! Exports never wait for the network: each sends a [`Job`] over an
//! unbounded channel ([`Queue::submit`]); the uploader thread ([`Uploader`])
//! takes jobs in arrival order and runs up to `concurrency` HTTP requests
//! inside each. Preflight ([`preflight()`]) runs once before processing.

mod albums;
mod assets;
mod client;
mod crawl;
mod ignore;
mod job;
pub(crate) mod only;
mod preflight;
mod queue;
mod record;
pub(crate) use record::annotate_report;
mod retry;
pub(crate) use retry::retry_after;
mod watch;

use std::fmt;
use std::path::PathBuf;

use jiff::Timestamp;

pub(crate) use self::ignore::Ignore;
pub(crate) use self::preflight::{preflight, PreflightError, Server};
pub(crate) use self::queue::{Queue, Uploader};

/// The default of `IMMICH_IGNORE_PATTERNS` (upload.md §3.3).
pub(crate) const DEFAULT_IGNORE: &str = "issues/**,**/*matching/**";

/// An Immich API key. Its `Debug` and `Display` never show the value, so
/// it cannot reach a log or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ApiKey(String);

impl ApiKey {
    /// Wraps the key text.
    pub(crate) fn new(key: String) -> ApiKey {
        ApiKey(key)
    }

    /// Returns the key for the `x-api-key` header, the only place it
    /// goes.
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Validated upload settings (upload.md §1); present only when uploading
/// is enabled.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The configured URL, trailing `/` removed.
    pub(crate) url: String,
    /// The API key.
    pub(crate) key: ApiKey,
    /// HTTP requests in flight inside the uploader (1–64).
    pub(crate) concurrency: usize,
    /// Whether `bulk-upload-check` runs before uploading
    /// (`IMMICH_SKIP_HASH` unset or false).
    pub(crate) bulk_check: bool,
    /// Files left out of uploads.
    pub(crate) ignore: Ignore,
}

/// One processor's written files of one export, handed to the uploader
/// as soon as the processor finished (upload.md §2).
#[derive(Clone, Debug)]
pub(crate) struct Job {
    /// The export's name (for lines, summary and the report).
    pub(crate) export: String,
    /// The processor's display name.
    pub(crate) processor: String,
    /// The export's output root; file paths are relative to it.
    pub(crate) out_root: PathBuf,
    /// The processor's output folder (`photos`).
    pub(crate) folder: String,
    /// The files, in any order (the uploader sorts them by path).
    pub(crate) files: Vec<File>,
}

/// One written file of a [`Job`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct File {
    /// Path relative to the output root, `/`-separated.
    pub(crate) path: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Lower-case hex SHA-1 of the bytes, when known.
    pub(crate) sha1: Option<String>,
    /// Capture instant; `None` uses the file's modification time.
    pub(crate) taken: Option<Timestamp>,
    /// Whether the platform marked it as a favourite.
    pub(crate) favorite: bool,
    /// Immich album names it joins.
    pub(crate) albums: Vec<String>,
    /// Its XMP sidecar, relative to the output root.
    pub(crate) sidecar: Option<String>,
}

/// Returns the dry-run `UPLOAD` lines of a job (cli.md §9): one per
/// album, with the number of files that join it, after ignore patterns.
pub(crate) fn plan_lines(job: &Job, ignore: &Ignore) -> Vec<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    let kept = job.files.iter().filter(|f| ignore.keeps(&f.path));
    for file in kept {
        for album in &file.albums {
            match counts.iter_mut().find(|(name, _)| name == album) {
                Some((_, n)) => *n += 1,
                None => counts.push((album, 1)),
            }
        }
    }
    counts
        .into_iter()
        .map(|(album, n)| {
            format!(
                "UPLOAD     {}/ -> album \"{album}\" ({n} files)",
                job.folder
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_never_show() {
        let key = ApiKey::new("secret-value".to_string());
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        let settings = Settings {
            url: "http://x".into(),
            key,
            concurrency: 4,
            bulk_check: true,
            ignore: Ignore::new(DEFAULT_IGNORE).unwrap(),
        };
        assert!(!format!("{settings:?}").contains("secret"));
    }

    #[test]
    fn plan_lines_count_files_per_album() {
        let file = |path: &str, albums: &[&str]| File {
            path: path.into(),
            size: 1,
            sha1: None,
            taken: None,
            favorite: false,
            albums: albums.iter().map(|a| a.to_string()).collect(),
            sidecar: None,
        };
        let job = Job {
            export: "e".into(),
            processor: "Google Photos".into(),
            out_root: PathBuf::new(),
            folder: "photos".into(),
            files: vec![
                file("photos/a.jpg", &["Google Photos/x", "Trip"]),
                file("photos/b.jpg", &["Google Photos/x"]),
                file("photos/issues/c.jpg", &["Google Photos/x"]),
            ],
        };
        let ignore = Ignore::new(DEFAULT_IGNORE).unwrap();
        assert_eq!(
            plan_lines(&job, &ignore),
            [
                "UPLOAD     photos/ -> album \"Google Photos/x\" (2 files)",
                "UPLOAD     photos/ -> album \"Trip\" (1 files)",
            ]
        );
    }
}
