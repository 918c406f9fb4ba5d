//! XMP sidecars: the fixed, reproducible layout memoria writes beside
//! media that cannot carry metadata in-file, and a small reader for it
//! (metadata.md §7). The reader also serves a GIF's own XMP packet.
//!
//! Pure text in, text out; `media::write` decides when and where a
//! sidecar goes. No XML crate: the layout is fixed and the reader
//! (`parse`) only needs a handful of properties.

mod parse;
#[cfg(test)]
mod tests;

use crate::media::model::{DescriptionPolicy, Existing, Gps, Metadata, Stamp};

pub(crate) use parse::read;

/// The packet header; `begin` holds U+FEFF as XMP requires.
const HEADER: &str = "<?xpacket begin=\"\u{feff}\" \
id=\"W5M0MpCehiHzreSzNTczkc9d\"?>
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">
  <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">
    <rdf:Description rdf:about=\"\"
        xmlns:dc=\"http://purl.org/dc/elements/1.1/\"
        xmlns:exif=\"http://ns.adobe.com/exif/1.0/\"
        xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"";

/// Everything after the `rdf:Description` element.
const FOOTER: &str = "  </rdf:RDF>
</x:xmpmeta>
<?xpacket end=\"w\"?>
";

/// Indentation of the attributes of `rdf:Description`.
const ATTR_INDENT: &str = "\n        ";

/// Returns the sidecar text for the values of `meta` that the media file
/// does not already hold, or `None` when nothing needs writing.
///
/// Dates and GPS are fill-if-empty; the description follows `meta`'s
/// policy (metadata.md §4.2, §7). The layout is fixed byte for byte.
pub(crate) fn sidecar(meta: &Metadata, existing: &Existing) -> Option<String> {
    let date = meta.date.filter(|_| existing.date.is_none());
    let gps = meta.gps.filter(|_| existing.gps.is_none());
    let description = meta
        .description
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .filter(|_| match meta.description_policy {
            DescriptionPolicy::KeepIfPresent => existing.description.is_none(),
            DescriptionPolicy::Overwrite => true,
        });
    if date.is_none() && gps.is_none() && description.is_none() {
        return None;
    }

    let mut attrs = Vec::new();
    if let Some(stamp) = date {
        let text = format_date(&stamp);
        for name in
            ["exif:DateTimeOriginal", "xmp:CreateDate", "xmp:ModifyDate"]
        {
            attrs.push((name, text.clone()));
        }
    }
    if let Some(gps) = gps {
        attrs.extend(gps_attrs(&gps));
    }
    Some(layout(&attrs, description))
}

/// Assembles the packet from attribute properties and an optional
/// description.
fn layout(attrs: &[(&str, String)], description: Option<&str>) -> String {
    let mut out = String::from(HEADER);
    for (name, value) in attrs {
        out.push_str(ATTR_INDENT);
        out.push_str(&format!("{name}=\"{}\"", escape(value, Quote::Attr)));
    }
    match description {
        None => out.push_str("/>\n"),
        Some(text) => {
            out.push_str(">\n      <dc:description>\n        <rdf:Alt>\n");
            out.push_str("          <rdf:li xml:lang=\"x-default\">");
            out.push_str(&escape(text, Quote::Text));
            out.push_str("</rdf:li>\n        </rdf:Alt>\n");
            out.push_str("      </dc:description>\n    </rdf:Description>\n");
        }
    }
    out.push_str(FOOTER);
    out
}

/// Returns the XMP date of a stamp: local time with a `±hh:mm` offset.
fn format_date(stamp: &Stamp) -> String {
    let d = stamp.local;
    let secs = stamp.offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{h:02}:{m:02}",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// Returns the GPS properties of metadata.md §3 in EXIF tag order.
fn gps_attrs(gps: &Gps) -> Vec<(&'static str, String)> {
    let mut attrs = vec![
        ("exif:GPSVersionID", "2.3.0.0".to_string()),
        ("exif:GPSLatitude", coordinate(gps.latitude, ['N', 'S'])),
        ("exif:GPSLongitude", coordinate(gps.longitude, ['E', 'W'])),
    ];
    // Altitude only when non-zero (metadata.md §3), in millimetres.
    let mm = gps.altitude.map_or(0.0, |a| (a.abs() * 1000.0).round());
    if let Some(alt) = gps.altitude.filter(|_| mm >= 1.0 && mm.is_finite()) {
        let below = if alt < 0.0 { "1" } else { "0" };
        attrs.push(("exif:GPSAltitudeRef", below.to_string()));
        attrs.push(("exif:GPSAltitude", format!("{mm:.0}/1000")));
    }
    attrs
}

/// Returns `D,MM.mmmmmmH` for a signed coordinate; `refs` holds the
/// positive and negative hemisphere letters. Minutes are rounded to six
/// decimals first and carried, so they stay below 60.
fn coordinate(value: f64, [pos, neg]: [char; 2]) -> String {
    let hemisphere = if value < 0.0 { neg } else { pos };
    // Micro-minutes of the absolute value; at most 180 * 60e6, far below
    // u64::MAX, so the cast cannot saturate for valid positions.
    let total = (value.abs() * 60.0 * 1e6).round() as u64;
    let (degrees, rest) = (total / 60_000_000, total % 60_000_000);
    let (minutes, micro) = (rest / 1_000_000, rest % 1_000_000);
    format!("{degrees},{minutes:02}.{micro:06}{hemisphere}")
}

/// Where escaped text goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// Element content: line feeds stay literal.
    Text,
    /// A double-quoted attribute value: line breaks and tabs as character
    /// references, since parsers normalise them to spaces.
    Attr,
}

/// Escapes text for XML (metadata.md §4.1). Characters XML 1.0 cannot
/// hold at all (most C0 controls, U+FFFE, U+FFFF) are dropped; a carriage
/// return is kept as `&#xD;` so it survives line-end normalisation.
fn escape(text: &str, quote: Quote) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\n' if quote == Quote::Attr => out.push_str("&#xA;"),
            '\t' if quote == Quote::Attr => out.push_str("&#x9;"),
            '\n' | '\t' => out.push(c),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {}
            _ => out.push(c),
        }
    }
    out
}
