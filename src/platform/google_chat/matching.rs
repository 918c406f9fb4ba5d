//! Ties message attachments to the media files of one conversation folder
//! (platforms.md §4.5).
//!
//! Takeout escapes some characters of `export_name`, numbers repeated
//! names `name(1).ext`, `name(2).ext`, … and cuts long names; the
//! [`Catalogue`] undoes each in the order of §4.5 and remembers which
//! files and names were used, per conversation.

use std::collections::{HashMap, HashSet};

/// Takeout's literal escape of `=` in export names.
const ESCAPED_EQUALS: &str = "\\u003d";
/// The shorter stem of a truncation match has at least this many
/// characters (§4.5 step 3).
const MIN_TRUNCATED: usize = 30;

/// The media files of one conversation folder and what was taken.
#[derive(Debug)]
pub(super) struct Catalogue {
    /// File names in byte order.
    names: Vec<String>,
    /// The same names, for lookups.
    present: HashSet<String>,
    /// Files already tied to an attachment.
    taken: HashSet<String>,
    /// How often each name was used (the `(k)` counter of step 1).
    uses: HashMap<String, usize>,
}

impl Catalogue {
    /// Returns the catalogue of media file names `names` (sorted).
    pub(super) fn new(names: Vec<String>) -> Catalogue {
        let present = names.iter().cloned().collect();
        let (taken, uses) = (HashSet::new(), HashMap::new());
        Catalogue { names, present, taken, uses }
    }

    /// Returns the file for attachment `export_name` and the rule name of
    /// reports.md §3.1 that found it, marking the file used; `None` when
    /// no rule applies (§4.5 step 4).
    pub(super) fn resolve(
        &mut self,
        export_name: &str,
    ) -> Option<(String, &'static str)> {
        let normal = normalize(export_name);
        if let Some((file, numbered)) = self.claim(&normal) {
            return Some((
                file,
                if numbered { "numbered-copy" } else { "name" },
            ));
        }
        for variant in variants(export_name) {
            if variant == normal {
                continue;
            }
            if let Some((file, _)) = self.claim(&variant) {
                return Some((file, "variant"));
            }
        }
        self.truncated(&normal).map(|file| (file, "truncated"))
    }

    /// Returns the files no attachment was tied to, in byte order.
    pub(super) fn unused(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .filter(|n| !self.taken.contains(*n))
            .map(String::as_str)
    }

    /// Takes `name` when it exists and was never used, else its numbered
    /// copy `<stem>(<k>)<ext>` after k uses; returns the file and whether
    /// it was a numbered copy.
    fn claim(&mut self, name: &str) -> Option<(String, bool)> {
        let k = self.uses.get(name).copied().unwrap_or(0);
        let file = if k == 0 { name.to_string() } else { numbered(name, k) };
        if !self.present.contains(&file) || self.taken.contains(&file) {
            return None;
        }
        self.take(name, &file);
        Some((file, k > 0))
    }

    /// Step 3: the longest catalogue stem with the extension of `normal`
    /// that is a prefix of its stem or has it as a prefix, the shorter of
    /// the two having at least 30 characters; only if unused.
    fn truncated(&mut self, normal: &str) -> Option<String> {
        let (stem, ext) = split(normal);
        let mut best: Option<&String> = None;
        for name in &self.names {
            let (other, other_ext) = split(name);
            let fits = other_ext.eq_ignore_ascii_case(ext)
                && (stem.starts_with(other) || other.starts_with(stem))
                && stem.chars().count().min(other.chars().count())
                    >= MIN_TRUNCATED;
            let longer = best.is_none_or(|b| {
                other.chars().count() > split(b).0.chars().count()
            });
            if fits && longer {
                best = Some(name);
            }
        }
        let file = best.filter(|b| !self.taken.contains(*b))?.clone();
        self.take(&file, &file);
        Some(file)
    }

    /// Marks `file` taken and counts a use of `name`.
    fn take(&mut self, name: &str, file: &str) {
        self.taken.insert(file.to_string());
        *self.uses.entry(name.to_string()).or_default() += 1;
    }
}

/// Returns N of step 1: `\u003d` → `=`, `?` and `'` → `_`.
fn normalize(export_name: &str) -> String {
    export_name.replace(ESCAPED_EQUALS, "=").replace(['?', '\''], "_")
}

/// Returns the names step 2 tries, in order: raw, `?` → `_`, `\u003d` →
/// `=`, `'` → `_`, and `'` and `?` → `_`.
fn variants(raw: &str) -> [String; 5] {
    [
        raw.to_string(),
        raw.replace('?', "_"),
        raw.replace(ESCAPED_EQUALS, "="),
        raw.replace('\'', "_"),
        raw.replace(['\'', '?'], "_"),
    ]
}

/// Returns `<stem>(<k>)<ext>` for `name`.
fn numbered(name: &str, k: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}({k}).{ext}"),
        None => format!("{name}({k})"),
    }
}

/// Splits `name` into stem and extension (without the dot) at its last
/// dot; the extension is empty without one.
fn split(name: &str) -> (&str, &str) {
    name.rsplit_once('.').unwrap_or((name, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(names: &[&str]) -> Catalogue {
        let mut names: Vec<String> =
            names.iter().map(|n| n.to_string()).collect();
        names.sort_unstable();
        Catalogue::new(names)
    }

    fn hit(file: &str, rule: &'static str) -> Option<(String, &'static str)> {
        Some((file.to_string(), rule))
    }

    #[test]
    fn repeated_names_take_their_numbered_copies() {
        let mut c = catalogue(&["a.png", "a(1).png", "a(2).png", "b.jpg"]);
        assert_eq!(c.resolve("a.png"), hit("a.png", "name"));
        assert_eq!(c.resolve("a.png"), hit("a(1).png", "numbered-copy"));
        assert_eq!(c.resolve("a.png"), hit("a(2).png", "numbered-copy"));
        assert_eq!(c.resolve("a.png"), None);
        assert_eq!(c.unused().collect::<Vec<_>>(), ["b.jpg"]);
    }

    #[test]
    fn escaped_and_replaced_characters_are_undone() {
        let mut c = catalogue(&["x=y.jpg", "what_.jpg", "it_s.png", "q?.jpg"]);
        assert_eq!(c.resolve("x\\u003dy.jpg"), hit("x=y.jpg", "name"));
        assert_eq!(c.resolve("what?.jpg"), hit("what_.jpg", "name"));
        assert_eq!(c.resolve("it's.png"), hit("it_s.png", "name"));
        // A file that kept its `?` is found by the raw variant.
        assert_eq!(c.resolve("q?.jpg"), hit("q?.jpg", "variant"));
    }

    #[test]
    fn variants_keep_characters_step_one_replaces() {
        // `'` kept on disk while `\u003d` was unescaped: variant 3.
        let mut c = catalogue(&["it's=.jpg"]);
        assert_eq!(c.resolve("it's\\u003d.jpg"), hit("it's=.jpg", "variant"));
        let mut c = catalogue(&["it's\\u003d.jpg", "why?_.jpg"]);
        assert_eq!(
            c.resolve("it's\\u003d.jpg"),
            hit("it's\\u003d.jpg", "variant")
        );
        assert_eq!(c.resolve("why?'.jpg"), hit("why?_.jpg", "variant"));
    }

    #[test]
    fn variants_count_uses_too() {
        let mut c = catalogue(&["q?.jpg", "q?(1).jpg"]);
        assert_eq!(c.resolve("q?.jpg"), hit("q?.jpg", "variant"));
        assert_eq!(c.resolve("q?.jpg"), hit("q?(1).jpg", "variant"));
    }

    #[test]
    fn truncated_names_take_the_longest_unused_prefix() {
        let long = "A very long attachment name from a chat";
        let cut = &long[..32];
        let mut c = catalogue(&[
            &format!("{cut}.JPG"),
            &format!("{}.jpg", &long[..35]),
            &format!("{}.png", &long[..36]),
        ]);
        let want = format!("{}.jpg", &long[..35]);
        assert_eq!(c.resolve(&format!("{long}.jpg")), hit(&want, "truncated"));
        // The longest is used now, so the next one finds nothing.
        assert_eq!(c.resolve(&format!("{long}.jpg")), None);
    }

    #[test]
    fn truncation_needs_thirty_characters() {
        let mut c = catalogue(&["abcdefghij.jpg"]);
        assert_eq!(c.resolve("abcdefghijklmnop.jpg"), None);
        let stem = "x".repeat(29);
        let mut c = catalogue(&[&format!("{stem}.jpg")]);
        assert_eq!(c.resolve(&format!("{stem}yy.jpg")), None);
        let mut c = catalogue(&[&format!("{stem}y.jpg")]);
        let want = format!("{stem}y.jpg");
        assert_eq!(
            c.resolve(&format!("{stem}yy.jpg")),
            hit(&want, "truncated")
        );
    }

    #[test]
    fn truncation_applies_the_apostrophe_rule() {
        let stem = format!("Jane's {}", "z".repeat(30));
        let file = format!("{}.jpg", stem.replace('\'', "_"));
        let mut c = catalogue(&[&file]);
        let name = format!("{stem} and more.jpg");
        assert_eq!(c.resolve(&name), hit(&file, "truncated"));
    }

    #[test]
    fn numbered_copies_without_extension() {
        assert_eq!(numbered("a.b.c", 2), "a.b(2).c");
        assert_eq!(numbered("noext", 1), "noext(1)");
    }
}
