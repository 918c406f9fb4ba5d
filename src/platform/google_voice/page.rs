//! Parsing one Google Voice conversation page (platforms.md §5.3): its
//! title, its participants and the messages that reference media, with
//! their timestamps, senders, texts and references.
//!
//! Naming conversations and matching references belong to the callers;
//! this module only reads the DOM.

use anyhow::Context;
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;
use tl::{HTMLTag, Node, Parser, ParserOptions};

use super::html;
use crate::plan::When;

/// The sender text that stands for the export's owner.
pub(super) const ME: &str = "Me";

/// What one conversation page holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Page {
    /// The `<title>` text.
    pub(super) title: String,
    /// Senders listed in `div.participants` (group pages), page order.
    pub(super) participants: Vec<String>,
    /// Messages with at least one media reference, page order.
    pub(super) messages: Vec<Message>,
}

/// One `div.message` that references media.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Message {
    /// Position among all `div.message` elements of the page, from 0.
    pub(super) index: usize,
    /// The `title` of its `abbr.dt`, if any.
    pub(super) timestamp: Option<String>,
    /// The sender as the page shows it (`Me` included); empty when the
    /// page names none.
    pub(super) sender: String,
    /// The message text (its `q` elements); empty when it has none.
    pub(super) text: String,
    /// Media references in document order, each once.
    pub(super) refs: Vec<String>,
}

/// Returns the page in `source`.
///
/// Errors only when `tl` refuses the input (more than 4 GiB); malformed
/// markup parses into whatever structure `tl` recovers.
pub(super) fn parse(source: &str) -> anyhow::Result<Page> {
    let dom = tl::parse(source, ParserOptions::default())
        .context("failed to parse the page as HTML")?;
    let parser = dom.parser();
    let tags = || dom.nodes().iter().filter_map(Node::as_tag);
    let title = tags()
        .find(|t| html::matches(t, "title"))
        .map(|t| html::text(t, parser))
        .unwrap_or_default();
    let participants = tags()
        .filter(|t| html::matches(t, "div.participants"))
        .flat_map(|div| html::find_all(div, parser, "cite.sender"))
        .map(|cite| sender(cite, parser))
        .filter(|name| !name.is_empty())
        .collect();
    let messages = tags()
        .filter(|t| html::matches(t, "div.message"))
        .enumerate()
        .filter_map(|(index, div)| message(index, div, parser))
        .collect();
    Ok(Page { title, participants, messages })
}

/// Returns the message in `div`, or `None` when it references no media
/// (such messages are ignored, §5.3).
fn message(index: usize, div: &HTMLTag, parser: &Parser) -> Option<Message> {
    let refs = references(div, parser);
    if refs.is_empty() {
        return None;
    }
    let timestamp = html::first(div, parser, "abbr.dt")
        .and_then(|abbr| html::attr(abbr, "title"));
    let sender = html::first(div, parser, "cite.sender")
        .map(|cite| sender(cite, parser))
        .unwrap_or_default();
    let texts: Vec<String> = html::find_all(div, parser, "q")
        .map(|q| html::text(q, parser))
        .filter(|text| !text.is_empty())
        .collect();
    Some(Message { index, timestamp, sender, text: texts.join("\n"), refs })
}

/// Returns the name in a `cite.sender`: the text of its `.fn`, else the
/// number of its `a.tel` (`tel:+15551234567` → `+15551234567`).
fn sender(cite: &HTMLTag, parser: &Parser) -> String {
    let name = html::first(cite, parser, ".fn")
        .map(|fn_tag| html::text(fn_tag, parser))
        .unwrap_or_default();
    if !name.is_empty() {
        return name;
    }
    let href = html::first(cite, parser, "a.tel")
        .and_then(|a| html::attr(a, "href"))
        .unwrap_or_default();
    let is_tel = href.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("tel:"));
    let number = if is_tel { href.get(4..) } else { None };
    number.unwrap_or(&href).trim().to_string()
}

/// Returns the media references inside `div`: the `src` of every `img`,
/// `video` and `audio` element and the `href` of every `a.video` and
/// `a.audio` element, in document order. A reference repeated within the
/// message (a player and its download link) counts once.
fn references(div: &HTMLTag, parser: &Parser) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    for value in html::descendants(div, parser).filter_map(reference) {
        if !value.is_empty() && !refs.contains(&value) {
            refs.push(value);
        }
    }
    refs
}

/// Returns the media reference `tag` carries, if it is an element that
/// carries one.
fn reference(tag: &HTMLTag) -> Option<String> {
    if ["img", "video", "audio"].iter().any(|s| html::matches(tag, s)) {
        html::attr(tag, "src")
    } else if ["a.video", "a.audio"].iter().any(|s| html::matches(tag, s)) {
        html::attr(tag, "href")
    } else {
        None
    }
}

/// Returns the capture time in an `abbr.dt` title
/// (`2016-05-18T11:00:23.648-04:00`), or `None` when it is no date.
///
/// Fractional seconds are dropped. A non-zero offset is a platform offset
/// and kept; `Z` or a zero offset only says how the page was rendered
/// (metadata.md §2.1). A value without `T` is no date (§5.3); one without
/// any offset is a bare wall-clock time.
pub(super) fn capture(value: &str) -> Option<When> {
    if !value.contains('T') {
        return None;
    }
    let pieces = Pieces::parse(value.trim()).ok()?;
    let time = pieces.time()?;
    let time = time.with().subsec_nanosecond(0).build().ok()?;
    let wall = pieces.date().to_datetime(time);
    let Some(offset) = pieces.to_numeric_offset() else {
        return Some(When::Wall(wall));
    };
    let instant = offset.to_timestamp(wall).ok()?;
    if offset == Offset::UTC {
        Some(When::Instant(instant))
    } else {
        Some(When::Offset(instant, offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_platform_offsets() {
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let off = |h: i8, m: i8| {
            Offset::from_seconds(i32::from(h) * 3600 + i32::from(m) * 60)
                .unwrap()
        };
        let cases = [
            (
                "2016-05-18T11:00:23.648-04:00",
                Some(When::Offset(at("2016-05-18T15:00:23Z"), off(-4, 0))),
            ),
            (
                "2016-05-18T20:30:23+05:30",
                Some(When::Offset(at("2016-05-18T15:00:23Z"), off(5, 30))),
            ),
            (
                "2016-05-18T15:00:23.999Z",
                Some(When::Instant(at("2016-05-18T15:00:23Z"))),
            ),
            (
                "2016-05-18T15:00:23+00:00",
                Some(When::Instant(at("2016-05-18T15:00:23Z"))),
            ),
            (
                "1969-12-31T23:59:59.5-01:00",
                Some(When::Offset(at("1970-01-01T00:59:59Z"), off(-1, 0))),
            ),
            (
                "2016-05-18T11:00:23",
                Some(When::Wall("2016-05-18T11:00:23".parse().unwrap())),
            ),
            ("2016-05-18 11:00:23-04:00", None),
            ("2016-05-18", None),
            ("May 18, 2016", None),
            ("2016-13-18T11:00:23-04:00", None),
            ("2016-05-18T11:00:23-04:00 trailing", None),
            ("T", None),
            ("", None),
        ];
        for (value, want) in cases {
            assert_eq!(capture(value), want, "{value:?}");
        }
    }
}
