//! Reading `html/memories_history.html` (platforms.md §9b.3), the list of
//! memories as a web page, into the same fields as the JSON list.
//!
//! Every `<tr>` with a cell holding a date is an entry; its other cells
//! are recognised by content, not position, so older pages without a
//! Location column read the same way. The link is the first argument of
//! a `downloadMemories('…')` call in an `onclick` or `href` attribute.

use anyhow::Context;
use tl::{HTMLTag, Node, Parser, ParserOptions};

use super::list::{self, Fields};
use crate::platform::google_voice::html;

/// The start of the call that carries a memory's link.
const CALL: &str = "downloadMemories(";
/// The start of a location cell.
const LOCATION: &str = "Latitude, Longitude:";

/// Returns the fields of every entry row of the page `source`, in page
/// order.
///
/// Errors only when `tl` refuses the input (more than 4 GiB); malformed
/// markup parses into whatever rows `tl` recovers.
pub(super) fn rows(source: &str) -> anyhow::Result<Vec<Fields>> {
    let dom = tl::parse(source, ParserOptions::default())
        .context("failed to parse the page as HTML")?;
    let parser = dom.parser();
    Ok(dom
        .nodes()
        .iter()
        .filter_map(Node::as_tag)
        .filter(|tag| html::matches(tag, "tr"))
        .filter_map(|tr| row(tr, parser))
        .collect())
}

/// Returns the fields of row `tr`, or `None` when no cell holds a date
/// (the header row).
fn row(tr: &HTMLTag, parser: &Parser) -> Option<Fields> {
    let cells: Vec<String> = html::find_all(tr, parser, "td")
        .map(|td| html::text(td, parser))
        .collect();
    let date = cells.iter().find(|c| is_date(c))?;
    let find = |test: fn(&str) -> bool| {
        list::present(cells.iter().map(String::as_str).find(|c| test(c)))
    };
    let (get, post) = match link(tr, parser) {
        Some(Call { url, get: true }) => (Some(url), None),
        Some(Call { url, get: false }) => (None, Some(url)),
        None => (None, None),
    };
    Some(Fields {
        date: Some(date.clone()),
        media_type: find(|c| list::class(c).is_some()),
        location: find(|c| c.starts_with(LOCATION)),
        get,
        post,
    })
}

/// Returns whether `cell` has the shape of a `Date` value,
/// `YYYY-MM-DD HH:MM:SS UTC` (a date that does not exist still makes
/// its row an entry, one without date).
fn is_date(cell: &str) -> bool {
    let Some(civil) = cell.strip_suffix(" UTC") else { return false };
    let civil = civil.split('.').next().unwrap_or(civil);
    civil.len() == 19
        && civil.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b' ',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        })
}

/// A link taken from a `downloadMemories` call.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Call {
    /// The first argument, entities decoded.
    pub(super) url: String,
    /// Whether the third argument is `true` (a GET link).
    pub(super) get: bool,
}

/// Returns the first call in an `onclick` or `href` attribute of `tr` or
/// of an element inside it.
fn link(tr: &HTMLTag, parser: &Parser) -> Option<Call> {
    std::iter::once(tr).chain(html::descendants(tr, parser)).find_map(|tag| {
        ["onclick", "href"]
            .iter()
            .find_map(|key| html::attr(tag, key).and_then(|v| call(&v)))
    })
}

/// Returns the call in attribute value `value` (already decoded), or
/// `None` when it has none or its first argument is empty.
pub(super) fn call(value: &str) -> Option<Call> {
    let (_, rest) = value.split_once(CALL)?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let (url, tail) = rest.get(1..)?.split_once(quote)?;
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let args = tail.split(')').next().unwrap_or(tail);
    let third = args.split(',').nth(2).map(str::trim);
    Some(Call { url: url.to_string(), get: third == Some("true") })
}
