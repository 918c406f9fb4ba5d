//! `needs_matching/`: cases a person has to decide, each copied into a
//! folder of its own with the candidate files and `match_info.json`
//! (platforms.md §10.8).

use std::collections::HashSet;
use std::path::Path;

use serde_json::{json, Value};

use super::process::Ctx;
use crate::media;
use crate::plan::{NeedsMatching, Rules};
use crate::report::{self, ProcessorReport};

/// Copies every case into `<folder>/needs_matching/<case>/` and records
/// it; a repeated case name gets `_2`, `_3`, … (nothing is written in a
/// dry run).
pub(crate) fn write(
    cx: &Ctx,
    rules: &Rules,
    cases: &[NeedsMatching],
    report: &mut ProcessorReport,
) {
    let mut taken = HashSet::new();
    for case in cases {
        let name = (1..)
            .map(|n| match n {
                1 => case.folder.clone(),
                n => format!("{}_{n}", case.folder),
            })
            .find(|name| taken.insert(name.clone()))
            .expect("an unbounded counter finds a free name");
        let rel = format!("{}/needs_matching/{name}", rules.folder);
        if !cx.dry_run {
            if let Err(err) = copy_case(&cx.out_root.join(&rel), case) {
                report.problem(format!("{rel}: {err:#}"));
            }
        }
        report.needs_matching(json!({
            "folder": rel,
            "timestamp": case.timestamp,
            "videos": names(&case.videos),
            "overlays": names(&case.overlays),
            "hint": case.hint,
        }));
    }
}

/// Copies the case's videos and overlays (keeping their modification
/// times) and writes its `match_info.json`.
fn copy_case(dir: &Path, case: &NeedsMatching) -> anyhow::Result<()> {
    for (sub, files) in [("media", &case.videos), ("overlays", &case.overlays)]
    {
        let folder = dir.join(sub);
        std::fs::create_dir_all(&folder)?;
        for src in files.iter() {
            let dest = folder.join(src.file_name().unwrap_or_default());
            let mtime = std::fs::metadata(src)?.modified()?;
            let tmp = media::copy_plain(src, &dest)?;
            tmp.persist(&dest, jiff::Timestamp::try_from(mtime).ok())?;
        }
    }
    report::write_json(&dir.join("match_info.json"), &case.info)
}

/// Returns the file names of `paths`.
fn names(paths: &[std::path::PathBuf]) -> Vec<Value> {
    paths
        .iter()
        .map(|p| json!(p.file_name().map(|n| n.to_string_lossy())))
        .collect()
}
