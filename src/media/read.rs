//! Reading the metadata a file already carries (metadata.md §5).
//!
//! Images are read with kamadak-exif (JPEG, PNG, WebP, HEIF, TIFF), GIFs
//! from their embedded XMP packet, videos with our own box parser. A block
//! that cannot be parsed counts as absent; formats without metadata memoria
//! can read (MKV, WebM, AVI, audio) report nothing.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;

use exif::{Exif, In, Tag, Value};
use jiff::civil::DateTime;
use jiff::tz::Offset;

use super::model::{Existing, ExistingDate, Gps};

/// Returns what the file at `path` already carries, judged by its
/// (corrected) extension `ext`. Unreadable metadata yields the default.
pub(crate) fn existing(path: &Path, ext: &str) -> Existing {
    let Ok(file) = File::open(path) else { return Existing::default() };
    let mut reader = BufReader::new(file);
    let result = match ext {
        "mp4" | "mov" | "m4v" | "3gp" | "m4a" => super::bmff::read(&mut reader),
        "jpg" => jpeg_existing(&mut reader),
        "gif" => xmp_packet(&mut reader),
        "mkv" | "webm" | "avi" => Ok(Existing::default()),
        _ => exif_existing(&mut reader),
    };
    result.unwrap_or_default()
}

/// Reads a JPEG's EXIF block with our segment scanner and kamadak-exif's
/// TIFF parser: kamadak-exif's own JPEG reader scans the whole image data
/// of a file without EXIF, which made inspection cost a full read.
fn jpeg_existing<R: Read + Seek>(reader: &mut R) -> Result<Existing, String> {
    let tiff = super::jpeg::exif_block(reader).map_err(|e| e.to_string())?;
    let Some(tiff) = tiff else { return Ok(Existing::default()) };
    match exif::Reader::new().read_raw(tiff) {
        Ok(exif) => Ok(from_exif(&exif)),
        Err(err) => Err(err.to_string()),
    }
}

/// Reads date, position and description from the EXIF block of an image
/// container.
pub(crate) fn exif_existing<R: BufRead + Seek>(
    reader: &mut R,
) -> Result<Existing, String> {
    let exif = match exif::Reader::new().read_from_container(reader) {
        Ok(exif) => exif,
        Err(exif::Error::NotFound(_)) => return Ok(Existing::default()),
        Err(err) => return Err(err.to_string()),
    };
    Ok(from_exif(&exif))
}

/// Returns what a parsed EXIF block says.
fn from_exif(exif: &Exif) -> Existing {
    Existing {
        date: exif_date(exif),
        gps: exif_gps(exif),
        description: ascii(exif, Tag::ImageDescription)
            .filter(|text| !text.is_empty()),
    }
}

/// Largest file searched for an embedded XMP packet; GIFs beyond it are
/// treated as carrying none.
const XMP_SCAN_LIMIT: u64 = 64 << 20;

/// Reads the XMP packet a GIF carries in its application extension.
fn xmp_packet<R: Read>(reader: &mut R) -> Result<Existing, String> {
    let mut bytes = Vec::new();
    reader
        .take(XMP_SCAN_LIMIT)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    let Some(start) = find(&bytes, b"<x:xmpmeta") else {
        return Ok(Existing::default());
    };
    let end = find(&bytes[start..], b"</x:xmpmeta>")
        .map_or(bytes.len(), |n| start + n + b"</x:xmpmeta>".len());
    let text = String::from_utf8_lossy(&bytes[start..end]);
    Ok(super::xmp::read(&text))
}

/// Returns the position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Returns `DateTimeOriginal` with `OffsetTimeOriginal` when present.
fn exif_date(exif: &Exif) -> Option<ExistingDate> {
    let text = ascii(exif, Tag::DateTimeOriginal)?;
    let local = parse_exif_datetime(&text)?;
    let offset =
        ascii(exif, Tag::OffsetTimeOriginal).and_then(|o| parse_offset(&o));
    Some(ExistingDate::Local { local, offset })
}

/// Parses `YYYY:MM:DD HH:MM:SS`; `0000…` and blanks are absent.
pub(crate) fn parse_exif_datetime(text: &str) -> Option<DateTime> {
    let text = text.trim();
    if text.is_empty() || text.starts_with("0000") {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i32> {
        text.get(range)?.parse().ok()
    };
    DateTime::new(
        i16::try_from(num(0..4)?).ok()?,
        i8::try_from(num(5..7)?).ok()?,
        i8::try_from(num(8..10)?).ok()?,
        i8::try_from(num(11..13)?).ok()?,
        i8::try_from(num(14..16)?).ok()?,
        i8::try_from(num(17..19)?).ok()?,
        0,
    )
    .ok()
}

/// Parses `+HH:MM` / `-HH:MM`.
pub(crate) fn parse_offset(text: &str) -> Option<Offset> {
    let text = text.trim();
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours: i32 = text.get(1..3)?.parse().ok()?;
    let minutes: i32 = text.get(4..6)?.parse().ok()?;
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// Returns the EXIF position when latitude and longitude are present and
/// not both zero.
fn exif_gps(exif: &Exif) -> Option<Gps> {
    let lat = dms(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = dms(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    let gps = Gps { latitude: lat, longitude: lon, altitude: None };
    gps.is_valid().then_some(gps)
}

/// Converts a degrees/minutes/seconds triple with its reference letter.
fn dms(exif: &Exif, tag: Tag, ref_tag: Tag, negative: u8) -> Option<f64> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Rational(parts) = &field.value else { return None };
    let part = |i: usize| parts.get(i).map(|r| r.to_f64()).unwrap_or(0.0);
    let value = part(0) + part(1) / 60.0 + part(2) / 3600.0;
    let sign = match exif.get_field(ref_tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(v))
            if v.first().and_then(|s| s.first()) == Some(&negative) =>
        {
            -1.0
        }
        _ => 1.0,
    };
    value.is_finite().then_some(sign * value)
}

/// Returns the trimmed text of an ASCII tag of IFD0 or the Exif IFD.
fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(parts) = &field.value else { return None };
    let bytes = parts.first()?;
    Some(String::from_utf8_lossy(bytes).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_datetimes_parse_or_are_absent() {
        let dt = parse_exif_datetime("2021:01:04 18:08:30").unwrap();
        assert_eq!(dt.to_string(), "2021-01-04T18:08:30");
        assert!(parse_exif_datetime("0000:00:00 00:00:00").is_none());
        assert!(parse_exif_datetime("   ").is_none());
        assert!(parse_exif_datetime("2021:13:04 18:08:30").is_none());
        assert!(parse_exif_datetime("2021:01").is_none());
    }

    #[test]
    fn gif_xmp_packet_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let gif = dir.path().join("a.gif");
        let made = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-f", "lavfi", "-i", "color=red:s=8x8"])
            .args(["-frames:v", "1"])
            .arg(&gif)
            .status()
            .expect("ffmpeg is required by the tests (see .ci/run)");
        assert!(made.success());
        assert_eq!(existing(&gif, "gif"), Existing::default());
        let tagged = std::process::Command::new("exiftool")
            .args(["-q", "-overwrite_original"])
            .args(["-XMP-dc:Description=Tea party"])
            .args(["-XMP-exif:GPSLatitude=40.5 N"])
            .args(["-XMP-exif:GPSLongitude=73.9 W"])
            .args(["-XMP-exif:DateTimeOriginal=2021:01:04 18:08:30-05:00"])
            .arg(&gif)
            .status()
            .expect("exiftool is required by the tests (see .ci/run)");
        assert!(tagged.success());
        let found = existing(&gif, "gif");
        assert_eq!(found.description.as_deref(), Some("Tea party"));
        let gps = found.gps.expect("position");
        assert!((gps.latitude - 40.5).abs() < 1e-6);
        assert!((gps.longitude + 73.9).abs() < 1e-6);
        assert!(found.date.is_some());
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("-05:00").unwrap().seconds(), -18000);
        assert_eq!(parse_offset("+05:30").unwrap().seconds(), 19800);
        assert!(parse_offset("05:00").is_none());
        assert!(parse_offset("+5").is_none());
    }
}
