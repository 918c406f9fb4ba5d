//! The download step of linked media (platforms.md §9b.5): before names
//! are planned, every [`Fetch`] of a plan becomes an item whose source is
//! a file in the download cache, or orphaned metadata.
//!
//! A main already in the cache is used without any request. The others
//! are fetched unless `--no-download` or `--dry-run` is given; a dry run
//! plans them from their entry (`DOWNLOAD` in the plan, with the
//! extension of the entry's media type), since what is only linked cannot
//! be known without fetching it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde_json::{json, Map};

use super::process::{input_of, Ctx};
use crate::download::{self, Downloader, Failure, Fetched, Files, Listing};
use crate::plan::{Fetch, Item, Plan};
use crate::report::Phase;

/// Reason of the linked media `--no-download` kept from being fetched.
const NOT_DOWNLOADED: &str = "Not downloaded (--no-download)";

/// Items of a dry run whose file is neither bundled nor cached: their
/// index in `Plan::items` and the planned extension.
pub(super) type Pending = Vec<(usize, &'static str)>;

/// Resolves `plan.fetches` into `plan.items` (at their planned positions)
/// and `plan.orphans`; returns the items a dry run could only plan.
pub(super) fn resolve(cx: &Ctx, plan: &mut Plan) -> Pending {
    let fetches = std::mem::take(&mut plan.fetches);
    let Some(cache) = fetches.first().map(|f| f.cache) else {
        return Pending::new();
    };
    let mut listings: HashMap<&str, Listing> = HashMap::new();
    let cached: Vec<Option<Files>> = fetches
        .iter()
        .map(|f| {
            let listing = listings
                .entry(f.cache)
                .or_insert_with(|| Listing::read(&cx.out_root.join(f.cache)));
            listing.get(&f.key)
        })
        .collect();
    let mut fetched = fetch_missing(cx, &fetches, &cached);
    let mut refused = Vec::new();
    let mut resolved = Vec::new();
    for (i, (fetch, files)) in fetches.into_iter().zip(cached).enumerate() {
        match outcome(cx, &fetch, files, fetched.remove(&i), &mut refused) {
            Ok(item) => {
                resolved.push((fetch.position, item, fetch.planned_ext))
            }
            Err(reason) => {
                let mut orphan = fetch.orphan;
                orphan.reason = reason;
                plan.orphans.push(orphan);
            }
        }
    }
    if !refused.is_empty() {
        let have = resolved.iter().filter(|r| !is_pending(&r.1)).count();
        warn_refused(cx, cache, &refused, have);
    }
    resolved.sort_by_key(|r| r.0);
    insert(plan, resolved)
}

/// Returns the item of `fetch` given its cached `files` or the result of
/// fetching it, or the reason it has none; collects in `refused` when
/// the links of refused downloads were made.
fn outcome(
    cx: &Ctx,
    fetch: &Fetch,
    files: Option<Files>,
    fetched: Option<Result<Fetched, Failure>>,
    refused: &mut Vec<Option<Timestamp>>,
) -> Result<Item, String> {
    match (files, fetched) {
        (Some(files), _) => Ok(cached_item(cx, fetch, files)),
        (None, Some(Ok(done))) => Ok(fetched_item(cx, fetch, done)),
        (None, Some(Err(failure))) => {
            if failure.refused {
                refused.push(fetch.link_created);
            }
            Err(format!("Download failed: {}", failure.error))
        }
        (None, None) if cx.no_download => Err(NOT_DOWNLOADED.to_string()),
        (None, None) => Ok(pending_item(fetch)),
    }
}

/// Fetches every fetch whose main is not cached, unless downloads are
/// off; returns the outcomes by fetch index.
fn fetch_missing(
    cx: &Ctx,
    fetches: &[Fetch],
    cached: &[Option<Files>],
) -> HashMap<usize, Result<Fetched, Failure>> {
    let missing: Vec<usize> =
        (0..fetches.len()).filter(|&i| cached[i].is_none()).collect();
    if cx.dry_run || cx.no_download || missing.is_empty() {
        return HashMap::new();
    }
    cx.progress.phase(Phase::Download, missing.len());
    let downloader = match Downloader::new() {
        Ok(downloader) => downloader,
        Err(err) => {
            let error = format!("{err:#}");
            let failed =
                |i| (i, Err(Failure { error: error.clone(), refused: false }));
            return missing.into_iter().map(failed).collect();
        }
    };
    let mut by_dir: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for i in missing {
        by_dir.entry(cx.out_root.join(fetches[i].cache)).or_default().push(i);
    }
    let mut outcomes = HashMap::new();
    for (dir, mine) in by_dir {
        let results = fetch_into(cx, &downloader, &dir, fetches, &mine);
        outcomes.extend(mine.into_iter().zip(results));
    }
    outcomes
}

/// Fetches the fetches numbered `mine` into cache folder `dir`, up to W
/// at once (the downloader caps them at 8), and returns their results.
fn fetch_into(
    cx: &Ctx,
    downloader: &Downloader,
    dir: &Path,
    fetches: &[Fetch],
    mine: &[usize],
) -> Vec<Result<Fetched, Failure>> {
    let requests: Vec<download::Request> = mine
        .iter()
        .map(|&i| download::Request {
            key: &fetches[i].key,
            get: fetches[i].get.as_deref(),
            post: fetches[i].post.as_deref(),
        })
        .collect();
    downloader.fetch_all(
        dir,
        &requests,
        cx.workers,
        &|| cx.progress.inc(),
        &super::is_interrupted,
    )
}

/// Returns the item of `fetch` whose files were already in the cache.
fn cached_item(cx: &Ctx, fetch: &Fetch, files: Files) -> Item {
    let url = fetch.get.as_deref().or(fetch.post.as_deref()).unwrap_or("");
    with_files(cx, fetch, files, url)
}

/// Returns the item of `fetch` whose files were fetched now.
fn fetched_item(cx: &Ctx, fetch: &Fetch, done: Fetched) -> Item {
    let mut item = with_files(cx, fetch, done.files, &done.url);
    item.warnings.extend(done.warnings);
    item
}

/// Returns `fetch`'s item with its source and overlay in the cache and
/// the report's `url` and `cached_as`.
fn with_files(cx: &Ctx, fetch: &Fetch, files: Files, url: &str) -> Item {
    let mut item = fetch.item.clone();
    let cached_as = input_of(cx, &files.main);
    item.source = files.main;
    item.overlay = files.overlay;
    let mut extra = Map::new();
    extra.insert("url".into(), json!(url));
    extra.insert("cached_as".into(), json!(cached_as));
    item.extra = extra;
    item
}

/// Returns the item of a dry run's linked media: no source yet (the
/// engine plans it from `planned_ext` and prints `DOWNLOAD`).
fn pending_item(fetch: &Fetch) -> Item {
    let mut item = fetch.item.clone();
    item.source = PathBuf::new();
    item.overlay = None;
    let url = fetch.get.as_deref().or(fetch.post.as_deref());
    item.extra.insert("url".into(), json!(url));
    item
}

/// Returns whether `item` is linked media a dry run has not fetched.
fn is_pending(item: &Item) -> bool {
    item.source.as_os_str().is_empty()
}

/// Inserts the resolved items before the items at their positions,
/// keeping their order, and returns the dry run's pending items.
fn insert(
    plan: &mut Plan,
    resolved: Vec<(usize, Item, &'static str)>,
) -> Pending {
    let old = std::mem::take(&mut plan.items);
    let mut resolved = resolved.into_iter().peekable();
    let mut pending = Pending::new();
    let mut push = |plan: &mut Plan, item: Item, ext| {
        if is_pending(&item) {
            pending.push((plan.items.len(), ext));
        }
        plan.items.push(item);
    };
    for (i, item) in old.into_iter().enumerate() {
        while let Some((_, new, ext)) = resolved.next_if(|r| r.0 <= i) {
            push(plan, new, ext);
        }
        push(plan, item, "");
    }
    for (_, new, ext) in resolved {
        push(plan, new, ext);
    }
    pending
}

/// Prints the one warning of §9b.5 for links the server refused.
fn warn_refused(
    cx: &Ctx,
    cache: &str,
    refused: &[Option<Timestamp>],
    have: usize,
) {
    let created = refused
        .iter()
        .flatten()
        .min()
        .map(|t| {
            format!(" The links were created on {}.", t.strftime("%Y-%m-%d"))
        })
        .unwrap_or_default();
    log::warn!(
        "{}: {} memories could not be downloaded; their links were refused \
         (expired?).{created} Request a new My Data download and run again \
         into the same output folder; the {have} memories already \
         downloaded are reused from {cache}/.",
        cx.export.name,
        refused.len(),
    );
}
