//! The Immich settings: flags over environment over `.env` (cli.md §3,
//! §11; upload.md §1).
//!
//! Uploading is enabled when a URL and a key are both known and
//! `--skip-upload` is absent; with `--skip-upload` nothing here is even
//! checked. The URL syntax and the ignore patterns are checked at load
//! time (cli.md §12 step 6).

use super::{Env, UsageError};
use crate::cli::Args;
use crate::upload::{ApiKey, Ignore, Settings, DEFAULT_IGNORE};

/// Default HTTP concurrency inside the uploader.
const CONCURRENCY: usize = 4;

/// The Immich configuration as given.
#[derive(Debug)]
pub(super) struct Immich {
    /// The settings when URL and key are both known.
    pub(super) settings: Option<Settings>,
    /// The variable that is missing when only one of the two is set.
    pub(super) half: Option<(&'static str, &'static str)>,
}

/// Resolves and checks the Immich settings of `args` and `env`.
pub(super) fn resolve(args: &Args, env: &Env) -> Result<Immich, UsageError> {
    let none = Immich { settings: None, half: None };
    if args.skip_upload {
        return Ok(none);
    }
    let given = |flag: &Option<String>, var: &str| {
        flag.clone()
            .or_else(|| env.get(var).map(str::to_string))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let url = given(&args.immich_url, "IMMICH_INSTANCE_URL");
    let key = given(&args.immich_key, "IMMICH_API_KEY");
    if let Some(url) = &url {
        check_url(url)?;
    }
    let ignore = ignore_patterns(env)?;
    let (url, key) = match (url, key) {
        (Some(url), Some(key)) => (url, key),
        (Some(_), None) => {
            let half = ("IMMICH_INSTANCE_URL", "IMMICH_API_KEY");
            return Ok(Immich { half: Some(half), ..none });
        }
        (None, Some(_)) => {
            let half = ("IMMICH_API_KEY", "IMMICH_INSTANCE_URL");
            return Ok(Immich { half: Some(half), ..none });
        }
        (None, None) => return Ok(none),
    };
    let concurrency = args.immich_concurrency.unwrap_or_else(|| {
        env.integer("IMMICH_UPLOAD_CONCURRENCY", 1, 64)
            .map_or(CONCURRENCY, |n| n as usize)
    });
    let settings = Settings {
        url: url.trim_end_matches('/').to_string(),
        key: ApiKey::new(key),
        concurrency,
        bulk_check: !env.boolean("IMMICH_SKIP_HASH").unwrap_or(false),
        ignore,
    };
    Ok(Immich { settings: Some(settings), half: None })
}

/// Checks that `url` is an http(s) URL with a host.
fn check_url(url: &str) -> Result<(), UsageError> {
    let parsed = reqwest::Url::parse(url);
    let ok = parsed.as_ref().is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some()
    });
    if ok {
        return Ok(());
    }
    Err(UsageError::new(format!(
        "invalid Immich URL '{url}': expected http:// or https:// followed \
         by a host name"
    )))
}

/// Returns the compiled `IMMICH_IGNORE_PATTERNS` (default when unset or
/// blank).
fn ignore_patterns(env: &Env) -> Result<Ignore, UsageError> {
    let list = env
        .get("IMMICH_IGNORE_PATTERNS")
        .filter(|v| !v.trim().is_empty())
        .unwrap_or(DEFAULT_IGNORE);
    Ignore::new(list).map_err(|err| {
        UsageError::new(format!("invalid IMMICH_IGNORE_PATTERNS value: {err}"))
    })
}
