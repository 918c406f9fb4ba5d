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
        let base = folder_name(&case.folder);
        let name = (1..)
            .map(|n| match n {
                1 => base.clone(),
                n => format!("{base}_{n}"),
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

/// Returns `text` as a single folder name: the case name comes from
/// export data, so anything but letters, digits, `-` and `_` becomes `_`
/// and it can never leave `needs_matching/`.
fn folder_name(text: &str) -> String {
    let name: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    if name.is_empty() {
        "unknown".to_string()
    } else {
        name
    }
}

/// Returns the file names of `paths`.
fn names(paths: &[std::path::PathBuf]) -> Vec<Value> {
    paths
        .iter()
        .map(|p| json!(p.file_name().map(|n| n.to_string_lossy())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_folders_stay_inside_needs_matching() {
        assert_eq!(
            folder_name("2021-02-01_10-00-00_UTC"),
            "2021-02-01_10-00-00_UTC"
        );
        assert_eq!(folder_name("../../etc"), "______etc");
        assert_eq!(folder_name("a/b\\c"), "a_b_c");
        assert_eq!(folder_name(""), "unknown");
    }
}
