//! Inspection and content de-duplication of a plan's items.
//!
//! Workers read each input once for its size, its real type (extension
//! correction, metadata.md §8) and the metadata it already carries; files
//! whose size is shared are hashed with XXH3-128 and identical ones are
//! grouped, the first in planning order being the primary (platforms.md
//! §2.7).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::Context;
use jiff::Timestamp;
use rayon::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use crate::media::model::Existing;
use crate::media::{self, read, sniff};
use crate::plan::Item;

/// What a worker learned about one input file.
#[derive(Clone, Debug)]
pub(crate) struct Inspected {
    /// Final lower-case extension without the dot.
    pub(crate) ext: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Metadata the file already carries.
    pub(crate) existing: Existing,
    /// The input's modification time (used for items without a date).
    pub(crate) mtime: Option<Timestamp>,
}

impl Inspected {
    /// Returns what a dry run assumes of a file it has not fetched: the
    /// extension of its entry's media type and nothing else.
    pub(crate) fn planned(ext: &str) -> Inspected {
        Inspected {
            ext: ext.to_string(),
            size: 0,
            existing: Existing::default(),
            mtime: None,
        }
    }
}

/// Inspects every item on `pool`; an unreadable file gives its error.
pub(crate) fn inspect_all(
    pool: &rayon::ThreadPool,
    items: &[Item],
    tick: &(dyn Fn() + Sync),
) -> Vec<Result<Inspected, String>> {
    pool.install(|| {
        items
            .par_iter()
            .map(|item| {
                let result =
                    inspect(&item.source).map_err(|e| format!("{e:#}"));
                tick();
                result
            })
            .collect()
    })
}

/// Reads the size, type and existing metadata of `path`.
fn inspect(path: &Path) -> anyhow::Result<Inspected> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let head = media::head(path, 4096)?;
    let original = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = sniff::corrected_ext(&original, &head);
    let existing = read::existing(path, &ext);
    let mtime = meta.modified().ok().and_then(|t| Timestamp::try_from(t).ok());
    Ok(Inspected { ext, size: meta.len(), existing, mtime })
}

/// Groups identical items: returns, per group, the item indices in
/// planning order (the first is the primary). Items that failed
/// inspection, or all items when `dedup` is off, stand alone. A hash
/// failure also leaves the item alone.
pub(crate) fn group(
    pool: &rayon::ThreadPool,
    items: &[Item],
    inspected: &[Result<Inspected, String>],
    dedup: bool,
    tick: &(dyn Fn() + Sync),
) -> Vec<Vec<usize>> {
    let mut by_size: HashMap<u64, Vec<usize>> = HashMap::new();
    if dedup {
        for (i, info) in inspected.iter().enumerate() {
            if let Ok(info) = info {
                by_size.entry(info.size).or_default().push(i);
            }
        }
    }
    let shared: Vec<usize> = by_size
        .values()
        .filter(|idx| idx.len() > 1)
        .flatten()
        .copied()
        .collect();
    let hashes: HashMap<usize, u128> = pool.install(|| {
        shared
            .par_iter()
            .filter_map(|&i| {
                let hash = hash_file(&items[i].source).ok();
                tick();
                hash.map(|h| (i, h))
            })
            .collect()
    });
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut seen: HashMap<(u64, u128), usize> = HashMap::new();
    for (i, info) in inspected.iter().enumerate() {
        let key = match (info, hashes.get(&i)) {
            (Ok(info), Some(&hash)) => Some((info.size, hash)),
            _ => None,
        };
        match key.and_then(|k| seen.get(&k).copied()) {
            Some(g) => groups[g].push(i),
            None => {
                if let Some(k) = key {
                    seen.insert(k, groups.len());
                }
                groups.push(vec![i]);
            }
        }
    }
    groups
}

/// Returns the XXH3-128 hash of a file's content.
fn hash_file(path: &Path) -> anyhow::Result<u128> {
    let file = File::open(path)
        .with_context(|| format!("failed to open {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut hasher = Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("failed to read {}", path.display()))?;
        if n == 0 {
            return Ok(hasher.digest128());
        }
        hasher.update(&buf[..n]);
    }
}
