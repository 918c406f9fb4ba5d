//! Test support: checks one embed of [`full_meta`] (Overwrite policy)
//! with two independent readers, kamadak-exif and exiftool. Tags the
//! file had keep their values; absent ones carry memoria's values.
//!
//! [`full_meta`]: super::testutil::full_meta

use ::exif::{Exif, In, Tag, Value};
use serde_json::{Map, Value as Json};

use super::testutil::{self, TEXT};

/// The date tags with their offset tags and exiftool names.
const DATES: [(Tag, Tag, &str, &str); 3] = [
    (Tag::DateTime, Tag::OffsetTime, "IFD0:ModifyDate", "ExifIFD:OffsetTime"),
    (
        Tag::DateTimeOriginal,
        Tag::OffsetTimeOriginal,
        "ExifIFD:DateTimeOriginal",
        "ExifIFD:OffsetTimeOriginal",
    ),
    (
        Tag::DateTimeDigitized,
        Tag::OffsetTimeDigitized,
        "ExifIFD:CreateDate",
        "ExifIFD:OffsetTimeDigitized",
    ),
];

/// What the input held, as memoria judges it (metadata.md §5).
struct Before {
    exif: Option<Exif>,
    dates: [bool; 3],
    offsets: [bool; 3],
    position: bool,
}

/// Asserts that `output` is `input` with [`full_meta`] (Overwrite) merged
/// in; `ext` names the temp files given to exiftool.
///
/// [`full_meta`]: super::testutil::full_meta
pub(crate) fn assert_roundtrip(input: &[u8], output: &[u8], ext: &str) {
    let before = Before::read(input);
    let after = testutil::kamadak(output);
    assert_written(&before, &after);
    assert_kamadak_kept(&before, &after);
    let old = testutil::exiftool_bytes(input, &format!("in.{ext}"));
    let new = testutil::exiftool_bytes(output, &format!("out.{ext}"));
    assert_exiftool(&before, &old, &new);
}

impl Before {
    /// Reads what `input` holds with kamadak-exif (partial results kept).
    fn read(input: &[u8]) -> Before {
        let mut reader = ::exif::Reader::new();
        reader.continue_on_error(true);
        let exif = reader
            .read_from_container(&mut std::io::Cursor::new(input))
            .or_else(|e| e.distill_partial_result(|_| ()))
            .ok();
        let has =
            |tag, date| exif.as_ref().is_some_and(|x| has_text(x, tag, date));
        Before {
            dates: DATES.map(|d| has(d.0, true)),
            offsets: DATES.map(|d| has(d.1, false)),
            position: exif.as_ref().is_some_and(has_position),
            exif,
        }
    }
}

/// Returns true when `tag` holds text (dates: not starting with 0000).
fn has_text(exif: &Exif, tag: Tag, date: bool) -> bool {
    let Some(f) = exif.get_field(tag, In::PRIMARY) else { return false };
    let Value::Ascii(parts) = &f.value else { return true };
    let text =
        parts.first().map(|p| String::from_utf8_lossy(p)).unwrap_or_default();
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    let zero_date = date && text.starts_with("0000");
    !text.is_empty() && !zero_date
}

/// Returns true when latitude and longitude exist and are not both 0.
fn has_position(exif: &Exif) -> bool {
    let value = |tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Rational(v)) => {
            Some(v.iter().any(|r| r.num != 0 && r.denom != 0))
        }
        Some(_) => Some(true),
        None => None,
    };
    match (value(Tag::GPSLatitude), value(Tag::GPSLongitude)) {
        (Some(lat), Some(lon)) => lat || lon,
        _ => false,
    }
}

/// Asserts memoria's values where the input had none.
fn assert_written(before: &Before, after: &Exif) {
    let text = |tag| testutil::field(after, tag, 0);
    for (i, (date, offset, ..)) in DATES.into_iter().enumerate() {
        if !before.dates[i] {
            assert_eq!(
                text(date).as_deref(),
                Some("2021-01-04 18:08:30"),
                "{date}"
            );
            if !before.offsets[i] {
                assert_eq!(
                    text(offset).as_deref(),
                    Some("\"-05:00\""),
                    "{offset}"
                );
            }
        }
    }
    if !before.position {
        assert_eq!(
            text(Tag::GPSLatitude).as_deref(),
            Some("40 deg 30 min 0 sec")
        );
        assert_eq!(text(Tag::GPSLongitudeRef).as_deref(), Some("W"));
        assert_eq!(text(Tag::GPSAltitude).as_deref(), Some("12.3"));
    }
    assert_eq!(testutil::description(after).as_deref(), Some(TEXT));
}

/// Asserts that every field kamadak-exif read before is still there with
/// the same value, except the ones memoria legitimately filled.
fn assert_kamadak_kept(before: &Before, after: &Exif) {
    let Some(old) = &before.exif else { return };
    let new = testutil::all_fields(after);
    for f in testutil::all_fields(old) {
        let (tag, ifd, value) = &f;
        let filled =
            *ifd == 0 && may_change(before, &tag.to_string(), tag.context());
        // Unknown types display the offset of their entry, which moves.
        let pointer =
            matches!(*tag, Tag::ExifIFDPointer | Tag::GPSInfoIFDPointer);
        if filled || pointer || value.starts_with("Unknown") {
            continue;
        }
        assert!(
            new.contains(&f),
            "kamadak: {tag} in ifd {ifd} changed or lost"
        );
    }
}

/// Returns true for a tag memoria may have replaced in this input.
fn may_change(before: &Before, name: &str, ctx: ::exif::Context) -> bool {
    let date = DATES.iter().enumerate().any(|(i, d)| {
        (d.0.to_string() == name && !before.dates[i])
            || (d.1.to_string() == name && !before.offsets[i])
    });
    let gps = ctx == ::exif::Context::Gps && !before.position;
    date || gps
        || name == "ImageDescription"
        || name == "ExifVersion"
        || name == "ComponentsConfiguration"
}

/// Asserts that every exiftool tag of the input (file system, warnings
/// and composites aside) is unchanged unless memoria filled it, and that
/// exiftool reads memoria's values.
fn assert_exiftool(
    before: &Before,
    old: &Map<String, Json>,
    new: &Map<String, Json>,
) {
    for (key, value) in old {
        let group = key.split(':').next().unwrap_or_default();
        let skip = ["SourceFile", "System", "File", "ExifTool", "Composite"];
        if skip.contains(&group) || exiftool_may_change(before, key) {
            continue;
        }
        assert_eq!(
            new.get(key),
            Some(value),
            "exiftool: {key} changed or lost"
        );
    }
    let get = |key: &str| new.get(key).cloned().unwrap_or(Json::Null);
    assert_eq!(get("IFD0:ImageDescription"), Json::from(TEXT));
    if !before.position {
        assert_eq!(get("GPS:GPSLatitude"), Json::from(40.5));
        assert_eq!(get("GPS:GPSLongitude"), Json::from(73.9));
        assert_eq!(get("GPS:GPSAltitude"), Json::from(12.3));
    }
    for (i, (.., date, offset)) in DATES.into_iter().enumerate() {
        if !before.dates[i] {
            assert_eq!(get(date), Json::from("2021:01:04 18:08:30"), "{date}");
            if !before.offsets[i] {
                assert_eq!(get(offset), Json::from("-05:00"), "{offset}");
            }
        }
    }
}

/// Returns true for an exiftool key memoria may have replaced.
fn exiftool_may_change(before: &Before, key: &str) -> bool {
    let date = DATES.iter().enumerate().any(|(i, d)| {
        (d.2 == key && !before.dates[i]) || (d.3 == key && !before.offsets[i])
    });
    let gps = key.starts_with("GPS:") && !before.position;
    // The VP8X flags of a WebP gain the EXIF bit.
    let fixed =
        ["IFD0:ImageDescription", "ExifIFD:ExifVersion", "RIFF:WebP_Flags"];
    date || gps || fixed.contains(&key)
}
