//! Tests of the ISO-BMFF writer, reader and checker: real ffmpeg videos
//! read back with exiftool and ffmpeg, synthetic files for chunk-offset
//! edge cases and memory use, and malformed input.

mod fixtures;
mod malformed;
mod synthetic;
mod video;

use std::io::Cursor;

use jiff::civil::date;
use jiff::tz::Offset;

use super::{embed, read, validate};
use crate::media::model::{
    Applied, DescriptionPolicy, EmbedError, FieldOutcome, Gps, Metadata, Stamp,
};

/// The description used by most tests: two lines, quotes, non-ASCII.
const TEXT: &str = "Source: Snapchat/jane\n\"Grüße\" from 東京";

/// Returns 2021-01-04 18:08:30 at -05:00 (metadata.md §2.4 example).
fn stamp() -> Stamp {
    let offset = Offset::from_seconds(-5 * 3600).unwrap();
    Stamp { local: date(2021, 1, 4).at(18, 8, 30, 0), offset }
}

/// Returns 40.5 N, 73.9 W, 12.3 m (metadata.md §3 example).
fn gps() -> Gps {
    Gps { latitude: 40.5, longitude: -73.9, altitude: Some(12.3) }
}

/// Returns metadata with every field set.
fn full_meta(policy: DescriptionPolicy) -> Metadata {
    Metadata {
        date: Some(stamp()),
        gps: Some(gps()),
        description: Some(TEXT.to_string()),
        description_policy: policy,
    }
}

/// Returns metadata with nothing to write.
fn empty_meta() -> Metadata {
    Metadata {
        date: None,
        gps: None,
        description: None,
        description_policy: DescriptionPolicy::Overwrite,
    }
}

/// Embeds `meta` into in-memory `src`.
fn embed_bytes(
    src: &[u8],
    meta: &Metadata,
) -> Result<(Vec<u8>, Applied), EmbedError> {
    let mut out = Vec::new();
    let applied = embed(&mut Cursor::new(src), &mut out, meta)?;
    Ok((out, applied))
}

/// Returns `validate` of in-memory bytes.
fn validate_bytes(bytes: &[u8]) -> Result<(), String> {
    validate(&mut Cursor::new(bytes))
}

/// Returns `read` of in-memory bytes.
fn read_bytes(bytes: &[u8]) -> Result<crate::media::model::Existing, String> {
    read(&mut Cursor::new(bytes))
}

/// Returns an `Applied` with the three outcomes.
fn applied(
    dates: FieldOutcome,
    gps: FieldOutcome,
    description: FieldOutcome,
) -> Applied {
    Applied { dates, gps, description, exif_rebuilt: false }
}

/// Returns the offset of the first top-level box of type `kind`.
fn top_offset(bytes: &[u8], kind: &[u8; 4]) -> Option<usize> {
    let mut pos = 0usize;
    while pos + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?);
        if &bytes[pos + 4..pos + 8] == kind {
            return Some(pos);
        }
        let size = match size {
            0 => return None,
            1 => usize::try_from(u64::from_be_bytes(
                bytes.get(pos + 8..pos + 16)?.try_into().ok()?,
            ))
            .ok()?,
            n => n as usize,
        };
        pos += size;
    }
    None
}
