//! DOM helpers for Google Voice pages parsed by `tl`: element tests on tag
//! names and class tokens, attribute values and visible text. Snapchat's
//! `memories_history.html` (platforms.md §9b.3) is read with them too.
//!
//! `tl` returns text and attribute values as they stand in the source, so
//! HTML entities are decoded here (platforms.md §5.3: the page is read as
//! a DOM, whose text has no entities left).

use tl::{HTMLTag, Node, Parser};

/// Longest entity looked at, `&` and `;` included (`&#x10FFFF;`).
const ENTITY_MAX: usize = 10;

/// Returns whether `tag` fits the simple selector `selector`: `name`,
/// `.class` or `name.class`. Tag names compare case-insensitively; the
/// class must be one of the element's class tokens.
///
/// `tl` names a self-closing tag without attributes `br/`; the slash is
/// not part of the name.
pub(in crate::platform) fn matches(tag: &HTMLTag, selector: &str) -> bool {
    let (name, class) = selector.split_once('.').unwrap_or((selector, ""));
    let raw = tag.name().as_utf8_str();
    let tag_name = raw.strip_suffix('/').unwrap_or(&raw);
    let name_fits = name.is_empty() || tag_name.eq_ignore_ascii_case(name);
    name_fits && (class.is_empty() || tag.attributes().is_class_member(class))
}

/// Returns the elements inside `tag`, at any depth, in document order.
pub(in crate::platform) fn descendants<'p, 'a>(
    tag: &'p HTMLTag<'a>,
    parser: &'p Parser<'a>,
) -> impl Iterator<Item = &'p HTMLTag<'a>> {
    tag.children().all(parser).iter().filter_map(Node::as_tag)
}

/// Returns the elements inside `tag` that fit `selector`.
pub(in crate::platform) fn find_all<'p, 'a>(
    tag: &'p HTMLTag<'a>,
    parser: &'p Parser<'a>,
    selector: &'p str,
) -> impl Iterator<Item = &'p HTMLTag<'a>> {
    descendants(tag, parser).filter(move |t| matches(t, selector))
}

/// Returns the first element inside `tag` that fits `selector`.
pub(in crate::platform) fn first<'p, 'a>(
    tag: &'p HTMLTag<'a>,
    parser: &'p Parser<'a>,
    selector: &str,
) -> Option<&'p HTMLTag<'a>> {
    descendants(tag, parser).find(|t| matches(t, selector))
}

/// Returns the value of attribute `key` (any case) with entities decoded
/// and surrounding white space removed; `None` when the attribute is
/// missing or has no value.
pub(in crate::platform) fn attr(tag: &HTMLTag, key: &str) -> Option<String> {
    let mut all = tag.attributes().iter();
    let (_, value) = all.find(|(k, _)| k.eq_ignore_ascii_case(key))?;
    Some(decode(&value?).trim().to_string())
}

/// Returns the text inside `tag` as a browser shows it: entities decoded,
/// each run of ASCII white space as one space, `<br>` as a line break,
/// every line trimmed.
pub(in crate::platform) fn text(tag: &HTMLTag, parser: &Parser) -> String {
    let mut raw = String::new();
    for node in tag.children().all(parser) {
        match node {
            Node::Raw(bytes) => push_collapsed(&mut raw, &bytes.as_utf8_str()),
            Node::Tag(inner) if matches(inner, "br") => raw.push('\n'),
            _ => {}
        }
    }
    let lines: Vec<&str> = raw.split('\n').map(str::trim).collect();
    lines.join("\n").trim().to_string()
}

/// Appends the decoded `source` to `out` with white-space runs collapsed.
fn push_collapsed(out: &mut String, source: &str) {
    for c in decode(source).chars() {
        if !c.is_ascii_whitespace() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
}

/// Returns `text` with its character references decoded: the named ones
/// Google Voice pages use (`&amp; &lt; &gt; &quot; &apos; &nbsp;`) and
/// every decimal or hexadecimal one. Anything else stays as written.
pub(in crate::platform) fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let tail = rest.get(at..).unwrap_or_default();
        let (c, len) = entity(tail).unwrap_or(('&', 1));
        out.push(c);
        rest = tail.get(len..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Returns the character of the reference at the start of `text` (which
/// starts with `&`) and the reference's length in bytes.
fn entity(text: &str) -> Option<(char, usize)> {
    let end = text.char_indices().take(ENTITY_MAX).find(|(_, c)| *c == ';')?.0;
    let body = text.get(1..end)?;
    let c = match body {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => numeric(body.strip_prefix('#')?)?,
    };
    Some((c, end + 1))
}

/// Returns the character of a numeric reference body (`39`, `x27`).
fn numeric(body: &str) -> Option<char> {
    let (digits, radix) = match body.strip_prefix(['x', 'X']) {
        Some(hex) => (hex, 16),
        None => (body, 10),
    };
    let valid = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    let code = u32::from_str_radix(digits, radix).ok().filter(|_| valid)?;
    char::from_u32(code).filter(|&c| c != '\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_decoded_once() {
        let cases = [
            ("Tom &amp; Jerry", "Tom & Jerry"),
            ("&lt;b&gt; &quot;x&quot; &#39;y&#39; &apos;", "<b> \"x\" 'y' '"),
            ("&#233;mile &#xE9;&#XE9;", "émile éé"),
            ("&amp;lt;", "&lt;"),
            (
                "a & b &c; &#; &#x; &#-1; &#0; &#xD800; &#12a;",
                "a & b &c; &#; &#x; &#-1; &#0; &#xD800; &#12a;",
            ),
            (
                "&#1114112; &#x110000; &#99999999999;",
                "&#1114112; &#x110000; &#99999999999;",
            ),
            ("no end &amp", "no end &amp"),
            ("&nbsp;", "\u{a0}"),
            ("ü&amp;", "ü&"),
            ("&", "&"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(decode(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn text_collapses_space_and_keeps_line_breaks() {
        let html =
            "<q>  Hello \n  <b>big</b>\tworld<br/> second&amp;\n line </q>";
        let dom = tl::parse(html, tl::ParserOptions::default()).unwrap();
        let q = dom.nodes().iter().find_map(Node::as_tag).unwrap();
        assert_eq!(text(q, dom.parser()), "Hello big world\nsecond& line");
    }

    #[test]
    fn selectors_test_names_and_class_tokens() {
        let html = r#"<DIV class="message  foo"><img SRC=" a&amp;b "></DIV>"#;
        let dom = tl::parse(html, tl::ParserOptions::default()).unwrap();
        let div = dom.nodes().iter().find_map(Node::as_tag).unwrap();
        assert!(matches(div, "div.message") && matches(div, ".foo"));
        assert!(matches(div, "div") && !matches(div, "div.mess"));
        let img = first(div, dom.parser(), "img").unwrap();
        assert_eq!(attr(img, "src").as_deref(), Some("a&b"));
        assert_eq!(attr(img, "href"), None);
    }
}
