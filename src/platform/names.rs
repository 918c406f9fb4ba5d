//! File-name parts taken from export metadata (platforms.md §2.3).
//!
//! Conversation, chat and channel names become name parts with
//! [`sanitize`]: the result only holds letters, digits, `_` and `-`, so a
//! name from an export can never contain a path separator or escape its
//! output folder.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Returns `text` as a file-name part of at most `max` characters.
///
/// NFKD with combining marks removed, whitespace as `_`, only ASCII and
/// non-ASCII letters and digits plus `_` and `-` kept, lower-cased, runs of
/// `_` and of `-` collapsed, `_`/`-` trimmed at both ends (again after the
/// cut); `unknown` when nothing is left.
pub(crate) fn sanitize(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        let c = if c.is_whitespace() { '_' } else { c };
        if !(c.is_alphanumeric() || c == '_' || c == '-') {
            continue;
        }
        for lower in c.to_lowercase() {
            let repeat = matches!(lower, '_' | '-') && out.ends_with(lower);
            if !repeat {
                out.push(lower);
            }
        }
    }
    let cut: String = trim(&out).chars().take(max).collect();
    let cut = trim(&cut);
    if cut.is_empty() {
        "unknown".to_string()
    } else {
        cut.to_string()
    }
}

/// Strips `_` and `-` at both ends.
fn trim(text: &str) -> &str {
    text.trim_matches(['_', '-'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_of_the_spec() {
        let cases = [
            ("Group: Friends & Family!", "group_friends_family"),
            ("+1 (404) 555-1234", "1_404_555-1234"),
            ("Émile Zola", "emile_zola"),
            ("日本語チャット", "日本語チャット"),
            ("🎉🎉", "unknown"),
            ("", "unknown"),
            ("a  --  b", "a_-_b"),
            ("../../etc/passwd", "etcpasswd"),
            ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
            ("tab\tand\nnewline", "tab_and_newline"),
        ];
        for (text, want) in cases {
            assert_eq!(sanitize(text, 50), want, "{text:?}");
        }
    }

    #[test]
    fn the_cut_is_trimmed_again() {
        assert_eq!(sanitize("abc_def", 4), "abc");
        assert_eq!(sanitize(&"x".repeat(80), 50).len(), 50);
        assert_eq!(sanitize("ab-_-cd", 30), "ab-_-cd");
    }
}
