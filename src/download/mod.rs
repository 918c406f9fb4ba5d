//! Fetching linked media into a download cache folder (platforms.md
//! §9b.5, §9b.6).
//!
//! A generic fetcher: it takes a cache key and a GET and/or POST link and
//! leaves `<key>-main.<ext>` (and `<key>-overlay.<ext>`) in the folder it
//! is given. It knows nothing of platforms or plans; the engine's fetch
//! step decides what to fetch and reports the failures.

mod answer;
mod cache;
mod http;
mod retry;
mod unzip;

pub(crate) use self::cache::Listing;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use self::http::{Http, Tag};
use self::retry::{Kind, Miss};

/// Most downloads that run at once: the platform throttles bursts.
const MAX_PARALLEL: usize = 8;

/// One linked file to fetch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request<'a> {
    /// The cache file stem: `<key>-main.<ext>`, `<key>-overlay.<ext>`.
    pub(crate) key: &'a str,
    /// The GET link: its answer is the file or a ZIP with main and
    /// overlay.
    pub(crate) get: Option<&'a str>,
    /// The POST link: its answer is the URL of the file.
    pub(crate) post: Option<&'a str>,
}

/// A main file in the cache and its overlay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Files {
    /// The media itself, `<key>-main.<ext>`.
    pub(crate) main: PathBuf,
    /// The overlay drawn over it, `<key>-overlay.<ext>`, when there is
    /// one.
    pub(crate) overlay: Option<PathBuf>,
}

/// A download that succeeded.
#[derive(Clone, Debug)]
pub(crate) struct Fetched {
    /// The files now in the cache.
    pub(crate) files: Files,
    /// The link that produced the file (the GET or POST link as given).
    pub(crate) url: String,
    /// Warnings for the report, e.g. the POST fallback.
    pub(crate) warnings: Vec<String>,
}

/// A download that failed, after its retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// A one-line error, e.g. `HTTP 403 (link expired?)`.
    pub(crate) error: String,
    /// True when the link answered 401, 403, 404 or 410.
    pub(crate) refused: bool,
}

impl From<Miss> for Failure {
    fn from(miss: Miss) -> Failure {
        Failure { error: miss.error, refused: miss.kind == Kind::Refused }
    }
}

/// Fetches linked files over HTTP into cache folders.
pub(crate) struct Downloader {
    http: Http,
    sleep: Box<dyn Fn(Duration) + Send + Sync>,
}

impl Downloader {
    /// Returns a downloader with a real HTTP client (reqwest blocking,
    /// rustls) that really sleeps between attempts.
    pub(crate) fn new() -> anyhow::Result<Downloader> {
        Downloader::with_sleep(Box::new(std::thread::sleep))
    }

    /// Returns a downloader that calls `sleep` for the wait between
    /// attempts, so that tests can record the waits.
    pub(crate) fn with_sleep(
        sleep: Box<dyn Fn(Duration) + Send + Sync>,
    ) -> anyhow::Result<Downloader> {
        Ok(Downloader { http: Http::new(http::IDLE)?, sleep })
    }

    /// Returns a downloader like [`Downloader::with_sleep`] that gives up
    /// after `idle` without data, so that a test of a stall is quick.
    #[cfg(test)]
    fn with_idle(
        sleep: Box<dyn Fn(Duration) + Send + Sync>,
        idle: Duration,
    ) -> anyhow::Result<Downloader> {
        Ok(Downloader { http: Http::new(idle)?, sleep })
    }

    /// Fetches one request into cache folder `dir` (created if missing).
    ///
    /// The GET link is used when present, the POST link when not, and as
    /// a second try when the GET link kept answering 429 or 5xx; the
    /// latter adds a warning that the overlay may be missing.
    pub(crate) fn fetch(
        &self,
        dir: &Path,
        request: &Request,
    ) -> Result<Fetched, Failure> {
        if !cache::is_valid_key(request.key) {
            let error = format!("invalid cache key {:?}", request.key);
            return Err(Failure { error, refused: false });
        }
        if let Err(err) = std::fs::create_dir_all(dir) {
            let error = format!("failed to create {}: {err}", dir.display());
            return Err(Failure { error, refused: false });
        }
        self.route(dir, request).map_err(Failure::from)
    }

    /// Fetches all `requests` into `dir`, at most `min(parallel, 8)` at
    /// once (at least one), started in request order, and returns their
    /// results in request order.
    ///
    /// Temporary files a crashed run left in `dir` are removed first.
    /// `done` is called after each fetch finishes. Once `stop` returns
    /// true no new fetch starts; the ones not started fail with error
    /// `interrupted`.
    pub(crate) fn fetch_all(
        &self,
        dir: &Path,
        requests: &[Request],
        parallel: usize,
        done: &(dyn Fn() + Sync),
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Vec<Result<Fetched, Failure>> {
        crate::media::remove_stale_temps(dir);
        let results: Vec<_> =
            requests.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let workers = parallel.clamp(1, MAX_PARALLEL).min(requests.len());
        let work = || loop {
            if stop() {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(request) = requests.get(i) else { break };
            let result = self.fetch(dir, request);
            *results[i].lock().unwrap_or_else(|e| e.into_inner()) =
                Some(result);
            done();
        };
        std::thread::scope(|scope| {
            let builder =
                || std::thread::Builder::new().name("memoria-fetch".into());
            let started = (0..workers)
                .filter(|_| builder().spawn_scoped(scope, work).is_ok())
                .count();
            // No thread could be started: fetch on this one.
            if started == 0 {
                work();
            }
        });
        results
            .into_iter()
            .map(|slot| {
                let slot = slot.into_inner().unwrap_or_else(|e| e.into_inner());
                slot.unwrap_or_else(|| Err(interrupted()))
            })
            .collect()
    }

    /// Chooses the links of `request` and fetches through them.
    fn route(&self, dir: &Path, request: &Request) -> Result<Fetched, Miss> {
        let key = request.key;
        let Some(get) = request.get else {
            let Some(post) = request.post else {
                return Err(Miss::new(Kind::Fatal, "no download link"));
            };
            return self.by_post(dir, key, post, Vec::new());
        };
        match (self.by_get(dir, key, get), request.post) {
            (Err(miss), Some(post)) if miss.kind == Kind::Busy => {
                self.fall_back(dir, key, post, miss)
            }
            (result, _) => result,
        }
    }

    /// Tries the POST link after the GET link failed with `miss`.
    fn fall_back(
        &self,
        dir: &Path,
        key: &str,
        post: &str,
        miss: Miss,
    ) -> Result<Fetched, Miss> {
        log::debug!("{key}: GET link failed ({}); trying POST", miss.error);
        let warning = format!(
            "the GET link failed ({}); fetched through the POST link, so \
             the overlay may be missing",
            miss.error
        );
        self.by_post(dir, key, post, vec![warning]).map_err(|post| Miss {
            error: format!("{}; POST link: {}", miss.error, post.error),
            ..post
        })
    }

    /// Fetches `key` through the GET link `link`.
    fn by_get(
        &self,
        dir: &Path,
        key: &str,
        link: &str,
    ) -> Result<Fetched, Miss> {
        let stored = retry::run(&self.sleep, key, || {
            let mut response = self.http.get(link, Tag::Route)?;
            answer::receive(&mut response, dir, key, &|e| {
                self.http.receiving(e)
            })
        })?;
        Ok(Fetched {
            files: stored.files,
            url: link.to_string(),
            warnings: stored.warnings,
        })
    }

    /// Fetches `key` through the POST link `link`: every attempt asks for
    /// a file URL and fetches it with a plain GET. `warnings` start the
    /// result's warnings.
    fn by_post(
        &self,
        dir: &Path,
        key: &str,
        link: &str,
        mut warnings: Vec<String>,
    ) -> Result<Fetched, Miss> {
        let stored = retry::run(&self.sleep, key, || {
            let url = self.http.post(link)?;
            let mut response = self.http.get(&url, Tag::Plain)?;
            answer::receive(&mut response, dir, key, &|e| {
                self.http.receiving(e)
            })
        })?;
        warnings.extend(stored.warnings);
        Ok(Fetched { files: stored.files, url: link.to_string(), warnings })
    }
}

/// Returns the failure of a fetch that was not started.
fn interrupted() -> Failure {
    Failure { error: "interrupted".into(), refused: false }
}

#[cfg(test)]
mod tests;
