//! Ties media files to sidecars within one album (platforms.md §3.4).
//!
//! The eight matchers are pure predicates over names. An index over the
//! album's metadata names picks candidates for each matcher so an album of
//! thousands of files is not compared pair by pair; the candidates are
//! then checked with the same predicates, so the hits equal those of
//! trying every pair (a test compares both).

use std::collections::HashMap;

use crate::media::kind;

/// One matcher: its `report.json` rule name, its predicate and the index
/// keys that make its hits cheap to find.
struct Matcher {
    /// Rule name of reports.md §3.1.
    name: &'static str,
    /// Whether media `m` and metadata name `s` are a hit.
    hit: fn(&Parts, &Meta) -> bool,
    /// Index keys of a metadata name; every hit shares one key with the
    /// media.
    meta_keys: fn(&Meta) -> Vec<String>,
    /// Index keys a media name looks up.
    media_keys: fn(&Parts) -> Vec<String>,
}

/// The matchers in spec order; the order decides ties (platforms.md §3.4).
const MATCHERS: [Matcher; 8] = [
    Matcher {
        name: "exact",
        hit: is_exact,
        meta_keys: |s| vec![s.parts.name.clone()],
        media_keys: |m| vec![m.name.clone()],
    },
    Matcher {
        name: "normal",
        hit: is_normal,
        meta_keys: |s| vec![normal_key(&s.parts)],
        media_keys: normal_media_keys,
    },
    Matcher {
        name: "trailing",
        hit: is_trailing,
        meta_keys: |s| vec![trailing_key(&s.parts)],
        media_keys: |m| vec![trailing_key(m)],
    },
    Matcher {
        name: "truncated",
        hit: is_truncated,
        meta_keys: |s| truncated_keys(&s.parts),
        media_keys: truncated_keys,
    },
    Matcher {
        name: "edited",
        hit: is_edited,
        meta_keys: edited_meta_keys,
        media_keys: edited_media_keys,
    },
    Matcher {
        name: "live-variant",
        hit: is_live_variant,
        meta_keys: |s| live_keys(&s.parts),
        media_keys: live_keys,
    },
    Matcher {
        name: "cut",
        hit: is_cut,
        meta_keys: |s| cut_keys(&s.parts),
        media_keys: cut_keys,
    },
    Matcher {
        name: "title",
        hit: is_title,
        meta_keys: |s| s.title.iter().cloned().collect(),
        media_keys: title_media_keys,
    },
];

/// Shortest stem both stems need for the `truncated` matcher.
const TRUNCATED_MIN: usize = 30;
/// Shortest common prefix for the `live-variant` matcher.
const LIVE_MIN: usize = 40;
/// Shortest metadata name, in UTF-16 code units, for the `cut` matcher.
const CUT_MIN_UTF16: usize = 40;

/// A file name split into the parts the matchers compare.
#[derive(Clone, Debug)]
pub(super) struct Parts {
    /// The whole name.
    pub(super) name: String,
    /// The name before its last dot (the whole name without a dot).
    stem: String,
    /// The text after the last dot, lower-cased; `None` without a dot.
    ext: Option<String>,
    /// Base stem and N when the name ends in `(N)` directly before its
    /// final extension.
    index: Option<(String, String)>,
    /// The name with its `(N)` removed, before the extension or else at
    /// the very end, and N (for the `cut` and `title` matchers).
    loose: (String, Option<String>),
}

impl Parts {
    /// Returns the parts of `name`.
    pub(super) fn new(name: &str) -> Parts {
        let (stem, ext) = match name.rsplit_once('.') {
            Some((stem, ext)) => (stem, Some(ext)),
            None => (name, None),
        };
        let index = ext.and_then(|_| trailing_index(stem)).map(own_pair);
        let loose = match (&index, ext) {
            (Some((base, n)), Some(ext)) => {
                (format!("{base}.{ext}"), Some(n.clone()))
            }
            _ => match trailing_index(name) {
                Some((head, n)) => (head.to_string(), Some(n.to_string())),
                None => (name.to_string(), None),
            },
        };
        Parts {
            name: name.to_string(),
            stem: stem.to_string(),
            ext: ext.map(str::to_ascii_lowercase),
            loose,
            index,
        }
    }

    /// Returns N when the name is indexed (`IMG(2).jpg`).
    pub(super) fn index(&self) -> Option<&str> {
        self.index.as_ref().map(|(_, n)| n.as_str())
    }
}

/// A sidecar's metadata name plus its `title` field.
#[derive(Clone, Debug)]
pub(super) struct Meta {
    /// The metadata name derived from the sidecar file name.
    parts: Parts,
    /// The sidecar's `title`, when it parsed and has one.
    title: Option<String>,
    /// Whether the metadata name has a media extension.
    is_media: bool,
}

impl Meta {
    /// Returns the matching view of metadata name `name` with `title`.
    pub(super) fn new(name: &str, title: Option<&str>) -> Meta {
        Meta {
            parts: Parts::new(name),
            title: title.map(str::to_string),
            is_media: kind::is_media_name(name),
        }
    }
}

/// The metadata names of one album, indexed for every matcher.
pub(super) struct Album<'a> {
    /// The metadata names in album (sorted sidecar) order.
    metas: &'a [Meta],
    /// (matcher position, key) → metadata positions in album order.
    index: HashMap<(usize, String), Vec<usize>>,
}

impl<'a> Album<'a> {
    /// Returns the index over `metas`, given in album order.
    pub(super) fn new(metas: &'a [Meta]) -> Album<'a> {
        let mut index: HashMap<(usize, String), Vec<usize>> = HashMap::new();
        for (pos, meta) in metas.iter().enumerate() {
            for (rule, matcher) in MATCHERS.iter().enumerate() {
                for key in (matcher.meta_keys)(meta) {
                    let slot = index.entry((rule, key)).or_default();
                    if slot.last() != Some(&pos) {
                        slot.push(pos);
                    }
                }
            }
        }
        Album { metas, index }
    }

    /// Returns the matcher that ties `media` to a metadata name and that
    /// name's position, resolved as platforms.md §3.4 says.
    pub(super) fn resolve(&self, media: &str) -> Option<(&'static str, usize)> {
        let parts = Parts::new(media);
        choose(&parts, &self.hits(&parts), self.metas)
    }

    /// Returns every (matcher, metadata position) hit for `m`, in matcher
    /// order, then album order.
    fn hits(&self, m: &Parts) -> Vec<(usize, usize)> {
        let mut hits = Vec::new();
        for (rule, matcher) in MATCHERS.iter().enumerate() {
            let mut found: Vec<usize> = (matcher.media_keys)(m)
                .into_iter()
                .filter_map(|key| self.index.get(&(rule, key)))
                .flatten()
                .copied()
                .filter(|&pos| (matcher.hit)(m, &self.metas[pos]))
                .collect();
            found.sort_unstable();
            found.dedup();
            hits.extend(found.into_iter().map(|pos| (rule, pos)));
        }
        hits
    }
}

/// Picks the winning hit: the first `exact` one; else, for media indexed
/// with N, the first whose metadata name contains `(N)`; else the first.
fn choose(
    m: &Parts,
    hits: &[(usize, usize)],
    metas: &[Meta],
) -> Option<(&'static str, usize)> {
    let with_index = m.index().and_then(|n| {
        let mark = format!("({n})");
        hits.iter().find(|(_, pos)| metas[*pos].parts.name.contains(&mark))
    });
    let exact = hits.iter().find(|(rule, _)| *rule == 0);
    let (rule, pos) = exact.or(with_index).or(hits.first())?;
    Some((MATCHERS[*rule].name, *pos))
}

/// Splits `text` ending in `(N)` into the text before it and N.
fn trailing_index(text: &str) -> Option<(&str, &str)> {
    let open = text.strip_suffix(')')?.rfind('(')?;
    let digits = text.get(open + 1..text.len() - 1)?;
    let is_number =
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    is_number.then(|| (&text[..open], digits))
}

/// Returns owned copies of a borrowed pair.
fn own_pair((a, b): (&str, &str)) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// Returns the first `count` characters of `text` (all of it if shorter).
fn first_chars(text: &str, count: usize) -> &str {
    match text.char_indices().nth(count) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Returns the number of UTF-16 code units Takeout counts for `text`.
pub(super) fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Returns the stem with trailing `-`, `_` and `.` removed.
fn trim_stem(stem: &str) -> &str {
    stem.trim_end_matches(['-', '_', '.'])
}

/// Returns the extension as an index key part (`None` and `""` differ).
fn ext_key(parts: &Parts) -> String {
    parts.ext.as_ref().map_or_else(String::new, |ext| format!(".{ext}"))
}

/// Returns whether media index `m` and metadata index `s` are compatible
/// as in the `normal` matcher: equal when both exist, and never a lone
/// metadata index.
fn is_index_compatible(m: Option<&String>, s: Option<&String>) -> bool {
    match (m, s) {
        (Some(m), Some(s)) => m == s,
        (None, Some(_)) => false,
        _ => true,
    }
}

/// Matcher 1: the names are equal.
fn is_exact(m: &Parts, s: &Meta) -> bool {
    m.name == s.parts.name
}

/// Matcher 2: equal stems, with `(N)` indices compared (platforms.md
/// §3.4; pairs `IMG.MOV` with `IMG.JPG`).
fn is_normal(m: &Parts, s: &Meta) -> bool {
    let s = &s.parts;
    match (&m.index, &s.index) {
        (Some((mb, mn)), Some((sb, sn))) => mn == sn && mb == sb,
        (Some((mb, _)), None) => *mb == s.stem,
        (None, None) => m.stem == s.stem,
        (None, Some(_)) => false,
    }
}

/// Returns the `normal` key of a metadata name.
fn normal_key(s: &Parts) -> String {
    match &s.index {
        Some((base, n)) => format!("i\0{base}\0{n}"),
        None => format!("p\0{}", s.stem),
    }
}

/// Returns the `normal` keys a media name looks up.
fn normal_media_keys(m: &Parts) -> Vec<String> {
    match &m.index {
        Some((base, n)) => {
            vec![format!("p\0{base}"), format!("i\0{base}\0{n}")]
        }
        None => vec![format!("p\0{}", m.stem)],
    }
}

/// Matcher 3: same extension, stems equal without trailing `-`, `_`, `.`.
fn is_trailing(m: &Parts, s: &Meta) -> bool {
    m.ext == s.parts.ext && trim_stem(&m.stem) == trim_stem(&s.parts.stem)
}

/// Returns the `trailing` key of a name.
fn trailing_key(parts: &Parts) -> String {
    format!("{}\0{}", ext_key(parts), trim_stem(&parts.stem))
}

/// Matcher 4: same extension, one stem starts with the other, and the
/// shorter has at least 30 characters.
fn is_truncated(m: &Parts, s: &Meta) -> bool {
    let (a, b) = (&m.stem, &s.parts.stem);
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    m.ext == s.parts.ext
        && long.starts_with(short.as_str())
        && short.chars().count() >= TRUNCATED_MIN
}

/// Returns the `truncated` key: extension plus the first 30 characters.
fn truncated_keys(parts: &Parts) -> Vec<String> {
    if parts.stem.chars().count() < TRUNCATED_MIN {
        return Vec::new();
    }
    vec![format!("{}\0{}", ext_key(parts), first_chars(&parts.stem, 30))]
}

/// Matcher 5: an unindexed media stem that extends a media metadata stem
/// after a character that is not an ASCII letter or digit (`-edited`).
fn is_edited(m: &Parts, s: &Meta) -> bool {
    let Some(extra) = m.stem.strip_prefix(s.parts.stem.as_str()) else {
        return false;
    };
    m.index.is_none()
        && s.is_media
        && extra.chars().next().is_some_and(|c| !c.is_ascii_alphanumeric())
}

/// Returns the `edited` key of a metadata name with a media extension.
fn edited_meta_keys(s: &Meta) -> Vec<String> {
    if s.is_media {
        vec![s.parts.stem.clone()]
    } else {
        Vec::new()
    }
}

/// Returns every prefix of the media stem that ends before a character
/// that is not an ASCII letter or digit.
fn edited_media_keys(m: &Parts) -> Vec<String> {
    if m.index.is_some() {
        return Vec::new();
    }
    let stem = &m.stem;
    let cuts = stem.char_indices().filter(|(_, c)| !c.is_ascii_alphanumeric());
    cuts.map(|(at, _)| stem[..at].to_string()).collect()
}

/// Matcher 6: stems of at least 40 characters sharing a prefix of at
/// least 40 characters and 95 % of the shorter stem.
fn is_live_variant(m: &Parts, s: &Meta) -> bool {
    let (a, b) = (&m.stem, &s.parts.stem);
    let shorter = a.chars().count().min(b.chars().count());
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    shorter >= LIVE_MIN && common >= LIVE_MIN && common * 100 >= shorter * 95
}

/// Returns the `live-variant` key: the first 40 characters of the stem.
fn live_keys(parts: &Parts) -> Vec<String> {
    if parts.stem.chars().count() < LIVE_MIN {
        return Vec::new();
    }
    vec![first_chars(&parts.stem, LIVE_MIN).to_string()]
}

/// Matcher 7: Takeout's 51-character sidecar cut. With indices removed
/// and compared as in `normal`, the media name extends the metadata
/// name, which has at least 40 UTF-16 code units.
fn is_cut(m: &Parts, s: &Meta) -> bool {
    let ((mb, mn), (sb, sn)) = (&m.loose, &s.parts.loose);
    is_index_compatible(mn.as_ref(), sn.as_ref())
        && mb.len() > sb.len()
        && mb.starts_with(sb.as_str())
        && utf16_len(sb) >= CUT_MIN_UTF16
}

/// Returns the `cut` key: the shortest prefix of the unindexed name that
/// holds 40 UTF-16 code units.
fn cut_keys(parts: &Parts) -> Vec<String> {
    let text = &parts.loose.0;
    let mut units = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units >= CUT_MIN_UTF16 {
            return vec![text[..at + c.len_utf8()].to_string()];
        }
    }
    Vec::new()
}

/// Matcher 8: the sidecar `title` is the media name, or its base when the
/// media is indexed and the metadata name carries the same index.
fn is_title(m: &Parts, s: &Meta) -> bool {
    let Some(title) = &s.title else { return false };
    if *title == m.name {
        return true;
    }
    m.index().is_some_and(|n| {
        s.parts.loose.1.as_deref() == Some(n) && *title == m.loose.0
    })
}

/// Returns the titles a media name looks up: itself and its base.
fn title_media_keys(m: &Parts) -> Vec<String> {
    let mut keys = vec![m.name.clone()];
    if m.index.is_some() {
        keys.push(m.loose.0.clone());
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the winning rule and metadata name for `media`.
    fn resolve(media: &str, metas: &[(&str, Option<&str>)]) -> Option<String> {
        let metas: Vec<Meta> =
            metas.iter().map(|(name, title)| Meta::new(name, *title)).collect();
        let album = Album::new(&metas);
        let (rule, pos) = album.resolve(media)?;
        Some(format!("{rule} {}", metas[pos].parts.name))
    }

    /// Returns every hit by trying every pair, the definition of §3.4.
    fn brute_hits(m: &Parts, metas: &[Meta]) -> Vec<(usize, usize)> {
        let mut hits = Vec::new();
        for (rule, matcher) in MATCHERS.iter().enumerate() {
            for (pos, s) in metas.iter().enumerate() {
                if (matcher.hit)(m, s) {
                    hits.push((rule, pos));
                }
            }
        }
        hits
    }

    #[test]
    fn names_split_into_parts() {
        let p = Parts::new("IMG(12).JPG");
        assert_eq!(p.stem, "IMG(12)");
        assert_eq!(p.ext.as_deref(), Some("jpg"));
        assert_eq!(p.index(), Some("12"));
        assert_eq!(p.loose, ("IMG.JPG".to_string(), Some("12".to_string())));
        let p = Parts::new("IMG.jpg(1)");
        assert_eq!(p.index(), None);
        assert_eq!(p.loose, ("IMG.jpg".to_string(), Some("1".to_string())));
        let p = Parts::new("Name_(494)");
        assert_eq!(p.ext, None);
        assert_eq!(p.loose.0, "Name_");
        for name in ["IMG().jpg", "IMG(a).jpg", "IMG(1)x.jpg", "(", ")"] {
            assert_eq!(Parts::new(name).index(), None, "{name}");
        }
    }

    #[test]
    fn each_matcher_fires_on_its_example() {
        // `#` stands for a 46-character name start, `@` for 30 `a`s.
        let cases = [
            ("a.jpg", "a.jpg", None, "exact"),
            ("IMG.MOV", "IMG.JPG", None, "normal"),
            ("x(2).jpg", "x(2).png", None, "normal"),
            ("x(2).jpg", "x.png", None, "normal"),
            ("IMG_1-.jpg", "IMG_1_.JPG", None, "trailing"),
            ("@aaaaa.jpg", "@.JPG", None, "truncated"),
            ("P.PORTRAIT-edited.jpg", "P.PORTRAIT.jpg", None, "edited"),
            ("#_COVER.jpg", "#_COVR.mp4", None, "live-variant"),
            ("#_TOP.jpg", "#_T", None, "cut"),
            ("ü.jpg", "u.jpg", Some("ü.jpg"), "title"),
            ("ü(3).jpg", "u(3)", Some("ü.jpg"), "title"),
        ];
        let long = "PXL_20210927_031817497_00030.PORTRAIT.ORIGINAL";
        let expand =
            |s: &str| s.replace('#', long).replace('@', &"a".repeat(30));
        for (media, meta, title, rule) in cases {
            let (media, meta) = (expand(media), expand(meta));
            let got = resolve(&media, &[(&meta, title)]);
            assert_eq!(got, Some(format!("{rule} {meta}")), "{media}");
        }
    }

    #[test]
    fn near_misses_do_not_match() {
        let cases: Vec<(&str, &str)> = vec![
            ("IMG_12345.jpg", "IMG_1234.jpg"),
            ("IMG.jpg", "IMG(1).jpg"),
            ("IMG(1).jpg", "IMG(2).jpg"),
            (
                "short_name_with_29_chars_abcd.jpg",
                "short_name_with_29_chars_abc.jpg",
            ),
            ("x-edited.jpg", "x.json"),
        ];
        for (media, meta) in cases {
            assert_eq!(
                resolve(media, &[(meta, None)]),
                None,
                "{media} ~ {meta}"
            );
        }
    }

    #[test]
    fn ties_prefer_exact_then_the_media_index() {
        let metas = [("IMG.jpg", None), ("IMG.jpg(1)", None)];
        assert_eq!(
            resolve("IMG.jpg", &metas).as_deref(),
            Some("exact IMG.jpg")
        );
        assert_eq!(
            resolve("IMG(1).jpg", &metas).as_deref(),
            Some("normal IMG.jpg(1)")
        );
        let metas = [("IMG.png", None), ("IMG.jpg", None)];
        assert_eq!(
            resolve("IMG.mov", &metas).as_deref(),
            Some("normal IMG.png")
        );
    }

    #[test]
    fn cut_counts_utf16_and_keeps_indices_apart() {
        let media = format!("{}_party_photo.jpg", "🎉".repeat(22));
        let meta = format!("{}_p", "🎉".repeat(22));
        assert!(meta.chars().count() < 40 && utf16_len(&meta) == 46);
        let want = format!("cut {meta}");
        assert_eq!(resolve(&media, &[(&meta, None)]), Some(want));
        let stem = "A_rather_long_screenshot_name_from_an_app_";
        let media = format!("{stem}maps(494).jpg");
        let meta = format!("{stem}(494)");
        assert_eq!(
            resolve(&media, &[(&meta, None)]),
            Some(format!("cut {meta}"))
        );
        let other = format!("{stem}(495)");
        assert_eq!(resolve(&media, &[(&other, None)]), None);
        assert_eq!(resolve(&format!("{stem}maps.jpg"), &[(&meta, None)]), None);
    }

    #[test]
    fn index_gives_the_same_hits_as_every_pair() {
        let long = "PXL_20210927_031817497_00030.PORTRAIT.ORIGINAL_BURST";
        let plain = "IMG.jpg|IMG.JPG|IMG(1).jpg|IMG.jpg(1)|IMG(2).HEIC|\
            IMG-edited.jpg|IMG_.jpg|IMG.mov|IMG|IMG(1)|x.y.z|é.jpg|\
            é-bearbeitet.jpg|a b (3).png|a b .png|IMG_1234.jpg|IMG_12345.jpg";
        let mut names: Vec<String> =
            plain.split('|').map(str::to_string).collect();
        for tail in
            ["", "_COVER_TOP.jpg", "_C", "_C(2)", "_COVER(2).jpg", ".jpg"]
        {
            names.push(format!("{long}{tail}"));
            names.push(format!("{}{tail}", "🎉".repeat(21)));
        }
        let metas: Vec<Meta> =
            names.iter().map(|n| Meta::new(n, Some(n.as_str()))).collect();
        let album = Album::new(&metas);
        for name in &names {
            let m = Parts::new(name);
            assert_eq!(album.hits(&m), brute_hits(&m, &metas), "{name}");
        }
    }
}
