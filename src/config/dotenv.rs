//! The `.env` file syntax of cli.md §3 (dotenv conventions).
//!
//! Pure text parsing: no file access and no environment. `env` decides
//! which file is read, reports skipped lines and applies precedence.

/// What one `.env` text holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Parsed {
    /// `KEY`, `VALUE` pairs in file order (a later duplicate wins).
    pub(super) entries: Vec<(String, String)>,
    /// 1-based numbers of the lines skipped for lacking `=` or a name.
    pub(super) skipped: Vec<usize>,
}

/// Parses `.env` text: one `KEY=VALUE` per line, `#` comments, blank
/// lines, an optional `export ` prefix, quotes and trailing comments.
pub(super) fn parse(text: &str) -> Parsed {
    // Editors on Windows may start UTF-8 files with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parsed = Parsed::default();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match entry(line) {
            Some(pair) => parsed.entries.push(pair),
            None => parsed.skipped.push(index + 1),
        }
    }
    parsed
}

/// Splits a trimmed, non-comment line at its first `=`.
fn entry(line: &str) -> Option<(String, String)> {
    let (key, raw) = strip_export(line).split_once('=')?;
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    Some((key.to_string(), value(raw)))
}

/// Removes a leading `export ` unless `export` is itself the key.
fn strip_export(line: &str) -> &str {
    match line.strip_prefix("export") {
        Some(rest)
            if rest.starts_with([' ', '\t'])
                && !rest.trim_start().starts_with('=') =>
        {
            rest.trim_start()
        }
        _ => line,
    }
}

/// Returns the value text after `=`: quoted values lose their quotes,
/// unquoted ones end at a ` #` comment; both are trimmed outside quotes.
fn value(raw: &str) -> String {
    let text = raw.trim();
    if let Some(inner) = quoted(text) {
        return inner.to_string();
    }
    let end = comment_start(raw).unwrap_or(raw.len());
    raw.get(..end).unwrap_or(raw).trim().to_string()
}

/// Returns the inside of a quoted value: the text up to the first
/// matching quote when only a comment follows it, else the whole value
/// between its outer quotes when both ends are the same quote.
fn quoted(text: &str) -> Option<&str> {
    let quote = text.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    // The quote is one ASCII byte, so these slices are on char boundaries.
    let rest = text.get(1..)?;
    if let Some(close) = rest.find(quote) {
        let after = rest.get(close + 1..)?.trim_start();
        if after.is_empty() || after.starts_with('#') {
            return rest.get(..close);
        }
    }
    rest.strip_suffix(quote)
}

/// Returns where a comment starts in an unquoted value: a `#` after
/// whitespace.
fn comment_start(raw: &str) -> Option<usize> {
    let mut after_space = false;
    for (index, c) in raw.char_indices() {
        if c == '#' && after_space {
            return Some(index);
        }
        after_space = c.is_whitespace();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a one-line file and returns its single entry.
    fn one(line: &str) -> Option<(String, String)> {
        let parsed = parse(line);
        assert!(parsed.entries.len() <= 1, "{line}");
        parsed.entries.into_iter().next()
    }

    #[test]
    fn every_syntax_rule_applies() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("A=1", Some(("A", "1"))),
            ("  A = 1  ", Some(("A", "1"))),
            ("A=  spaced value  ", Some(("A", "spaced value"))),
            ("# A=1", None),
            ("   # indented comment", None),
            ("", None),
            ("   ", None),
            ("export A=1", Some(("A", "1"))),
            ("export \t A=1", Some(("A", "1"))),
            ("exportA=1", Some(("exportA", "1"))),
            ("export=1", Some(("export", "1"))),
            ("export = 1", Some(("export", "1"))),
            ("A=b=c", Some(("A", "b=c"))),
            ("A=", Some(("A", ""))),
            ("A=\"x y\"", Some(("A", "x y"))),
            ("A=' x y '", Some(("A", " x y "))),
            ("A='x # y'", Some(("A", "x # y"))),
            ("A=\"x\" # comment", Some(("A", "x"))),
            ("A=\"x\"# comment", Some(("A", "x"))),
            ("A=\"\"", Some(("A", ""))),
            ("A=''", Some(("A", ""))),
            ("A=\"say \"hi\"\"", Some(("A", "say \"hi\""))),
            ("A=\"unclosed", Some(("A", "\"unclosed"))),
            ("A=\"mixed'", Some(("A", "\"mixed'"))),
            ("A=\"", Some(("A", "\""))),
            ("A=x # comment", Some(("A", "x"))),
            ("A=x\t# comment", Some(("A", "x"))),
            ("A=x#not-a-comment", Some(("A", "x#not-a-comment"))),
            ("A=#not-a-comment", Some(("A", "#not-a-comment"))),
            ("A= # only a comment", Some(("A", ""))),
            ("A=https://h/p?q=1#frag", Some(("A", "https://h/p?q=1#frag"))),
            ("A=caf\u{e9} # \u{e9}", Some(("A", "caf\u{e9}"))),
            ("KEY WITH SPACE=1", Some(("KEY WITH SPACE", "1"))),
        ];
        for (line, want) in cases {
            let want = want.map(|(k, v)| (k.to_string(), v.to_string()));
            assert_eq!(one(line), want, "{line:?}");
        }
    }

    #[test]
    fn lines_without_equals_or_name_are_skipped_by_number() {
        let text = "A=1\nno equals here\n\n# c\n=value\nB=2\nexport C\n";
        let parsed = parse(text);
        assert_eq!(parsed.skipped, [2, 5, 7]);
        let keys: Vec<_> =
            parsed.entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["A", "B"]);
    }

    #[test]
    fn crlf_bom_and_duplicates_are_kept_in_order() {
        let parsed = parse("\u{feff}A=1\r\nB='2'\r\nA=3\r\n");
        let want = [("A", "1"), ("B", "2"), ("A", "3")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(parsed.entries, want);
        assert!(parsed.skipped.is_empty());
    }
}
