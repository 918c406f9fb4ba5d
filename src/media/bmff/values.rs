//! Text values memoria stores in QuickTime metadata: ISO 6709 positions
//! and the `com.apple.quicktime.creationdate` date form.
//!
//! Pure string conversions; the boxes that carry them are built in
//! `atoms`.

use jiff::civil::DateTime;
use jiff::tz::Offset;

use crate::media::model::{Gps, Stamp};

/// Returns the ISO 6709 form of `gps` as metadata.md §3 specifies:
/// `+40.50000-073.90000+012.300/`, five decimals at most, altitude only
/// when non-zero.
pub(crate) fn iso6709(gps: &Gps) -> String {
    let mut text = format!("{:+09.5}{:+010.5}", gps.latitude, gps.longitude);
    let altitude = gps.altitude.filter(|a| a.is_finite() && *a != 0.0);
    if let Some(altitude) = altitude {
        text.push_str(&format!("{altitude:+08.3}"));
    }
    text.push('/');
    text
}

/// Parses an ISO 6709 position (degrees, degrees-minutes or
/// degrees-minutes-seconds, optional altitude and CRS suffix).
///
/// Returns `None` for text that is not a position, or for 0,0 and
/// out-of-range values (metadata.md §3 "Validity").
pub(super) fn parse_iso6709(text: &str) -> Option<Gps> {
    let parts = signed_parts(text.trim());
    let latitude = angle(parts.first()?, 2)?;
    let longitude = angle(parts.get(1)?, 3)?;
    let altitude = parts.get(2).and_then(|p| p.parse::<f64>().ok());
    let gps = Gps { latitude, longitude, altitude };
    gps.is_valid().then_some(gps)
}

/// Splits the leading `±number±number…` run of `text` into its signed
/// parts, stopping at the first other character (`/`, `CRS…`).
fn signed_parts(text: &str) -> Vec<&str> {
    let end = text
        .find(|c: char| !matches!(c, '+' | '-' | '.' | '0'..='9'))
        .unwrap_or(text.len());
    let run = text.get(..end).unwrap_or_default();
    let mut parts = Vec::new();
    let mut start = None;
    for (i, c) in run.char_indices() {
        if matches!(c, '+' | '-') {
            if let Some(s) = start {
                parts.extend(run.get(s..i));
            }
            start = Some(i);
        }
    }
    if let Some(s) = start {
        parts.extend(run.get(s..));
    }
    parts
}

/// Converts one signed ISO 6709 angle whose whole degrees take
/// `degree_digits` digits into decimal degrees.
fn angle(part: &str, degree_digits: usize) -> Option<f64> {
    let (sign, body) = part.split_at_checked(1)?;
    let whole = body.find('.').unwrap_or(body.len());
    let value: f64 = body.parse().ok()?;
    let degrees = match whole.checked_sub(degree_digits)? {
        0 => value,
        2 => {
            let d = (value / 100.0).trunc();
            d + (value - d * 100.0) / 60.0
        }
        4 => {
            let d = (value / 10_000.0).trunc();
            let m = ((value - d * 10_000.0) / 100.0).trunc();
            d + m / 60.0 + (value - d * 10_000.0 - m * 100.0) / 3600.0
        }
        _ => return None,
    };
    Some(if sign == "-" { -degrees } else { degrees })
}

/// Returns the `creationdate` text: local time with its offset and no
/// colon in the offset, as iPhones write it (metadata.md §2.4):
/// `2021-01-04T18:08:30-0500`.
pub(super) fn creation_date(stamp: &Stamp) -> String {
    let seconds = stamp.offset.seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    let local = stamp.local.strftime("%Y-%m-%dT%H:%M:%S");
    format!("{local}{sign}{:02}{:02}", minutes / 60, minutes % 60)
}

/// Parses a `creationdate` value: `YYYY-MM-DDTHH:MM:SS`, optional
/// fraction, then `Z`, `±HHMM`, `±HH:MM`, `±HH` or nothing.
pub(super) fn parse_creation_date(
    text: &str,
) -> Option<(DateTime, Option<Offset>)> {
    let (head, rest) = text.trim().split_at_checked(19)?;
    let local: DateTime = head.parse().ok()?;
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => {
            fraction.trim_start_matches(|c: char| c.is_ascii_digit())
        }
        None => rest,
    };
    let offset = match rest {
        "" => None,
        "Z" => Some(Offset::UTC),
        _ => Some(parse_offset(rest)?),
    };
    Some((local, offset))
}

/// Parses `±HHMM`, `±HH:MM` or `±HH`.
fn parse_offset(text: &str) -> Option<Offset> {
    let (sign, digits) = text.split_at_checked(1)?;
    let digits = digits.replacen(':', "", 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits.get(..2)?.parse().ok()?, digits.get(2..)?.parse().ok()?),
        _ => return None,
    };
    if hours > 25 || minutes > 59 {
        return None;
    }
    let seconds = (hours * 60 + minutes) * 60;
    let seconds = match sign {
        "+" => seconds,
        "-" => -seconds,
        _ => return None,
    };
    Offset::from_seconds(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn gps(lat: f64, lon: f64, alt: Option<f64>) -> Gps {
        Gps { latitude: lat, longitude: lon, altitude: alt }
    }

    #[test]
    fn formats_iso6709_as_spec_example() {
        let text = iso6709(&gps(40.5, -73.9, Some(12.3)));
        assert_eq!(text, "+40.50000-073.90000+012.300/");
        assert_eq!(
            iso6709(&gps(-5.5, 7.25, Some(0.0))),
            "-05.50000+007.25000/"
        );
        assert_eq!(
            iso6709(&gps(1.0, 2.0, Some(-3.5))),
            "+01.00000+002.00000-003.500/"
        );
        assert_eq!(
            iso6709(&gps(1.123456789, 2.0, None)),
            "+01.12346+002.00000/"
        );
    }

    #[test]
    fn parses_iso6709_forms() {
        let cases = [
            ("+40.50000-073.90000+012.300/", Some((40.5, -73.9, Some(12.3)))),
            ("+40.5000-073.9000/", Some((40.5, -73.9, None))),
            ("+4030.00-07354.00/", Some((40.5, -73.9, None))),
            ("+403000-0735400/", Some((40.5, -73.9, None))),
            ("+40.5-073.9CRSWGS_84/", Some((40.5, -73.9, None))),
            ("+00.0000+000.0000/", None),
            ("+95.0000+000.0000/", None),
            ("+40.5/", None),
            ("hello", None),
            ("", None),
            ("+-", None),
            ("+4.5-73.9/", None),
        ];
        for (text, want) in cases {
            let got = parse_iso6709(text)
                .map(|g| (g.latitude, g.longitude, g.altitude));
            let close = match (got, want) {
                (Some(g), Some(w)) => {
                    (g.0 - w.0).abs() < 1e-9
                        && (g.1 - w.1).abs() < 1e-9
                        && g.2 == w.2
                }
                (None, None) => true,
                _ => false,
            };
            assert!(close, "{text:?}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn formats_creation_date_without_offset_colon() {
        let local = date(2021, 1, 4).at(18, 8, 30, 0);
        let offset = Offset::from_seconds(-5 * 3600).unwrap();
        let text = creation_date(&Stamp { local, offset });
        assert_eq!(text, "2021-01-04T18:08:30-0500");
        let offset = Offset::from_seconds(5 * 3600 + 1800).unwrap();
        let text = creation_date(&Stamp { local, offset });
        assert_eq!(text, "2021-01-04T18:08:30+0530");
    }

    #[test]
    fn parses_creation_date_forms() {
        let local = date(2021, 1, 4).at(18, 8, 30, 0);
        let minus5 = Offset::from_seconds(-5 * 3600).ok();
        let cases = [
            ("2021-01-04T18:08:30-0500", Some((local, minus5))),
            ("2021-01-04T18:08:30-05:00", Some((local, minus5))),
            ("2021-01-04T18:08:30.123-05", Some((local, minus5))),
            ("2021-01-04T18:08:30Z", Some((local, Some(Offset::UTC)))),
            ("2021-01-04T18:08:30", Some((local, None))),
            ("2021-01-04T18:08:30+9", None),
            ("2021-01-04T18:08:30-05:0x", None),
            ("2021-13-04T18:08:30", None),
            ("garbage", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_creation_date(text), want, "{text:?}");
        }
    }
}
