//! Reading one `metadata.json` entry (platforms.md §9.3): the media and
//! overlay names, the UTC capture date and the position.
//!
//! A bad date or position affects only that field of that entry; an entry
//! that is not an object or names no media is rejected with the reason
//! recorded in the orphan report.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::media::model::Gps;
use crate::plan::{Capture, When};

/// The `date.source` recorded in `report.json` (metadata.md §2.1).
const DATE_SOURCE: &str = "date";
/// Reason for an entry that is not a JSON object.
pub(super) const NOT_AN_OBJECT: &str = "Invalid entry";
/// Reason for an entry without a usable `media_filename`.
pub(super) const NO_MEDIA: &str = "Invalid entry: no media_filename";

/// One entry of `metadata.json` as §9.3 reads it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Entry<'a> {
    /// `media_filename`, a name in `media/`.
    pub(super) media: &'a str,
    /// `overlay_filename`, a name in `overlays/`, when given.
    pub(super) overlay: Option<&'a str>,
    /// `date` as an instant, when it parses.
    pub(super) capture: Option<Capture>,
    /// `latitude` and `longitude`, when both are given and valid.
    pub(super) gps: Option<Gps>,
    /// The raw coordinates when both are given but out of range
    /// (metadata.md §3: ignored with a warning in the report).
    pub(super) bad_gps: Option<Value>,
    /// `media_type` as given (informational only).
    pub(super) media_type: Option<&'a str>,
}

/// Returns the entry `raw`, or the orphan reason when it is not an object
/// or has no non-empty string `media_filename`.
pub(super) fn parse(raw: &Value) -> Result<Entry<'_>, &'static str> {
    let fields = raw.as_object().ok_or(NOT_AN_OBJECT)?;
    let media = text(fields, "media_filename").ok_or(NO_MEDIA)?;
    let (gps, bad_gps) = position(fields);
    Ok(Entry {
        media,
        overlay: text(fields, "overlay_filename"),
        capture: fields.get("date").and_then(Value::as_str).and_then(capture),
        gps,
        bad_gps,
        media_type: text(fields, "media_type"),
    })
}

/// Returns the non-empty string value of `key`; `null`, other types and
/// `""` count as absent.
fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Returns the capture of `date` text `YYYY-MM-DD HH:MM:SS UTC` (§9.3).
fn capture(date: &str) -> Option<Capture> {
    let at = utc_instant(date)?;
    Some(Capture { when: When::Instant(at), source: DATE_SOURCE })
}

/// Returns the instant of `date` text `YYYY-MM-DD HH:MM:SS UTC` (§9.3,
/// §9b.3). Fractional seconds are accepted and dropped (metadata.md
/// §2.1); anything else means no date.
pub(super) fn utc_instant(date: &str) -> Option<Timestamp> {
    let Some(civil) = date.trim().strip_suffix(" UTC") else {
        log::debug!("ignoring date without UTC label: {date:?}");
        return None;
    };
    let parsed = DateTime::strptime("%Y-%m-%d %H:%M:%S%.f", civil.trim_end())
        .ok()
        .and_then(|dt| TimeZone::UTC.to_timestamp(dt).ok())
        .and_then(|ts| Timestamp::from_second(ts.as_second()).ok());
    if parsed.is_none() {
        log::debug!("ignoring unparseable date {date:?}");
    }
    parsed
}

/// Returns the position of `latitude`/`longitude` (§9.3: both needed,
/// 0,0 is none), or the raw pair when both are given but invalid.
fn position(fields: &Map<String, Value>) -> (Option<Gps>, Option<Value>) {
    let (Some(latitude), Some(longitude)) =
        (coordinate(fields, "latitude"), coordinate(fields, "longitude"))
    else {
        return (None, None);
    };
    match checked_gps(latitude, longitude) {
        Ok(gps) => (gps, None),
        Err(InvalidGps) => {
            let raw = |key: &str| fields.get(key).cloned().unwrap_or_default();
            let pair = serde_json::json!({
                "latitude": raw("latitude"),
                "longitude": raw("longitude"),
            });
            (None, Some(pair))
        }
    }
}

/// A coordinate pair that is out of range or not finite.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct InvalidGps;

/// Returns the position of a coordinate pair: none for 0,0 (Snapchat's
/// "no position"), an error when the pair is invalid (metadata.md §3).
pub(super) fn checked_gps(
    latitude: f64,
    longitude: f64,
) -> Result<Option<Gps>, InvalidGps> {
    let gps = Gps { latitude, longitude, altitude: None };
    if gps.is_valid() {
        Ok(Some(gps))
    } else if latitude == 0.0 && longitude == 0.0 {
        Ok(None)
    } else {
        Err(InvalidGps)
    }
}

/// Returns coordinate `key` given as a number or as numeric text.
fn coordinate(fields: &Map<String, Value>, key: &str) -> Option<f64> {
    match fields.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Returns the instant of RFC 3339 text `utc`.
    fn at(utc: &str) -> Option<Capture> {
        let when = When::Instant(utc.parse().unwrap());
        Some(Capture { when, source: "date" })
    }

    #[test]
    fn dates_are_utc_instants() {
        let cases = [
            ("2021-01-04 23:08:30 UTC", at("2021-01-04T23:08:30Z")),
            ("2021-01-04 23:08:30.750 UTC", at("2021-01-04T23:08:30Z")),
            (" 2016-02-29 00:00:00 UTC ", at("2016-02-29T00:00:00Z")),
            ("2021-01-04 23:08:30", None),
            ("2021-01-04T23:08:30Z", None),
            ("2021-02-30 10:00:00 UTC", None),
            ("2021-01-04 24:00:00 UTC", None),
            ("yesterday UTC", None),
            ("", None),
            (" UTC", None),
        ];
        for (text, want) in cases {
            assert_eq!(capture(text), want, "{text:?}");
        }
    }

    #[test]
    fn positions_need_both_valid_coordinates() {
        let gps = |lat, lon| {
            Some(Gps { latitude: lat, longitude: lon, altitude: None })
        };
        let cases = [
            (
                json!({"latitude": 40.5, "longitude": -73.9}),
                gps(40.5, -73.9),
                None,
            ),
            (
                json!({"latitude": "40.5", "longitude": " -73.9 "}),
                gps(40.5, -73.9),
                None,
            ),
            (json!({"latitude": 0, "longitude": 0}), None, None),
            (json!({"latitude": 0.0, "longitude": 12.5}), gps(0.0, 12.5), None),
            (json!({"latitude": 40.5}), None, None),
            (json!({"latitude": 40.5, "longitude": null}), None, None),
            (json!({"latitude": null, "longitude": null}), None, None),
            (json!({"latitude": "north", "longitude": 3}), None, None),
            (json!({"latitude": true, "longitude": 3}), None, None),
            (
                json!({"latitude": 95, "longitude": 3}),
                None,
                Some(json!({"latitude": 95, "longitude": 3})),
            ),
            (
                json!({"latitude": "NaN", "longitude": 3}),
                None,
                Some(json!({"latitude": "NaN", "longitude": 3})),
            ),
        ];
        for (fields, want, bad) in cases {
            let fields = fields.as_object().unwrap();
            assert_eq!(position(fields), (want, bad), "{fields:?}");
        }
    }

    #[test]
    fn entries_need_an_object_with_a_media_name() {
        assert_eq!(parse(&json!("p1.jpg")), Err(NOT_AN_OBJECT));
        assert_eq!(parse(&json!(null)), Err(NOT_AN_OBJECT));
        assert_eq!(
            parse(&json!([{"media_filename": "a.jpg"}])),
            Err(NOT_AN_OBJECT)
        );
        for media in [json!(null), json!(""), json!(7)] {
            let raw = json!({"date": "2021-01-04 23:08:30 UTC",
                             "media_filename": media});
            assert_eq!(parse(&raw), Err(NO_MEDIA), "{raw}");
        }
        assert_eq!(parse(&json!({"overlay_filename": "o.png"})), Err(NO_MEDIA));
    }

    #[test]
    fn optional_fields_may_be_null_or_missing() {
        let raw = json!({"date": null, "media_type": null,
                         "media_filename": "v1.mp4", "overlay_filename": null,
                         "latitude": null, "longitude": null});
        let want = Entry {
            media: "v1.mp4",
            overlay: None,
            capture: None,
            gps: None,
            bad_gps: None,
            media_type: None,
        };
        assert_eq!(parse(&raw), Ok(want.clone()));
        assert_eq!(parse(&json!({"media_filename": "v1.mp4"})), Ok(want));
        let raw = json!({"date": "2021-01-04 10:00:00 UTC",
                         "media_type": "Video", "media_filename": "v1.mp4",
                         "overlay_filename": "o1.png"});
        let got = parse(&raw).unwrap();
        assert_eq!(got.overlay, Some("o1.png"));
        assert_eq!(got.media_type, Some("Video"));
        assert_eq!(got.capture, at("2021-01-04T10:00:00Z"));
    }
}
