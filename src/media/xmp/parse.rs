//! The XMP reader: the few properties memoria needs from its own
//! sidecars and from other writers' packets (a GIF's XMP), found by a
//! small hand-written scanner rather than a full XML parser.

use jiff::civil::DateTime;
use jiff::tz::Offset;

use crate::media::model::{Existing, ExistingDate, Gps};

/// Returns what an XMP packet holds: `exif:DateTimeOriginal`, the GPS
/// position and `dc:description` (metadata.md §5).
///
/// Reads memoria's own layout and the common variants of other writers:
/// properties as attributes or as elements, a description as an
/// `rdf:Alt` list (the `x-default` item, else the first) or plain text.
/// Values that do not parse count as absent. Namespace prefixes must be
/// the usual `exif`, `dc` and `rdf`.
pub(crate) fn read(xml: &str) -> Existing {
    let date = property(xml, "exif:DateTimeOriginal")
        .and_then(|v| parse_date(&unescape(&v)));
    Existing { date, gps: read_gps(xml), description: read_description(xml) }
}

/// Reads the GPS position; both coordinates must parse and not both be 0.
fn read_gps(xml: &str) -> Option<Gps> {
    let value = |name| property(xml, name).map(|v| unescape(&v));
    let latitude = parse_coordinate(&value("exif:GPSLatitude")?, 'N', 'S')?;
    let longitude = parse_coordinate(&value("exif:GPSLongitude")?, 'E', 'W')?;
    let below = value("exif:GPSAltitudeRef").is_some_and(|r| r.trim() == "1");
    let altitude = value("exif:GPSAltitude")
        .and_then(|v| parse_rational(&v))
        .map(|a| if below { -a } else { a });
    let gps = Gps { latitude, longitude, altitude };
    gps.is_valid().then_some(gps)
}

/// Reads `dc:description`: the `x-default` (else first) `rdf:li` of its
/// list, or its plain value; trimmed, `None` when empty.
fn read_description(xml: &str) -> Option<String> {
    let raw = property(xml, "dc:description")?;
    let items = elements(&raw, "rdf:li");
    let chosen = items
        .iter()
        .find(|(attrs, _)| attrs.contains("x-default"))
        .or(items.first())
        .map(|(_, inner)| inner.as_str());
    let text = match chosen {
        Some(inner) => unescape(inner),
        None if raw.contains('<') => return None,
        None => unescape(&raw),
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Returns the raw value of property `name`: the content of its first
/// element, else the value of its first attribute. Entities are left
/// escaped.
fn property(xml: &str, name: &str) -> Option<String> {
    if let Some((_, inner)) = elements(xml, name).into_iter().next() {
        return Some(inner);
    }
    attribute(xml, name)
}

/// Returns the start-tag attributes and the content of every `<name>`
/// element in `xml` (empty elements have empty content).
fn elements(xml: &str, name: &str) -> Vec<(String, String)> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        rest = after;
        // `<exif:GPSLatitudeRef` is not `<exif:GPSLatitude`.
        if !after.starts_with(|c: char| c == '>' || c == '/' || is_space(c)) {
            continue;
        }
        let Some(end) = after.find('>') else { break };
        let attrs = &after[..end];
        if attrs.ends_with('/') {
            found.push((attrs.to_string(), String::new()));
            rest = &after[end + 1..];
            continue;
        }
        let body = &after[end + 1..];
        let Some(stop) = body.find(&close) else { break };
        found.push((attrs.to_string(), body[..stop].to_string()));
        rest = &body[stop + close.len()..];
    }
    found
}

/// Returns the value of the first attribute `name="…"` (or `'…'`).
fn attribute(xml: &str, name: &str) -> Option<String> {
    let mut rest = xml;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].trim_start_matches(is_space);
        rest = &rest[at + name.len()..];
        if !before.is_some_and(is_space) {
            continue;
        }
        let Some(after) = after.strip_prefix('=') else { continue };
        let after = after.trim_start_matches(is_space);
        let Some(quote) =
            after.chars().next().filter(|&q| q == '"' || q == '\'')
        else {
            continue;
        };
        let value = &after[1..];
        return value.find(quote).map(|end| value[..end].to_string());
    }
    None
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Replaces the predefined entities and character references; anything
/// unknown is kept as written. CDATA sections are unwrapped.
pub(super) fn unescape(text: &str) -> String {
    let text = text.replace("<![CDATA[", "").replace("]]>", "");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest
            .find(';')
            .and_then(|end| Some((entity(rest.get(1..end)?)?, end + 1)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes one entity name (`amp`, `#38`, `#x26`).
fn entity(name: &str) -> Option<char> {
    let code = match name {
        "amp" => return Some('&'),
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "quot" => return Some('"'),
        "apos" => return Some('\''),
        _ => name.strip_prefix('#')?,
    };
    let number = match code.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => code.parse().ok()?,
    };
    char::from_u32(number)
}

/// Parses an XMP date (`YYYY-MM-DD[Thh:mm[:ss[.f]]][Z|±hh:mm]`); a date
/// starting with `0000` is absent (metadata.md §5).
pub(super) fn parse_date(text: &str) -> Option<ExistingDate> {
    let text = text.trim();
    if text.is_empty() || text.starts_with("0000") {
        return None;
    }
    let (clock, offset) = split_offset(text)?;
    let local = if clock.len() == 10 {
        format!("{clock}T00:00:00").parse::<DateTime>().ok()?
    } else {
        clock.parse::<DateTime>().ok()?
    };
    // Whole seconds, as everywhere in memoria (metadata.md §2.1).
    let local = local.with().subsec_nanosecond(0).build().ok()?;
    Some(ExistingDate::Local { local, offset })
}

/// Splits a trailing `Z` or `±hh:mm` (or `±hhmm`) from a date-time.
fn split_offset(text: &str) -> Option<(&str, Option<Offset>)> {
    if let Some(clock) = text.strip_suffix(['Z', 'z']) {
        return Some((clock, Some(Offset::UTC)));
    }
    // The offset sign comes after the `T`; a `-` before it is the date's.
    let Some(t) = text.find('T') else { return Some((text, None)) };
    let Some(at) = text[t..].rfind(['+', '-']).map(|i| t + i) else {
        return Some((text, None));
    };
    let digits: String =
        text[at + 1..].chars().filter(|c| c.is_ascii_digit()).collect();
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    let sign = if text[at..].starts_with('-') { -1 } else { 1 };
    let secs = sign * (h * 3600 + m * 60);
    Some((&text[..at], Some(Offset::from_seconds(secs).ok()?)))
}

/// Parses an XMP GPS coordinate `D,M.mH` or `D,M,SH` into signed decimal
/// degrees; `pos`/`neg` are the hemisphere letters.
pub(super) fn parse_coordinate(
    text: &str,
    pos: char,
    neg: char,
) -> Option<f64> {
    let text = text.trim();
    let hemisphere = text.chars().next_back()?.to_ascii_uppercase();
    let sign = match hemisphere {
        c if c == pos => 1.0,
        c if c == neg => -1.0,
        _ => return None,
    };
    // The hemisphere letter is ASCII, so this cut is on a char boundary.
    let body = text.get(..text.len() - 1)?;
    let parts: Vec<f64> = body
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let value = match parts[..] {
        [d, m] => d + m / 60.0,
        [d, m, s] => d + m / 60.0 + s / 3600.0,
        _ => return None,
    };
    value.is_finite().then_some(sign * value)
}

/// Parses `n/d` (or a plain number) into a finite float.
fn parse_rational(text: &str) -> Option<f64> {
    let text = text.trim();
    let value = match text.split_once('/') {
        Some((n, d)) => {
            n.trim().parse::<f64>().ok()? / d.trim().parse::<f64>().ok()?
        }
        None => text.parse::<f64>().ok()?,
    };
    value.is_finite().then_some(value)
}
