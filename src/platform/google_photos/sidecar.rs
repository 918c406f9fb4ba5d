//! Google Photos sidecar JSON: the media name a sidecar file name stands
//! for, and the facts read from its fields (platforms.md §3.3, §3.7).
//!
//! Only pure functions over names and parsed JSON live here; reading the
//! files and matching them to media happen in the album scan.

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::media::model::Gps;
use crate::plan::{Capture, When};

/// Returns the metadata name (the media name a sidecar describes) of
/// sidecar file `file`, by the first rule of platforms.md §3.3 that
/// applies, or `None` when `file` does not end in `.json`.
pub(super) fn metadata_name(file: &str) -> Option<String> {
    let body = file.strip_suffix(".json")?;
    let plain = || supp(body).unwrap_or(body).to_string();
    Some(supp_indexed(body).unwrap_or_else(plain))
}

/// Rule 1: `<prefix><ext>.supp…(<N>)` → `<prefix>(<N>)<ext>`.
fn supp_indexed(body: &str) -> Option<String> {
    let head = body.strip_suffix(')')?;
    let open = head.rfind('(')?;
    let n = &head[open + 1..];
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix_ext = supp(&head[..open])?;
    Some(match prefix_ext.rsplit_once('.') {
        Some((prefix, ext)) => format!("{prefix}({n}).{ext}"),
        None => format!("{prefix_ext}({n})"),
    })
}

/// Rule 2: `<prefix>.supp…` (no dot after `supp`) → `<prefix>`; covers
/// every truncation of `supplemental-metadata`.
fn supp(body: &str) -> Option<&str> {
    let (prefix, tail) = body.rsplit_once('.')?;
    tail.starts_with("supp").then_some(prefix)
}

/// Returns the sidecar's `title`, when it is a non-empty string.
pub(super) fn title(json: &Value) -> Option<&str> {
    json.get("title").and_then(Value::as_str).filter(|t| !t.is_empty())
}

/// Returns the capture time: `photoTakenTime.timestamp`, else
/// `creationTime.timestamp`, each in epoch seconds as a string or number.
pub(super) fn capture(json: &Value) -> Option<Capture> {
    ["photoTakenTime", "creationTime"].into_iter().find_map(|source| {
        let raw = json.get(source)?.get("timestamp")?;
        let when = When::Instant(epoch_seconds(raw)?);
        Some(Capture { when, source })
    })
}

/// Returns the instant of epoch seconds given as a string or number.
fn epoch_seconds(raw: &Value) -> Option<Timestamp> {
    let secs = match raw {
        Value::String(text) => text.trim().parse::<i64>().ok()?,
        Value::Number(n) => match n.as_i64() {
            Some(secs) => secs,
            None => whole_seconds(n.as_f64()?)?,
        },
        _ => return None,
    };
    Timestamp::from_second(secs).ok()
}

/// Returns a fractional number of seconds truncated to whole seconds, if
/// it is finite and within the range of `i64`.
fn whole_seconds(secs: f64) -> Option<i64> {
    let in_range = secs.is_finite() && secs.abs() < 9.0e18;
    // The range check above keeps the cast from saturating.
    in_range.then_some(secs.trunc() as i64)
}

/// Returns the position: the first of `geoData`, `geoDataExif` that is
/// valid (0,0 means none); altitude only when it is non-zero.
pub(super) fn gps(json: &Value) -> Option<Gps> {
    ["geoData", "geoDataExif"].into_iter().find_map(|key| {
        let geo = json.get(key)?;
        let altitude = geo.get("altitude").and_then(Value::as_f64);
        let gps = Gps {
            latitude: geo.get("latitude")?.as_f64()?,
            longitude: geo.get("longitude")?.as_f64()?,
            altitude: altitude.filter(|a| a.is_finite() && *a != 0.0),
        };
        gps.is_valid().then_some(gps)
    })
}

/// Returns the description of platforms.md §3.7: the source line, plus a
/// caption line when the sidecar description is not blank.
pub(super) fn description(user: &str, json: &Value) -> String {
    let mut text = format!("Source: Google Photos/{user}");
    if let Some(caption) = caption(json) {
        text.push_str(&format!("\nCaption: \"{caption}\""));
    }
    text
}

/// Returns the sidecar description, trimmed, when it is not blank.
pub(super) fn caption(json: &Value) -> Option<String> {
    let text = json.get("description").and_then(Value::as_str)?.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Returns whether the sidecar marks the item as a favourite.
pub(super) fn is_favorite(json: &Value) -> bool {
    json.get("favorited").and_then(Value::as_bool).unwrap_or(false)
}

/// Returns the `report.json` context: `albums` and `title` always, the
/// other recorded fields only when the sidecar has them (§3.3).
pub(super) fn context(
    json: &Value,
    album: &str,
    title: &str,
) -> Map<String, Value> {
    let mut context = Map::new();
    context.insert("albums".into(), Value::from(vec![album]));
    context.insert("title".into(), Value::from(title));
    for key in ["favorited", "archived", "trashed"] {
        if let Some(flag) = json.get(key) {
            context.insert(key.into(), flag.clone());
        }
    }
    if let Some(people) = json.get("people").and_then(Value::as_array) {
        let names = people.iter().filter_map(|p| p.get("name")?.as_str());
        context.insert("people".into(), names.collect::<Vec<_>>().into());
    }
    if let Some(origin) = json.get("googlePhotosOrigin") {
        context.insert("googlePhotosOrigin".into(), origin.clone());
    }
    context
}

/// Returns the name without its last extension (the whole name without a
/// dot), the day-numbering group key of platforms.md §3.6.
pub(super) fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_names_follow_the_three_rules() {
        let cases = [
            (
                "RenderedImage.JPG.supplemental-metadata(1).json",
                "RenderedImage(1).JPG",
            ),
            ("IMG.supplemental-metadata(12).json", "IMG(12)"),
            ("IMG_1234.HEIC.supplemental-metadata.json", "IMG_1234.HEIC"),
            ("IMG_1234.HEIC.supplemental-metad.json", "IMG_1234.HEIC"),
            ("IMG_1234.HEIC.supplemen.json", "IMG_1234.HEIC"),
            ("IMG_1234.HEIC.supp.json", "IMG_1234.HEIC"),
            ("photo.jpg.json", "photo.jpg"),
            ("IMG_0004.JPG(1).json", "IMG_0004.JPG(1)"),
            ("uuid__hash.json", "uuid__hash"),
            ("Name_(494).json", "Name_(494)"),
            ("a.jpg.suppx(z).json", "a.jpg"),
            ("a.jpg.sup.json", "a.jpg.sup"),
        ];
        for (file, want) in cases {
            assert_eq!(metadata_name(file).as_deref(), Some(want), "{file}");
        }
        assert_eq!(metadata_name("photo.jpg"), None);
    }

    #[test]
    fn capture_reads_strings_and_numbers_and_falls_back() {
        let taken = |raw: Value| json!({"photoTakenTime": {"timestamp": raw}});
        let mut both = taken(json!("soon"));
        both["creationTime"] = json!({"timestamp": "5"});
        let cases = [
            (taken(json!("1609459200")), Some((1609459200, "photoTakenTime"))),
            (taken(json!(" 1609459200")), Some((1609459200, "photoTakenTime"))),
            (taken(json!(1609459200)), Some((1609459200, "photoTakenTime"))),
            (taken(json!(1609459200.7)), Some((1609459200, "photoTakenTime"))),
            (both, Some((5, "creationTime"))),
            (
                json!({"creationTime": {"timestamp": 7}}),
                Some((7, "creationTime")),
            ),
            (taken(json!("99999999999999999")), None),
            (taken(json!(1e300)), None),
            (taken(json!(true)), None),
            (json!({"photoTakenTime": "1609459200"}), None),
            (json!([1, 2]), None),
        ];
        for (json, want) in cases {
            let got = capture(&json).map(|c| match c.when {
                When::Instant(at) => (at.as_second(), c.source),
                other => panic!("unexpected {other:?}"),
            });
            assert_eq!(got, want, "{json}");
        }
    }

    #[test]
    fn gps_skips_zero_and_invalid_positions() {
        let json = json!({
            "geoData": {"latitude": 0.0, "longitude": 0.0, "altitude": 0.0},
            "geoDataExif": {"latitude": 41.89, "longitude": 12.49,
                            "altitude": 0.0}
        });
        let want = Gps { latitude: 41.89, longitude: 12.49, altitude: None };
        assert_eq!(gps(&json), Some(want));
        let json = json!({"geoData":
            {"latitude": 1.5, "longitude": 2.5, "altitude": -3.0}});
        assert_eq!(gps(&json).and_then(|g| g.altitude), Some(-3.0));
        let json = json!({"geoData": {"latitude": 91.0, "longitude": 2.5}});
        assert_eq!(gps(&json), None);
        assert_eq!(gps(&json!({"geoData": {"latitude": "1"}})), None);
    }

    #[test]
    fn description_and_context_record_the_sidecar() {
        let json = json!({"description": "  New year ", "favorited": true,
            "people": [{"name": "Ann"}, {"x": 1}],
            "googlePhotosOrigin": {"mobileUpload": {}}});
        assert_eq!(
            description("bob", &json),
            "Source: Google Photos/bob\nCaption: \"New year\""
        );
        assert_eq!(
            description("bob", &json!({"description": ""})),
            "Source: Google Photos/bob"
        );
        let want = json!({"albums": ["Trip"], "title": "a.jpg",
            "favorited": true,
            "people": ["Ann"], "googlePhotosOrigin": {"mobileUpload": {}}});
        assert_eq!(Value::Object(context(&json, "Trip", "a.jpg")), want);
        assert!(is_favorite(&json));
        assert_eq!(stem("a.b.HEIC"), "a.b");
        assert_eq!(stem("noext"), "noext");
    }
}
