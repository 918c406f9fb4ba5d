//! Writes memoria's metadata into a JPEG's EXIF APP1 segment
//! (metadata.md §6 "JPEG"), streaming the rest of the file unchanged.
//!
//! Segments are parsed up to SOS; the EXIF segment is replaced in place
//! or created after SOI and any APP0; everything else, from SOS through
//! EOI to any trailer, is copied byte for byte.

use std::io::{Read, Seek, Write};

use crate::media::model::{Applied, EmbedError, Metadata};
use crate::media::{exif, stream};

/// Start of image.
const SOI: u8 = 0xD8;
/// End of image.
const EOI: u8 = 0xD9;
/// Start of scan: entropy-coded data follows.
const SOS: u8 = 0xDA;
/// APP0 (JFIF, JFXX).
const APP0: u8 = 0xE0;
/// APP1 (EXIF, XMP).
const APP1: u8 = 0xE1;
/// APP2 (ICC, MPF).
const APP2: u8 = 0xE2;
/// Signature of an EXIF APP1 payload.
const EXIF_SIG: &[u8; 6] = b"Exif\0\0";
/// Signature of an MPF APP2 payload (CIPA DC-007).
const MPF_SIG: &[u8; 4] = b"MPF\0";
/// Largest TIFF block an APP1 holds: 65535 minus the length field and
/// the EXIF signature (metadata.md §6: 65 533 bytes of payload).
const MAX_TIFF: usize = 65533 - EXIF_SIG.len();

/// What a segment before SOS is, as far as the writer cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Exif,
    Mpf,
    App0,
    Other,
}

/// A marker segment before SOS.
#[derive(Clone, Copy, Debug)]
struct Segment {
    /// What it holds.
    kind: Kind,
    /// Offset of its first 0xFF (fill bytes included).
    start: u64,
    /// Offset of its payload, after the length field.
    body: u64,
    /// Offset just past it.
    end: u64,
}

/// The structure up to SOS.
struct Layout {
    /// Segments between SOI and SOS.
    segments: Vec<Segment>,
    /// Offset of the SOS marker.
    sos: u64,
    /// Length of the file.
    len: u64,
}

/// Writes `src` with `meta` merged into its EXIF to `out` and returns what
/// was applied. When nothing needs writing the output equals the input.
///
/// Errors: [`EmbedError::Malformed`] for a broken segment structure or
/// EXIF block; [`EmbedError::Unsupported`] when the block would outgrow
/// APP1 or an MPF segment precedes the EXIF segment (metadata.md §6).
pub(crate) fn embed<R: Read + Seek, W: Write>(
    src: &mut R,
    out: &mut W,
    meta: &Metadata,
) -> Result<Applied, EmbedError> {
    let layout = Layout::scan(src)?;
    let exif_at = layout.segments.iter().position(|s| s.kind == Kind::Exif);
    let existing = match exif_at.and_then(|i| layout.segments.get(i)) {
        Some(seg) => Some(read_tiff(src, seg)?),
        None => None,
    };
    let merged = exif::merge(existing.as_deref(), meta)?;
    let Some(tiff) = merged.tiff else {
        stream::copy_range(src, out, 0, layout.len)?;
        return Ok(merged.applied);
    };
    if tiff.len() > MAX_TIFF {
        return Err(EmbedError::Unsupported(
            "exif block too large".to_string(),
        ));
    }
    let (cut, resume) = layout.cut(exif_at)?;
    stream::copy_range(src, out, 0, cut)?;
    write_app1(out, &tiff)?;
    stream::copy_range(src, out, resume, layout.len - resume)?;
    Ok(merged.applied)
}

/// Checks a written JPEG: valid segments up to SOS, a readable EXIF block
/// if there is one, a valid SOS header and an EOI after it (§9 step 3).
pub(crate) fn validate<R: Read + Seek>(src: &mut R) -> Result<(), String> {
    check(src).map_err(stream::describe)
}

/// Runs the checks of [`validate`].
fn check<R: Read + Seek>(src: &mut R) -> Result<(), EmbedError> {
    let layout = Layout::scan(src)?;
    let exif = layout.segments.iter().find(|s| s.kind == Kind::Exif);
    if let Some(seg) = exif {
        exif::check(&read_tiff(src, seg)?).map_err(EmbedError::Malformed)?;
    }
    let mut head = [0; 4];
    stream::read_at(src, layout.sos, &mut head, "sos header")?;
    let scan_at =
        layout.sos + 2 + u64::from(u16::from_be_bytes([head[2], head[3]]));
    if scan_at > layout.len {
        return Err(EmbedError::malformed("sos header past end of file"));
    }
    if !has_eoi(src, scan_at)? {
        return Err(EmbedError::malformed("no eoi after sos"));
    }
    Ok(())
}

impl Layout {
    /// Parses SOI and the segments up to SOS.
    fn scan<R: Read + Seek>(src: &mut R) -> Result<Layout, EmbedError> {
        let len = stream::len(src)?;
        let mut soi = [0; 2];
        stream::read_at(src, 0, &mut soi, "jpeg soi")?;
        if soi != [0xFF, SOI] {
            return Err(EmbedError::malformed("no jpeg soi marker"));
        }
        let (mut segments, mut pos) = (Vec::new(), 2);
        loop {
            let (marker, after) = read_marker(src, pos)?;
            if marker == SOS {
                return Ok(Layout { segments, sos: after - 2, len });
            }
            let seg = read_segment(src, marker, pos, after, len)?;
            pos = seg.end;
            segments.push(seg);
        }
    }

    /// Returns where the new APP1 goes: the range of the old EXIF segment
    /// (`exif_at`), or an empty range after SOI and leading APP0s.
    fn cut(&self, exif_at: Option<usize>) -> Result<(u64, u64), EmbedError> {
        let Some(i) = exif_at else {
            let app0s =
                self.segments.iter().take_while(|s| s.kind == Kind::App0);
            let at = app0s.last().map_or(2, |s| s.end);
            return Ok((at, at));
        };
        // MPF offsets count from the MPF header: growing an EXIF segment
        // behind it would shift the images it addresses (§6).
        let before = self.segments.get(..i).unwrap_or_default();
        if before.iter().any(|s| s.kind == Kind::Mpf) {
            return Err(EmbedError::Unsupported(
                "mpf segment precedes exif segment".to_string(),
            ));
        }
        let seg = self
            .segments
            .get(i)
            .ok_or_else(|| EmbedError::malformed("no exif segment"))?;
        Ok((seg.start, seg.end))
    }
}

/// Reads the marker whose 0xFF is at `pos`, skipping fill bytes (ITU T.81
/// B.1.1.2); returns the marker and the offset after it.
fn read_marker<R: Read + Seek>(
    src: &mut R,
    pos: u64,
) -> Result<(u8, u64), EmbedError> {
    let mut at = pos;
    let mut byte = [0; 1];
    stream::read_at(src, at, &mut byte, "jpeg marker")?;
    if byte[0] != 0xFF {
        return Err(EmbedError::malformed(format!(
            "no jpeg marker at offset {pos}"
        )));
    }
    while byte[0] == 0xFF {
        at += 1;
        stream::read_at(src, at, &mut byte, "jpeg marker")?;
    }
    Ok((byte[0], at + 1))
}

/// Reads the segment of `marker` (its 0xFF at `start`, payload length at
/// `after`) and classifies it.
fn read_segment<R: Read + Seek>(
    src: &mut R,
    marker: u8,
    start: u64,
    after: u64,
    len: u64,
) -> Result<Segment, EmbedError> {
    match marker {
        // Standalone markers carry no length (ITU T.81 B.1.1.3).
        0x01 | 0xD0..=0xD7 => {
            return Ok(Segment {
                kind: Kind::Other,
                start,
                body: after,
                end: after,
            })
        }
        SOI | EOI | 0x00 => {
            return Err(EmbedError::malformed(format!(
                "unexpected marker {marker:#04x} before sos"
            )))
        }
        _ => {}
    }
    let mut size = [0; 2];
    stream::read_at(src, after, &mut size, "jpeg segment length")?;
    let size = u16::from_be_bytes(size);
    let end = after + u64::from(size);
    if size < 2 || end > len {
        return Err(EmbedError::malformed(format!(
            "bogus segment length at offset {start}"
        )));
    }
    let body = after + 2;
    let kind = classify(src, marker, body, end)?;
    Ok(Segment { kind, start, body, end })
}

/// Tells EXIF APP1, MPF APP2 and APP0 segments from the rest.
fn classify<R: Read + Seek>(
    src: &mut R,
    marker: u8,
    body: u64,
    end: u64,
) -> Result<Kind, EmbedError> {
    let sig: &[u8] = match marker {
        APP0 => return Ok(Kind::App0),
        APP1 => EXIF_SIG,
        APP2 => MPF_SIG,
        _ => return Ok(Kind::Other),
    };
    if end - body < sig.len() as u64 {
        return Ok(Kind::Other);
    }
    let mut head = [0; 6];
    let head = head.get_mut(..sig.len()).unwrap_or_default();
    stream::read_at(src, body, head, "jpeg segment")?;
    Ok(match (head == sig, marker) {
        (true, APP1) => Kind::Exif,
        (true, _) => Kind::Mpf,
        _ => Kind::Other,
    })
}

/// Returns the TIFF block of an EXIF segment (payload minus signature).
/// Returns the TIFF block of the file's EXIF APP1 segment, if it has one.
///
/// Only the segments before SOS are read, so a file without EXIF costs a
/// few small reads instead of a scan of its image data.
pub(crate) fn exif_block<R: Read + Seek>(
    src: &mut R,
) -> Result<Option<Vec<u8>>, EmbedError> {
    let layout = Layout::scan(src)?;
    match layout.segments.iter().find(|s| s.kind == Kind::Exif) {
        Some(seg) => read_tiff(src, seg).map(Some),
        None => Ok(None),
    }
}

fn read_tiff<R: Read + Seek>(
    src: &mut R,
    seg: &Segment,
) -> Result<Vec<u8>, EmbedError> {
    let at = seg.body + EXIF_SIG.len() as u64;
    stream::read_vec(src, at, seg.end.saturating_sub(at), "exif segment")
}

/// Writes an APP1 segment holding `tiff` (at most [`MAX_TIFF`] bytes).
fn write_app1<W: Write>(out: &mut W, tiff: &[u8]) -> Result<(), EmbedError> {
    let size =
        u16::try_from(2 + EXIF_SIG.len() + tiff.len()).map_err(|_| {
            EmbedError::Unsupported("exif block too large".to_string())
        })?;
    out.write_all(&[0xFF, APP1])?;
    out.write_all(&size.to_be_bytes())?;
    out.write_all(EXIF_SIG)?;
    out.write_all(tiff)?;
    Ok(())
}

/// Returns true when an EOI marker follows `from`. The search runs
/// backwards from the end of the file, where EOI (or the EOI of a trailing
/// image) sits, so a valid file is confirmed without reading its whole
/// scan data; chunks overlap by one byte so no marker is split.
fn has_eoi<R: Read + Seek>(src: &mut R, from: u64) -> Result<bool, EmbedError> {
    const CHUNK: u64 = 64 * 1024;
    let mut end = stream::len(src)?;
    let mut buf = vec![0; CHUNK as usize];
    while end > from + 1 {
        let start = end.saturating_sub(CHUNK).max(from);
        let chunk = buf.get_mut(..(end - start) as usize).unwrap_or_default();
        stream::read_at(src, start, chunk, "jpeg scan data")?;
        if chunk.windows(2).any(|w| w == [0xFF, EOI]) {
            return Ok(true);
        }
        end = start + 1;
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::path::Path;

    use super::*;
    use crate::media::exif::roundtrip::assert_roundtrip;
    use crate::media::exif::testutil::{self, empty_meta, full_meta, XorShift};
    use crate::media::model::DescriptionPolicy::{KeepIfPresent, Overwrite};
    use crate::media::model::FieldOutcome;

    /// Embeds `meta` into `input` in memory.
    fn run(
        input: &[u8],
        meta: &Metadata,
    ) -> Result<(Vec<u8>, Applied), EmbedError> {
        let mut out = Vec::new();
        let applied = embed(&mut Cursor::new(input), &mut out, meta)?;
        Ok((out, applied))
    }

    /// Returns the segments before SOS as (marker, whole segment bytes),
    /// parsed independently of the code under test, and the rest.
    fn split(jpeg: &[u8]) -> (Vec<(u8, Vec<u8>)>, Vec<u8>) {
        let mut pos = 2;
        let mut segments = Vec::new();
        while jpeg[pos + 1] != SOS {
            let len =
                u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]) as usize;
            segments.push((jpeg[pos + 1], jpeg[pos..pos + 2 + len].to_vec()));
            pos += 2 + len;
        }
        (segments, jpeg[pos..].to_vec())
    }

    /// Returns the file without its first EXIF segment.
    fn without_exif(jpeg: &[u8]) -> Vec<u8> {
        let (segments, rest) = split(jpeg);
        let is_exif =
            |s: &(u8, Vec<u8>)| s.0 == APP1 && s.1[4..].starts_with(EXIF_SIG);
        let first = segments.iter().position(is_exif);
        let kept =
            segments.iter().enumerate().filter(|(i, _)| Some(*i) != first);
        let mut out = jpeg[..2].to_vec();
        kept.for_each(|(_, s)| out.extend_from_slice(&s.1));
        out.extend_from_slice(&rest);
        out
    }

    /// Returns `jpeg` with `segment` inserted after segment `index`.
    fn insert_after(jpeg: &[u8], index: usize, segment: &[u8]) -> Vec<u8> {
        let (segments, rest) = split(jpeg);
        let mut out = jpeg[..2].to_vec();
        for (i, s) in segments.iter().enumerate() {
            if i == index {
                out.extend_from_slice(segment);
            }
            out.extend_from_slice(&s.1);
        }
        out.extend_from_slice(&rest);
        out
    }

    /// An MPF APP2 segment (header only; enough to be recognised).
    const MPF: &[u8] = b"\xff\xe2\x00\x0aMPF\0MM\0*";

    /// Returns the shared camera sample `name`, or, on machines without
    /// the samples folder (CI), a stand-in with the same properties the
    /// tests rely on, written by exiftool.
    fn sample(name: &str) -> Vec<u8> {
        let path = Path::new(testutil::CAMERA).join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            return bytes;
        }
        let args: &[&str] = match name {
            "long_description.jpg" => &[
                "-ImageDescription=Operation Mountain Viper (stand-in)",
                "-Make=Stand-in",
            ],
            "Kodak_CX7530.jpg" => &[
                "-Make=EASTMAN KODAK COMPANY",
                "-DateTimeOriginal=2005:06:07 08:09:10",
                "-CreateDate=2005:06:07 08:09:10",
                "-ModifyDate=2005:06:07 08:09:10",
                "-GPSLatitude=33.86",
                "-GPSLatitudeRef=S",
                "-GPSLongitude=151.21",
                "-GPSLongitudeRef=E",
            ],
            _ => &[
                "-Make=Canon",
                "-Model=Canon EOS 40D",
                "-DateTimeOriginal=2008:05:30 15:56:01",
                "-Orientation#=1",
                "-Software=stand-in",
            ],
        };
        testutil::with_exiftool(&plain(), args)
    }

    fn plain() -> Vec<u8> {
        testutil::encoded_image(image::ImageFormat::Jpeg)
    }

    #[test]
    fn camera_samples_keep_every_tag_and_segment() {
        for path in testutil::camera_samples() {
            let input = std::fs::read(&path).unwrap();
            let name = path.display();
            let (out, _) = run(&input, &full_meta(Overwrite))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            validate(&mut Cursor::new(&out))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_roundtrip(&input, &out, "jpg");
            assert_eq!(without_exif(&input), without_exif(&out), "{name}");
            image::load_from_memory(&out)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn camera_values_are_kept_if_present() {
        let input = sample("long_description.jpg");
        let meta = full_meta(KeepIfPresent);
        let (out, applied) = run(&input, &meta).unwrap();
        assert_eq!(applied.description, FieldOutcome::Kept);
        let text = |b: &[u8]| testutil::description(&testutil::kamadak(b));
        assert!(text(&out).unwrap().starts_with("Operation Mountain Viper"));
        assert_eq!(text(&out), text(&input));
        let input = sample("Kodak_CX7530.jpg");
        let (out, applied) = run(&input, &meta).unwrap();
        assert_eq!(
            (applied.gps, applied.dates),
            (FieldOutcome::Kept, FieldOutcome::Kept)
        );
        let exif = testutil::kamadak(&out);
        let lat = testutil::field(&exif, ::exif::Tag::GPSLatitudeRef, 0);
        assert_eq!(lat.as_deref(), Some("S"));
        assert_eq!(applied.description, FieldOutcome::Written);
    }

    #[test]
    fn new_exif_goes_after_app0() {
        let input = plain();
        let (out, applied) = run(&input, &full_meta(Overwrite)).unwrap();
        assert!(!applied.is_unchanged());
        let markers: Vec<u8> = split(&out).0.iter().map(|s| s.0).collect();
        assert_eq!(split(&input).0[0].0, APP0, "fixture starts with JFIF");
        assert_eq!(markers[..2], [APP0, APP1]);
        assert_eq!(without_exif(&out), input);
        testutil::assert_full_meta(&out);
        assert_roundtrip(&input, &out, "jpg");
        validate(&mut Cursor::new(&out)).unwrap();
        image::load_from_memory(&out).unwrap();
    }

    #[test]
    fn new_exif_goes_after_soi_without_app0() {
        let input = plain();
        let (segments, rest) = split(&input);
        let mut bare = input[..2].to_vec();
        segments.iter().skip(1).for_each(|s| bare.extend_from_slice(&s.1));
        bare.extend_from_slice(&rest);
        let (out, _) = run(&bare, &full_meta(Overwrite)).unwrap();
        assert_eq!(split(&out).0[0].0, APP1);
        testutil::assert_full_meta(&out);
    }

    #[test]
    fn trailer_after_eoi_is_kept() {
        let trailer = b"\xff\xd8gain map\xff\xd9vendor trailer";
        let mut input = sample("Canon_40D.jpg");
        input.extend_from_slice(trailer);
        let (out, _) = run(&input, &full_meta(Overwrite)).unwrap();
        assert!(out.ends_with(trailer));
        assert_eq!(without_exif(&input), without_exif(&out));
        validate(&mut Cursor::new(&out)).unwrap();
    }

    #[test]
    fn mpf_after_exif_is_kept_and_before_exif_is_unsupported() {
        let input = sample("Canon_40D.jpg");
        let after = insert_after(&input, 2, MPF);
        let (out, _) = run(&after, &full_meta(Overwrite)).unwrap();
        assert!(split(&out).0.iter().any(|s| s.1 == MPF));
        assert_eq!(without_exif(&after), without_exif(&out));
        let before = insert_after(&input, 1, MPF);
        let err = run(&before, &full_meta(Overwrite)).unwrap_err();
        assert!(matches!(err, EmbedError::Unsupported(_)), "{err}");
        // Nothing to write: no size change, so the MPF layout is safe.
        let (same, _) = run(&before, &empty_meta()).unwrap();
        assert_eq!(same, before);
    }

    #[test]
    fn nothing_to_do_gives_identical_bytes() {
        let input = sample("Kodak_CX7530.jpg");
        let (out, applied) = run(&input, &empty_meta()).unwrap();
        assert_eq!(out, input);
        assert!(applied.is_unchanged());
        let (first, _) = run(&plain(), &full_meta(Overwrite)).unwrap();
        let (second, applied) = run(&first, &full_meta(Overwrite)).unwrap();
        assert_eq!(second, first);
        assert_eq!(applied.dates, FieldOutcome::Kept);
        assert_eq!(applied.description, FieldOutcome::Written);
    }

    #[test]
    fn embed_is_deterministic() {
        let input = sample("Nikon_D70.jpg");
        let a = run(&input, &full_meta(Overwrite)).unwrap().0;
        let b = run(&input, &full_meta(Overwrite)).unwrap().0;
        assert_eq!(a, b);
        assert_ne!(a, input);
    }

    #[test]
    fn oversized_exif_is_unsupported() {
        let mut meta = full_meta(Overwrite);
        meta.description = Some("x".repeat(MAX_TIFF));
        let err = run(&plain(), &meta).unwrap_err();
        let EmbedError::Unsupported(why) = err else { panic!("{err}") };
        assert_eq!(why, "exif block too large");
    }

    #[test]
    fn malformed_files_are_errors() {
        let good = plain();
        let mut bogus = good.clone();
        bogus[4..6].copy_from_slice(&[0, 1]);
        let mut past_end = good.clone();
        past_end[4..6].copy_from_slice(&[0xFF, 0xF0]);
        let mut no_marker = good.clone();
        no_marker[2] = 0x12;
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("no soi", b"\x89PNG\r\n\x1a\n".to_vec()),
            ("soi only", good[..2].to_vec()),
            ("truncated before sos", good[..30].to_vec()),
            ("segment length below 2", bogus),
            ("segment past end", past_end),
            ("no marker", no_marker),
            ("eoi before sos", b"\xff\xd8\xff\xd9".to_vec()),
        ];
        for (name, bytes) in cases {
            let result = run(&bytes, &full_meta(Overwrite));
            assert!(matches!(result, Err(EmbedError::Malformed(_))), "{name}");
            assert!(validate(&mut Cursor::new(&bytes)).is_err(), "{name}");
        }
        let no_eoi = &good[..good.len() - 2];
        assert_eq!(
            validate(&mut Cursor::new(no_eoi)).unwrap_err(),
            "no eoi after sos"
        );
        let garbage_tiff =
            insert_after(&good, 0, b"\xff\xe1\x00\x10Exif\0\0XX*\0\0\0\0\x08");
        let result = run(&garbage_tiff, &full_meta(Overwrite));
        assert!(matches!(result, Err(EmbedError::Malformed(_))));
        assert!(validate(&mut Cursor::new(&garbage_tiff)).is_err());
    }

    #[test]
    fn mutated_files_never_panic() {
        let seeds = [
            sample("Canon_40D.jpg"),
            run(&plain(), &full_meta(Overwrite)).unwrap().0,
        ];
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for i in 0..3000 {
            let bytes = rng.mutate(&seeds[i % 2]);
            if let Ok((out, _)) = run(&bytes, &full_meta(Overwrite)) {
                let _ = validate(&mut Cursor::new(&out));
            }
            let _ = validate(&mut Cursor::new(&bytes));
        }
    }
}
