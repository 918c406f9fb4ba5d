//! Finding exports and the usernames their folder names carry.
//!
//! `--originals DIR` yields every eligible immediate sub-folder, sorted by
//! name; the `<platform>-<username>-<YYYYMMDD>` convention of cli.md §5.3
//! gives each export's username.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::plan::Export;

/// Name prefixes that are never entered or read (platforms.md §2.1).
pub(crate) const BANNED_PREFIXES: &[&str] = &[
    "@eaDir",
    "@__thumb",
    "SYNOFILE_THUMB_",
    "Lightroom Catalog",
    "thumbnails",
    ".DS_Store",
    "._",
    ".photostructure",
];

/// Returns true for names that are hidden or banned.
pub(crate) fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.') || BANNED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Returns the exports under `dir`: immediate children that are folders
/// (or symlinks to folders), not hidden or banned, and not `output` or a
/// folder containing it, sorted by name in byte order.
pub(crate) fn exports_in(
    dir: &Path,
    output: &Path,
) -> anyhow::Result<Vec<Export>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read {}", dir.display()))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry
            .with_context(|| format!("failed to read {}", dir.display()))?;
        let Ok(name) = entry.file_name().into_string() else {
            log::warn!("skipping non-UTF-8 folder name in {}", dir.display());
            continue;
        };
        let path = entry.path();
        if is_ignored_name(&name) || !path.is_dir() {
            continue;
        }
        let Ok(path) = path.canonicalize() else { continue };
        if output.starts_with(&path) {
            continue;
        }
        found.push(Export { name, path });
    }
    found.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(found)
}

/// Returns the export for a single `INPUT_DIR`.
pub(crate) fn single(path: PathBuf) -> Export {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Export { name, path }
}

/// Returns the username that folder name `name` carries for platform
/// prefix `prefix` (`google`, `instagram`, `snapchat`, …), or `unknown`.
pub(crate) fn username(name: &str, prefix: &str) -> String {
    let lower_len = prefix.len() + 1;
    let starts = name.len() >= lower_len
        && name.is_char_boundary(lower_len)
        && name[..lower_len].eq_ignore_ascii_case(&format!("{prefix}-"));
    if !starts {
        return "unknown".to_string();
    }
    let rest = &name[lower_len..];
    if prefix.eq_ignore_ascii_case("instagram") {
        if let Some(user) = before_date(rest, "_-") {
            return format!("{user}_");
        }
    }
    if let Some(user) = before_date(rest, "-") {
        return user.to_string();
    }
    let trimmed = strip_trailing_date(rest);
    if trimmed.is_empty() {
        "unknown".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Returns the shortest non-empty `text` such that `rest` starts with
/// `text`, `sep` and a date.
fn before_date<'a>(rest: &'a str, sep: &str) -> Option<&'a str> {
    (1..rest.len()).filter(|&i| rest.is_char_boundary(i)).find_map(|i| {
        let tail = rest[i..].strip_prefix(sep)?;
        date_len(tail).map(|_| &rest[..i])
    })
}

/// Removes a date at the very end of `rest`, with an optional `_`, `-` or
/// `_-` before it.
fn strip_trailing_date(rest: &str) -> &str {
    for start in 0..rest.len() {
        if !rest.is_char_boundary(start) {
            continue;
        }
        if date_len(&rest[start..]) == Some(rest.len() - start) {
            let head = &rest[..start];
            return head
                .strip_suffix("_-")
                .or_else(|| head.strip_suffix('_'))
                .or_else(|| head.strip_suffix('-'))
                .unwrap_or(head);
        }
    }
    rest
}

/// Returns the length of the date (`YYYY[-]MM[-]DD`) at the start of `s`.
fn date_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut pos = 0;
    for (i, width) in [4, 2, 2].into_iter().enumerate() {
        if i > 0 && b.get(pos) == Some(&b'-') {
            pos += 1;
        }
        let digits = b.get(pos..pos + width)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        pos += width;
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_worked_examples() {
        let cases = [
            ("google-john.doe-20250526", "google", "john.doe"),
            ("google-john-doe-2025-05-26", "google", "john-doe"),
            ("Google-bob-20250101", "google", "bob"),
            ("google-bob-20250101-extra", "google", "bob"),
            ("google-bob-202501011", "google", "bob"),
            ("google-bob-2025010", "google", "bob-2025010"),
            ("google-bob-1234-12-12-20250101", "google", "bob"),
            ("google-2025-01-01", "google", "unknown"),
            ("google-20250101", "google", "unknown"),
            ("google-", "google", "unknown"),
            (
                "instagram-john-doe-smith-20250526",
                "instagram",
                "john-doe-smith",
            ),
            ("instagram-user_-2021-07-25", "instagram", "user_"),
            ("instagram-user_-20210725", "instagram", "user_"),
            ("instagram-jane", "instagram", "jane"),
            ("snapchat-user", "snapchat", "user"),
            ("snapchat-user_20251007", "snapchat", "user"),
            ("snapmsgs-user-20251017", "snapmsgs", "user"),
            ("my-export", "google", "unknown"),
            ("göögle-x-20250101", "google", "unknown"),
        ];
        for (folder, prefix, want) in cases {
            assert_eq!(username(folder, prefix), want, "{folder}");
        }
    }
}
