//! The `created_date` text of Google Chat messages (platforms.md §4.4,
//! metadata.md §2.1).
//!
//! `Thursday, November 3, 2016 at 11:59:50 AM UTC`: any whitespace
//! (U+00A0 and U+202F included) may separate the parts. The zone label
//! decides the kind of time; resolving wall clocks belongs to the engine.

use jiff::civil::DateTime;
use jiff::tz::Offset;

use crate::plan::When;

/// English month names; three-letter abbreviations are accepted too.
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Returns the capture time of a `created_date` text, or `None` when it
/// does not follow the format.
///
/// `UTC`/`GMT` give an instant; `UTC±H[:MM]`/`GMT±H[:MM]` an instant with
/// a platform offset (a zero offset is a plain instant, metadata.md §2.1);
/// any other label, or none, a bare wall clock.
pub(super) fn parse(text: &str) -> Option<When> {
    // `split_whitespace` splits on every Unicode White_Space character,
    // which includes U+00A0 and U+202F.
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let [weekday, month, day, year, at, time, meridiem, zone @ ..] =
        tokens.as_slice()
    else {
        return None;
    };
    let is_weekday = weekday
        .strip_suffix(',')
        .is_some_and(|w| !w.is_empty() && w.chars().all(char::is_alphabetic));
    if !is_weekday || !at.eq_ignore_ascii_case("at") {
        return None;
    }
    let day: i8 = digits(day.strip_suffix(',')?, 1, 2)?;
    let year: i16 = digits(year, 4, 4)?;
    let (hour, minute, second) = clock(time, meridiem)?;
    let civil =
        DateTime::new(year, month_number(month)?, day, hour, minute, second, 0)
            .ok()?;
    with_zone(civil, &zone.join(" "))
}

/// Returns the month number of an English month name or abbreviation.
fn month_number(name: &str) -> Option<i8> {
    let lower = name.to_ascii_lowercase();
    let pos = MONTHS.iter().position(|m| {
        *m == lower || (lower.len() == 3 && m.starts_with(&lower))
    })?;
    i8::try_from(pos + 1).ok()
}

/// Returns the 24-hour time of `h:MM:SS` with `AM` or `PM`.
fn clock(time: &str, meridiem: &str) -> Option<(i8, i8, i8)> {
    let mut parts = time.split(':');
    let hour: i8 = digits(parts.next()?, 1, 2)?;
    let minute: i8 = digits(parts.next()?, 2, 2)?;
    let second: i8 = digits(parts.next()?, 2, 2)?;
    if parts.next().is_some() || !(1..=12).contains(&hour) {
        return None;
    }
    let base = match meridiem.to_ascii_uppercase().as_str() {
        "AM" => 0,
        "PM" => 12,
        _ => return None,
    };
    Some((hour % 12 + base, minute, second))
}

/// Returns the number written with `min..=max` ASCII digits.
fn digits<T: std::str::FromStr>(
    text: &str,
    min: usize,
    max: usize,
) -> Option<T> {
    let ok = (min..=max).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse().ok()).flatten()
}

/// Returns the time `civil` read in zone label `zone`.
fn with_zone(civil: DateTime, zone: &str) -> Option<When> {
    let Some(offset) = numeric_offset(zone) else {
        return Some(When::Wall(civil));
    };
    let offset = offset?;
    let instant = offset.to_timestamp(civil).ok()?;
    if offset == Offset::UTC {
        Some(When::Instant(instant))
    } else {
        Some(When::Offset(instant, offset))
    }
}

/// Returns `Some(offset)` for `UTC`, `GMT` and their `±H[:MM]` forms,
/// `Some(None)` for such a label with an offset out of range, and `None`
/// for any other label.
fn numeric_offset(zone: &str) -> Option<Option<Offset>> {
    let upper = zone.to_ascii_uppercase();
    let rest =
        upper.strip_prefix("UTC").or_else(|| upper.strip_prefix("GMT"))?;
    if rest.is_empty() {
        return Some(Some(Offset::UTC));
    }
    let (sign, hm) = match rest.split_at_checked(1)? {
        ("+", hm) => (1, hm),
        ("-", hm) => (-1, hm),
        _ => return None,
    };
    let (h, m) = hm.split_once(':').unwrap_or((hm, "00"));
    let hours: i32 = digits(h, 1, 2)?;
    let minutes: i32 = digits(m, 2, 2)?;
    if minutes >= 60 {
        return None;
    }
    Some(Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok())
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn offset(hours: i32, minutes: i32) -> Offset {
        Offset::from_seconds(hours * 3600 + minutes * 60).unwrap()
    }

    #[test]
    fn utc_and_gmt_give_instants() {
        let want = Some(When::Instant(at("2016-11-03T11:59:50Z")));
        for text in [
            "Thursday, November 3, 2016 at 11:59:50 AM UTC",
            "Thursday, November 3, 2016 at 11:59:50 AM GMT",
            "Thursday, November 3, 2016 at 11:59:50 AM UTC+0",
            "Thursday, November 3, 2016 at 11:59:50 AM GMT-00:00",
            "Thursday,\u{a0}November 3,\u{a0}2016 at\u{202f}11:59:50\u{202f}AM UTC",
            "  Thursday,  November  3, 2016\tat 11:59:50 am utc ",
            "Thu, Nov 3, 2016 at 11:59:50 AM UTC",
        ] {
            assert_eq!(parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn numeric_zones_give_platform_offsets() {
        let cases = [
            (
                "Monday, January 2, 2017 at 5:30:00 PM UTC+5:30",
                5,
                30,
                "12:00:00",
            ),
            ("Monday, January 2, 2017 at 4:00:00 AM GMT-8", -8, 0, "12:00:00"),
            (
                "Monday, January 2, 2017 at 1:00:00 PM GMT+01:00",
                1,
                0,
                "12:00:00",
            ),
            (
                "Monday, January 2, 2017 at 12:15:00 AM UTC-3:30",
                -3,
                -30,
                "03:45:00",
            ),
        ];
        for (text, h, m, utc) in cases {
            let instant = at(&format!("2017-01-02T{utc}Z"));
            assert_eq!(
                parse(text),
                Some(When::Offset(instant, offset(h, m))),
                "{text}"
            );
        }
    }

    #[test]
    fn other_labels_give_wall_clocks() {
        let wall = |text: &str| When::Wall(text.parse().unwrap());
        let cases = [
            ("Sunday, March 5, 2023 at 12:00:01 AM PST", "2023-03-05T00:00:01"),
            (
                "Sunday, March 5, 2023 at 12:30:00 PM CEST",
                "2023-03-05T12:30:00",
            ),
            (
                "Sunday, March 5, 2023 at 9:05:07 PM Europe/Berlin",
                "2023-03-05T21:05:07",
            ),
            ("Sunday, March 5, 2023 at 9:05:07 PM", "2023-03-05T21:05:07"),
            (
                "Sunday, March 5, 2023 at 9:05:07 PM UTC+5:3",
                "2023-03-05T21:05:07",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Some(wall(want)), "{text}");
        }
    }

    #[test]
    fn malformed_texts_give_no_date() {
        for text in [
            "",
            "2016-11-03T11:59:50Z",
            "November 3, 2016 at 11:59:50 AM UTC",
            "Thursday November 3, 2016 at 11:59:50 AM UTC",
            "Thursday, Novembre 3, 2016 at 11:59:50 AM UTC",
            "Thursday, November 31, 2016 at 11:59:50 AM UTC",
            "Thursday, November 3 2016 at 11:59:50 AM UTC",
            "Thursday, November 3, 16 at 11:59:50 AM UTC",
            "Thursday, November 3, 2016 on 11:59:50 AM UTC",
            "Thursday, November 3, 2016 at 13:59:50 PM UTC",
            "Thursday, November 3, 2016 at 0:59:50 AM UTC",
            "Thursday, November 3, 2016 at 11:60:50 AM UTC",
            "Thursday, November 3, 2016 at 11:59 AM UTC",
            "Thursday, November 3, 2016 at 11:59:50:1 AM UTC",
            "Thursday, November 3, 2016 at 11:59:50 XM UTC",
            "Thursday, November 3, 2016 at 11:59:50 AM UTC+99",
            "Thursday, November 3, 2016 at +1:59:50 AM UTC",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
