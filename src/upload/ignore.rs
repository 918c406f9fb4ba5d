//! Which files are never uploaded (upload.md §3.2, §3.3).
//!
//! `IMMICH_IGNORE_PATTERNS` items match as `**/P` against the path
//! relative to the output root, case-insensitively, with `*` and `?`
//! stopping at `/`. Hidden files, sidecars, overlays and reports are left
//! out whatever the patterns say.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// The compiled ignore patterns.
#[derive(Clone, Debug)]
pub(crate) struct Ignore {
    patterns: Vec<String>,
    set: GlobSet,
}

impl Ignore {
    /// Compiles the comma-separated `list`; items are trimmed and empty
    /// ones dropped. The error names the first invalid pattern.
    pub(crate) fn new(list: &str) -> Result<Ignore, String> {
        let patterns: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let mut builder = GlobSetBuilder::new();
        for pattern in &patterns {
            let glob = GlobBuilder::new(&format!("**/{pattern}"))
                .case_insensitive(true)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("invalid pattern '{pattern}': {e}"))?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| e.to_string())?;
        Ok(Ignore { patterns, set })
    }

    /// Returns the patterns as configured (for logs).
    pub(crate) fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Returns true when `path` (relative, `/`-separated) may be
    /// uploaded.
    pub(crate) fn keeps(&self, path: &str) -> bool {
        !is_never_uploaded(path) && !self.set.is_match(path)
    }
}

/// Returns true for files that are never assets: hidden components,
/// sidecars, overlays and memoria's reports (upload.md §3.2).
fn is_never_uploaded(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_lowercase();
    path.split('/').any(|part| part.starts_with('.'))
        || name.ends_with(".xmp")
        || name.ends_with(".overlay.png")
        || matches!(
            name.as_str(),
            "report.json" | "upload-report.json" | "failure-report.json"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_patterns_exclude_issue_and_matching_folders() {
        let ignore = Ignore::new(crate::upload::DEFAULT_IGNORE).unwrap();
        for kept in [
            "photos/a.jpg",
            "photos/issues.jpg",
            "messages/matching.jpg",
            "public-media/posts/x.mp4",
        ] {
            assert!(ignore.keeps(kept), "{kept}");
        }
        for dropped in [
            "photos/issues/failed-matching/media/a.jpg",
            "messages/ISSUES/a.jpg",
            "messages/needs_matching/a.jpg",
            "x/failed-Matching/deep/a.jpg",
            "photos/.memoria-tmp-1.jpg",
            "memories/.snapchat-downloads/a.jpg",
            "photos/a.jpg.xmp",
            "memories/a.overlay.png",
            "report.json",
        ] {
            assert!(!ignore.keeps(dropped), "{dropped}");
        }
    }

    #[test]
    fn patterns_are_trimmed_and_all_apply() {
        let ignore = Ignore::new(" *.mov , ,photos/b?.jpg,[xy].png").unwrap();
        assert_eq!(ignore.patterns(), ["*.mov", "photos/b?.jpg", "[xy].png"]);
        assert!(!ignore.keeps("photos/a.MOV"));
        assert!(!ignore.keeps("photos/b1.jpg"));
        assert!(ignore.keeps("photos/b12.jpg"));
        assert!(!ignore.keeps("deep/photos/b1.jpg"));
        assert!(!ignore.keeps("chat/x.png"));
        assert!(ignore.keeps("chat/z.png"));
        // `*` does not cross `/`.
        let ignore = Ignore::new("photos/*.jpg").unwrap();
        assert!(!ignore.keeps("photos/a.jpg"));
        assert!(ignore.keeps("photos/sub/a.jpg"));
        assert!(Ignore::new("a[").is_err());
        assert!(Ignore::new("").unwrap().keeps("issues/a.jpg"));
    }
}
