//! Tying the media references of Voice messages to the files of
//! `Voice/Calls/` (platforms.md §5.4).
//!
//! One [`Catalogue`] serves the whole export, so a file matched by one
//! message is never handed to another, whatever page it sits on. Files
//! still unused at the end are the unreferenced ones of §5.7.

use std::collections::HashSet;

/// Extensions tried by step 2, in this order.
const EXTENSIONS: &[&str] = &[
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".mp4", ".mov", ".avi", ".webm",
    ".3gp", ".amr", ".mp3", ".m4a", ".wav",
];

/// The media and audio files of `Voice/Calls/` and which of them are
/// taken.
#[derive(Debug, Default)]
pub(super) struct Catalogue {
    /// File names, sorted in byte order, each once.
    names: Vec<String>,
    /// Indexes into `names` already matched.
    used: HashSet<usize>,
}

impl Catalogue {
    /// Returns the catalogue of file names `names`, none used.
    pub(super) fn new(mut names: Vec<String>) -> Catalogue {
        names.sort_unstable();
        names.dedup();
        Catalogue { names, used: HashSet::new() }
    }

    /// Returns the file for reference `reference` and the rule that found
    /// it (`name`, `extension`, `strip-1`, `prefix`; reports.md §3.1),
    /// and marks the file used. `None` means orphaned metadata (step 5).
    pub(super) fn resolve(
        &mut self,
        reference: &str,
    ) -> Option<(&'static str, &str)> {
        let (rule, index) = self
            .by_name(reference)
            .map(|i| ("name", i))
            .or_else(|| self.by_extension(reference).map(|i| ("extension", i)))
            .or_else(|| self.without_one(reference).map(|i| ("strip-1", i)))
            .or_else(|| self.by_prefix(reference).map(|i| ("prefix", i)))?;
        self.used.insert(index);
        Some((rule, self.names.get(index)?.as_str()))
    }

    /// Returns the names never matched, in byte order.
    pub(super) fn unused(&self) -> impl Iterator<Item = &str> {
        let names = self.names.iter().enumerate();
        names.filter(|(i, _)| !self.used.contains(i)).map(|(_, n)| n.as_str())
    }

    /// Step 1: `name` itself, if present and unused.
    fn by_name(&self, name: &str) -> Option<usize> {
        let index =
            self.names.binary_search_by(|n| n.as_str().cmp(name)).ok()?;
        (!self.used.contains(&index)).then_some(index)
    }

    /// Step 2: for each extension in turn, `reference` when it already
    /// ends with it (any case), else `reference` plus it.
    fn by_extension(&self, reference: &str) -> Option<usize> {
        let lower = reference.to_ascii_lowercase();
        EXTENSIONS.iter().find_map(|ext| {
            if lower.ends_with(ext) {
                self.by_name(reference)
            } else {
                self.by_name(&format!("{reference}{ext}"))
            }
        })
    }

    /// Step 3: steps 1 and 2 for `reference` without a final `-1`.
    fn without_one(&self, reference: &str) -> Option<usize> {
        let base = reference.strip_suffix("-1")?;
        self.by_name(base).or_else(|| self.by_extension(base))
    }

    /// Step 4: the first unused name, in byte order, that starts with
    /// `reference` followed by `.`, `-`, `_` or a space.
    fn by_prefix(&self, reference: &str) -> Option<usize> {
        let start = self.names.partition_point(|n| n.as_str() < reference);
        let after = self.names.iter().enumerate().skip(start);
        let mut same_start =
            after.take_while(|(_, n)| n.starts_with(reference));
        let (index, _) = same_start.find(|(i, n)| {
            let next = n.as_bytes().get(reference.len());
            matches!(next, Some(b'.' | b'-' | b'_' | b' '))
                && !self.used.contains(i)
        })?;
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(names: &[&str]) -> Catalogue {
        Catalogue::new(names.iter().map(|n| n.to_string()).collect())
    }

    fn resolve(c: &mut Catalogue, reference: &str) -> Option<(String, String)> {
        c.resolve(reference).map(|(rule, name)| (rule.into(), name.into()))
    }

    fn some(rule: &str, name: &str) -> Option<(String, String)> {
        Some((rule.into(), name.into()))
    }

    #[test]
    fn each_step_in_turn() {
        let mut c = catalogue(&[
            "a-1-1.jpg",
            "b.JPG",
            "c.mp3",
            "c",
            "d-1.png",
            "e.gif",
            "f_1.jpg",
            "f 2.jpg",
            "g.x.jpg",
        ]);
        assert_eq!(resolve(&mut c, "c"), some("name", "c"));
        assert_eq!(resolve(&mut c, "c"), some("extension", "c.mp3"));
        assert_eq!(resolve(&mut c, "a-1-1"), some("extension", "a-1-1.jpg"));
        assert_eq!(resolve(&mut c, "b.JPG"), some("name", "b.JPG"));
        assert_eq!(resolve(&mut c, "d-1-1"), some("strip-1", "d-1.png"));
        assert_eq!(resolve(&mut c, "e-1"), some("strip-1", "e.gif"));
        assert_eq!(resolve(&mut c, "f"), some("prefix", "f 2.jpg"));
        assert_eq!(resolve(&mut c, "f"), some("prefix", "f_1.jpg"));
        assert_eq!(resolve(&mut c, "f"), None);
        assert_eq!(resolve(&mut c, "g"), some("prefix", "g.x.jpg"));
        assert_eq!(c.unused().count(), 0);
    }

    #[test]
    fn step_two_does_not_add_a_second_extension() {
        let mut c = catalogue(&["x.jpg.jpg", "y.JPG.png"]);
        // `x.jpg` ends with `.jpg`, so `.jpg` is not appended; the prefix
        // step still finds the file.
        assert_eq!(resolve(&mut c, "x.jpg"), some("prefix", "x.jpg.jpg"));
        assert_eq!(resolve(&mut c, "y.JPG"), some("extension", "y.JPG.png"));
    }

    #[test]
    fn prefixes_need_a_separator_and_skip_used_files() {
        let mut c = catalogue(&["ab.jpg", "abc.jpg", "a-2.jpg", "a.jpg"]);
        assert_eq!(resolve(&mut c, "a"), some("extension", "a.jpg"));
        assert_eq!(resolve(&mut c, "a"), some("prefix", "a-2.jpg"));
        assert_eq!(resolve(&mut c, "a"), None);
        let left: Vec<&str> = c.unused().collect();
        assert_eq!(left, ["ab.jpg", "abc.jpg"]);
    }

    #[test]
    fn an_empty_catalogue_matches_nothing() {
        let mut c = catalogue(&[]);
        assert_eq!(resolve(&mut c, "a-1"), None);
        assert_eq!(resolve(&mut c, ""), None);
    }
}
